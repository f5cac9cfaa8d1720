// The bridge from a stored collection cycle to the outbox: a CycleHook (src/store/cycle.ts) that
// builds this cycle's batches and enqueues them inside the cycle's own transaction, so a batch
// exists exactly when its cycle does.
import type { CycleHook, WrittenCycle } from '../store/cycle.js';
import { enqueueBatches } from '../store/outbox.js';
import { type BatchLimits, type CollectorInfo, type MinerReport, buildBatches } from './batch.js';

export interface OutboxHookOptions {
  limits?: Partial<BatchLimits>;
  collector?: CollectorInfo;
}

export function minerReportsOf(cycle: WrittenCycle): MinerReport[] {
  return cycle.miners.map(({ minerId, outcome }) => ({
    host: outcome.target.host,
    port: outcome.target.port,
    minerId,
    collectedAt: cycle.startedAt,
    snapshot: outcome.ok ? outcome.snapshot : null,
    error: outcome.ok ? null : outcome.error,
  }));
}

/** Pass as `writeCycle(store, input, { extraInTransaction: outboxCycleHook() })`. */
export function outboxCycleHook(options: OutboxHookOptions = {}): CycleHook {
  return (db, cycle) => {
    const batches = buildBatches({
      siteId: cycle.site,
      runId: cycle.runId,
      miners: minerReportsOf(cycle),
      now: cycle.endedAt,
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.collector ? { collector: options.collector } : {}),
    });
    enqueueBatches(db, batches);
  };
}
