// `scan -` on a terminal says it is reading targets there, as probe, collect, control, thermal and
// audit do: without the line the sweep looks hung before any traffic. Only on a terminal, on stderr,
// and not with --quiet.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';

const NOTE = 'hashctl: reading targets from the terminal, one per line; end with Ctrl-D\n';

function typed(isTTY: boolean) {
  // Only a comment is typed: the scan ends in "no targets" before any traffic.
  return memoryContext({ stdin: Object.assign(Readable.from(['# nothing yet\n']), { isTTY }) });
}

describe('scan - on a terminal', () => {
  it('says it reads targets from the terminal, on stderr', async () => {
    const ctx = typed(true);
    expect(await runCli(['scan', '-'], ctx)).toBe(EXIT.usage);
    expect(ctx.err()).toBe(`${NOTE}hashctl: no targets: - named no miner\n`);
    expect(ctx.out()).toBe('');
  });

  it('says nothing with --quiet, nor when stdin is a pipe', async () => {
    const quiet = typed(true);
    expect(await runCli(['scan', '-', '--quiet'], quiet)).toBe(EXIT.usage);
    expect(quiet.err()).not.toContain('reading targets');
    const piped = typed(false);
    expect(await runCli(['scan', '-'], piped)).toBe(EXIT.usage);
    expect(piped.err()).not.toContain('reading targets');
  });
});

describe('audit - on a terminal', () => {
  it('says it reads targets from the terminal too', async () => {
    const ctx = typed(true);
    expect(await runCli(['audit', '-'], ctx)).toBe(EXIT.usage);
    expect(ctx.err()).toBe(`${NOTE}hashctl: no targets: - named no miner\n`);
    const quiet = typed(true);
    expect(await runCli(['audit', '-', '--quiet'], quiet)).toBe(EXIT.usage);
    expect(quiet.err()).not.toContain('reading targets');
  });
});
