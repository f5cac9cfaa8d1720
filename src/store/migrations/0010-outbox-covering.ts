// The outbox's columns after `body` (miners, bytes, state, next_attempt_at, last_error…) sit past
// the body's overflow pages, so a query that reads them from the table walks every stored body:
// `upload --status` counting a 20,000-batch backlog (a week's outage) read it all, 0.7–1.5 s, more
// as the backlog grew. These indexes answer the status, the counts and the flush's choice of the
// next batch from index pages alone; a body is read only for the batch that is returned.
import type { Db } from '../types.js';

export const version = 10;
export const name = 'outbox-covering';

export function up(db: Db): void {
  db.exec(`
    -- Counts by state (and site), the sites, and the retention's count of what it drops.
    CREATE INDEX upload_outbox_state ON upload_outbox (state, site_id, created_at, miners, bytes);
    -- The pending queue in order, with what the flush filters and sorts on: replaces
    -- upload_outbox_pending (created_at, id), which sent every such filter to the table row.
    CREATE INDEX upload_outbox_queue ON upload_outbox (created_at, id, next_attempt_at, site_id, miners, batch_id)
      WHERE state = 'pending';
    DROP INDEX upload_outbox_pending;
    -- The most recent failure (--status): newest attempt first, without reading the rows that have none.
    CREATE INDEX upload_outbox_failed ON upload_outbox (last_attempt_at, id, site_id)
      WHERE state IN ('pending', 'quarantined') AND last_error IS NOT NULL;
  `);
}
