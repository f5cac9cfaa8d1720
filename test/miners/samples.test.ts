// Every captured sample (or one miner's coherent set of them) against a golden written by hand.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detect } from '../../src/miners/detect.js';
import { planCommands } from '../../src/miners/fetch.js';
import { normalize } from '../../src/miners/normalize.js';
import { Replies } from '../../src/miners/replies.js';
import { snapshotSchema } from '../../src/miners/schema.js';
import { GOLDENS, NON_TELEMETRY } from '../fixtures/miners/expected.js';
import { loadSet, SAMPLES_DIR } from '../fixtures/miners/samples.js';

function within1pct(actual: number | null, expected: number | null): void {
  if (expected === null) {
    expect(actual).toBeNull();
    return;
  }
  expect(actual).not.toBeNull();
  if (expected === 0) expect(actual).toBe(0);
  else expect(Math.abs((actual as number) - expected) / Math.abs(expected)).toBeLessThan(0.01);
}

describe('normalize: golden snapshots of the real samples', () => {
  for (const golden of GOLDENS) {
    it(golden.name, () => {
      const snapshot = normalize(loadSet(golden.files));
      expect(snapshotSchema.parse(snapshot)).toEqual(snapshot);
      expect(snapshot.make).toBe(golden.make);
      expect(snapshot.model).toBe(golden.model);
      if (golden.firmware) expect(snapshot.firmware).toEqual(golden.firmware);
      if (golden.algorithm) expect(snapshot.algorithm).toBe(golden.algorithm);
      within1pct(snapshot.hashrate.current_hs, golden.current_hs);
      within1pct(snapshot.hashrate.average_hs, golden.average_hs);
      if (golden.nominal_hs !== undefined) within1pct(snapshot.hashrate.nominal_hs, golden.nominal_hs);
      expect(snapshot.boards).toHaveLength(golden.boards);
      const chipCounts = snapshot.boards.map((b) => b.chips).filter((c): c is number => c !== null);
      expect(chipCounts.length === 0 ? null : chipCounts.reduce((a, b) => a + b, 0)).toBe(golden.chips);
      expect(snapshot.temp_max_chip_c).toBe(golden.temp_max_chip_c);
      expect(snapshot.temp_max_board_c).toBe(golden.temp_max_board_c);
      expect(snapshot.fans).toHaveLength(golden.fans);
      expect(snapshot.pools).toHaveLength(golden.pools);
      const active = snapshot.pools.filter((p) => p.active);
      expect(active.length).toBe(golden.active_pool === null ? 0 : 1);
      expect(active[0]?.url ?? null).toBe(golden.active_pool);
      if (golden.state !== undefined) expect(snapshot.state).toBe(golden.state);
      if (golden.cooling !== undefined) expect(snapshot.cooling).toBe(golden.cooling);
      if (golden.power_w !== undefined) expect(snapshot.power_w).toBe(golden.power_w);
      if (golden.efficiency_j_per_th !== undefined) {
        if (golden.efficiency_j_per_th === null) expect(snapshot.efficiency_j_per_th).toBeNull();
        else expect(snapshot.efficiency_j_per_th).toBeCloseTo(golden.efficiency_j_per_th, 1);
      }
      if (golden.uptime_s !== undefined) expect(snapshot.uptime_s).toBe(golden.uptime_s);
      if (golden.accepted !== undefined) expect(snapshot.accepted).toBe(golden.accepted);
      golden.check?.(snapshot);
    });
  }

  for (const files of NON_TELEMETRY) {
    it(`carries no telemetry: ${files[0]}`, () => {
      const snapshot = normalize(loadSet(files));
      expect(snapshot.make).toBe('unknown');
      expect(snapshot.hashrate).toEqual({ current_hs: null, average_hs: null, nominal_hs: null });
      expect(snapshot.boards).toEqual([]);
      expect(snapshot.pools).toEqual([]);
    });
  }

  it('covers every sample file', () => {
    const covered = new Set([...GOLDENS.flatMap((g) => g.files), ...NON_TELEMETRY.flat()]);
    const files = readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.json') || f.endsWith('.txt'));
    expect(files.length).toBeGreaterThan(150);
    expect(files.filter((f) => !covered.has(f))).toEqual([]);
  });
});

describe("a known miner's plan detects the same family (so a cached or stored dialect never thrashes)", () => {
  for (const golden of GOLDENS) {
    it(golden.name, () => {
      const replies = loadSet(golden.files);
      const family = detect(new Replies(replies)).family;
      const asked = new Set(planCommands(family));
      const planned = Object.fromEntries(Object.entries(replies).filter(([command]) => asked.has(command)));
      if (Object.keys(planned).length === 0) return; // a capture of commands no plan asks
      expect(detect(new Replies(planned)).family).toBe(family);
    });
  }
});
