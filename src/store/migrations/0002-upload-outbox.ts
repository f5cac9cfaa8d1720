// The upload outbox (hashctl.md §9): every batch for the cloud collector is written here inside the
// collection transaction first, then sent; a row leaves `pending` only on a definite answer.
// Times are epoch milliseconds (UTC). The collector key is never stored.
import type { Db } from '../types.js';

export function up(db: Db): void {
  db.exec(`
    CREATE TABLE upload_outbox (
      id              INTEGER PRIMARY KEY,
      batch_id        TEXT    NOT NULL UNIQUE,
      site_id         TEXT    NOT NULL,
      run_id          INTEGER,
      created_at      INTEGER NOT NULL,
      body            BLOB    NOT NULL,
      miners          INTEGER NOT NULL CHECK (miners >= 0),
      bytes           INTEGER NOT NULL CHECK (bytes >= 0),
      state           TEXT    NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'delivered', 'quarantined', 'superseded')),
      attempts        INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL,
      last_attempt_at INTEGER,
      last_status     INTEGER,
      last_error      TEXT,
      delivered_at    INTEGER,
      parent          TEXT REFERENCES upload_outbox (batch_id) ON DELETE SET NULL
    ) STRICT;

    -- "pending in order": the flush walks this, oldest first; split halves share their parent's created_at.
    CREATE INDEX upload_outbox_pending ON upload_outbox (created_at, id) WHERE state = 'pending';
    -- retention prunes finished rows by age.
    CREATE INDEX upload_outbox_finished ON upload_outbox (delivered_at) WHERE state IN ('delivered', 'superseded');
    CREATE INDEX upload_outbox_parent ON upload_outbox (parent) WHERE parent IS NOT NULL;
  `);
}
