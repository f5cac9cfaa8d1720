// The farm now, from telemetry_live rows (pure): each miner online, offline or stale; totals that
// count current data only; and the problems an operator should look at first.
import type { LiveRow } from '../store/index.js';
import { targetKey } from '../targets/types.js';
import type { ThermalStatus } from '../thermal/types.js';

export type MinerState = 'online' | 'offline' | 'stale';
export type LiveSort = 'miner' | 'hashrate' | 'temp' | 'age';

/** A miner's thermal state as collect last stored it (thermal_state), with hysteresis. */
export interface LiveThermal {
  status: ThermalStatus;
  /** The metric that set a warn or critical status. */
  metric: string | null;
}

/** Below this share of nominal hashrate a miner is listed as under-performing. */
export const BELOW_NOMINAL_RATIO = 0.9;
export const DEFAULT_STALE_AFTER_MS = 10 * 60_000;
/** Cycles of its collector a site's figures stay current for, when it runs less often than 10m. */
const STALE_AFTER_CYCLES = 2.5;

/**
 * The default --stale-after of a site, from when its last cycles started (newest first): 10m, or
 * 2.5 of its collector's usual intervals (the median gap) when that is longer. A cron running
 * collect every 15 minutes must not have `live` show every miner stale, and 0 H/s in total, for
 * the last 5 minutes of each interval.
 */
export function defaultStaleAfterMs(recentStarts: readonly number[]): number {
  const gaps: number[] = [];
  for (let i = 0; i + 1 < recentStarts.length; i++) {
    const gap = recentStarts[i]! - recentStarts[i + 1]!;
    if (gap > 0) gaps.push(gap);
  }
  if (gaps.length === 0) return DEFAULT_STALE_AFTER_MS;
  gaps.sort((a, b) => a - b);
  const usual = gaps[Math.floor(gaps.length / 2)]!;
  return Math.max(DEFAULT_STALE_AFTER_MS, Math.round(STALE_AFTER_CYCLES * usual));
}
const HOTTEST_COUNT = 5;

export interface LiveMiner {
  miner: string;
  host: string;
  port: number;
  site: string;
  make: string | null;
  model: string | null;
  /** sha256d unless the miner said otherwise; totals are per algorithm. */
  algorithm: string;
  /**
   * online: last poll answered and is recent. offline: last poll failed and is recent (figures, if
   * any, are from the last good poll). stale: last poll, good or failed, longer ago than --stale-after.
   */
  state: MinerState;
  /** False when the figures below are not from a recent good poll. */
  current: boolean;
  /** Age of the figures in seconds (null: never answered). */
  age_s: number | null;
  last_ok_at: string | null;
  collected_at: string;
  error_kind: string | null;
  hashrate_hs: number | null;
  nominal_hs: number | null;
  /** hashrate / nominal, where both are known. */
  hashrate_ratio: number | null;
  temp_chip_max_c: number | null;
  temp_board_max_c: number | null;
  fan_min_rpm: number | null;
  boards_ok: number | null;
  boards_total: number | null;
  chips: number | null;
  chips_expected: number | null;
  power_w: number | null;
  /** ok, warn or critical against the miner's limits; unknown when never evaluated or unreachable. */
  thermal_status: ThermalStatus;
  problems: string[];
  /** Set when hashctl paused this miner and has not resumed it (command_log): why it hashes nothing. */
  paused_by: string | null;
}

export interface FarmSummary {
  as_of: string;
  miners: number;
  online: number;
  offline: number;
  stale: number;
  /** Sum over online sha256d miners only: stale figures are never counted as current. */
  hashrate_hs: number;
  /** Online sha256d miners that gave no hashrate hashctl could read: not in hashrate_hs. */
  hashrate_unknown: number;
  nominal_hs: number | null;
  /**
   * Online sha256d miners whose nominal rate is not known (or reads 0): nominal_hs leaves them out (while
   * hashrate_hs counts them), so the two compare only when this is 0.
   */
  nominal_unknown: number;
  /** Online miners of other algorithms (scrypt, …), summed per algorithm, never into the sha256d total. */
  other_algorithms: Record<string, { miners: number; hashrate_hs: number; nominal_hs: number | null }>;
  power_w: number | null;
  /** Online miners that report no power draw: power_w sums the others. */
  power_unknown: number;
  hottest: { miner: string; temp_c: number }[];
  below_nominal: string[];
  /** Online miners answering with a zero hashrate (not paused by hashctl), nominal known or not. */
  not_hashing: string[];
  missing_chips: string[];
  /** Online miners at critical and at warn, by thermal status. */
  thermal_critical: string[];
  thermal_warn: string[];
}

const iso = (ms: number) => new Date(ms).toISOString();

function formatAge(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function describeMiner(
  row: LiveRow,
  now: number,
  staleAfterMs: number,
  thermal: LiveThermal | null = null,
  context: { pausedBy?: string | null } = {},
): LiveMiner {
  const answered = row.ok === 1;
  const figuresAt = answered ? row.collected_at : row.last_ok_at;
  // A poll stamped further ahead of this clock than --stale-after (taken while the collector's
  // clock ran ahead, before NTP set it back) is no more current than one as far behind: shown
  // online, with age 0, it kept a farm whose collector then stopped "online" for a month.
  const ahead = row.collected_at - now > staleAfterMs;
  // A failed poll is no more current than a good one: a collector stopped a day ago does not know
  // the miner is offline now (it kept counting as offline, "now", for as long as the file lived).
  const old = now - row.collected_at > staleAfterMs || ahead;
  const state: MinerState = old ? 'stale' : !answered ? 'offline' : 'online';
  const ageS = figuresAt === null ? null : Math.max(0, (now - figuresAt) / 1000);
  const ratio =
    row.hashrate_hs !== null && row.nominal_hs !== null && row.nominal_hs > 0
      ? row.hashrate_hs / row.nominal_hs
      : null;
  const problems: string[] = [];
  const thermalStatus = thermal?.status ?? 'unknown';
  // A stale miner's thermal status is its last poll's (the collector stopped): said as such.
  if (thermalStatus === 'critical' || thermalStatus === 'warn')
    problems.push(
      `thermal ${thermalStatus}${state === 'online' ? '' : ' at its last poll'}${thermal?.metric ? `: ${thermal.metric}` : ''}`,
    );
  if (state === 'offline') {
    problems.push(`offline: ${row.error_kind ?? 'error'}`);
    if (ageS !== null) problems.push(`figures ${formatAge(ageS)} old`);
  } else if (state === 'stale') {
    problems.push(
      ahead
        ? `stale: last poll stamped ${formatAge((row.collected_at - now) / 1000)} ahead of this clock`
        : `stale: last poll ${formatAge(Math.max(0, (now - row.collected_at) / 1000))} ago`,
    );
    // What that last poll said, and how old the figures are when it failed.
    if (!answered) {
      problems.push(`it failed: ${row.error_kind ?? 'error'}`);
      if (ageS !== null) problems.push(`figures ${formatAge(ageS)} old`);
    }
  }
  if (context.pausedBy) {
    // Idle on purpose (hashctl control pause, thermal protection): its zero hashrate, idle boards
    // and stopped fans are the pause, not faults. One entry says so.
    problems.push(context.pausedBy);
  } else {
    if (ratio !== null && ratio < BELOW_NOMINAL_RATIO)
      problems.push(`hashrate ${Math.round(ratio * 100)}% of nominal`);
    // Answering and hashing nothing, with no nominal to compare (a model hashctl has no figure for,
    // a cgminer with no devices): no ratio would ever flag it. Said of a last poll that answered
    // only: a failed one's figures are older (offline or stale alike).
    else if (ratio === null && answered && row.hashrate_hs === 0) problems.push('not hashing');
    // Answering without a hashrate hashctl can read (a unit it does not know): not counted in the
    // total, and no ratio would ever flag it.
    else if (state === 'online' && row.hashrate_hs === null) problems.push('no hashrate reading');
    if (row.chips !== null && row.chips_expected !== null && row.chips < row.chips_expected) {
      problems.push(`chips ${row.chips}/${row.chips_expected}`);
    }
    if (row.fan_min_rpm === 0) problems.push('a fan is stopped');
    // Hashing with every chip and board sensor dead (or reading the firmware's 0): nothing, not
    // even hashctl's thermal check, can tell whether it is cooking.
    if (
      state === 'online' &&
      (row.hashrate_hs ?? 0) > 0 &&
      row.temp_chip_max_c === null &&
      row.temp_board_max_c === null
    )
      problems.push('no temperature reading');
    if (row.boards_ok !== null && row.boards_total !== null && row.boards_ok < row.boards_total) {
      problems.push(`boards ${row.boards_ok}/${row.boards_total} ok`);
    }
  }
  return {
    miner: targetKey(row.host, row.port),
    host: row.host,
    port: row.port,
    site: row.site,
    make: row.make,
    model: row.model,
    // A miner never read has no algorithm yet: not assumed to be a bitcoin miner.
    algorithm: row.algorithm ?? 'unknown',
    state,
    current: state === 'online',
    age_s: ageS === null ? null : Math.round(ageS),
    last_ok_at: figuresAt === null ? null : iso(figuresAt),
    collected_at: iso(row.collected_at),
    error_kind: row.error_kind,
    hashrate_hs: row.hashrate_hs,
    nominal_hs: row.nominal_hs,
    hashrate_ratio: ratio === null ? null : Math.round(ratio * 1000) / 1000,
    temp_chip_max_c: row.temp_chip_max_c,
    temp_board_max_c: row.temp_board_max_c,
    fan_min_rpm: row.fan_min_rpm,
    boards_ok: row.boards_ok,
    boards_total: row.boards_total,
    chips: row.chips,
    chips_expected: row.chips_expected,
    power_w: row.power_w,
    thermal_status: thermalStatus,
    problems,
    paused_by: context.pausedBy ?? null,
  };
}

const hottestTemp = (m: LiveMiner) => m.temp_chip_max_c ?? m.temp_board_max_c;
/**
 * A nominal rate to total, or null: a 0 (Braiins OS, LuxOS with no Nominal MHS set) says nothing of
 * what the miner should hash, as describeMiner's ratio has it. Counted as known, it read "114 TH/s of
 * 100 TH/s nominal" with nominal_unknown 0.
 */
const knownNominal = (m: LiveMiner) => (m.nominal_hs !== null && m.nominal_hs > 0 ? m.nominal_hs : null);

export function summarizeFarm(miners: LiveMiner[], now: number): FarmSummary {
  const online = miners.filter((m) => m.state === 'online');
  const sha256d = online.filter((m) => m.algorithm === 'sha256d');
  const others = online.filter((m) => m.algorithm !== 'sha256d');
  const sum = (values: (number | null)[]) => {
    const known = values.filter((v): v is number => v !== null);
    return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
  };
  const hottest = online
    .filter((m) => hottestTemp(m) !== null)
    .sort((a, b) => hottestTemp(b)! - hottestTemp(a)!)
    .slice(0, HOTTEST_COUNT)
    .map((m) => ({ miner: m.miner, temp_c: hottestTemp(m)! }));
  return {
    as_of: iso(now),
    miners: miners.length,
    online: online.length,
    offline: miners.filter((m) => m.state === 'offline').length,
    stale: miners.filter((m) => m.state === 'stale').length,
    hashrate_hs: sum(sha256d.map((m) => m.hashrate_hs)) ?? 0,
    hashrate_unknown: sha256d.filter((m) => m.hashrate_hs === null).length,
    nominal_hs: sum(sha256d.map(knownNominal)),
    nominal_unknown: sha256d.filter((m) => knownNominal(m) === null).length,
    other_algorithms: Object.fromEntries(
      [...new Set(others.map((m) => m.algorithm))].sort().map((algorithm) => {
        const group = others.filter((m) => m.algorithm === algorithm);
        return [
          algorithm,
          {
            miners: group.length,
            hashrate_hs: sum(group.map((m) => m.hashrate_hs)) ?? 0,
            nominal_hs: sum(group.map(knownNominal)),
          },
        ];
      }),
    ),
    power_w: sum(online.map((m) => m.power_w)),
    power_unknown: online.filter((m) => m.power_w === null).length,
    hottest,
    // A miner hashctl paused is below nominal on purpose: not listed as a fault.
    below_nominal: online
      // From the figures, as describeMiner's problem is: hashrate_ratio is rounded (0.8996 to 0.9),
      // and a miner whose problems said "below nominal" was missing here.
      .filter((m) => {
        const nominal = knownNominal(m);
        return (
          m.paused_by === null &&
          m.hashrate_hs !== null &&
          nominal !== null &&
          m.hashrate_hs / nominal < BELOW_NOMINAL_RATIO
        );
      })
      .map((m) => m.miner),
    not_hashing: online.filter((m) => m.paused_by === null && m.hashrate_hs === 0).map((m) => m.miner),
    missing_chips: online
      .filter(
        (m) =>
          m.paused_by === null && m.chips !== null && m.chips_expected !== null && m.chips < m.chips_expected,
      )
      .map((m) => m.miner),
    thermal_critical: online.filter((m) => m.thermal_status === 'critical').map((m) => m.miner),
    thermal_warn: online.filter((m) => m.thermal_status === 'warn').map((m) => m.miner),
  };
}

/** An IPv4 address as one number (10.0.0.9 before 10.0.0.10), else null. */
function ipv4Number(host: string): number | null {
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!octets) return null;
  return ((Number(octets[1]) * 256 + Number(octets[2])) * 256 + Number(octets[3])) * 256 + Number(octets[4]);
}

/**
 * Miner order: IPv4 addresses by number, as a farm's racks are laid out (10.0.0.2 … 10.0.0.10 …
 * 10.0.0.100, not 10.0.0.10, 10.0.0.100, 10.0.0.2), then other hosts by name; ports in order.
 */
function compareMinerKey(a: SortedMiner, b: SortedMiner): number {
  if (a.ip !== b.ip) {
    if (a.ip === null) return 1;
    if (b.ip === null) return -1;
    return a.ip - b.ip;
  }
  const { host: ha, port: pa } = a.miner;
  const { host: hb, port: pb } = b.miner;
  return ha < hb ? -1 : ha > hb ? 1 : pa - pb;
}

interface SortedMiner {
  miner: LiveMiner;
  ip: number | null;
}

const THERMAL_RANK: Record<ThermalStatus, number> = { critical: 0, warn: 1, ok: 2, unknown: 2 };

/**
 * Highest first for hashrate and temperature (current figures before those that are not), oldest
 * figures first for age; ties by miner. With
 * `hotFirst` (live --problems), critical miners come first, then warn, each group in that order.
 */
export function sortMiners(
  miners: LiveMiner[],
  by: LiveSort,
  options: { hotFirst?: boolean } = {},
): LiveMiner[] {
  const key = (m: LiveMiner): number | null =>
    by === 'hashrate'
      ? m.hashrate_hs
      : by === 'temp'
        ? hottestTemp(m)
        : by === 'age'
          ? (m.age_s ?? Number.POSITIVE_INFINITY)
          : null;
  // Each miner's address parsed once, not in every comparison.
  const sorted: SortedMiner[] = miners.map((miner) => ({ miner, ip: ipv4Number(miner.host) }));
  sorted.sort((sa, sb) => {
    const a = sa.miner;
    const b = sb.miner;
    if (options.hotFirst) {
      // Hot now first: a miner critical when its collector stopped hours ago is not among them.
      const rank =
        THERMAL_RANK[a.current ? a.thermal_status : 'unknown'] -
        THERMAL_RANK[b.current ? b.thermal_status : 'unknown'];
      if (rank !== 0) return rank;
    }
    // Figures that are not current (an offline miner's last hashrate, a stale temperature) rank
    // after every current one: `--sort temp | head` showed a miner offline for a week at 95 °C
    // above the hottest running ones.
    if (by === 'hashrate' || by === 'temp') {
      if (a.current !== b.current) return a.current ? -1 : 1;
    }
    if (by !== 'miner') {
      const ka = key(a);
      const kb = key(b);
      if (ka !== kb) {
        if (ka === null) return 1;
        if (kb === null) return -1;
        return kb - ka;
      }
    }
    return compareMinerKey(sa, sb);
  });
  return sorted.map((entry) => entry.miner);
}

export { formatAge };
