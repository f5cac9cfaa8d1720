// telemetry_history: one compact row per miner per cycle (the series behind `history` and `export`).
import type { CompactMetrics } from './metrics.js';
import type { Db } from './types.js';

export interface HistoryInsert extends Omit<CompactMetrics, 'nominal_hs'> {
  run_id: number;
  miner_id: number;
  site_id: number;
  ts: number;
  error_kind: string | null;
  thermal_status: string | null;
}

export interface SeriesRow {
  ts: number;
  hashrate_hs: number | null;
  temp_chip_max_c: number | null;
  temp_board_max_c: number | null;
  fan_min_rpm: number | null;
  error_kind: string | null;
}

/**
 * One exported row as better-sqlite3 returns it raw (an array, no object per row), in EXPORT_SQL's
 * column order. The site, the miner's address and its algorithm are the export's to look up: the
 * same few for thousands of rows.
 */
export type ExportRawRow = [
  ts: number,
  miner_id: number,
  run_id: number,
  hashrate_hs: number | null,
  temp_chip_max_c: number | null,
  temp_board_max_c: number | null,
  fan_min_rpm: number | null,
  boards_ok: number | null,
  boards_total: number | null,
  chips: number | null,
  chips_expected: number | null,
  power_w: number | null,
  accepted: number | null,
  rejected: number | null,
  error_kind: string | null,
  thermal_status: string | null,
];

export const SERIES_SQL = `SELECT ts, hashrate_hs, temp_chip_max_c, temp_board_max_c, fan_min_rpm, error_kind
  FROM telemetry_history WHERE miner_id = ? AND ts >= ? ORDER BY ts`;

// Ordered by the (site_id, ts) index so rows stream out without a sort of the whole range.
// One piece of the export: the site's rows stamped in (after, through], none added after `last_id`
// (`+h.id`: a term the planner must not take for the range to read, which it did with statistics).
// No join: the site is the one asked for, and the export reads the miners' addresses once
// (exportMiners); joining them to every row was most of SQLite's share of the export's time.
export const EXPORT_SQL = `SELECT h.ts, h.miner_id, h.run_id, h.hashrate_hs, h.temp_chip_max_c, h.temp_board_max_c,
    h.fan_min_rpm, h.boards_ok, h.boards_total, h.chips, h.chips_expected, h.power_w, h.accepted, h.rejected,
    h.error_kind, h.thermal_status
  FROM telemetry_history h
  WHERE h.site_id = @site_id AND h.ts > @after AND h.ts <= @through AND +h.id <= @last_id
  ORDER BY h.site_id, h.ts`;

interface ExportPiece {
  site_id: number;
  after: number;
  through: number;
  last_id: number;
}

export function historyStatements(db: Db) {
  const insert = db.prepare<HistoryInsert>(
    `INSERT INTO telemetry_history (run_id, miner_id, site_id, ts, hashrate_hs, temp_chip_max_c, temp_board_max_c,
       fan_min_rpm, boards_ok, boards_total, chips, chips_expected, power_w, accepted, rejected, error_kind,
       thermal_status)
     VALUES (@run_id, @miner_id, @site_id, @ts, @hashrate_hs, @temp_chip_max_c, @temp_board_max_c, @fan_min_rpm,
       @boards_ok, @boards_total, @chips, @chips_expected, @power_w, @accepted, @rejected, @error_kind,
       @thermal_status)`,
  );
  const series = db.prepare<[number, number], SeriesRow>(SERIES_SQL);
  const oldest = db.prepare<[number], { ts: number | null }>(
    'SELECT min(ts) AS ts FROM telemetry_history WHERE miner_id = ?',
  );
  const exportRows = db.prepare<ExportPiece, ExportRawRow>(EXPORT_SQL).raw(true);
  const miners = db
    .prepare<[], [id: number, host: string, port: number]>('SELECT id, host, port FROM miners')
    .raw(true);
  const miner = db
    .prepare<[number], [host: string, port: number]>('SELECT host, port FROM miners WHERE id = ?')
    .raw(true);
  const lastId = db.prepare<[], { id: number | null }>('SELECT max(id) AS id FROM telemetry_history');
  const tsAfter = db.prepare<[number, number, number], { ts: number }>(
    'SELECT ts FROM telemetry_history WHERE site_id = ? AND ts > ? ORDER BY ts LIMIT 1 OFFSET ?',
  );
  const algorithms = db.prepare<[], { miner_id: number; algorithm: string | null }>(
    'SELECT miner_id, algorithm FROM telemetry_live',
  );
  const algorithmOf = db.prepare<[number], { algorithm: string | null }>(
    'SELECT algorithm FROM telemetry_live WHERE miner_id = ?',
  );
  const nthTs = db.prepare<[number, number, number], { ts: number }>(
    'SELECT ts FROM telemetry_history WHERE site_id = ? AND ts < ? ORDER BY ts LIMIT 1 OFFSET ?',
  );
  const deleteBefore = db.prepare<[number, number]>(
    'DELETE FROM telemetry_history WHERE site_id = ? AND ts < ?',
  );
  return {
    insert(row: HistoryInsert): void {
      insert.run(row);
    },
    series(minerId: number, since: number): SeriesRow[] {
      return series.all(minerId, since);
    },
    oldestTs(minerId: number): number | null {
      return oldest.get(minerId)?.ts ?? null;
    },
    /** The id of the newest row (0: none): rows stored later have greater ids. */
    lastId(): number {
      return lastId.get()?.id ?? 0;
    },
    /**
     * The end of the next piece of the site's rows after `after`: the ts of the row `rows` rows on
     * (the piece takes the whole cycle it ends in); null when fewer are left (the piece takes them all).
     */
    pieceThrough(siteId: number, after: number, rows: number): number | null {
      return tsAfter.get(siteId, after, rows)?.ts ?? null;
    },
    /** Rows of one site stamped in (after, through], up to row id `lastId`, oldest first (one piece). */
    piece(siteId: number, after: number, through: number, lastId: number): ExportRawRow[] {
      return exportRows.all({ site_id: siteId, after, through, last_id: lastId });
    },
    /** Every miner's address by id, for the export to name each row's miner without a join. */
    exportMiners(): Map<number, { host: string; port: number }> {
      return new Map(miners.all().map(([id, host, port]) => [id, { host, port }]));
    },
    /** One miner's address (undefined: no such miner), for a row whose miner came after exportMiners. */
    exportMiner(minerId: number): { host: string; port: number } | undefined {
      const row = miner.get(minerId);
      return row === undefined ? undefined : { host: row[0], port: row[1] };
    },
    /**
     * Each miner's mining algorithm as its last good poll read it (history rows do not repeat it),
     * for the export to say which unit its hashrate counts.
     */
    minerAlgorithms(): Map<number, string | null> {
      return new Map(algorithms.all().map((row) => [row.miner_id, row.algorithm]));
    },
    /**
     * The miners whose algorithm changed (another machine at the address), each change oldest
     * first: a row of a run before `runId` was hashing `before` (migration 0011).
     */
    algorithmChanges(): Map<number, { runId: number; before: string }[]> {
      const changes = new Map<number, { runId: number; before: string }[]>();
      // Prepared here, for the export alone: the cycle's writer builds these statements too.
      const rows = db
        .prepare<[], { miner_id: number; run_id: number; algorithm_before: string }>(
          'SELECT miner_id, run_id, algorithm_before FROM telemetry_algorithm_changes ORDER BY miner_id, run_id',
        )
        .all();
      for (const row of rows) {
        const list = changes.get(row.miner_id) ?? [];
        if (list.length === 0) changes.set(row.miner_id, list);
        list.push({ runId: row.run_id, before: row.algorithm_before });
      }
      return changes;
    },
    /**
     * When the machine at the miner's address now began (null: no other machine hashed there in
     * what is stored): the last change from an algorithm it does not hash, with that algorithm.
     * A miner whose algorithm reads 'unknown' now and then changes no machine.
     */
    machineSince(minerId: number): { at: number; before: string } | null {
      const rows = db
        .prepare<[number], { at: number | null; before: string }>(
          `SELECT at, algorithm_before AS before FROM telemetry_algorithm_changes
            WHERE miner_id = ? AND at IS NOT NULL ORDER BY run_id DESC`,
        )
        .all(minerId);
      if (rows.length === 0) return null;
      const live = algorithmOf.get(minerId)?.algorithm ?? null;
      // The machine's algorithm now: the live one, else the last one read before 'unknown'.
      let now = live !== null && live !== 'unknown' ? live : null;
      for (const row of rows) {
        if (row.before === 'unknown') continue;
        if (now === null) now = row.before;
        else if (row.before !== now) return { at: row.at!, before: row.before };
      }
      return null;
    },
    /** The ts of the row `offset` rows into the site's history before `before`, oldest first (null: fewer rows). */
    nthTsBefore(siteId: number, before: number, offset: number): number | null {
      return nthTs.get(siteId, before, offset)?.ts ?? null;
    },
    /** Deletes the site's rows before `before`: whole cycles, since every row of a cycle has its start as ts. */
    deleteBefore(siteId: number, before: number): number {
      return deleteBefore.run(siteId, before).changes;
    },
  };
}
