// Which limits apply to a miner, and why. Layers, later ones winning:
//   built-in cooling-class defaults → built-in model rules → the firmware's own reported limits →
//   config classes.<cooling> → config sites.<id> → config models.<model> → config miners.<key>
// Every number keeps the source that set it, so `thermal limits` can show it and an operator can
// argue with it. Numbers and reasoning come from thermal-facts.md §6. A firmware limit is taken only
// when plausible (finite, in the range the config accepts, not above the vendor maximum); after all
// layers, a warn past its critical is lowered to the critical. Both are said in the notes.
import { lookupModel } from '../miners/models.js';
import type { Snapshot } from '../miners/types.js';
import { parseTarget } from '../targets/parse.js';
import type { LimitOverrides, ScopeOverrides, ThermalConfig } from './config.js';
import { coolingFromReplies, type LimitsReadError, type Replies } from './replies.js';
import {
  type ChipSensorKind,
  type CoolingClass,
  type FirmwareThermalLimits,
  LIMIT_RANGES,
  METRIC_INFO,
  METRICS,
  type Metric,
  type MetricLimits,
  type Sourced,
  type ThermalLimits,
} from './types.js';

type Pair = [warn: number | null, critical: number | null];
type ClassDefaults = Record<Exclude<Metric, 'chip'>, Pair>;

/** Built-in defaults per cooling class (thermal-facts §6). `chip` depends on the sensor kind, below. */
export const CLASS_DEFAULTS: Record<CoolingClass, ClassDefaults> = {
  air: {
    inlet: [35, 40], // MicroBT ambient max 35 °C; Bitmain S21-era sheets 45 °C
    inlet_low: [0, -5], // MicroBT minimum −5 °C; condensation risk at start-up
    board: [75, 80], // MiningOS PCB 75/80 (S21, S21 Pro); stock S19 Pro seen stopping at PCB 91
    outlet: [null, null],
    fan_rpm: [1000, null], // any fan below 1000 RPM while mining; a stopped fan counts as failed
    fans_failed: [null, 1], // stock firmware stops on a lost fan (S9 source: fewer than 2 of 2 fans)
    boards_dead: [1, null], // a board that stopped may have been cut by its over-temperature guard
  },
  hydro: {
    inlet: [40, 45], // water inlet, MiningOS 40/45 for Antminer hydro
    inlet_low: [25, 20], // MiningOS 25/20; MicroBT minimum 20 °C
    board: [75, 80], // MiningOS hydro PCB 75/80; GMiner hydro critical 80
    outlet: [null, null],
    fan_rpm: [null, null], // hydro reports 0 RPM fans: never alert on them
    fans_failed: [null, null],
    boards_dead: [1, null],
  },
  immersion: {
    inlet: [55, 65], // fluid temperature; community: S19 shutdown at 71–77 °C oil (low confidence)
    inlet_low: [null, null],
    board: [75, 80], // same board physics as air
    outlet: [null, null],
    fan_rpm: [null, null], // fans are stopped on purpose in immersion
    fans_failed: [null, null],
    boards_dead: [1, null],
  },
};

const CLASS_REASON: Record<CoolingClass, string> = {
  air: 'default air',
  hydro: 'default hydro',
  immersion: 'default immersion',
};

/** Chip limits depend on what the "chip" value is (thermal-facts §0: many are PCB + ~15 °C). */
export const CHIP_DEFAULTS: Record<ChipSensorKind, { pair: Pair; source: string }> = {
  real: {
    pair: [95, 105],
    source: 'default real chip sensor (Avalon level-0 cap 105; 3p trip tables 95–105)',
  },
  estimated: { pair: [90, 95], source: 'default estimated chip (PCB + ~15 °C, Luxor)' },
};

const UNKNOWN_CHIP_SOURCE = 'default estimated chip (sensor kind not known for this make: the lower limits)';

interface ModelRule {
  name: string;
  matches: (snapshot: Snapshot) => boolean;
  limits: Partial<Record<Metric, Pair>>;
  source: string;
  /** The class every matching model is detected as (config validation pairs the rule with it alone). */
  cooling?: CoolingClass;
}

const compactModel = (snapshot: Snapshot) => (snapshot.model ?? '').toUpperCase().replace(/^ANTMINER\s*/, '');
/** S9, S9i, S9j, T9, T9+ (after compactModel). */
const S9_MODEL = /^[ST]9(\b|[IJK ]|$)/;

/** Model rules only where the facts support them (thermal-facts §6 table). */
export const MODEL_RULES: ModelRule[] = [
  {
    name: 'S9',
    matches: (s) => /antminer|unknown/i.test(s.make) && S9_MODEL.test(compactModel(s)),
    limits: { board: [75, 85] },
    source: 'model S9 family (bmminer trips at PCB > 90 °C; LuxOS S9 dangerous 90)',
  },
  {
    name: 'S17',
    matches: (s) => /antminer|unknown/i.test(s.make) && /^[ST]17/.test(compactModel(s)),
    limits: { board: [75, 85] },
    source: 'model S17 family (Braiins hot 85 / dangerous 92, solder sensitivity)',
  },
  {
    name: 'Whatsminer hydro',
    // By the model's name, or by the miner's own `Liquid Cooling: true` (an M33S++ says it only so).
    // In High power mode MicroBT's water limit is 40 °C: the generic hydro 40/45 apply then.
    matches: (s) =>
      /whatsminer/i.test(s.make) &&
      (isHydroModel(s.model) || s.cooling === 'hydro') &&
      s.power_mode !== 'high',
    limits: { inlet: [45, 50] },
    cooling: 'hydro',
    source: 'model Whatsminer hydro (MicroBT water inlet max 50 °C, normal mode)',
  },
  {
    name: 'Whatsminer air, High power mode',
    matches: (s) =>
      /whatsminer/i.test(s.make) &&
      !isHydroModel(s.model) &&
      s.cooling !== 'hydro' &&
      s.power_mode === 'high',
    limits: { inlet: [28, 40] },
    cooling: 'air',
    source: 'Whatsminer in High power mode (MicroBT max ambient 28 °C)',
  },
];

/** S21 XP Hyd, S19 XP Hyd., Whatsminer M-series "…VK…" and "Hydro" models. */
export function isHydroModel(model: string | null | undefined): boolean {
  if (!model) return false;
  return /\bhyd(ro)?\b|hyd\.|(^|[\s_+-])VK\d*\b|\d[SL]?\+*VK\d/i.test(model);
}

/** Makes the thermal facts cover (thermal-facts §1–§6): the defaults and rules were written for them. */
const FACTS_MAKES = /antminer|bitmain|whatsminer|microbt|avalon|canaan/i;

export function chipSensorKind(snapshot: Snapshot): ChipSensorKind {
  // Whatsminer and Avalon have on-die sensors; Antminer chip values are mostly PCB estimates.
  return /whatsminer|avalon|canaan|microbt/i.test(snapshot.make) ? 'real' : 'estimated';
}

export interface LimitContext {
  /** Canonical target key (`host:port`) for `miners.<key>` overrides; the host alone also matches. */
  miner?: string;
  /** Limits read from the miner itself (readFirmwareLimits). */
  firmware?: FirmwareThermalLimits | null;
  /** Why they could not be read (limitsReadError), when the read failed: said in the notes. */
  firmwareError?: LimitsReadError | null;
  /** Raw replies, for cooling-class evidence the snapshot lacks. */
  replies?: Replies;
}

const norm = (text: string) => text.toLowerCase().replace(/\s+/g, '');

function lookup(
  map: Record<string, ScopeOverrides> | undefined,
  key: string | null | undefined,
): [string, ScopeOverrides] | null {
  if (!map || !key) return null;
  const wanted = norm(key);
  for (const [name, scope] of Object.entries(map)) if (norm(name) === wanted) return [name, scope];
  return null;
}

/**
 * Names a miner's model answers to in `models.<name>`: the model as the snapshot has it (`S19 Pro`)
 * and with its make, as `probe` shows it (`Antminer S19 Pro`); case and spaces do not count.
 */
function modelNames(make: string, model: string | null | undefined): string[] {
  if (!model) return [];
  const bare = norm(model);
  const maker = norm(make);
  const names = [bare, `${maker}${bare}`];
  // A model that already carries its make ("Antminer S19 Pro") also answers to the bare name.
  if (maker && bare.startsWith(maker) && bare.length > maker.length) names.push(bare.slice(maker.length));
  return names;
}

/** Whether `models.<key>` applies to a miner of this make and model. */
export function modelKeyMatches(key: string, make: string, model: string | null | undefined): boolean {
  return modelNames(make, model).includes(norm(key));
}

/** Model names hashctl can vouch for without seeing a miner, by make (the first word of a key). */
const KNOWN_MODELS: Record<string, (model: string) => boolean> = {
  // The Antminer table lists models one by one (chips, fans); a family prefix alone is not enough.
  antminer: (model) => {
    const spec = lookupModel('Antminer', model);
    return spec !== null && (spec.chipsPerBoard !== undefined || spec.fans !== undefined);
  },
  // Whatsminer and Avalon models are not listed one by one: their naming pattern is what is known.
  whatsminer: (model) => /^M\d{2}/i.test(model),
  avalon: (model) => /^A?\d{3,4}\b/i.test(model),
  avalonminer: (model) => /^A?\d{3,4}\b/i.test(model),
};

/** Whether a `models.<key>` names a model hashctl knows (`S19 Pro`, `Antminer S19 Pro`, `M30S++`). */
export function isKnownModelName(key: string): boolean {
  const words = key.trim().split(/\s+/);
  const make = KNOWN_MODELS[words[0]?.toLowerCase() ?? ''];
  if (make && words.length > 1) return make(words.slice(1).join(' '));
  return Object.values(KNOWN_MODELS).some((known) => known(key.trim()));
}

/**
 * `models.<key>` entries that can have had no effect: they matched none of these miners and name no
 * model hashctl knows. A typo ("Nonexistent X1", "S19 Por") lands here; the caller warns.
 */
export function unmatchedModelKeys(config: ThermalConfig, snapshots: readonly Snapshot[]): string[] {
  return Object.keys(config.models ?? {}).filter(
    (key) =>
      !isKnownModelName(key) &&
      !snapshots.some((snapshot) => modelKeyMatches(key, snapshot.make, snapshot.model)),
  );
}

function modelScope(config: ThermalConfig, snapshot: Snapshot): [string, ScopeOverrides] | null {
  if (!config.models) return null;
  const names = modelNames(snapshot.make, snapshot.model);
  if (names.length === 0) return null;
  for (const [name, scope] of Object.entries(config.models))
    if (names.includes(norm(name))) return [name, scope];
  return null;
}

/** The host part of a target key (`host:port`, `[v6]:port`). */
const hostOf = (miner: string) =>
  miner.startsWith('[') ? miner.slice(1, miner.indexOf(']')) : miner.replace(/:\d+$/, '');

/**
 * A `miners.<key>` as the miner it names, in the form a run's target keys take: `host:port`, or the
 * host alone for every port. The targets grammar spells one miner many ways (`[2001:db8::1]` and
 * `2001:DB8:0::1`, `10.0.0.5:04028`, `[::ffff:10.0.0.5]`), and the config accepts them all as that
 * miner (config.ts checkMinerKeys), so each must find it.
 */
function minerKeyOf(name: string): string {
  try {
    const target = parseTarget(name, 0); // port 0: none written
    return norm(target.port === 0 ? target.host : target.key);
  } catch {
    return norm(name);
  }
}

/** Config miner keys by the miner they name; built once per config (a farm checks thousands). */
const minerIndexes = new WeakMap<Record<string, ScopeOverrides>, Map<string, string>>();

function minerIndex(miners: Record<string, ScopeOverrides>): Map<string, string> {
  let index = minerIndexes.get(miners);
  if (!index) {
    index = new Map();
    for (const name of Object.keys(miners)) {
      const key = minerKeyOf(name);
      if (!index.has(key)) index.set(key, name); // the first wins (config.ts refuses a second)
    }
    minerIndexes.set(miners, index);
  }
  return index;
}

/**
 * The `miners.<key>` entries for a miner (its target key), least specific first: its host's (which
 * applies to every port of that host), then its own `host:port`. Both apply, the port's over the
 * host's, as a model's over a site's.
 */
function minerEntries(config: ThermalConfig, miner: string | undefined): string[] {
  if (!config.miners || !miner) return [];
  const index = minerIndex(config.miners);
  if (index.size === 0) return [];
  const names: string[] = [];
  const host = index.get(norm(hostOf(miner)));
  if (host !== undefined) names.push(host);
  const own = index.get(norm(miner));
  if (own !== undefined && own !== host) names.push(own);
  return names;
}

function minerScopes(config: ThermalConfig, miner: string | undefined): [string, ScopeOverrides][] {
  return minerEntries(config, miner).flatMap((name) => {
    const scope = config.miners?.[name];
    return scope === undefined ? [] : [[name, scope] as [string, ScopeOverrides]];
  });
}

/** The cooling class and the evidence for it. Config wins: immersion cannot be seen in readings. */
export function detectCooling(
  snapshot: Snapshot,
  config: ThermalConfig = {},
  site: string | null = null,
  context: LimitContext = {},
): Sourced<CoolingClass> {
  // The port's own entry first, then its host's.
  for (const [name, scope] of minerScopes(config, context.miner).reverse())
    if (scope.cooling) return { value: scope.cooling, source: `config miner=${name}` };
  const model = modelScope(config, snapshot);
  if (model?.[1].cooling) return { value: model[1].cooling, source: `config model=${model[0]}` };
  const siteScope = lookup(config.sites, site);
  if (siteScope?.[1].cooling) return { value: siteScope[1].cooling, source: `config site=${siteScope[0]}` };
  const mode = context.firmware?.mode ?? '';
  if (/hydro/i.test(mode)) return { value: 'hydro', source: `firmware cooling mode ${mode}` };
  if (/immers/i.test(mode)) return { value: 'immersion', source: `firmware cooling mode ${mode}` };
  if (snapshot.cooling === 'hydro' || snapshot.cooling === 'immersion') {
    return { value: snapshot.cooling, source: 'reported by the miner' };
  }
  if (isHydroModel(snapshot.model)) return { value: 'hydro', source: `model ${snapshot.model}` };
  const fromReplies = coolingFromReplies(context.replies);
  if (fromReplies) return { value: fromReplies.cooling, source: fromReplies.evidence };
  // "Air" from the normalizer only means fans answered; it is the default either way.
  if (snapshot.cooling === 'air') return { value: 'air', source: 'miner reports fans' };
  return { value: 'air', source: 'default (no hydro or immersion evidence)' };
}

function applyOverrides(
  limits: Record<Metric, MetricLimits>,
  overrides: LimitOverrides | undefined,
  source: string,
): void {
  if (!overrides) return;
  for (const metric of METRICS) {
    const pair = overrides[metric];
    if (!pair) continue;
    if (pair.warn !== undefined) limits[metric].warn = { value: pair.warn, source };
    if (pair.critical !== undefined) limits[metric].critical = { value: pair.critical, source };
  }
}

/**
 * The highest `Dangerous` the firmware's maker documents for this model (thermal-facts §2.1, §2.2,
 * §6 posture findings), or null where none is known. LuxOS's "at most 75 °C" guidance is for the
 * S19-era boards: its own S9 default is 90. The Braiins OS numbers are its published defaults (the
 * per-model maxima are only readable with a login, through GetConstraints).
 */
export function vendorMaxDangerous(
  firmware: FirmwareThermalLimits,
  snapshot: Snapshot,
): { value: number; source: string } | null {
  const model = compactModel(snapshot);
  if (firmware.firmware === 'luxos') {
    if (S9_MODEL.test(model)) return { value: 90, source: 'LuxOS S9 default dangerous 90 °C' };
    return { value: 75, source: 'LuxOS docs: dangerous at most 75 °C (72 on aluminium boards)' };
  }
  if (firmware.firmware === 'braiins') {
    if (/^[ST]17/.test(model))
      return { value: 92, source: 'Braiins OS S17 default dangerous 92 °C (solder sensitivity)' };
    return { value: 110, source: 'Braiins OS+ default dangerous 110 °C' };
  }
  return null;
}

/**
 * The lowest Hot or Dangerous a firmware can mean for a sensor (thermal-facts §2, §5): at or below
 * it, the firmware would trip at a reading the facts call normal, and the critical derived from it
 * (Dangerous − 3) would judge every miner critical, so that `check --protect` would pause it. A board
 * or chip is cooled by the air around it (the highest published ambient maximum is 45 °C, Antminer
 * S21 Pro and T21 sheets); a water loop runs from 20 °C (MicroBT and MiningOS minimum), with the
 * cold warn at 25 °C: a WaterInletDangerous of 30 or less puts its critical inside that band.
 */
export const FIRMWARE_FLOOR: Partial<Record<Metric, { value: number; why: string }>> = {
  board: { value: 45, why: 'a board runs above the air that cools it (published ambient maximum 45 °C)' },
  chip: { value: 45, why: 'a chip runs above the air that cools it (published ambient maximum 45 °C)' },
  inlet: {
    value: 30,
    why: 'its critical (3 °C below) would sit under the hydro cold limits (warn 25 °C; MicroBT and MiningOS run loops from 20 °C), judging every running loop critical',
  },
};

/**
 * The highest a firmware's own limit can mean where the range the config accepts is wider than any
 * miner runs (thermal-facts §5): a hydro loop runs at 20…50 °C (MicroBT), LuxOS's own example
 * WaterInletDangerous is 55; a WaterInletDangerous of 95 left a loop at 80 °C only "warn".
 */
export const FIRMWARE_CEILING: Partial<Record<Metric, { value: number; why: string }>> = {
  inlet: {
    value: 60,
    why: 'no hydro miner runs its water inlet that hot (MicroBT maximum 50 °C, LuxOS example 55 °C)',
  },
};

/**
 * Whether a Dangerous the firmware reports can be its trip point: finite, within the range the
 * config accepts, above the floor (FIRMWARE_FLOOR) and not past a ceiling (FIRMWARE_CEILING). posture.ts judges readings against it.
 */
export function plausibleFirmwareTrip(metric: Metric, value: number): boolean {
  const range = LIMIT_RANGES[metric];
  const floor = FIRMWARE_FLOOR[metric];
  const ceiling = FIRMWARE_CEILING[metric];
  return (
    Number.isFinite(value) &&
    value >= range.min &&
    value <= range.max &&
    !(floor && value <= floor.value) &&
    !(ceiling && value > ceiling.value)
  );
}

export function firmwareLabel(firmware: FirmwareThermalLimits['firmware']): string {
  return firmware === 'luxos' ? 'LuxOS' : firmware === 'braiins' ? 'Braiins OS' : firmware;
}

/**
 * Derive alert limits from the firmware's own: warn at Hot, critical 3 °C before Dangerous (§6 rule 1).
 * They replace the defaults in either direction, since the firmware's sensor is not the one the
 * defaults were written for (§0) and it is the firmware that trips; but only a plausible number does.
 * One outside the range the config accepts (a reply can say 1e308), at or below the floor a reading
 * can plausibly trip at (a Dangerous of 2 would make every miner critical), or above the vendor maximum
 * (a raised Dangerous is the hAnt pattern, not a policy), is ignored: the limit below stays, and the
 * note says why.
 */
function applyFirmware(
  limits: Record<Metric, MetricLimits>,
  firmware: FirmwareThermalLimits,
  cooling: CoolingClass,
  snapshot: Snapshot,
  notes: string[],
): void {
  const name = firmwareLabel(firmware.firmware);
  const vendorMax = vendorMaxDangerous(firmware, snapshot);
  /** Why this reported value cannot be meant (short for the source, long for the note), or null. */
  const implausible = (metric: Metric, value: number, capped: boolean) => {
    const range = LIMIT_RANGES[metric];
    if (!Number.isFinite(value) || value < range.min || value > range.max) {
      const short = `outside ${range.min} to ${range.max} °C`;
      return { short, long: `${short}, the range the config accepts` };
    }
    const floor = FIRMWARE_FLOOR[metric];
    if (floor && value <= floor.value) {
      const short = `at or below ${floor.value} °C`;
      return { short, long: `${short}: ${floor.why}` };
    }
    const ceiling = FIRMWARE_CEILING[metric];
    if (ceiling && value > ceiling.value) {
      const short = `above ${ceiling.value} °C`;
      return { short, long: `${short}: ${ceiling.why}` };
    }
    if (capped && vendorMax && value > vendorMax.value) {
      const short = `above the vendor maximum ${vendorMax.value} °C`;
      return { short, long: `${short} (${vendorMax.source})` };
    }
    return null;
  };
  const take = (
    metric: Metric,
    level: 'warn' | 'critical',
    key: string,
    value: number | null,
    capped: boolean,
  ): boolean => {
    if (value === null) return false;
    const why = implausible(metric, value, capped);
    if (why === null) return true;
    const ignored = `firmware ${name} ${key}=${value} ignored`;
    notes.push(`${ignored}: ${why.long}`);
    const kept = limits[metric][level];
    limits[metric][level] = { value: kept.value, source: `${kept.source}; ${ignored}: ${why.short}` };
    return false;
  };
  const set = (
    metric: Metric,
    hot: number | null,
    dangerous: number | null,
    hotKey: string,
    dangerKey: string,
    capped: boolean,
  ) => {
    if (take(metric, 'warn', hotKey, hot, capped) && hot !== null)
      limits[metric].warn = { value: hot, source: `firmware ${name} ${hotKey}=${hot}` };
    if (take(metric, 'critical', dangerKey, dangerous, capped) && dangerous !== null) {
      limits[metric].critical = {
        // To a hundredth, as a firmware writes it: 64.9 − 3 is 61.900000000000006 in floating point,
        // which check --json, thermal_events and the upload would carry as the limit.
        value: Math.round((dangerous - 3) * 100) / 100,
        source: `firmware ${name} ${dangerKey}=${dangerous} − 3`,
      };
    }
  };
  // The vendor maxima are for the board sensor's Dangerous; Hot above them cannot be meant either.
  set('board', firmware.hot_c, firmware.dangerous_c, 'Hot', 'Dangerous', true);
  set('chip', firmware.chip_hot_c, firmware.chip_dangerous_c, 'ChipHot', 'ChipDangerous', false);
  if (cooling === 'hydro')
    set('inlet', null, firmware.water_inlet_dangerous_c, '', 'WaterInletDangerous', false);
  const fansTotal = snapshot.fans.length;
  const minFans = firmware.min_fans;
  if (minFans !== null && !(Number.isInteger(minFans) && minFans >= 0)) {
    notes.push(`firmware ${name} MinFans=${minFans} ignored: not a whole number of fans`);
  } else if (cooling === 'air' && minFans !== null && minFans > 0 && fansTotal > 0) {
    // The firmware stops once fewer than MinFans run: that many failures is critical, one is a warning.
    const source = `firmware ${name} MinFans=${minFans} of ${fansTotal} fans`;
    const critical = Math.max(1, fansTotal - minFans + 1);
    limits.fans_failed = { warn: { value: 1, source }, critical: { value: critical, source } };
  }
}

/**
 * warn past critical (above it for a high metric, below it for a low one) could never be seen. Each
 * layer is checked when the config is read, but the firmware's limits arrive only now and can meet a
 * default or config number on the other side (LuxOS Dangerous 70.5 without Hot: critical 67.5 under
 * the default warn 75). warn moves to the critical, never the critical to the warn: the critical is
 * the one that protects the miner.
 */
function keepWarnBeforeCritical(limits: Record<Metric, MetricLimits>, notes: string[]): void {
  for (const metric of METRICS) {
    const { warn, critical } = limits[metric];
    if (warn.value === null || critical.value === null) continue;
    const high = METRIC_INFO[metric].direction === 'high';
    if (high ? warn.value <= critical.value : warn.value >= critical.value) continue;
    const moved = high ? 'lowered' : 'raised';
    notes.push(
      `${metric} warn ${warn.value} (${warn.source}) ${moved} to critical ${critical.value} (${critical.source}): warn past critical could never be seen`,
    );
    limits[metric].warn = {
      value: critical.value,
      source: `${moved} to critical (was ${warn.value}, ${warn.source})`,
    };
  }
}

/** Every limit that applies to this miner, each with its source. Pure. */
export function effectiveLimits(
  snapshot: Snapshot,
  config: ThermalConfig = {},
  site: string | null = null,
  context: LimitContext = {},
): ThermalLimits {
  const cooling = detectCooling(snapshot, config, site, context);
  const chipKind = chipSensorKind(snapshot);
  // A make the facts do not cover (or a miner not identified) gets the class defaults, and its
  // chip value is taken for an estimate (the lower limits): said, not passed off as known.
  const covered = FACTS_MAKES.test(snapshot.make);
  const base = CLASS_DEFAULTS[cooling.value];
  const classSource = CLASS_REASON[cooling.value];
  const chipSource = covered ? CHIP_DEFAULTS[chipKind].source : UNKNOWN_CHIP_SOURCE;
  const limits = {} as Record<Metric, MetricLimits>;
  for (const metric of METRICS) {
    const [warn, critical] = metric === 'chip' ? CHIP_DEFAULTS[chipKind].pair : base[metric];
    const source = metric === 'chip' ? chipSource : classSource;
    limits[metric] = { warn: { value: warn, source }, critical: { value: critical, source } };
  }
  for (const rule of MODEL_RULES) {
    if (!rule.matches(snapshot)) continue;
    for (const [metric, pair] of Object.entries(rule.limits) as [Metric, Pair][]) {
      limits[metric] = {
        warn: { value: pair[0], source: rule.source },
        critical: { value: pair[1], source: rule.source },
      };
    }
  }
  const notes: string[] = [];
  if (!covered) {
    const who =
      /^unknown$/i.test(snapshot.make) || snapshot.make.trim() === ''
        ? 'make and model not identified'
        : `${snapshot.make}${snapshot.model ? ` ${snapshot.model}` : ''}`;
    notes.push(
      `${who}: hashctl has no thermal facts for it, so the ${cooling.value} class defaults stand in, and its chip sensor is taken for an estimate (the lower chip limits)`,
    );
  }
  if (context.firmware) applyFirmware(limits, context.firmware, cooling.value, snapshot, notes);
  else if (context.firmwareError) {
    const { command, kind, message } = context.firmwareError;
    notes.push(
      `firmware limits not read: ${command} failed (${kind}: ${message}); the defaults apply in their place`,
    );
  }

  applyOverrides(limits, config.classes?.[cooling.value], `config classes.${cooling.value}`);
  const siteScope = lookup(config.sites, site);
  if (siteScope) applyOverrides(limits, siteScope[1], `config site=${siteScope[0]}`);
  const model = modelScope(config, snapshot);
  if (model) applyOverrides(limits, model[1], `config model=${model[0]}`);
  for (const [name, scope] of minerScopes(config, context.miner))
    applyOverrides(limits, scope, `config miner=${name}`);
  keepWarnBeforeCritical(limits, notes);

  return {
    cooling,
    chip_sensor: {
      value: chipKind,
      source: !covered
        ? 'not known for this make: taken for an estimate'
        : chipKind === 'real'
          ? `${snapshot.make} reports on-die sensors`
          : 'PCB-derived estimate (Antminer and others)',
    },
    metrics: limits,
    margin_c:
      config.margin_c !== undefined
        ? { value: config.margin_c, source: 'config' }
        : { value: 3, source: 'default' },
    margin_rpm:
      config.margin_rpm !== undefined
        ? { value: config.margin_rpm, source: 'config' }
        : { value: 200, source: 'default' },
    notes,
  };
}

/**
 * effectiveLimits for a whole farm (collect: 10,000 miners a cycle): computed once per distinct
 * (make, model, reported cooling, power mode, miner override), which is all that effectiveLimits
 * reads from a snapshot and a key when no replies are given (the power mode picks a Whatsminer's
 * rule: High lowers its inlet limits); with the firmware's own limits, once per distinct
 * firmware limits and fan count too (MinFans is judged against it). Callers keep one per cycle
 * (the cache grows with the models seen) and must not mutate the result.
 */
export function limitsFor(
  config: ThermalConfig,
  site: string | null,
): (snapshot: Snapshot, miner: string, firmware?: FirmwareThermalLimits | null) => ThermalLimits {
  const cache = new Map<string, ThermalLimits>();
  return (snapshot, miner, firmware = null) => {
    const override = minerEntries(config, miner);
    const identity = [
      snapshot.make,
      snapshot.model,
      snapshot.cooling ?? null,
      snapshot.power_mode ?? null,
      override,
    ];
    const key = JSON.stringify(firmware === null ? identity : [...identity, firmware, snapshot.fans.length]);
    let limits = cache.get(key);
    if (!limits) {
      limits = effectiveLimits(snapshot, config, site, { miner, firmware });
      cache.set(key, limits);
    }
    return limits;
  };
}

/** A snapshot with nothing in it but identity, for showing defaults without a miner. */
export function identitySnapshot(
  make: string,
  model: string | null,
  cooling: CoolingClass | null = null,
): Snapshot {
  return {
    make,
    model,
    firmware: { name: null, version: null },
    algorithm: 'sha256d',
    hashrate: { current_hs: null, average_hs: null, nominal_hs: null },
    uptime_s: null,
    accepted: null,
    rejected: null,
    hw_errors: null,
    boards: [],
    fans: [],
    temp_max_chip_c: null,
    temp_max_board_c: null,
    power_w: null,
    efficiency_j_per_th: null,
    pools: [],
    errors: [],
    cooling,
  };
}
