// A long box table (live on a terminal, 1,000-10,000 miners): cli-table3 lays a table out in time
// quadratic in its rows, so writeTable draws it in pieces of a fixed number of rows, joined into the
// one table cli-table3 would have drawn.
import Table from 'cli-table3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fitColumns, palette, writeTable } from '../../src/output/render.js';

const head = ['MINER', 'STATE', 'MODEL', 'HASHRATE'];

async function drawn(rows: string[][], columns?: number): Promise<string> {
  let out = '';
  const stream = {
    isTTY: true,
    columns,
    write: (chunk: string) => {
      out += chunk;
      return true;
    },
  };
  await writeTable(stream, head, rows, { alignRight: [3] });
  return out;
}

async function farm(count: number): Promise<string[][]> {
  const paint = await palette(true);
  return Array.from({ length: count }, (_, i) => [
    `10.0.${i >> 8}.${i & 255}:4028`,
    i % 3 === 0 ? paint.red('offline') : paint.green('online'),
    i % 7 === 0 ? 'Antminer S19 "Pro", rev=2 (a long model name)' : 'S19j Pro',
    `${(100 + (i % 13) / 10).toFixed(1)} TH/s`,
  ]);
}

describe('writeTable with many rows', () => {
  afterEach(() => vi.restoreAllMocks());

  it('never hands cli-table3 more than a piece of the rows at once', async () => {
    const sizes: number[] = [];
    const draw = Table.prototype.toString;
    vi.spyOn(Table.prototype, 'toString').mockImplementation(function (this: InstanceType<typeof Table>) {
      sizes.push(this.length);
      return draw.call(this);
    });
    // A Greek letter in a model now and then: writeTable draws rows of Latin text itself (drawBox),
    // and hands cli-table3 only the pieces it cannot.
    const rows = (await farm(1000)).map((row, i) =>
      i % 50 === 0 ? [row[0]!, row[1]!, `${row[2]!} Ω`, row[3]!] : row,
    );
    const out = await drawn(rows);
    expect(sizes.length).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    // Every row, once, inside one box: a top border, the head, the rows, a bottom border.
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(1000 + 3);
    expect(lines[0]).toMatch(/^┌.*┐$/);
    expect(lines.at(-1)).toMatch(/^└.*┘$/);
    expect(lines.filter((line) => /^[┌└├]/.test(line))).toHaveLength(2);
    expect(new Set(lines.map((line) => [...line.replace(/\u001b\[\d+m/g, '')].length)).size).toBe(1);
  });

  for (const columns of [undefined, 60]) {
    it(`draws the same table as one cli-table3 table would (${columns ? `${columns} columns` : 'any width'})`, async () => {
      const rows = await farm(157); // several pieces, the last one short
      const pieced = await drawn(rows, columns);
      const colWidths = fitColumns([head, ...rows], columns);
      expect(colWidths === null).toBe(columns === undefined);
      const whole = new Table({
        head,
        chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
        style: { head: [], border: [] },
        colAligns: ['left', 'left', 'left', 'right'],
        ...(colWidths ? { colWidths } : {}),
      });
      for (const row of rows) whole.push(row);
      expect(pieced).toBe(`${whole.toString()}\n`);
      if (columns) expect(pieced).toContain('…');
    });
  }
});
