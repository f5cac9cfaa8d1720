// Hand-written replies of firmwares and models the samples do not hold, judged end to end (normalize
// → limits → evaluation): a sensor the firmware could not read must never pass for a real reading.
import { describe, expect, it } from 'vitest';
import { normalize } from '../../src/miners/normalize.js';
import { evaluateThermal } from '../../src/thermal/evaluate.js';
import { effectiveLimits } from '../../src/thermal/limits.js';
import { reply } from '../fixtures/miners/replies.js';

/** A stock Antminer on the new_api `stats` schema, three chains with these sensor lists. */
function newApi(type: string, pcb: unknown[], chip: unknown[]) {
  const chain = (index: number) => ({
    index,
    asic_num: 91,
    rate_real: 90000,
    rate_ideal: 90000,
    freq_avg: 500,
    temp_pcb: pcb,
    temp_chip: chip,
    asic: ' oooo oooo',
  });
  return normalize({
    stats: reply('stats', {
      STATUS: { STATUS: 'S', when: 1, Msg: 'stats', api_version: '1.0.0' },
      INFO: { type, CompileTime: 'Fri Feb  2 10:00:00 CST 2024' },
      STATS: [
        {
          elapsed: 5000,
          rate_5s: 270000,
          rate_avg: 270000,
          rate_ideal: 270000,
          rate_unit: 'GH/s',
          fan_num: 4,
          fan: [4000, 4000, 4000, 4000],
          chain: [0, 1, 2].map(chain),
        },
      ],
    }),
  });
}

const judged = (s: ReturnType<typeof normalize>) => evaluateThermal(s, effectiveLimits(s));

describe('sensor sentinels on models outside the samples', () => {
  it('new_api chips at 65535 or 32767 (a 16-bit "no reading") are unread, not 65.5 °C milli-degrees', () => {
    for (const sentinel of [65535, 32767, '65535', 32768]) {
      const s = newApi('Antminer S21 XP', [0, 0, 0, 0], [sentinel, sentinel, sentinel, sentinel]);
      expect(s.boards.map((b) => b.temp_chip_c)).toEqual([null, null, null]);
      expect(judged(s).status).toBe('unknown');
    }
    // Real milli-degrees still read (Elphapex-style strings), hot ones judged so.
    const hot = newApi('Antminer S21 XP', [0, 0, 0, 0], ['112000', '113000', '65535', '110000']);
    expect(hot.boards.map((b) => b.temp_chip_c)).toEqual([113, 113, 113]);
    expect(judged(hot).status).toBe('critical');
  });
});
