// Does the miner protect itself? Reads the firmware's own thermal settings from replies to
// read-only commands and compares them with vendor guidance and our limits (thermal-facts §2, §6).
// Pure: the audit engineer's `thermal-protection` rule calls assessPosture directly.
import { lookupModel } from '../miners/models.js';
import type { Snapshot } from '../miners/types.js';
import type { ThermalConfig } from './config.js';
import { thermalReadings } from './evaluate.js';
import { effectiveLimits, isHydroModel, plausibleFirmwareTrip, vendorMaxDangerous } from './limits.js';
import {
  type LimitsReadError,
  limitsReadError,
  numberOf,
  type Replies,
  readFirmwareLimits,
  replyBody,
  section,
} from './replies.js';
import type { FirmwareThermalLimits, ThermalLimits, ThermalReadings } from './types.js';

export type PostureSeverity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export type PostureFindingId =
  | 'protection-off'
  | 'limit-above-vendor-max'
  | 'limit-order'
  | 'hot-dangerous-gap'
  | 'fans-manual'
  | 'immersion-on-air-model'
  | 'min-fans-zero'
  | 'fans-stopped'
  | 'past-firmware-trip'
  | 'at-firmware-trip'
  | 'past-critical-below-trip'
  | 'no-readable-limits'
  | 'no-temperature'
  | 'limits-read-failed';

export interface PostureFinding {
  id: PostureFindingId;
  severity: PostureSeverity;
  title: string;
  message: string;
  /** The values behind the finding as one line, e.g. `dangerous=80, vendor_max=75`. */
  evidence: string;
  remediation: string;
  data: Record<string, string | number | boolean | null>;
}

const FINDING_TEXT: Record<PostureFindingId, { title: string; remediation: string }> = {
  'protection-off': {
    title: 'Firmware thermal protection is off',
    remediation: 'Re-enable automatic temperature control with a Dangerous limit.',
  },
  'limit-above-vendor-max': {
    title: 'Thermal limit above the vendor maximum',
    remediation: "Lower the limit to the firmware's documented maximum or its default.",
  },
  'limit-order': {
    title: 'Thermal limits out of order',
    remediation: 'Set target < hot < dangerous.',
  },
  'hot-dangerous-gap': {
    title: 'Little room between Hot and Dangerous',
    remediation: 'Keep Dangerous about 5 °C above Hot so fans and power scaling can act first.',
  },
  'fans-manual': {
    title: 'Fans in manual mode on an air-cooled miner',
    remediation: 'Return fan control to automatic.',
  },
  'immersion-on-air-model': {
    title: 'Immersion mode on an air-cooled model',
    remediation:
      'Unless the unit really sits in a tank, switch the firmware back to air cooling with automatic fans now (fans off in air: the hAnt ransomware pattern).',
  },
  'min-fans-zero': {
    title: 'Minimum fan count is 0 on an air-cooled miner',
    remediation: 'Set min_fans to the number of fans the unit needs (default 1 or more).',
  },
  'fans-stopped': {
    title: 'All fans stopped on an air-cooled miner that is mining',
    remediation: 'Check the fans and the cooling mode now (also the hAnt ransomware pattern).',
  },
  'past-firmware-trip': {
    title: "Past the firmware's own trip point and still mining",
    remediation: 'Reduce load or stop the miner: its own protection is not acting.',
  },
  'at-firmware-trip': {
    title: "At or past the firmware's own trip point",
    remediation:
      'Improve cooling before the miner is restarted: at this temperature its firmware stops hashing, as it should.',
  },
  'past-critical-below-trip': {
    title: "Past our critical limit, below the firmware's trip point",
    remediation: 'Act before the firmware does: improve cooling, lower power or pause the miner.',
  },
  'no-readable-limits': {
    title: 'Firmware reports no thermal limits',
    remediation: 'Rely on hashctl thermal check for alerts; the documented cut-off is shown.',
  },
  'no-temperature': {
    title: 'No temperature read to compare with the trip point',
    remediation:
      'Check the sensors with hashctl probe; until one reads, how close the miner is to its trip is unknown.',
  },
  'limits-read-failed': {
    title: "Reading the firmware's thermal limits failed",
    remediation:
      'Its protection is unknown: check the connection, or allow the read-only tempctrl command in api-allow, and run posture again.',
  },
};

/** A trip point the firmware enforces by itself, read or documented. */
export interface TripPoint {
  sensor: 'board' | 'chip';
  value_c: number;
  source: string;
  /** `firmware`: read from the miner now; `documented`: from the facts, assumed for its firmware and model. */
  origin: 'firmware' | 'documented';
}

export interface PostureReport {
  firmware: FirmwareThermalLimits | null;
  /** Set when the firmware exposes its limits but reading them failed (firmware is then null). */
  limitsError: LimitsReadError | null;
  trip: TripPoint | null;
  readings: ThermalReadings;
  limits: ThermalLimits;
  findings: PostureFinding[];
}

export interface PostureOptions {
  config?: ThermalConfig;
  site?: string | null;
  miner?: string;
}

/** Braiins OS's default fixed fan speed (thermal-facts §2.1): manual fans below it are a weakened cooling. */
const DEFAULT_FIXED_FAN_PCT = 70;

/** Trip points documented for firmwares that do not report theirs (thermal-facts §2.3–2.5). */
export function documentedTrip(snapshot: Snapshot): TripPoint | null {
  const make = snapshot.make.toLowerCase();
  const model = (snapshot.model ?? '').toUpperCase().replace(/^ANTMINER\s*/, '');
  const firmware = (snapshot.firmware.name ?? '').toLowerCase();
  const stock = !/bos|braiins|lux|vnish|hiveon|epic/.test(firmware);
  if (make.includes('antminer') && stock) {
    if (/^[ST]9/.test(model))
      return {
        sensor: 'board',
        value_c: 90,
        source: 'bmminer source: PCB > 90 °C three checks in a row',
        origin: 'documented',
      };
    if (/HYD/.test(model))
      return {
        sensor: 'board',
        value_c: 80,
        source: 'MiningOS/GMiner: hydro PCB shutdown 80 °C (3p)',
        origin: 'documented',
      };
    if (/^S19/.test(model))
      return {
        sensor: 'board',
        value_c: 91,
        source: 'observed: stock S19 Pro stopped at PCB 91 °C (one capture)',
        origin: 'documented',
      };
  }
  if (make.includes('whatsminer')) {
    const series = /^M(\d)/.exec(model)?.[1];
    const chip = series === '3' ? 95 : series === '5' ? 100 : series === '6' ? 105 : null;
    if (chip !== null)
      return {
        sensor: 'chip',
        value_c: chip,
        source: `3p table: M${series}x chip shutdown about ${chip} °C (low confidence)`,
        origin: 'documented',
      };
  }
  return null;
}

/**
 * Whether the miner hashes: its total, else its boards' rates. A sleeping miner, or one whose rate
 * reads 0, is idle; no rate read at all is unknown (never taken for "mining").
 */
function hashingState(snapshot: Snapshot): 'hashing' | 'idle' | 'unknown' {
  if (snapshot.state === 'sleeping') return 'idle';
  const current = snapshot.hashrate?.current_hs ?? null;
  if (current !== null) return current > 0 ? 'hashing' : 'idle';
  const boards = snapshot.boards
    .map((board) => board.hashrate_hs)
    .filter((rate): rate is number => rate !== null);
  if (boards.length === 0) return 'unknown';
  return boards.some((rate) => rate > 0) ? 'hashing' : 'idle';
}

function fanSpeeds(replies: Replies | undefined): number[] {
  return section(replyBody(replies, 'fans'), 'FANS')
    .map((fan) => numberOf(fan.Speed ?? fan.speed))
    .filter((v): v is number => v !== null);
}

/** The findings alone (what the audit rule needs). */
export function assessPosture(
  replies: Replies | undefined,
  snapshot: Snapshot,
  options: PostureOptions = {},
): PostureFinding[] {
  return postureReport(replies, snapshot, options).findings;
}

export function postureReport(
  replies: Replies | undefined,
  snapshot: Snapshot,
  options: PostureOptions = {},
): PostureReport {
  const firmware = readFirmwareLimits(replies, snapshot.firmware.name);
  const limitsError = firmware === null ? limitsReadError(replies) : null;
  const limits = effectiveLimits(snapshot, options.config ?? {}, options.site ?? null, {
    firmware,
    firmwareError: limitsError,
    replies,
    ...(options.miner ? { miner: options.miner } : {}),
  });
  const readings = thermalReadings(snapshot);
  const findings: PostureFinding[] = [];
  const air = limits.cooling.value === 'air';
  const hashing = hashingState(snapshot);
  const mining = hashing !== 'idle';
  const add = (
    id: PostureFindingId,
    severity: PostureSeverity,
    message: string,
    data: PostureFinding['data'] = {},
  ) =>
    findings.push({
      id,
      severity,
      message,
      ...FINDING_TEXT[id],
      evidence: Object.entries(data)
        .map(([key, value]) => `${key}=${value ?? '-'}`)
        .join(', '),
      data,
    });

  let trip: TripPoint | null = null;
  const readsOwnLimits = firmware !== null && firmware.firmware !== 'avalon';
  if (firmware && readsOwnLimits) {
    const { mode, target_c: target, hot_c: hot, dangerous_c: dangerous } = firmware;
    // Only a Dangerous the limits would also take is a trip point: below 0 °C (kept by the reader,
    // to be named) or at a few degrees every miner would be "past its trip and still mining"
    // (critical), and past 150 it is the 1e308 a reply can say. The limit checks below still report it.
    if (dangerous !== null && plausibleFirmwareTrip('board', dangerous))
      trip = {
        sensor: 'board',
        value_c: dangerous,
        source: `firmware Dangerous=${dangerous}`,
        origin: 'firmware',
      };
    if ((mode !== null && /disabled|off/i.test(mode)) || dangerous === null) {
      add(
        'protection-off',
        'critical',
        `thermal protection is off (mode ${mode ?? '-'}, Dangerous ${dangerous ?? 'unset'})`,
        {
          mode,
          dangerous,
        },
      );
    }
    const max = vendorMaxDangerous(firmware, snapshot);
    if (max && dangerous !== null && dangerous > max.value) {
      add(
        'limit-above-vendor-max',
        'high',
        `Dangerous ${dangerous} °C is above the vendor maximum ${max.value} °C`,
        {
          dangerous,
          vendor_max: max.value,
          source: max.source,
        },
      );
    }
    const ordered = [target, hot, dangerous].filter((v): v is number => v !== null);
    if (ordered.some((v, i) => i > 0 && v <= (ordered[i - 1] as number))) {
      add(
        'limit-order',
        'medium',
        `limits out of order: target ${target ?? '-'}, hot ${hot ?? '-'}, dangerous ${dangerous ?? '-'}`,
        {
          target,
          hot,
          dangerous,
        },
      );
    } else if (hot !== null && dangerous !== null && dangerous - hot < 5) {
      add(
        'hot-dangerous-gap',
        'low',
        // To a hundredth: 70.5 − 66.2 is 4.299999999999997 in floating point.
        `only ${Math.round((dangerous - hot) * 100) / 100} °C between Hot and Dangerous (guidance: about 5)`,
        { hot, dangerous },
      );
    }
    if (air && mode !== null && /manual|fixed/i.test(mode)) {
      const speeds = fanSpeeds(replies);
      const top = speeds.length ? Math.max(...speeds) : null;
      // The risk is a low fixed speed (thermal-facts §6): at or above the firmware's own default
      // fixed speed the fans cool, and Hot still forces them to 100 % (§2.1). Said, not flagged.
      const slow = top === null || top < DEFAULT_FIXED_FAN_PCT;
      add(
        'fans-manual',
        slow ? 'high' : 'low',
        `fans in manual mode${top === null ? '' : ` at ${top} %`} on an air-cooled unit${slow ? '' : ': enough to cool, but not following the temperature'}`,
        {
          mode,
          max_speed_pct: top,
        },
      );
    }
    // thermal-facts §6 posture: immersion mode (fans off) set on a model that ships with fans. A
    // real immersion conversion looks the same over the API, so it is said, not judged critical.
    // Braiins OS says it in tempctrl's Mode; LuxOS in `config` (Cooling, ImmersionMode), which the
    // snapshot carries as its cooling: its tempctrl Mode stays "Auto".
    const spec = lookupModel(snapshot.make, snapshot.model);
    const immersionMode =
      mode !== null && /immers/i.test(mode) ? mode : snapshot.cooling === 'immersion' ? 'Immersion' : null;
    if (
      immersionMode !== null &&
      (spec?.fans ?? 0) > 0 &&
      !isHydroModel(snapshot.model) &&
      !/immers/i.test(snapshot.model ?? '')
    ) {
      const speeds = fanSpeeds(replies);
      add(
        'immersion-on-air-model',
        mining ? 'high' : 'medium',
        `the firmware is in immersion mode (fans off) on ${snapshot.model}, a model built with ${spec?.fans} fans${mining ? ', and it is mining' : ''}`,
        {
          mode: immersionMode,
          model: snapshot.model,
          model_fans: spec?.fans ?? null,
          max_speed_pct: speeds.length ? Math.max(...speeds) : null,
        },
      );
    }
    if (air && firmware.min_fans === 0) {
      add('min-fans-zero', 'high', 'MinFans is 0: the firmware will mine with every fan stopped', {
        min_fans: 0,
      });
    }
  } else {
    trip = documentedTrip(snapshot);
    const target = firmware?.target_c ?? null;
    if (firmware?.firmware === 'avalon' && target !== null && target > 105) {
      add(
        'limit-above-vendor-max',
        'high',
        `target temperature ${target} °C is above Canaan's level-0 cap of 105 °C`,
        {
          target,
          vendor_max: 105,
        },
      );
    }
    if (limitsError) {
      // The firmware has limits and we failed to read them: that is not "it reports none".
      add(
        'limits-read-failed',
        'info',
        `reading the firmware's limits failed: ${limitsError.command} ${limitsError.kind} (${limitsError.message}); its own protection could not be checked`,
        { command: limitsError.command, kind: limitsError.kind },
      );
    } else {
      add(
        'no-readable-limits',
        'info',
        trip
          ? `the firmware reports no limits over the API; documented cut-off ${trip.value_c} °C (${trip.sensor})`
          : 'the firmware reports no limits over the API',
        { documented_trip: trip?.value_c ?? null, source: trip?.source ?? null },
      );
    }
  }

  if (air && mining && readings.fans_total > 0 && readings.fans_failed === readings.fans_total) {
    add(
      'fans-stopped',
      'critical',
      `all ${readings.fans_total} fans stopped on an air-cooled unit that is mining`,
      {
        fans: readings.fans_total,
      },
    );
  }

  const reading = trip?.sensor === 'chip' ? readings.chip_c : readings.board_c;
  if (reading === null && trip) {
    // Said, so that no finding is not read as "far from its trip point".
    add(
      'no-temperature',
      'info',
      `no ${trip.sensor} temperature was read: how close it is to its trip point ${trip.value_c} °C is unknown`,
      { sensor: trip.sensor, trip: trip.value_c },
    );
  }
  const ourCritical = limits.metrics[trip?.sensor ?? 'board'].critical.value;
  if (reading !== null && trip && reading >= trip.value_c && hashing === 'hashing') {
    add(
      'past-firmware-trip',
      'critical',
      `${trip.sensor} ${reading} °C is at or past the firmware's own trip point ${trip.value_c} °C and it is still mining`,
      {
        reading,
        trip: trip.value_c,
      },
    );
  } else if (reading !== null && trip && reading >= trip.value_c) {
    // Not hashing (or not known to be): the firmware has done what a trip does, or may have. Saying
    // "still mining" here would call the protection broken at the moment it acts.
    add(
      'at-firmware-trip',
      hashing === 'idle' ? 'medium' : 'high',
      hashing === 'idle'
        ? `${trip.sensor} ${reading} °C is at or past the firmware's own trip point ${trip.value_c} °C and it is not hashing (stopped by its protection, or paused)`
        : `${trip.sensor} ${reading} °C is at or past the firmware's own trip point ${trip.value_c} °C; its hashrate was not read, so whether it still mines is unknown`,
      { reading, trip: trip.value_c, hashing },
    );
  } else if (trip && reading !== null && ourCritical !== null && reading >= ourCritical) {
    add(
      'past-critical-below-trip',
      'high',
      `${trip.sensor} ${reading} °C is past our critical ${ourCritical} °C but below the firmware's trip point ${trip.value_c} °C: it will keep running hot`,
      { reading, critical: ourCritical, trip: trip.value_c, trip_source: trip.source },
    );
  } else if (!trip) {
    // No trip point known: each sensor against our own critical (an Avalon reports chips only).
    for (const sensor of ['board', 'chip'] as const) {
      const value = sensor === 'chip' ? readings.chip_c : readings.board_c;
      const critical = limits.metrics[sensor].critical.value;
      if (value === null || critical === null || value < critical) continue;
      add(
        'past-critical-below-trip',
        'high',
        `${sensor} ${value} °C is past our critical ${critical} °C and the firmware's trip point is unknown`,
        { reading: value, critical, trip: null, trip_source: null },
      );
      break;
    }
  }
  return { firmware, limitsError, trip, readings, limits, findings };
}
