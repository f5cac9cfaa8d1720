// When hashctl paints: the conventions every colour-aware CLI shares (no-color.org, Node's own
// getColorDepth, chalk's supports-color), so one environment setting works for all of a host's tools.
import { describe, expect, it } from 'vitest';
import { memoryContext } from '../../src/context.js';
import { colorEnabled } from '../../src/output/render.js';

const on = (env: Record<string, string>, tty: boolean, flag?: boolean) =>
  colorEnabled(memoryContext({ env, stdout: { isTTY: tty, write: () => true } }), flag);

describe('colorEnabled', () => {
  it('paints a terminal, not a pipe', () => {
    expect(on({}, true)).toBe(true);
    expect(on({}, false)).toBe(false);
  });

  it('takes FORCE_COLOR=0 (and false) as "no colour", as Node and chalk do, even on a terminal', () => {
    expect(on({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(on({ FORCE_COLOR: 'false' }, true)).toBe(false);
    expect(on({ FORCE_COLOR: '0' }, false)).toBe(false);
  });

  it('takes FORCE_COLOR=1, 2, 3, true or empty as "colour" into a pipe too', () => {
    for (const value of ['1', '2', '3', 'true', ''])
      expect(on({ FORCE_COLOR: value }, false), JSON.stringify(value)).toBe(true);
  });

  it('lets NO_COLOR, TERM=dumb and --no-color win', () => {
    expect(on({ NO_COLOR: '1' }, true)).toBe(false);
    expect(on({ NO_COLOR: '1', FORCE_COLOR: '1' }, true)).toBe(false);
    expect(on({ TERM: 'dumb' }, true)).toBe(false);
    expect(on({ FORCE_COLOR: '3' }, true, false)).toBe(false);
  });
});
