// One collection cycle, written in ONE transaction: the run row, the inventory, the live rows and
// the history rows appear together or (after any crash or error) not at all.
import type { MinerErrorKind } from '../errors.js';
import type { Snapshot } from '../miners/types.js';
import type { Target } from '../targets/types.js';
import { historyStatements } from './history.js';
import { liveStatements } from './live.js';
import { compactMetrics, EMPTY_METRICS } from './metrics.js';
import { minerStatements } from './miners.js';
import type { Store } from './open.js';
import { cycleInRolledHour } from './rollups.js';
import { runStatements } from './runs.js';
import { siteStatements } from './sites.js';
import type { Db } from './types.js';

/** What polling one miner gave. `thermalStatus` is filled by the thermal check when it runs. */
export type MinerOutcome =
  | {
      target: Target;
      ok: true;
      snapshot: Snapshot;
      /** JSON.stringify(snapshot), when the caller already has it: the live row stores it as is. */
      snapshotJson?: string;
      elapsedMs: number;
      thermalStatus?: string | null;
    }
  | {
      target: Target;
      ok: false;
      error: { kind: MinerErrorKind; message: string };
      elapsedMs: number;
      thermalStatus?: string | null;
    };

export interface CycleInput {
  site: string;
  startedAt: number;
  endedAt: number;
  outcomes: readonly MinerOutcome[];
}

/** What a hook sees: the ids the cycle was stored under, one entry per outcome in input order. */
export interface WrittenCycle {
  runId: number;
  siteId: number;
  site: string;
  startedAt: number;
  endedAt: number;
  miners: { minerId: number; outcome: MinerOutcome }[];
}

/**
 * Runs inside the cycle's transaction, after its rows are written: e.g. the upload outbox enqueues
 * its batches here so a batch exists exactly when its cycle does. Must be synchronous and use `db`
 * (better-sqlite3 transactions cannot span an await). Throwing rolls the whole cycle back.
 */
export type CycleHook = (db: Db, cycle: WrittenCycle) => void;

export interface CycleSummary {
  runId: number;
  siteId: number;
  polled: number;
  ok: number;
  failed: number;
}

export interface WriteCycleOptions {
  extraInTransaction?: CycleHook | readonly CycleHook[];
}

export function writeCycle(store: Store, input: CycleInput, options: WriteCycleOptions = {}): CycleSummary {
  const sites = store.prepared(siteStatements);
  const runs = store.prepared(runStatements);
  const miners = store.prepared(minerStatements);
  const live = store.prepared(liveStatements);
  const history = store.prepared(historyStatements);
  const hooks = options.extraInTransaction === undefined ? [] : [options.extraInTransaction].flat();
  const ok = input.outcomes.filter((outcome) => outcome.ok).length;
  const polled = input.outcomes.length;
  return store.transaction((db) => {
    const siteId = sites.ensure(input.site, input.startedAt);
    const runId = runs.insert({
      site_id: siteId,
      started_at: input.startedAt,
      ended_at: input.endedAt,
      polled,
      ok,
      failed: polled - ok,
    });
    const written: WrittenCycle = {
      runId,
      siteId,
      site: input.site,
      startedAt: input.startedAt,
      endedAt: input.endedAt,
      miners: [],
    };
    for (const outcome of input.outcomes) {
      const { host, port } = outcome.target;
      const snapshot = outcome.ok ? outcome.snapshot : null;
      const minerId = miners.upsert(siteId, host, port, input.startedAt, snapshot);
      const elapsed = Number.isFinite(outcome.elapsedMs) ? Math.round(outcome.elapsedMs) : null;
      // Computed once per miner: the live row and the history row read the same metrics.
      const compact = outcome.ok ? compactMetrics(outcome.snapshot) : EMPTY_METRICS;
      if (outcome.ok) {
        const { accepted: _a, rejected: _r, ...metrics } = compact;
        live.upsertOk({
          ...metrics,
          miner_id: minerId,
          site_id: siteId,
          run_id: runId,
          collected_at: input.startedAt,
          elapsed_ms: elapsed,
          algorithm: typeof outcome.snapshot.algorithm === 'string' ? outcome.snapshot.algorithm : null,
          snapshot: outcome.snapshotJson ?? JSON.stringify(outcome.snapshot),
        });
      } else {
        live.upsertFailed({
          miner_id: minerId,
          site_id: siteId,
          run_id: runId,
          collected_at: input.startedAt,
          elapsed_ms: elapsed,
          error_kind: outcome.error.kind,
          error_message: outcome.error.message,
        });
      }
      const { nominal_hs: _n, ...metrics } = compact;
      history.insert({
        ...metrics,
        run_id: runId,
        miner_id: minerId,
        site_id: siteId,
        ts: input.startedAt,
        error_kind: outcome.ok ? null : outcome.error.kind,
        thermal_status: outcome.thermalStatus ?? null,
      });
      written.miners.push({ minerId, outcome });
    }
    cycleInRolledHour(store, siteId, runId, input.startedAt);
    for (const hook of hooks) hook(db, written);
    return { runId, siteId, polled, ok, failed: polled - ok };
  });
}
