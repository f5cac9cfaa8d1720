// A paused simulated miner's averages, read over TCP on 127.0.123.20 with the farm's clock moved by
// hand: as cgminer keeps them, the average since the start (`MHS av`) falls off as time passes with
// no hashing, and the windowed averages (`MHS 1m`, `15m`) decay over their window; only the 5 s
// figure drops to 0 at once. They climb back after a resume rather than jump.
import { describe, expect, it } from 'vitest';
import { startFarm } from '../../src/sim/index.js';
import { ask, section } from './support.js';

const HOST = '127.0.123.20';
type Row = Record<string, unknown>;

/** The rate under `label` (`av`, `5s`, `1m`, `15m`) in H/s, whichever of MHS or GHS the profile writes. */
function rate(summary: Row, label: string): number {
  if (`MHS ${label}` in summary) return Number(summary[`MHS ${label}`]) * 1e6;
  if (`GHS ${label}` in summary) return Number(summary[`GHS ${label}`]) * 1e9;
  throw new Error(`no ${label} rate in ${Object.keys(summary).join(', ')}`);
}

const PROFILES = ['braiins-os', 'luxos', 'whatsminer', 'avalon'];

describe('a paused miner keeps its averages as cgminer does', () => {
  it.each(PROFILES)('%s', async (profile) => {
    let clock = Date.UTC(2026, 0, 10, 12, 0, 0);
    const farm = await startFarm({ profile, count: 1, host: HOST, basePort: 0, seed: 3, now: () => clock });
    try {
      const miner = farm.miners[0]!;
      const summary = async () =>
        section<Row>(await ask(miner.port, 'summary', undefined, {}, HOST), 'SUMMARY')[0]!;
      const before = await summary();
      const average = rate(before, 'av');
      const uptime = Number(before.Elapsed);
      expect(average).toBeGreaterThan(0);
      expect(rate(before, '5s')).toBeGreaterThan(0);

      // Paused (as `pause`, `power_off`, `softoff` or a sleep do), then read a second later.
      miner.state.sleeping = true;
      clock += 1000;
      const paused = await summary();
      expect(rate(paused, '5s')).toBe(0);
      expect(rate(paused, 'av')).toBeGreaterThan(average * 0.99);
      expect(rate(paused, '1m')).toBeGreaterThan(average * 0.9);

      // Ten minutes on: the average since the start is the same hashes over a longer uptime; the
      // one-minute window has all but gone, the fifteen-minute one is on its way down.
      clock += 10 * 60_000;
      const later = await summary();
      expect(rate(later, 'av') / ((average * uptime) / (uptime + 601))).toBeCloseTo(1, 2);
      expect(rate(later, '1m')).toBeLessThan(average * 0.001);
      expect(rate(later, '15m')).toBeGreaterThan(average * 0.4);
      expect(rate(later, '15m')).toBeLessThan(average * 0.6);

      // Resumed: a minute later the one-minute window has climbed most of the way back.
      miner.state.sleeping = false;
      await summary();
      clock += 60_000;
      const resumed = await summary();
      expect(rate(resumed, '5s')).toBeGreaterThan(0);
      expect(rate(resumed, '1m')).toBeGreaterThan(average * 0.55);
      expect(rate(resumed, '1m')).toBeLessThan(average * 0.7);
    } finally {
      await farm.stop();
    }
  });
});
