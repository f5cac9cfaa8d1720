// The `thermal` section of the hashctl config file, and the document the cloud serves at
// /api/thermal/config. Every layer overrides the built-in defaults; the most specific layer wins:
// classes.<cooling> < sites.<id> < models.<model> < miners.<host[:port]>.
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { COOLING_CLASSES, METRIC_INFO, METRICS, type Metric } from './types.js';

const limitValue = z.number().finite().nullable();

export const metricOverrideSchema = z.strictObject({
  warn: limitValue.optional(),
  critical: limitValue.optional(),
});

const limitFields = Object.fromEntries(
  METRICS.map((metric) => [metric, metricOverrideSchema.optional()]),
) as Record<Metric, z.ZodOptional<typeof metricOverrideSchema>>;

export const limitOverridesSchema = z.strictObject(limitFields);

/** A site, model or miner: limits plus, optionally, its cooling class (the only way to declare immersion). */
export const scopeOverridesSchema = z.strictObject({
  ...limitFields,
  cooling: z.enum(COOLING_CLASSES).optional(),
});

export const thermalConfigSchema = z
  .strictObject({
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
  })
  .superRefine((config, ctx) => {
    // warn must come before critical on the way to danger, or the warn level can never be seen.
    const layers: [string[], Record<string, unknown> | undefined][] = [
      ...Object.entries(config.classes ?? {}).map(
        ([k, v]) => [['classes', k], v] as [string[], Record<string, unknown>],
      ),
      ...(['sites', 'models', 'miners'] as const).flatMap((group) =>
        Object.entries(config[group] ?? {}).map(
          ([k, v]) => [[group, k], v] as [string[], Record<string, unknown>],
        ),
      ),
    ];
    for (const [path, layer] of layers) {
      for (const metric of METRICS) {
        const pair = layer?.[metric] as { warn?: number | null; critical?: number | null } | undefined;
        if (typeof pair?.warn !== 'number' || typeof pair.critical !== 'number') continue;
        const high = METRIC_INFO[metric].direction === 'high';
        if (high ? pair.warn > pair.critical : pair.warn < pair.critical) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, metric, 'warn'],
            message: `warn ${pair.warn} must be ${high ? 'at or below' : 'at or above'} critical ${pair.critical}`,
          });
        }
      }
    }
  });

export type ThermalConfig = z.infer<typeof thermalConfigSchema>;
export type LimitOverrides = z.infer<typeof limitOverridesSchema>;
export type ScopeOverrides = z.infer<typeof scopeOverridesSchema>;

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
      return `${[where, ...issue.path.map(String), issue.keys[0]].join('.')}: unknown key`;
    return `${[where, ...issue.path.map(String)].join('.')}: ${issue.message}`;
  });
  const first = issues[0] ?? `${where}: invalid`;
  throw new ConfigError(issues.length > 1 ? `${first} (and ${issues.length - 1} more)` : first, {
    details: { issues },
  });
}
