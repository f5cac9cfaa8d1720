// telemetry_live: the farm now, one row per miner, upserted each cycle.
import type { MinerErrorKind } from '../errors.js';
import type { CompactMetrics } from './metrics.js';
import type { Db } from './types.js';

export interface LiveRow extends Omit<CompactMetrics, 'accepted' | 'rejected'> {
  miner_id: number;
  site_id: number;
  site: string;
  host: string;
  port: number;
  make: string | null;
  model: string | null;
  firmware_name: string | null;
  firmware_version: string | null;
  run_id: number;
  /** When the last poll (good or failed) happened. */
  collected_at: number;
  /** 1 when the last poll succeeded. */
  ok: number;
  error_kind: MinerErrorKind | null;
  error_message: string | null;
  /** When the metrics shown were taken (null: never answered). */
  last_ok_at: number | null;
  /** 1 when the last poll failed and the metrics are from an earlier good poll. */
  stale: number;
  elapsed_ms: number | null;
  /** The snapshot's algorithm: hashrates of different algorithms are never added together. */
  algorithm: string | null;
}

type OkParams = Omit<CompactMetrics, 'accepted' | 'rejected'> & {
  miner_id: number;
  site_id: number;
  run_id: number;
  collected_at: number;
  elapsed_ms: number | null;
  algorithm: string | null;
  snapshot: string;
};

interface FailedParams {
  miner_id: number;
  site_id: number;
  run_id: number;
  collected_at: number;
  elapsed_ms: number | null;
  error_kind: string;
  error_message: string;
}

// Rows come back as arrays (better-sqlite3's raw mode) and are built into objects here:
// better-sqlite3 makes a row object by setting its 28 properties one by one from C++, which cost
// 10-20 ms per 1,000 miners, most of `live`'s own time; arrays and a literal take a third of that.
const LIVE_COLUMNS = `l.miner_id, l.site_id, s.name AS site, m.host, m.port, m.make, m.model, m.firmware_name,
  m.firmware_version, l.run_id, l.collected_at, l.ok, l.error_kind, l.error_message, l.last_ok_at, l.stale,
  l.elapsed_ms, l.hashrate_hs, coalesce(l.nominal_hs, m.nominal_hs) AS nominal_hs, l.temp_chip_max_c,
  l.temp_board_max_c, l.fan_min_rpm, l.boards_ok, l.boards_total, l.chips, l.chips_expected, l.power_w,
  l.algorithm`;

/** One raw row of LIVE_COLUMNS, in their order. */
type LiveTuple = [
  number, number, string, string, number, string | null, string | null, string | null, string | null,
  number, number, number, MinerErrorKind | null, string | null, number | null, number,
  number | null, number | null, number | null, number | null,
  number | null, number | null, number | null, number | null, number | null, number | null, number | null,
  string | null,
];

function liveRow(r: LiveTuple): LiveRow {
  return {
    miner_id: r[0],
    site_id: r[1],
    site: r[2],
    host: r[3],
    port: r[4],
    make: r[5],
    model: r[6],
    firmware_name: r[7],
    firmware_version: r[8],
    run_id: r[9],
    collected_at: r[10],
    ok: r[11],
    error_kind: r[12],
    error_message: r[13],
    last_ok_at: r[14],
    stale: r[15],
    elapsed_ms: r[16],
    hashrate_hs: r[17],
    nominal_hs: r[18],
    temp_chip_max_c: r[19],
    temp_board_max_c: r[20],
    fan_min_rpm: r[21],
    boards_ok: r[22],
    boards_total: r[23],
    chips: r[24],
    chips_expected: r[25],
    power_w: r[26],
    algorithm: r[27],
  };
}
// CROSS JOIN keeps telemetry_live outermost (read through its site index) whatever the statistics say.
const LIVE_FROM =
  'telemetry_live l CROSS JOIN miners m ON m.id = l.miner_id CROSS JOIN sites s ON s.id = l.site_id';

export function liveStatements(db: Db) {
  const upsertOk = db.prepare<OkParams>(
    `INSERT INTO telemetry_live (miner_id, site_id, run_id, collected_at, ok, error_kind, error_message, last_ok_at,
       stale, elapsed_ms, hashrate_hs, nominal_hs, temp_chip_max_c, temp_board_max_c, fan_min_rpm, boards_ok,
       boards_total, chips, chips_expected, power_w, algorithm, snapshot)
     VALUES (@miner_id, @site_id, @run_id, @collected_at, 1, NULL, NULL, @collected_at, 0, @elapsed_ms, @hashrate_hs,
       @nominal_hs, @temp_chip_max_c, @temp_board_max_c, @fan_min_rpm, @boards_ok, @boards_total, @chips,
       @chips_expected, @power_w, @algorithm, @snapshot)
     ON CONFLICT (miner_id) DO UPDATE SET
       site_id = excluded.site_id, run_id = excluded.run_id, collected_at = excluded.collected_at, ok = 1,
       error_kind = NULL, error_message = NULL, last_ok_at = excluded.last_ok_at, stale = 0,
       elapsed_ms = excluded.elapsed_ms, hashrate_hs = excluded.hashrate_hs, nominal_hs = excluded.nominal_hs,
       temp_chip_max_c = excluded.temp_chip_max_c, temp_board_max_c = excluded.temp_board_max_c,
       fan_min_rpm = excluded.fan_min_rpm, boards_ok = excluded.boards_ok, boards_total = excluded.boards_total,
       chips = excluded.chips, chips_expected = excluded.chips_expected, power_w = excluded.power_w,
       algorithm = excluded.algorithm, snapshot = excluded.snapshot`,
  );
  // A failed poll keeps the last good metrics and snapshot, marked stale (their age is last_ok_at).
  const upsertFailed = db.prepare<FailedParams>(
    `INSERT INTO telemetry_live (miner_id, site_id, run_id, collected_at, ok, error_kind, error_message, stale,
       elapsed_ms)
     VALUES (@miner_id, @site_id, @run_id, @collected_at, 0, @error_kind, @error_message, 0, @elapsed_ms)
     ON CONFLICT (miner_id) DO UPDATE SET
       site_id = excluded.site_id, run_id = excluded.run_id, collected_at = excluded.collected_at, ok = 0,
       error_kind = excluded.error_kind, error_message = excluded.error_message, elapsed_ms = excluded.elapsed_ms,
       stale = (last_ok_at IS NOT NULL)`,
  );
  const bySite = db
    .prepare<[number], LiveTuple>(`SELECT ${LIVE_COLUMNS} FROM ${LIVE_FROM} WHERE l.site_id = ?`)
    .raw(true);
  const everywhere = db.prepare<[], LiveTuple>(`SELECT ${LIVE_COLUMNS} FROM ${LIVE_FROM}`).raw(true);
  const snapshot = db.prepare<[number], { snapshot: string | null }>(
    'SELECT snapshot FROM telemetry_live WHERE miner_id = ?',
  );
  return {
    upsertOk(params: OkParams): void {
      upsertOk.run(params);
    },
    upsertFailed(params: FailedParams): void {
      upsertFailed.run(params);
    },
    /** Every miner's live row, for one site or all. */
    list(siteId: number | null): LiveRow[] {
      return (siteId === null ? everywhere.all() : bySite.all(siteId)).map(liveRow);
    },
    /** The last good snapshot as stored (JSON text), or null. */
    snapshotJson(minerId: number): string | null {
      return snapshot.get(minerId)?.snapshot ?? null;
    },
  };
}

/** The SQL of the per-site live query, for EXPLAIN QUERY PLAN tests. */
export const LIVE_BY_SITE_SQL = `SELECT ${LIVE_COLUMNS} FROM ${LIVE_FROM} WHERE l.site_id = ?`;
