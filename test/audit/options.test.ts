// Operator inputs that would make a check look done while it checks nothing: refused before any
// traffic, in one line, exit 2.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';

describe('--worker-pattern', () => {
  it('an empty pattern is a usage error (it would match every worker)', async () => {
    const pattern = '';
    const ctx = memoryContext();
    // Nothing listens there: a usage error comes before any traffic, so none is needed.
    const code = await runCli(['audit', '127.0.91.60:1', '--worker-pattern', pattern], ctx);
    expect(code).toBe(2);
    expect(ctx.err().trim().split('\n')).toEqual([
      expect.stringMatching(/^hashctl: invalid --worker-pattern: it is empty/),
    ]);
    expect(ctx.out()).toBe('');
  });
});

describe('discovery deadlines', () => {
  it("take scan's quick defaults unless --timeout or --retries is given, as scan does", async () => {
    const { discoveryDeadlines } = await import('../../src/commands/audit.js');
    const defaults = { connectTimeoutMs: 1000, retries: 1 };
    const globals = { timeoutMs: 5000, retries: 2 };
    expect(discoveryDeadlines(globals, {}, defaults)).toEqual({ connectTimeoutMs: 1000, retries: 1 });
    // A lossy link's user asks for more: a SYN that needed one retransmit (1 s) is no longer "no answer".
    expect(discoveryDeadlines(globals, { timeoutGiven: true, retriesGiven: true }, defaults)).toEqual({
      connectTimeoutMs: 5000,
      retries: 2,
    });
    // Shorter than the defaults always shortens them.
    expect(discoveryDeadlines({ timeoutMs: 300, retries: 0 }, {}, defaults)).toEqual({
      connectTimeoutMs: 300,
      retries: 0,
    });
  });
});
