// The config file (`--config FILE` or $HASHCTL_CONFIG): JSON, validated here. Every key is optional;
// flags override it. Durations take the CLI's form ("60s", "30d") or a number of seconds.
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { siteNameProblem } from '../store/sites.js';
import { parseSpecEntry } from '../targets/parse.js';
import { thermalConfigSchema } from '../thermal/config.js';
import { MAX_TIMER_MS, parseDuration } from '../util/duration.js';

/** A duration in ms; `min`/`max` (ms) with the words an error uses for them. */
function duration(limits: { min?: [number, string]; max?: [number, string] } = {}) {
  // A value of neither type (true, null, an object) was "Invalid input", which says nothing of what is.
  const either = z.union([z.number().positive(), z.string().min(1)], {
    error: 'expected a duration: a string such as "60s", "5m", "30d", or a number of seconds',
  });
  return either.transform((value, ctx) => {
    let ms: number;
    try {
      ms = parseDuration(String(value));
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `invalid duration ${JSON.stringify(value)}: use e.g. 500ms, 60s, 5m, 30d`,
      });
      return z.NEVER;
    }
    // Checked here, not after loading, so the error names the file, the line and the key.
    const { min, max } = limits;
    if (min && ms < min[0]) ctx.addIssue({ code: 'custom', message: `must be at least ${min[1]}` });
    else if (max && ms > max[0]) ctx.addIssue({ code: 'custom', message: `must be at most ${max[1]}` });
    else return ms;
    return z.NEVER;
  });
}

export const uploadConfigSchema = z
  .object({
    endpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    /** File holding the collector key (never the key itself in the config). */
    key_file: z.string().min(1).optional(),
    /** PEM file of the collector's private CA (as `--ca`). */
    ca_file: z.string().min(1).optional(),
  })
  .strict();

function checkTargetSpec(spec: string, ctx: z.RefinementCtx): void {
  if (spec.startsWith('@') || spec === '-') return;
  try {
    parseSpecEntry(spec, 4028);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    ctx.addIssue({ code: 'custom', message: error.message });
  }
}

export const configSchema = z
  .object({
    // Each one checked as --targets checks it, so a typo is named with its line in the file (the
    // @FILE lists it names are read when collect starts).
    targets: z.array(z.string().min(1).superRefine(checkTargetSpec)).min(1).optional(),
    // As collect checks --site, here so that the error names the file, the line and the key.
    site: z
      .string()
      .superRefine((site, ctx) => {
        const problem = siteNameProblem(site.normalize('NFC'));
        if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    interval: duration({ min: [1000, '1s'], max: [MAX_TIMER_MS, '24d'] }).optional(),
    // Hourly rollups need the raw rows of at least the last hour.
    retain: duration({ min: [3_600_000, '1h (hourly rollups need the raw rows)'] }).optional(),
    // Blank is refused as an empty --db is: resolved against the folder it named "<folder>/ ".
    db: z
      .string()
      .refine((db) => db.trim() !== '', { error: 'is empty: give a database file name' })
      .optional(),
    concurrency: z.number().int().min(1).max(100_000).optional(),
    timeout: duration({ min: [1, '1ms'], max: [MAX_TIMER_MS, '24d'] }).optional(),
    retries: z.number().int().min(0).max(10).optional(),
    port: z.number().int().min(1).max(65_535).optional(),
    upload: uploadConfigSchema.optional(),
    // Limits and overrides per class, site, model and miner; read by collect and `thermal`.
    thermal: thermalConfigSchema.optional(),
  })
  // Unknown keys are refused: a typo ("intreval") must not silently fall back to a default.
  .strict();

export type HashctlConfig = z.output<typeof configSchema>;
