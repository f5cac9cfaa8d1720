// drawBox draws the box tables of `live` (and every other table on a terminal) without cli-table3
// when it can, ~20x faster; whatever it draws must be what cli-table3 draws, byte for byte. Random
// tables of the cells a farm shows (addresses, figures, °C, colours, bold, dim) and of cells it must
// leave to cli-table3 (wide, combining, underlined, coloured cells too long), against cli-table3 itself.
import Table from 'cli-table3';
import { describe, expect, it } from 'vitest';
import { drawBox, palette } from '../../src/output/render.js';

const CHARS = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

function cliTable3(head: string[], rows: string[][], widths: number[], aligns: ('left' | 'right')[]): string {
  const table = new Table({
    head,
    chars: CHARS,
    style: { head: [], border: [] },
    colAligns: aligns,
    colWidths: widths,
  });
  for (const row of rows) table.push(row);
  return table.toString();
}

/** A small deterministic PRNG (mulberry32): the same tables every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('drawBox', () => {
  it('draws what cli-table3 draws, or leaves the table to it', async () => {
    const paint = await palette(true);
    const next = random(155);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const words = [
      '127.0.0.1:4028',
      'ok',
      '101.25 TH/s',
      '71.5°C',
      '-',
      '',
      'Antminer S19j Pro',
      'a b',
      'café',
      '"q",x',
    ];
    const paints = [
      (text: string) => text,
      (text: string) => text,
      paint.red,
      paint.green,
      paint.yellow,
      paint.cyan,
      paint.bold,
      paint.dim,
      (text: string) => paint.bold(paint.red(text)),
      (text: string) => paint.dim(paint.bold(text)),
      (text: string) => `\u001b[31m${text}`,
      (text: string) => `\u001b[1m${text}`,
      (text: string) => `\u001b[2m${text}`,
      (text: string) => `\u001b[4m${text}\u001b[24m`,
      (text: string) => `${text}矿机`,
      (text: string) => `e\u0301${text}`,
    ];
    const cell = (): string => {
      const parts = 1 + Math.floor(next() * 3);
      let text = '';
      for (let i = 0; i < parts; i++) text += pick(paints)(pick(words));
      return text;
    };
    let drawn = 0;
    let left = 0;
    for (let round = 0; round < 1500; round++) {
      const count = 1 + Math.floor(next() * 5);
      const head =
        next() < 0.5 ? [] : Array.from({ length: count }, () => pick(['MINER', 'CHIP°C', 'STATE', 'X']));
      const rows = Array.from({ length: Math.floor(next() * 5) }, () => Array.from({ length: count }, cell));
      const widths = Array.from({ length: count }, () => 3 + Math.floor(next() * 30));
      const aligns = Array.from({ length: count }, () => pick(['left', 'right'] as const));
      const box = drawBox(head, rows, widths, aligns);
      if (box === null) {
        left++;
        continue;
      }
      drawn++;
      expect(box, JSON.stringify({ head, rows, widths, aligns })).toBe(cliTable3(head, rows, widths, aligns));
    }
    // Both ways are taken, often.
    expect(drawn).toBeGreaterThan(150);
    expect(left).toBeGreaterThan(150);
  });

  it('draws a farm table of plain, coloured and cut cells itself', async () => {
    const paint = await palette(true);
    const head = ['MINER', 'STATE', 'CHIP°C', 'MODEL'];
    const rows = Array.from({ length: 20 }, (_, i) => [
      `127.0.0.${i}:4028`,
      i % 2 ? paint.green('online') : paint.red('offline'),
      `${70 + i}.5`,
      'Antminer S19j Pro (a long model name)',
    ]);
    const widths = [18, 9, 8, 12];
    const aligns = ['left', 'left', 'right', 'left'] as const;
    const box = drawBox(head, rows, widths, [...aligns]);
    expect(box).not.toBeNull();
    expect(box).toBe(cliTable3(head, rows, widths, [...aligns]));
    expect(box).toContain('Antminer …');
  });
});
