// The upload_outbox table (migration 0002): what the flush reads and how it records each answer.
// All functions are synchronous (better-sqlite3); the ones that change several rows do it in one
// transaction so a crash never leaves a batch half-split or a cycle half-enqueued.
import type { PreparedBatch } from '../upload/batch.js';
import type { Db } from './types.js';

export type OutboxState = 'pending' | 'delivered' | 'quarantined' | 'superseded';

export interface OutboxRow {
  id: number;
  batchId: string;
  siteId: string;
  runId: number | null;
  createdAt: number;
  body: Buffer;
  miners: number;
  bytes: number;
  state: OutboxState;
  attempts: number;
  nextAttemptAt: number;
  lastAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
  parent: string | null;
}

interface RawRow {
  id: number;
  batch_id: string;
  site_id: string;
  run_id: number | null;
  created_at: number;
  body: Buffer;
  miners: number;
  bytes: number;
  state: OutboxState;
  attempts: number;
  next_attempt_at: number;
  last_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
  parent: string | null;
}

function fromRaw(row: RawRow): OutboxRow {
  return {
    id: row.id,
    batchId: row.batch_id,
    siteId: row.site_id,
    runId: row.run_id,
    createdAt: row.created_at,
    body: row.body,
    miners: row.miners,
    bytes: row.bytes,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    lastStatus: row.last_status,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    parent: row.parent,
  };
}

const INSERT = `
  INSERT INTO upload_outbox (batch_id, site_id, run_id, created_at, body, miners, bytes, state, next_attempt_at, parent)
  VALUES (@batchId, @siteId, @runId, @createdAt, @body, @miners, @bytes, 'pending', @createdAt, @parent)`;

/**
 * Adds batches as pending. Meant to run INSIDE the collect cycle's transaction (better-sqlite3
 * nests it as a savepoint), so a cycle and its batches are committed or lost together.
 */
export function enqueueBatches(db: Db, batches: readonly PreparedBatch[]): void {
  const insert = db.prepare(INSERT);
  db.transaction(() => {
    for (const batch of batches) insert.run(batch);
  })();
}

/**
 * No batch is ever made to wait longer than this (Retry-After and rests are capped at an hour): a
 * next attempt further ahead was stamped by a clock that leapt forward, and is due now.
 */
const MAX_WAIT_MS = 2 * 3_600_000;

/**
 * The oldest pending batch whose next attempt is due at `now`, or null. With `site`, only that
 * site's: each site's batches go to the collector with that site's own key. Within one cycle the
 * smallest goes first: the halves of a batch refused as too large (413) are tried depth first, so
 * a collector that refuses every size is found out in a few requests, not after splitting all.
 */
export function nextDueBatch(
  db: Db,
  now: number,
  site: string | null = null,
  /** Batches not to return (the ones this run set aside). */
  skip: readonly string[] = [],
): OutboxRow | null {
  const row = db
    .prepare(NEXT_DUE_BATCH_SQL)
    .get({ now, far: now + MAX_WAIT_MS, site, skip: JSON.stringify(skip) }) as RawRow | undefined;
  return row ? fromRaw(row) : null;
}

const DUE = `state = 'pending' AND (next_attempt_at <= @now OR next_attempt_at > @far)
  AND (@site IS NULL OR site_id = @site) AND batch_id NOT IN (SELECT value FROM json_each(@skip))`;

/**
 * The oldest due cycle through the pending index, then the smallest of its batches. One ORDER BY
 * (created_at, miners, id) cannot walk that index: SQLite scanned and sorted the whole table for
 * every batch, 80 ms each with 40,000 batches pending after an outage, most of an hour to drain.
 * (INDEXED BY: left to itself, the planner still scans the table for the outer query.) The index
 * holds every column the choice reads, so only the chosen batch's row (and body) is read: a filter
 * on a table column read each body behind it (every deferred batch, every batch of the cycle).
 */
export const NEXT_DUE_BATCH_SQL = `
  SELECT * FROM upload_outbox WHERE id = (
    SELECT id FROM upload_outbox INDEXED BY upload_outbox_queue
     WHERE ${DUE}
       AND created_at = (SELECT created_at FROM upload_outbox INDEXED BY upload_outbox_queue
                          WHERE ${DUE} ORDER BY created_at, id LIMIT 1)
     ORDER BY miners, id LIMIT 1)`;

/**
 * The sites that have batches pending, by name; with `quarantinedToo`, those with quarantined ones
 * as well (what a --requeue is about to make pending).
 */
export function pendingSites(db: Db, quarantinedToo = false): string[] {
  return db
    .prepare(
      `SELECT DISTINCT site_id FROM upload_outbox INDEXED BY upload_outbox_state
        WHERE state IN ('pending', ?) ORDER BY site_id`,
    )
    .pluck()
    .all(quarantinedToo ? 'quarantined' : 'pending') as string[];
}

/** The sites that have batches in the outbox in any state (delivered ones until they are pruned). */
export function outboxSites(db: Db): string[] {
  return db
    .prepare('SELECT DISTINCT site_id FROM upload_outbox INDEXED BY upload_outbox_state ORDER BY site_id')
    .pluck()
    .all() as string[];
}

export function getBatch(db: Db, batchId: string): OutboxRow | null {
  const row = db.prepare('SELECT * FROM upload_outbox WHERE batch_id = ?').get(batchId) as RawRow | undefined;
  return row ? fromRaw(row) : null;
}

/**
 * What the last attempt says until its answer is recorded: the request is in flight, or the run
 * sending it ended first (killed, interrupted, out of time). What the attempt before it got follows.
 */
export const UNANSWERED_ATTEMPT =
  'no answer recorded for the last attempt (in flight, or the run sending it was killed, interrupted or ran out of time)';

/**
 * What an attempt says when the flush's own deadline closed it before an answer (a drain cut into
 * runs, `--deadline`, the time before the next cycle): not the collector's failure. Left as
 * UNANSWERED_ATTEMPT, `upload --status` said it as the last error of a healthy drain.
 */
export const CUT_BY_DEADLINE =
  "cut by the flush's deadline before an answer came (not a failure: the batch waits for the next flush)";

/** The last attempt was made but says nothing about the collector: in flight, or cut short. */
export function attemptWithoutAnswer(error: string): boolean {
  return error.startsWith(UNANSWERED_ATTEMPT) || error.startsWith(CUT_BY_DEADLINE);
}

/** Its last attempt was closed by the flush's deadline: says so in place of UNANSWERED_ATTEMPT. */
export function markCutByDeadline(db: Db, batchId: string): void {
  db.prepare(
    `UPDATE upload_outbox SET last_error = @cut || substr(last_error, length(@marker) + 1)
      WHERE batch_id = @batchId AND state = 'pending' AND substr(last_error, 1, length(@marker)) = @marker`,
  ).run({ batchId, cut: CUT_BY_DEADLINE, marker: UNANSWERED_ATTEMPT });
}

/**
 * Counted before the request leaves, so a run killed mid-send still shows the attempt. The earlier
 * answer stops being the last one: --status showed a 503 of the run before (even another endpoint's)
 * stamped with the time of the attempt a kill cut short. An attempt its deadline cut got no answer
 * either: what the one before it got is kept as it was, not wrapped (a collector that never answers,
 * met by flushes shorter than a request, grew the stored error by a sentence every flush).
 */
export function recordAttempt(db: Db, batchId: string, now: number): void {
  db.prepare(
    `UPDATE upload_outbox SET attempts = attempts + 1, last_attempt_at = @now, last_status = NULL,
            last_error = CASE
              WHEN last_error IS NULL OR last_error LIKE @marker || '%' THEN COALESCE(last_error, @marker)
              WHEN substr(last_error, 1, length(@cut)) = @cut THEN @marker || substr(last_error, length(@cut) + 1)
              ELSE @marker || '; the attempt before it got: ' || last_error END
      WHERE batch_id = @batchId`,
  ).run({ now, batchId, marker: UNANSWERED_ATTEMPT, cut: CUT_BY_DEADLINE });
}

export function markDelivered(db: Db, batchId: string, status: number, now: number): void {
  db.prepare(
    // The body goes (as a superseded batch's does): nothing sends a delivered batch again, and the
    // row is kept a week for --status; a week of batches queued in an outage sat on disk one more.
    `UPDATE upload_outbox SET state = 'delivered', delivered_at = ?, last_status = ?, last_error = NULL, body = X''
      WHERE batch_id = ? AND state = 'pending'`,
  ).run(now, status, batchId);
}

/** Still pending, not to be tried before `until`. */
export function deferBatch(db: Db, batchId: string, until: number): void {
  db.prepare(`UPDATE upload_outbox SET next_attempt_at = ? WHERE batch_id = ? AND state = 'pending'`).run(
    until,
    batchId,
  );
}

/** Still pending: records why, and when the next attempt may start (a Retry-After beyond this run). */
export function markRetryLater(
  db: Db,
  batchId: string,
  failure: { status: number | null; error: string; nextAttemptAt: number },
): void {
  db.prepare(
    `UPDATE upload_outbox SET last_status = ?, last_error = ?, next_attempt_at = ?
      WHERE batch_id = ? AND state = 'pending'`,
  ).run(failure.status, failure.error, failure.nextAttemptAt, batchId);
}

/** Pending → quarantined; false when it was no longer pending (retention dropped it meanwhile). */
export function markQuarantined(
  db: Db,
  batchId: string,
  failure: { status: number | null; error: string },
): boolean {
  return (
    db
      .prepare(
        `UPDATE upload_outbox SET state = 'quarantined', last_status = ?, last_error = ?
      WHERE batch_id = ? AND state = 'pending'`,
      )
      .run(failure.status, failure.error, batchId).changes === 1
  );
}

/**
 * Replaces a pending batch by its halves in one transaction: the halves become pending (in the
 * parent's place in the queue, since they share its created_at) and the parent is superseded,
 * its body dropped because it will never be sent again.
 */
export function replaceWithHalves(
  db: Db,
  parentId: string,
  halves: readonly PreparedBatch[],
  now: number,
  status: number | null,
  /** Why it was split (default: the collector's answer, `HTTP 413`). */
  why?: string,
): boolean {
  const insert = db.prepare(INSERT);
  const supersede = db.prepare(
    `UPDATE upload_outbox
        SET state = 'superseded', body = X'', last_status = ?, last_error = ?, delivered_at = ?
      WHERE batch_id = ? AND state = 'pending'`,
  );
  // False: the parent was no longer pending (retention dropped it meanwhile), nothing was added.
  return db.transaction(() => {
    const reason = `${why ?? `HTTP ${status}`}: split into ${halves.map((half) => half.batchId).join(', ')}`;
    if (supersede.run(status, reason, now, parentId).changes !== 1) return false;
    for (const half of halves) insert.run(half);
    return true;
  })();
}

/** Quarantined → pending, due now (of `site` only, when given). Returns how many were released. */
export function requeueQuarantined(
  db: Db,
  now: number,
  batchIds?: readonly string[],
  site: string | null = null,
): number {
  if (batchIds && batchIds.length > 0) {
    const one = db.prepare(
      `UPDATE upload_outbox SET state = 'pending', next_attempt_at = ? WHERE state = 'quarantined' AND batch_id = ?`,
    );
    let released = 0;
    db.transaction(() => {
      for (const id of batchIds) released += one.run(now, id).changes;
    })();
    return released;
  }
  return db
    .prepare(
      `UPDATE upload_outbox SET state = 'pending', next_attempt_at = ?
        WHERE state = 'quarantined' AND (? IS NULL OR site_id = ?)`,
    )
    .run(now, site, site).changes;
}

/** Batches and the miner snapshots in them. */
export interface DroppedBatches {
  batches: number;
  miners: number;
}

/**
 * Drops pending and quarantined batches made before `before` (retention: what they carry is gone
 * from the file's history too). Without it, a collector that never comes back grows the file by
 * every cycle's batches for ever. At most `limit` batches (any of those due): a --retain lowered
 * or a clock hold ended leaves weeks of batches to go, each body read to free it, and the caller
 * goes on in its next transaction or call rather than holding the file for minutes.
 */
export function dropUndeliveredBefore(
  db: Db,
  before: number,
  /** null: every site's; 'orphans': those of a site the file has no row for; else that site's. */
  site: { name: string } | 'orphans' | null = null,
  limit = Number.MAX_SAFE_INTEGER,
): DroppedBatches {
  const which =
    site === null
      ? ''
      : site === 'orphans'
        ? 'AND site_id NOT IN (SELECT name FROM sites)'
        : 'AND site_id = @site';
  const params: Record<string, number | string> =
    site === null || site === 'orphans' ? { before, limit } : { before, limit, site: site.name };
  const found = db
    .prepare<[Record<string, number | string>], { id: number; miners: number }>(
      `SELECT id, miners FROM upload_outbox INDEXED BY upload_outbox_state
        WHERE state IN ('pending', 'quarantined') AND created_at < @before ${which} LIMIT @limit`,
    )
    .all(params);
  const dropped: DroppedBatches = { batches: found.length, miners: 0 };
  if (found.length === 0) return dropped;
  const ids: number[] = [];
  for (const row of found) {
    ids.push(row.id);
    dropped.miners += row.miners;
  }
  db.prepare('DELETE FROM upload_outbox WHERE id IN (SELECT value FROM json_each(?))').run(
    JSON.stringify(ids),
  );
  return dropped;
}

/** Drops delivered and superseded rows finished before `before`; returns how many. */
export function pruneFinished(db: Db, before: number): number {
  return db
    .prepare(`DELETE FROM upload_outbox WHERE state IN ('delivered', 'superseded') AND delivered_at < ?`)
    .run(before).changes;
}

export interface OutboxStateCount {
  state: OutboxState;
  batches: number;
  miners: number;
  bytes: number;
  oldestCreatedAt: number | null;
}

export interface QuarantinedBatch {
  batchId: string;
  createdAt: number;
  miners: number;
  lastStatus: number | null;
  lastError: string | null;
}

/**
 * store_meta keys `PREFIX + endpoint URL`: until when (epoch ms) a collector asked, with a
 * Retry-After, to be sent nothing (its wait holds across runs; hashctl.md §9).
 */
export const RETRY_AFTER_META_PREFIX = 'upload.retry_after_until ';

/**
 * store_meta keys `PREFIX + site`: the endpoint URL that site's batches were last flushed to, so
 * `upload --status --site B` gives the wait of B's collector. Without it, the latest wait of any
 * collector was said as B's: site A's collector asking for an hour held "B's" batches.
 */
export const SITE_ENDPOINT_META_PREFIX = 'upload.endpoint_of_site ';

/** A collector's wait as the file keeps it. */
export interface CollectorWait {
  /** The endpoint URL (printable: query values masked). */
  endpoint: string;
  until: number;
  /** The sites (of those asked about) last flushed to it; empty when none is known to be. */
  sites: string[];
}

export interface OutboxStatus {
  states: Record<OutboxState, OutboxStateCount>;
  /** Earliest time a pending batch may be tried again by its own row (null when none pending). */
  nextAttemptAt: number | null;
  /**
   * The latest end of a Retry-After wait (past or not) of the collector(s) of these batches: of the
   * endpoint each site was last flushed to; of every endpoint the file keeps a wait for when a
   * site's is not known (a file from before it was kept). Null: none.
   */
  collectorWaitUntil: number | null;
  /** Those waits, one per endpoint, latest first. */
  collectorWaits: CollectorWait[];
  /** How many sites they were looked up for: the named one, or every site with batches pending. */
  waitSites: number;
  /** The most recent failure recorded on a pending or quarantined batch. */
  lastError: { batchId: string; status: number | null; error: string; at: number | null } | null;
  quarantined: QuarantinedBatch[];
}

/**
 * The outbox by state, of `site` only when one is named (else of every site). Read in one snapshot:
 * `upload --status` takes no lock, and a flush that quarantined or delivered a batch between its
 * statements made the counts, the last error and the list disagree (0 quarantined above a listed
 * one, `quarantined_batches_omitted: -1`).
 */
export function outboxStatus(
  db: Db,
  quarantinedLimit = 50,
  site: string | null = null,
  /** The time now: a next attempt stamped too far ahead of it is said as due now (nextDueBatch). */
  now?: number,
): OutboxStatus {
  const read = () => readOutboxStatus(db, quarantinedLimit, site, now);
  return db.inTransaction ? read() : db.transaction(read).deferred();
}

/**
 * The outbox's queries read the columns stored after `body` (state, miners, bytes, next_attempt_at,
 * last_error) from the indexes of migration 10: read from the table, each row's body was read too
 * (a 20,000-batch backlog took `upload --status` 0.7–1.5 s). Rows themselves are read only for the
 * few returned (LAST_FAILURE_SQL, QUARANTINED_SQL pick their ids from an index first).
 */
export const OUTBOX_COUNTS_SQL = `SELECT state, COUNT(*) AS batches, COALESCE(SUM(miners), 0) AS miners,
    COALESCE(SUM(bytes), 0) AS bytes, MIN(created_at) AS oldest
   FROM upload_outbox INDEXED BY upload_outbox_state WHERE (? IS NULL OR site_id = ?) GROUP BY state`;
export const NEXT_ATTEMPT_SQL = `SELECT MIN(next_attempt_at) AS at, MAX(next_attempt_at) AS latest
  FROM upload_outbox INDEXED BY upload_outbox_queue WHERE state = 'pending' AND (? IS NULL OR site_id = ?)`;
export const LAST_FAILURE_SQL = `SELECT batch_id, last_status, last_error, last_attempt_at FROM upload_outbox
  WHERE id = (SELECT id FROM upload_outbox INDEXED BY upload_outbox_failed
               WHERE state IN ('pending', 'quarantined') AND last_error IS NOT NULL AND (? IS NULL OR site_id = ?)
               ORDER BY last_attempt_at DESC, id DESC LIMIT 1)`;
// CROSS JOIN: the ids first (the planner, with statistics of a small table, scanned the table instead).
export const QUARANTINED_SQL = `SELECT o.batch_id, o.created_at, o.miners, o.last_status, o.last_error
  FROM (SELECT id FROM upload_outbox INDEXED BY upload_outbox_state
         WHERE state = 'quarantined' AND (? IS NULL OR site_id = ?) ORDER BY created_at, id LIMIT ?) AS q
  CROSS JOIN upload_outbox AS o ON o.id = q.id
  ORDER BY o.created_at, o.id`;
export const COLLECTOR_WAIT_SQL = `SELECT substr(key, length(?) + 1) AS endpoint, CAST(value AS REAL) AS at
  FROM store_meta WHERE substr(key, 1, length(?)) = ?`;
export const COUNT_PENDING_SQL = `SELECT COUNT(*) AS n FROM upload_outbox INDEXED BY upload_outbox_state
  WHERE state = 'pending' AND (? IS NULL OR site_id = ?)`;
export const NEXT_WAITING_SQL = `SELECT * FROM upload_outbox WHERE id = (
  SELECT id FROM upload_outbox INDEXED BY upload_outbox_queue WHERE state = 'pending' AND (? IS NULL OR site_id = ?)
   ORDER BY next_attempt_at, id LIMIT 1)`;

function readOutboxStatus(
  db: Db,
  quarantinedLimit: number,
  site: string | null,
  now: number | undefined,
): OutboxStatus {
  const empty = (state: OutboxState): OutboxStateCount => ({
    state,
    batches: 0,
    miners: 0,
    bytes: 0,
    oldestCreatedAt: null,
  });
  const states: Record<OutboxState, OutboxStateCount> = {
    pending: empty('pending'),
    delivered: empty('delivered'),
    quarantined: empty('quarantined'),
    superseded: empty('superseded'),
  };
  const counts = db.prepare(OUTBOX_COUNTS_SQL).all(site, site) as {
    state: OutboxState;
    batches: number;
    miners: number;
    bytes: number;
    oldest: number | null;
  }[];
  for (const row of counts) {
    states[row.state] = {
      state: row.state,
      batches: row.batches,
      miners: row.miners,
      bytes: row.bytes,
      oldestCreatedAt: row.oldest,
    };
  }
  const waitSites = site === null ? pendingSites(db) : [site];
  const waits = collectorWaits(db, waitSites);
  const last = db.prepare(LAST_FAILURE_SQL).get(site, site) as
    | { batch_id: string; last_status: number | null; last_error: string; last_attempt_at: number | null }
    | undefined;
  const quarantined = (
    db.prepare(QUARANTINED_SQL).all(site, site, quarantinedLimit) as {
      batch_id: string;
      created_at: number;
      miners: number;
      last_status: number | null;
      last_error: string | null;
    }[]
  ).map((row) => ({
    batchId: row.batch_id,
    createdAt: row.created_at,
    miners: row.miners,
    lastStatus: row.last_status,
    lastError: row.last_error,
  }));
  return {
    states,
    nextAttemptAt: now === undefined ? readNextAttempt(db, site).at : nextAttemptAt(db, site, now),
    collectorWaitUntil: waits[0]?.until ?? null,
    collectorWaits: waits,
    waitSites: waitSites.length,
    lastError: last
      ? { batchId: last.batch_id, status: last.last_status, error: last.last_error, at: last.last_attempt_at }
      : null,
    quarantined,
  };
}

/**
 * The waits that hold for these sites' batches: each site's collector's, by the endpoint it was
 * last flushed to; every kept wait when a site's endpoint is not known.
 */
function collectorWaits(db: Db, sites: readonly string[]): CollectorWait[] {
  const all = (
    db
      .prepare(COLLECTOR_WAIT_SQL)
      .all(RETRY_AFTER_META_PREFIX, RETRY_AFTER_META_PREFIX, RETRY_AFTER_META_PREFIX) as {
      endpoint: string;
      at: number | null;
    }[]
  ).flatMap((row) =>
    row.at === null || !Number.isFinite(row.at) ? [] : [{ endpoint: row.endpoint, until: row.at }],
  );
  if (all.length === 0) return [];
  const endpointOf = db.prepare<[string], string>('SELECT value FROM store_meta WHERE key = ?').pluck();
  const sitesOf = new Map<string, string[]>();
  let unknown = false;
  for (const name of sites) {
    const endpoint = endpointOf.get(`${SITE_ENDPOINT_META_PREFIX}${name}`);
    if (endpoint === undefined) unknown = true;
    else sitesOf.set(endpoint, [...(sitesOf.get(endpoint) ?? []), name]);
  }
  return all
    .filter((wait) => unknown || sitesOf.has(wait.endpoint))
    .map((wait) => ({ ...wait, sites: sitesOf.get(wait.endpoint) ?? [] }))
    .sort((a, b) => b.until - a.until);
}

export function countPending(db: Db, site: string | null = null): number {
  return (db.prepare(COUNT_PENDING_SQL).get(site, site) as { n: number }).n;
}

/** The pending batch (of `site`, or of all) that may be tried again first, with why it waits. */
export function nextWaitingBatch(db: Db, site: string | null = null): OutboxRow | null {
  const row = db.prepare(NEXT_WAITING_SQL).get(site, site) as RawRow | undefined;
  return row ? fromRaw(row) : null;
}

/**
 * Earliest time one of the pending batches (of `site`, or of all) may be tried again. A batch
 * stamped further ahead of `now` than any wait is due now, as nextDueBatch takes it: said as its
 * stamp, `upload --status` gave a time a month away for a batch the next run sends at once.
 */
export function nextAttemptAt(db: Db, site: string | null, now: number): number | null {
  const { at, latest } = readNextAttempt(db, site);
  return latest !== null && latest > now + MAX_WAIT_MS ? now : at;
}

function readNextAttempt(db: Db, site: string | null): { at: number | null; latest: number | null } {
  return db.prepare(NEXT_ATTEMPT_SQL).get(site, site) as { at: number | null; latest: number | null };
}
