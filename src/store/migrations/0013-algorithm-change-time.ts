// telemetry_algorithm_changes.at: when the new algorithm was first polled (the run's start). Rollups
// carry no run id, and `history` keeps a year of them: to chart only the machine at the address now
// (an S19's sha256d rates are not to be averaged with the L3+'s scrypt ones before it), a change
// must be placed in time after its runs are gone. Rows already there take their run's start.
import type { Db } from '../types.js';

export const version = 13;
export const name = 'algorithm-change-time';

export function up(db: Db): void {
  db.exec(`
    ALTER TABLE telemetry_algorithm_changes ADD COLUMN at INTEGER;
    UPDATE telemetry_algorithm_changes
       SET at = (SELECT r.started_at FROM collection_runs r WHERE r.id = telemetry_algorithm_changes.run_id);
    DROP TRIGGER telemetry_live_algorithm_change;
    CREATE TRIGGER telemetry_live_algorithm_change AFTER UPDATE OF algorithm ON telemetry_live
      WHEN old.algorithm IS NOT new.algorithm AND old.algorithm IS NOT NULL AND new.algorithm IS NOT NULL
    BEGIN
      INSERT OR REPLACE INTO telemetry_algorithm_changes (miner_id, run_id, algorithm_before, at)
        VALUES (new.miner_id, new.run_id, old.algorithm, new.collected_at);
    END;
  `);
}
