// Braiins OS+ (BOSminer+ 0.2.0 on an S9, §8.3): sorted keys (serde), MH/s long floats, epoch
// "Last Share Time", chain IDs 6,7,8, plus fans/temps/tempctrl and pause/resume.
import { READ_JOINABLE, reply, upstreamCommands, upstreamReports } from '../commands.js';
import type { Rec } from '../json.js';
import { readings } from '../state.js';
import type { CommandCtx, CommandSpec, Profile } from '../types.js';
import { epochS, MH, poolStatus, poolsCommand, shareTotals, stratumHost } from './common.js';

const VERSION = '0.2.0-36c56a9363';

function bosPools(ctx: CommandCtx): Rec[] {
  return ctx.state.pools.map((pool, i) => {
    const accepted = Math.floor(pool.accepted);
    return {
      Accepted: accepted,
      AsicBoost: true,
      'Bad Work': 0,
      'Best Share': pool.stratumActive ? Math.floor(ctx.state.bestShare) : 0,
      'Current Block Height': 0,
      'Current Block Version': pool.stratumActive ? 536870912 : 0,
      'Diff1 Shares': Math.floor(pool.difficultyAccepted),
      'Difficulty Accepted': accepted * pool.diff,
      'Difficulty Rejected': Math.floor(pool.rejected) * pool.diff,
      'Difficulty Stale': 0.0,
      Discarded: 0,
      'Get Failures': 0,
      Getworks: Math.floor(pool.getworks),
      'Has GBT': false,
      'Has Stratum': true,
      'Has Vmask': true,
      'Last Share Difficulty': accepted > 0 ? pool.diff : 0.0,
      'Last Share Time': epochS(pool.lastShareAtMs),
      'Long Poll': 'N',
      POOL: i,
      'Pool Rejected%': 0.0,
      'Pool Stale%': 0.0,
      Priority: pool.priority,
      Proxy: '',
      'Proxy Type': '',
      Quota: 1,
      Rejected: Math.floor(pool.rejected),
      'Remote Failures': 0,
      Stale: 0,
      Status: poolStatus(pool),
      'Stratum Active': pool.stratumActive,
      'Stratum Difficulty': pool.stratumActive ? pool.diff : 0.0,
      'Stratum URL': stratumHost(pool.url).concat(pool.url.match(/:\d+$/)?.[0] ?? ''),
      URL: pool.url,
      User: pool.user,
      'Work Difficulty': pool.stratumActive ? pool.diff : 0.0,
      Works: Math.floor(pool.getworks * 150000),
    };
  });
}

const pauseResume = (sleeping: boolean, code: number, msg: string): CommandSpec => ({
  access: 'write',
  run(ctx) {
    ctx.state.sleeping = sleeping;
    return reply(ctx, 'S', code, msg);
  },
});

export const braiinsOs: Profile = {
  name: 'braiins-os',
  make: 'Antminer',
  model: 'Antminer S9',
  firmware: { name: 'BOSminer+', version: VERSION },
  algorithm: 'sha256d',
  nominalHs: 14.0e12,
  chains: [6, 7, 8],
  chipsPerChain: 63,
  fanSlots: [0, 1],
  fanMaxRpm: 6000,
  frequencyMhz: 650,
  chipRiseC: 34,
  minFanPct: 20,
  // BOS+ S9 defaults: target 89, hot 100, dangerous 110 (thermal-facts §2.1).
  limits: { target: 89, hot: 100, dangerous: 110 },
  joins: true,
  defaultAccess: 'full',
  nul: true,
  description: `BOSminer+ ${VERSION}`,
  sortKeys: true,
  watts: 1250,
  shareDiff: 65536,
  // Braiins documents its pool commands as not persistent: a restart is back with the configured pools.
  restartReadsConfig: true,
  pools: [
    { url: 'stratum+tcp://stratum.antpool.com:3333', user: 'antminer_1' },
    { url: 'stratum+tcp://stratum.antpool.com:443', user: 'antminer_1' },
    { url: 'stratum+tcp://stratum.antpool.com:25', user: 'antminer_1' },
  ],
  samples: [
    'braiins-os-plus-bosminer-plus-0.2.0__version.json',
    'braiins-os-plus-bosminer-plus-0.2.0__summary.json',
    'braiins-os-plus-bosminer-plus-0.2.0__pools.json',
    'braiins-os-plus-bosminer-plus-0.2.0__fans.json',
    'braiins-os-plus-bosminer-plus-0.2.0__temps.json',
    'braiins-os-plus-bosminer-plus-0.4.0__devs.json',
  ],
  commands: {
    // Braiins documents a subset of upstream's reports (§5.3): asc and lcd, no notify, usbstats or pgacount.
    ...upstreamReports('BOSminer+', { without: ['notify', 'usbstats', 'pgacount'] }),
    ...upstreamCommands(),
    version: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 22, 'BOSminer+ versions', 'VERSION', [{ API: '3.7', 'BOSminer+': VERSION }]),
    ),
    summary: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      const t = shareTotals(ctx);
      return reply(ctx, 'S', 11, 'Summary', 'SUMMARY', [
        {
          Accepted: t.accepted,
          'Best Share': Math.floor(ctx.state.bestShare),
          'Device Hardware%': t.accepted > 0 ? t.hw / (t.accepted * 100) : 0.0,
          'Device Rejected%': 0.0,
          'Difficulty Accepted': t.diffAccepted,
          'Difficulty Rejected': t.diffRejected,
          'Difficulty Stale': 0.0,
          Discarded: 0,
          Elapsed: r.uptimeS,
          'Found Blocks': 0,
          'Get Failures': 0,
          Getworks: Math.floor(r.uptimeS / 33),
          'Hardware Errors': t.hw,
          'Last getwork': Math.floor(ctx.now / 1000),
          'Local Work': Math.floor(r.uptimeS * 4650),
          'MHS 15m': r.windowHs(900) / MH,
          'MHS 1m': r.windowHs(60) / MH,
          'MHS 24h': (r.averageHs / MH) * Math.min(1, r.uptimeS / 86400),
          'MHS 5m': r.windowHs(300) / MH,
          'MHS 5s': r.currentHs / MH,
          'MHS av': r.averageHs / MH,
          'Network Blocks': 0,
          'Pool Rejected%': 0.0,
          'Pool Stale%': 0.0,
          Rejected: t.rejected,
          'Remote Failures': 0,
          Stale: 0,
          'Total MH': r.totalHashes / MH,
          Utility: r.uptimeS > 0 ? (t.accepted * 60) / r.uptimeS : 0.0,
          'Work Utility': r.uptimeS > 0 ? (t.diffAccepted * 60) / r.uptimeS : 0.0,
        },
      ]);
    }),
    pools: poolsCommand(bosPools),
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
          'Device Elapsed': r.uptimeS,
          'Device Hardware%': 0.0,
          'Device Rejected%': 0.0,
          'Diff1 Work': Math.floor(ctx.state.accepted * b.workShare * 12),
          'Difficulty Accepted': Math.floor(ctx.state.accepted * b.workShare) * ctx.profile.shareDiff,
          'Difficulty Rejected': 0.0,
          Enabled: 'Y',
          'Hardware Error MHS 15m': 0.0,
          'Hardware Errors': Math.floor(ctx.state.hwErrors * b.workShare),
          ID: b.board.chain,
          'Last Share Difficulty': b.workShare > 0 ? ctx.profile.shareDiff : 0,
          'Last Share Pool': -1,
          'Last Share Time': b.workShare > 0 ? epochS(r.lastShareAtMs) : 0,
          'Last Valid Work': b.workShare > 0 ? epochS(r.lastShareAtMs) : 0,
          'MHS 15m': b.windowHs(900) / MH,
          'MHS 1m': b.windowHs(60) / MH,
          'MHS 5m': b.windowHs(300) / MH,
          'MHS 5s': b.currentHs / MH,
          'MHS av': b.averageHs / MH,
          Name: '',
          'Nominal MHS': b.nominalHs / MH,
          Rejected: 0,
          Status: b.board.dead ? 'Dead' : 'Alive',
          // BOSminer leaves this 0.0: temperatures live in `temps` (§8.3).
          Temperature: 0.0,
          'Total MH': (r.totalHashes * b.workShare) / MH,
          Utility: 0.0,
        })),
      );
    }),
    devdetails: READ_JOINABLE((ctx) =>
      reply(
        ctx,
        'S',
        69,
        'Device Details',
        'DEVDETAILS',
        ctx.state.boards.map((b, i) => ({
          Chips: b.chips,
          Cores: b.chips * 114,
          DEVDETAILS: i,
          'Device Path': '',
          Driver: 'BOSminer',
          ID: b.chain,
          Kernel: '',
          Model: 'Bitmain S9',
          Name: '',
        })),
      ),
    ),
    stats: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      return reply(
        ctx,
        'S',
        70,
        'BOSminer+ stats',
        'STATS',
        r.boards.map((b, i) => ({
          Calls: 0,
          Elapsed: r.uptimeS,
          ID: `BC5${b.board.chain}`,
          Max: 0.0,
          Min: 99999999.0,
          STATS: i,
          Wait: 0.0,
        })),
      );
    }),
    fans: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      return reply(
        ctx,
        'S',
        202,
        `${r.fans.length} Fan(s)`,
        'FANS',
        r.fans.map((f, i) => ({ FAN: i, ID: f.fan.slot, RPM: f.rpm, Speed: r.fanPct })),
      );
    }),
    temps: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      return reply(
        ctx,
        'S',
        201,
        `${r.boards.length} Temp(s)`,
        'TEMPS',
        r.boards.map((b, i) => ({
          Board: Math.round(b.pcbC * 10) / 10,
          // The captured S9 reports no chip sensor (`Chip: 0.0`, the sentinel), and so does this one.
          Chip: 0,
          ID: b.board.chain,
          TEMP: i,
        })),
      );
    }),
    // No capture of `tempctrl`; the keys are the documented ones (thermal-facts §2.1).
    tempctrl: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 200, 'Temperature control', 'TEMPCTRL', [
        {
          Dangerous: ctx.state.limits.dangerous,
          Hot: ctx.state.limits.hot,
          Mode: 'Automatic',
          Target: ctx.state.limits.target,
        },
      ]),
    ),
    pause: pauseResume(true, 204, 'Pause'),
    resume: pauseResume(false, 205, 'Resume'),
  },
};
