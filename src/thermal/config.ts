// The `thermal` section of the hashctl config file, and the document the cloud serves at
// /api/thermal/config. Every layer overrides the built-in defaults; the most specific layer wins:
// classes.<cooling> < sites.<id> < models.<model> < miners.<host[:port]>.
import { z } from 'zod';
import { unknownKeyMessage } from '../config/suggest.js';
import { ConfigError, UsageError } from '../errors.js';
import { parseSpecEntry, parseTarget } from '../targets/parse.js';
import { CHIP_DEFAULTS, CLASS_DEFAULTS, identitySnapshot, MODEL_RULES } from './limits.js';
import {
  COOLING_CLASSES,
  type CoolingClass,
  LIMIT_RANGES,
  METRIC_INFO,
  METRICS,
  type Metric,
} from './types.js';

export { LIMIT_RANGES };

function limitValue(metric: Metric) {
  const { min, max, integer } = LIMIT_RANGES[metric];
  const unit = METRIC_INFO[metric].unit;
  const range = unit === 'count' ? `a whole number from ${min} to ${max}` : `${min} to ${max} ${unit}`;
  return z
    .number()
    .finite()
    .refine((value) => value >= min && value <= max && (!integer || Number.isInteger(value)), {
      error: `must be ${range}`,
    })
    .nullable();
}

function metricOverrideSchema(metric: Metric) {
  return z.strictObject({
    warn: limitValue(metric).optional(),
    critical: limitValue(metric).optional(),
  });
}

type MetricOverride = { warn?: number | null; critical?: number | null };

const limitFields = Object.fromEntries(
  METRICS.map((metric) => [metric, metricOverrideSchema(metric).optional()]),
) as Record<Metric, z.ZodOptional<ReturnType<typeof metricOverrideSchema>>>;

export const limitOverridesSchema = z.strictObject(limitFields);

/** A site, model or miner: limits plus, optionally, its cooling class (the only way to declare immersion). */
export const scopeOverridesSchema = z.strictObject({
  ...limitFields,
  cooling: z.enum(COOLING_CLASSES).optional(),
});

export type LimitOverrides = z.infer<typeof limitOverridesSchema>;
export type ScopeOverrides = z.infer<typeof scopeOverridesSchema>;

interface Layer {
  path: string[];
  overrides: Partial<Record<Metric, MetricOverride>>;
  cooling?: CoolingClass | undefined;
}

interface Bound {
  value: number | null;
  /** Where the number came from; a config layer's key path, or a built-in default. */
  from: string;
  layer: Layer | null;
}

interface Base {
  warn: Bound;
  critical: Bound;
}

/**
 * The built-in pairs a metric can start from in a class: the class default (for chips, each sensor
 * kind) and the model rules. Under a models.<name> layer, a rule that matches the name replaces the
 * default, as in effectiveLimits; other rules cannot apply there.
 */
function builtInBases(metric: Metric, cooling: CoolingClass, modelKey: string | null): Base[] {
  const bound = (value: number | null, from: string): Bound => ({ value, from, layer: null });
  const rules: Base[] = [];
  for (const rule of MODEL_RULES) {
    const pair = rule.limits[metric];
    if (!pair || (rule.cooling && rule.cooling !== cooling)) continue;
    if (modelKey !== null && !ruleCanMatch(rule.matches, modelKey)) continue;
    rules.push({
      warn: bound(pair[0], `model ${rule.name}`),
      critical: bound(pair[1], `model ${rule.name}`),
    });
  }
  if (modelKey !== null && rules.length > 0) return rules;
  const defaults: Base[] = [];
  if (metric === 'chip') {
    for (const [kind, chip] of Object.entries(CHIP_DEFAULTS)) {
      defaults.push({
        warn: bound(chip.pair[0], `default ${kind} chip`),
        critical: bound(chip.pair[1], `default ${kind} chip`),
      });
    }
  } else {
    const [warn, critical] = CLASS_DEFAULTS[cooling][metric];
    defaults.push({
      warn: bound(warn, `default ${cooling}`),
      critical: bound(critical, `default ${cooling}`),
    });
  }
  return [...defaults, ...rules];
}

function ruleCanMatch(matches: (typeof MODEL_RULES)[number]['matches'], key: string): boolean {
  const words = key.trim().split(/\s+/);
  const candidates: [string, string][] = [
    ['unknown', key],
    ['Antminer', key],
    ['Whatsminer', key],
    ['Avalon', key],
  ];
  if (words.length > 1) candidates.push([words[0] ?? '', words.slice(1).join(' ')]);
  return candidates.some(([make, model]) => matches(identitySnapshot(make, model)));
}

/** A metric's warn and critical once `layers` (least specific first) are laid over `base`. */
function mergedBounds(metric: Metric, base: Base, layers: readonly Layer[]): Base {
  let { warn, critical } = base;
  for (const layer of layers) {
    const pair = layer.overrides[metric];
    const from = [...layer.path, metric].join('.');
    if (pair?.warn !== undefined) warn = { value: pair.warn, from: `${from}.warn`, layer };
    if (pair?.critical !== undefined) critical = { value: pair.critical, from: `${from}.critical`, layer };
  }
  return { warn, critical };
}

/**
 * Layers alike (the same numbers for what is checked, the same declared cooling) give the same
 * merged limits in every combination they can sit in: checked once, by the first of them, and a
 * mistake found is reported on each by its own path. The combinations are sites × models × miners:
 * without this a config of 2,000 miner entries under 20 sites and 10 models took 8 s to load, on
 * every command that reads it (collect, thermal), and grew with the product of the three.
 */
function alike(layers: readonly Layer[], metrics: readonly Metric[]): Map<Layer, Layer[]> {
  const shown = (value: number | null | undefined) => (value === undefined ? 'unset' : String(value));
  const groups = new Map<string, Layer[]>();
  for (const layer of layers) {
    const key = [
      layer.cooling ?? '-',
      ...metrics.map((metric) => {
        const pair = layer.overrides[metric];
        return pair === undefined ? '-' : `${shown(pair.warn)}/${shown(pair.critical)}`;
      }),
    ].join(' ');
    const group = groups.get(key);
    if (group) group.push(layer);
    else groups.set(key, [layer]);
  }
  return new Map([...groups.values()].map((group) => [group[0] as Layer, group]));
}

/**
 * warn must come before critical on the way to danger, or the warn level can never be seen. That
 * holds for the limits a miner ends up with, not only inside one layer: air `board.critical: 60`
 * under the default warn 75 is as wrong as both in one layer. Every combination of layers that can
 * apply to one miner is checked (per metric, only the layers that set it), on every built-in base
 * (class default, chip sensor kind, model rule) it can sit on. The firmware's own limits are only
 * known at run time and are not part of this.
 */
function checkMergedOrder(config: ThermalConfigInput, ctx: z.RefinementCtx): void {
  const classLayers = new Map<CoolingClass, Layer>();
  for (const [cooling, overrides] of Object.entries(config.classes ?? {})) {
    if (overrides) classLayers.set(cooling as CoolingClass, { path: ['classes', cooling], overrides });
  }
  const scopes = (group: 'sites' | 'models' | 'miners'): Layer[] =>
    Object.entries(config[group] ?? {}).map(([key, scope]) => ({
      path: [group, key],
      overrides: scope,
      cooling: scope.cooling,
    }));
  const groups = { sites: scopes('sites'), models: scopes('models'), miners: scopes('miners') };
  // A HOST entry applies to every port of that host, under a HOST:PORT entry of the same host.
  const hostOf = new Map<Layer, { host: string; port: boolean }>();
  for (const layer of groups.miners) {
    const target = minerKey(layer.path[1] ?? '');
    if (target) hostOf.set(layer, target);
  }
  // By host: a loop over every pair of entries took 10,000² steps for 10,000 miner entries.
  const hostEntries = new Map<string, Layer>();
  for (const [layer, target] of hostOf) if (!target.port) hostEntries.set(target.host, layer);
  const sameHost: [Layer, Layer][] = [];
  for (const [layer, target] of hostOf) {
    const host = target.port ? hostEntries.get(target.host) : undefined;
    if (host !== undefined) sameHost.push([host, layer]);
  }
  const reported = new Set<string>();

  for (const metric of METRICS) {
    const high = METRIC_INFO[metric].direction === 'high';
    const sets = (layer: Layer) => layer.overrides[metric] !== undefined;
    // Layers that do not set this metric change nothing about it; cooling is what they could change,
    // and a combination is tried with each class anyway. Sites and miners alike are tried once; a
    // model's name matters beyond its numbers (the model rules it can meet), so models are not.
    const siteGroups = alike(groups.sites.filter(sets), [metric]);
    const minerGroups = alike(groups.miners.filter(sets), [metric]);
    // One miner's entries: none, one, or its host's under its own (both set the metric).
    const minerStacks: Layer[][] = [
      [],
      ...[...minerGroups.keys()].map((layer) => [layer]),
      ...sameHost.filter((pair) => pair.every(sets)),
    ];
    // The layers a mistake found on `layer` is theirs too (a miner's alike only when alone: a pair
    // of one host's entries is its own combination).
    const membersOf = (layer: Layer, miners: Layer[]) =>
      siteGroups.get(layer) ?? (miners.length === 1 ? minerGroups.get(layer) : undefined) ?? [layer];
    for (const site of [null, ...siteGroups.keys()]) {
      for (const model of [null, ...groups.models.filter(sets)]) {
        for (const miners of minerStacks) {
          // The most specific declared cooling decides the class (limits.ts detectCooling).
          const declared =
            [...miners].reverse().find((layer) => layer.cooling)?.cooling ?? model?.cooling ?? site?.cooling;
          const classes = declared ? [declared] : COOLING_CLASSES;
          for (const cooling of classes) {
            const classLayer = classLayers.get(cooling);
            const layers = [
              classLayer && sets(classLayer) ? classLayer : null,
              site,
              model,
              ...miners,
            ].filter((layer): layer is Layer => layer !== null);
            const modelKey = model ? (model.path[1] ?? null) : null;
            for (const base of builtInBases(metric, cooling, modelKey)) {
              const { warn, critical } = mergedBounds(metric, base, layers);
              if (warn.value === null || critical.value === null) continue;
              if (high ? warn.value <= critical.value : warn.value >= critical.value) continue;
              // Blame the more specific of the two layers: that is the number to fix.
              const order = (bound: Bound) => (bound.layer ? layers.indexOf(bound.layer) : -1);
              const blameWarn = order(warn) >= order(critical);
              const blamed = blameWarn ? warn : critical;
              if (!blamed.layer) continue;
              const sameLayer = warn.layer === critical.layer;
              const other = blameWarn ? critical : warn;
              const note = sameLayer ? '' : ` (${other.from})`;
              const message = blameWarn
                ? `warn ${warn.value} must be ${high ? 'at or below' : 'at or above'} critical ${critical.value}${note}`
                : `critical ${critical.value} must be ${high ? 'at or above' : 'at or below'} warn ${warn.value}${note}: warn could never be seen`;
              for (const layer of membersOf(blamed.layer, miners)) {
                const path = [...layer.path, metric, blameWarn ? 'warn' : 'critical'];
                const key = path.join('\u0000');
                if (reported.has(key)) continue;
                reported.add(key);
                ctx.addIssue({ code: 'custom', path, message });
              }
            }
          }
        }
      }
    }
  }
}

/**
 * The inlet is judged from both sides: `inlet` (too hot) and `inlet_low` (too cold). The cold edge
 * (inlet_low's warn, else its critical) must stay below the hot one (inlet's warn, else critical),
 * or no inlet reading is ok: hydro `inlet_low.warn: 42` under the default `inlet.warn` 40 put every
 * water-cooled miner in warn for good, and crossed criticals make every miner critical (and
 * `--protect` pause it) whatever its water does. Checked on the limits a miner ends up with, as
 * checkMergedOrder does: every combination of layers, on every built-in base.
 */
function checkInletBand(config: ThermalConfigInput, ctx: z.RefinementCtx): void {
  const sets = (layer: Layer) =>
    layer.overrides.inlet !== undefined || layer.overrides.inlet_low !== undefined;
  const scopes = (group: 'sites' | 'models' | 'miners'): Layer[] =>
    Object.entries(config[group] ?? {})
      .map(([key, scope]): Layer => ({ path: [group, key], overrides: scope, cooling: scope.cooling }))
      .filter(sets);
  // Sites and miners alike are tried once (see alike).
  const siteGroups = alike(scopes('sites'), ['inlet', 'inlet_low']);
  const minerGroups = alike(scopes('miners'), ['inlet', 'inlet_low']);
  const sites = [null, ...siteGroups.keys()];
  const models = [null, ...scopes('models')];
  // One miner's entries: none, or one (a HOST entry under a HOST:PORT one is rare enough to be
  // checked only one at a time here).
  const minerStacks: Layer[][] = [[], ...[...minerGroups.keys()].map((layer) => [layer])];
  const reported = new Set<string>();
  for (const site of sites) {
    for (const model of models) {
      for (const miners of minerStacks) {
        const declared =
          [...miners].reverse().find((layer) => layer.cooling)?.cooling ?? model?.cooling ?? site?.cooling;
        for (const cooling of declared ? [declared] : COOLING_CLASSES) {
          const overrides = config.classes?.[cooling];
          const classLayer: Layer | null = overrides ? { path: ['classes', cooling], overrides } : null;
          const layers = [classLayer, site, model, ...miners].filter(
            (layer): layer is Layer => layer !== null && sets(layer),
          );
          if (layers.length === 0) continue;
          const modelKey = model ? (model.path[1] ?? null) : null;
          const edge = (metric: 'inlet' | 'inlet_low', base: Base): Bound => {
            const { warn, critical } = mergedBounds(metric, base, layers);
            return warn.value !== null ? warn : critical;
          };
          for (const hotBase of builtInBases('inlet', cooling, modelKey)) {
            for (const coldBase of builtInBases('inlet_low', cooling, modelKey)) {
              const hot = edge('inlet', hotBase);
              const cold = edge('inlet_low', coldBase);
              if (hot.value === null || cold.value === null || cold.value < hot.value) continue;
              const order = (bound: Bound) => (bound.layer ? layers.indexOf(bound.layer) : -1);
              const blamed = order(cold) >= order(hot) ? cold : hot;
              const other = blamed === cold ? hot : cold;
              if (!blamed.layer) continue;
              // The layer's own path: its key may hold dots (`miners.10.0.0.5`, `models.S19 Pro`).
              const field = blamed.from.endsWith('.warn') ? 'warn' : 'critical';
              const message =
                blamed === cold
                  ? `${cold.value} must be below the inlet's hot limit ${hot.value} (${other.from}): no inlet reading would be ok`
                  : `${hot.value} must be above the inlet's cold limit ${cold.value} (${other.from}): no inlet reading would be ok`;
              const members = siteGroups.get(blamed.layer) ?? minerGroups.get(blamed.layer) ?? [blamed.layer];
              for (const layer of members) {
                const path = [...layer.path, blamed === cold ? 'inlet_low' : 'inlet', field];
                const key = path.join('\u0000');
                if (reported.has(key)) continue;
                reported.add(key);
                ctx.addIssue({ code: 'custom', path, message });
              }
            }
          }
        }
      }
    }
  }
}

const thermalConfigObject = z.strictObject({
  /** Hysteresis margin for temperatures, °C (default 3). */
  margin_c: z.number().finite().min(0).max(30).optional(),
  /** Hysteresis margin for fan speeds, RPM (default 200). */
  margin_rpm: z.number().finite().min(0).max(5000).optional(),
  classes: z
    .strictObject({
      air: limitOverridesSchema.optional(),
      hydro: limitOverridesSchema.optional(),
      immersion: limitOverridesSchema.optional(),
    })
    .optional(),
  sites: z.record(z.string().min(1), scopeOverridesSchema).optional(),
  models: z.record(z.string().min(1), scopeOverridesSchema).optional(),
  miners: z.record(z.string().min(1), scopeOverridesSchema).optional(),
});

type ThermalConfigInput = z.infer<typeof thermalConfigObject>;

/**
 * `models` keys match a miner with or without its make and regardless of case and spaces
 * (limits.ts modelKeyMatches), so "S19 Pro" and "Antminer S19 Pro" are one model: two entries for it
 * would leave one silently unused.
 */
function checkModelKeys(config: ThermalConfigInput, ctx: z.RefinementCtx): void {
  const squash = (text: string) => text.toLowerCase().replace(/\s+/g, '');
  const seen = new Map<string, string>();
  for (const key of Object.keys(config.models ?? {})) {
    const words = key.trim().split(/\s+/);
    const names = [squash(key)];
    if (words.length > 1 && /^[a-z]+$/i.test(words[0] ?? '')) names.push(squash(words.slice(1).join('')));
    const other = names.map((name) => seen.get(name)).find((found) => found !== undefined);
    if (other !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['models', key],
        message: `names the same model as models.${other}`,
      });
      continue;
    }
    for (const name of names) seen.set(name, key);
  }
}

/**
 * `miners` keys are matched against a miner's `host:port` or host, so a key that is not one miner
 * address (a range, a CIDR, a port out of range, "S19 rack 3") could never apply: it is refused
 * rather than left to fall back to the defaults without a word. Two keys for one miner would
 * leave one unused.
 */
/** Whether a key is a valid range or network of the targets grammar (several miners, not one). */
function isRange(key: string): boolean {
  try {
    return parseSpecEntry(key, 0).kind === 'range';
  } catch {
    return false;
  }
}

/** A `miners.<key>` as the host it names and whether it names one port, or null if it is no miner. */
function minerKey(key: string): { host: string; port: boolean } | null {
  try {
    const target = parseTarget(key, 0); // port 0: none written (a written one is 1-65535)
    return { host: target.host.toLowerCase(), port: target.port !== 0 };
  } catch {
    return null;
  }
}

function checkMinerKeys(config: ThermalConfigInput, ctx: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  for (const key of Object.keys(config.miners ?? {})) {
    let canonical: string;
    try {
      const target = parseTarget(key, 0); // port 0: none written (a written one is 1-65535)
      canonical = target.port === 0 ? target.host : target.key;
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      const why = isRange(key)
        ? 'a range names several'
        : error.message.replace(/^invalid target '.*': /s, '');
      ctx.addIssue({
        code: 'custom',
        path: ['miners', key],
        message: `is not one miner address: ${why} (write HOST or HOST:PORT, as probe shows the miner)`,
      });
      continue;
    }
    const other = seen.get(canonical.toLowerCase());
    if (other !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['miners', key],
        message: `names the same miner as miners.${other}`,
      });
    else seen.set(canonical.toLowerCase(), key);
  }
}

export const thermalConfigSchema = thermalConfigObject.superRefine((config, ctx) => {
  checkModelKeys(config, ctx);
  checkMinerKeys(config, ctx);
  checkMergedOrder(config, ctx);
  checkInletBand(config, ctx);
});

export type ThermalConfig = z.infer<typeof thermalConfigSchema>;

export const EMPTY_THERMAL_CONFIG: ThermalConfig = {};

/**
 * Validates a `thermal` section. Throws ConfigError naming the first bad key as a dotted path,
 * e.g. `thermal.sites.A.board.warn: expected number, received string`.
 */
export function parseThermalConfig(raw: unknown, where = 'thermal'): ThermalConfig {
  if (raw === undefined || raw === null) return EMPTY_THERMAL_CONFIG;
  const result = thermalConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    // Name the offending key itself, not just its parent (zod reports unknown keys on the parent).
    if (issue.code === 'unrecognized_keys')
      return `${[where, ...issue.path.map(String), issue.keys[0]].join('.')}: ${unknownKeyMessage(thermalConfigSchema, issue.path, issue.keys[0]!)}`;
    return `${[where, ...issue.path.map(String)].join('.')}: ${issue.message}`;
  });
  const first = issues[0] ?? `${where}: invalid`;
  throw new ConfigError(issues.length > 1 ? `${first} (and ${issues.length - 1} more)` : first, {
    details: { issues },
  });
}
