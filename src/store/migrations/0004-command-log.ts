// command_log: the audit trail of `hashctl control` (and of thermal protection, which uses the same
// path). One row per miner per invocation, written before the write leaves (result 'pending') and
// finished after it, so a crash mid-write still shows that a write may have been sent.
// Requests are stored with secrets redacted; times are INTEGER ms since the Unix epoch (UTC).
import type { Db } from '../types.js';

export const version = 4;
export const name = 'command-log';

export function up(db: Db): void {
  db.exec(`
    CREATE TABLE command_log (
      id            INTEGER PRIMARY KEY,
      -- One invocation: every miner of one run shares it.
      run_id        TEXT    NOT NULL,
      ts            INTEGER NOT NULL,
      finished_at   INTEGER,
      actor         TEXT    NOT NULL,
      -- 'cli', 'thermal', or whatever the caller names itself.
      source        TEXT    NOT NULL,
      action        TEXT    NOT NULL,
      host          TEXT    NOT NULL,
      port          INTEGER NOT NULL,
      dialect       TEXT,
      request       TEXT,
      result        TEXT    NOT NULL CHECK (result IN
                      ('pending', 'verified', 'sent', 'refused', 'failed', 'unknown', 'unsupported', 'skipped')),
      error_kind    TEXT,
      error_code    INTEGER,
      error_message TEXT,
      -- JSON object: {confirmed, detail, checks, elapsed_ms}.
      verification  TEXT
    ) STRICT;
    CREATE INDEX command_log_miner_ts ON command_log (host, port, ts);
    CREATE INDEX command_log_ts ON command_log (ts);
  `);
}

export const migration = { version, name, up };
