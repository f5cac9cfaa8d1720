// Firmwares that name their fans but no fan count (Goldshell's `fanN` in each device record,
// HonorKnight/Innosilicon `FanN rpm` in the chain records): with every fan at 0 while the boards
// hash, they are a stopped fan set (thermal-facts §6, air), as on the firmwares that give a
// count. They vanished, and the miner read "ok" with no fan turning.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../src/miners/normalize.js';
import { evaluateThermal } from '../../src/thermal/evaluate.js';
import { effectiveLimits } from '../../src/thermal/limits.js';
import { reply } from '../fixtures/miners/replies.js';
import { SAMPLES_DIR } from '../fixtures/miners/samples.js';

const judged = (snapshot: ReturnType<typeof normalize>) =>
  evaluateThermal(snapshot, effectiveLimits(snapshot));

/** A Goldshell (bfgminer, intchains_qomo) hashing, its two fans at `rpm` in every record. */
function goldshell(rpm: number, mhs = 1834000) {
  const dev = (id: number) => ({
    PGA: id,
    ID: id,
    Name: 'INCS',
    Enabled: 'Y',
    Status: 'Alive',
    'MHS av': mhs,
    'MHS 20s': mhs,
    'tstemp-0': 68,
    'tstemp-1': 72,
    'tstemp-2': 55,
    fan0: rpm,
    fan1: rpm,
  });
  return normalize({
    summary: reply('summary', { SUMMARY: [{ Elapsed: 86400, 'MHS 20s': mhs * 3, 'MHS av': mhs * 3 }] }),
    devs: reply('devs', { DEVS: [dev(0), dev(1), dev(2)] }),
    stats: reply('stats', { STATS: [{}, { fan0: rpm, fan1: rpm }] }),
  });
}

describe('every named fan at 0 rpm while hashing, with no fan count given', () => {
  it('Goldshell fanN: two stopped fans, critical', () => {
    const snapshot = goldshell(0);
    expect(snapshot.hashrate.current_hs).toBeGreaterThan(0);
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([0, 0]);
    const evaluation = judged(snapshot);
    expect(evaluation.readings.fans_failed).toBe(2);
    expect(evaluation.status).toBe('critical');
  });

  it('Goldshell idle with its fans at 0: no fan to judge (unchanged)', () => {
    expect(goldshell(0, 0).fans).toEqual([]);
  });

  it('Goldshell turning: unchanged', () => {
    expect(goldshell(3100).fans.map((fan) => fan.rpm)).toEqual([3100, 3100]);
  });
});

/** The HonorKnight sample (Innosilicon-style chain records carrying `FanN rpm`), hashing sha256. */
function honorknight(fanRpm: number | null) {
  const stats = JSON.parse(readFileSync(`${SAMPLES_DIR}honorknight__stats.json`, 'latin1')) as Record<
    string,
    unknown
  >;
  const patch = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(patch);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [
        key,
        fanRpm !== null && /^Fan\d+ rpm$/.test(key) ? fanRpm : patch(inner),
      ]),
    );
  };
  return normalize({
    stats: reply('stats', patch(stats) as Record<string, unknown>),
    summary: reply('summary', { SUMMARY: [{ Elapsed: 5000, 'MHS 5s': 14e6, 'MHS av': 14e6 }] }),
    coin: reply('coin', { COIN: [{ 'Hash Method': 'sha256' }] }),
  });
}

describe('Innosilicon-style FanN rpm at 0 while hashing', () => {
  it('the sample’s two fans turning: unchanged', () => {
    const snapshot = honorknight(null);
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([6270, 6810]);
  });

  it('both at 0 while it hashes: two stopped fans, critical', () => {
    const snapshot = honorknight(0);
    expect(snapshot.hashrate.current_hs).toBeGreaterThan(0);
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([0, 0]);
    expect(judged(snapshot).status).toBe('critical');
  });
});

describe('no fan count, a 0 beside turning fans while hashing: said, not dropped nor judged', () => {
  const note = (snapshot: ReturnType<typeof normalize>) =>
    judged(snapshot).reasons.filter(
      (reason) => reason.metric === 'fans_failed' && reason.level === 'unknown',
    );

  it('Goldshell fan1 at 0 beside a turning fan0', () => {
    const snapshot = goldshell(3100);
    const stopped = normalize({
      summary: reply('summary', { SUMMARY: [{ Elapsed: 86400, 'MHS 20s': 5502000, 'MHS av': 5502000 }] }),
      devs: reply('devs', {
        DEVS: [0, 1, 2].map((id) => ({
          PGA: id,
          ID: id,
          Name: 'INCS',
          Enabled: 'Y',
          Status: 'Alive',
          'MHS av': 1834000,
          'MHS 20s': 1834000,
          'tstemp-0': 68,
          'tstemp-1': 72,
          'tstemp-2': 55,
          fan0: 3100,
          fan1: 0,
        })),
      }),
    });
    expect(note(snapshot)).toEqual([]);
    expect(stopped.fans.map((fan) => fan.rpm)).toEqual([3100]);
    expect(note(stopped).map((reason) => reason.message)).toEqual([
      expect.stringMatching(/^fan1 at 0 rpm beside turning fans, not judged/),
    ]);
  });

  it('StrongU (Fan1, Fan2 in the summary, no Fan Num)', () => {
    const snapshot = normalize({
      summary: reply('summary', {
        SUMMARY: [{ Elapsed: 5000, 'MHS 5s': 12e6, 'MHS av': 12e6, Fan1: 4200, Fan2: 0 }],
      }),
      devs: reply('devs', { DEVS: [{ ASC: 0, ID: 0, 'MHS 5s': 12e6, Temperature: 70, Status: 'Alive' }] }),
    });
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([4200]);
    expect(note(snapshot).map((reason) => reason.message)).toEqual([expect.stringMatching(/^Fan2 at 0 rpm/)]);
  });
});
