// An Avalon lists its fans in its MM ID string (`Fan1[4275] Fan2[4282]`). With every one at 0 while
// the boards hash, they are a stopped fan set (thermal-facts §6, air: any fan below 1000 RPM while
// mining), as on every other air-cooled miner: they vanished, and the miner read "ok".
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
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

  it('beside a turning fan, a slot at 0 stays unjudged: no fan table says the model has it', () => {
    const snapshot = a1566('Fan1[0] Fan2[4282]');
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([4282]);
  });

  it('both at 0 while it hashes: both failed, critical', () => {
    const snapshot = a1566('Fan1[0] Fan2[0]');
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([0, 0]);
    const evaluation = judged(snapshot);
    expect(evaluation.readings.fans_failed).toBe(2);
    expect(evaluation.status).toBe('critical');
  });
});
