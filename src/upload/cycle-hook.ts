// The bridge from a stored collection cycle to the outbox: a CycleHook (src/store/cycle.ts) that
// builds this cycle's batches and enqueues them inside the cycle's own transaction, so a batch
// exists exactly when its cycle does.
import type { CycleHook, WrittenCycle } from '../store/cycle.js';
import { enqueueBatches } from '../store/outbox.js';
import type { Db } from '../store/types.js';
import {
  type BatchLimits,
  buildBatches,
  type CollectorInfo,
  DEFAULT_BATCH_LIMITS,
  type MinerReport,
} from './batch.js';
import { learnedCeiling, readSizeLimit } from './size-limit.js';

export interface OutboxHookOptions {
  limits?: Partial<BatchLimits>;
  collector?: CollectorInfo;
  /**
   * The endpoint the batches go to: a body size its collector refused (413, learnt by the flush)
   * caps this cycle's batches, so they are sealed small enough once instead of sent whole, refused
   * and split after every cycle.
   */
  endpointUrl?: string;
}

/** The limits a cycle's batches are built with: `given`, under the endpoint's learnt limit. */
export function cycleBatchLimits(
  db: Db,
  endpointUrl: string | undefined,
  now: number,
  given: Partial<BatchLimits> = {},
): Partial<BatchLimits> {
  if (endpointUrl === undefined) return given;
  const ceiling = learnedCeiling(readSizeLimit(db, endpointUrl), now);
  if (ceiling === null) return given;
  const maxBatchBytes = given.maxBatchBytes ?? DEFAULT_BATCH_LIMITS.maxBatchBytes;
  // Never under batch.ts's floor of 1 KiB: the flush splits what is still too large.
  return { ...given, maxBatchBytes: Math.max(1024, Math.min(maxBatchBytes, ceiling - 1)) };
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
    const limits = cycleBatchLimits(db, options.endpointUrl, cycle.endedAt, options.limits);
    const batches = buildBatches({
      siteId: cycle.site,
      runId: cycle.runId,
      miners: minerReportsOf(cycle),
      now: cycle.endedAt,
      limits,
      ...(options.collector ? { collector: options.collector } : {}),
    });
    enqueueBatches(db, batches);
  };
}
