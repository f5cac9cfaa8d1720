// Models that are not in the samples, written by hand with their own numbers: the parsers must
// generalize from the rules, not from the fixtures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../src/miners/normalize.js';
import { evaluateThermal } from '../../src/thermal/evaluate.js';
import { effectiveLimits } from '../../src/thermal/limits.js';
import { reply } from '../fixtures/miners/replies.js';
import { SAMPLES_DIR } from '../fixtures/miners/samples.js';

const status = { STATUS: [{ STATUS: 'S', Code: 70, Msg: 'CGMiner stats', Description: 'cgminer 1.0.0' }] };

/** A stock S19j Pro `stats` reply around `device`'s fields (STATS 0, ID BTM_SOC0 added), normalized. */
const stockS19jPro = (device: Record<string, unknown>) =>
  normalize({
    stats: reply('stats', {
      ...status,
      STATS: [
        { BMMiner: '1.0.0', Miner: '49.0.1.3', Type: 'Antminer S19j Pro' },
        { STATS: 0, ID: 'BTM_SOC0', ...device },
      ],
    }),
  });

describe('models outside the samples', () => {
  it('Antminer S19 XP: a board short of chips and a stopped fan among running ones', () => {
    const header = {
      BMMiner: '1.0.0',
      Miner: '49.0.1.3',
      CompileTime: 'Thu Mar  2 10:00:00 CST 2023',
      Type: 'Antminer S19 XP',
    };
    const device = {
      STATS: 0,
      ID: 'BTM_SOC0',
      Elapsed: 7200,
      'GHS 5s': 141000.5,
      'GHS av': 140500.25,
      rate_unit: 'GH',
      total_rateideal: 140000,
      fan_num: 4,
      fan1: 4800,
      fan2: 4860,
      fan3: 0,
      fan4: 4920,
      chain_acn1: 110,
      chain_acn2: 108,
      chain_acn3: 110,
      chain_acn4: 0,
      chain_rate1: '47100.10',
      chain_rate2: '46400.20',
      chain_rate3: '47500.20',
      chain_rate4: '',
      temp1: 61,
      temp2: 63,
      temp3: 60,
      temp2_1: 76,
      temp2_2: 79,
      temp2_3: 75,
      freq1: 480,
      freq2: 480,
      freq3: 485,
    };
    const s = normalize({
      stats: reply('stats', { ...status, STATS: [header, device] }),
      version: reply('version', { VERSION: [{ ...header, API: '3.1' }] }),
    });
    expect([s.make, s.model, s.firmware.version, s.algorithm]).toEqual([
      'Antminer',
      'S19 XP',
      '2023-03-02',
      'sha256d',
    ]);
    expect(s.hashrate.current_hs).toBe(141000.5e9);
    expect(s.hashrate.nominal_hs).toBe(140000e9);
    expect(s.boards.map((b) => [b.index, b.chips, b.chips_expected, b.status])).toEqual([
      [1, 110, 110, 'ok'],
      [2, 108, 110, 'degraded'],
      [3, 110, 110, 'ok'],
    ]);
    expect(s.fans).toEqual([
      { index: 1, rpm: 4800 },
      { index: 2, rpm: 4860 },
      { index: 3, rpm: 0 },
      { index: 4, rpm: 4920 },
    ]);
    expect([s.temp_max_chip_c, s.temp_max_board_c, s.uptime_s]).toEqual([79, 63, 7200]);
  });

  it('Antminer L7: GHS fields are MH/s on a scrypt model', () => {
    const s = normalize({
      stats: reply('stats', {
        STATS: [
          { CGMiner: '4.9.0', Type: 'Antminer L7', CompileTime: 'Mon Jan 10 10:00:00 CST 2022' },
          {
            ID: 'L70',
            'GHS 5s': '9512.30',
            'GHS av': 9480.0,
            chain_acn1: 120,
            chain_rate1: '3170.77',
            chain_acn2: 120,
            chain_rate2: '3170.77',
            chain_acn3: 120,
            chain_rate3: '3170.76',
          },
        ],
      }),
    });
    expect(s.algorithm).toBe('scrypt');
    expect(s.hashrate.current_hs).toBe(9512.3e6);
    expect(s.boards[0]?.hashrate_hs).toBe(3170.77e6);
    expect(s.boards.every((b) => b.chips_expected === 120 && b.status === 'ok')).toBe(true);
  });

  it('Whatsminer M50S on API 2.0.5: model from devdetails, errors from get_error_code', () => {
    const s = normalize({
      summary: reply('summary', {
        SUMMARY: [
          {
            Elapsed: 86400,
            'MHS av': 126500000.5,
            'MHS 5s': 131000000.0,
            'HS RT': 127000000.25,
            'Factory GHS': 128000,
            Power_RT: 3300,
            'Env Temp': 31.5,
            'Chip Temp Max': 88.5,
            'Fan Speed In': 6120,
            'Fan Speed Out': 6090,
            'Liquid Cooling': false,
            Accepted: 9000,
            Rejected: 4,
          },
        ],
      }),
      devdetails: reply('devdetails', { DEVDETAILS: [{ DEVDETAILS: 0, Name: 'SM', Model: 'M50S_VH30' }] }),
      edevs: reply('edevs', {
        DEVS: [0, 1, 2].map((slot) => ({
          ASC: slot,
          Slot: slot,
          'MHS 5s': 42000000 + slot,
          'Effective Chips': 148,
          Temperature: 70 + slot,
          'Chip Temp Max': 86 + slot,
          'Chip Frequency': 560,
        })),
      }),
      get_version: reply('get_version', {
        STATUS: 'S',
        Code: 131,
        Msg: { api_ver: '2.0.5', fw_ver: '20240612.18.REL' },
      }),
      status: reply('status', { STATUS: 'S', Code: 131, Msg: { mineroff: 'false' } }),
      get_error_code: reply('get_error_code', {
        STATUS: 'S',
        Code: 131,
        Msg: { error_code: [{ '2010': '2024-06-15 10:30:00' }] },
      }),
    });
    expect([s.make, s.model, s.firmware.version]).toEqual(['Whatsminer', 'M50S VH30', '20240612.18.REL']);
    expect(s.hashrate.current_hs).toBe(127000000.25e6);
    expect(s.hashrate.nominal_hs).toBe(128000e9);
    expect(s.boards.map((b) => b.chips)).toEqual([148, 148, 148]);
    expect([s.temp_max_chip_c, s.temp_max_board_c, s.temp_inlet_c]).toEqual([88.5, 72, 31.5]);
    expect(s.efficiency_j_per_th).toBeCloseTo(3300 / 127.00000025, 2);
    expect(s.errors).toEqual([{ code: 2010, message: 'Whatsminer error code 2010' }]);
    expect([s.state, s.cooling]).toEqual(['mining', 'air']);
  });

  it("Whatsminer hydro: stopped fans are not an alarm, and the room's air is not the water inlet", () => {
    const s = normalize({
      summary: reply('summary', {
        SUMMARY: [
          {
            'MHS 5s': 250e6,
            'Fan Speed In': 0,
            'Fan Speed Out': 0,
            'Liquid Cooling': true,
            'Power Mode': 'Normal',
            'Env Temp': 15,
          },
        ],
      }),
    });
    expect([s.make, s.cooling, s.fans]).toEqual(['Whatsminer', 'hydro', []]);
    // The room's 15 °C air is not the water inlet: judged as one, it was critical (water below 20).
    expect(s.temp_inlet_c).toBeNull();
    expect(evaluateThermal(s, effectiveLimits(s)).reasons.map((r) => r.metric)).not.toContain('inlet_low');
  });

  it('Avalon 1366: per-board MGHS, wall power, inlet', () => {
    const mm =
      'Ver[1366-88-22031501_aaaaaaa_bbbbbbb] DNA[0201] SYSTEMSTATU[Work: In Work, Hash Board: 3 ] Elapsed[5000] ' +
      'Temp[24] TMax[81] TAvg[70] Fan1[6100] Fan2[6050] Fan3[6000] Fan4[0] FanR[90%] PS[0 1200 1300 250 3100 1300 3300] ' +
      'WALLPOWER[3310] GHSspd[130500.00] GHSmm[132000.00] GHSavg[129900.00] Freq[550.00] MGHS[43000.00 43600.00 43300.00] ' +
      'MTmax[80 81 79] MTavg[70 71 69] ECHU[0 512 0] ECMM[0] PVT_T0[ 70  71] PVT_T1[ 72  81] PVT_T2[ 69  79]';
    const s = normalize({
      stats: reply('stats', {
        STATS: [{ STATS: 0, ID: 'AVA100', Elapsed: 5000, 'MM ID0': mm, 'MM Count': 1 }],
      }),
    });
    expect([s.make, s.model, s.firmware.version]).toEqual(['Avalon', '1366', '88-22031501_aaaaaaa_bbbbbbb']);
    expect(s.hashrate).toEqual({ current_hs: 130500e9, average_hs: 129900e9, nominal_hs: 132000e9 });
    // MGHS (averages since boot, 129,900 GH/s in all) share out the current GHSspd; MTavg is a chip
    // average, so no board temperature is claimed.
    const share = 130500 / 129900;
    expect(s.boards.map((b) => [b.hashrate_hs, b.temp_chip_c, b.temp_board_c, b.chips])).toEqual([
      [Math.round(43000e9 * share), 80, null, 2],
      [Math.round(43600e9 * share), 81, null, 2],
      [Math.round(43300e9 * share), 79, null, 2],
    ]);
    // No fan count known for the 1366: its 0 beside turning fans is neither a fan nor dropped unsaid.
    expect(s.fans.map((f) => f.rpm)).toEqual([6100, 6050, 6000]);
    expect([s.power_w, s.temp_inlet_c, s.state]).toEqual([3310, 24, 'mining']);
    expect(s.errors).toEqual([
      { code: 512, message: 'Avalon module 0 hash board 1: ECHU error 512' },
      expect.objectContaining({ code: 'fan_unjudged', message: expect.stringContaining('Fan4 at 0 rpm') }),
    ]);
  });

  it('Avalon idle: boards read 0 H/s now, not their average since boot; a Nano3s keeps its name', () => {
    const mm =
      'Ver[Nano3s-24081601_aaaaaaa] SYSTEMSTATU[Work: In Idle] Temp[22] TMax[40] GHSspd[0.00] GHSavg[6000.00] ' +
      'MGHS[6000.00] MTmax[40] MTavg[35]';
    const s = normalize({
      stats: reply('stats', { STATS: [{ STATS: 0, ID: 'AVA100', 'MM ID0': mm, 'MM Count': 1 }] }),
    });
    expect(s.model).toBe('Nano3s');
    expect(s.boards.map((b) => b.hashrate_hs)).toEqual([0]);
  });

  it('Avalon whose Temp reads the -273 sentinel: the inlet comes from ITemp, then HBITemp', () => {
    const inletOf = (fields: string) =>
      normalize({
        stats: reply('stats', {
          STATS: [
            {
              STATS: 0,
              ID: 'AVA100',
              'MM ID0': `Ver[1466-23100601_aaaaaaa] SYSTEMSTATU[Work: In Work] ${fields} TMax[80] GHSspd[150000.00] GHSavg[150000.00] MGHS[150000.00]`,
              'MM Count': 1,
            },
          ],
        }),
      }).temp_inlet_c;
    expect(inletOf('Temp[-273] ITemp[45]')).toBe(45);
    expect(inletOf('Temp[-273] ITemp[-273] HBITemp[38]')).toBe(38);
    expect(inletOf('Temp[24] ITemp[45]')).toBe(24);
    expect(inletOf('Temp[-273] ITemp[-273]')).toBeNull();
  });

  it('Braiins OS (BOSer) on an S19 XP: model from devdetails, chips, one fan stopped', () => {
    const s = normalize({
      version: reply('version', { VERSION: [{ API: '3.7', BOSer: 'boser-buildroot 0.1.0-5a2c2f5' }] }),
      devdetails: reply('devdetails', {
        DEVDETAILS: [1, 2, 3].map((id) => ({
          ID: id,
          Chips: id === 2 ? 109 : 110,
          Model: 'Bitmain S19XP',
          Frequency: 515,
        })),
      }),
      devs: reply('devs', {
        DEVS: [1, 2, 3].map((id) => ({
          ID: id,
          'MHS 5s': 46000000 + id,
          'MHS av': 45000000,
          'Nominal MHS': 47000000,
          Temperature: 0.0,
          Status: 'Alive',
        })),
      }),
      temps: reply('temps', { TEMPS: [1, 2, 3].map((id) => ({ ID: id, Board: 60 + id, Chip: 75 + id })) }),
      fans: reply('fans', {
        FANS: [0, 1, 2, 3].map((id) => ({ FAN: id, ID: id, RPM: id === 2 ? 0 : 4000, Speed: 60 })),
      }),
      summary: reply('summary', { SUMMARY: [{ 'MHS 5s': 138000006, 'MHS av': 135000000, Elapsed: 600 }] }),
    });
    expect([s.make, s.model, s.firmware.name, s.algorithm]).toEqual([
      'Antminer',
      'S19 XP',
      'Braiins OS',
      'sha256d',
    ]);
    expect(s.hashrate.nominal_hs).toBe(141000000e6);
    expect(s.boards.map((b) => [b.index, b.chips, b.status, b.temp_chip_c])).toEqual([
      [1, 110, 'ok', 76],
      [2, 109, 'degraded', 77],
      [3, 110, 'ok', 78],
    ]);
    expect(s.fans.filter((f) => f.rpm === 0).map((f) => f.index)).toEqual([2]);
  });

  it("Braiins OS on Braiins' own Mini Miner (BMM 100): make Braiins, not Antminer; its MH/s read as MH/s", () => {
    // Shapes: BOSer's cgminer API as asic-rs reads it (256foundation/asic-rs,
    // asic-rs-firmwares/braiins/src/firmware.rs: the model name is an Antminer one or a Braiins one,
    // "BRAIINS MINI MINER BMM 100"), the version reply of asic-rs-firmwares/braiins/src/test/json/
    // v25_05/version.json; one board, one fan, no power sensor.
    const s = normalize({
      version: reply('version', { VERSION: [{ API: '3.7', BOSer: 'boser-openwrt 0.1.0-8b1c2d3e' }] }),
      devdetails: reply('devdetails', {
        DEVDETAILS: [
          { DEVDETAILS: 0, ID: 0, Model: 'Braiins Mini Miner BMM 100', Chips: 12, Frequency: 480 },
        ],
      }),
      devs: reply('devs', {
        DEVS: [{ ID: 0, 'MHS 5s': 1032000.5, 'MHS av': 1018000, 'Nominal MHS': 1100000, Status: 'Alive' }],
      }),
      temps: reply('temps', { TEMPS: [{ ID: 0, Board: 48, Chip: 61 }] }),
      fans: reply('fans', { FANS: [{ FAN: 0, ID: 0, RPM: 2480, Speed: 35 }] }),
      summary: reply('summary', { SUMMARY: [{ 'MHS 5s': 1032000.5, 'MHS av': 1018000, Elapsed: 3600 }] }),
    });
    expect([s.make, s.model, s.firmware.name, s.algorithm]).toEqual([
      'Braiins',
      'Mini Miner BMM 100',
      'Braiins OS',
      'sha256d',
    ]);
    expect(s.hashrate.current_hs).toBe(1032000500000);
    expect(s.hashrate.nominal_hs).toBe(1.1e12);
    expect(s.boards.map((b) => [b.index, b.chips, b.temp_chip_c, b.status])).toEqual([[0, 12, 61, 'ok']]);
    expect(s.power_w).toBeNull();
  });

  it('Goldshell (bfgminer, intchains_qomo): tstemp-2 is the board, tstemp-0/1 the chips, fanN its fans', () => {
    // Field names and meanings from asic-rs (256foundation/asic-rs, asic-rs-firmwares/goldshell/
    // tests/fixtures/README.md and rpc_contract.json; src/backends/v1/mod.rs): `MHS 20s` in MH/s,
    // DEVS `tstemp-2` the PCB and `tstemp-0`/`tstemp-1` chip channels, the miner's `fanN` RPM
    // repeated in every device record. Values are an SC5 Pro's order of magnitude, written here.
    const dev = (id: number, mhs: number, chips: [number, number], board: number, fan1: number) => ({
      PGA: id,
      ID: id,
      Name: 'INCS',
      Enabled: 'Y',
      Status: 'Alive',
      'MHS av': mhs - 1000,
      'MHS 20s': mhs,
      'tstemp-0': chips[0],
      'tstemp-1': chips[1],
      'tstemp-2': board,
      fan0: 3120,
      fan1,
    });
    const s = normalize({
      summary: reply('summary', { SUMMARY: [{ Elapsed: 86400, 'MHS 20s': 5502000, 'MHS av': 5499000 }] }),
      devs: reply('devs', {
        DEVS: [
          dev(0, 1834000, [68, 72], 55, 3090),
          dev(1, 1830000, [70, 74.5], 57, 3060),
          dev(2, 1838000, [67, 71], 54, 3090),
        ],
      }),
      stats: reply('stats', { STATS: [{}, { fan0: 3120, fan1: 3090 }] }),
    });
    expect(s.hashrate.current_hs).toBe(5502000e6);
    expect(s.boards.map((b) => [b.index, b.hashrate_hs, b.temp_board_c, b.temp_chip_c])).toEqual([
      [0, 1834000e6, 55, 72],
      [1, 1830000e6, 57, 74.5],
      [2, 1838000e6, 54, 71],
    ]);
    expect([s.temp_max_board_c, s.temp_max_chip_c]).toEqual([57, 74.5]);
    expect(s.fans).toEqual([
      { index: 0, rpm: 3120 },
      { index: 1, rpm: 3060 },
    ]);
    expect(s.cooling).toBe('air');
    // `INCS` is the short name of Goldshell's board driver (intchains_qomo): the make. Nothing names
    // the model or the coin (a Goldshell box is multi-algorithm): not guessed.
    expect([s.make, s.model, s.algorithm]).toEqual(['Goldshell', null, 'unknown']);
  });

  it("Goldshell: each board's chip count is its devdetails chips-nr, matched by ID", () => {
    // bfgminer's intchains_qomo driver counts the chips it found per device (`chips_nr`); devdetails
    // carries it as `chips-nr`, read per board ID as asic-rs does (working chips). Values written here.
    const dev = (id: number, mhs: number) => ({
      PGA: id,
      ID: id,
      Name: 'INCS',
      Status: 'Alive',
      'MHS 20s': mhs,
    });
    const s = normalize({
      summary: reply('summary', { SUMMARY: [{ Elapsed: 600, 'MHS 20s': 3_300_000, 'MHS av': 3_290_000 }] }),
      devs: reply('devs', { DEVS: [dev(0, 1_650_000), dev(1, 1_650_000), dev(2, 0)] }),
      devdetails: reply('devdetails', {
        DEVDETAILS: [
          { DEVDETAILS: 0, Name: 'INCS', ID: 2, Driver: 'intchains_qomo', 'chips-nr': 0 },
          { DEVDETAILS: 1, Name: 'INCS', ID: 0, Driver: 'intchains_qomo', 'chips-nr': 46 },
          { DEVDETAILS: 2, Name: 'INCS', ID: 1, Driver: 'intchains_qomo', 'chips-nr': 45 },
        ],
      }),
    });
    expect(s.boards.map((b) => [b.index, b.chips, b.status])).toEqual([
      [0, 46, 'ok'],
      [1, 45, 'ok'],
      [2, 0, 'dead'],
    ]);
  });

  it("names the stopped fan by its slot in the model's block (S9 fans 5-6, S19 fans 1-4)", () => {
    const fansOf = (type: string, rpms: number[]) =>
      normalize({
        stats: reply('stats', {
          STATS: [
            { BMMiner: '2.0.0', Miner: '16.8.1.3', Type: type },
            {
              STATS: 0,
              ID: 'BC50',
              'GHS 5s': 13500,
              fan_num: rpms.filter((r) => r > 0).length,
              ...Object.fromEntries(rpms.map((rpm, i) => [`fan${i + 1}`, rpm])),
            },
          ],
        }),
      }).fans.map((f) => [f.index, f.rpm]);
    expect(fansOf('Antminer S9', [0, 0, 0, 0, 5400, 0, 0, 0])).toEqual([
      [5, 5400],
      [6, 0],
    ]);
    expect(fansOf('Antminer S9', [0, 0, 0, 0, 0, 5880, 0, 0])).toEqual([
      [5, 0],
      [6, 5880],
    ]);
    expect(fansOf('Antminer S19', [0, 5160, 5070, 5040, 0, 0, 0, 0])).toEqual([
      [1, 0],
      [2, 5160],
      [3, 5070],
      [4, 5040],
    ]);
  });

  it('every fan at 0 rpm while the boards hash is a stopped fan set, judged critical on air; asleep it is no fans', () => {
    const s19jPro = (ghs: number, extra: Record<string, unknown> = {}) =>
      stockS19jPro({
        'GHS 5s': ghs,
        'GHS av': ghs,
        rate_unit: 'GH',
        fan_num: 4,
        fan1: 0,
        fan2: 0,
        fan3: 0,
        fan4: 0,
        chain_acn1: 126,
        chain_rate1: String(ghs),
        temp2_1: 72,
        temp1: 60,
        ...extra,
      });
    const hashing = s19jPro(102_000);
    expect(hashing.fans).toEqual([1, 2, 3, 4].map((index) => ({ index, rpm: 0 })));
    const evaluation = evaluateThermal(hashing, effectiveLimits(hashing));
    expect(evaluation.status).toBe('critical');
    expect(evaluation.reasons[0]?.metric).toBe('fans_failed');
    // Not hashing (stopped, or asleep): no fan to judge, as before.
    expect(s19jPro(0).fans).toEqual([]);
    // Immersion is told by configuration: tagged, the same readings are not a fan alarm.
    const immersion = effectiveLimits(hashing, { sites: { tank: { cooling: 'immersion' } } }, 'tank');
    expect(evaluateThermal(hashing, immersion).status).toBe('ok');
  });

  it('a chip or board reading of -1 is an unread sensor, not -1 °C; an inlet at -1 °C is weather', () => {
    const s = stockS19jPro({
      'GHS 5s': 68_000,
      rate_unit: 'GH',
      fan_num: 4,
      fan1: 5400,
      fan2: 5400,
      fan3: 5400,
      fan4: 5400,
      chain_acn1: 126,
      chain_acn2: 126,
      chain_rate1: '34000',
      chain_rate2: '34000',
      temp_chip1: '-1--1--1--1',
      temp_pcb1: '-1--1--1--1',
      temp_chip2: '255-255-255-255',
      temp_pcb2: '0-0-0-0',
    });
    expect([s.temp_max_chip_c, s.temp_max_board_c]).toEqual([null, null]);
    expect(s.boards.map((b) => [b.temp_chip_c, b.temp_board_c])).toEqual([
      [null, null],
      [null, null],
    ]);
    expect(evaluateThermal(s, effectiveLimits(s)).status).toBe('unknown');
    const whatsminer = normalize({
      summary: reply('summary', {
        STATUS: [{ STATUS: 'S', Msg: 'Summary' }],
        SUMMARY: [
          {
            'MHS 5s': 100_000_000,
            'HS RT': 100_000_000,
            'Env Temp': -1,
            Temperature: -1,
            'Chip Temp Max': -1,
            'Fan Speed In': 6000,
            'Fan Speed Out': 6000,
          },
        ],
      }),
      devdetails: reply('devdetails', { DEVDETAILS: [{ DEVDETAILS: 0, Name: 'SM', Model: 'M30S+_VE40' }] }),
    });
    expect(whatsminer.make).toBe('Whatsminer');
    expect([whatsminer.temp_inlet_c, whatsminer.temp_max_board_c, whatsminer.temp_max_chip_c]).toEqual([
      -1,
      null,
      null,
    ]);
  });

  it('rates written with their own unit ("102.23 TH/s") are read in that unit, totals and chains', () => {
    const s = stockS19jPro({
      'GHS 5s': '102.23 TH/s',
      'GHS av': '101900 GH/s',
      rate_unit: 'GH',
      chain_acn1: 126,
      chain_acn2: 126,
      chain_rate1: '51.1 TH/s',
      chain_rate2: '51130.0 GH/s',
      temp2_1: 70,
    });
    expect(s.hashrate.current_hs).toBeCloseTo(102.23e12, -6);
    expect(s.hashrate.average_hs).toBeCloseTo(101.9e12, -6);
    expect(s.boards.map((b) => Math.round((b.hashrate_hs ?? 0) / 1e9))).toEqual([51_100, 51_130]);
    expect(s.state).toBe('mining');
  });

  it('Elphapex DG1+ (Bitmain-style new_api): its own make, scrypt, lower-case pools, milli-degree chips', () => {
    const s = normalize({
      stats: reply('stats', {
        STATUS: { STATUS: 'S', when: 2557700, api_version: '1.0.0', Msg: 'stats' },
        INFO: { miner_version: 'DG1+_SW_V1.0.2', CompileTime: '', type: 'DG1+', hw_version: 'DG1+_HW_V1.0' },
        STATS: [
          {
            rate_unit: 'MH/s',
            elapsed: 3600,
            rate_5s: 14100.5,
            rate_30m: 14050,
            rate_ideal: 14229,
            fan_num: 4,
            fan: [4100, 4080, 4120, 4090],
            chain: [
              {
                index: 0,
                freq_avg: 62000,
                rate_real: 3525.1,
                asic_num: 44,
                temp_pcb: [47, 46, 67, 66],
                temp_chip: ['47125', '50500', '', ''],
              },
              {
                index: 1,
                freq_avg: 62000,
                rate_real: 3525.1,
                asic_num: 44,
                temp_pcb: [48, 47, 66, 65],
                temp_chip: ['48000', '51250', '', ''],
              },
            ],
          },
        ],
      }),
      pools: reply('pools', {
        STATUS: { STATUS: 'S', Msg: 'pools' },
        POOLS: [
          {
            index: 0,
            url: 'stratum+tcp://ltc.example.org:3333',
            user: 'farm.dg1',
            status: 'Alive',
            priority: 0,
            accepted: 10,
            rejected: 1,
          },
          {
            index: 1,
            url: 'stratum+tcp://backup.example.org:3333',
            user: 'farm.dg1',
            status: 'Alive',
            priority: 1,
          },
        ],
      }),
    });
    expect([s.make, s.model, s.algorithm, s.firmware.name]).toEqual([
      'Elphapex',
      'DG1+',
      'scrypt',
      'Elphapex',
    ]);
    expect(s.hashrate.current_hs).toBeCloseTo(14100.5e6, 0);
    expect(s.pools.map((p) => [p.url, p.user, p.active])).toEqual([
      ['stratum+tcp://ltc.example.org:3333', 'farm.dg1', true],
      ['stratum+tcp://backup.example.org:3333', 'farm.dg1', false],
    ]);
    expect(s.boards.map((b) => b.temp_chip_c)).toEqual([50.5, 51.25]);
    // 62000 is no ASIC's MHz: not believed, rather than shown as 62 GHz.
    expect(s.boards.every((b) => b.frequency_mhz === null)).toBe(true);
  });

  it('Elphapex DG2 (a model the table does not list) is still scrypt: every Elphapex is', () => {
    // Elphapex builds Scrypt (LTC/DOGE) machines only: DG1, DG1+, DG Home 1 (pyasic's models), DG2 at
    // ~17 GH/s listed among Scrypt ASICs beside the L9. Values written here.
    const s = normalize({
      stats: reply('stats', {
        STATUS: { STATUS: 'S', when: 1000, api_version: '1.0.0', Msg: 'stats' },
        INFO: { miner_version: 'DG2_SW_V1.0.0', CompileTime: '', type: 'DG2', hw_version: 'DG2_HW_V1.0' },
        STATS: [
          {
            rate_unit: 'MH/s',
            elapsed: 7200,
            rate_5s: 17012.5,
            rate_avg: 16980.25,
            chain: [0, 1, 2, 3].map((index) => ({ index, rate_real: 4253.1, asic_num: 44 })),
          },
        ],
      }),
    });
    expect([s.make, s.model, s.algorithm]).toEqual(['Elphapex', 'DG2', 'scrypt']);
    expect(s.hashrate.current_hs).toBeCloseTo(17012.5e6, 0);
  });

  it("Auradine: the summary's Wattage is its power and ThsThrottle (TH/s) its nominal rate", () => {
    // GCMiner's RPC summary carries `Wattage` (W, a number or "3650 W") and `ThsThrottle`, the rate it
    // is tuned to in TH/s (asic-rs auradine v1: wattage and expected hashrate from SUMMARY/0). Written here.
    const gc = { STATUS: [{ STATUS: 'S', Code: 11, Msg: 'Summary', Description: 'GCMiner-2024-01.10' }] };
    const at = (wattage: unknown) =>
      normalize({
        version: reply('version', {
          STATUS: [{ STATUS: 'S', Code: 22, Msg: 'GCMiner versions', Description: 'GCMiner-0.5' }],
          VERSION: [{ GCMiner: '0.5', API: '1.0' }],
        }),
        summary: reply('summary', {
          ...gc,
          SUMMARY: [
            {
              Elapsed: 7200,
              'MHS av': 255_000_000,
              'MHS 5s': 256_000_000,
              Wattage: wattage,
              ThsThrottle: 260,
            },
          ],
        }),
      });
    const s = at(3650.5);
    expect([s.make, s.power_w, s.hashrate.nominal_hs]).toEqual(['Auradine', 3650.5, 260e12]);
    expect(s.efficiency_j_per_th).toBeCloseTo(3650.5 / 256, 2);
    expect(at('3650 W').power_w).toBe(3650);
    expect(at('3.65 kW').power_w).toBeNull();
  });

  it("Goldshell's KDA build named by its VERSION key (KDAMiner) is a Goldshell, as audit calls it", () => {
    // pyasic (and hashctl's audit) classify a reply naming KDAMINER as Goldshell. Values written here.
    const s = normalize({
      version: reply('version', {
        STATUS: [{ STATUS: 'S', Code: 22, Msg: 'KDAMiner versions', Description: 'kdaminer 1.0' }],
        VERSION: [{ KDAMiner: '1.0', API: '3.1' }],
      }),
    });
    expect([s.make, s.model, s.algorithm, s.firmware]).toEqual([
      'Goldshell',
      null,
      'unknown',
      { name: 'KDAMiner', version: '1.0' },
    ]);
  });

  it('a firmware named only by its VERSION key (Auradine GCMiner, Foundry BCFMiner) is named', () => {
    const auradine = normalize({
      version: reply('version', {
        STATUS: [{ STATUS: 'S', Code: 22, Msg: 'GCMiner versions', Description: 'GCMiner-0.5' }],
        VERSION: [{ GCMiner: '0.5', API: '1.0' }],
      }),
    });
    expect([auradine.make, auradine.firmware]).toEqual(['Auradine', { name: 'GCMiner', version: '0.5' }]);
    const fdminer = normalize({
      version: reply('version', {
        STATUS: [{ STATUS: 'S', Code: 22, Msg: 'BCFMiner Stats', Description: 'BCFMiner 2.4.2' }],
        VERSION: [
          {
            BCFMiner: '2.4.2 Test2',
            API: '3.1',
            Miner: 'FCB V2.2',
            CompileTime: 'Wed Jun 12 02:16:32 CST 2024',
            Type: 'Antminer S19 XP',
          },
        ],
      }),
    });
    expect([fdminer.make, fdminer.model, fdminer.firmware]).toEqual([
      'Antminer',
      'S19 XP',
      { name: 'BCFMiner', version: '2.4.2 Test2' },
    ]);
  });

  it('a board that fell off (empty chain slot) is a dead board, not a two-board S19j Pro', () => {
    const s19jPro = (third: Record<string, unknown>, ghs = 68_000) =>
      stockS19jPro({
        'GHS 5s': ghs,
        rate_unit: 'GH',
        total_rateideal: 102_000,
        chain_acn1: 126,
        chain_acn2: 126,
        chain_rate1: String(ghs / 2),
        chain_rate2: String(ghs / 2),
        chain_acn4: 0,
        chain_rate4: '',
        ...third,
      });
    const lost = s19jPro({ chain_acn3: 0, chain_rate3: '' });
    expect(lost.boards.map((b) => [b.index, b.chips, b.chips_expected, b.status])).toEqual([
      [1, 126, 126, 'ok'],
      [2, 126, 126, 'ok'],
      [3, 0, 126, 'dead'],
    ]);
    // Three boards hashing with a spare fourth slot: nothing added.
    const whole = s19jPro({ chain_acn3: 126, chain_rate3: '34000' });
    expect(whole.boards.map((b) => b.index)).toEqual([1, 2, 3]);
    // Not hashing at all (asleep, stopped): the empty slots are not judged.
    expect(s19jPro({ chain_acn3: 0, chain_rate3: '' }, 0).boards.map((b) => b.index)).toEqual([1, 2]);
  });

  it('a Vnish state that names a fault is said as an error, not read as mining', () => {
    const file = (command: string) =>
      JSON.parse(
        readFileSync(join(SAMPLES_DIR, `vnish-s17plus_2.0.3__${command}.json`), 'utf8').replace(/\0$/, ''),
      );
    const withState = (state: string) => {
      const stats = file('stats');
      stats.STATS[1].state = state;
      return normalize({ stats: reply('stats', stats), version: reply('version', file('version')) });
    };
    expect(withState('mining').errors).toEqual([]);
    expect(withState('failure').errors).toContainEqual({ code: null, message: 'firmware state: failure' });
  });

  it('LuxOS with its first chain dead: every other board keeps its own chips and frequency', () => {
    const sample = (command: string) =>
      JSON.parse(
        readFileSync(join(SAMPLES_DIR, `luxos-s19kpro_2025.4.8__${command}.json`), 'utf8'),
      ) as Record<string, unknown>;
    const stats = sample('stats') as { STATS: Record<string, unknown>[] };
    const device = stats.STATS[1] as Record<string, unknown>;
    Object.assign(device, {
      chain_acn1: 0,
      chain_rate1: '0',
      chain_acn2: 75,
      chain_acs2: ` ${'oooo '.repeat(18)}xx o`,
      freq2: 310,
      freq3: 320,
    });
    const devs = sample('devs') as { DEVS: Record<string, unknown>[] };
    Object.assign(devs.DEVS.find((dev) => dev.ID === 0) as Record<string, unknown>, {
      Status: 'Dead',
      'MHS 5s': 0,
    });
    const s = normalize({
      version: reply('version', sample('version')),
      stats: reply('stats', stats),
      devs: reply('devs', devs),
      temps: reply('temps', sample('temps')),
    });
    expect(s.boards.map((b) => [b.index, b.chips, b.frequency_mhz, b.status])).toEqual([
      [0, 0, null, 'dead'], // chain_acn1: 0, kept by the missing-board rule
      [1, 75, 310, 'degraded'],
      [2, 77, 320, 'ok'],
    ]);
  });

  it("LuxOS on a hydro S21: no FANS section, labelled water sensors (the coolant's, not the board's), curtailed", () => {
    const s = normalize({
      version: reply('version', {
        VERSION: [{ API: '3.7', LUXminer: '2025.9.8.152528-e04420b4b', Type: 'Antminer S21 Hydro' }],
      }),
      config: reply('config', { CONFIG: [{ Cooling: 'Hydro', CurtailMode: 'Sleep' }] }),
      summary: reply('summary', { SUMMARY: [{ 'GHS 5s': 0, 'GHS av': 310000.5, Elapsed: 100 }] }),
      devs: reply('devs', {
        DEVS: [0, 1, 2].map((id) => ({ ID: id, 'MHS 5s': 0, 'Nominal MHS': 111000000, Temperature: 40 })),
      }),
      temps: reply('temps', {
        METADATA: [
          {
            // The label set thermal-facts §1 gives for LuxOS hydro.
            TopLeft: { Label: 'Board Inlet' },
            TopRight: { Label: 'Board Outlet' },
            BottomLeft: { Label: 'Water Inlet' },
            BottomRight: { Label: 'Water Outlet' },
          },
        ],
        TEMPS: [0, 1, 2].map((id) => ({
          ID: id,
          TopLeft: 48,
          TopRight: 55 + id,
          BottomLeft: 30,
          BottomRight: 38 + id,
        })),
      }),
    });
    expect([s.model, s.firmware.name, s.cooling, s.state, s.fans]).toEqual([
      'S21 Hydro',
      'LuxOS',
      'hydro',
      'sleeping',
      [],
    ]);
    // Water inlet and outlet judge the loop; the board's own inlet/outlet corners are board temperatures.
    expect(s.boards.map((b) => [b.temp_inlet_c, b.temp_outlet_c, b.temp_board_c, b.status])).toEqual([
      [30, 38, 55, 'unknown'],
      [30, 39, 56, 'unknown'],
      [30, 40, 57, 'unknown'],
    ]);
    expect(s.hashrate.nominal_hs).toBe(333000000e6);
  });

  it('Antminer S21 Hyd. on the new_api schema: inlet and outlet from temp_pcb [0] and [2]', () => {
    const chain = (index: number) => ({
      index,
      asic_num: 108,
      rate_real: 111000 + index,
      rate_ideal: 110000,
      freq_avg: 500,
      temp_pcb: [35, 44, 46, 45],
      temp_chip: [55, 56, 60, 61],
      asic: ' oooo oooo',
    });
    const s = normalize({
      stats: reply('stats', {
        STATUS: { STATUS: 'S', when: 1, Msg: 'stats', api_version: '1.0.0' },
        INFO: { type: 'Antminer S21 Hyd.', CompileTime: 'Fri Feb  2 10:00:00 CST 2024' },
        STATS: [
          {
            elapsed: 900,
            rate_5s: 333000.5,
            rate_avg: 332000,
            rate_ideal: 330000,
            rate_unit: 'GH/s',
            fan_num: 0,
            fan: [0, 0, 0, 0],
            watt: 5300,
            chain: [0, 1, 2].map(chain),
          },
        ],
      }),
    });
    expect([s.model, s.cooling, s.fans, s.power_w]).toEqual(['S21 Hyd.', 'hydro', [], 5300]);
    expect(s.boards.map((b) => [b.temp_inlet_c, b.temp_outlet_c])).toEqual([
      [35, 46],
      [35, 46],
      [35, 46],
    ]);
    expect(s.efficiency_j_per_th).toBeCloseTo(5300 / 333.0005, 2);
  });

  it("Bitmain's other coins (KS5, HS3, KA3, K7): each its own algorithm, GH/s rates, the model's chips", () => {
    // KS5 stock (2024) on the new_api schema, as pyasic issue #271 shows one: three boards of 92 chips
    // at rate_real ≈ 6.5 TH/s, four fans. Board 2 here lost twelve chips.
    const chain = (index: number, chips: number, rate: number) => ({
      index,
      asic_num: chips,
      rate_real: rate,
      freq_avg: 700,
      temp_pcb: [48, 50, 51, 50],
      temp_chip: [70, 71, 72, 71],
      asic: ' oooo oooo',
    });
    const ks5 = normalize({
      stats: reply('stats', {
        STATUS: { STATUS: 'S', when: 1, Msg: 'stats', api_version: '3.1' },
        INFO: { type: 'Antminer KS5', CompileTime: 'Sat Jul 27 15:33:14 CST 2024' },
        STATS: [
          {
            elapsed: 3600,
            rate_5s: 19912.8,
            rate_avg: 19900,
            rate_ideal: 20000,
            rate_unit: 'GH/s',
            fan_num: 4,
            fan: [2470, 2470, 2500, 2540],
            chain: [chain(0, 92, 6528.19), chain(1, 92, 6665.46), chain(2, 80, 6719.21)],
          },
        ],
      }),
    });
    expect([ks5.make, ks5.model, ks5.algorithm, ks5.firmware.version]).toEqual([
      'Antminer',
      'KS5',
      'kheavyhash',
      '2024-07-27',
    ]);
    expect(ks5.hashrate.current_hs).toBeCloseTo(19.9128e12, -6);
    expect(ks5.boards.map((b) => [b.chips, b.chips_expected, b.status])).toEqual([
      [92, 92, 'ok'],
      [92, 92, 'ok'],
      [80, 92, 'degraded'],
    ]);
    expect(ks5.efficiency_j_per_th).toBeNull();

    // Classic stats of the others: no rate_unit, GHS fields in GH/s.
    const classic = (type: string, ghs: number) =>
      normalize({
        stats: reply('stats', {
          ...status,
          STATS: [
            { BMMiner: '1.0.0', Miner: '1.0.0', Type: type },
            {
              STATS: 0,
              ID: 'BTM_SOC0',
              Elapsed: 600,
              'GHS 5s': ghs,
              'GHS av': ghs,
              chain_acn1: 92,
              chain_rate1: String(ghs / 3),
              chain_acn2: 92,
              chain_rate2: String(ghs / 3),
              chain_acn3: 92,
              chain_rate3: String(ghs / 3),
            },
          ],
        }),
      });
    const rows = [
      classic('Antminer HS3', 9000),
      classic('Antminer KA3', 166000),
      classic('Antminer K7', 63500),
      classic('Antminer KS3', 9400),
    ].map((s) => [s.model, s.algorithm, s.hashrate.current_hs, s.boards[0]?.chips_expected]);
    expect(rows).toEqual([
      ['HS3', 'handshake', 9000e9, 92],
      ['KA3', 'blake2s', 166000e9, 92],
      ['K7', 'eaglesong', 63500e9, 92],
      ['KS3', 'kheavyhash', 9400e9, 92],
    ]);
  });

  it("a hydro Antminer has its own boards, not its air model's: no phantom dead board, its own chip count", () => {
    // pyasic's tables: S21 Hyd. two boards of 216 chips, S19 Pro Hyd. four of 180. Read as their air
    // models (three of 108, three of 114), the S21 Hyd.'s spare slot 3 became a dead board.
    const hydro = (type: string, chips: number[], spare: number[]) => {
      const device: Record<string, unknown> = { STATS: 0, ID: 'BTM_SOC0', Elapsed: 3600, rate_unit: 'GH' };
      let total = 0;
      chips.forEach((n, i) => {
        device[`chain_acn${i + 1}`] = n;
        device[`chain_rate${i + 1}`] = String(n * 700);
        device[`temp_pcb${i + 1}`] = '30-38-40-39';
        device[`temp_chip${i + 1}`] = '50-58-60-59';
        total += n * 700;
      });
      for (const n of spare) {
        device[`chain_acn${n}`] = 0;
        device[`chain_rate${n}`] = '';
      }
      device['GHS 5s'] = total;
      device['GHS av'] = total;
      return normalize({
        stats: reply('stats', {
          ...status,
          STATS: [{ BMMiner: '1.0.0', Miner: '1.0.0', Type: type }, device],
        }),
      });
    };
    const s21 = hydro('Antminer S21 Hyd.', [216, 216], [3, 4]);
    expect(s21.boards.map((b) => [b.index, b.chips, b.chips_expected, b.status])).toEqual([
      [1, 216, 216, 'ok'],
      [2, 216, 216, 'ok'],
    ]);
    expect([s21.cooling, s21.fans]).toEqual(['hydro', []]);
    const s19 = hydro('Antminer S19 Pro Hydro', [180, 180, 180, 170], []);
    expect(s19.boards.map((b) => [b.chips_expected, b.status])).toEqual([
      [180, 'ok'],
      [180, 'ok'],
      [180, 'ok'],
      [180, 'degraded'],
    ]);
  });
});

describe('state, when the firmware does not say', () => {
  it('is what the miner does now: 0 H/s now with an average since boot is not mining', () => {
    const summary = (rates: Record<string, number>) =>
      normalize({
        summary: reply('summary', {
          STATUS: [{ STATUS: 'S', Code: 11, Msg: 'Summary', Description: 'cgminer 4.11.1' }],
          SUMMARY: [{ Elapsed: 7200, ...rates }],
        }),
      });
    expect(summary({ 'MHS 5s': 0, 'MHS av': 13_500_000 }).state).toBe('unknown');
    expect(summary({ 'MHS 5s': 13_400_000, 'MHS av': 13_500_000 }).state).toBe('mining');
    // No current window at all: the average is all there is.
    expect(summary({ 'MHS av': 13_500_000 }).state).toBe('mining');
  });
});
