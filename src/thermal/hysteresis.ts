// State per miner across runs, so cron sees each change once and a sensor hovering at a limit does
// not flap: a level is entered at its limit and left only once the reading is the margin past it
// (evaluate.ts levelFor). Pure: memory in, memory and at most one transition out.
import type { Snapshot } from '../miners/types.js';
import { evaluateThermal } from './evaluate.js';
import {
  METRIC_INFO,
  type Metric,
  type ThermalEvaluation,
  type ThermalLevel,
  type ThermalLimits,
  type ThermalStatus,
} from './types.js';

/** What is remembered per miner between runs (the `thermal_state` row). */
export interface ThermalMemory {
  status: ThermalStatus;
  /** Level of each metric last time it was read; kept while the miner is unknown. */
  levels: Partial<Record<Metric, ThermalLevel>>;
  /** The metric that set the status (for the event that ends it). */
  metric: Metric | null;
}

export interface ThermalTransition {
  from: ThermalStatus;
  to: ThermalStatus;
  metric: Metric | 'readings' | null;
  value: number | null;
  limit: number | null;
  detail: string;
}

export interface ThermalStep {
  memory: ThermalMemory;
  transition: ThermalTransition | null;
}

/**
 * Folds one evaluation (made with `previous.levels`, see trackThermal) into the memory.
 * `evaluation` null means the miner could not be read; `unreachable` says why.
 */
export function nextThermalState(
  previous: ThermalMemory | null,
  evaluation: ThermalEvaluation | null,
  unreachable?: string,
): ThermalStep {
  const from: ThermalStatus = previous?.status ?? 'unknown';
  if (!evaluation || evaluation.status === 'unknown') {
    // No reading tells us nothing about heat: keep the levels so a return at the limit does not flap.
    const memory: ThermalMemory = { status: 'unknown', levels: previous?.levels ?? {}, metric: null };
    if (from === 'unknown') return { memory, transition: null };
    const detail = unreachable ?? evaluation?.reasons[0]?.message ?? 'no temperature reading';
    return {
      memory,
      transition: { from, to: 'unknown', metric: 'readings', value: null, limit: null, detail },
    };
  }
  // A metric not read this time (its sensor dropped out, or it was skipped) keeps its level, as every
  // metric does while the miner is unknown: a board that was critical and reads again at 79 °C is
  // held critical, not entered afresh at warn.
  const levels: Partial<Record<Metric, ThermalLevel>> = { ...previous?.levels };
  for (const result of evaluation.metrics) if (result.value !== null) levels[result.metric] = result.level;
  const to = evaluation.status;
  const top = evaluation.reasons.find((reason) => reason.level === to && reason.metric !== 'readings');
  const metric = top && top.metric !== 'readings' ? top.metric : null;
  const memory: ThermalMemory = { status: to, levels, metric };
  // First sight of a healthy miner is not news; anything else that changed is.
  if (from === to || (previous === null && to === 'ok')) return { memory, transition: null };
  if (top) {
    return {
      memory,
      transition: { from, to, metric: top.metric, value: top.value, limit: top.limit, detail: top.message },
    };
  }
  // Recovered: report the metric that had raised the alarm, with its reading now. One that is not
  // read now did not come back below its limit: say so, rather than log a recovery nobody measured.
  const recovered = previous?.metric ?? null;
  const result = recovered ? evaluation.metrics.find((m) => m.metric === recovered) : undefined;
  const unread = recovered !== null && (result?.value ?? null) === null;
  return {
    memory,
    transition: {
      from,
      to,
      metric: recovered,
      value: result?.value ?? null,
      limit: result ? (from === 'critical' ? result.critical : result.warn) : null,
      detail: unread
        ? `${recovered} ${result?.skipped ? `not judged now (${result.skipped})` : 'not read now'}, ${from} when last read; the other readings are within limits`
        : recovered
          ? // A low metric (fan speed, cold inlet) recovers upward.
            `${recovered} back ${METRIC_INFO[recovered].direction === 'low' ? 'above' : 'below'} its limit by the margin`
          : 'all readings within limits',
    },
  };
}

/** Evaluate with hysteresis and step the memory in one go. */
export function trackThermal(
  previous: ThermalMemory | null,
  snapshot: Snapshot,
  limits: ThermalLimits,
  context: { pausedBy?: string | null } = {},
): ThermalStep & { evaluation: ThermalEvaluation } {
  const evaluation = evaluateThermal(snapshot, limits, previous?.levels ?? {}, context);
  return { evaluation, ...nextThermalState(previous, evaluation) };
}
