// collection_runs: one row per stored cycle. A run row exists only if its whole cycle was stored.
import type { Db } from './types.js';

export interface RunRow {
  id: number;
  site_id: number;
  started_at: number;
  ended_at: number;
  polled: number;
  ok: number;
  failed: number;
}

export function runStatements(db: Db) {
  const insert = db.prepare<Omit<RunRow, 'id'>, { id: number }>(
    `INSERT INTO collection_runs (site_id, started_at, ended_at, polled, ok, failed)
     VALUES (@site_id, @started_at, @ended_at, @polled, @ok, @failed) RETURNING id`,
  );
  const latest = db.prepare<[number], RunRow>(
    'SELECT * FROM collection_runs WHERE site_id = ? ORDER BY started_at DESC LIMIT 1',
  );
  const recentStarts = db.prepare<[number, number], number>(
    'SELECT started_at FROM collection_runs WHERE site_id = ? ORDER BY started_at DESC LIMIT ?',
  );
  const deleteBefore = db.prepare<[number, number]>(
    'DELETE FROM collection_runs WHERE site_id = ? AND started_at < ?',
  );
  const stored = db.prepare<[number, number, number], number>(
    'SELECT EXISTS (SELECT 1 FROM collection_runs WHERE id = ? AND site_id = ? AND started_at = ?)',
  );
  return {
    insert(run: Omit<RunRow, 'id'>): number {
      return insert.get(run)!.id;
    },
    latest(siteId: number): RunRow | null {
      return latest.get(siteId) ?? null;
    },
    /** When the site's last `count` stored cycles started, newest first. */
    recentStarts(siteId: number, count: number): number[] {
      return recentStarts.pluck().all(siteId, count);
    },
    deleteBefore(siteId: number, cutoff: number): number {
      return deleteBefore.run(siteId, cutoff).changes;
    },
    /**
     * Whether the run of this id, site and start is stored: its cycle was committed (a rolled-back
     * cycle's id goes to the next run stored, maybe another site's) and retention has not taken it.
     */
    isStored(id: number, siteId: number, startedAt: number): boolean {
      return stored.pluck().get(id, siteId, startedAt) === 1;
    },
  };
}
