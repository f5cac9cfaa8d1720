// What miners say reaches terminals: escape sequences and control characters are shown, not obeyed.
import { describe, expect, it } from 'vitest';
import { memoryContext } from '../../src/context.js';
import { palette, writeTable } from '../../src/output/render.js';
import { jsonText, oneLine, terminalSafe } from '../../src/output/terminal.js';

const EVIL = 'S19\u001b]0;PWNED\u0007\u001b[2J\u001b[8mhidden\u001b[1A\rX\u0008\u009b2J\u202egnp.exe';

describe('terminalSafe', () => {
  it('shows every control character and escape sequence as a visible escape', () => {
    expect(terminalSafe(EVIL)).toBe(
      'S19\\x1b]0;PWNED\\x07\\x1b[2J\\x1b[8mhidden\\x1b[1A\\x0dX\\x08\\x9b2J\\u202egnp.exe',
    );
    expect(terminalSafe('plain text, tabs\tand\nnewlines')).toBe('plain text, tabs\tand\nnewlines');
  });

  it("keeps hashctl's own colours", async () => {
    const paint = await palette(true);
    const painted = `${paint.red('hot')} ${paint.bold(paint.dim('x'))} ${paint.green('ok')}`;
    expect(terminalSafe(painted)).toBe(painted);
  });

  it('strict: shows even colour codes, for text hashctl never paints (a miner cannot recolour a table)', () => {
    expect(terminalSafe('S19\u001b[31mRED\u001b[39m', true)).toBe('S19\\x1b[31mRED\\x1b[39m');
  });

  it('shows the invisible and reordering characters too: marks, zero-width, separators, BOM', () => {
    expect(terminalSafe('a\u200eb\u200fc\u061cd\u200be\u2028f\u2029g\ufeffh\u2066i', true)).toBe(
      'a\\u200eb\\u200fc\\u061cd\\u200be\\u2028f\\u2029g\\ufeffh\\u2066i',
    );
    // Any other text passes as it is: accents, CJK, emoji.
    expect(terminalSafe('Zürich 矿机 ⛏️ 🔥', true)).toBe('Zürich 矿机 ⛏️ 🔥');
  });

  it('shows half a surrogate pair as its code (UTF-8 cannot carry it), and keeps whole pairs', () => {
    expect(terminalSafe('S19\ud800x', true)).toBe('S19\\ud800x');
    expect(terminalSafe('x\udfff', true)).toBe('x\\udfff');
    expect(terminalSafe('\udc00\ud83d\udd25\ud83d', true)).toBe('\\udc00🔥\\ud83d');
  });

  it('jsonText: the same JSON data, with nothing a terminal would obey left raw', () => {
    const value = { message: `E/14 \u202eevil\u009b2J\u2028 x`, list: ['\u001b[31m', 'ok'] };
    const text = jsonText(value, 2);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).not.toMatch(/[\u001b\u009b\u2028\u202e]/);
    expect(jsonText('\u202e')).toBe('"\\u202e"');
  });

  it('makes one line of a multi-line peer message', () => {
    expect(oneLine('TLS: error:0A00010B:wrong version number:\n  [ERR_SSL]\r\n')).toBe(
      'TLS: error:0A00010B:wrong version number: [ERR_SSL]',
    );
  });
});

describe('writeTable with hostile cells', () => {
  for (const tty of [true, false]) {
    it(`prints no raw control character (${tty ? 'box table' : 'tab-separated'})`, async () => {
      const ctx = memoryContext();
      const paint = await palette(tty);
      await writeTable(ctx.stdout, ['MODEL', 'POOL'], [[paint.red(EVIL), 'a\tb\r\nc']], { tty });
      const out = ctx.out();
      const raw = out.replace(/\u001b\[(?:0|1|2|22|31|32|33|36|39)?m/g, '');
      expect(raw).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
      expect(out).toContain('\\x1b]0;PWNED\\x07');
      expect(out.trim().split('\n')).toHaveLength(tty ? 4 : 2);
    });
  }
});

describe('writeTable on a narrow terminal', () => {
  it('cuts the widest columns (with …) so that no line wraps; a wide enough terminal sees it whole', async () => {
    const head = ['TARGET', 'MINER', 'FIRMWARE', 'POOL'];
    const rows = [
      [
        '127.0.0.1:4028',
        'Antminer S19 Pro',
        'Antminer BHB42601 (Braiins OS 23.03.1)',
        'stratum+tcp://pool.example.com:3333 farm.worker001',
      ],
      [
        '127.0.0.1:4029',
        'Whatsminer M30S++',
        'btminer 1.0',
        'stratum+tcp://backup.example.org:25 farm.worker002',
      ],
    ];
    const written = async (columns: number | undefined) => {
      let out = '';
      const stream = {
        isTTY: true,
        columns,
        write: (chunk: string) => {
          out += chunk;
          return true;
        },
      };
      await writeTable(stream, head, rows);
      return out.trimEnd().split('\n');
    };
    const narrow = await written(80);
    for (const line of narrow) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(narrow.join('\n')).toContain('…');
    expect(narrow.join('\n')).toContain('127.0.0.1:4028'); // narrow columns are left whole
    const wide = await written(300);
    expect(wide.join('\n')).toContain('stratum+tcp://pool.example.com:3333 farm.worker001');
    expect(await written(undefined)).toEqual(wide);
  });

  it('leaves short columns whole (a figure with its unit, a state word) where even cut the long ones do not fit', async () => {
    const head = ['TARGET', 'MINER', 'FIRMWARE', 'HASHRATE', 'PAUSE', 'POOL'];
    const rows = [
      [
        '127.0.0.1:4028',
        'Antminer S21 Pro+',
        'LuxOS 2025.4.8.220305-57b389c7',
        '236.99 TH/s',
        'unsupported',
        'ca.stratum.braiins.com:3333',
      ],
    ];
    let out = '';
    const stream = {
      isTTY: true,
      columns: 80,
      write: (chunk: string) => {
        out += chunk;
        return true;
      },
    };
    await writeTable(stream, head, rows);
    // The long columns go down to their floor (the table is then as narrow as it gets, 85 columns).
    for (const line of out.trimEnd().split('\n')) expect([...line].length, line).toBeLessThanOrEqual(85);
    expect(out).toContain(' 236.99 TH/s ');
    expect(out).toContain(' unsupported ');
    expect(out).toContain(' HASHRATE ');
    expect(out).toContain('…');
    expect(out).not.toContain('LuxOS 2025.4.8.220305-57b389c7');
  });

  it('still cuts short columns where that alone makes the table fit', async () => {
    const head = ['TARGET', ...Array.from({ length: 8 }, (_, i) => `ACTION${i}`)];
    const rows = [['127.0.0.1:4028', ...Array.from({ length: 8 }, () => 'unsupported')]];
    let out = '';
    const stream = {
      isTTY: true,
      columns: 125,
      write: (chunk: string) => {
        out += chunk;
        return true;
      },
    };
    await writeTable(stream, head, rows);
    for (const line of out.trimEnd().split('\n')) expect([...line].length, line).toBeLessThanOrEqual(125);
    expect(out).toContain('127.0.0.1:4028');
  });
});
