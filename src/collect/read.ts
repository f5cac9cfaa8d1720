// Read side of the store for live, history and export: resolves a miner and builds a series,
// stitching hourly rollups in front of the raw rows retention has already removed.
import { StoreError, UsageError } from '../errors.js';
import {
  HOUR_MS,
  type HourlyRow,
  historyDeletedBefore,
  historyStatements,
  type MinerRow,
  minerStatements,
  rollupStatements,
  type SeriesRow,
  type Store,
} from '../store/index.js';
import type { Db } from '../store/types.js';
import { parseTarget } from '../targets/parse.js';
import { type Target, targetKey } from '../targets/types.js';
import type { ThermalStatus } from '../thermal/types.js';
import type { LiveThermal } from './farm.js';
import type { HistoryMetric, SeriesPoint } from './series.js';

/**
 * `HOST:PORT`, `[V6]:PORT` or a bare HOST or IPv6 address (then any port, if only one matches),
 * read by the targets grammar and normalized as collect stored it (lower case, no trailing dot,
 * IPv6 in its short form, an IPv4-mapped address as the IPv4 one).
 */
export function parseMinerArg(text: string): { host: string; port: number | null } {
  // Port 0 stands for "not given": the grammar only checks ports that are written.
  let target: Target;
  try {
    target = parseTarget(text, 0);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const why = error.message.slice(error.message.indexOf("': ") + 3);
    throw new UsageError(`invalid miner '${text}': ${why}; use HOST, HOST:PORT or [IPv6]:PORT`);
  }
  return { host: target.host, port: target.port === 0 ? null : target.port };
}

export function findMiner(store: Store, text: string, site: string | null): MinerRow {
  const { host, port } = parseMinerArg(text);
  // Site names are stored in NFC (sites.ts): "café" typed decomposed is the same site.
  const siteName = site?.normalize('NFC') ?? null;
  const matches = store
    .prepared(minerStatements)
    .find(host, port)
    .filter((m) => siteName === null || m.site === siteName);
  if (matches.length === 0) {
    // No miner at all: the first collect was killed before its first cycle was stored (it made the
    // schema). Said as live and an empty file say it, not as a typo in the miner's name (exit 2).
    if (store.db.prepare('SELECT NOT EXISTS (SELECT 1 FROM miners)').pluck().get() === 1)
      throw new StoreError(
        'io',
        `nothing stored in ${store.path} yet: run \`hashctl collect\` first (or pass --db)`,
      );
    throw new UsageError(`no miner ${text}${site === null ? '' : ` in site ${site}`} in ${store.path}`);
  }
  if (matches.length > 1) {
    const names = matches.slice(0, 10).map((m) => `${targetKey(m.host, m.port)} (site ${m.site})`);
    // The first ten, and `…` when there are more: the list must not read as all of them.
    if (matches.length > names.length) names.push('…');
    // What tells them apart: ports of one site need the port, one address:port in several sites
    // needs --site (asking for a --site already given, or one they all share, helps nobody).
    const byPort = new Set(matches.map((m) => m.port)).size === matches.length;
    const bySite = new Set(matches.map((m) => m.site)).size === matches.length;
    const give =
      byPort && bySite
        ? 'the port or --site'
        : byPort
          ? 'the port'
          : bySite
            ? '--site'
            : 'the port and --site';
    throw new UsageError(`'${text}' matches ${matches.length} miners: ${names.join(', ')}; give ${give}`);
  }
  return matches[0]!;
}

function rawValue(row: SeriesRow, metric: HistoryMetric): number | null {
  if (metric === 'hashrate') return row.hashrate_hs;
  if (metric === 'temp') return row.temp_chip_max_c ?? row.temp_board_max_c;
  return row.fan_min_rpm;
}

/** The hour's polls without the figure: all of them when the hour has no value. */
function missing(hour: HourlyRow, value: number | null, polls: number): number {
  return Math.max(0, value === null ? hour.samples : hour.samples - polls);
}

export function readSeries(
  store: Store,
  minerId: number,
  metric: HistoryMetric,
  since: number,
): SeriesPoint[] {
  const history = store.prepared(historyStatements);
  let raw = history.series(minerId, since);
  // Every hour retention has deleted raw rows from is its rollup, and none of the raw rows left in
  // it: those are in the rollup too (what is left of the hour a deletion stopped in, polls a clock
  // set back stamped there since). Taking rollups only before the oldest raw row instead, one such
  // poll hid every rollup after it (a clock set back two days, at a one-day retention, hid a day),
  // and the hour a deletion stopped in showed half its polls.
  const siteId = store.prepared(minerSiteStatements).siteOf(minerId);
  const deletedBefore = siteId === null ? null : historyDeletedBefore(store, siteId);
  const rolledUntil = deletedBefore === null ? null : Math.ceil(deletedBefore / HOUR_MS) * HOUR_MS;
  if (rolledUntil !== null && raw.length > 0 && raw[0]!.ts < rolledUntil)
    raw = raw.filter((row) => row.ts >= rolledUntil);
  const oldestRaw = rolledUntil ?? raw[0]?.ts ?? history.oldestTs(minerId) ?? Number.POSITIVE_INFINITY;
  const points: SeriesPoint[] = [];
  if (oldestRaw > since) {
    // Before the raw rows: hourly rollups, each the average of its polls with the hour's extremes,
    // weighing as the polls that had the figure (an hour rolled up before migration 9 kept only the
    // hottest chip and slowest fan of its temperatures and fans: those, as before). Only
    // hours before the raw rows shown: an hour is its raw rows or its rollup, never both.
    const until = Number.isFinite(oldestRaw)
      ? Math.floor(oldestRaw / HOUR_MS) * HOUR_MS
      : since + 100 * 365 * 24 * HOUR_MS;
    for (const hour of store.prepared(rollupStatements).forMiner(minerId, since, until)) {
      if (metric === 'hashrate') {
        points.push({
          ts: hour.hour_start,
          value: hour.hashrate_avg_hs,
          source: 'hourly',
          min: hour.hashrate_min_hs,
          max: hour.hashrate_max_hs,
          polls: hour.hashrate_samples ?? hour.ok_samples,
          missing: missing(hour, hour.hashrate_avg_hs, hour.hashrate_samples ?? hour.ok_samples),
        });
      } else if (metric === 'temp' && hour.temp_samples !== null) {
        points.push({
          ts: hour.hour_start,
          value: hour.temp_avg_c,
          source: 'hourly',
          min: hour.temp_min_c,
          max: hour.temp_max_c,
          polls: hour.temp_samples,
          missing: missing(hour, hour.temp_avg_c, hour.temp_samples),
        });
      } else if (metric === 'fans' && hour.fan_samples !== null) {
        points.push({
          ts: hour.hour_start,
          value: hour.fan_avg_rpm,
          source: 'hourly',
          min: hour.fan_min_rpm,
          max: hour.fan_max_rpm,
          polls: hour.fan_samples,
          missing: missing(hour, hour.fan_avg_rpm, hour.fan_samples),
        });
      } else {
        const value = metric === 'temp' ? (hour.temp_chip_max_c ?? hour.temp_board_max_c) : hour.fan_min_rpm;
        points.push({
          ts: hour.hour_start,
          value,
          source: 'hourly',
          polls: hour.ok_samples,
          missing: missing(hour, value, hour.ok_samples),
        });
      }
    }
  }
  for (const row of raw) points.push({ ts: row.ts, value: rawValue(row, metric), source: 'raw' });
  return points;
}

function minerSiteStatements(db: Db) {
  const site = db.prepare<[number], number>('SELECT site_id FROM miners WHERE id = ?').pluck();
  return {
    siteOf(minerId: number): number | null {
      return site.get(minerId) ?? null;
    },
  };
}

interface LiveThermalRow {
  miner_id: number;
  status: ThermalStatus;
  metric: string | null;
}

// Through telemetry_live's site index: thermal_state has none on site_id.
function liveThermalStatements(db: Db) {
  const columns =
    'SELECT t.miner_id, t.status, t.metric FROM telemetry_live l JOIN thermal_state t ON t.miner_id = l.miner_id';
  const bySite = db.prepare<[number], LiveThermalRow>(`${columns} WHERE l.site_id = ?`);
  const everywhere = db.prepare<[], LiveThermalRow>(columns);
  return {
    list(siteId: number | null): LiveThermalRow[] {
      return siteId === null ? everywhere.all() : bySite.all(siteId);
    },
  };
}

/** The thermal state collect keeps per miner (thermal_state, with hysteresis), by miner id. */
export function readLiveThermal(store: Store, siteId: number | null): Map<number, LiveThermal> {
  const states = new Map<number, LiveThermal>();
  for (const row of store.prepared(liveThermalStatements).list(siteId)) {
    states.set(row.miner_id, { status: row.status, metric: row.metric });
  }
  return states;
}
