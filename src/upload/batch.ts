// Cutting one collection cycle into upload batches: bounded in miners and in compressed bytes,
// each gzip'd once so that every resend of a batch is byte-identical (the receiver dedupes on
// batch_id, and a body that never changes makes that safe to reason about).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { gunzipSync, gzipSync } from 'node:zlib';
import { UploadError } from '../errors.js';
import type { Snapshot } from '../miners/types.js';
import { VERSION } from '../version.js';

/** Per-miner failure as in hashctl.md §3 (`"error":{"kind","message","attempts"}`). */
export interface MinerFailure {
  kind: string;
  message: string;
  attempts?: number;
  code?: number;
  msg?: string;
}

/** One miner of one cycle, as collect has it. */
export interface MinerReport {
  host: string;
  port: number;
  /** The store's stable id of the miner, when it has one. */
  minerId?: string | number | null;
  /** When this miner was read (epoch ms). */
  collectedAt: number;
  /** Present when the miner answered; absent or null when it failed. */
  snapshot?: Snapshot | null;
  error?: MinerFailure | null;
}

/** One element of `miners` on the wire: the snapshot's fields plus the miner's identity. */
export type UploadMinerEntry = {
  host: string;
  port: number;
  miner_id?: string | number | null;
  collected_at: string;
  ok: boolean;
  error?: MinerFailure;
} & Partial<Snapshot>;

export interface CollectorInfo {
  name: string;
  version: string;
  host: string;
}

/** The JSON document of one batch (its zod schema is in ./payload.ts). */
export interface UploadBatchBody {
  batch_id: string;
  /** Set on the halves of a batch the collector refused as too large (HTTP 413). */
  parent_batch_id?: string;
  site_id: string;
  collector: CollectorInfo;
  /** When the batch was sealed; resends carry the same value (the body never changes). */
  sent_at: string;
  miners: UploadMinerEntry[];
}

/** A batch ready for the outbox: the compressed body plus what the table indexes. */
export interface PreparedBatch {
  batchId: string;
  siteId: string;
  runId: number | null;
  createdAt: number;
  body: Buffer;
  miners: number;
  bytes: number;
  parent: string | null;
}

export interface BatchLimits {
  maxMiners: number;
  /** Largest gzip'd body; a batch over it is halved until it fits (one miner always goes alone). */
  maxBatchBytes: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxMiners: 500, maxBatchBytes: 1 << 20 };

export interface BuildBatchesInput {
  siteId: string;
  runId?: number | null;
  miners: readonly MinerReport[];
  /** Epoch ms; becomes `sent_at` and the outbox's created_at. */
  now: number;
  limits?: Partial<BatchLimits>;
  collector?: CollectorInfo;
  /** Injected by tests; UUID v4 otherwise. */
  newBatchId?: () => string;
}

export function defaultCollector(): CollectorInfo {
  return { name: 'hashctl', version: VERSION, host: hostname() };
}

export function toMinerEntry(report: MinerReport): UploadMinerEntry {
  const ok = report.snapshot !== undefined && report.snapshot !== null;
  const identity = {
    host: report.host,
    port: report.port,
    ...(report.minerId === undefined || report.minerId === null ? {} : { miner_id: report.minerId }),
    collected_at: new Date(report.collectedAt).toISOString(),
    ok,
  };
  if (ok) return { ...report.snapshot, ...identity };
  return {
    ...identity,
    error: report.error ?? { kind: 'internal', message: 'no snapshot and no error recorded' },
  };
}

/**
 * Builds the batches of one cycle. Call it before the collect transaction (it compresses), then
 * hand the result to `enqueueBatches` inside it. Zero miners make zero batches.
 */
export function buildBatches(input: BuildBatchesInput): PreparedBatch[] {
  const limits = resolveLimits(input.limits);
  const collector = input.collector ?? defaultCollector();
  const newBatchId = input.newBatchId ?? randomUUID;
  const sentAt = new Date(input.now).toISOString();
  const entries = input.miners.map(toMinerEntry);
  const seal = (miners: UploadMinerEntry[]): PreparedBatch => {
    const body: UploadBatchBody = {
      batch_id: newBatchId(),
      site_id: input.siteId,
      collector,
      sent_at: sentAt,
      miners,
    };
    return prepared(body, input.runId ?? null, input.now, null);
  };
  const batches: PreparedBatch[] = [];
  for (let start = 0; start < entries.length; start += limits.maxMiners) {
    batches.push(
      ...sealWithinBytes(entries.slice(start, start + limits.maxMiners), limits.maxBatchBytes, seal),
    );
  }
  return batches;
}

function sealWithinBytes(
  miners: UploadMinerEntry[],
  maxBytes: number,
  seal: (miners: UploadMinerEntry[]) => PreparedBatch,
): PreparedBatch[] {
  const batch = seal(miners);
  if (batch.bytes <= maxBytes || miners.length <= 1) return [batch];
  const half = Math.ceil(miners.length / 2);
  return [
    ...sealWithinBytes(miners.slice(0, half), maxBytes, seal),
    ...sealWithinBytes(miners.slice(half), maxBytes, seal),
  ];
}

/**
 * The two halves of a batch the collector answered 413 to: new batch ids, `parent_batch_id` set,
 * everything else (site, collector, sent_at, miners) carried over. Throws when it cannot be halved.
 */
export function splitBatchBody(
  body: Buffer,
  createdAt: number,
  runId: number | null,
  newBatchId: () => string = randomUUID,
): [PreparedBatch, PreparedBatch] {
  const parent = decodeBatchBody(body);
  if (parent.miners.length < 2) {
    throw new UploadError('upload', `batch ${parent.batch_id} holds one miner and cannot be split`);
  }
  const half = Math.ceil(parent.miners.length / 2);
  const { parent_batch_id: _grandparent, ...rest } = parent;
  const child = (miners: UploadMinerEntry[]): PreparedBatch =>
    prepared(
      { ...rest, batch_id: newBatchId(), parent_batch_id: parent.batch_id, miners },
      runId,
      createdAt,
      parent.batch_id,
    );
  return [child(parent.miners.slice(0, half)), child(parent.miners.slice(half))];
}

export function decodeBatchBody(body: Buffer): UploadBatchBody {
  try {
    return JSON.parse(gunzipSync(body).toString('utf8')) as UploadBatchBody;
  } catch (error) {
    throw new UploadError('upload', 'a stored upload batch is not readable gzip JSON', { cause: error });
  }
}

function prepared(
  body: UploadBatchBody,
  runId: number | null,
  createdAt: number,
  parent: string | null,
): PreparedBatch {
  const compressed = gzipSync(JSON.stringify(body));
  return {
    batchId: body.batch_id,
    siteId: body.site_id,
    runId,
    createdAt,
    body: compressed,
    miners: body.miners.length,
    bytes: compressed.length,
    parent,
  };
}

function resolveLimits(given: Partial<BatchLimits> | undefined): BatchLimits {
  const limits = { ...DEFAULT_BATCH_LIMITS, ...given };
  if (!Number.isInteger(limits.maxMiners) || limits.maxMiners < 1) {
    throw new UploadError('upload', `maxMiners must be a whole number ≥ 1, got ${limits.maxMiners}`);
  }
  if (!Number.isInteger(limits.maxBatchBytes) || limits.maxBatchBytes < 1024) {
    throw new UploadError('upload', `maxBatchBytes must be at least 1024, got ${limits.maxBatchBytes}`);
  }
  return limits;
}
