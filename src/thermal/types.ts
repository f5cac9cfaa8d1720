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

/**
 * The limits a person can mean, per metric. Outside them a limit is a mistake, not a policy: a
 * board limit of −10 °C or a failed-fan limit of 0 (or −1) is reached by every healthy miner, and
 * `thermal check --protect` would pause the whole farm. Counts are whole numbers from 1; `null`
 * switches a check off. The limits a firmware reports about itself are held to the same ranges
 * (limits.ts): a firmware number outside them is ignored, not trusted.
 */
export const LIMIT_RANGES: Record<Metric, { min: number; max: number; integer: boolean }> = {
  inlet: { min: -40, max: 100, integer: false }, // air intake, water or fluid; cold sites go below 0
  inlet_low: { min: -40, max: 100, integer: false },
  board: { min: 0, max: 150, integer: false }, // Braiins S9 Dangerous 110, Avalon chip max 115–120
  chip: { min: 0, max: 150, integer: false },
  outlet: { min: 0, max: 150, integer: false },
  fan_rpm: { min: 0, max: 20_000, integer: false }, // full speed is 6,000–7,500 RPM
  fans_failed: { min: 1, max: 100, integer: true },
  boards_dead: { min: 1, max: 100, integer: true },
};

/** Metrics that are temperatures. */
export const TEMPERATURE_METRICS: readonly Metric[] = ['inlet', 'inlet_low', 'board', 'chip', 'outlet'];

/**
 * The miner's own heat: with neither read it is `unknown`, never `ok`. An inlet (the room's air or
 * the loop's water) says nothing about boards that may be cooking behind sensors that read -273
 * or 0; `live --problems` says "no temperature reading" by the same two.
 */
export const HEAT_METRICS: readonly Metric[] = ['board', 'chip'];

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
  /**
   * What was set aside on the way and why, one line each: a firmware limit ignored as implausible,
   * firmware limits that could not be read, a warn lowered to its critical.
   */
  notes: string[];
}

export interface ThermalReadings {
  inlet_c: number | null;
  inlet_min_c: number | null;
  board_c: number | null;
  chip_c: number | null;
  outlet_c: number | null;
  fan_min_rpm: number | null;
  /** Fans with a reading (one reported at an impossible speed is unknown, and not counted). */
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
  /** Unknown because nothing can overheat: no hash board listed and hashing nothing. */
  nothingToHeat?: boolean;
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
