// LuxOS on a model the fan table does not list (an S21+, an S19j Pro+): every fan at 0 rpm while the
// boards hash vanished (no fans, no finding), so the miner read "ok" with no fan turning. LuxOS
// lists no FANS on hydro or immersion units (thermal-facts §1), so a listed fan set all at 0 while
// hashing is a stopped fan set: critical on air, as on the models the table has.
import { describe, expect, it } from 'vitest';
import type { DecodedReply } from '../../src/cgminer/types.js';
import { normalize } from '../../src/miners/normalize.js';
import { evaluateThermal } from '../../src/thermal/evaluate.js';
import { effectiveLimits } from '../../src/thermal/limits.js';
import { reply } from '../fixtures/miners/replies.js';
import { loadSet, luxosS19kProFiles } from '../fixtures/miners/samples.js';

const FILES = luxosS19kProFiles();

/** The sample S19k Pro renamed to `model`, its fans at `rpms`. */
function luxos(model: string, rpms: number[]) {
  const replies = loadSet(FILES) as Record<string, DecodedReply>;
  const renamed = JSON.parse(JSON.stringify(replies).replaceAll('Antminer S19k Pro', model)) as Record<
    string,
    DecodedReply
  >;
  const fans = (renamed.fans as DecodedReply).body as Record<string, unknown>;
  renamed.fans = reply('fans', {
    ...fans,
    FANS: (fans.FANS as Record<string, unknown>[]).map((fan, i) => ({ ...fan, RPM: rpms[i] })),
  });
  return normalize(renamed);
}

const judged = (snapshot: ReturnType<typeof normalize>) =>
  evaluateThermal(snapshot, effectiveLimits(snapshot));

describe('LuxOS fans on a model missing from the fan table', () => {
  it('the sample renamed, fans turning: a model the table lacks reads its four fans', () => {
    const snapshot = luxos('Antminer S21+', [1920, 1920, 2340, 2340]);
    expect(snapshot.model).toBe('S21+');
    expect(snapshot.hashrate.current_hs).toBeGreaterThan(0);
    expect(snapshot.fans).toHaveLength(4);
  });

  it('every fan at 0 while hashing is a stopped fan set: critical', () => {
    const snapshot = luxos('Antminer S21+', [0, 0, 0, 0]);
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([0, 0, 0, 0]);
    const evaluation = judged(snapshot);
    expect(evaluation.readings.fans_failed).toBe(4);
    expect(evaluation.status).toBe('critical');
  });

  it('a 0 beside turning fans is noted, not dropped silently', () => {
    const snapshot = luxos('Antminer S21+', [1920, 0, 2340, 2340]);
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([1920, 2340, 2340]);
    expect(judged(snapshot).reasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          metric: 'fans_failed',
          level: 'unknown',
          message: expect.stringMatching(/FAN2 at 0 rpm/),
        }),
      ]),
    );
  });
});
