// Replies hashctl has not seen (issue #4): for each dialect family of protocol/samples, a seeded
// generator keeps the sample's reply shapes and changes the model name and the numbers (hashrates
// ×0.3…×3, 1–4 boards, chip counts, temperatures, 0–6 fans, 0–4 pools with the active one not first).
// A fake miner on loopback serves them, joining `a+b` requests or refusing them as that firmware
// does, and the real `probe --json` path must read back make, model, both hashrates (within 1 %),
// boards, total chips, hottest chip, fans, pools and the active pool's URL.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { lookupModel } from '../../src/miners/models.js';
import { loadReply } from '../fixtures/miners/samples.js';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';

type Obj = Record<string, unknown>;

interface Truth {
  model: string;
  /** H/s */
  current: number;
  average: number;
  /** Chips on each board (its length is the board count). */
  chips: number[];
  /** Hottest chip on each board, °C. */
  chipTemps: number[];
  boardTemps: number[];
  fans: number[];
  pools: { url: string; user: string }[];
  /** Index of the pool in use (never 0 when there are two or more). */
  active: number;
  /**
   * Boards from this position on sit one connector further (chains 1, 2, 4 as on the Z15 Pro);
   * the board count when the chains are numbered in a row.
   */
  gap: number;
  /** Pools before the active one are dead (true) or just of a worse priority (false). */
  deadBefore: boolean;
}

interface Family {
  name: string;
  make: string;
  models: string[];
  /** Boards a model of this family may have. */
  boards: [number, number];
  chipsPerBoard: [number, number];
  fans: [number, number];
  /** Does the firmware answer `a+b` joins (CGMINER-API.md §4)? */
  joins: boolean;
  /**
   * The firmware lists empty fan slots (0 rpm): a model's fan that stopped is still its fan, so
   * fewer spinning than the model has read as the model's count (the stopped ones at 0 rpm).
   */
  fanSlots?: boolean;
  /**
   * A board the model is built with but the reply leaves out is a dead board (new_api chain lists):
   * fewer boards than the model has read as the model's count.
   */
  modelBoards?: boolean;
  /** false: the firmware reports no chip temperature (LuxOS: board sensors only). */
  chipTemps?: boolean;
  /** A typical rate of the family's models (H/s); generated rates are 0.3…3 times it. */
  nominal?: number;
  replies(t: Truth, rnd: Rng): Record<string, Obj>;
}

type Rng = () => number;
function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const int = (rnd: Rng, lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(rnd: Rng, list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
const round2 = (n: number) => Math.round(n * 100) / 100;

/** The sample's reply body, decoded (and repaired) by the real decoder. */
function sample(file: string): Obj {
  const reply = loadReply(file);
  if (reply instanceof Error) throw reply;
  return reply.body as Obj;
}
function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
function status(base: Obj, msg?: string): Obj {
  const s = clone((base.STATUS as Obj[])[0] as Obj);
  if (msg !== undefined) s.Msg = msg;
  return s;
}

/** A cgminer `pools` reply in the sample's record shape. */
function poolsReply(file: string, t: Truth): Obj {
  const base = sample(file);
  const template = (base.POOLS as Obj[])[0] as Obj;
  const records = t.pools.map((p, i) => {
    const rec = clone(template);
    rec.POOL = (typeof template.POOL === 'number' ? template.POOL : 0) + i;
    rec.URL = p.url;
    rec.User = p.user;
    const before = i < t.active;
    rec.Status = before && t.deadBefore ? 'Dead' : 'Alive';
    // The active pool has the best (lowest) priority among the alive ones.
    rec.Priority = i === t.active ? 0 : before && !t.deadBefore ? t.pools.length + i : i + 1;
    if ('Stratum Active' in rec) rec['Stratum Active'] = i === t.active;
    return rec;
  });
  return { STATUS: [status(base, `${records.length} Pool(s)`)], POOLS: records, id: 1 };
}

/** The connector (0-based) of the i-th board. */
const slot = (t: Truth, i: number) => i + (i >= t.gap ? 1 : 0);
const sum = (list: number[]) => list.reduce((a, b) => a + b, 0);
function split(total: number, parts: number, rnd: Rng): number[] {
  const weights = Array.from({ length: parts }, () => 0.8 + rnd() * 0.4);
  const w = sum(weights);
  return weights.map((x) => round2((total * x) / w));
}

/** Bitmain's classic `stats` device record: chain_*N, tempN/temp2_N, fanN from `first`. */
function bitmainDevice(t: Truth, first: number, unit: number, rnd: Rng, template: Obj, fanSlots = 0): Obj {
  const dev: Obj = {};
  for (const [k, v] of Object.entries(template)) {
    if (/^(chain_|temp|fan|freq)\w*\d$/.test(k) || k === 'fan_num' || k === 'temp_num') continue;
    dev[k] = v;
  }
  // Numbers or numeric strings, as different builds write them (Vnish: `"GHS 5s":"12795.48"`).
  const asText = rnd() < 0.5;
  dev['GHS 5s'] = asText ? (t.current / unit).toFixed(2) : round2(t.current / unit);
  dev['GHS av'] = round2(t.average / unit);
  // Chip readings as temp2_N, as the S19's `temp_chipN` strings ("in-in-out-out") beside it, or
  // only in those strings (temp2_N left 0).
  const chipStyle = int(rnd, 0, 2);
  if ('rate_30m' in dev) dev.rate_30m = round2(t.average / unit);
  if ('total rate' in dev) dev['total rate'] = round2(t.average / unit);
  if ('total_acn' in dev) dev.total_acn = sum(t.chips);
  delete dev.total_rateideal;
  dev.fan_num = t.fans.length;
  for (let i = 1; i <= fanSlots; i++) dev[`fan${i}`] = 0;
  t.fans.forEach((rpm, i) => {
    dev[`fan${1 + i}`] = rpm;
  });
  dev.temp_num = t.chips.length;
  const rates = split(t.current / unit, t.chips.length, rnd);
  t.chips.forEach((chips, i) => {
    const n = first + slot(t, i);
    dev[`chain_acn${n}`] = chips;
    dev[`chain_acs${n}`] = ` ${'o'.repeat(chips)}`;
    dev[`chain_rate${n}`] = rates[i]?.toFixed(2);
    dev[`chain_hw${n}`] = int(rnd, 0, 50);
    const chip = t.chipTemps[i] as number;
    const board = t.boardTemps[i] as number;
    dev[`temp${n}`] = board;
    dev[`temp2_${n}`] = chipStyle === 2 ? 0 : chip;
    if (chipStyle > 0) {
      dev[`temp_pcb${n}`] = `${board - 20}-${board - 18}-${board}-${board - 1}`;
      dev[`temp_chip${n}`] = `${chip - 20}-${chip - 18}-${chip}-${chip - 1}`;
    }
    dev[`freq${n}`] = 500;
  });
  return dev;
}

function bitmainStats(
  file: string,
  t: Truth,
  first: number,
  unit: number,
  rnd: Rng,
  type?: string,
  fanSlots = 0,
): Obj {
  const base = sample(file);
  const list = base.STATS as Obj[];
  const header = clone(list[0] as Obj);
  if (type !== undefined) header.Type = type;
  const device = bitmainDevice(t, first, unit, rnd, list[1] as Obj, fanSlots);
  return { STATUS: [status(base)], STATS: [header, device], id: 1 };
}

function summaryReply(file: string, t: Truth, current: string, average: string, unit: number): Obj {
  const base = sample(file);
  const rec = clone((base.SUMMARY as Obj[])[0] as Obj);
  for (const key of Object.keys(rec)) if (/^[GM]HS /.test(key) || key === 'HS RT') delete rec[key];
  rec[current] = round2(t.current / unit);
  rec[average] = round2(t.average / unit);
  return { STATUS: [status(base)], SUMMARY: [rec], id: 1 };
}

function versionReply(file: string, edit: (v: Obj) => void): Obj {
  const base = sample(file);
  const v = clone((base.VERSION as Obj[])[0] as Obj);
  edit(v);
  return { STATUS: [status(base)], VERSION: [v], id: 1 };
}

interface BitmainShape {
  name: string;
  version: string;
  stats: string;
  summary?: string;
  pools: string;
  type: (model: string) => string;
  models: string[];
  first: number;
  fanSlots?: number;
  joins?: boolean;
  boards?: [number, number];
  /** H/s per unit of the `GHS` fields (MH/s on scrypt/x11/ethash Antminers, CGMINER-API.md §9). */
  unit?: number;
}
function bitmain(shape: BitmainShape): Family {
  return {
    ...(shape.unit !== undefined ? { nominal: shape.unit * 5000 } : {}),
    name: shape.name,
    make: 'Antminer',
    models: shape.models,
    boards: shape.boards ?? [1, 4],
    chipsPerBoard: [30, 126],
    fans: [0, 6],
    joins: shape.joins ?? true,
    fanSlots: (shape.fanSlots ?? 0) > 0,
    replies: (t, rnd) => ({
      // The model goes where the sample's version names one (Vnish S17+'s names none: stats does).
      version: versionReply(shape.version, (v) => {
        if ('Type' in v) v.Type = shape.type(t.model);
      }),
      summary: summaryReply(
        shape.summary ?? 'antminer-s19pro_2022-12__summary.json',
        t,
        'GHS 5s',
        'GHS av',
        shape.unit ?? 1e9,
      ),
      stats: bitmainStats(
        shape.stats,
        t,
        shape.first,
        shape.unit ?? 1e9,
        rnd,
        shape.type(t.model),
        shape.fanSlots,
      ),
      pools: poolsReply(shape.pools, t),
    }),
  };
}
const OLD_MODELS = ['S9i', 'S9j', 'S9 SE', 'T9+', 'S11', 'S15', 'S17 Pro', 'T17'];

const ANTMINER_MODELS = [
  'S19k Pro',
  'S19j Pro+',
  'S19 XP',
  'T19',
  'S19a Pro',
  'S21',
  'T21',
  'S19 Pro+',
  'S19 Pro+ Hyd.',
  'S21 Hyd.',
  'S19j XP',
  'S21+',
];

/** The stock S19 of the 2022 bmminer sample, under any model name, taking joins or refusing them. */
function stockS19(name: string, joins: boolean): Family {
  return {
    name,
    make: 'Antminer',
    models: ANTMINER_MODELS,
    boards: [1, 4],
    chipsPerBoard: [60, 126],
    fans: [0, 6],
    joins,
    replies: (t, rnd) => ({
      version: versionReply('antminer-s19pro_2022-12__version.json', (v) => {
        v.Type = `Antminer ${t.model}`;
      }),
      summary: summaryReply('antminer-s19pro_2022-12__summary.json', t, 'GHS 5s', 'GHS av', 1e9),
      stats: bitmainStats('antminer-s19pro_2022-12__stats.json', t, 1, 1e9, rnd, `Antminer ${t.model}`),
      pools: poolsReply('antminer-s19pro_2022-12__pools.json', t),
    }),
  };
}

const FAMILIES: Family[] = [
  bitmain({
    name: 'stock Antminer, old bmminer (chains from 6, eight fan slots)',
    version: 'antminer-s9_bmminer-2.0.0__version.json',
    stats: 'hiveon-s9__stats.txt',
    pools: 'antminer-s19pro_2022-12__pools.json',
    type: (m) => `Antminer ${m}`,
    models: OLD_MODELS,
    first: 6,
    fanSlots: 8,
  }),
  bitmain({
    name: 'Vnish',
    version: 'vnish-s9_3.8.6__version.json',
    stats: 'vnish-s9_3.8.6__stats.txt',
    pools: 'vnish-s9_3.8.6__pools.json',
    type: (m) => `Antminer ${m} (vnish 3.8.6)`,
    models: OLD_MODELS,
    first: 6,
    fanSlots: 8,
  }),
  bitmain({
    name: 'Vnish on an S17+ (cgminer 4.11.1)',
    version: 'vnish-s17plus_2.0.3__version.json',
    stats: 'vnish-s17plus_2.0.3__stats.json',
    pools: 'vnish-s17plus_2.0.3__pools.json',
    type: (m) => `Antminer ${m} (vnish 2.0.3)`,
    models: ANTMINER_MODELS,
    first: 1,
  }),
  bitmain({
    name: 'Hiveon',
    version: 'hiveon-s9__version.json',
    stats: 'hiveon-s19x88_2025__stats.json',
    pools: 'antminer-s19pro_2022-12__pools.json',
    type: (m) => `Antminer ${m} Hiveon`,
    models: ANTMINER_MODELS,
    first: 1,
  }),
  bitmain({
    name: 'AsicSeer',
    version: 'asicseer-s9__version.json',
    stats: 'asicseer-s9__stats.json',
    pools: 'antminer-s19pro_2022-12__pools.json',
    type: (m) => `Antminer ${m}`,
    models: OLD_MODELS,
    first: 6,
    fanSlots: 8,
  }),
  bitmain({
    name: 'MSKminer',
    version: 'mskminer-s19-88_2.6.0.39__version.json',
    stats: 'mskminer-s19-88_2.6.0.39__stats.json',
    pools: 'antminer-s19pro_2022-12__pools.json',
    type: (m) => `${m} v.2.6.0.39 `,
    models: ['S19-88', 'S19j-126', 'T19-76', 'S19 Pro'],
    first: 1,
  }),
  bitmain({
    name: 'stock Antminer T15 / S9k (cgminer 4.9.0), joins refused',
    version: 'antminer-t15__version.json',
    stats: 'antminer-t15__stats.json',
    pools: 'antminer-s19pro_2022-12__pools.json',
    type: (m) => `Antminer ${m}`,
    models: ['T15', 'S9k', 'S9 SE', 'S15', 'T17e'],
    first: 1,
    joins: false,
  }),
  stockS19('stock Antminer (bmminer 2022, chains from 1)', true),
  stockS19('stock Antminer refusing joins (S19 firmware that fails multi-commands)', false),
  {
    name: 'LuxOS',
    make: 'Antminer',
    models: ANTMINER_MODELS,
    boards: [1, 4],
    chipsPerBoard: [60, 126],
    fans: [0, 6],
    joins: true,
    chipTemps: false,
    replies: (t, rnd) => {
      const v = 'luxos-s19kpro_2025.4.8__';
      const devsBase = sample(`${v}devs.json`);
      const devTemplate = (devsBase.DEVS as Obj[])[0] as Obj;
      const rates = split(t.current / 1e6, t.chips.length, rnd);
      const avg = split(t.average / 1e6, t.chips.length, rnd);
      const tempsBase = sample(`${v}temps.json`);
      const fansBase = sample(`${v}fans.json`);
      return {
        version: versionReply(`${v}version.json`, (x) => {
          x.Type = `Antminer ${t.model}`;
        }),
        summary: summaryReply(`${v}summary.json`, t, 'GHS 5s', 'GHS av', 1e9),
        stats: bitmainStats(`${v}stats.json`, t, 1, 1e9, rnd, `Antminer ${t.model}`),
        pools: poolsReply(`${v}pools.json`, t),
        devs: {
          STATUS: [status(devsBase, `${t.chips.length} ASC(s)`)],
          DEVS: t.chips.map((_, i) => ({
            ...clone(devTemplate),
            ASC: slot(t, i),
            ID: slot(t, i),
            'MHS 5s': rates[i],
            'MHS av': avg[i],
            Temperature: t.boardTemps[i],
          })),
          id: 1,
        },
        temps: {
          STATUS: [status(tempsBase, `${t.chips.length} Temp(s)`)],
          METADATA: tempsBase.METADATA,
          TEMPS: t.chips.map((_, i) => ({
            ID: slot(t, i),
            TEMP: slot(t, i),
            BottomLeft: t.boardTemps[i],
            TopLeft: t.boardTemps[i],
            BottomRight: (t.boardTemps[i] as number) - 10,
            TopRight: (t.boardTemps[i] as number) - 10,
          })),
          id: 1,
        },
        fans: {
          STATUS: [status(fansBase, `${t.fans.length} Fan(s)`)],
          FANCTRL: fansBase.FANCTRL,
          FANS: t.fans.map((rpm, i) => ({ FAN: `FAN${i + 1}`, ID: i, RPM: rpm, Speed: 40 })),
          id: 1,
        },
      };
    },
  },
];

FAMILIES.push(
  {
    name: 'Whatsminer API 1.x (btminer: cgminer reads join, natives never)',
    make: 'Whatsminer',
    models: ['M50S+ VH30', 'M30S++ VG40', 'M53 VH10', 'M60S VK20', 'M21S V20'],
    boards: [1, 4],
    chipsPerBoard: [60, 215],
    fans: [2, 2],
    joins: true,
    replies: (t, rnd) => {
      const v = 'whatsminer_fw-20210322_api-v1.4__';
      const summary = summaryReply(`${v}summary.json`, t, 'MHS 5s', 'MHS av', 1e6);
      const rec = (summary.SUMMARY as Obj[])[0] as Obj;
      rec['HS RT'] = round2(t.current / 1e6);
      rec['Chip Temp Max'] = Math.max(...t.chipTemps);
      rec['Fan Speed In'] = t.fans[0];
      rec['Fan Speed Out'] = t.fans[1];
      const devsBase = sample(`${v}devs.json`);
      const template = (devsBase.DEVS as Obj[])[0] as Obj;
      const rates = split(t.current / 1e6, t.chips.length, rnd);
      const edevs = {
        STATUS: [status(devsBase, `${t.chips.length} ASC(s)`)],
        DEVS: t.chips.map((chips, i) => ({
          ...clone(template),
          ASC: slot(t, i),
          ID: slot(t, i),
          Slot: slot(t, i),
          'MHS 5s': rates[i],
          'MHS av': rates[i],
          'Effective Chips': chips,
          'Chip Temp Max': t.chipTemps[i],
          Temperature: t.boardTemps[i],
          'Fan Speed In': t.fans[0],
          'Fan Speed Out': t.fans[1],
        })),
        id: 1,
      };
      return {
        summary,
        edevs,
        devs: edevs,
        pools: poolsReply('whatsminer-m31s_2020-12__pools.json', t),
        devdetails: {
          STATUS: [status(devsBase, 'Device Details')],
          DEVDETAILS: t.chips.map((_, i) => ({
            DEVDETAILS: i,
            Name: 'SM',
            ID: i,
            Driver: 'bitmicro',
            Kernel: '',
            Model: t.model.replace(/ /g, '_'),
          })),
          id: 1,
        },
        get_version: sample(`${v}get_version.json`),
        status: sample('whatsminer_fw-20220919_api-v1.4__status.json'),
      };
    },
  },
  {
    name: 'Braiins OS+ (BOSminer+: temps and fans joined)',
    make: 'Antminer',
    models: ANTMINER_MODELS,
    boards: [1, 4],
    chipsPerBoard: [60, 126],
    fans: [0, 6],
    joins: true,
    fanSlots: true,
    replies: (t, rnd) => {
      const v = 'braiins-os-plus-bosminer-plus-0.2.0__';
      const devsBase = sample('braiins-os-plus-bosminer-plus-0.4.0__devs.json');
      const template = (devsBase.DEVS as Obj[])[0] as Obj;
      const rates = split(t.current / 1e6, t.chips.length, rnd);
      const ids = t.chips.map((_, i) => 6 + slot(t, i));
      const version = sample(`${v}version.json`);
      const program = pick(rnd, ['BOSminer', 'BOSminer+', 'BOSer']);
      const versionRecord = (version.VERSION as Obj[])[0] as Obj;
      delete versionRecord['BOSminer+'];
      versionRecord[program] = '0.9.0-0123abcd';
      const maker = pick(rnd, ['Bitmain Antminer ', 'Antminer ']);
      const tempsBase = sample(`${v}temps.json`);
      const fansBase = sample(`${v}fans.json`);
      return {
        version,
        summary: summaryReply(`${v}summary.json`, t, 'MHS 5s', 'MHS av', 1e6),
        pools: poolsReply(`${v}pools.json`, t),
        devs: {
          STATUS: [status(devsBase, `${ids.length} ASC(s)`)],
          DEVS: ids.map((id, i) => ({
            ...clone(template),
            ASC: i,
            ID: id,
            'MHS 5s': rates[i],
            'MHS av': rates[i],
          })),
          id: 1,
        },
        devdetails: {
          STATUS: [status(version, 'Device Details')],
          DEVDETAILS: ids.map((id, i) => ({
            DEVDETAILS: i,
            ID: id,
            Name: '',
            Driver: 'bitmain',
            Kernel: '',
            Model: `${maker}${t.model}`,
            Chips: t.chips[i],
            Cores: (t.chips[i] as number) * 4,
            Frequency: 650_000_000 + i,
            Voltage: 8.9,
          })),
          id: 1,
        },
        temps: {
          STATUS: [status(tempsBase, `${ids.length} Temp(s)`)],
          TEMPS: ids.map((id, i) => ({ Board: t.boardTemps[i], Chip: t.chipTemps[i], ID: id, TEMP: i })),
          id: 1,
        },
        fans: {
          STATUS: [status(fansBase, `${t.fans.length} Fan(s)`)],
          // BOSminer lists every fan slot of the control board (4), the stopped ones at 0 rpm.
          FANS: Array.from({ length: Math.max(4, t.fans.length) }, (_, i) => ({
            FAN: i,
            ID: i,
            RPM: t.fans[i] ?? 0,
            Speed: 60,
          })),
          id: 1,
        },
      };
    },
  },
  {
    name: 'Avalon (MM ID estats string, cgminer 4.11.1)',
    make: 'Avalon',
    models: ['1166Pro', '1366', '1466', 'A1346', '1126Pro'],
    boards: [1, 4],
    chipsPerBoard: [60, 160],
    fans: [0, 6],
    joins: true,
    chipTemps: true,
    replies: (t, rnd) => {
      const statsBase = sample('avalon-a1246__stats.json');
      const list = clone(statsBase.STATS as Obj[]);
      // One module, or the boards shared by two modules behind one controller (MM ID0, MM ID1).
      const modules = t.chips.length >= 2 && rnd() < 0.5 ? 2 : 1;
      const cut = modules === 2 ? int(rnd, 1, t.chips.length - 1) : t.chips.length;
      const parts = modules === 2 ? [t.chips.slice(0, cut), t.chips.slice(cut)] : [t.chips];
      const totalChips = sum(t.chips);
      let first = 0;
      parts.forEach((chipsOf, m) => {
        const share = sum(chipsOf) / totalChips;
        const temps = t.chipTemps.slice(first, first + chipsOf.length);
        const mgh = split((t.average * share) / 1e9, chipsOf.length, rnd);
        const fans = m === 0 ? t.fans : [];
        const tokens = [
          'Ver[1246-83-21072802_4ec6bb0_211fc46]',
          'SYSTEMSTATU[Work: In Work, Hash Board: 3 ]',
          'Elapsed[24684]',
          'Temp[25]',
          `TMax[${Math.max(...temps)}]`,
          'TAvg[60]',
          ...fans.map((rpm, i) => `Fan${i + 1}[${rpm}]`),
          'FanR[72%]',
          `GHSspd[${round2((t.current * share) / 1e9)}]`,
          `GHSmm[${round2((t.current * share) / 1e9)}]`,
          `GHSavg[${round2((t.average * share) / 1e9)}]`,
          'Freq[502.41]',
          `MGHS[${mgh.join(' ')}]`,
          `MTmax[${temps.join(' ')}]`,
          'ECHU[0 0 0]',
          'ECMM[0]',
          ...chipsOf.map(
            (chips, i) =>
              `PVT_T${i}[${Array.from({ length: chips }, (_, c) => (temps[i] as number) - (c % 7)).join(' ')}]`,
          ),
        ];
        (list[0] as Obj)[`MM ID${m}`] = tokens.join(' ');
        first += chipsOf.length;
      });
      (list[0] as Obj)['MM Count'] = modules;
      return {
        version: versionReply('avalon-a1566_24102401__version.json', (v) => {
          v.PROD = `AvalonMiner ${t.model}`;
          v.MODEL = t.model;
        }),
        summary: summaryReply('innosilicon-a9__summary.json', t, 'MHS 5s', 'MHS av', 1e6),
        stats: { STATUS: [status(statsBase)], STATS: list, id: 1 },
        pools: poolsReply('avalon-741__pools.json', t),
      };
    },
  },
);

FAMILIES.push(
  bitmain({
    name: 'stock Antminer L3+/D3/E3 (GHS fields in MH/s)',
    version: 'antminer-l3plus__version.json',
    stats: 'antminer-l3plus__stats.txt',
    pools: 'antminer-l3plus__pools.json',
    type: (m) => `Antminer ${m}`,
    models: ['L3+', 'L3++', 'D3', 'E3'],
    first: 1,
    unit: 1e6,
  }),
  {
    name: 'Antminer new_api stats (S21 chain list, GH/s)',
    make: 'Antminer',
    models: ['S21 Pro', 'S21+', 'T21', 'S21 XP', 'S19 XP+'],
    boards: [1, 4],
    chipsPerBoard: [50, 110],
    fans: [0, 6],
    joins: true,
    modelBoards: true,
    replies: (t, rnd) => {
      const base = sample('antminer-s21proplus_2026__stats_new-api.json');
      const info = { ...clone(base.INFO as Obj), type: `Antminer ${t.model}` };
      const rec = clone((base.STATS as Obj[])[0] as Obj);
      const template = ((rec.chain as Obj[])[0] ?? {}) as Obj;
      const rates = split(t.current / 1e9, t.chips.length, rnd);
      rec.chain = t.chips.map((chips, i) => ({
        ...clone(template),
        index: slot(t, i),
        asic_num: chips,
        asic: ` ${'o'.repeat(chips)}`,
        rate_real: rates[i],
        temp_chip: [
          (t.chipTemps[i] as number) - 9,
          (t.chipTemps[i] as number) - 8,
          t.chipTemps[i],
          (t.chipTemps[i] as number) - 4,
        ],
        temp_pcb: [
          (t.boardTemps[i] as number) - 9,
          (t.boardTemps[i] as number) - 8,
          t.boardTemps[i],
          (t.boardTemps[i] as number) - 4,
        ],
        temp_pic: [
          (t.boardTemps[i] as number) - 12,
          (t.boardTemps[i] as number) - 11,
          (t.boardTemps[i] as number) - 3,
          (t.boardTemps[i] as number) - 7,
        ],
      }));
      rec.chain_num = t.chips.length;
      rec.fan = t.fans;
      rec.fan_num = t.fans.length;
      rec.rate_5s = round2(t.current / 1e9);
      rec.rate_avg = round2(t.average / 1e9);
      delete rec.rate_ideal;
      return {
        version: versionReply('antminer-s19pro_2022-12__version.json', (v) => {
          v.Type = `Antminer ${t.model}`;
        }),
        summary: summaryReply('antminer-s19pro_2022-12__summary.json', t, 'GHS 5s', 'GHS av', 1e9),
        stats: { INFO: info, STATUS: base.STATUS, STATS: [rec] },
        pools: poolsReply('antminer-s19pro_2022-12__pools.json', t),
      };
    },
  },
);

FAMILIES.push(
  {
    name: 'SealMiner (bdminer: board-prefixed stats fields)',
    make: 'SealMiner',
    models: ['A2 Pro', 'A3', 'A2 Hyd', 'A4'],
    boards: [1, 4],
    chipsPerBoard: [80, 200],
    fans: [0, 6],
    joins: true,
    chipTemps: false,
    replies: (t, rnd) => {
      const v = 'sealminer-bdminer-4.11.1__';
      const base = sample(`${v}stats.json`);
      const rec: Obj = {};
      for (const [k, val] of Object.entries((base.STATS as Obj[])[0] as Obj))
        if (!/^\d+ /.test(k)) rec[k] = val;
      rec.Model = t.model;
      rec['Board Count'] = t.chips.length;
      rec['Chip Count'] = sum(t.chips);
      rec['Fan Count'] = t.fans.length;
      for (const k of Object.keys(rec)) if (k.startsWith('MHS(')) delete rec[k];
      rec['MHS(30s)'] = round2(t.current / 1e6);
      rec['MHS(Sample)'] = round2(t.current / 1e6);
      rec['MHS(Avg)'] = round2(t.average / 1e6);
      const rates = split(t.current / 1e6, t.chips.length, rnd);
      t.chips.forEach((chips, i) => {
        const n = slot(t, i);
        rec[`${n} Chip Count`] = chips;
        rec[`${n} Bad Chip Count`] = 0;
        rec[`${n} MHS(Sample)`] = rates[i];
        rec[`${n} Online`] = true;
        rec[`${n} Freq`] = 340;
        for (let k = 0; k < 4; k++) rec[`${n} Temp ${k}`] = (t.boardTemps[i] as number) - k;
      });
      t.fans.forEach((rpm, n) => {
        rec[`${n} Speed`] = rpm;
        rec[`${n} PWM`] = 100;
      });
      if (t.fans.length === 0) rec['Liquid Cooling'] = true;
      return {
        version: sample(`${v}version.json`),
        summary: summaryReply(`${v}summary.json`, t, 'MHS 5s', 'MHS av', 1e6),
        stats: { STATUS: base.STATUS, STATS: [rec], id: 1 },
        pools: poolsReply('antminer-s19pro_2022-12__pools.json', t),
      };
    },
  },
  {
    name: 'Hammer (ccminer: MHS strings)',
    make: 'Hammer',
    models: ['D10', 'D9', 'D10+', 'L10'],
    boards: [1, 4],
    chipsPerBoard: [40, 120],
    fans: [0, 6],
    joins: true,
    nominal: 5e9,
    replies: (t, rnd) => {
      const v = 'hammer-d10_2023-05-28__';
      const base = sample(`${v}stats.json`);
      const header = { ...clone((base.STATS as Obj[])[0] as Obj), Type: `Hammer ${t.model}` };
      const dev = bitmainDevice(t, 1, 1e6, rnd, (base.STATS as Obj[])[1] as Obj);
      delete dev['GHS 5s'];
      delete dev['GHS av'];
      dev['MHS 5s'] = (t.current / 1e6).toFixed(4);
      dev['MHS av'] = (t.average / 1e6).toFixed(4);
      return {
        version: versionReply(`${v}version.json`, (x) => {
          x.Type = `Hammer ${t.model}`;
        }),
        summary: summaryReply(`${v}summary.json`, t, 'MHS 5s', 'MHS av', 1e6),
        stats: { STATUS: base.STATUS, STATS: [header, dev], id: 1 },
        pools: poolsReply('antminer-s19pro_2022-12__pools.json', t),
      };
    },
  },
);

FAMILIES.push({
  name: 'Whatsminer API 2.x (HS RT and MHS av only, cgminer 4.9.2 envelope)',
  make: 'Whatsminer',
  models: ['M50S VH40', 'M30S+ VF20', 'M56S++ VK30', 'M63S VL10'],
  boards: [1, 4],
  chipsPerBoard: [60, 215],
  fans: [2, 2],
  joins: true,
  replies: (t, rnd) => {
    const v = 'whatsminer-api-v2.0.5_PLACEHOLDER__';
    const sBase = sample(`${v}summary.json`);
    const rec = clone((sBase.SUMMARY as Obj[])[0] as Obj);
    rec['HS RT'] = round2(t.current / 1e6);
    rec['MHS av'] = round2(t.average / 1e6);
    rec['Chip Temp Max'] = Math.max(...t.chipTemps);
    rec['Fan Speed In'] = t.fans[0];
    rec['Fan Speed Out'] = t.fans[1];
    const dBase = sample(`${v}devs.json`);
    const template = (dBase.DEVS as Obj[])[0] as Obj;
    const avg = split(t.average / 1e6, t.chips.length, rnd);
    const devs = {
      DEVS: t.chips.map((chips, i) => ({
        ...clone(template),
        ASC: slot(t, i),
        ID: slot(t, i),
        Slot: slot(t, i),
        'MHS av': avg[i],
        'Effective Chips': chips,
        'Chip Temp Max': t.chipTemps[i],
        Temperature: t.boardTemps[i],
        'Fan Speed In': t.fans[0],
        'Fan Speed Out': t.fans[1],
      })),
      STATUS: [
        { Code: 9, Description: 'cgminer 4.9.2', Msg: `${t.chips.length} ASC(s)`, STATUS: 'S', When: 1 },
      ],
      id: 1,
    };
    return {
      summary: { STATUS: sBase.STATUS, SUMMARY: [rec], id: 1 },
      devs,
      edevs: devs,
      pools: poolsReply('whatsminer_fw-20210322_api-v1.4__pools.json', t),
      devdetails: {
        STATUS: [{ Code: 69, Description: 'cgminer 4.9.2', Msg: 'Device Details', STATUS: 'S', When: 1 }],
        DEVDETAILS: t.chips.map((_, i) => ({
          DEVDETAILS: i,
          Name: 'SM',
          ID: i,
          Driver: 'bitmicro',
          Model: t.model.replace(/ /g, '_'),
        })),
        id: 1,
      },
      get_version: sample(`${v}get_version.json`),
      status: sample(`${v}status.json`),
    };
  },
});

FAMILIES.push({
  name: 'stock Antminer Z-series (equihash: ksol/s, some builds the total in sol/s)',
  make: 'Antminer',
  models: ['Z11', 'Z11e', 'Z11j', 'Z15', 'Z15 Pro', 'Z9'],
  boards: [1, 4],
  chipsPerBoard: [3, 9],
  fans: [0, 6],
  joins: true,
  nominal: 300e3,
  replies: (t, rnd) => {
    const file = pick(rnd, ['antminer-z11__stats.txt', 'antminer-z15_cgminer-4.9.0__stats.txt']);
    const stats = bitmainStats(file, t, 1, 1e3, rnd, `Antminer ${t.model}`);
    // The Z15's cgminer 4.9.0 writes the totals in sol/s beside chains in ksol/s.
    const solTotal = rnd() < 0.5;
    const device = (stats.STATS as Obj[])[1] as Obj;
    if (solTotal) {
      device['GHS 5s'] = round2(t.current);
      device['GHS av'] = round2(t.average);
    }
    return {
      version: versionReply('antminer-t15__version.json', (v) => {
        v.Type = `Antminer ${t.model}`;
      }),
      summary: summaryReply(
        'antminer-s19pro_2022-12__summary.json',
        t,
        'GHS 5s',
        'GHS av',
        solTotal ? 1 : 1e3,
      ),
      stats,
      pools: poolsReply('antminer-s19pro_2022-12__pools.json', t),
    };
  },
});

function truthFor(family: Family, rnd: Rng): Truth {
  const boards = int(rnd, family.boards[0], family.boards[1]);
  const perBoard = int(rnd, family.chipsPerBoard[0], family.chipsPerBoard[1]);
  const chips = Array.from({ length: boards }, () => (rnd() < 0.3 ? int(rnd, 1, perBoard) : perBoard));
  const chipTemps = Array.from({ length: boards }, () => int(rnd, 25, 118));
  const boardTemps = chipTemps.map((c) => c - int(rnd, 3, 15));
  const fans = Array.from({ length: int(rnd, family.fans[0], family.fans[1]) }, () => int(rnd, 1500, 6600));
  const poolCount = int(rnd, 0, 4);
  const pools = Array.from({ length: poolCount }, (_, i) => ({
    url: `stratum+tcp://pool-${i}-${int(rnd, 100, 999)}.example.invalid:${3333 + i}`,
    user: `farm.w${int(rnd, 1, 999)}`,
  }));
  const nominal = family.nominal ?? 100e12;
  const current = nominal * (0.3 + rnd() * 2.7);
  const average = current * (0.9 + rnd() * 0.2);
  return {
    model: pick(rnd, family.models),
    current,
    average,
    chips,
    chipTemps,
    boardTemps,
    fans,
    pools,
    active: poolCount <= 1 ? 0 : int(rnd, 1, poolCount - 1),
    deadBefore: rnd() < 0.5,
    gap: boards < 4 && rnd() < 0.3 ? int(rnd, 1, boards) : boards,
  };
}

const E14 = (command: string): Obj => ({
  STATUS: [{ STATUS: 'E', When: 1700000000, Code: 14, Msg: 'Invalid command', Description: command }],
  id: 1,
});

type Refusal = 'e14' | 'close' | 'first';
function serve(family: Family, replies: Record<string, Obj>, refusal: Refusal) {
  return (request: string) => {
    let command = request.trim();
    try {
      const parsed = JSON.parse(request) as { command?: string; cmd?: string };
      command = parsed.command ?? parsed.cmd ?? '';
    } catch {
      command = request.split('|')[0] ?? '';
    }
    if (!command.includes('+')) {
      return { kind: 'reply' as const, bytes: JSON.stringify(replies[command] ?? E14(command)) };
    }
    if (!family.joins) {
      // How firmwares refuse a join: E/14 for the whole name (cgminer 3.7.2, minera #125), the
      // connection closed unanswered, or the first member answered alone in the plain layout.
      if (refusal === 'close') return { kind: 'close' as const };
      const first = command.split('+')[0] ?? '';
      if (refusal === 'first')
        return { kind: 'reply' as const, bytes: JSON.stringify(replies[first] ?? E14(first)) };
      return { kind: 'reply' as const, bytes: JSON.stringify(E14(command)) };
    }
    const out: Obj = {};
    for (const name of command.split('+')) if (name !== '') out[name] = [replies[name] ?? E14(name)];
    out.id = 1;
    return { kind: 'reply' as const, bytes: JSON.stringify(out) };
  };
}

interface Read {
  make: string;
  model: string | null;
  current: number | null;
  average: number | null;
  boards: number;
  chips: number;
  maxChip: number | null;
  fans: number;
  pools: number;
  activeUrl: string | null;
}

function expected(family: Family, t: Truth): Read {
  return {
    make: family.make,
    model: t.model,
    current: t.current,
    average: t.average,
    boards: family.modelBoards
      ? Math.max(t.chips.length, lookupModel(family.make, t.model)?.boards ?? 0)
      : t.chips.length,
    chips: sum(t.chips),
    maxChip: family.chipTemps === false ? null : Math.max(...t.chipTemps),
    fans: family.fanSlots
      ? Math.max(t.fans.length, lookupModel(family.make, t.model)?.fans ?? 0)
      : t.fans.length,
    pools: t.pools.length,
    activeUrl: t.pools[t.active]?.url ?? null,
  };
}

let miner: FakeMiner | null = null;
afterEach(async () => {
  await miner?.close();
  miner = null;
});

const CASES_PER_FAMILY = Number(process.env.GEN_CASES ?? 12);

describe('probe --json reads replies generated from every sample family', () => {
  for (const family of FAMILIES) {
    it(family.name, async () => {
      const rnd = mulberry32(0x4a11 + family.name.length * 7919);
      const mismatches: string[] = [];
      for (let n = 0; n < CASES_PER_FAMILY; n++) {
        const t = truthFor(family, rnd);
        const refusal = pick(rnd, ['e14', 'close', 'first'] as const);
        miner = await startFakeMiner(serve(family, family.replies(t, rnd), refusal));
        const ctx = memoryContext();
        const code = await runCli(['probe', miner.target.key, '--json', '--retries', '0'], ctx);
        await miner.close();
        miner = null;
        const doc = JSON.parse(ctx.out()) as Obj;
        const s = doc.snapshot as
          | (Obj & {
              hashrate: { current_hs: number | null; average_hs: number | null };
              boards: { chips: number | null }[];
              fans: unknown[];
              pools: { url: string; active: boolean }[];
            })
          | undefined;
        if (code !== 0 || s === undefined) {
          mismatches.push(
            `#${n} ${t.model} (${refusal}): exit ${code} ${ctx.out().slice(0, 300)} ${ctx.err()}`,
          );
          continue;
        }
        const got: Read = {
          make: s.make as string,
          model: s.model as string | null,
          current: s.hashrate.current_hs,
          average: s.hashrate.average_hs,
          boards: s.boards.length,
          chips: sum(s.boards.map((b) => b.chips ?? 0)),
          maxChip: s.temp_max_chip_c as number | null,
          fans: s.fans.length,
          pools: s.pools.length,
          activeUrl: s.pools.find((p) => p.active)?.url ?? null,
        };
        const want = expected(family, t);
        for (const key of Object.keys(want) as (keyof Read)[]) {
          const a = got[key];
          const b = want[key];
          const same =
            (key === 'current' || key === 'average') && typeof a === 'number' && typeof b === 'number'
              ? Math.abs(a - b) <= b * 0.01
              : a === b;
          if (!same) mismatches.push(`#${n} ${t.model} ${key}: got ${a}, want ${b}`);
        }
      }
      expect(mismatches).toEqual([]);
    });
  }
});
