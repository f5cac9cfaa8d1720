// The collector's body-size limit, learnt from its answers and kept per endpoint in store_meta
// (hashctl.md §9: 413 = split the batch and send the halves). Without it, every flush of every run
// sent each oversized batch whole again, was refused (413) and split from scratch: against a
// 4,000-byte limit, 60 of 140 requests were refused, each a full body over a farm's slow uplink.

import { metaStatements } from '../store/meta.js';
import type { Db } from '../store/types.js';

/**
 * How long a refusal holds. After it, one batch goes whole again (a re-probe): a collector whose
 * limit was raised is not stuck with small batches for ever; one still refusing it costs one 413 a day.
 */
export const SIZE_LIMIT_REPROBE_MS = 86_400_000;

export interface LearnedSizeLimit {
  /** Largest gzip'd body the collector took (0: none yet, or it is known stale). */
  acceptedBytes: number;
  /** Smallest gzip'd body it refused as too large (413), or null. */
  refusedBytes: number | null;
  /** When that refusal was last confirmed (epoch ms). */
  refusedAt: number | null;
}

const NONE: LearnedSizeLimit = { acceptedBytes: 0, refusedBytes: null, refusedAt: null };

export function sizeLimitKey(url: string): string {
  return `upload.size_limit ${url}`;
}

const wholeBytes = (value: unknown): number | null =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;

/** What is known of `url`'s limit; a missing or damaged value reads as nothing known. */
export function readSizeLimit(db: Db, url: string): LearnedSizeLimit {
  const raw = metaStatements(db).get(sizeLimitKey(url));
  if (raw === null) return NONE;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return NONE;
  }
  if (typeof parsed !== 'object' || parsed === null) return NONE;
  const record = parsed as Record<string, unknown>;
  const refusedBytes = wholeBytes(record.refused_bytes);
  const refusedAt =
    typeof record.refused_at === 'number' && Number.isFinite(record.refused_at) ? record.refused_at : null;
  return {
    acceptedBytes: wholeBytes(record.accepted_bytes) ?? 0,
    refusedBytes: refusedBytes !== null && refusedAt !== null ? refusedBytes : null,
    refusedAt: refusedBytes !== null && refusedAt !== null ? refusedAt : null,
  };
}

export function writeSizeLimit(db: Db, url: string, limit: LearnedSizeLimit): void {
  metaStatements(db).set(
    sizeLimitKey(url),
    JSON.stringify({
      accepted_bytes: limit.acceptedBytes,
      refused_bytes: limit.refusedBytes,
      refused_at: limit.refusedAt,
    }),
  );
}

/**
 * The size from which a batch is split before it is sent, or null (nothing refused, or the refusal
 * is older than a day: the next batch re-probes). The limit lies between the largest body taken and
 * the smallest refused; a body in the top quarter of that gap is split too (batches of one cycle
 * differ by a few bytes: one refused batch taught only its own size, and each slightly smaller
 * one after it was sent whole and refused again). A refusal dated ahead of `now` (the clock stepped
 * back) is re-probed rather than trusted for longer than a day.
 */
export function learnedCeiling(limit: LearnedSizeLimit, now: number): number | null {
  if (limit.refusedBytes === null || limit.refusedAt === null) return null;
  const age = now - limit.refusedAt;
  if (age < 0 || age >= SIZE_LIMIT_REPROBE_MS) return null;
  const taken = limit.acceptedBytes;
  if (taken <= 0 || taken >= limit.refusedBytes) return limit.refusedBytes;
  return limit.refusedBytes - Math.floor((limit.refusedBytes - taken - 1) / 4);
}

/** A body of `bytes` was taken: the limit is at least that (a refusal at or below it is stale). */
export function noteAccepted(limit: LearnedSizeLimit, bytes: number): LearnedSizeLimit {
  const raised = limit.refusedBytes !== null && bytes >= limit.refusedBytes;
  return {
    acceptedBytes: Math.max(limit.acceptedBytes, bytes),
    refusedBytes: raised ? null : limit.refusedBytes,
    refusedAt: raised ? null : limit.refusedAt,
  };
}

/**
 * A body of `bytes` was refused (413): the limit is below it. A refusal of a body no larger than one
 * already taken contradicts what is known: the limit was lowered, or the 413s were about content
 * (one odd miner: every batch holding it was refused, down to that miner alone), not size. All that
 * was learnt is forgotten: kept, one odd miner cut every later batch to two or three miners for a
 * day; a lowered limit is learnt again from the next refusals.
 */
export function noteRefused(limit: LearnedSizeLimit, bytes: number, now: number): LearnedSizeLimit {
  if (limit.acceptedBytes >= bytes) return NONE;
  const current = learnedCeiling(limit, now) === null ? null : limit.refusedBytes;
  return {
    acceptedBytes: limit.acceptedBytes,
    refusedBytes: current === null ? bytes : Math.min(current, bytes),
    refusedAt: now,
  };
}
