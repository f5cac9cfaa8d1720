// Into a pipe, every command prints tab-separated text with a header line (README, Output): a
// script reads the columns by name, and `tail -n +2` or `sed 1d` skips the one header every
// command has. Each row has the header's number of columns, a dead miner's row too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import type { Farm } from '../../src/sim/index.js';
import { closedPort } from '../support/fake-miner.js';
import { startHealthyFarm } from '../support/farm.js';

let farm: Farm | null = null;
let targets: string[] = [];

beforeAll(async () => {
  farm = await startHealthyFarm(1, () => Date.now());
  targets = [...farm.inventory(), `127.0.0.1:${await closedPort()}`];
});
afterAll(async () => {
  await farm?.stop();
});

const COMMANDS: string[][] = [
  ['probe'],
  ['probe', '--wide'],
  ['probe', '--command', 'summary,pools'],
  ['probe', '--command', 'version'],
  ['control', 'capabilities'],
  ['control', 'restart', '--dry-run'],
  ['thermal', 'check'],
  ['thermal', 'posture'],
  ['thermal', 'limits'],
];

describe('plain text into a pipe', () => {
  for (const command of COMMANDS) {
    it(`${command.join(' ')}: a header line, then rows of as many columns`, async () => {
      const ctx = memoryContext();
      const code = await runCli([...command, ...targets, '--retries', '0', '--timeout', '5s'], ctx);
      expect(code).toBe(1);
      const lines = ctx.out().replace(/\n$/, '').split('\n');
      const [head = '', ...rows] = lines;
      // The header names columns; it is not a target's row.
      for (const target of targets) expect(head).not.toContain(target);
      expect(head.split('\t').length).toBeGreaterThan(1);
      expect(rows.length).toBeGreaterThan(1);
      for (const target of targets)
        expect(
          rows.some((row) => row.startsWith(`${target}\t`)),
          target,
        ).toBe(true);
      // One header style across commands: lowercase, as --json names things.
      expect(head).toBe(head.toLowerCase());
      // A figure is a bare number there, its unit in the header (hashrate_hs, inlet_c): a script
      // reads one format, not `13.63 TH/s` from one command and H/s from another.
      expect(rows.filter((row) => /(^|\t)-?[\d.]+ ?(TH\/s|°C|W)(\t|$)/.test(row))).toEqual([]);
      const columns = head.split('\t').length;
      expect(rows.filter((row) => row.split('\t').length !== columns)).toEqual([]);
    });
  }

  it('probe: the fans are one figure, the slowest fan in rpm, not a count and a range', async () => {
    const ctx = memoryContext();
    expect(await runCli(['probe', ...targets.slice(0, 1), '--fields', 'target,fans'], ctx)).toBe(0);
    const [head, row = ''] = ctx.out().trimEnd().split('\n');
    expect(head).toBe('target\tfan_min_rpm');
    expect(row.split('\t')[1]).toMatch(/^\d+$/);
  });
});
