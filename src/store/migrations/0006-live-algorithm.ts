// telemetry_live.algorithm: the snapshot's mining algorithm in a column of its own. `live` groups
// hashrates by it (those of different algorithms are never added together), and reading it out of
// every stored snapshot with json_extract cost more than the rest of the query together (14 ms of
// 1,000 snapshots). Filled for the rows already there; collect writes it with every good poll, and
// a failed poll keeps it with the rest of the last good metrics.
import type { Db } from '../types.js';

export const version = 6;
export const name = 'live-algorithm';

export function up(db: Db): void {
  db.exec(`ALTER TABLE telemetry_live ADD COLUMN algorithm TEXT;
    UPDATE telemetry_live SET algorithm = json_extract(snapshot, '$.algorithm')
      WHERE snapshot IS NOT NULL AND json_valid(snapshot);`);
}
