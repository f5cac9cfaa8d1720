// Braiins OS on a model the fan table does not list (an S19j Pro+, a model name it does not know):
// every fan at 0 rpm while the boards hash vanished (no fans listed, no finding), so a miner with a
// dead fan set read "ok". As on every other firmware, it is a stopped fan set (thermal-facts §6 air:
// critical). Braiins OS lists spare slots too (an S9's FANS holds four, two of them 0), so a 0
// beside turning fans on such a model is said, not judged.
import { describe, expect, it } from 'vitest';
import { normalize } from '../../src/miners/normalize.js';
import { evaluateThermal } from '../../src/thermal/evaluate.js';
import { effectiveLimits } from '../../src/thermal/limits.js';
import { reply } from '../fixtures/miners/replies.js';

function braiins(model: string, rpms: number[], mhs = 25_000_000) {
  return normalize({
    version: reply('version', { VERSION: [{ API: '3.7', BOSer: 'boser-buildroot 0.1.0-5a2c2f5' }] }),
    devdetails: reply('devdetails', {
      DEVDETAILS: [1, 2, 3].map((id) => ({ ID: id, Chips: 126, Model: model, Frequency: 515 })),
    }),
    devs: reply('devs', {
      DEVS: [1, 2, 3].map((id) => ({
        ID: id,
        'MHS 5s': mhs,
        'MHS av': mhs,
        Temperature: 0.0,
        Status: 'Alive',
      })),
    }),
    temps: reply('temps', { TEMPS: [1, 2, 3].map((id) => ({ ID: id, Board: 60, Chip: 75 })) }),
    fans: reply('fans', { FANS: rpms.map((rpm, id) => ({ FAN: id, ID: id, RPM: rpm, Speed: 60 })) }),
    summary: reply('summary', { SUMMARY: [{ 'MHS 5s': mhs * 3, 'MHS av': mhs * 3, Elapsed: 600 }] }),
  });
}

const judged = (snapshot: ReturnType<typeof normalize>) =>
  evaluateThermal(snapshot, effectiveLimits(snapshot));

describe('Braiins OS fans on a model missing from the fan table', () => {
  it.each(['Bitmain S19j Pro+', 'Bitmain Q99 Future'])(
    '%s: every fan at 0 while hashing is critical',
    (model) => {
      const snapshot = braiins(model, [0, 0, 0, 0]);
      expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([0, 0, 0, 0]);
      const evaluation = judged(snapshot);
      expect(evaluation.readings.fans_failed).toBe(4);
      expect(evaluation.status).toBe('critical');
    },
  );

  it('asleep (not hashing), stopped fans are no fans: nothing to judge', () => {
    expect(braiins('Bitmain S19j Pro+', [0, 0, 0, 0], 0).fans).toEqual([]);
  });

  it('a hydro model stays without fans', () => {
    const snapshot = braiins('Bitmain S19 XP Hyd.', [0, 0, 0, 0]);
    expect(snapshot.fans).toEqual([]);
    expect(judged(snapshot).status).toBe('ok');
  });

  it('a 0 beside turning fans is noted, not dropped silently', () => {
    const snapshot = braiins('Bitmain S19j Pro+', [4000, 0, 4100, 4050]);
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([4000, 4100, 4050]);
    expect(judged(snapshot).reasons).toEqual([
      expect.objectContaining({
        metric: 'fans_failed',
        level: 'unknown',
        message: expect.stringMatching(/fan 1 at 0 rpm/),
      }),
    ]);
  });

  it('a known model (S19 XP, four fans): the 0 is a failed fan, as before', () => {
    const snapshot = braiins('Bitmain S19XP', [4000, 0, 4100, 4050]);
    expect(snapshot.fans.map((fan) => fan.rpm)).toEqual([4000, 0, 4100, 4050]);
    expect(judged(snapshot).status).toBe('critical');
  });
});
