// Field builders shared by several profiles. Field names, order and formats are the ones in the
// captures named by each profile (samples/); values come from the miner's state.
import { READ_JOINABLE, reply } from '../commands.js';
import { fx, type Rec } from '../json.js';
import { activePool } from '../state.js';
import type { CommandCtx, CommandSpec, SimPool } from '../types.js';

export const GH = 1e9;
export const MH = 1e6;

/** Bitmain's short difficulty: 65536 → "65.5K", 524288 → "524K", 512 → "512". */
export function shortDiff(value: number): string {
  if (value <= 0) return '';
  const units = ['', 'K', 'M', 'G', 'T'];
  let v = value;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${Number.parseFloat(v.toPrecision(3))}${units[u]}`;
}

/** Bitmain's "Last Share Time": time since the last share as H:MM:SS, "0" when there was none. */
export function sinceHms(nowMs: number, thenMs: number): string {
  if (thenMs <= 0) return '0';
  const s = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

export function poolStatus(pool: SimPool): string {
  if (!pool.enabled) return 'Disabled';
  return pool.alive ? 'Alive' : 'Dead';
}

export function stratumHost(url: string): string {
  return url.replace(/^[a-z+]+:\/\//, '').replace(/:\d+$/, '');
}

export function epochS(ms: number): number {
  return ms > 0 ? Math.floor(ms / 1000) : 0;
}

/** Pools as stock bmminer/Bitmain cgminer print them (antminer-s17pro__pools, -s19pro_2022-12__pools). */
export function bitmainPools(ctx: CommandCtx, options: { staleKey?: string; boost?: boolean } = {}): Rec[] {
  const active = activePool(ctx.state);
  return ctx.state.pools.map((pool, i) => {
    const accepted = Math.floor(pool.accepted);
    const rejected = Math.floor(pool.rejected);
    const inUse = pool === active;
    const record: Rec = {
      POOL: i,
      URL: pool.url,
      Status: poolStatus(pool),
      Priority: pool.priority,
      Quota: 1,
      'Long Poll': 'N',
      Getworks: Math.floor(pool.getworks),
      Accepted: accepted,
      Rejected: rejected,
      Discarded: Math.floor(pool.getworks * 3),
      Stale: Math.floor(pool.stale),
      'Get Failures': 0,
      'Remote Failures': 0,
      User: pool.user,
      'Last Share Time': sinceHms(ctx.now, pool.lastShareAtMs),
      Diff: pool.stratumActive ? shortDiff(pool.diff) : '',
      'Diff1 Shares': 0,
      'Proxy Type': '',
      Proxy: '',
      'Difficulty Accepted': fx(accepted * pool.diff, 8),
      'Difficulty Rejected': fx(rejected * pool.diff, 8),
      'Difficulty Stale': fx(0, 8),
      'Last Share Difficulty': fx(accepted > 0 ? pool.diff : 0, 8),
      'Has Stratum': true,
      'Stratum Active': pool.stratumActive,
      'Stratum URL': pool.stratumActive ? stratumHost(pool.url) : '',
      'Has GBT': false,
      'Best Share': inUse ? Math.floor(ctx.state.bestShare) : 0,
      'Pool Rejected%': fx(accepted > 0 ? (rejected * 100) / (accepted + rejected) : 0, 4),
    };
    record[options.staleKey ?? 'Pool Stale%'] = fx(0, 4);
    if (options.boost) record.Boost = 'Normal';
    return record;
  });
}

/** Pools as upstream cgminer 4.11.1 prints them (avalon-q__pools, whatsminer-m31s_2020-12__pools). */
export function upstreamPools(ctx: CommandCtx, options: { password?: boolean } = {}): Rec[] {
  const active = activePool(ctx.state);
  return ctx.state.pools.map((pool, i) => {
    const accepted = Math.floor(pool.accepted);
    const rejected = Math.floor(pool.rejected);
    const record: Rec = {
      POOL: i,
      URL: pool.url,
      Status: poolStatus(pool),
      Priority: pool.priority,
      Quota: 1,
      'Long Poll': 'N',
      Getworks: Math.floor(pool.getworks),
      Accepted: accepted,
      Rejected: rejected,
      Works: Math.floor(pool.getworks * 70),
      Discarded: 0,
      Stale: Math.floor(pool.stale),
      'Get Failures': 0,
      'Remote Failures': 0,
      User: pool.user,
    };
    if (options.password) record.Password = pool.password;
    Object.assign(record, {
      'Last Share Time': epochS(pool.lastShareAtMs),
      'Diff1 Shares': Math.floor(pool.difficultyAccepted),
      'Proxy Type': '',
      Proxy: '',
      'Difficulty Accepted': fx(accepted * pool.diff, 8),
      'Difficulty Rejected': fx(rejected * pool.diff, 8),
      'Difficulty Stale': fx(0, 8),
      'Last Share Difficulty': fx(accepted > 0 ? pool.diff : 0, 8),
      'Work Difficulty': fx(pool.stratumActive ? pool.diff : 0, 8),
      'Has Stratum': true,
      'Stratum Active': pool.stratumActive,
      'Stratum URL': pool.stratumActive ? stratumHost(pool.url) : '',
      'Stratum Difficulty': fx(pool.stratumActive ? pool.diff : 0, 8),
      'Has Vmask': true,
      'Has GBT': false,
      'Best Share': pool === active ? Math.floor(ctx.state.bestShare) : 0,
      'Pool Rejected%': fx(accepted > 0 ? (rejected * 100) / (accepted + rejected) : 0, 4),
      'Pool Stale%': fx(0, 4),
      'Bad Work': 0,
      'Current Block Height': pool.stratumActive ? 907089 + (Math.floor(ctx.now / 600000) % 1000) : 0,
      'Current Block Version': 536870912,
    });
    return record;
  });
}

/** `pools` command with the upstream `%d Pool(s)` status (code 7, or E/8 when empty). */
export function poolsCommand(build: (ctx: CommandCtx) => Rec[]): CommandSpec {
  return READ_JOINABLE((ctx) => {
    if (ctx.state.pools.length === 0) return reply(ctx, 'E', 8, 'No pools');
    const rows = build(ctx);
    return reply(ctx, 'S', 7, `${rows.length} Pool(s)`, 'POOLS', rows);
  });
}

/** Chip strings by `chips:expected:group`: a handful per farm, each rebuilt char by char before. */
const chipStrings = new Map<string, string>();

/** Chip status string as Bitmain prints it: groups of `o`, `x` for chips that are gone. */
export function chipString(chips: number, expected: number, group: number): string {
  const key = `${chips}:${expected}:${group}`;
  let out = chipStrings.get(key);
  if (out !== undefined) return out;
  const chars: string[] = [];
  for (let i = 0; i < expected; i++) {
    if (i % group === 0) chars.push(' ');
    chars.push(i < chips ? 'o' : 'x');
  }
  // join() makes one flat string, which every reply embedding it copies without walking pieces.
  out = chars.join('');
  if (chipStrings.size < 1024) chipStrings.set(key, out);
  return out;
}

/**
 * `prefix0`…`prefixN`: numbered field names (`temp2_7`, `chain_acs3`) built once instead of on
 * every reply; index with the slot number.
 */
export function numberedKeys(prefix: string, last = 16): (i: number) => string {
  const keys = Array.from({ length: last + 1 }, (_, i) => `${prefix}${i}`);
  return (i) => keys[i] ?? `${prefix}${i}`;
}

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Totals every cgminer summary carries, from the miner's counters. */
export function shareTotals(ctx: CommandCtx): {
  accepted: number;
  rejected: number;
  hw: number;
  diffAccepted: number;
  diffRejected: number;
} {
  const accepted = Math.floor(ctx.state.accepted);
  const rejected = Math.floor(ctx.state.rejected);
  return {
    accepted,
    rejected,
    hw: Math.floor(ctx.state.hwErrors),
    diffAccepted: accepted * ctx.profile.shareDiff,
    diffRejected: rejected * ctx.profile.shareDiff,
  };
}
