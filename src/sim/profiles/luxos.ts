// LuxOS (LUXminer 2025.4.8 on an S19k Pro, §8.4): bmminer-compatible stats plus temps, fans,
// power, config, profiles, events; writes need a session id (logon) as the first parameter field.
import { READ_JOINABLE, reply, upstreamCommands, upstreamReports } from '../commands.js';
import type { Rec } from '../json.js';
import { readings } from '../state.js';
import type { CommandCtx, CommandSpec, Profile, Reply } from '../types.js';
import { type BitmainIdentity, s19EraDevice } from './antminer.js';
import { GH, MH, poolStatus, poolsCommand, shareTotals, sinceHms, stratumHost } from './common.js';

const VERSION = '2025.4.8.220305-57b389c7';
const DESCRIPTION = `LUXminer ${VERSION}`;
/** A session expires after 60 s without use (§8.4). */
const SESSION_IDLE_MS = 60_000;
const PROFILE_MHZ = [190, 215, 240, 265, 290, 315, 340, 365, 390, 415, 440, 465, 490, 515, 540, 565, 590];

const ID: BitmainIdentity = {
  versionKey: 'LUXminer',
  statsHeaderKey: 'LUXminer',
  minerVersion: VERSION,
  api: '3.7',
  miner: '2025.4.8.220305',
  compileTime: 'Tue Apr  8 22:05:35 UTC 2025',
  type: 'Antminer S19k Pro',
  msgPrefix: 'LUXminer',
  unitHs: GH,
};

function liveSession(ctx: CommandCtx): string | null {
  const s = ctx.state.session;
  if (!s || ctx.now - s.lastUsedMs > SESSION_IDLE_MS) return null;
  return s.id;
}

/** Session failures: no capture of LuxOS's own codes exists; the simulator answers E/318. */
function badSession(ctx: CommandCtx): Reply {
  return reply(ctx, 'E', 318, 'Invalid session id');
}

/** Wraps a write so that its first parameter field must be the live session id. */
function withSession(inner: CommandSpec): CommandSpec {
  return {
    access: 'write',
    run(ctx) {
      const text = ctx.parameter ?? '';
      const comma = text.indexOf(',');
      const sid = comma < 0 ? text : text.slice(0, comma);
      const live = liveSession(ctx);
      if (live === null || sid !== live) return badSession(ctx);
      (ctx.state.session as { lastUsedMs: number }).lastUsedMs = ctx.now;
      const innerCtx = { ...ctx, parameter: comma < 0 ? null : text.slice(comma + 1) };
      const result = inner.run(innerCtx);
      // A restart or quit decided by the inner command must reach the farm.
      if (innerCtx.after) ctx.after = innerCtx.after;
      return result;
    },
  };
}

function sortedEnvelope(ctx: CommandCtx, code: number, msg: string, sections: Record<string, Rec[]>): Reply {
  const object: Rec = {
    ...sections,
    STATUS: [
      { Code: code, Description: DESCRIPTION, Msg: msg, STATUS: 'S', When: Math.floor(ctx.now / 1000) },
    ],
    id: 1,
  };
  const sorted: Rec = {};
  for (const key of Object.keys(object).sort()) sorted[key] = object[key] ?? null;
  return { type: 'object', object: sorted };
}

function luxPools(ctx: CommandCtx): Rec[] {
  return ctx.state.pools.map((pool, i) => {
    const accepted = Math.floor(pool.accepted);
    return {
      Accepted: accepted,
      AsicBoost: true,
      'Bad Work': 0,
      'Best Share': pool.stratumActive ? Math.floor(ctx.state.bestShare) : 0,
      'Current Block Height': 0,
      'Current Block Version': pool.stratumActive ? 536870912 : 0,
      Diff: pool.stratumActive ? '32K' : '0',
      'Diff1 Shares': Math.floor(pool.difficultyAccepted),
      'Difficulty Accepted': accepted * pool.diff,
      'Difficulty Rejected': Math.floor(pool.rejected) * pool.diff,
      'Difficulty Stale': 0,
      Discarded: 0,
      GROUP: 0,
      'Get Failures': 0,
      Getworks: Math.floor(pool.getworks),
      'Has GBT': false,
      'Has Stratum': true,
      'Has Vmask': true,
      'Last Share Difficulty': accepted > 0 ? pool.diff : 0,
      'Last Share Time': sinceHms(ctx.now, pool.lastShareAtMs).padStart(8, '0'),
      'Long Pool': 'N',
      POOL: i,
      'Pool Rejected%': 0.0,
      'Pool Stale%': 0.0,
      Priority: pool.priority,
      Proxy: '',
      'Proxy Type': '',
      Quota: 1.0,
      Rejected: Math.floor(pool.rejected),
      'Remote Failures': 0,
      Stale: 0,
      Status: poolStatus(pool),
      'Stratum Active': pool.stratumActive,
      'Stratum Difficulty': pool.stratumActive ? pool.diff : 0,
      'Stratum URL': pool.stratumActive
        ? `${stratumHost(pool.url)}${pool.url.match(/:\d+$/)?.[0] ?? ''}`
        : '',
      URL: pool.url,
      User: pool.user,
      'Work Difficulty': pool.stratumActive ? pool.diff : 0,
      Works: 0,
    };
  });
}

const sessionCommands: Record<string, CommandSpec> = {
  logon: {
    access: 'write',
    run(ctx) {
      if (liveSession(ctx) !== null) return reply(ctx, 'E', 319, 'Another session is active');
      const id = Math.floor(ctx.rng.next() * 2 ** 48)
        .toString(36)
        .padStart(8, 'x')
        .slice(0, 8);
      ctx.state.session = { id, lastUsedMs: ctx.now };
      return reply(ctx, 'S', 316, 'Session created', 'SESSION', [{ SessionID: id }]);
    },
  },
  logoff: withSession({
    access: 'write',
    run(ctx) {
      ctx.state.session = null;
      return reply(ctx, 'S', 317, 'Session terminated');
    },
  }),
  kill: {
    access: 'write',
    run(ctx) {
      ctx.state.session = null;
      return reply(ctx, 'S', 317, 'Session terminated');
    },
  },
  session: READ_JOINABLE((ctx) =>
    reply(ctx, 'S', 316, 'Session', 'SESSION', [{ SessionID: liveSession(ctx) ?? '' }]),
  ),
  curtail: withSession({
    access: 'write',
    run(ctx) {
      const mode = (ctx.parameter ?? '').split(',')[0];
      if (mode !== 'sleep' && mode !== 'wakeup')
        return reply(ctx, 'E', 336, `Invalid curtail mode '${mode ?? ''}'`);
      ctx.state.sleeping = mode === 'sleep';
      return reply(ctx, 'S', 335, `Curtail: ${mode}`);
    },
  }),
  tempctrlset: withSession({
    access: 'write',
    run(ctx) {
      const fields = (ctx.parameter ?? '').split(',').filter((f) => f !== '');
      const next = { ...ctx.state.limits };
      const keyed: Record<string, keyof typeof next> = {
        target_temp: 'target',
        hot_temp: 'hot',
        dangerous_temp: 'dangerous',
      };
      const order: Array<keyof typeof next> = ['target', 'hot', 'dangerous'];
      for (let i = 0; i < fields.length; i++) {
        const [k, v] = (fields[i] as string).split('=');
        const key = v === undefined ? order[i] : keyed[k ?? ''];
        const value = Number(v ?? k);
        if (key === undefined) continue;
        if (!Number.isFinite(value)) return reply(ctx, 'E', 331, `Invalid temperature '${fields[i]}'`);
        next[key] = value;
      }
      if (!(next.target <= next.hot && next.hot <= next.dangerous)) {
        return reply(ctx, 'E', 331, 'Temperatures must not decrease: target <= hot <= dangerous');
      }
      ctx.state.limits = next;
      return reply(ctx, 'S', 330, 'Temperature control set', 'TEMPCTRL', [tempctrlRecord(ctx)]);
    },
  }),
  profileset: withSession({
    access: 'write',
    run(ctx) {
      const name = (ctx.parameter ?? '').split(',')[0] ?? '';
      if (!PROFILE_MHZ.some((mhz) => `${mhz}MHz` === name) && name !== 'default')
        return reply(ctx, 'E', 325, `Invalid profile '${name}'`);
      ctx.state.tuning = name;
      return reply(ctx, 'S', 324, `Profile set to ${name}`);
    },
  }),
  // LUXminer restarts its mining process with `resetminer`; it has no upstream `restart` (§5.3).
  // No capture of its reply exists: the code (306) is the simulator's own.
  resetminer: withSession({
    access: 'write',
    run(ctx) {
      ctx.after = 'restart';
      return reply(ctx, 'S', 306, 'Resetting LUXminer');
    },
  }),
  rebootdevice: withSession({
    access: 'write',
    run(ctx) {
      ctx.after = 'restart';
      return reply(ctx, 'S', 305, 'Reboot scheduled');
    },
  }),
};

function tempctrlRecord(ctx: CommandCtx): Rec {
  const l = ctx.state.limits;
  return { Dangerous: l.dangerous, Hot: l.hot, Mode: 'Auto', Target: l.target };
}

/** LuxOS takes the session id first on the upstream writes too; it has no `restart` (resetminer). */
function upstreamWithSession(): Record<string, CommandSpec> {
  const out: Record<string, CommandSpec> = {};
  for (const [name, spec] of Object.entries(upstreamCommands())) {
    if (name === 'restart') continue;
    out[name] = spec.access === 'write' && name !== 'privileged' ? withSession(spec) : spec;
  }
  return out;
}

export const luxos: Profile = {
  name: 'luxos',
  make: 'Antminer',
  model: 'Antminer S19k Pro',
  firmware: { name: 'LUXminer', version: VERSION },
  sessionFirst: true,
  algorithm: 'sha256d',
  nominalHs: 120e12,
  chains: [1, 2, 3],
  chipsPerChain: 77,
  fanSlots: [1, 2, 3, 4],
  fanMaxRpm: 6000,
  frequencyMhz: 290,
  chipRiseC: 22,
  minFanPct: 20,
  // LuxOS S19 defaults 55/65/70, measured on boards (thermal-facts §2.2).
  limits: { target: 55, hot: 65, dangerous: 70 },
  joins: true,
  defaultAccess: 'full',
  nul: true,
  description: DESCRIPTION,
  // The captures are key-sorted; the simulator keeps that.
  sortKeys: true,
  watts: 2380,
  shareDiff: 32768,
  pools: [
    { url: 'stratum+tcp://ca.stratum.braiins.com:3333', user: 'farm.luxos' },
    { url: 'stratum+tcp://stratum.braiins.com:3333', user: 'farm.luxos', alive: false },
  ],
  samples: [
    'luxos-s19kpro_2025.4.8__version.json',
    'luxos-s19kpro_2025.4.8__summary.json',
    'luxos-s19kpro_2025.4.8__stats.json',
    'luxos-s19kpro_2025.4.8__pools.json',
    'luxos-s19kpro_2025.4.8__temps.json',
    'luxos-s19kpro_2025.4.8__fans.json',
    'luxos-s19kpro_2025.4.8__power.json',
    'luxos-s19kpro_2025.4.8__config.json',
    'luxos-s19kpro_2025.4.8__devs.json',
    'luxos-s19kpro_2025.4.8__profiles.json',
    'luxos_2025.9.8__events.json',
  ],
  commands: {
    ...upstreamReports('LUXminer'),
    ...upstreamWithSession(),
    ...sessionCommands,
    version: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 22, 'LUXminer versions', 'VERSION', [
        { API: '3.7', CompileTime: ID.compileTime, LUXminer: VERSION, Miner: ID.miner, Type: ID.type },
      ]),
    ),
    summary: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      const t = shareTotals(ctx);
      const ghs = (hs: number) => Math.round((hs / GH) * 100) / 100;
      return reply(ctx, 'S', 11, 'Summary', 'SUMMARY', [
        {
          Accepted: t.accepted,
          'Best Share': Math.floor(ctx.state.bestShare),
          'Device Hardware%': 0.0,
          'Device Rejected%': 0.0,
          'Difficulty Accepted': t.diffAccepted,
          'Difficulty Rejected': t.diffRejected,
          'Difficulty Stale': 0,
          Discarded: 0,
          Elapsed: r.uptimeS,
          'Found Blocks': 0,
          'GHS 15m': ghs(r.windowHs(900)),
          'GHS 1m': ghs(r.windowHs(60)),
          'GHS 24h': ghs(r.averageHs * Math.min(1, r.uptimeS / 86400)),
          'GHS 30m': ghs(r.windowHs(1800)),
          'GHS 5m': ghs(r.windowHs(300)),
          'GHS 5s': ghs(r.currentHs),
          'GHS av': ghs(r.averageHs),
          'Get Failures': 0,
          Getworks: Math.floor(r.uptimeS / 5),
          'Hardware Errors': 0,
          'Last getwork': Math.floor(ctx.now / 1000),
          'Local Work': 0,
          'Network Blocks': 0,
          'Pool Rejected%':
            t.accepted > 0 ? Math.round((t.rejected * 10000) / (t.accepted + t.rejected)) / 100 : 0.0,
          'Pool Stale%': 0.0,
          Rejected: t.rejected,
          'Remote Failures': 0,
          Stale: 0,
          // Not upstream's counter: both captures print the MHS av figure here (56,917,916.07 at GHS av 56,917.91).
          'Total MH': r.averageHs / MH,
          Utility: r.uptimeS > 0 ? Math.round((t.accepted * 6000) / r.uptimeS) / 100 : 0,
          'Work Utility': 11.5,
        },
      ]);
    }),
    stats: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      return reply(ctx, 'S', 70, 'LUXminer stats', 'STATS', [
        { CompileTime: ID.compileTime, Miner: ID.miner, Type: ID.type },
        s19EraDevice(ctx, r, ID, 'BTM_SOC0'),
      ]);
    }),
    pools: poolsCommand(luxPools),
    devs: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      return reply(
        ctx,
        'S',
        9,
        `${r.boards.length} ASC(s)`,
        'DEVS',
        r.boards.map((b, i) => ({
          ASC: i,
          Accepted: Math.floor(ctx.state.accepted * b.workShare),
          Board: 'BHB56903',
          Connector: `J${7 + i}`,
          'Device Elapsed': r.uptimeS,
          Enabled: 'Y',
          'Hardware Errors': 0,
          ID: i,
          IsRamping: false,
          IsUserShutdown: ctx.state.sleeping,
          'MHS 15m': b.windowHs(900) / MH,
          'MHS 1m': b.windowHs(60) / MH,
          'MHS 30m': b.windowHs(1800) / MH,
          'MHS 5m': b.windowHs(300) / MH,
          'MHS 5s': b.currentHs / MH,
          'MHS av': b.averageHs / MH,
          Name: '',
          'Nominal MHS': b.nominalHs / MH,
          Profile: ctx.state.tuning || '290MHz',
          Rejected: 0,
          Status: b.board.dead ? 'Dead' : 'Alive',
          Temperature: Math.round(b.pcbC),
        })),
      );
    }),
    temps: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      return sortedEnvelope(ctx, 201, `${r.boards.length} Temp(s)`, {
        METADATA: [
          {
            BottomLeft: { Label: 'Board Exhaust (bottom)', Position: [1, 0] },
            BottomRight: { Label: 'Board Intake (bottom)', Position: [1, 1] },
            TopLeft: { Label: 'Board Exhaust (top)', Position: [0, 0] },
            TopRight: { Label: 'Board Intake (top)', Position: [0, 1] },
          },
        ],
        TEMPS: r.boards.map((b, i) => ({
          BottomLeft: Math.round(b.pcbC),
          BottomRight: Math.round(b.inletC),
          ID: i,
          TEMP: i,
          TopLeft: Math.round(b.pcbC),
          TopRight: Math.round(b.inletC),
        })),
      });
    }),
    fans: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      return sortedEnvelope(ctx, 202, `${r.fans.length} Fan(s)`, {
        FANCTRL: [{ MinFans: 3, PowerOffSpeed: 20 }],
        FANS: r.fans.map((f, i) => ({ FAN: `FAN${f.fan.slot}`, ID: i, RPM: f.rpm, Speed: r.fanPct })),
      });
    }),
    power: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      return reply(ctx, 'S', 311, 'Power usage', 'POWER', [{ PSU: false, Watts: r.watts }]);
    }),
    tempctrl: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 330, 'Temperature control', 'TEMPCTRL', [tempctrlRecord(ctx)]),
    ),
    profiles: READ_JOINABLE((ctx) =>
      reply(
        ctx,
        'S',
        323,
        'List profiles',
        'PROFILES',
        PROFILE_MHZ.map((mhz, i) => ({
          CanRestore: true,
          Frequency: mhz,
          HasOverrides: false,
          Hashrate: Math.round(mhz * 2.06 * 10) / 10,
          IsDynamic: true,
          IsTuned: mhz === 290,
          'Profile Name': `${mhz}MHz`,
          Step: String(i - 16),
          Voltage: 11.88,
          Watts: Math.round(mhz * 4.1),
        })),
      ),
    ),
    events: READ_JOINABLE((ctx) => reply(ctx, 'S', 357, 'Miner Events', 'EVENTS', [])),
    config: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 33, 'LUXminer config', 'CONFIG', [
        {
          'ASC Count': ctx.state.boards.length,
          Cooling: 'Air',
          CurtailMode: ctx.state.sleeping ? 'Sleep' : 'None',
          Hostname: `luxos-${ctx.miner.index}`,
          IPAddr: ctx.miner.host,
          IsAtmEnabled: true,
          Model: ID.type,
          NameplateTHS: 121.8,
          OS: 'LuxOS',
          'Pool Count': ctx.state.pools.length,
          Profile: ctx.state.tuning || '290MHz',
          Strategy: 'Failover',
          SystemStatus: 'Normal',
        },
      ]),
    ),
  },
};
