// Canaan AvalonMiner A1566 (cgminer 4.11.1, §8.6): MM ID bracket strings in stats, MH/s in
// summary/devs, `When` as uptime, ascset softoff/softon/workmode/led/help replies as captured.
import { READ_JOINABLE, reply, upstreamCommands, upstreamReports } from '../commands.js';
import { fx, type Rec } from '../json.js';
import { readings } from '../state.js';
import type { CommandSpec, Profile } from '../types.js';
import { MH, poolsCommand, shareTotals, upstreamPools } from './common.js';

const HELP =
  'help|voltage|fan-spd|lcd|hash-sn-read|hash-sn-write|volt-tuning|workmode|worklevel|work_mode_lvl|reboot|softon|softoff|filter-clean|facopts|faclock|activate|solo-allowed|frequency|loop|password|qr_auth|time|';

const ascset: CommandSpec = {
  access: 'write',
  run(ctx) {
    // ascset splits at the first two commas only; the rest is the value, unescaped (§6).
    const text = ctx.parameter ?? '';
    const first = text.indexOf(',');
    const device = first < 0 ? text : text.slice(0, first);
    if (device === '') return reply(ctx, 'E', 15, 'Missing device id parameter');
    if (device !== '0') return reply(ctx, 'E', 107, `Invalid ASC id ${device} - range is 0 - 0`);
    if (first < 0) return reply(ctx, 'E', 116, 'Missing option after ASC number');
    const rest = text.slice(first + 1);
    const second = rest.indexOf(',');
    const option = second < 0 ? rest : rest.slice(0, second);
    const value = second < 0 ? '' : rest.slice(second + 1);
    const nowS = Math.floor(ctx.now / 1000);
    switch (option) {
      case 'help':
        return reply(ctx, 'I', 118, `ASC 0 set info: ${HELP}`);
      case 'softoff':
      case 'softon': {
        const at = Number(value.split(':')[1] ?? nowS) || nowS;
        ctx.state.sleeping = option === 'softoff';
        return reply(ctx, 'I', 118, `ASC 0 set info: success ${option}:${at}`);
      }
      case 'workmode':
        // Takes effect after a restart on real units (thermal-facts §4); kept as state.
        ctx.state.workmode = Number.parseInt(value, 10) || 0;
        return reply(ctx, 'S', 119, 'ASC 0 set OK');
      case 'reboot':
        ctx.after = 'restart';
        return reply(ctx, 'S', 119, 'ASC 0 set OK');
      case 'led':
      case 'fan-spd':
      case 'worklevel':
      case 'lcd':
        return reply(ctx, 'S', 119, 'ASC 0 set OK');
      default:
        return reply(ctx, 'E', 120, `ASC 0 set failed: unknown option ${option}`);
    }
  },
};

function mmString(ctx: Parameters<CommandSpec['run']>[0]): string {
  const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
  const ghs = (hs: number) => (hs / 1e9).toFixed(2);
  const list = (values: number[]) => values.join(' ');
  const fans = r.fans.map((f) => `Fan${f.fan.slot}[${f.rpm}]`).join(' ');
  const psWatts = r.watts;
  const working = !ctx.state.sleeping;
  return [
    'Ver[15-194-24102401_25462b2_9ddf522]',
    `DNA[0201${String(ctx.miner.index).padStart(12, '0')}]`,
    'MEMFREE[1392832.1381104]',
    'NETFAIL[0 0 0 0 0 0 0 0]',
    `SYSTEMSTATU[Work: ${working ? 'In Work' : 'In Idle'}, Hash Board: ${r.boards.filter((b) => !b.board.dead).length} ]`,
    `Elapsed[${r.uptimeS}]`,
    'BOOTBY[0x04.00000000]',
    `LW[${Math.floor(r.uptimeS * 732)}]`,
    `MH[${list(r.boards.map(() => 0))}]`,
    'DHW[0]',
    'HW[0]',
    'DH[1.299%]',
    `Temp[${Math.round(ctx.state.ambientC)}]`,
    `TMax[${Math.round(r.chipMaxC)}]`,
    `TAvg[${Math.round(r.boardMaxC)}]`,
    fans,
    `FanR[${r.fanPct}%]`,
    'Vo[296]',
    `PS[0 1209 1187 297 ${Math.round(psWatts * 0.945)} 1188 ${psWatts}]`,
    `WALLPOWER[${psWatts}]`,
    `GHSspd[${ghs(r.currentHs)}]`,
    'DHspd[1.299%]',
    `GHSmm[${ghs(r.nominalHs)}]`,
    `GHSavg[${ghs(r.averageHs)}]`,
    `WU[${(r.averageHs / 71.6e6).toFixed(2)}]`,
    `Freq[${working ? '345.94' : '0.00'}]`,
    'Led[0]',
    `MGHS[${r.boards.map((b) => ghs(b.averageHs)).join(' ')}]`,
    `MTmax[${list(r.boards.map((b) => Math.round(b.chipC)))}]`,
    `MTavg[${list(r.boards.map((b) => Math.round(ctx.state.ambientC + (b.chipC - ctx.state.ambientC) * 0.84)))}]`,
    `MVavg[${r.boards.map(() => '285.7').join(' ')}]`,
    'TA[480]',
    'Core[A3197S]',
    'PING[131]',
    'POWS[0]',
    `EEPROM[${list(r.boards.map(() => 160))}]`,
    `HASHS[${list(r.boards.map(() => 0))}]`,
    'POOLS[0]',
    `SoftOFF[${ctx.state.sleeping ? 4 : 0}]`,
    `ECHU[${list(r.boards.map((b) => (b.board.dead ? 512 : 0)))}]`,
    'ECMM[0]',
    'MPO[3515]',
    `WORKMODE[${ctx.state.workmode}]`,
  ].join(' ');
}

export const avalon: Profile = {
  name: 'avalon',
  make: 'Avalon',
  model: 'AvalonMiner 1566',
  firmware: { name: 'cgminer', version: '24102401_25462b2_9ddf522' },
  algorithm: 'sha256d',
  nominalHs: 185e12,
  chains: [0, 1, 2],
  chipsPerChain: 160,
  fanSlots: [1, 2],
  fanMaxRpm: 8500,
  frequencyMhz: 346,
  chipRiseC: 40,
  minFanPct: 25,
  limits: { target: 75, hot: 85, dangerous: 95 },
  joins: true,
  defaultAccess: 'full',
  nul: true,
  description: 'cgminer 4.11.1',
  whenIsUptime: true,
  watts: 3730,
  shareDiff: 262144,
  pools: [
    { url: 'stratum+tcp://pool.example.com:4444', user: 'worker1' },
    { url: 'stratum+tcp://pool.example.com:3333', user: 'worker1' },
  ],
  samples: [
    'avalon-a1566_24102401__version.json',
    'avalon-a1566_24102401__stats.json',
    'avalon-a1566_24102401__devs.json',
    'avalon-q__summary.json',
    'avalon-q__pools.json',
    'avalon-q__ascset_0_help.json',
    'avalon-q__ascset_0_softoff.json',
    'avalon-q__ascset_0_softon.json',
    'avalon-q__ascset_0_workmode.json',
  ],
  restartReadsConfig: true,
  commands: {
    ...upstreamReports(),
    ...upstreamCommands(),
    ascset,
    // One ASC (the whole machine, as devs shows it): samples avalon-q__{config,devdetails}.
    config: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 33, 'CGMiner config', 'CONFIG', [
        {
          'ASC Count': 1,
          'PGA Count': 0,
          'Pool Count': ctx.state.pools.length,
          Strategy: 'Failover',
          'Log Interval': 5,
          'Device Code': 'AVALON',
          OS: 'Linux',
          Hotplug: 'None',
        },
      ]),
    ),
    devdetails: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 69, 'Device Details', 'DEVDETAILS', [
        { DEVDETAILS: 0, Name: 'AVALON', ID: 0, Driver: 'avalon', Kernel: '', Model: '', 'Device Path': '' },
      ]),
    ),
    asccount: READ_JOINABLE((ctx) => reply(ctx, 'S', 104, 'ASC count', 'ASCS', [{ Count: 1 }])),
    version: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 22, 'CGMiner versions', 'VERSION', [
        {
          CGMiner: '4.11.1',
          API: '3.7',
          STM8: '20.08.01',
          PROD: 'AvalonMiner 15-194',
          MODEL: '15-194',
          HWTYPE: 'MM4v2_X3',
          SWTYPE: 'MM319',
          VERSION: '24102401_25462b2_9ddf522',
          LOADER: 'd0d779de.00',
          DNA: `0201${String(ctx.miner.index).padStart(12, '0')}`,
          MAC: String(ctx.miner.index).padStart(12, '0'),
          UPAPI: '2',
        },
      ]),
    ),
    stats: READ_JOINABLE((ctx) => {
      const uptime = Math.floor((ctx.now - ctx.state.bootedAtMs) / 1000);
      const rec: Rec = {
        STATS: 0,
        ID: 'AVA100',
        Elapsed: uptime,
        Calls: 0,
        Wait: fx(0, 6),
        Max: fx(0, 6),
        Min: fx(99999999, 6),
        'MM ID0': mmString(ctx),
        'MM Count': 1,
        'Smart Speed': 1,
        'Voltage Level Offset': 0,
        'Nonce Mask': 25,
      };
      return reply(ctx, 'S', 70, 'CGMiner stats', 'STATS', [rec]);
    }),
    estats: READ_JOINABLE((ctx) => (avalon.commands.stats as CommandSpec).run(ctx)),
    summary: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      const t = shareTotals(ctx);
      return reply(ctx, 'S', 11, 'Summary', 'SUMMARY', [
        {
          Elapsed: r.uptimeS,
          'MHS av': fx(r.averageHs / MH, 2),
          'MHS 5s': fx(r.currentHs / MH, 2),
          'MHS 1m': fx(r.windowHs(60) / MH, 2),
          'MHS 5m': fx(r.windowHs(300) / MH, 2),
          'Found Blocks': 0,
          'MHS 15m': fx(r.windowHs(900) / MH, 2),
          Getworks: Math.floor(r.uptimeS / 55),
          Accepted: t.accepted,
          Rejected: t.rejected,
          'Hardware Errors': 0,
          Utility: fx(r.uptimeS > 0 ? (t.accepted * 60) / r.uptimeS : 0, 2),
          Discarded: 0,
          Stale: 0,
          'Get Failures': 0,
          'Local Work': Math.floor(r.uptimeS * 5),
          'Remote Failures': 0,
          'Network Blocks': Math.floor(r.uptimeS / 600),
          'Total MH': fx(r.totalHashes / MH, 4),
          'Work Utility': fx(r.averageHs / 71.6e6, 2),
          'Difficulty Accepted': fx(t.diffAccepted, 8),
          'Difficulty Rejected': fx(t.diffRejected, 8),
          'Difficulty Stale': fx(0, 8),
          'Best Share': Math.floor(ctx.state.bestShare),
          'Device Hardware%': fx(0, 4),
          'Device Rejected%': fx(t.accepted > 0 ? (t.rejected * 100) / (t.accepted + t.rejected) : 0, 4),
          'Pool Rejected%': fx(t.accepted > 0 ? (t.rejected * 100) / (t.accepted + t.rejected) : 0, 4),
          'Pool Stale%': fx(0, 4),
          'Last getwork': 0,
        },
      ]);
    }),
    devs: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      const t = shareTotals(ctx);
      return reply(ctx, 'S', 9, '1 ASC(s)', 'DEVS', [
        {
          ASC: 0,
          Name: 'AVA10',
          ID: 0,
          Enabled: 'Y',
          Status: 'Alive',
          // The A1566 reports the -273 sentinel here; temperatures live in the MM string (§12 #25).
          Temperature: fx(-273, 1),
          'MHS av': fx(r.averageHs / MH, 2),
          'MHS 30s': fx(r.currentHs / MH, 2),
          'MHS 1m': fx(r.windowHs(60) / MH, 2),
          'MHS 5m': fx(r.windowHs(300) / MH, 2),
          'MHS 15m': fx(r.windowHs(900) / MH, 2),
          Accepted: t.accepted,
          Rejected: t.rejected,
          'Hardware Errors': 0,
          Utility: fx(r.uptimeS > 0 ? (t.accepted * 60) / r.uptimeS : 0, 2),
          'Last Share Pool': 0,
          'Last Share Time': Math.max(0, r.uptimeS - 11),
          'Total MH': fx(r.totalHashes / MH, 1),
          'Diff1 Work': Math.floor(t.diffAccepted * 1.07),
          'Difficulty Accepted': fx(t.diffAccepted, 1),
          'Difficulty Rejected': fx(t.diffRejected, 1),
          'Last Share Difficulty': fx(ctx.profile.shareDiff, 1),
          'Last Valid Work': r.uptimeS,
          'Device Hardware%': fx(0, 1),
          'Device Rejected%': fx(t.accepted > 0 ? (t.rejected * 100) / (t.accepted + t.rejected) : 0, 4),
          'Device Elapsed': Math.max(0, r.uptimeS - 62),
        },
      ]);
    }),
    pools: poolsCommand((ctx) => upstreamPools(ctx, { password: true })),
  },
};
