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
