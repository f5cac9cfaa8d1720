// Thermal state per miner (the hysteresis memory of `hashctl thermal check --db`) and the log of
// its transitions. Times are INTEGER milliseconds since the Unix epoch (UTC), as in 0001-core.
import type { Db } from '../types.js';

export const version = 3;
export const name = 'thermal';

export function up(db: Db): void {
  db.exec(`
    -- One row per miner: the status last reported and each metric's level, so a reading hovering at
    -- a limit does not flap between runs. levels is a JSON object {metric: 'ok'|'warn'|'critical'}.
    CREATE TABLE thermal_state (
      miner_id   INTEGER PRIMARY KEY REFERENCES miners(id),
      site_id    INTEGER NOT NULL REFERENCES sites(id),
      status     TEXT    NOT NULL CHECK (status IN ('ok', 'warn', 'critical', 'unknown')),
      metric     TEXT,
      levels     TEXT    NOT NULL DEFAULT '{}',
      since      INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) STRICT;

    -- Each change of status, once. limit_value is the limit crossed (°C, RPM or a count).
    CREATE TABLE thermal_events (
      id          INTEGER PRIMARY KEY,
      miner_id    INTEGER NOT NULL REFERENCES miners(id),
      site_id     INTEGER NOT NULL REFERENCES sites(id),
      ts          INTEGER NOT NULL,
      from_state  TEXT    NOT NULL CHECK (from_state IN ('ok', 'warn', 'critical', 'unknown')),
      to_state    TEXT    NOT NULL CHECK (to_state IN ('ok', 'warn', 'critical', 'unknown')),
      metric      TEXT,
      value       REAL,
      limit_value REAL,
      detail      TEXT
    ) STRICT;
    CREATE INDEX thermal_events_miner_ts ON thermal_events (miner_id, ts);
    CREATE INDEX thermal_events_site_ts ON thermal_events (site_id, ts);
  `);
}

export const migration = { version, name, up };
