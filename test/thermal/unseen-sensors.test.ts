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

/** An Avalon A1466 (MM ID string) whose module reads `mm`. */
function avalon1466(mm: string) {
  return normalize({
    version: reply('version', {
      VERSION: [{ CGMiner: '4.11.1', API: '3.7', PROD: 'AvalonMiner 1466', MODEL: '1466' }],
    }),
    summary: reply('summary', { SUMMARY: [{ Elapsed: 5000, 'MHS 5s': 150e6, 'MHS av': 150e6 }] }),
    stats: reply('stats', { STATS: [{ STATS: 0, ID: 'AVA100', Elapsed: 5000, 'MM ID0': mm }] }),
  });
}

/** A Whatsminer M60S (not in the samples) whose every board and chip sensor reads 0. */
function m60sDeadSensors(envTemp: number) {
  const dev = (i: number) => ({
    ASC: i,
    Slot: i,
    Status: 'Alive',
    'MHS 5s': 40e6,
    'MHS av': 40e6,
    Temperature: 0,
    'Chip Temp Max': 0,
  });
  return normalize({
    summary: reply('summary', {
      STATUS: [{ STATUS: 'S', Code: 11, Msg: 'Summary', Description: 'btminer' }],
      SUMMARY: [
        {
          Elapsed: 5000,
          'MHS 5s': 120e6,
          'HS RT': 120e6,
          'MHS av': 120e6,
          Temperature: 0,
          'Chip Temp Max': 0,
          'Env Temp': envTemp,
          'Fan Speed In': 5000,
          'Fan Speed Out': 5000,
        },
      ],
    }),
    edevs: reply('edevs', {
      STATUS: [{ STATUS: 'S', Code: 9, Msg: '3 ASC(s)', Description: 'btminer' }],
      DEVS: [0, 1, 2].map(dev),
    }),
  });
}

describe('a miner whose only reading is its inlet', () => {
  const mm = (temp: number, chips: string) =>
    `Ver[1466-24011101_1ac7a66] SYSTEMSTATU[Work: In Work, Hash Board: 3 ] Elapsed[5000] Temp[${temp}] ${chips} ` +
    'Fan1[6000] Fan2[6000] FanR[90%] GHSspd[150000] GHSmm[150000] GHSavg[150000] MGHS[50000 50000 50000] ECHU[0 0 0]';

  it('is unknown, not ok: its boards may be cooking behind sensors that read -273 or 0', () => {
    const avalon = avalon1466(mm(30, 'TMax[-273] TAvg[-273] MTmax[-273 -273 -273] MTavg[-273 -273 -273]'));
    expect(avalon.temp_inlet_c).toBe(30);
    const evaluation = judged(avalon);
    expect(evaluation.status).toBe('unknown');
    expect(evaluation.reasons.map((r) => r.message)).toEqual([
      'no board or chip temperature reading (inlet only)',
    ]);
    expect(judged(m60sDeadSensors(25)).status).toBe('unknown');
  });

  it('still says a hot room: an inlet past its limit is warn or critical whatever else is unread', () => {
    expect(judged(m60sDeadSensors(42)).status).toBe('critical');
    expect(judged(m60sDeadSensors(37)).status).toBe('warn');
    // And with its chips read, a cool Avalon is ok and a hot one critical, as before.
    expect(judged(avalon1466(mm(30, 'TMax[60] MTmax[60 59 58]'))).status).toBe('ok');
    expect(judged(avalon1466(mm(30, 'TMax[115] MTmax[115 112 111]'))).status).toBe('critical');
  });
});

describe('Antminer S21 hydro: the water sensors in temp_pcb are not the board', () => {
  it('board sensors unread while the water reads is unknown, not a 40 °C board', () => {
    const s = newApi('Antminer S21+ Hyd.', [30, 0, 40, 0], [0, 0, 0, 0]);
    expect(s.boards.map((b) => [b.temp_inlet_c, b.temp_board_c, b.temp_outlet_c])).toEqual([
      [30, null, 40],
      [30, null, 40],
      [30, null, 40],
    ]);
    expect(judged(s).status).toBe('unknown');
  });

  it('the board sensors [1] and [3] judge the board: hot is critical, cool is ok', () => {
    const hot = newApi('Antminer S21 XP Hyd.', [30, 85, 40, 84], [100, 101, 99, 98]);
    expect(hot.boards[0]?.temp_board_c).toBe(85);
    expect(judged(hot).status).toBe('critical');
    const cool = newApi('Antminer S21 XP Hyd.', [30, 45, 38, 44], [60, 60, 59, 59]);
    expect(cool.boards[0]?.temp_board_c).toBe(45);
    expect(judged(cool).status).toBe('ok');
  });
});

describe('sensor lists with a value that does not read', () => {
  it('S21 hydro: an unread board sensor keeps its place, so a hot board is not taken for the water outlet', () => {
    for (const pcb of [
      [30, null, 40, 85],
      [30, 'nan', 40, 85],
      [30, '', 40, '85 C'],
    ]) {
      const s = newApi('Antminer S21+ Hyd.', pcb, [0, 0, 0, 0]);
      expect(s.boards.map((b) => [b.temp_inlet_c, b.temp_board_c, b.temp_outlet_c])[0]).toEqual([30, 85, 40]);
      expect(judged(s).status).toBe('critical');
    }
  });

  it('temperatures written with their unit in new_api lists ("92 C") are read, not dropped', () => {
    const hot = newApi(
      'Antminer S21 XP',
      ['92 C', '93 C', '91 C', '90 C'],
      ['112 C', '113 C', '111 C', '110 C'],
    );
    expect([hot.boards[0]?.temp_board_c, hot.boards[0]?.temp_chip_c]).toEqual([93, 113]);
    expect(judged(hot).status).toBe('critical');
    const cool = newApi('Antminer S21 XP', ['45 °C', '45 °C', '44 °C', '44 °C'], ['60.5', '60', '59', '59']);
    expect([cool.boards[0]?.temp_board_c, cool.boards[0]?.temp_chip_c]).toEqual([45, 60.5]);
    expect(judged(cool).status).toBe('ok');
    // A Fahrenheit value is not misread as Celsius.
    expect(newApi('Antminer S21 XP', ['149 F'], ['180 F']).boards[0]?.temp_board_c).toBeNull();
  });
});

/** A Whatsminer M60S (not in the samples): boards at 60 °C, chips at 75 °C, Env Temp as given. */
function m60s(envTemp: unknown) {
  const dev = (i: number) => ({ ASC: i, Slot: i, 'MHS 5s': 40e6, Temperature: 60, 'Chip Temp Max': 75 });
  return normalize({
    summary: reply('summary', {
      STATUS: [{ STATUS: 'S', Code: 11, Msg: 'Summary', Description: 'btminer' }],
      SUMMARY: [
        {
          Elapsed: 5000,
          'MHS 5s': 120e6,
          'HS RT': 120e6,
          Temperature: 60,
          'Chip Temp Max': 75,
          'Env Temp': envTemp,
          'Fan Speed In': 5000,
          'Fan Speed Out': 5000,
        },
      ],
    }),
    edevs: reply('edevs', {
      STATUS: [{ STATUS: 'S', Code: 9, Msg: '3 ASC(s)', Description: 'btminer' }],
      DEVS: [0, 1, 2].map(dev),
    }),
  });
}

describe('an inlet no air or water can have', () => {
  it('is a sentinel, not a critical inlet that --protect pauses a cool miner for', () => {
    for (const sentinel of [127, 200, '127', 150.5]) {
      const s = m60s(sentinel);
      expect(s.temp_inlet_c).toBeNull();
      const evaluation = judged(s);
      expect([evaluation.status, evaluation.action]).toEqual(['ok', 'none']);
    }
    // A hot room is still one.
    const hot = judged(m60s(42));
    expect([hot.status, hot.action]).toEqual(['critical', 'pause']);
  });

  it('S21 hydro: a water inlet sensor at 127 is unread, while its board sensors still judge the board', () => {
    const s = newApi('Antminer S21+ Hyd.', [127, 60, 40, 61], [70, 71, 72, 73]);
    expect(s.boards.map((b) => [b.temp_inlet_c, b.temp_board_c])[0]).toEqual([null, 61]);
    expect(judged(s).status).toBe('ok');
  });
});

describe('new_api: a chain left out of the list', () => {
  it('is a dead board (warn) where the model or chain_num says three, not a miner with two boards that is ok', () => {
    const chain = (index: number) => ({
      index,
      asic_num: 108,
      rate_real: 90000,
      rate_ideal: 90000,
      temp_pcb: [50, 55, 52, 56],
      temp_chip: [65, 66, 67, 68],
    });
    const s21 = (type: string, extra: Record<string, unknown>) =>
      normalize({
        stats: reply('stats', {
          STATUS: { STATUS: 'S', when: 1, Msg: 'stats', api_version: '1.0.0' },
          INFO: { type },
          STATS: [
            {
              elapsed: 5000,
              rate_5s: 180000,
              rate_unit: 'GH/s',
              fan: [4000, 4000, 4000, 4000],
              chain: [chain(0), chain(2)],
              ...extra,
            },
          ],
        }),
      });
    // The S21 by the model table; an S21 XP (not in it) by its chain_num.
    for (const s of [s21('Antminer S21', {}), s21('Antminer S21 XP', { chain_num: 3 })]) {
      expect(s.boards.map((b) => [b.index, b.status, b.hashrate_hs])).toEqual([
        [0, 'ok', 90e12],
        [1, 'dead', 0],
        [2, 'ok', 90e12],
      ]);
      const evaluation = judged(s);
      expect([evaluation.status, evaluation.reasons[0]?.metric]).toEqual(['warn', 'boards_dead']);
    }
    // Nothing says how many there should be: the two listed are the miner.
    expect(s21('Antminer S21 XP', {}).boards).toHaveLength(2);
  });
});
