// Plain upstream cgminer 4.11.1 (API 3.7) as observed on loopback without hardware (§15): no ASCs,
// devs/devdetails/notify answer E/10 with no data key, stats carry only the pool records.
import { deviceReports, READ_JOINABLE, reply, upstreamCommands } from '../commands.js';
import { fx } from '../json.js';
import type { Profile } from '../types.js';
import { poolsCommand, shareTotals, upstreamPools } from './common.js';

const noAscs = READ_JOINABLE((ctx) => reply(ctx, 'E', 10, 'No ASCs'));

export const cgminer: Profile = {
  name: 'cgminer',
  make: 'unknown',
  model: 'cgminer',
  firmware: { name: 'cgminer', version: '4.11.1' },
  algorithm: 'sha256d',
  nominalHs: 0,
  chains: [],
  chipsPerChain: 0,
  fanSlots: [],
  fanMaxRpm: 0,
  frequencyMhz: 0,
  chipRiseC: 0,
  minFanPct: 0,
  limits: { target: 0, hot: 0, dangerous: 0 },
  joins: true,
  // 127.0.0.1 with --api-allow W:127.0.0.1, as in §15.
  defaultAccess: 'full',
  nul: true,
  description: 'cgminer 4.11.1',
  watts: 0,
  shareDiff: 1,
  pools: [{ url: 'stratum+tcp://127.0.0.1:3333', user: 'sim.worker' }],
  samples: ['CGMINER-API.md §15 (no capture file: the facts were observed on the real server)'],
  restartReadsConfig: true,
  commands: {
    // asc: E/105 `No ASCs`; lcd, usbstats (I/88), pgacount answer without hardware too.
    ...deviceReports(),
    ...upstreamCommands(),
    version: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 22, 'CGMiner versions', 'VERSION', [{ CGMiner: '4.11.1', API: '3.7' }]),
    ),
    config: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 33, 'CGMiner config', 'CONFIG', [
        {
          'ASC Count': 0,
          'PGA Count': 0,
          'Pool Count': ctx.state.pools.length,
          Strategy: 'Failover',
          'Log Interval': 5,
          'Device Code': 'ICA ',
          OS: 'Linux',
          Hotplug: 5,
        },
      ]),
    ),
    summary: READ_JOINABLE((ctx) => {
      const t = shareTotals(ctx);
      const elapsed = Math.floor((ctx.now - ctx.state.bootedAtMs) / 1000);
      return reply(ctx, 'S', 11, 'Summary', 'SUMMARY', [
        {
          Elapsed: elapsed,
          'MHS av': fx(0, 2),
          'MHS 5s': fx(0, 2),
          'MHS 1m': fx(0, 2),
          'MHS 5m': fx(0, 2),
          'MHS 15m': fx(0, 2),
          'Found Blocks': 0,
          Getworks: Math.floor(elapsed / 30),
          Accepted: t.accepted,
          Rejected: t.rejected,
          'Hardware Errors': 0,
          Utility: fx(0, 2),
          Discarded: 0,
          Stale: 0,
          'Get Failures': 0,
          'Local Work': 0,
          'Remote Failures': 0,
          'Network Blocks': Math.floor(elapsed / 600),
          'Total MH': fx(0, 4),
          'Work Utility': fx(0, 2),
          'Difficulty Accepted': fx(0, 8),
          'Difficulty Rejected': fx(0, 8),
          'Difficulty Stale': fx(0, 8),
          'Best Share': 0,
          'Device Hardware%': fx(0, 4),
          'Device Rejected%': fx(0, 4),
          'Pool Rejected%': fx(0, 4),
          'Pool Stale%': fx(0, 4),
          'Last getwork': Math.floor(ctx.now / 1000),
        },
      ]);
    }),
    stats: READ_JOINABLE((ctx) => {
      const elapsed = Math.floor((ctx.now - ctx.state.bootedAtMs) / 1000);
      return reply(
        ctx,
        'S',
        70,
        'CGMiner stats',
        'STATS',
        ctx.state.pools.map((_, i) => ({
          STATS: i,
          ID: `POOL${i}`,
          Elapsed: elapsed,
          Calls: 0,
          Wait: fx(0, 6),
          Max: fx(0, 6),
          Min: fx(99999999, 6),
          'Pool Calls': 0,
          'Pool Attempts': 0,
          'Pool Wait': fx(0, 6),
          'Pool Max': fx(0, 6),
          'Pool Min': fx(99999999, 6),
          'Pool Av': fx(0, 6),
          'Work Had Roll Time': false,
          'Work Can Roll': false,
          'Work Had Expire': false,
          'Work Roll Time': 0,
          'Work Diff': fx(1, 8),
          'Min Diff': fx(1, 8),
          'Max Diff': fx(1, 8),
          'Min Diff Count': 0,
          'Max Diff Count': 0,
          'Times Sent': Math.floor(elapsed / 30),
          'Bytes Sent': Math.floor(elapsed / 30) * 160,
          'Times Recv': Math.floor(elapsed / 20),
          'Bytes Recv': Math.floor(elapsed / 20) * 550,
          'Net Bytes Sent': Math.floor(elapsed / 30) * 160,
          'Net Bytes Recv': Math.floor(elapsed / 20) * 550,
        })),
      );
    }),
    coin: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 78, 'CGMiner coin', 'COIN', [
        {
          'Hash Method': 'sha256',
          'Current Block Time': fx(ctx.now / 1000 - 37, 6),
          'Current Block Hash': '00000000000000000001d0ccaffecb937ee444cb056356abc59b906666607cf1',
          LP: true,
          'Network Difficulty': fx(126271255279306.98, 8),
        },
      ]),
    ),
    devs: noAscs,
    edevs: noAscs,
    devdetails: noAscs,
    notify: noAscs,
    asccount: READ_JOINABLE((ctx) => reply(ctx, 'S', 104, 'ASC count', 'ASCS', [{ Count: 0 }])),
    pools: poolsCommand((ctx) => upstreamPools(ctx)),
  },
};
