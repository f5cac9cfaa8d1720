// Grouped short flags mix the global ones (-q) and a subcommand's own (-y) in either order.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { closedPort } from '../support/fake-miner.js';

describe('grouped short flags', () => {
  it.each([['-yq'], ['-qy']])('control restart %s is -y -q', async (group) => {
    const port = await closedPort();
    const ctx = memoryContext();
    const code = await runCli(
      ['control', 'restart', group, '--dry-run', `127.0.0.1:${port}`, '--retries', '0'],
      ctx,
    );
    // The miner is down (exit 1); -q kept the summary line off stderr.
    expect(ctx.err()).toBe('');
    expect(code).toBe(EXIT.failed);
  });

  it('a group with a letter no command knows is still one clear line naming it', async () => {
    const ctx = memoryContext();
    expect(await runCli(['control', 'restart', '-yz', '--dry-run', '127.0.0.1:1'], ctx)).toBe(EXIT.usage);
    expect(ctx.err()).toBe("hashctl: unknown option '-z' (see --help)\n");
  });
});
