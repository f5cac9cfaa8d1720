// Firmwares and versions the samples do not hold, written by hand from their documented field sets
// and served by a real miner on 127.0.0.1: the whole read path (client, decoder, detection, dialect)
// must turn them into the right numbers, or into null where a figure cannot be read, never a
// plausible wrong one.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/cgminer/client.js';
import { createDialectCache, fetchSnapshot } from '../../src/miners/fetch.js';
import type { Snapshot } from '../../src/miners/types.js';
import { SAMPLES_DIR } from '../fixtures/miners/samples.js';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';

const sample = (file: string) => readFileSync(`${SAMPLES_DIR}${file}`, 'utf8');

/** A sample `stats` reply with its device record (STATS[1]) changed by `change`. */
function statsWith(file: string, change: (device: Record<string, unknown>) => void): string {
  const reply = JSON.parse(sample(file)) as { STATS: Record<string, unknown>[] };
  change(reply.STATS[1] as Record<string, unknown>);
  return JSON.stringify(reply);
}

let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
});

const invalid = JSON.stringify({
  STATUS: [{ STATUS: 'E', When: 1, Code: 14, Msg: 'Invalid command' }],
  id: 1,
});

/** `{"STATUS":[…],"SECTION":records,"id":1}` as `program` writes it. */
const section = (name: string, records: unknown, description = 'cgminer 4.11.1') =>
  JSON.stringify({
    STATUS: [{ STATUS: 'S', When: 1700000000, Code: 0, Msg: name, Description: description }],
    [name]: records,
    id: 1,
  });

/**
 * Serves `replies` (command → reply text) from a miner on 127.0.0.1 that joins cgminer-style and
 * answers any other command E/14, and reads it as collect does: one fetchSnapshot.
 */
async function poll(replies: Record<string, string>): Promise<Snapshot> {
  const [snapshot] = await polls(replies, 1);
  return snapshot!;
}

/** The same miner polled `count` times with one dialect cache, as cycles of one collect loop do. */
async function polls(replies: Record<string, string>, count: number): Promise<Snapshot[]> {
  const answer = (command: string) => replies[command] ?? invalid;
  const miner = await startFakeMiner((request) => {
    const parsed = JSON.parse(request) as { command?: string; cmd?: string };
    const command = parsed.command ?? parsed.cmd ?? '';
    if (!command.includes('+')) return { kind: 'reply', bytes: answer(command) };
    const members = command.split('+').map((name) => `"${name}":[${answer(name)}]`);
    return { kind: 'reply', bytes: `{${members.join(',')},"id":1}` };
  });
  miners.push(miner);
  const client = createClient({ timeoutMs: 3000, maxBytes: 1 << 20, retries: 0 });
  const cache = createDialectCache();
  const snapshots: Snapshot[] = [];
  for (let cycle = 0; cycle < count; cycle++)
    snapshots.push((await fetchSnapshot(client, miner.target, { cache })).snapshot);
  return snapshots;
}

describe('firmwares outside the samples, over TCP', () => {
  it('BOSminer: "Bitmain Antminer S9" is the S9, and its devdetails Frequency in Hz is read as MHz', async () => {
    const bos = 'BOSminer+ 0.2.0-ea64aec8e';
    const chains = [6, 7, 8];
    const snapshot = await poll({
      version: section('VERSION', [{ 'BOSminer+': '0.2.0-ea64aec8e', API: '3.7' }], bos),
      summary: section('SUMMARY', [{ Elapsed: 7200, 'MHS 5s': 13_650_000, 'MHS av': 13_600_000 }], bos),
      devs: section(
        'DEVS',
        chains.map((id, i) => ({ ASC: i, ID: id, Status: 'Alive', Temperature: 0, 'MHS 5s': 4_550_000 })),
        bos,
      ),
      devdetails: section(
        'DEVDETAILS',
        chains.map((id, i) => ({
          DEVDETAILS: i,
          ID: id,
          Chips: 63,
          Cores: 7182,
          Frequency: 799_682_118 + i,
          Model: 'Bitmain Antminer S9',
          Name: `Hash Chain ${id}`,
        })),
        bos,
      ),
      temps: section(
        'TEMPS',
        chains.map((id, i) => ({ TEMP: i, ID: id, Board: 70.5, Chip: 90.25 })),
        bos,
      ),
      fans: section(
        'FANS',
        [0, 1, 2, 3].map((id) => ({ FAN: id, ID: id, RPM: id === 0 ? 5340 : 0, Speed: 100 })),
        bos,
      ),
    });
    expect([snapshot.make, snapshot.model, snapshot.firmware.name]).toEqual([
      'Antminer',
      'S9',
      'Braiins OS+',
    ]);
    // Known as the S9: 63 chips a chain expected, and two fans, one of them stopped.
    expect(snapshot.boards.map((b) => [b.index, b.chips, b.chips_expected, b.frequency_mhz])).toEqual([
      [6, 63, 63, 799.68],
      [7, 63, 63, 799.68],
      [8, 63, 63, 799.68],
    ]);
    expect(snapshot.fans).toEqual([
      { index: 0, rpm: 5340 },
      { index: 1, rpm: 0 },
    ]);
  });

  it('MSKminer S19-88 asleep: its 0-based chain_opencore_ keys add no fourth board', async () => {
    const snapshot = await poll({
      version: sample('mskminer-s19-88_2.6.0.39__version.json'),
      stats: statsWith('mskminer-s19-88_2.6.0.39__stats.json', (device) => {
        // Asleep: no chip answers and nothing hashes, so only the bookkeeping keys name the chains.
        for (const n of [1, 2, 3]) Object.assign(device, { [`chain_acn${n}`]: 0, [`chain_rate${n}`]: 0 });
        Object.assign(device, { 'GHS 5s': 0, 'GHS av': 0 });
      }),
    });
    expect(snapshot.boards.map((b) => b.index)).toEqual([1, 2, 3]);
  });

  it('Vnish S17+ whose chain counts and rates read nan while it hashes: no board is made dead at 0 H/s', async () => {
    const stats = statsWith('vnish-s17plus_2.0.3__stats.json', (device) => {
      for (const n of [1, 2, 3])
        Object.assign(device, { [`chain_acn${n}`]: 'NAN', [`chain_rate${n}`]: 'NAN' });
    });
    const snapshot = await poll({
      version: sample('vnish-s17plus_2.0.3__version.json'),
      // printf's nan, unquoted, as cgminer writes a float it could not compute.
      stats: stats.replaceAll('"NAN"', 'nan'),
    });
    expect(snapshot.hashrate.current_hs).toBeGreaterThan(7e13);
    // Nothing says how these boards are: none is reported dead, with 0 chips, at 0 H/s.
    expect(
      snapshot.boards.filter((b) => b.status === 'dead' || b.hashrate_hs === 0 || b.chips === 0),
    ).toEqual([]);
  });

  it('an S19 Pro read without version and stats: its placeholder BTM_SOC device (0.0 MH/s) is no dead board', async () => {
    const files = 'antminer-s19pro_2022-12__';
    const snapshot = await poll({
      summary: sample(`${files}summary.json`),
      devs: sample(`${files}devs.json`),
      pools: sample(`${files}pools.json`),
    });
    expect(snapshot.hashrate.current_hs).toBe(110566890000000);
    expect(snapshot.boards.map((b) => [b.hashrate_hs, b.status])).toEqual([[null, 'unknown']]);
  });

  it('a power figure no single miner draws (milliwatts as watts) is dropped with an error, not summed into the farm', async () => {
    const reply = JSON.parse(sample('antminer-s21proplus_2026__stats_new-api.json')) as {
      STATS: Record<string, unknown>[];
    };
    (reply.STATS[0] as Record<string, unknown>).watt = 3_499_000;
    const snapshot = await poll({ stats: JSON.stringify(reply) });
    expect(snapshot.hashrate.current_hs).toBeGreaterThan(1e14);
    expect(snapshot.power_w).toBeNull();
    expect(snapshot.efficiency_j_per_th).toBeNull();
    expect(snapshot.errors).toContainEqual({
      code: 'implausible_power',
      message: 'reported power 3499000 W; ignored',
    });
  });

  it("unsigned -1 sentinels (65535) are no fan speed and no chip count: null with an error, never 'spinning'", async () => {
    const files = 'antminer-s19pro_2022-12__';
    const snapshot = await poll({
      version: sample(`${files}version.json`),
      stats: statsWith(`${files}stats.json`, (device) =>
        Object.assign(device, { fan1: 65535, chain_acn2: 65535 }),
      ),
    });
    expect(snapshot.fans.find((f) => f.index === 1)).toEqual({ index: 1, rpm: null });
    expect(snapshot.boards.find((b) => b.index === 2)?.chips).toBeNull();
    expect(snapshot.boards.find((b) => b.index === 1)?.chips).toBe(114);
    expect(snapshot.errors.map((e) => e.code)).toEqual(
      expect.arrayContaining(['implausible_fan', 'implausible_count']),
    );
  });

  it('sgminer on scrypt: rates labelled in kH/s (KHS av, KHS 5s) are read, the average too', async () => {
    const sg = 'sgminer 5.6.1';
    const snapshot = await poll({
      version: section('VERSION', [{ SGMiner: '5.6.1', API: '3.1' }], sg),
      summary: section('SUMMARY', [{ Elapsed: 3600, 'KHS av': 905.3, 'KHS 5s': 910.1, Accepted: 12 }], sg),
      devs: section(
        'DEVS',
        [0, 1].map((gpu) => ({
          GPU: gpu,
          Status: 'Alive',
          Temperature: 66,
          'KHS av': 452.65,
          'KHS 5s': 455.05,
        })),
        sg,
      ),
    });
    expect(snapshot.firmware).toEqual({ name: 'SGMiner', version: '5.6.1' });
    expect(snapshot.hashrate).toEqual({ current_hs: 910_100, average_hs: 905_300, nominal_hs: null });
    expect(snapshot.boards.map((b) => b.hashrate_hs)).toEqual([455_050, 455_050]);
  });

  it('a rate counted in plain hashes ("HS 5s", "HS av") is read in H/s', async () => {
    const snapshot = await poll({
      summary: section('SUMMARY', [{ Elapsed: 60, 'HS av': 250.5, 'HS 5s': 300 }]),
    });
    expect(snapshot.hashrate).toEqual({ current_hs: 300, average_hs: 250.5, nominal_hs: null });
  });

  it('Innosilicon A9 writing its rate with the unit ("51.45 Ksol/s"): read in that unit, not rescaled as MH', async () => {
    const summary = JSON.parse(sample('innosilicon-a9__summary.json')) as {
      SUMMARY: Record<string, unknown>[];
    };
    Object.assign(summary.SUMMARY[0] as Record<string, unknown>, {
      'MHS 5s': '51.45 Ksol/s',
      'MHS av': '51.27 Ksol/s',
    });
    const replies = { summary: JSON.stringify(summary), stats: sample('innosilicon-a9__stats.json') };
    // Whether or not a `coin` reply names Equihash: the value says its unit itself.
    for (const coin of [undefined, section('COIN', [{ 'Hash Method': 'Equihash' }])]) {
      const snapshot = await poll(coin === undefined ? replies : { ...replies, coin });
      expect(snapshot.hashrate.current_hs).toBe(51_450);
      expect(snapshot.hashrate.average_hs).toBe(51_270);
    }
  });

  it('temperatures and fan speeds written with their unit ("75 °C", "2820 rpm") are read; another unit stays null', async () => {
    const files = 'braiins-os-plus-bosminer-plus-0.2.0__';
    const temps = JSON.parse(sample(`${files}temps.json`)) as { TEMPS: Record<string, unknown>[] };
    const readings = ['75.5 °C', '63C', '149 F'];
    temps.TEMPS.forEach((record, i) => {
      Object.assign(record, { Board: readings[i], Chip: i === 0 ? '96.25℃' : 0 });
    });
    const fans = JSON.parse(sample(`${files}fans.json`)) as { FANS: Record<string, unknown>[] };
    const speeds = ['2820 rpm', '40%', 0, 0];
    fans.FANS.forEach((record, i) => {
      record.RPM = speeds[i];
    });
    const snapshot = await poll({
      version: sample(`${files}version.json`),
      summary: sample(`${files}summary.json`),
      temps: JSON.stringify(temps),
      fans: JSON.stringify(fans),
    });
    expect(snapshot.boards.map((b) => [b.index, b.temp_board_c, b.temp_chip_c])).toEqual([
      [6, 75.5, 96.25],
      [7, 63, null],
      [8, null, null],
    ]);
    // A duty cycle is no speed: that fan is unread, not 40 rpm.
    expect(snapshot.fans.find((f) => f.index === 0)?.rpm).toBe(2820);
    expect(snapshot.fans.some((f) => f.rpm === 40)).toBe(false);
  });

  it('an Antminer sensor list whose readings carry their unit ("78 °C-50 °C-69℃-70C") is read as the bare one is', async () => {
    const files = 'antminer-s19pro_2022-12__';
    const snapshot = await poll({
      version: sample(`${files}version.json`),
      stats: statsWith(`${files}stats.json`, (device) => {
        // Only the lists speak for the chips and boards: the single temp/temp2_N readings are gone.
        for (const n of [1, 2, 3]) {
          delete device[`temp${n}`];
          delete device[`temp2_${n}`];
        }
        Object.assign(device, {
          temp_chip1: '78 °C-50 °C-69℃-70C',
          temp_pcb1: '73°C-45°C-64°C-65°C',
          temp_chip2: '52 °F-55 °F',
        });
      }),
    });
    expect(snapshot.boards.map((b) => [b.index, b.temp_board_c, b.temp_chip_c])).toEqual([
      [1, 73, 78],
      [2, 66, null], // in Fahrenheit: unread, not 55 °C
      [3, 64, 69],
    ]);
  });

  it('a fan slot that reads nan is a fan of unknown speed, not a stopped spare slot (no false stopped-fan alarm)', async () => {
    // S17 Pro: fans 1-4; fan 1 unread. S9 Pro (MSKminer, one fan): its fan 6 unread.
    const s17 = await poll({
      version: sample('antminer-s17pro__version.json'),
      stats: statsWith('antminer-s17pro__stats.json', (device) => {
        device.fan1 = 'NAN';
      }).replace('"NAN"', 'nan'),
    });
    expect(s17.fans.map((f) => [f.index, f.rpm === null ? null : f.rpm > 0])).toEqual([
      [1, null],
      [2, true],
      [3, true],
      [4, true],
    ]);
    const s9 = await poll({
      version: sample('mskminer-s9pro__version.json'),
      stats: sample('mskminer-s9pro__stats.txt').replace('"fan6":5280', '"fan6":nan'),
    });
    expect(s9.hashrate.current_hs).toBeGreaterThan(0);
    expect(s9.fans).toEqual([{ index: 6, rpm: null }]);
    // Every slot unread: which ones are fans is not known, and none is named.
    const unread = await poll({
      version: sample('mskminer-s9pro__version.json'),
      stats: sample('mskminer-s9pro__stats.txt').replace(/"fan(\d)":\d+/g, '"fan$1":nan'),
    });
    expect(unread.fans).toEqual([]);
  });

  it('a fan slot that reads -1 is a fan of unknown speed, said so, not a fan that vanishes from the count', async () => {
    // S19 Pro (4 fans, slots 1-4) with fans 1 and 3 at -1: four fans, two of them unread.
    const files = 'antminer-s19pro_2022-12__';
    const classic = await poll({
      version: sample(`${files}version.json`),
      stats: statsWith(`${files}stats.json`, (device) => Object.assign(device, { fan1: -1, fan3: '-1' })),
    });
    expect(classic.fans).toEqual([
      { index: 1, rpm: null },
      { index: 2, rpm: 5880 },
      { index: 3, rpm: null },
      { index: 4, rpm: 5040 },
    ]);
    expect(classic.errors.filter((e) => e.code === 'implausible_fan')).toHaveLength(2);
    // S21 Pro+ on the new_api schema (fan_num 4): one fan unread, one stopped.
    const reply = JSON.parse(sample('antminer-s21proplus_2026__stats_new-api.json')) as {
      STATS: { fan: number[] }[];
    };
    (reply.STATS[0] as { fan: number[] }).fan = [4020, -1, 3960, 0];
    const newApi = await poll({ stats: JSON.stringify(reply) });
    expect(newApi.fans).toEqual([
      { index: 0, rpm: 4020 },
      { index: 1, rpm: null },
      { index: 2, rpm: 3960 },
      { index: 3, rpm: 0 },
    ]);
    // Every slot at -1 on a hashing miner: which slots are fans is not known, and none is named.
    const unread = await poll({
      version: sample(`${files}version.json`),
      stats: statsWith(`${files}stats.json`, (device) =>
        Object.assign(device, { fan1: -1, fan2: -1, fan3: -1, fan4: -1 }),
      ),
    });
    expect(unread.fans).toEqual([]);
  });

  it('Z11 (Chipless) giving its total in sol/s: one chain unread, or the 5 s total unread, leaves it in sol/s, not 1000 times higher', async () => {
    const stats = sample('antminer-z11_chipless__stats.txt');
    for (const damaged of [
      stats.replace('"chain_rate2":"47.84"', '"chain_rate2":nan'),
      stats.replace('"GHS 5s":"145474.39"', '"GHS 5s":nan'),
    ]) {
      const snapshot = await poll({ stats: damaged });
      expect(snapshot.algorithm).toBe('equihash');
      // About 144 ksol/s, as the undamaged reply reads.
      expect(snapshot.hashrate.average_hs).toBe(143_682);
      expect(snapshot.boards.find((b) => b.index === 1)?.hashrate_hs).toBe(42_590);
    }
  });

  it('an S19 Pro that cut its boards for heat is not called asleep when its average reads nan', async () => {
    const stats = sample('antminer-s19pro_overheating__stats.json');
    const damaged = stats.replace(/"GHS av":\s*[\d.]+/, '"GHS av":nan');
    expect(damaged).not.toBe(stats);
    const snapshot = await poll({ stats: damaged });
    expect(snapshot.state).not.toBe('sleeping');
    expect(snapshot.boards.map((b) => b.status)).toEqual(['dead', 'dead', 'dead']);
  });

  it('a total of parts with one part unread is no total: chain watts, board rates (null, not two thirds)', async () => {
    const vnish = await poll({
      version: sample('vnish-s9_3.8.6__version.json'),
      stats: sample('vnish-s9_3.8.6__stats.txt').replace(
        '"chain_consumption7":495',
        '"chain_consumption7":nan',
      ),
    });
    expect(vnish.firmware.name).toBe('Vnish');
    expect(vnish.power_w).toBeNull();
    expect(vnish.efficiency_j_per_th).toBeNull();

    const ibelink = await poll({
      devs: sample('ibelink-n1max__devs.json').replace('"MHS 5s":3424624.59', '"MHS 5s":nan'),
    });
    expect(ibelink.boards).toHaveLength(3);
    expect(ibelink.hashrate.current_hs).toBeNull();
  });

  it('a build that names its sections in lower case ("summary":[…], "pools":[…]) is read, not left empty', async () => {
    const lower = (name: string, records: unknown) =>
      JSON.stringify({
        status: [{ status: 'S', when: 1700000000, code: 11, msg: name, description: 'cgminer 4.12.0' }],
        [name]: records,
        id: 1,
      });
    const snapshot = await poll({
      version: lower('version', [{ CGMiner: '4.12.0', API: '3.7' }]),
      summary: lower('summary', [{ Elapsed: 900, 'MHS 5s': 13_500_000, 'MHS av': 13_400_000, Accepted: 40 }]),
      pools: lower('pools', [
        { POOL: 0, URL: 'stratum+tcp://pool.example:3333', User: 'farm.1', Status: 'Alive', Priority: 0 },
      ]),
    });
    expect(snapshot.hashrate.current_hs).toBe(13.5e12);
    expect(snapshot.uptime_s).toBe(900);
    expect(snapshot.firmware).toEqual({ name: 'cgminer', version: '4.12.0' });
    expect(snapshot.pools.map((p) => [p.url, p.active])).toEqual([['stratum+tcp://pool.example:3333', true]]);
  });

  it('an uptime of 4294967295 s (an unsigned -1) is no uptime of 136 years: null with an error', async () => {
    const files = 'antminer-s19pro_2022-12__';
    const snapshot = await poll({
      version: sample(`${files}version.json`),
      stats: statsWith(`${files}stats.json`, (device) => {
        device.Elapsed = 4_294_967_295;
      }),
    });
    expect(snapshot.uptime_s).toBeNull();
    expect(snapshot.errors.map((e) => e.code)).toContain('implausible_uptime');
    expect(snapshot.hashrate.current_hs).toBeGreaterThan(1e14);
  });

  it('power written with its unit ("3552 W") is read; in another unit ("3.55 kW") it stays null', async () => {
    const files = 'whatsminer-m31s_2020-12__';
    const summary = sample(`${files}summary.json`);
    const at = (power: string) =>
      poll({
        summary: summary
          .replace('"Power":3553', `"Power":"${power}"`)
          .replace('"Power_RT":3552', `"Power_RT":"${power}"`),
        edevs: sample(`${files}edevs.json`),
      });
    const watts = await at('3552 W');
    expect(watts.make).toBe('Whatsminer');
    expect(watts.power_w).toBe(3552);
    expect((await at('3.55 kW')).power_w).toBeNull();
  });

  it("Goldshell: its boards' bfgminer driver (intchains_qomo, named INCS) names the make, on every poll", async () => {
    // bfgminer's Goldshell board driver is `.dname = "intchains_qomo"`, `.name = "INCS"`: devdetails
    // `Driver` and devs `Name` (CGMINER-API.md §8.7; pyasic classifies INTCHAINS_QOMO as Goldshell).
    // Values are written here: an HS-class box at ~1.6 TH/s in MH/s, one board idle.
    const bfg = 'bfgminer 5.4.2';
    const dev = (id: number, mhs: number) => ({
      PGA: id,
      ID: id,
      Name: 'INCS',
      Enabled: 'Y',
      Status: 'Alive',
      'MHS av': mhs,
      'MHS 20s': mhs,
      'tstemp-0': mhs > 0 ? 64 : 0,
      'tstemp-1': mhs > 0 ? 69 : 0,
      'tstemp-2': mhs > 0 ? 51 : 0,
    });
    const replies: Record<string, string> = {
      version: section('VERSION', [{ BFGMiner: '5.4.2', API: '3.1' }], bfg),
      summary: section('SUMMARY', [{ Elapsed: 5400, 'MHS 20s': 1612000.5, 'MHS av': 1609000.25 }], bfg),
      devs: section('DEVS', [dev(0, 1612000.5), dev(1, 0)], bfg),
      devdetails: section(
        'DEVDETAILS',
        [0, 1].map((id) => ({ DEVDETAILS: id, Name: 'INCS', ID: id, Driver: 'intchains_qomo', Model: '' })),
        bfg,
      ),
    };
    for (const snapshot of await polls(replies, 2)) {
      expect([snapshot.make, snapshot.model, snapshot.algorithm]).toEqual(['Goldshell', null, 'unknown']);
      // MHS fields in MH/s: 1.6 TH/s, not 1000 times either way.
      expect(snapshot.hashrate.current_hs).toBe(1612000.5e6);
    }
  });

  it('Auradine: the model devdetails names (AT2880) is read on every poll; a cgminer without devdetails is not warned', async () => {
    // Auradine's GCMiner names the model only in DEVDETAILS[0].Model (pyasic get_miner_model_auradine;
    // asic-rs AuradineModel: AT1500, AT2880, AI2500, AI3680, AH3880). Other values written here.
    const gc = 'GCMiner-2024-01.10-0abc';
    const auradine: Record<string, string> = {
      version: section('VERSION', [{ GCMiner: '0.5', API: '1.0' }], gc),
      summary: section('SUMMARY', [{ Elapsed: 3600, 'MHS av': 250_100_000.5, 'MHS 5s': 251_000_000.25 }], gc),
      devs: section(
        'DEVS',
        [1, 2, 3].map((id) => ({
          DEV: id,
          Name: 'ASICBoard',
          ID: id,
          Status: 'Alive',
          'MHS 5s': 83_600_000,
        })),
        gc,
      ),
      devdetails: section('DEVDETAILS', [{ DEVDETAILS: 0, Name: 'ASICBoard', ID: 1, Model: 'AT2880' }], gc),
    };
    const plain: Record<string, string> = {
      version: section('VERSION', [{ CGMiner: '4.11.1', API: '3.7' }]),
      summary: section('SUMMARY', [{ Elapsed: 60, 'MHS av': 1000.5, 'MHS 5s': 1001 }]),
    };
    for (const [replies, model] of [
      [auradine, 'AT2880'],
      [plain, null],
    ] as const) {
      for (const snapshot of await polls(replies, 2)) {
        expect(snapshot.model).toBe(model);
        expect(snapshot.errors.filter((e) => e.message.startsWith('devdetails'))).toEqual([]);
      }
    }
  });
});
