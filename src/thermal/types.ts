// The shapes shared by limits, evaluation, hysteresis and posture. Pure data: no I/O anywhere here.

export const COOLING_CLASSES = ['air', 'hydro', 'immersion'] as const;
export type CoolingClass = (typeof COOLING_CLASSES)[number];

/** ok < warn < critical; `unknown` means we could not tell (no reading, unreachable). */
export type ThermalStatus = 'ok' | 'warn' | 'critical' | 'unknown';
export type ThermalLevel = 'ok' | 'warn' | 'critical';

/**
 * What is checked. `high` metrics alarm at or above their limit, `low` ones at or below it.
 * inlet: hottest inlet (air intake, water inlet, or immersion fluid); inlet_low: coldest inlet;
 * board: hottest board/PCB sensor; chip: hottest chip sensor; outlet: hottest outlet;
 * fan_rpm: slowest spinning fan; fans_failed: fans at 0 RPM; boards_dead: hashboards reported dead.
 */
export const METRICS = [
  'inlet',
  'inlet_low',
  'board',
  'chip',
  'outlet',
  'fan_rpm',
  'fans_failed',
  'boards_dead',
] as const;
export type Metric = (typeof METRICS)[number];

export interface MetricInfo {
  direction: 'high' | 'low';
  unit: '°C' | 'RPM' | 'count';
  label: string;
}

export const METRIC_INFO: Record<Metric, MetricInfo> = {
  inlet: { direction: 'high', unit: '°C', label: 'inlet' },
  inlet_low: { direction: 'low', unit: '°C', label: 'inlet (low)' },
  board: { direction: 'high', unit: '°C', label: 'board' },
  chip: { direction: 'high', unit: '°C', label: 'chip' },
  outlet: { direction: 'high', unit: '°C', label: 'outlet' },
  fan_rpm: { direction: 'low', unit: 'RPM', label: 'fan' },
  fans_failed: { direction: 'high', unit: 'count', label: 'failed fans' },
  boards_dead: { direction: 'high', unit: 'count', label: 'dead boards' },
};

/** Metrics that are temperatures: a miner with none of them read is `unknown`, never `ok`. */
export const TEMPERATURE_METRICS: readonly Metric[] = ['inlet', 'inlet_low', 'board', 'chip', 'outlet'];

/** One number and where it came from, e.g. "default air", "model S9 (bmminer source)", "config site=A". */
export interface Sourced<T = number | null> {
  value: T;
  source: string;
}

export interface MetricLimits {
  warn: Sourced;
  critical: Sourced;
}

export type ChipSensorKind = 'real' | 'estimated';

export interface ThermalLimits {
  cooling: Sourced<CoolingClass>;
  /** Whether the chip value is an on-die sensor or an estimate from the PCB (thermal-facts §0). */
  chip_sensor: Sourced<ChipSensorKind>;
  metrics: Record<Metric, MetricLimits>;
  /** Hysteresis: a level is left only once the reading is this far on the safe side of its limit. */
  margin_c: Sourced<number>;
  margin_rpm: Sourced<number>;
}

export interface ThermalReadings {
  inlet_c: number | null;
  inlet_min_c: number | null;
  board_c: number | null;
  chip_c: number | null;
  outlet_c: number | null;
  fan_min_rpm: number | null;
  fans_total: number;
  fans_failed: number | null;
  boards_total: number;
  boards_dead: number;
}

export interface MetricResult {
  metric: Metric;
  value: number | null;
  level: ThermalLevel;
  warn: number | null;
  critical: number | null;
  /** Source of the limit that decided the level (or of the critical limit when ok). */
  source: string;
  /** Distance to the critical limit on the safe side; negative once past it. Null when not comparable. */
  headroom: number | null;
  /** Why the metric was not checked (sleeping miner, hydro fans…), when it was not. */
  skipped?: string;
}

export interface ThermalReason {
  metric: Metric | 'readings';
  level: ThermalLevel | 'unknown';
  value: number | null;
  limit: number | null;
  message: string;
}

/**
 * What a protective layer needs: `pause` when a temperature or the fans are critical (sleep beats
 * reboot, thermal-facts §4), `notify` on warn, `none` otherwise. The choice of mechanism per
 * firmware belongs to `hashctl control`.
 */
export type ProtectiveAction = 'none' | 'notify' | 'pause';

export interface ThermalEvaluation {
  status: ThermalStatus;
  cooling: CoolingClass;
  readings: ThermalReadings;
  metrics: MetricResult[];
  reasons: ThermalReason[];
  /** The metric closest to (or furthest past) its critical limit, for choosing an action. */
  worst: { metric: Metric; value: number; limit: number | null; level: ThermalLevel } | null;
  action: ProtectiveAction;
}

/** Limits a firmware reports about itself (Braiins OS / LuxOS `tempctrl`, Avalon `TarT`). */
export interface FirmwareThermalLimits {
  firmware: 'braiins' | 'luxos' | 'avalon' | 'other';
  mode: string | null;
  target_c: number | null;
  hot_c: number | null;
  dangerous_c: number | null;
  chip_hot_c: number | null;
  chip_dangerous_c: number | null;
  water_inlet_dangerous_c: number | null;
  /** LuxOS `fans` → FANCTRL.MinFans. */
  min_fans: number | null;
}
