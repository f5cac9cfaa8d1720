// An Avalon lists its fans in its MM ID string (`Fan1[4275] Fan2[4282]`). With every one at 0 while
// the boards hash, they are a stopped fan set (thermal-facts §6, air: any fan below 1000 RPM while
// mining), as on every other air-cooled miner: they vanished, and the miner read "ok".
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { avalonFanCount } from '../../src/miners/dialects/avalon.js';
import { normalize } from '../../src/miners/normalize.js';
import { evaluateThermal } from '../../src/thermal/evaluate.js';
import { effectiveLimits } from '../../src/thermal/limits.js';
import { reply } from '../fixtures/miners/replies.js';
import { SAMPLES_DIR } from '../fixtures/miners/samples.js';

const read = (file: string) =>
  JSON.parse(readFileSync(`${SAMPLES_DIR}${file}`, 'utf8')) as Record<string, unknown>;

/** The A1566 sample with its fan tokens replaced. */
function a1566(fans: string) {
  const stats = read('avalon-a1566_24102401__stats.json');
  const records = stats.STATS as Record<string, unknown>[];
  const patched = records.map((record) =>
    Object.fromEntries(
      Object.entries(record).map(([key, value]) => [
        key,
        key.startsWith('MM ID') && typeof value === 'string'
          ? value.replace(/Fan1\[\d+\] Fan2\[\d+\]/, fans)
          : value,
      ]),
    ),
  );
  return normalize({
    version: reply('version', read('avalon-a1566_24102401__version.json')),
    devs: reply('devs', read('avalon-a1566_24102401__devs.json')),
    stats: reply('stats', { ...stats, STATS: patched }),
  });
}

const judged = (snapshot: ReturnType<typeof normalize>) =>
  evaluateThermal(snapshot, effectiveLimits(snapshot));

describe('Avalon fans stopped while hashing', () => {
  it('the sample as it is: two fans turning, none failed', () => {
    const snapshot = a1566('Fan1[4275] Fan2[4282]');
    expect(snapshot.hashrate.current_hs).toBeGreaterThan(0);
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([4275, 4282]);
    expect(judged(snapshot).readings.fans_failed).toBe(0);
  });

  it('beside a turning fan, a 0 on an A1566 (two fans, every one listed) is a failed fan: critical', () => {
    const snapshot = a1566('Fan1[0] Fan2[4282]');
    expect(snapshot.fans).toEqual([
      { index: 1, rpm: 0 },
      { index: 2, rpm: 4282 },
    ]);
    const evaluation = judged(snapshot);
    expect(evaluation.readings.fans_failed).toBe(1);
    expect(evaluation.status).toBe('critical');
  });

  it('an A1566 listing a third slot at 0 beside its two turning fans: two fans, none failed', () => {
    const snapshot = a1566('Fan1[4275] Fan2[4282] Fan3[0]');
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([4275, 4282]);
    expect(judged(snapshot).status).toBe('ok');
  });

  it('a model with no known fan count: a 0 beside turning fans is said, not dropped nor judged', () => {
    const mm =
      'Ver[1366-88-22031501_aaaaaaa_bbbbbbb] SYSTEMSTATU[Work: In Work, Hash Board: 3 ] Temp[24] TMax[81] ' +
      'Fan1[6100] Fan2[6050] Fan3[6000] Fan4[0] FanR[90%] GHSspd[130500.00] GHSavg[129900.00] ' +
      'MGHS[43000.00 43600.00 43300.00] MTmax[80 81 79]';
    const snapshot = normalize({
      stats: reply('stats', { STATS: [{ STATS: 0, ID: 'AVA100', 'MM ID0': mm, 'MM Count': 1 }] }),
    });
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([6100, 6050, 6000]);
    expect(snapshot.errors.map((e) => e.code)).toEqual(['fan_unjudged']);
    const evaluation = judged(snapshot);
    expect(evaluation.reasons).toEqual([
      expect.objectContaining({
        metric: 'fans_failed',
        level: 'unknown',
        message: expect.stringMatching(/Fan4 at 0 rpm.*1366/),
      }),
    ]);
  });

  it('both at 0 while it hashes: both failed, critical', () => {
    const snapshot = a1566('Fan1[0] Fan2[0]');
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([0, 0]);
    const evaluation = judged(snapshot);
    expect(evaluation.readings.fans_failed).toBe(2);
    expect(evaluation.status).toBe('critical');
  });
});

describe('Avalon fan counts by model', () => {
  it('A10xx: the avalon10 driver prints Fan1 and Fan2, both fans; a 0 beside a turning one failed', () => {
    const stats = read('avalon-1047__stats.json');
    const records = (stats.STATS as Record<string, unknown>[]).map((record) =>
      Object.fromEntries(
        Object.entries(record).map(([key, value]) => [
          key,
          key.startsWith('MM ID') && typeof value === 'string'
            ? value.replace(/Fan1\[\d+\]/, 'Fan1[0]')
            : value,
        ]),
      ),
    );
    const snapshot = normalize({ stats: reply('stats', { ...stats, STATS: records }) });
    expect(snapshot.model).toMatch(/1047/);
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([0, 2972]);
    expect(judged(snapshot).status).toBe('critical');
  });

  it.each([
    ['1047', 2],
    ['A1246', 4],
    ['AvalonMiner 1566', 2],
    ['1166Pro', 4],
    ['Nano3s', 1],
    ['Q', null],
    ['1366', null],
    ['1466', null],
    [null, null],
  ])('%s: %s', (model, fans) => {
    expect(avalonFanCount(model)).toBe(fans);
  });
});
