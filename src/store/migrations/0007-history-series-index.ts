// telemetry_history_miner_ts becomes a covering index for `history`: it carries the columns the
// series reads, so one miner's day is ~15 neighbouring index pages instead of 1,440 table rows, one
// per page (a cycle writes every miner's row side by side). On a 30-day, 1,000-miner file whose
// pages were not cached, `history` of one miner over 24 h read for 95 ms; through this index it
// reads a few pages. It costs about 30 bytes per history row (96 -> ~125 bytes per miner-cycle,
// indexes included). Rebuilding it on an existing large file takes a while, once (about a minute
// for 43 M rows).
import type { Db } from '../types.js';

export const version = 7;
export const name = 'history-series-index';

/** The index, also used by the benchmark that bulk-loads history and indexes it afterwards. */
export const HISTORY_MINER_INDEX_SQL = `CREATE INDEX telemetry_history_miner_ts ON telemetry_history
  (miner_id, ts, hashrate_hs, temp_chip_max_c, temp_board_max_c, fan_min_rpm, error_kind)`;

export function up(db: Db): void {
  db.exec(`DROP INDEX IF EXISTS telemetry_history_miner_ts; ${HISTORY_MINER_INDEX_SQL};`);
}
