// history's chart on a terminal that reports no width: a serial console, or a pty nobody sized
// (`script`, some container and CI runners), says 0 columns. The chart fits $COLUMNS, else 80
// columns, as it does in a pipe; it was drawn 10 columns wide, 12 hours in 10 points.
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseHistoryOptions, runHistory } from '../../src/commands/history.js';
import { parseGlobals } from '../../src/commands/shared.js';
import { memoryContext } from '../../src/context.js';
import { HOUR_MS, openStore, writeCycle } from '../../src/store/index.js';
import { okOutcome, tempDir } from '../store/helpers.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
let cleanup: () => void;
let dbPath: string;

beforeEach(() => {
  let dir: string;
  ({ dir, cleanup } = tempDir('hashctl-width-'));
  dbPath = path.join(dir, 'farm.db');
  const store = openStore(dbPath);
  try {
    for (let t = NOW - 12 * HOUR_MS; t < NOW; t += 5 * 60_000)
      writeCycle(store, { site: 'north', startedAt: t, endedAt: t + 100, outcomes: [okOutcome(4001)] });
  } finally {
    store.close();
  }
});
afterEach(() => cleanup());

/** The widest line of the chart (the rows with the axis), in characters. */
async function chartWidth(columns: number | undefined, env: Record<string, string>): Promise<number> {
  const ctx = memoryContext({ now: () => NOW, env });
  Object.assign(ctx.stdout, { isTTY: columns !== undefined, columns });
  const opts = await parseHistoryOptions('127.0.0.1:4001', { db: dbPath, since: '12h' }, ctx);
  expect(await runHistory(opts, parseGlobals({}, ctx), ctx)).toBe(0);
  const rows = ctx
    .out()
    .split('\n')
    .filter((line) => /[┤┼]/.test(line));
  expect(rows.length, ctx.out()).toBeGreaterThan(0);
  return Math.max(...rows.map((line) => [...line].length));
}

describe('history chart width', () => {
  it('fits a terminal of known width', async () => {
    const width = await chartWidth(100, {});
    expect(width).toBeLessThanOrEqual(100);
    expect(width).toBeGreaterThan(90);
  });

  it('draws a terminal that reports 0 columns as wide as $COLUMNS, else 80, not 10 points wide', async () => {
    const unsized = await chartWidth(0, {});
    expect(unsized).toBeLessThanOrEqual(80);
    expect(unsized).toBeGreaterThan(70);
    const told = await chartWidth(0, { COLUMNS: '120' });
    expect(told).toBeLessThanOrEqual(120);
    expect(told).toBeGreaterThan(110);
  });

  it('fits the time axis under the chart on a narrow terminal: 40 columns, and the narrowest chart', async () => {
    for (const columns of [40, 24]) {
      const ctx = memoryContext({ now: () => NOW, env: {} });
      Object.assign(ctx.stdout, { isTTY: true, columns });
      const opts = await parseHistoryOptions('127.0.0.1:4001', { db: dbPath, since: '12h' }, ctx);
      expect(await runHistory(opts, parseGlobals({}, ctx), ctx)).toBe(0);
      const lines = ctx.out().split('\n');
      const chart = Math.max(...lines.filter((line) => /[┤┼]/.test(line)).map((line) => [...line].length));
      // The axis (55 characters with its indent) wrapped on a 40-column terminal.
      const axis = lines.filter((line) => /20\d\d-\d\d-\d\dT\d\d:\d\d|…/.test(line));
      expect(axis.length, ctx.out()).toBeGreaterThan(0);
      for (const line of axis) expect([...line].length, `${columns}: ${line}`).toBeLessThanOrEqual(chart);
      // Still says where the chart starts and ends.
      expect(axis.join(' '), ctx.out()).toMatch(/2025-06-01T00:00.*….*11:55/);
    }
  });

  it('fits $COLUMNS in a pipe (watch sets it), else 80 columns', async () => {
    expect(await chartWidth(undefined, { COLUMNS: '60' })).toBeLessThanOrEqual(60);
    const plain = await chartWidth(undefined, {});
    expect(plain).toBeLessThanOrEqual(80);
    expect(plain).toBeGreaterThan(70);
  });
});
