// telemetry_algorithm_changes: when the mining algorithm at a miner's address changed (another
// machine answers there now: an L3+ swapped for an S19). History rows do not repeat the algorithm,
// and `export` labelled every row with the live row's, so the old machine's scrypt rates were
// exported as sha256d ones. One row per change, written by a trigger on the live row when a good
// poll stores another algorithm than the last good one (a cycle that changes none does nothing
// more): `run_id` is the first run of the new algorithm, `algorithm_before` the algorithm of the
// miner's rows before it. No foreign key: a change outlives nothing it could mislabel (a miner id
// used again later has only newer runs).
import type { Db } from '../types.js';

export const version = 11;
export const name = 'algorithm-changes';

export function up(db: Db): void {
  db.exec(`
    CREATE TABLE telemetry_algorithm_changes (
      miner_id         INTEGER NOT NULL,
      run_id           INTEGER NOT NULL,
      algorithm_before TEXT    NOT NULL,
      PRIMARY KEY (miner_id, run_id)
    ) STRICT, WITHOUT ROWID;
    CREATE TRIGGER telemetry_live_algorithm_change AFTER UPDATE OF algorithm ON telemetry_live
      WHEN old.algorithm IS NOT new.algorithm AND old.algorithm IS NOT NULL AND new.algorithm IS NOT NULL
    BEGIN
      INSERT OR REPLACE INTO telemetry_algorithm_changes (miner_id, run_id, algorithm_before)
        VALUES (new.miner_id, new.run_id, old.algorithm);
    END;
  `);
}
