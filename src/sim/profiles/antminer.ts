// Bitmain stock firmware and the aftermarket builds on its base (Vnish, Hiveon): the bmminer
// dialect of §8.1–8.2. Field names, order and formats follow the captures listed in `samples`.
import { READ_JOINABLE, reply, upstreamCommands, upstreamReports } from '../commands.js';
import { fx, type Rec } from '../json.js';
import { type Readings, readings } from '../state.js';
import type { CommandCtx, CommandSpec, Profile } from '../types.js';
import {
  bitmainPools,
  chipString,
  epochS,
  GH,
  MH,
  numberedKeys,
  poolsCommand,
  shareTotals,
  sinceHms,
} from './common.js';

export interface BitmainIdentity {
  /** VERSION/STATS header key: `BMMiner`, `CGMiner` or Vnish's `Cgminer` in stats. */
  versionKey: string;
  statsHeaderKey: string;
  minerVersion: string;
  api: string;
  miner: string;
  compileTime: string;
  type: string;
  /** STATUS Msg prefix: `BMMiner` (S9 bmminer 2.0.0) or `CGMiner`. */
  msgPrefix: string;
  /** Hashrate unit of the `GHS` fields: GH/s for SHA-256, MH/s for scrypt (§9). */
  unitHs: number;
}

/** Numbered stats keys (`temp2_7`), built once. */
const KEY_CHAIN_ACN = numberedKeys('chain_acn');
const KEY_CHAIN_ACS = numberedKeys('chain_acs');
const KEY_CHAIN_HW = numberedKeys('chain_hw');
const KEY_CHAIN_RATE = numberedKeys('chain_rate');
const KEY_CHAIN_RATEIDEAL = numberedKeys('chain_rateideal');
const KEY_FAN = numberedKeys('fan');
const KEY_FREQ = numberedKeys('freq');
const KEY_FREQ_AVG = numberedKeys('freq_avg');
const KEY_TEMP = numberedKeys('temp');
const KEY_TEMP2U = numberedKeys('temp2_');
const KEY_TEMP3 = numberedKeys('temp3');
const KEY_TEMP3U = numberedKeys('temp3_');
const KEY_TEMP4U = numberedKeys('temp4_');
const KEY_TEMP_CHIP = numberedKeys('temp_chip');
const KEY_TEMP_PCB = numberedKeys('temp_pcb');
const KEY_TEMP_PIC = numberedKeys('temp_pic');

function ok(ctx: CommandCtx, code: number, msg: string, section: string, records: Rec[]) {
  return reply(ctx, 'S', code, msg, section, records);
}

function versionCommand(id: BitmainIdentity, extra: Rec = {}): CommandSpec {
  return READ_JOINABLE((ctx) => {
    const record: Rec = { [id.versionKey]: id.minerVersion, API: id.api };
    if (id.miner !== '')
      Object.assign(record, { Miner: id.miner, CompileTime: id.compileTime, Type: id.type });
    return ok(ctx, 22, `${id.msgPrefix} versions`, 'VERSION', [{ ...record, ...extra }]);
  });
}

function statsHeader(id: BitmainIdentity): Rec {
  return {
    [id.statsHeaderKey]: id.minerVersion,
    Miner: id.miner,
    CompileTime: id.compileTime,
    Type: id.type,
  };
}

/** bmminer summary (antminer-s19pro_2022-12__summary; S9 era prints `GHS 5s` as a string). */
function bitmainSummary(ctx: CommandCtx, r: Readings, id: BitmainIdentity, era: 's9' | 's19'): Rec {
  const t = shareTotals(ctx);
  const ghs5s = r.currentHs / id.unitHs;
  const record: Rec = {
    Elapsed: r.uptimeS,
    'GHS 5s': era === 's9' ? ghs5s.toFixed(2) : fx(ghs5s, 2),
    'GHS av': fx(r.averageHs / id.unitHs, 2),
  };
  if (era === 's19') record['GHS 30m'] = fx(r.windowHs(1800) / id.unitHs, 2);
  Object.assign(record, {
    'Found Blocks': 0,
    Getwork: Math.floor(r.uptimeS / 13),
    Accepted: t.accepted,
    Rejected: t.rejected,
    'Hardware Errors': t.hw,
    Utility: fx(r.uptimeS > 0 ? (t.accepted * 60) / r.uptimeS : 0, 2),
    Discarded: Math.floor(r.uptimeS * 90),
    Stale: 0,
    'Get Failures': 0,
    'Local Work': Math.floor(r.uptimeS * 90),
    'Remote Failures': 0,
    'Network Blocks': Math.floor(r.uptimeS / 600),
    'Total MH': fx(r.totalHashes / MH, 4),
    // Diff-1 work per minute, the rejected included (the capture: 1,554,353.85 at 111.8 TH/s).
    'Work Utility': fx(r.uptimeS > 0 ? ((t.diffAccepted + t.diffRejected) * 60) / r.uptimeS : 0, 2),
    'Difficulty Accepted': fx(t.diffAccepted, 8),
    'Difficulty Rejected': fx(t.diffRejected, 8),
    'Difficulty Stale': fx(0, 8),
    'Best Share': Math.floor(ctx.state.bestShare),
    'Device Hardware%': fx(t.accepted > 0 ? (t.hw * 100) / (t.hw + t.accepted * 100) : 0, 4),
    'Device Rejected%': fx(t.accepted > 0 ? (t.rejected * 100) / (t.accepted + t.rejected) : 0, 4),
    'Pool Rejected%': fx(t.accepted > 0 ? (t.rejected * 100) / (t.accepted + t.rejected) : 0, 4),
    'Pool Stale%': fx(0, 4),
    'Last getwork': Math.floor(ctx.now / 1000),
  });
  return record;
}

/** S9-generation device record: 16 slots, used chains 6,7,8, fans 5,6 (antminer-s9_bad-temps__stats). */
function s9EraDevice(
  ctx: CommandCtx,
  r: Readings,
  id: BitmainIdentity,
  driverId: string,
  frequency: number | string,
  slots: number,
): Rec {
  const byChain = new Map(r.boards.map((b) => [b.board.chain, b]));
  const byFan = new Map(r.fans.map((f) => [f.fan.slot, f]));
  const rec: Rec = {
    STATS: 0,
    ID: driverId,
    Elapsed: r.uptimeS,
    Calls: 0,
    Wait: fx(0, 6),
    Max: fx(0, 6),
    Min: fx(99999999, 6),
    'GHS 5s': (r.currentHs / id.unitHs).toFixed(2),
    'GHS av': fx(r.averageHs / id.unitHs, 2),
    miner_count: r.boards.length,
    frequency,
    fan_num: r.fans.filter((f) => f.rpm > 0).length,
  };
  const fanSlots = slots === 16 ? 8 : r.fans.length;
  for (let i = 1; i <= fanSlots; i++) rec[KEY_FAN(i)] = byFan.get(i)?.rpm ?? 0;
  rec.temp_num = r.boards.length;
  for (let i = 1; i <= slots; i++) rec[KEY_TEMP(i)] = Math.round(byChain.get(i)?.pcbC ?? 0);
  for (let i = 1; i <= slots; i++) rec[KEY_TEMP2U(i)] = Math.round(byChain.get(i)?.chipC ?? 0);
  for (let i = 1; i <= slots; i++) rec[KEY_TEMP3U(i)] = 0;
  for (let i = 1; i <= slots; i++) rec[KEY_FREQ_AVG(i)] = fx(byChain.get(i)?.frequencyMhz ?? 0, 2);
  rec.total_rateideal = fx(r.nominalHs / id.unitHs, 2);
  rec.total_freqavg = fx(r.boards[0]?.frequencyMhz ?? 0, 2);
  rec.total_acn = r.boards.reduce((n, b) => n + b.board.chips, 0);
  rec.total_rate = fx(r.currentHs / id.unitHs, 2);
  for (let i = 1; i <= slots; i++)
    rec[KEY_CHAIN_RATEIDEAL(i)] = fx((byChain.get(i)?.nominalHs ?? 0) / id.unitHs, 2);
  rec.temp_max = Math.round(r.boardMaxC);
  rec['Device Hardware%'] = fx(0.0184, 4);
  rec.no_matching_work = Math.floor(ctx.state.hwErrors);
  for (let i = 1; i <= slots; i++) rec[KEY_CHAIN_ACN(i)] = byChain.get(i)?.board.chips ?? 0;
  for (let i = 1; i <= slots; i++) {
    const b = byChain.get(i);
    rec[KEY_CHAIN_ACS(i)] = b ? chipString(b.board.chips, b.board.chipsExpected, 8) : '';
  }
  for (let i = 1; i <= slots; i++)
    rec[KEY_CHAIN_HW(i)] = Math.floor(ctx.state.hwErrors * (byChain.get(i)?.workShare ?? 0));
  for (let i = 1; i <= slots; i++) {
    const b = byChain.get(i);
    rec[KEY_CHAIN_RATE(i)] = b ? (b.currentHs / id.unitHs).toFixed(2) : '';
  }
  return rec;
}

/** S17/S19 generation device record, 4 slots (antminer-s19pro_2022-12__stats). */
export function s19EraDevice(ctx: CommandCtx, r: Readings, id: BitmainIdentity, driverId: string): Rec {
  const slot = (i: number) => r.boards[i - 1];
  const rec: Rec = {
    STATS: 0,
    ID: driverId,
    Elapsed: r.uptimeS,
    Calls: 0,
    Wait: 0,
    Max: 0,
    Min: 99999999,
    'GHS 5s': fx(r.currentHs / id.unitHs, 2),
    'GHS av': fx(r.averageHs / id.unitHs, 2),
    rate_30m: fx(r.windowHs(1800) / id.unitHs, 2),
    Mode: ctx.state.sleeping ? 254 : 2,
    miner_count: r.boards.length,
    frequency: ctx.profile.frequencyMhz,
    fan_num: r.fans.length,
  };
  for (const f of r.fans) rec[KEY_FAN(f.fan.slot)] = f.rpm;
  rec.temp_num = r.boards.length;
  r.boards.forEach((b, i) => {
    rec[KEY_TEMP(i + 1)] = Math.round(b.pcbC);
    rec[KEY_TEMP2U(i + 1)] = Math.round(b.chipC);
  });
  const dash = (i: number, offset: number) => {
    const b = slot(i);
    if (!b) return '0-0-0-0';
    const hot = Math.round(b.pcbC) + offset;
    const cool = Math.round(b.inletC) + offset;
    return `${hot}-${cool}-${hot - 9}-${hot - 8}`;
  };
  for (let i = 1; i <= 4; i++) rec[KEY_TEMP_PCB(i)] = dash(i, 0);
  for (let i = 1; i <= 4; i++) rec[KEY_TEMP_CHIP(i)] = dash(i, 5);
  for (let i = 1; i <= 4; i++) rec[KEY_TEMP_PIC(i)] = dash(i, -10);
  Object.assign(rec, {
    total_rateideal: fx(r.nominalHs / id.unitHs, 1),
    rate_unit: 'GH',
    total_freqavg: ctx.profile.frequencyMhz,
    total_acn: r.boards.reduce((n, b) => n + b.board.chips, 0),
    'total rate': fx(r.windowHs(60) / id.unitHs, 2),
    temp_max: 0,
    no_matching_work: Math.floor(ctx.state.hwErrors),
  });
  for (let i = 1; i <= 4; i++) rec[KEY_CHAIN_ACN(i)] = slot(i)?.board.chips ?? 0;
  for (let i = 1; i <= 4; i++) {
    const b = slot(i);
    rec[KEY_CHAIN_ACS(i)] = b ? chipString(b.board.chips, b.board.chipsExpected, 3) : '';
  }
  for (let i = 1; i <= 4; i++)
    rec[KEY_CHAIN_HW(i)] = Math.floor(ctx.state.hwErrors * (slot(i)?.workShare ?? 0));
  for (let i = 1; i <= 4; i++) {
    const b = slot(i);
    rec[KEY_CHAIN_RATE(i)] = b ? (b.currentHs / id.unitHs).toFixed(2) : '';
  }
  for (let i = 1; i <= 4; i++) rec[KEY_FREQ(i)] = slot(i)?.frequencyMhz ?? 0;
  rec.miner_version = id.miner;
  rec.miner_id = ctx.miner.key
    .replace(/[^0-9]/g, '')
    .padStart(16, '8')
    .slice(-16);
  return rec;
}

/** Upstream-shaped per-chain `devs` (no S9-era capture exists; fields as upstream api.c). */
function perChainDevs(ctx: CommandCtx, r: Readings, name: string): Rec[] {
  const t = shareTotals(ctx);
  return r.boards.map((b, i) => ({
    ASC: i,
    Name: name,
    ID: i,
    Enabled: 'Y',
    Status: b.board.dead ? 'Dead' : 'Alive',
    Temperature: fx(b.pcbC, 2),
    'MHS av': fx(b.averageHs / MH, 2),
    'MHS 5s': fx(b.currentHs / MH, 2),
    'MHS 1m': fx(b.windowHs(60) / MH, 2),
    'MHS 5m': fx(b.windowHs(300) / MH, 2),
    'MHS 15m': fx(b.windowHs(900) / MH, 2),
    Accepted: Math.floor(t.accepted * b.workShare),
    Rejected: Math.floor(t.rejected * b.workShare),
    'Hardware Errors': Math.floor(t.hw * b.workShare),
    Utility: fx(0, 2),
    'Last Share Pool': 0,
    'Last Share Time': b.workShare > 0 ? epochS(r.lastShareAtMs) : 0,
    'Total MH': fx((r.totalHashes * b.workShare) / MH, 4),
    'Diff1 Work': 0,
    'Difficulty Accepted': fx(Math.floor(t.accepted * b.workShare) * ctx.profile.shareDiff, 8),
    'Difficulty Rejected': fx(0, 8),
    'Last Share Difficulty': fx(b.workShare > 0 ? ctx.profile.shareDiff : 0, 8),
    'Last Valid Work': b.workShare > 0 ? epochS(r.lastShareAtMs) : 0,
    'Device Hardware%': fx(0, 4),
    'Device Rejected%': fx(0, 4),
    'Device Elapsed': r.uptimeS,
  }));
}

/** S19-2022 `devs`: one BTM_SOC device with zeroed rates and the misspelled `Tenperature`. */
function s19Devs(ctx: CommandCtx, r: Readings): Rec[] {
  const t = shareTotals(ctx);
  return [
    {
      ASC: 0,
      Name: 'BTM_SOC',
      ID: 0,
      Enabled: 'Y',
      Status: 'Alive',
      Tenperature: 0.0,
      'MHS av': 0.0,
      'MHS 5s': 0.0,
      Accepted: t.accepted,
      Rejected: t.rejected,
      'Hardware Errors': 0,
      Utility: 0.0,
      'Last Share Pool': 0,
      'Last Share Time': epochS(r.lastShareAtMs),
      'Total MH': 0.0,
      'Diff1 Work': 0,
      'Difficulty Accepted': t.diffAccepted,
      'Difficulty Rejected': t.diffRejected,
      'Last Share Difficulty': epochS(r.lastShareAtMs),
      'Last Valid Work': epochS(r.lastShareAtMs),
      'Device Hardware%': 0.0,
      'Device Rejected%': 0.0,
      'Device Elapsed': r.uptimeS,
    },
  ];
}

function statsSpec(build: (ctx: CommandCtx, r: Readings) => Rec[], msg: string, glue: boolean): CommandSpec {
  return READ_JOINABLE((ctx) => {
    const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
    return { ...ok(ctx, 70, msg, 'STATS', build(ctx, r)), glue };
  });
}

function bitmainProfile(
  base: Omit<Profile, 'commands' | 'native' | 'samples'>,
  id: BitmainIdentity,
  era: 's9' | 's19',
  extra: {
    samples: string[];
    stats: CommandSpec;
    devs: CommandSpec;
    pools?: CommandSpec;
    versionExtra?: Rec;
    more?: Record<string, CommandSpec>;
  },
): Profile {
  return {
    ...base,
    samples: extra.samples,
    restartReadsConfig: true,
    commands: {
      ...upstreamReports(id.msgPrefix),
      ...upstreamCommands(),
      version: versionCommand(id, extra.versionExtra),
      summary: READ_JOINABLE((ctx) =>
        ok(ctx, 11, 'Summary', 'SUMMARY', [
          bitmainSummary(ctx, readings(ctx.state, ctx.profile, ctx.now, ctx.rng), id, era),
        ]),
      ),
      stats: extra.stats,
      devs: extra.devs,
      pools: extra.pools ?? poolsCommand((ctx) => bitmainPools(ctx)),
      // Outside group A, so stock units answer E/45 (pyasic #44); with write access they answer.
      devdetails: READ_JOINABLE((ctx) =>
        ok(
          ctx,
          69,
          'Device Details',
          'DEVDETAILS',
          ctx.state.boards.map((_, i) => ({
            DEVDETAILS: i,
            Name: 'BTM',
            ID: i,
            Driver: 'bitmain',
            Kernel: '',
            Model: id.type,
            'Device Path': '',
          })),
        ),
      ),
      config: READ_JOINABLE((ctx) =>
        ok(ctx, 33, `${id.msgPrefix} config`, 'CONFIG', [
          {
            'ASC Count': ctx.state.boards.length,
            'PGA Count': 0,
            'Pool Count': ctx.state.pools.length,
            Strategy: 'Failover',
            'Log Interval': 5,
            'Device Code': '',
            OS: 'Linux',
            Hotplug: 'None',
          },
        ]),
      ),
      ...extra.more,
    },
  };
}

const ANTPOOL = [
  { url: 'stratum+tcp://stratum.antpool.com:3333', user: 'antminer_1' },
  { url: 'stratum+tcp://stratum.antpool.com:443', user: 'antminer_1' },
  { url: 'stratum+tcp://stratum.antpool.com:25', user: 'antminer_1' },
];

const S9_ID: BitmainIdentity = {
  versionKey: 'BMMiner',
  statsHeaderKey: 'BMMiner',
  minerVersion: '2.0.0',
  api: '3.1',
  miner: '16.8.1.3',
  compileTime: 'Fri Nov 17 17:37:49 CST 2017',
  type: 'Antminer S9',
  msgPrefix: 'BMMiner',
  unitHs: GH,
};

const S9_BASE = {
  make: 'Antminer',
  model: 'Antminer S9',
  algorithm: 'sha256d' as const,
  nominalHs: 13.5e12,
  chains: [6, 7, 8],
  chipsPerChain: 63,
  fanSlots: [5, 6],
  fanMaxRpm: 6000,
  frequencyMhz: 650,
  chipRiseC: 30,
  minFanPct: 30,
  limits: { target: 75, hot: 85, dangerous: 90 },
  joins: true,
  nul: true,
  watts: 1320,
  shareDiff: 65536,
  pools: ANTPOOL,
};

export const antminerS9: Profile = bitmainProfile(
  {
    ...S9_BASE,
    name: 'antminer-s9',
    firmware: { name: 'bmminer', version: '2.0.0' },
    defaultAccess: 'groupA',
    description: 'bmminer 1.0.0',
  },
  S9_ID,
  's9',
  {
    samples: [
      'antminer-s9_bmminer-2.0.0__version.json',
      'antminer-s9_bad-temps__stats.txt',
      'antminer-s17pro__pools.json',
    ],
    stats: statsSpec(
      (ctx, r) => [statsHeader(S9_ID), s9EraDevice(ctx, r, S9_ID, 'BC50', ctx.profile.frequencyMhz, 16)],
      'BMMiner stats',
      true,
    ),
    devs: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      return ok(ctx, 9, `${r.boards.length} ASC(s)`, 'DEVS', perChainDevs(ctx, r, 'BC5'));
    }),
  },
);

const VNISH_ID: BitmainIdentity = {
  ...S9_ID,
  versionKey: 'CGMiner',
  statsHeaderKey: 'Cgminer',
  minerVersion: '4.11.1',
  api: '3.7',
  miner: '26.0.1.3',
  compileTime: 'Fri May  8 15:27:59 CST 2020',
  type: 'Antminer S9 (vnish 3.8.6)',
  msgPrefix: 'CGMiner',
};

export const vnishS9: Profile = bitmainProfile(
  {
    ...S9_BASE,
    name: 'vnish',
    firmware: { name: 'vnish', version: '3.8.6' },
    frequencyMhz: 600,
    defaultAccess: 'read',
    description: 'cgminer 4.11.1',
    pools: [
      { url: 'stratum+tcp://solo.antpool.com:3333', user: 'antminer_1' },
      { url: 'stratum+tcp://stratum.antpool.com:3333', user: 'antminer_1' },
      { url: 'stratum+tcp://cn.ss.btc.com:3333', user: 'antminer.1', alive: false },
    ],
  },
  VNISH_ID,
  's9',
  {
    samples: ['vnish-s9_3.8.6__version.json', 'vnish-s9_3.8.6__stats.txt', 'vnish-s9_3.8.6__pools.json'],
    stats: statsSpec(
      (ctx, r) => [
        statsHeader(VNISH_ID),
        s9EraDevice(ctx, r, VNISH_ID, 'BC50', String(ctx.profile.frequencyMhz), 16),
      ],
      'CGMiner stats',
      true,
    ),
    devs: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      return ok(ctx, 9, `${r.boards.length} ASC(s)`, 'DEVS', perChainDevs(ctx, r, 'BC5'));
    }),
    // Vnish lists its dev fee as a pool row (audit-facts §4): URL and User "DevFee", Priority 993.
    pools: poolsCommand((ctx) => {
      const rows = bitmainPools(ctx, { boost: true });
      const devFee = { ...(rows[0] ?? {}) } as Rec;
      Object.assign(devFee, {
        POOL: rows.length,
        URL: 'DevFee',
        Status: 'Alive',
        Priority: 993,
        User: 'DevFee',
        Accepted: Math.floor(ctx.state.accepted * 0.025),
        Diff: '512',
        'Last Share Time': sinceHms(ctx.now, ctx.now - 186000),
        'Stratum Active': false,
        'Stratum URL': '',
        'Best Share': 25363,
      });
      return [...rows, devFee];
    }),
  },
);

const HIVEON_ID: BitmainIdentity = {
  ...S9_ID,
  minerVersion: '2.0.0 rwglr',
  miner: '30.0.1.3',
  compileTime: 'Tue Nov 20 10:12:30 UTC 2019',
  type: 'Antminer S9 Hiveon',
};

export const hiveonS9: Profile = bitmainProfile(
  {
    ...S9_BASE,
    name: 'hiveon',
    firmware: { name: 'hiveon', version: '2.0.0 rwglr' },
    frequencyMhz: 550,
    defaultAccess: 'read',
    description: 'bmminer 1.0.0',
  },
  HIVEON_ID,
  's9',
  {
    samples: ['hiveon-s9__version.json', 'hiveon-s9__stats.txt'],
    stats: statsSpec(
      (ctx, r) => [
        statsHeader(HIVEON_ID),
        s9EraDevice(ctx, r, HIVEON_ID, 'BC50', String(ctx.profile.frequencyMhz), 16),
      ],
      'BMMiner stats',
      true,
    ),
    devs: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      return ok(ctx, 9, `${r.boards.length} ASC(s)`, 'DEVS', perChainDevs(ctx, r, 'BC5'));
    }),
  },
);

const L3_ID: BitmainIdentity = {
  versionKey: 'CGMiner',
  statsHeaderKey: 'CGMiner',
  minerVersion: '4.9.0',
  api: '3.1',
  miner: '1.0.1.3',
  compileTime: 'Fri Aug 25 17:28:57 CST 2017',
  type: 'Antminer L3+',
  msgPrefix: 'CGMiner',
  // The L3+ prints MH/s under the `GHS` labels (§9).
  unitHs: MH,
};

/** L3+ stats: 4 chains, fans 1-2, `temp31..34` keys (antminer-l3plus__stats.txt). */
function l3Device(ctx: CommandCtx, r: Readings): Rec {
  const rec: Rec = {
    STATS: 0,
    ID: 'L30',
    Elapsed: r.uptimeS,
    Calls: 0,
    Wait: fx(0, 6),
    Max: fx(0, 6),
    Min: fx(99999999, 6),
    'GHS 5s': (r.currentHs / MH).toFixed(2),
    'GHS av': fx(r.averageHs / MH, 2),
    miner_count: r.boards.length,
    frequency: String(ctx.profile.frequencyMhz),
    fan_num: r.fans.length,
  };
  for (const f of r.fans) rec[KEY_FAN(f.fan.slot)] = f.rpm;
  rec.temp_num = r.boards.length;
  r.boards.forEach((b, i) => {
    rec[KEY_TEMP(i + 1)] = Math.round(b.pcbC);
  });
  r.boards.forEach((b, i) => {
    rec[KEY_TEMP2U(i + 1)] = Math.round(b.chipC);
  });
  r.boards.forEach((_, i) => {
    rec[KEY_TEMP3(i + 1)] = 0;
  });
  r.boards.forEach((_, i) => {
    rec[KEY_TEMP4U(i + 1)] = 0;
  });
  rec.temp_max = Math.round(r.boardMaxC);
  rec['Device Hardware%'] = fx(0, 4);
  rec.no_matching_work = Math.floor(ctx.state.hwErrors);
  r.boards.forEach((b, i) => {
    rec[KEY_CHAIN_ACN(i + 1)] = b.board.chips;
  });
  r.boards.forEach((b, i) => {
    rec[KEY_CHAIN_ACS(i + 1)] = chipString(b.board.chips, b.board.chipsExpected, 8);
  });
  r.boards.forEach((b, i) => {
    rec[KEY_CHAIN_HW(i + 1)] = Math.floor(ctx.state.hwErrors * b.workShare);
  });
  r.boards.forEach((b, i) => {
    rec[KEY_CHAIN_RATE(i + 1)] = (b.currentHs / MH).toFixed(2);
  });
  return rec;
}

export const antminerL3plus: Profile = bitmainProfile(
  {
    name: 'antminer-l3plus',
    make: 'Antminer',
    model: 'Antminer L3+',
    firmware: { name: 'cgminer', version: '4.9.0' },
    algorithm: 'scrypt',
    nominalHs: 504e6,
    chains: [1, 2, 3, 4],
    chipsPerChain: 72,
    fanSlots: [1, 2],
    fanMaxRpm: 5000,
    frequencyMhz: 384,
    chipRiseC: 24,
    minFanPct: 30,
    limits: { target: 70, hot: 80, dangerous: 90 },
    joins: true,
    defaultAccess: 'groupA',
    nul: true,
    description: 'cgminer 4.9.0',
    watts: 800,
    shareDiff: 65536 / 1024,
    pools: [
      { url: 'stratum+tcp://us.litecoinpool.org:3333', user: 'farm.l3_1' },
      { url: 'stratum+tcp://us2.litecoinpool.org:3333', user: 'farm.l3_1' },
    ],
  },
  L3_ID,
  's9',
  {
    samples: ['antminer-l3plus__version.json', 'antminer-l3plus__stats.txt', 'antminer-l3plus__pools.json'],
    stats: statsSpec((ctx, r) => [statsHeader(L3_ID), l3Device(ctx, r)], 'CGMiner stats', true),
    devs: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      return ok(ctx, 9, `${r.boards.length} ASC(s)`, 'DEVS', perChainDevs(ctx, r, 'L3'));
    }),
  },
);

const S19_ID: BitmainIdentity = {
  versionKey: 'BMMiner',
  statsHeaderKey: 'BMMiner',
  minerVersion: '1.0.0',
  api: '3.1',
  miner: '49.0.1.3',
  compileTime: 'Tue Dec  6 16:12:30 CST 2022',
  type: 'Antminer S19 Pro',
  msgPrefix: 'CGMiner',
  unitHs: GH,
};

const S19_BASE = {
  make: 'Antminer',
  algorithm: 'sha256d' as const,
  fanSlots: [1, 2, 3, 4],
  fanMaxRpm: 6600,
  frequencyMhz: 525,
  chipRiseC: 32,
  minFanPct: 25,
  limits: { target: 75, hot: 90, dangerous: 95 },
  defaultAccess: 'groupA' as const,
  nul: true,
  description: 'cgminer 1.0.0',
  shareDiff: 524288,
  pools: [
    { url: 'stratum+tcp://btc.global.luxor.tech:700', user: 'farm.s19' },
    { url: 'stratum+tcp://btc.global.luxor.tech:700', user: 'farm.s19' },
    { url: 'stratum+tcp://btc.global.luxor.tech:700', user: 'farm.s19' },
  ],
};

/** Stock S19 Pro, Dec 2022 firmware. This one refuses multi-commands, as pyasic reports (§4). */
export const antminerS19: Profile = bitmainProfile(
  {
    ...S19_BASE,
    name: 'antminer-s19',
    model: 'Antminer S19 Pro',
    firmware: { name: 'bmminer', version: '1.0.0' },
    nominalHs: 110e12,
    chains: [1, 2, 3],
    chipsPerChain: 114,
    joins: false,
    watts: 3250,
  },
  S19_ID,
  's19',
  {
    samples: [
      'antminer-s19pro_2022-12__version.json',
      'antminer-s19pro_2022-12__stats.json',
      'antminer-s19pro_2022-12__summary.json',
      'antminer-s19pro_2022-12__pools.json',
      'antminer-s19pro_2022-12__devs.json',
    ],
    stats: statsSpec(
      (ctx, r) => [statsHeader(S19_ID), s19EraDevice(ctx, r, S19_ID, 'BTM_SOC0')],
      'CGMiner stats',
      false,
    ),
    devs: READ_JOINABLE((ctx) =>
      ok(ctx, 9, '1 ASC(s)', 'DEVS', s19Devs(ctx, readings(ctx.state, ctx.profile, ctx.now, ctx.rng))),
    ),
    pools: poolsCommand((ctx) => bitmainPools(ctx, { staleKey: 'Pool Stale%%' })),
  },
);

const S21_ID: BitmainIdentity = {
  ...S19_ID,
  miner: 'uart_trans.1.3',
  compileTime: 'Thu Apr 30 20:05:42 CST 2026',
  type: 'Antminer S21 Pro+',
};

/** new_api schema (antminer-s21proplus_2026__stats_new-api): STATUS object, INFO, no `id`. */
function newApiEnvelope(ctx: CommandCtx, msg: string, section: string, records: Rec[]): Rec {
  return {
    INFO: { CompileTime: S21_ID.compileTime, miner_version: S21_ID.miner, type: S21_ID.type },
    [section]: records,
    STATUS: { Msg: msg, STATUS: 'S', api_version: '1.0.0', when: Math.floor(ctx.now / 1000) },
  };
}

function s21NewApiStats(ctx: CommandCtx, r: Readings): Rec {
  const chain = r.boards.map((b, i) => {
    const pcb = Math.round(b.pcbC);
    const cool = Math.round(b.inletC);
    return {
      asic: chipString(b.board.chips, b.board.chipsExpected, 5),
      asic_num: b.board.chips,
      freq_avg: b.frequencyMhz,
      index: i,
      rate_ideal: fx(b.nominalHs / GH, 1),
      rate_real: fx(b.currentHs / GH, 2),
      sn: `SIMULATED-${ctx.miner.index}-${i}`,
      temp_chip: [cool + 5, cool + 5, pcb + 5, pcb + 5],
      temp_pcb: [cool, pcb - 2, pcb, pcb],
      temp_pic: [cool - 10, pcb - 12, pcb - 10, pcb - 10],
    };
  });
  return {
    chain,
    chain_num: r.boards.length,
    elapsed: r.uptimeS,
    fan: r.fans.map((f) => f.rpm),
    fan_num: r.fans.length,
    rate_5s: fx(r.currentHs / GH, 2),
    rate_avg: fx(r.averageHs / GH, 2),
    rate_ideal: fx(r.nominalHs / GH, 1),
    rate_unit: 'GH/s',
    watt: r.watts,
  };
}

export const antminerS21: Profile = bitmainProfile(
  {
    ...S19_BASE,
    name: 'antminer-s21',
    model: 'Antminer S21 Pro+',
    firmware: { name: 'bmminer', version: 'uart_trans.1.3' },
    nominalHs: 245e12,
    chains: [1, 2, 3],
    chipsPerChain: 65,
    fanMaxRpm: 6000,
    frequencyMhz: 625,
    joins: true,
    watts: 3500,
  },
  S21_ID,
  's19',
  {
    samples: [
      'antminer-s21proplus_2026__stats_new-api.json',
      'antminer-s19pro_2022-12__version.json',
      'antminer-s19pro_2022-12__summary.json',
    ],
    stats: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      if (ctx.newApi)
        return { type: 'object', object: newApiEnvelope(ctx, 'stats', 'STATS', [s21NewApiStats(ctx, r)]) };
      return {
        ...ok(ctx, 70, 'CGMiner stats', 'STATS', [
          statsHeader(S21_ID),
          s19EraDevice(ctx, r, S21_ID, 'BTM_SOC0'),
        ]),
        glue: false,
      };
    }),
    devs: READ_JOINABLE((ctx) =>
      ok(ctx, 9, '1 ASC(s)', 'DEVS', s19Devs(ctx, readings(ctx.state, ctx.profile, ctx.now, ctx.rng))),
    ),
    pools: READ_JOINABLE((ctx) => {
      if (!ctx.newApi) return ok(ctx, 7, `${ctx.state.pools.length} Pool(s)`, 'POOLS', bitmainPools(ctx));
      // No 4028 capture of new_api pools exists; the layout follows the web /cgi-bin/pools.cgi schema.
      const rows = bitmainPools(ctx).map((p, i) => ({
        index: i,
        url: p.URL ?? '',
        user: p.User ?? '',
        status: p.Status ?? '',
        priority: p.Priority ?? i,
        getworks: p.Getworks ?? 0,
        accepted: p.Accepted ?? 0,
        rejected: p.Rejected ?? 0,
        discarded: p.Discarded ?? 0,
        stale: p.Stale ?? 0,
        diff: p.Diff ?? '',
        lstime: p['Last Share Time'] ?? '0',
      }));
      return { type: 'object', object: newApiEnvelope(ctx, 'pools', 'POOLS', rows) };
    }),
  },
);

export function summaryNewApi(profile: Profile): CommandSpec {
  const classic = profile.commands.summary as CommandSpec;
  return READ_JOINABLE((ctx) => {
    if (!ctx.newApi) return classic.run(ctx);
    const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
    const t = shareTotals(ctx);
    // Web /cgi-bin/summary.cgi layout (no 4028 capture of new_api summary exists).
    return {
      type: 'object',
      object: newApiEnvelope(ctx, 'summary', 'SUMMARY', [
        {
          elapsed: r.uptimeS,
          rate_5s: fx(r.currentHs / GH, 2),
          rate_30m: fx(r.windowHs(1800) / GH, 2),
          rate_avg: fx(r.averageHs / GH, 2),
          rate_ideal: fx(r.nominalHs / GH, 1),
          rate_unit: 'GH/s',
          hw_all: t.hw,
          bestshare: Math.floor(ctx.state.bestShare),
          status: [
            { type: 'rate', status: r.currentHs > 0 ? 's' : 'w', code: 0, msg: '' },
            { type: 'network', status: 's', code: 0, msg: '' },
            { type: 'fans', status: r.fans.every((f) => f.rpm > 0) ? 's' : 'e', code: 0, msg: '' },
            { type: 'temp', status: r.chipMaxC < ctx.state.limits.hot ? 's' : 'w', code: 0, msg: '' },
          ],
        },
      ]),
    };
  });
}
antminerS21.commands.summary = summaryNewApi(antminerS21);
