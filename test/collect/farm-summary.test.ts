// Hashrates of different algorithms are never added together in the farm summary.
import { describe, expect, it } from 'vitest';
import { describeMiner, type LiveMiner, sortMiners, summarizeFarm } from '../../src/collect/farm.js';
import type { LiveRow } from '../../src/store/live.js';

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

describe('problems', () => {
  const row = (over: Partial<LiveRow>): LiveRow => ({
    miner_id: 1,
    site_id: 1,
    site: 'default',
    host: '127.0.0.1',
    port: 4028,
    make: 'Antminer',
    model: 'S19 Pro',
    firmware_name: null,
    firmware_version: null,
    run_id: 1,
    collected_at: 1000,
    ok: 1,
    error_kind: null,
    error_message: null,
    last_ok_at: 1000,
    stale: 0,
    elapsed_ms: 20,
    algorithm: 'sha256d',
    hashrate_hs: 110e12,
    nominal_hs: 110e12,
    temp_chip_max_c: 70,
    temp_board_max_c: 60,
    fan_min_rpm: 5000,
    boards_ok: 3,
    boards_total: 3,
    chips: 342,
    chips_expected: 342,
    power_w: 3250,
    ...over,
  });

  it('a failed poll older than --stale-after is stale, not offline now: the collector stopped a day ago', () => {
    const DAY = 86_400_000;
    const failed = row({ ok: 0, error_kind: 'timeout', collected_at: 1000, last_ok_at: 500 });
    const recent = describeMiner(failed, 1000 + 60_000, 600_000);
    expect([recent.state, recent.current]).toEqual(['offline', false]);
    const old = describeMiner(failed, 1000 + DAY, 600_000);
    expect([old.state, old.current]).toEqual(['stale', false]);
    expect(old.problems).toEqual(['stale: last poll 24h ago', 'it failed: timeout', 'figures 24h old']);
    const summary = summarizeFarm([recent, old], 1000 + DAY);
    expect([summary.online, summary.offline, summary.stale]).toEqual([0, 1, 1]);
  });

  it('a miner hashing with every chip and board sensor dead is a problem; one that is idle is not hashing', () => {
    const dead = { temp_chip_max_c: null, temp_board_max_c: null };
    expect(describeMiner(row(dead), 2000, 600_000).problems).toEqual(['no temperature reading']);
    expect(describeMiner(row({}), 2000, 600_000).problems).toEqual([]);
    // Idle, its cold sensors are no news; that it hashes nothing is, nominal known or not.
    expect(describeMiner(row({ ...dead, hashrate_hs: 0, nominal_hs: null }), 2000, 600_000).problems).toEqual(
      ['not hashing'],
    );
    expect(describeMiner(row({ ...dead, hashrate_hs: 0 }), 2000, 600_000).problems).toEqual([
      'hashrate 0% of nominal',
    ]);
  });

  it('a stale miner whose last poll failed is not "not hashing" from older figures, as an offline one is not', () => {
    const DAY = 86_400_000;
    const failed = row({ ok: 0, error_kind: 'timeout', hashrate_hs: 0, nominal_hs: null, last_ok_at: 500 });
    expect(describeMiner(failed, 1000 + 60_000, 600_000).problems).toEqual([
      'offline: timeout',
      'figures 1m old',
    ]);
    expect(describeMiner(failed, 1000 + DAY, 600_000).problems).toEqual([
      'stale: last poll 24h ago',
      'it failed: timeout',
      'figures 24h old',
    ]);
    // Its last poll answered with 0 H/s: that is still what it said.
    const idle = row({ hashrate_hs: 0, nominal_hs: null });
    expect(describeMiner(idle, 1000 + DAY, 600_000).problems).toEqual([
      'stale: last poll 24h ago',
      'not hashing',
    ]);
  });

  it('a nominal rate of 0 (Braiins OS with no Nominal MHS set) is an unknown nominal in the summary too', () => {
    // describeMiner already gives such a miner no ratio; the summary counted its 0 as a known
    // nominal, so the farm read "114 TH/s of 100 TH/s nominal", nominal_unknown 0.
    const known = describeMiner(row({ hashrate_hs: 100e12, nominal_hs: 100e12 }), 2000, 600_000);
    const zero = describeMiner(
      row({ miner_id: 2, port: 4029, hashrate_hs: 14e12, nominal_hs: 0 }),
      2000,
      600_000,
    );
    expect(zero.hashrate_ratio).toBeNull();
    const summary = summarizeFarm([known, zero], 2000);
    expect([summary.hashrate_hs, summary.nominal_hs, summary.nominal_unknown]).toEqual([114e12, 100e12, 1]);
    // Every nominal 0: no nominal at all, as when none is known.
    const alone = summarizeFarm([zero], 2000);
    expect([alone.nominal_hs, alone.nominal_unknown]).toEqual([null, 1]);
    const scrypt = describeMiner(
      row({ algorithm: 'scrypt', hashrate_hs: 5e8, nominal_hs: 0 }),
      2000,
      600_000,
    );
    expect(summarizeFarm([scrypt], 2000).other_algorithms.scrypt?.nominal_hs).toBeNull();
  });

  it('a miner listed below nominal in its problems is in the summary below_nominal too, at 89.96%', () => {
    // hashrate_ratio is rounded to 0.9 for display; the summary compared that rounded figure and
    // left out a miner whose problems said it was below nominal.
    const low = describeMiner(row({ hashrate_hs: 98.96e12, nominal_hs: 110e12 }), 2000, 600_000);
    expect(low.problems.some((p) => p.endsWith('of nominal'))).toBe(true);
    expect(summarizeFarm([low], 2000).below_nominal).toEqual([low.miner]);
    const fine = describeMiner(row({ hashrate_hs: 99e12, nominal_hs: 110e12 }), 2000, 600_000);
    expect(fine.problems).toEqual([]);
    expect(summarizeFarm([fine], 2000).below_nominal).toEqual([]);
  });
});

describe('sortMiners', () => {
  it('ranks current figures first for --sort hashrate and temp: an offline or stale miner last read hot is not the hottest', () => {
    const hot = (name: string, hashrate: number, temp: number, state: LiveMiner['state']) => ({
      ...miner(name, 'sha256d', hashrate, state),
      temp_chip_max_c: temp,
    });
    const miners = [
      hot('10.0.0.1', 100e12, 70, 'online'),
      hot('10.0.0.2', 140e12, 95, 'offline'),
      hot('10.0.0.3', 110e12, 80, 'online'),
      hot('10.0.0.4', 130e12, 90, 'stale'),
    ];
    const order = (by: 'hashrate' | 'temp') => sortMiners(miners, by).map((m) => m.miner);
    expect(order('temp')).toEqual(['10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.4']);
    expect(order('hashrate')).toEqual(['10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.4']);
  });
});

describe('live --problems, hot first', () => {
  it('puts the miners hot now first, and says a stale miner was hot at its last poll', () => {
    const at = (name: string, state: LiveMiner['state'], thermal: LiveMiner['thermal_status']) => ({
      ...miner(name, 'sha256d', 100e12, state),
      thermal_status: thermal,
    });
    const order = sortMiners(
      [
        at('10.0.0.1', 'stale', 'critical'),
        at('10.0.0.2', 'online', 'warn'),
        at('10.0.0.3', 'online', 'critical'),
        at('10.0.0.4', 'online', 'ok'),
      ],
      'miner',
      { hotFirst: true },
    ).map((m) => m.miner);
    expect(order).toEqual(['10.0.0.3', '10.0.0.2', '10.0.0.1', '10.0.0.4']);
  });

  it('a stale row with a critical thermal state says it was critical at its last poll', () => {
    const stale = describeMiner(
      {
        miner_id: 1,
        site_id: 1,
        site: 'default',
        host: '10.0.0.1',
        port: 4028,
        make: 'Antminer',
        model: 'S19 Pro',
        firmware_name: null,
        firmware_version: null,
        run_id: 1,
        collected_at: 1000,
        ok: 1,
        error_kind: null,
        error_message: null,
        last_ok_at: 1000,
        stale: 0,
        elapsed_ms: 20,
        algorithm: 'sha256d',
        hashrate_hs: 110e12,
        nominal_hs: 110e12,
        temp_chip_max_c: 99,
        temp_board_max_c: 80,
        fan_min_rpm: 5000,
        boards_ok: 3,
        boards_total: 3,
        chips: 342,
        chips_expected: 342,
        power_w: 3250,
      },
      1000 + 3 * 3_600_000,
      600_000,
      { status: 'critical', metric: 'chip_temp' },
    );
    expect(stale.problems[0]).toBe('thermal critical at its last poll: chip_temp');
  });
});
