// scan's progress line on the terminals field engineers have: a narrow one (a phone's SSH app, a
// split pane, a serial console set to 40 columns) and a dumb one (Emacs' shell, a serial console
// with TERM=dumb), on which a redrawn line and its `ESC[2K` do not work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Service, startService } from './support/services.js';

let silent: Service;
let empty: Service;

beforeAll(async () => {
  [silent, empty] = await Promise.all([startService('silent'), startService('empty')]);
});

afterAll(async () => {
  await Promise.all([silent.close(), empty.close()]);
});

async function scanOn(
  stderr: { columns?: number },
  env: Record<string, string>,
): Promise<{ code: number; err: string }> {
  let err = '';
  const ctx = memoryContext({
    env,
    stderr: {
      isTTY: true,
      ...stderr,
      write: (text: string) => {
        err += text;
        return true;
      },
    },
  });
  // The silent endpoint keeps the scan going past a few progress ticks.
  const code = await runCli(
    ['--no-color', 'scan', '127.0.0.1', '--port', `${empty.port},${silent.port}`, '--reply-timeout', '700ms'],
    ctx,
  );
  return { code, err };
}

describe('scan progress on a terminal', () => {
  it('cuts the progress line to the width of a narrow terminal, so a redraw never wraps into a new line', async () => {
    const { code, err } = await scanOn({ columns: 40 }, {});
    expect(code).toBe(0);
    const drawn = err.split('\r\u001b[2K').filter((piece) => piece.startsWith('hashctl scan: '));
    expect(drawn.length).toBeGreaterThan(0);
    for (const line of drawn) expect([...line].length, line).toBeLessThan(40);
    expect(drawn[0]).toMatch(/…$/);
  });

  it('draws no progress line on TERM=dumb (no escape sequences), and still prints the summary', async () => {
    const { code, err } = await scanOn({ columns: 80 }, { TERM: 'dumb' });
    expect(code).toBe(0);
    expect(err).not.toContain('\u001b');
    expect(err).not.toContain('checked ·');
    expect(err).toMatch(/^hashctl: .*open/m);
  });
});
