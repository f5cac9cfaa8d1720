// `thermal check` without the CLI: turn what was read (live or from the store) into per-miner
// results, with hysteresis and events when a store is given. No printing, no process exit here.
import type { MinerErrorKind } from '../errors.js';
import type { Snapshot } from '../miners/types.js';
import { compareTargets } from '../targets/types.js';
import type { ThermalConfig } from './config.js';
import { evaluateThermal, isIdle } from './evaluate.js';
import {
  memoryForMachine,
  nextThermalState,
  stepForMachine,
  type ThermalMemory,
  type ThermalTransition,
} from './hysteresis.js';
import { effectiveLimits } from './limits.js';
import { type LimitsReadError, limitsReadError, type Replies, readFirmwareLimits } from './replies.js';
import type {
  CoolingClass,
  FirmwareThermalLimits,
  Metric,
  ProtectiveAction,
  ThermalEvaluation,
  ThermalLevel,
  ThermalLimits,
  ThermalReadings,
  ThermalReason,
  ThermalStatus,
} from './types.js';

/** One miner as read: a snapshot (and raw replies when live), or the error that stopped the read. */
export interface CheckSource {
  target: string;
  host: string;
  port: number;
  site: string | null;
  snapshot: Snapshot | null;
  replies?: Replies;
  /** From the store: the limits the firmware reported at the last good poll (replies are not kept). */
  firmwareLimits?: FirmwareThermalLimits | null;
  /** `attempts` (and `code`/`msg`) when a miner was asked; none for a stored row. */
  error?: SourceError;
  /** When the snapshot was taken (from-db: the last good poll). */
  observedAt?: number | null;
  /**
   * From the store: when the poll this row holds was made (its collected_at, good or failed). The
   * memory and events are dated by it, not by the check's clock: the reading is that old.
   */
  readAt?: number;
  /** Store ids when the source came from the store. */
  minerId?: number;
  siteId?: number;
}

/** Why a miner has no snapshot, as MinerError.toJSON() has it (or the store's kind and message). */
export interface SourceError {
  kind: MinerErrorKind | string;
  message: string;
  attempts?: number;
  code?: number;
  msg?: string;
}

export interface LimitSummary {
  warn: number | null;
  critical: number | null;
  source: string;
}

export interface CheckResult {
  target: string;
  host: string;
  port: number;
  site: string | null;
  status: ThermalStatus;
  cooling: CoolingClass | null;
  readings: ThermalReadings | null;
  limits: Partial<Record<Metric, LimitSummary>> | null;
  /** What was set aside while working out the limits, and why (ThermalLimits.notes). */
  limitNotes: string[];
  /** The firmware's own limits could not be read (its defaults were used): not a failure of the check. */
  limitsError?: LimitsReadError;
  reasons: ThermalReason[];
  action: ProtectiveAction;
  worst: ThermalEvaluation['worst'];
  error?: SourceError;
  /** Unknown with nothing that could overheat (ThermalEvaluation.nothingToHeat): no check left undone. */
  nothingToHeat?: boolean;
  /** Set when a store recorded a change of status for this miner in this run. */
  transition?: ThermalTransition;
}

export interface CheckSummary {
  total: number;
  ok: number;
  warn: number;
  critical: number;
  unknown: number;
  fail_on: ThermalLevel;
  /** Miners at or above fail_on. */
  failing: number;
}

/** What a store provides to the check: memory per miner and a place to record the step. */
export interface ThermalMemoryStore {
  load(source: CheckSource): ThermalMemory | null;
  save(source: CheckSource, memory: ThermalMemory, transition: ThermalTransition | null): void;
}

function limitSummary(limits: ThermalLimits): Partial<Record<Metric, LimitSummary>> {
  const out: Partial<Record<Metric, LimitSummary>> = {};
  for (const [metric, pair] of Object.entries(limits.metrics) as [
    Metric,
    ThermalLimits['metrics'][Metric],
  ][]) {
    if (pair.warn.value === null && pair.critical.value === null) continue;
    const sources = new Set([pair.warn.source, pair.critical.source]);
    out[metric] = { warn: pair.warn.value, critical: pair.critical.value, source: [...sources].join('; ') };
  }
  return out;
}

export interface CheckOptions {
  config: ThermalConfig;
  /** Site for config overrides when the source carries none (live targets with --site). */
  site: string | null;
  memory?: ThermalMemoryStore;
  /** Whether hashctl paused this miner (store command_log); asked only for a miner that is not hashing. */
  pausedBy?: (source: CheckSource) => string | null;
}

/** Evaluates one source; with a memory store, with hysteresis, recording the step. */
export function checkSource(source: CheckSource, options: CheckOptions): CheckResult {
  const site = source.site ?? options.site;
  const base = { target: source.target, host: source.host, port: source.port, site };
  const previous = options.memory?.load(source) ?? null;
  if (!source.snapshot) {
    const error = source.error ?? { kind: 'internal', message: 'no snapshot and no error recorded' };
    const step = nextThermalState(previous, null, `unreachable: ${error.kind}`);
    options.memory?.save(source, step.memory, step.transition);
    return {
      ...base,
      status: 'unknown',
      cooling: null,
      readings: null,
      limits: null,
      limitNotes: [],
      reasons: [
        {
          metric: 'readings',
          level: 'unknown',
          value: null,
          limit: null,
          message: `${error.kind}: ${error.message}`,
        },
      ],
      action: 'none',
      worst: null,
      error: { ...error, kind: String(error.kind) },
      ...(step.transition ? { transition: step.transition } : {}),
    };
  }
  const firmware =
    source.firmwareLimits !== undefined
      ? source.firmwareLimits
      : readFirmwareLimits(source.replies, source.snapshot.firmware.name);
  const limitsError = firmware === null && source.replies ? limitsReadError(source.replies) : null;
  const limits = effectiveLimits(source.snapshot, options.config, site, {
    miner: source.target,
    firmware,
    firmwareError: limitsError,
    ...(source.replies ? { replies: source.replies } : {}),
  });
  const pausedBy = options.pausedBy && isIdle(source.snapshot) ? options.pausedBy(source) : null;
  // Another machine at the address (a swap) is judged afresh, not by the old one's levels.
  const judged = memoryForMachine(previous, source.snapshot);
  const evaluation = evaluateThermal(
    source.snapshot,
    limits,
    options.memory ? (judged.previous?.levels ?? {}) : undefined,
    { pausedBy },
  );
  let transition: ThermalTransition | null = null;
  if (options.memory) {
    const step = stepForMachine(
      nextThermalState(judged.previous, evaluation),
      source.snapshot,
      judged.replaced,
    );
    options.memory.save(source, step.memory, step.transition);
    transition = step.transition;
  }
  return {
    ...base,
    status: evaluation.status,
    cooling: evaluation.cooling,
    readings: evaluation.readings,
    limits: limitSummary(limits),
    limitNotes: limits.notes,
    ...(limitsError ? { limitsError } : {}),
    reasons: evaluation.reasons,
    action: evaluation.action,
    worst: evaluation.worst,
    ...(evaluation.nothingToHeat ? { nothingToHeat: true } : {}),
    ...(source.error ? { error: { ...source.error, kind: String(source.error.kind) } } : {}),
    ...(transition ? { transition } : {}),
  };
}

const ORDER: Record<ThermalStatus, number> = { unknown: -1, ok: 0, warn: 1, critical: 2 };

/** True when the status is at or above the --fail-on level (unknown never is). */
export function atOrAbove(status: ThermalStatus, failOn: ThermalLevel): boolean {
  return ORDER[status] >= ORDER[failOn];
}

export function summarize(results: CheckResult[], failOn: ThermalLevel): CheckSummary {
  const summary: CheckSummary = {
    total: results.length,
    ok: 0,
    warn: 0,
    critical: 0,
    unknown: 0,
    fail_on: failOn,
    failing: 0,
  };
  for (const result of results) {
    summary[result.status]++;
    if (atOrAbove(result.status, failOn)) summary.failing++;
  }
  return summary;
}

/**
 * Exit code of a check (hashctl.md §3): 3 when any miner is at or above --fail-on; else 1 when a
 * target could not be read (it is `unknown`, and a farm gone dark must not pass a cron check);
 * else 0.
 */
export function checkExitCode(summary: CheckSummary, results: readonly CheckResult[]): number {
  if (summary.failing > 0) return 3;
  // A miner that could not be judged (unreachable, or hashing with every sensor dead) is a check
  // not done: cron must not read it as a pass. One with no hash board that hashes nothing is no
  // check undone (a cool farm with a bare cgminer controller in it exited 1).
  return results.some((result) => result.error || (result.status === 'unknown' && !result.nothingToHeat))
    ? 1
    : 0;
}

/** Sorted worst first, then by target, so the table starts with what needs attention. */
export function sortResults(results: CheckResult[]): CheckResult[] {
  return [...results].sort((a, b) => ORDER[b.status] - ORDER[a.status] || compareTargets(a.target, b.target));
}
