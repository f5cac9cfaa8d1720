// command_log: one row per miner per control run. `begin` is written before a write leaves and
// `finish` after, so an interrupted run leaves 'pending' rows that say a write may have gone out.
// Callers pass requests and messages already redacted: this module stores what it is given.
import type { Db } from './types.js';

export const COMMAND_RESULTS = [
  'pending',
  'verified',
  'sent',
  'refused',
  'failed',
  'unknown',
  'unsupported',
  'skipped',
] as const;
export type CommandResult = (typeof COMMAND_RESULTS)[number];

export interface CommandLogBegin {
  run_id: string;
  ts: number;
  actor: string;
  source: string;
  action: string;
  host: string;
  port: number;
  dialect: string | null;
  request: string | null;
}

export interface CommandLogFinish {
  result: Exclude<CommandResult, 'pending'>;
  finished_at: number;
  dialect?: string | null;
  request?: string | null;
  error_kind: string | null;
  error_code: number | null;
  error_message: string | null;
  /** Stored as JSON. */
  verification: Record<string, unknown> | null;
}

export interface CommandLogRow extends CommandLogBegin {
  id: number;
  finished_at: number | null;
  result: CommandResult;
  error_kind: string | null;
  error_code: number | null;
  error_message: string | null;
  verification: string | null;
}

const COLUMNS = `id, run_id, ts, finished_at, actor, source, action, host, port, dialect, request, result,
  error_kind, error_code, error_message, verification`;

export function commandLogStatements(db: Db) {
  const insert = db.prepare<CommandLogBegin, { id: number }>(
    `INSERT INTO command_log (run_id, ts, actor, source, action, host, port, dialect, request, result)
     VALUES (@run_id, @ts, @actor, @source, @action, @host, @port, @dialect, @request, 'pending')
     RETURNING id`,
  );
  const update = db.prepare<{
    id: number;
    result: string;
    finished_at: number;
    dialect: string | null;
    request: string | null;
    error_kind: string | null;
    error_code: number | null;
    error_message: string | null;
    verification: string | null;
  }>(
    `UPDATE command_log SET result = @result, finished_at = @finished_at,
       dialect = coalesce(@dialect, dialect), request = coalesce(@request, request),
       error_kind = @error_kind, error_code = @error_code, error_message = @error_message,
       verification = @verification
     WHERE id = @id`,
  );
  // Results after which the action may have taken effect: what a cooldown has to respect.
  const lastTaken = db.prepare<[string, number, string, string, number], { ts: number }>(
    `SELECT ts FROM command_log
     WHERE host = ? AND port = ? AND action = ? AND source = ? AND ts >= ?
       AND result IN ('pending', 'verified', 'sent', 'unknown')
     ORDER BY ts DESC LIMIT 1`,
  );
  // The miner's newest pause or resume from the two sources given: read newest first
  // through the (host, port, ts) index, it stops at the first one. Asked for each action and source
  // on its own, the one never taken (no thermal pause on a miner `control` pauses every night)
  // read the miner's whole log back to its first row: `live` on 10,000 curtailed miners with a
  // month of nightly pauses took 3.6 s instead of 1.2 s, and more each night.
  const newestSwitch = db.prepare<[string, number, string, string], { ts: number }>(NEWEST_SWITCH_SQL);
  const switchesAt = db.prepare<[string, number, number, string, string], { action: string; source: string }>(
    `SELECT action, source FROM command_log
     WHERE host = ? AND port = ? AND ts = ? AND action IN ('pause', 'resume')
       AND source IN (?, ?) AND result IN ${TAKEN_RESULTS}`,
  );
  const recent = db.prepare<[number, number], CommandLogRow>(
    `SELECT ${COLUMNS} FROM command_log WHERE ts >= ? ORDER BY ts, id LIMIT ?`,
  );
  const byRun = db.prepare<[string], CommandLogRow>(
    `SELECT ${COLUMNS} FROM command_log WHERE run_id = ? ORDER BY id`,
  );
  // Retention: the rows of one chunk, oldest first from a (ts, id) cursor, each with whether it must
  // stay: the newest row of its miner, source and action that may have taken effect. Those answer
  // lastSwitch (a miner paused 100 days ago and never resumed is still paused) and lastTaken (a
  // --cooldown longer than the retention) as before; what they leave is bounded by the miners.
  const pruneChunk = db.prepare<
    { before: number; after_ts: number; after_id: number; limit: number },
    { id: number; ts: number; keep: number }
  >(
    `SELECT c.id, c.ts, (c.result IN ${TAKEN_RESULTS} AND NOT EXISTS (
         SELECT 1 FROM command_log AS n
          WHERE n.host = c.host AND n.port = c.port AND n.ts > c.ts
            AND n.source = c.source AND n.action = c.action AND n.result IN ${TAKEN_RESULTS})) AS keep
       FROM command_log AS c
      WHERE c.ts < @before AND c.ts >= @after_ts AND NOT (c.ts = @after_ts AND c.id <= @after_id)
      ORDER BY c.ts, c.id LIMIT @limit`,
  );
  const deleteIds = db.prepare<[string]>(
    'DELETE FROM command_log WHERE id IN (SELECT value FROM json_each(?))',
  );
  return {
    /**
     * Deletes rows older than `before`, `chunkRows` at a time, each chunk in its own transaction
     * (`transaction` runs one), keeping the rows lastSwitch and lastTaken answer from. Stops after
     * about `budgetRows` rows looked at; returns how many went and, when it stopped early, where the
     * next call goes on (from the start, the kept rows of many miners could fill every call's budget).
     */
    pruneBefore(
      before: number,
      transaction: <T>(fn: () => T) => T,
      chunkRows = 5_000,
      budgetRows = 200_000,
      /** Where the last call stopped (its `next`): the rows it kept are not looked at again. */
      from: PruneCursor | null = null,
    ): { deleted: number; next: PruneCursor | null } {
      let deleted = 0;
      let seen = 0;
      let cursor = from ?? { ts: Number.MIN_SAFE_INTEGER, id: 0 };
      for (;;) {
        if (seen >= budgetRows) return { deleted, next: cursor };
        // Read and deleted in one transaction: a `control` finishing a newer row as refused between
        // the two would leave an older pause the newest, deleted as if it were not.
        const at = cursor;
        const chunk = transaction(() => {
          const rows = pruneChunk.all({ before, after_ts: at.ts, after_id: at.id, limit: chunkRows });
          const ids: number[] = [];
          for (const row of rows) if (!row.keep) ids.push(row.id);
          const changes = ids.length > 0 ? deleteIds.run(JSON.stringify(ids)).changes : 0;
          return { rows: rows.length, last: rows[rows.length - 1], changes };
        });
        deleted += chunk.changes;
        seen += chunk.rows;
        if (chunk.last === undefined || chunk.rows < chunkRows) return { deleted, next: null };
        cursor = { ts: chunk.last.ts, id: chunk.last.id };
      }
    },
    /** Records an attempt as 'pending'; returns its id for `finish`. */
    begin(row: CommandLogBegin): number {
      return (insert.get(row) as { id: number }).id;
    },
    finish(id: number, row: CommandLogFinish): void {
      update.run({
        id,
        result: row.result,
        finished_at: row.finished_at,
        dialect: row.dialect ?? null,
        request: row.request ?? null,
        error_kind: row.error_kind,
        error_code: row.error_code,
        error_message: row.error_message,
        verification: row.verification === null ? null : JSON.stringify(row.verification),
      });
    },
    /** When `action` from `source` last possibly took effect on host:port since `sinceMs`; null if never. */
    lastTaken(host: string, port: number, action: string, source: string, sinceMs: number): number | null {
      return lastTaken.get(host, port, action, source, sinceMs)?.ts ?? null;
    },
    /**
     * The newest pause or resume of host:port from `sources` that may have taken effect: its ts and
     * every such entry at that ts (null: none).
     */
    lastSwitch(
      host: string,
      port: number,
      sources: readonly [string, string],
    ): { ts: number; entries: { action: string; source: string }[] } | null {
      const [one, other] = sources;
      const ts = newestSwitch.get(host, port, one, other)?.ts;
      return ts === undefined ? null : { ts, entries: switchesAt.all(host, port, ts, one, other) };
    },
    recent(sinceMs = 0, limit = 1000): CommandLogRow[] {
      return recent.all(sinceMs, limit);
    },
    run(runId: string): CommandLogRow[] {
      return byRun.all(runId);
    },
  };
}

/** A position in command_log's (ts, id) order. */
export interface PruneCursor {
  ts: number;
  id: number;
}

/** Results after which an action may have taken effect. */
const TAKEN_RESULTS = "('pending', 'verified', 'sent', 'unknown')";

/** The newest pause or resume of one miner from two sources (see lastSwitch). */
export const NEWEST_SWITCH_SQL = `SELECT ts FROM command_log
  WHERE host = ? AND port = ? AND action IN ('pause', 'resume')
    AND source IN (?, ?) AND result IN ${TAKEN_RESULTS}
  ORDER BY ts DESC LIMIT 1`;

export type CommandLogStatements = ReturnType<typeof commandLogStatements>;
