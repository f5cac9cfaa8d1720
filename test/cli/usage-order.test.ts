// A usage error names the first thing to fix. A malformed target is exit 2 naming it (hashctl.md
// §2), before the refusal to write without --yes: the other order told a cron line to add --yes,
// and only then that its target was wrong.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';

const noTerminal = () => memoryContext({ stdin: Object.assign(Readable.from([]), { isTTY: false }) });

describe('a malformed target before a missing --yes', () => {
  for (const command of [
    ['control', 'restart'],
    ['control', 'pause'],
    ['control', 'switchpool', '1'],
    ['control', 'raw', 'restart'],
    ['thermal', 'check', '--protect'],
  ]) {
    it(`${command.join(' ')}: exit 2 naming the target`, async () => {
      const ctx = noTerminal();
      // Parsed only: an address that cannot exist is refused before any traffic.
      const code = await runCli([...command, '127.0.0.300'], ctx);
      expect(code).toBe(EXIT.usage);
      expect(ctx.err()).toMatch(/invalid target '127\.0\.0\.300'/);
      expect(ctx.err().trimEnd().split('\n')).toHaveLength(1);
      expect(ctx.out()).toBe('');
    });
  }

  it('well-formed targets without --yes are still refused before any traffic', async () => {
    const ctx = noTerminal();
    expect(await runCli(['control', 'restart', '127.0.0.1:1'], ctx)).toBe(EXIT.usage);
    expect(ctx.err()).toMatch(/pass --yes/);
  });
});
