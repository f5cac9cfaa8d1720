// Hashrates of different algorithms are never added together in the farm summary.
import { describe, expect, it } from 'vitest';
import { type LiveMiner, summarizeFarm } from '../../src/collect/farm.js';

function miner(
  name: string,
  algorithm: string,
  hashrate: number,
  state: LiveMiner['state'] = 'online',
): LiveMiner {
  return {
    miner: name,
    host: name,
    port: 4028,
    site: 'default',
    make: 'Antminer',
    model: null,
    algorithm,
    state,
    current: state === 'online',
    age_s: 1,
    last_ok_at: null,
    collected_at: '2026-01-01T00:00:00.000Z',
    error_kind: null,
    hashrate_hs: hashrate,
    nominal_hs: hashrate,
    hashrate_ratio: 1,
    temp_chip_max_c: null,
    temp_board_max_c: null,
    fan_min_rpm: null,
    boards_ok: null,
    boards_total: null,
    chips: null,
    chips_expected: null,
    power_w: null,
    thermal_status: 'unknown',
    problems: [],
    paused_by: null,
  };
}

describe('summarizeFarm', () => {
  it('totals sha256d alone and every other algorithm on its own line', () => {
    const summary = summarizeFarm(
      [
        miner('a', 'sha256d', 100e12),
        miner('b', 'sha256d', 110e12),
        miner('c', 'scrypt', 9.5e9),
        miner('d', 'scrypt', 0.5e9),
        miner('e', 'sha256d', 90e12, 'stale'),
      ],
      Date.now(),
    );
    expect(summary.hashrate_hs).toBe(210e12);
    expect(summary.nominal_hs).toBe(210e12);
    expect(summary.other_algorithms).toEqual({ scrypt: { miners: 2, hashrate_hs: 10e9, nominal_hs: 10e9 } });
  });
});
