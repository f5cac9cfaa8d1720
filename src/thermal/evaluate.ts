// Snapshot + limits → status, readings and reasons. Pure: `collect` calls it for every history row
// (telemetry_history.thermal_status), `thermal check` for every miner.
import { FAN_UNJUDGED } from '../miners/dialects/common.js';
import type { Snapshot } from '../miners/types.js';
import { fold } from '../util/fold.js';
import {
  HEAT_METRICS,
  METRIC_INFO,
  METRICS,
  type Metric,
  type MetricResult,
  type ProtectiveAction,
  TEMPERATURE_METRICS,
  type ThermalEvaluation,
  type ThermalLevel,
  type ThermalLimits,
  type ThermalReadings,
  type ThermalReason,
} from './types.js';

const RANK: Record<ThermalLevel, number> = { ok: 0, warn: 1, critical: 2 };

export function worseLevel(a: ThermalLevel, b: ThermalLevel): ThermalLevel {
  return RANK[a] >= RANK[b] ? a : b;
}

/** A temperature we can trust: finite, not a sentinel (0 = absent sensor, −273 = Avalon "none"). */
function temperature(value: number | null | undefined): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  if (value === 0 || value <= -100 || value >= 500) return null;
  return value;
}

/** The hottest (and, for inlet, coldest) readings of a snapshot, plus fan and board counts. */
export function thermalReadings(snapshot: Snapshot): ThermalReadings {
  const boards = snapshot.boards ?? [];
  const fans = snapshot.fans ?? [];
  let slowest: number | null = null;
  let stopped = 0;
  /** Fans with a reading: one the normalizer could not believe (null) is unknown, not stopped. */
  let read = 0;
  for (let i = 0; i < fans.length; i++) {
    const rpm = fans[i]!.rpm;
    if (rpm === null || !Number.isFinite(rpm)) continue;
    read++;
    if (rpm <= 0) stopped++;
    else if (slowest === null || rpm < slowest) slowest = rpm;
  }
  let dead = 0;
  for (let i = 0; i < boards.length; i++) if (boards[i]!.status === 'dead') dead++;
  return {
    inlet_c: fold(boards, (b) => temperature(b.temp_inlet_c), 'max', temperature(snapshot.temp_inlet_c)),
    inlet_min_c: fold(boards, (b) => temperature(b.temp_inlet_c), 'min', temperature(snapshot.temp_inlet_c)),
    board_c: fold(boards, (b) => temperature(b.temp_board_c), 'max', temperature(snapshot.temp_max_board_c)),
    chip_c: fold(boards, (b) => temperature(b.temp_chip_c), 'max', temperature(snapshot.temp_max_chip_c)),
    outlet_c: fold(boards, (b) => temperature(b.temp_outlet_c), 'max'),
    fan_min_rpm: slowest,
    fans_total: read,
    fans_failed: read > 0 ? stopped : null,
    boards_total: boards.length,
    boards_dead: dead,
  };
}

export function readingFor(readings: ThermalReadings, metric: Metric): number | null {
  switch (metric) {
    case 'inlet':
      return readings.inlet_c;
    case 'inlet_low':
      return readings.inlet_min_c;
    case 'board':
      return readings.board_c;
    case 'chip':
      return readings.chip_c;
    case 'outlet':
      return readings.outlet_c;
    case 'fan_rpm':
      return readings.fan_min_rpm;
    case 'fans_failed':
      return readings.fans_failed;
    case 'boards_dead':
      return readings.boards_total > 0 ? readings.boards_dead : null;
  }
}

/**
 * The level of one reading. Without a previous level this is the plain comparison ("at the limit"
 * counts). With one, a level already entered is kept until the reading is `margin` past its limit
 * on the safe side, so a sensor hovering at a limit does not flap.
 */
export function levelFor(
  value: number | null,
  warn: number | null,
  critical: number | null,
  direction: 'high' | 'low',
  previous: ThermalLevel = 'ok',
  margin = 0,
): ThermalLevel {
  if (value === null) return 'ok';
  const reached = (limit: number | null, hold: boolean) => {
    if (limit === null) return false;
    const edge = hold ? (direction === 'high' ? limit - margin : limit + margin) : limit;
    return direction === 'high' ? value >= edge : value <= edge;
  };
  if (reached(critical, previous === 'critical')) return 'critical';
  if (reached(warn, previous !== 'ok')) return 'warn';
  return 'ok';
}

/** What the evaluation knows about a miner beyond its snapshot. */
export interface EvaluationContext {
  /** Set when hashctl paused this miner and has not resumed it (command_log); says when and how. */
  pausedBy?: string | null;
}

/** No hashrate at all: a pause stops every board, so the boards report dead without being so. */
export function isIdle(snapshot: Snapshot): boolean {
  const current = snapshot.hashrate?.current_hs ?? null;
  return current === null || current <= 0;
}

function whySkipped(
  metric: Metric,
  snapshot: Snapshot,
  limits: ThermalLimits,
  context: EvaluationContext,
): string | undefined {
  const fanMetric = metric === 'fan_rpm' || metric === 'fans_failed';
  if (fanMetric && limits.cooling.value !== 'air') return `${limits.cooling.value} cooling`;
  if (fanMetric && snapshot.state === 'sleeping') return 'miner is sleeping';
  // Our own pause: idle boards are not dead, and fans may ramp down (Braiins OS PauseMode auto).
  if ((fanMetric || metric === 'boards_dead') && context.pausedBy && isIdle(snapshot))
    return context.pausedBy;
  return undefined;
}

function formatValue(metric: Metric, value: number): string {
  const unit = METRIC_INFO[metric].unit;
  if (unit === 'count') return String(value);
  return unit === '°C' ? `${Math.round(value * 10) / 10} °C` : `${Math.round(value)} RPM`;
}

export function describe(
  metric: Metric,
  level: ThermalLevel,
  value: number,
  limit: number | null,
  source: string,
): string {
  const { direction, label } = METRIC_INFO[metric];
  const op = direction === 'high' ? '≥' : '≤';
  if (limit === null) return `${label} ${formatValue(metric, value)} (${level}, ${source})`;
  return `${label} ${formatValue(metric, value)} ${op} ${level} ${formatValue(metric, limit)} (${source})`;
}

/**
 * A level kept by hysteresis: the reading is back on the safe side of the limit, but not yet by the
 * margin. Saying "79 °C ≥ critical 80 °C" would be false; this says why the level holds.
 */
export function describeHeld(
  metric: Metric,
  level: ThermalLevel,
  value: number,
  limit: number,
  margin: number,
  source: string,
): string {
  const { direction, label } = METRIC_INFO[metric];
  const edge = direction === 'high' ? limit - margin : limit + margin;
  const until = direction === 'high' ? 'below' : 'above';
  return `${label} ${formatValue(metric, value)}, held ${level} until ${until} ${formatValue(metric, edge)} (hysteresis; ${level} ${formatValue(metric, limit)}, ${source})`;
}

/**
 * Evaluates one snapshot against its limits. `previousLevels` (from the hysteresis memory) switches
 * on the margins; without it the comparison is plain. Status is the worst level, except that a miner
 * with no temperature reading at all is `unknown` rather than `ok`.
 */
export function evaluateThermal(
  snapshot: Snapshot,
  limits: ThermalLimits,
  previousLevels?: Partial<Record<Metric, ThermalLevel>>,
  context: EvaluationContext = {},
): ThermalEvaluation {
  const readings = thermalReadings(snapshot);
  const metrics: MetricResult[] = [];
  const reasons: ThermalReason[] = [];
  let worstLevel: ThermalLevel = 'ok';
  let worst: ThermalEvaluation['worst'] = null;
  let worstHeadroom = Number.POSITIVE_INFINITY;
  let action: ProtectiveAction = 'none';

  for (const metric of METRICS) {
    const { direction, unit } = METRIC_INFO[metric];
    const { warn, critical } = limits.metrics[metric];
    const skipped = whySkipped(metric, snapshot, limits, context);
    const value = skipped ? null : readingFor(readings, metric);
    const margin = unit === '°C' ? limits.margin_c.value : unit === 'RPM' ? limits.margin_rpm.value : 0;
    const level = previousLevels
      ? levelFor(value, warn.value, critical.value, direction, previousLevels[metric] ?? 'ok', margin)
      : levelFor(value, warn.value, critical.value, direction);
    const decidingLimit =
      level === 'critical' ? critical : level === 'warn' && warn.value !== null ? warn : critical;
    const headroom =
      value === null || critical.value === null
        ? null
        : direction === 'high'
          ? critical.value - value
          : value - critical.value;
    metrics.push({
      metric,
      value,
      level,
      warn: warn.value,
      critical: critical.value,
      source: decidingLimit.value === null ? warn.source : decidingLimit.source,
      headroom,
      ...(skipped ? { skipped } : {}),
    });
    if (value === null) continue;
    if (level !== 'ok') {
      const limitValue = decidingLimit.value ?? warn.value;
      // Above the plain comparison means the level is held by the margin, not reached.
      const held =
        previousLevels !== undefined &&
        limitValue !== null &&
        RANK[level] > RANK[levelFor(value, warn.value, critical.value, direction)];
      reasons.push({
        metric,
        level,
        value,
        limit: limitValue,
        message: held
          ? describeHeld(metric, level, value, limitValue, margin, decidingLimit.source)
          : describe(metric, level, value, limitValue, decidingLimit.source),
      });
      // A pause sheds heat: it answers heat and lost cooling, never a cold inlet, which the miner's
      // own heat is fighting (thermal-facts §6: inlet-low is a condensation risk at start-up).
      if (level === 'critical' && metric !== 'inlet_low') action = 'pause';
      else if (action === 'none') action = 'notify';
    }
    // The worst metric: highest level first, then least headroom (comparable only between temperatures).
    const rankHeadroom = unit === '°C' && headroom !== null ? headroom : Number.POSITIVE_INFINITY;
    if (
      !worst ||
      RANK[level] > RANK[worst.level] ||
      (RANK[level] === RANK[worst.level] && rankHeadroom < worstHeadroom)
    ) {
      worst = { metric, value, limit: critical.value, level };
      worstHeadroom = rankHeadroom;
    }
    worstLevel = worseLevel(worstLevel, level);
  }

  // Reasons most severe first, so the first one explains the status.
  reasons.sort((a, b) => RANK[b.level as ThermalLevel] - RANK[a.level as ThermalLevel]);
  const anyTemperature = TEMPERATURE_METRICS.some((metric) => readingFor(readings, metric) !== null);
  const anyHeat = HEAT_METRICS.some((metric) => readingFor(readings, metric) !== null);
  let status: ThermalEvaluation['status'] = worstLevel;
  let nothingToHeat = false;
  // An inlet alone can make a miner warn or critical (the room is too hot), never ok.
  if (!anyHeat && worstLevel === 'ok') {
    status = 'unknown';
    // A controller that lists no hash board and says it hashes nothing (cgminer with no device
    // attached) has nothing that could overheat: unknown all the same, but no check left undone.
    nothingToHeat = readings.boards_total === 0 && snapshot.hashrate?.current_hs === 0;
    reasons.push({
      metric: 'readings',
      level: 'unknown',
      value: null,
      limit: null,
      message: nothingToHeat
        ? 'no temperature reading: no hash board and not hashing, nothing to overheat'
        : anyTemperature
          ? 'no board or chip temperature reading (inlet only)'
          : 'no temperature reading',
    });
  }
  // A 0-rpm slot the normalizer could not call a fan or a spare (no fan count for the model): said
  // beside the verdict, never an "ok" that hides it. Last, so an unknown miner's first reason stays
  // why it is unknown.
  if (!whySkipped('fans_failed', snapshot, limits, context)) {
    for (const error of snapshot.errors ?? []) {
      if (error.code === FAN_UNJUDGED)
        reasons.push({
          metric: 'fans_failed',
          level: 'unknown',
          value: null,
          limit: null,
          message: error.message,
        });
    }
    // A fan listed without a speed to believe (the normalizer set aside 65535 or 99999) is neither
    // running nor stopped: not judged, and said, never an "ok" that hides it (every fan of an air
    // unit unread made a silent "ok" with no fan checked at all).
    const fans = snapshot.fans ?? [];
    const unread = fans.length - readings.fans_total;
    if (unread > 0)
      reasons.push({
        metric: 'fans_failed',
        level: 'unknown',
        value: null,
        limit: null,
        message: `${unread} of ${fans.length} fan${fans.length === 1 ? '' : 's'} reported no readable speed: not judged`,
      });
  }
  return {
    status,
    cooling: limits.cooling.value,
    readings,
    metrics,
    reasons,
    worst,
    action,
    ...(nothingToHeat ? { nothingToHeat } : {}),
  };
}
