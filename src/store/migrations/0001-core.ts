// The core schema (hashctl.md §7). Timestamps are INTEGER milliseconds since the Unix epoch (UTC).
import type { Db } from '../types.js';

export function up(db: Db): void {
  db.exec(`
    CREATE TABLE sites (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL
    ) STRICT;

    -- Inventory: first_seen_at is the first poll, last_seen_at the last poll it answered.
    CREATE TABLE miners (
      id INTEGER PRIMARY KEY,
      site_id INTEGER NOT NULL REFERENCES sites(id),
      host TEXT NOT NULL,
      port INTEGER NOT NULL,
      make TEXT,
      model TEXT,
      firmware_name TEXT,
      firmware_version TEXT,
      nominal_hs REAL,
      first_seen_at INTEGER NOT NULL,
      last_seen_at INTEGER,
      UNIQUE (site_id, host, port)
    ) STRICT;

    CREATE TABLE collection_runs (
      id INTEGER PRIMARY KEY,
      site_id INTEGER NOT NULL REFERENCES sites(id),
      started_at INTEGER NOT NULL,
      ended_at INTEGER NOT NULL,
      polled INTEGER NOT NULL,
      ok INTEGER NOT NULL,
      failed INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX collection_runs_site_started ON collection_runs (site_id, started_at);

    -- One row per miner, upserted every cycle. After a failed poll the metrics and snapshot of the
    -- last good poll stay, with stale = 1 and last_ok_at giving their age: never shown as current.
    CREATE TABLE telemetry_live (
      miner_id INTEGER PRIMARY KEY REFERENCES miners(id),
      site_id INTEGER NOT NULL REFERENCES sites(id),
      run_id INTEGER NOT NULL,
      collected_at INTEGER NOT NULL,
      ok INTEGER NOT NULL,
      error_kind TEXT,
      error_message TEXT,
      last_ok_at INTEGER,
      stale INTEGER NOT NULL DEFAULT 0,
      elapsed_ms INTEGER,
      hashrate_hs REAL,
      nominal_hs REAL,
      temp_chip_max_c REAL,
      temp_board_max_c REAL,
      fan_min_rpm INTEGER,
      boards_ok INTEGER,
      boards_total INTEGER,
      chips INTEGER,
      chips_expected INTEGER,
      power_w REAL,
      snapshot TEXT
    ) STRICT;
    CREATE UNIQUE INDEX telemetry_live_site_miner ON telemetry_live (site_id, miner_id);

    -- One compact row per miner per cycle; ts is the cycle's start. run_id has no foreign key on
    -- purpose: deleting old runs would otherwise scan this table once per run (no run_id index).
    CREATE TABLE telemetry_history (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL,
      miner_id INTEGER NOT NULL REFERENCES miners(id),
      site_id INTEGER NOT NULL,
      ts INTEGER NOT NULL,
      hashrate_hs REAL,
      temp_chip_max_c REAL,
      temp_board_max_c REAL,
      fan_min_rpm INTEGER,
      boards_ok INTEGER,
      boards_total INTEGER,
      chips INTEGER,
      chips_expected INTEGER,
      power_w REAL,
      accepted INTEGER,
      rejected INTEGER,
      error_kind TEXT,
      thermal_status TEXT
    ) STRICT;
    CREATE INDEX telemetry_history_miner_ts ON telemetry_history (miner_id, ts);
    CREATE INDEX telemetry_history_site_ts ON telemetry_history (site_id, ts);

    -- Hourly rollups outlive the raw history (retention keeps the file bounded).
    CREATE TABLE telemetry_hourly (
      miner_id INTEGER NOT NULL REFERENCES miners(id),
      hour_start INTEGER NOT NULL,
      site_id INTEGER NOT NULL,
      samples INTEGER NOT NULL,
      ok_samples INTEGER NOT NULL,
      hashrate_avg_hs REAL,
      hashrate_min_hs REAL,
      hashrate_max_hs REAL,
      temp_chip_max_c REAL,
      temp_board_max_c REAL,
      fan_min_rpm INTEGER,
      power_avg_w REAL,
      PRIMARY KEY (miner_id, hour_start)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX telemetry_hourly_site_hour ON telemetry_hourly (site_id, hour_start);

    -- Small bookkeeping values (when maintenance last ran, how far rollups have gone).
    CREATE TABLE store_meta (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;
  `);
}
