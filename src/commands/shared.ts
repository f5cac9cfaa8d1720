// What every subcommand shares: the global flags, parsed once into typed values, and the way an
// action reports its exit code back to src/cli.ts.
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { colorEnabled } from '../output/render.js';
import { parseBytes, parseDuration, parseIntFlag } from '../util/duration.js';

export interface GlobalOptions {
  /** Total response deadline per request (connect has its own, shorter, timeout). */
  timeoutMs: number;
  retries: number;
  maxBytes: number;
  /** null: let the command pick from the open-file limit. */
  concurrency: number | null;
  /** Default port for targets that do not name one. */
  port: number;
  json: boolean;
  quiet: boolean;
  debug: boolean;
  color: boolean;
}

export interface CommandEnv {
  ctx: Context;
  /** Global flags as typed values; throws UsageError on a bad value. */
  globals(command: Command): GlobalOptions;
  /** Record the exit code of the action (the last call wins). */
  exit(code: number): void;
}

export type RegisterCommand = (program: Command, env: CommandEnv) => void;

export function parseGlobals(raw: Record<string, unknown>, ctx: Context): GlobalOptions {
  const text = (key: string, fallback: string) => (raw[key] === undefined ? fallback : String(raw[key]));
  return {
    timeoutMs: parseDuration(text('timeout', '5s'), '--timeout'),
    retries: parseIntFlag(text('retries', '2'), '--retries', 0, 10),
    maxBytes: parseBytes(text('maxBytes', '8MiB'), '--max-bytes'),
    concurrency:
      raw.concurrency === undefined
        ? null
        : parseIntFlag(String(raw.concurrency), '--concurrency', 1, 100_000),
    port: parseIntFlag(text('port', '4028'), '--port', 1, 65_535),
    json: raw.json === true,
    quiet: raw.quiet === true,
    debug: raw.debug === true,
    color: colorEnabled(ctx, raw.color as boolean | undefined),
  };
}

/** Commander collects repeated/variadic values; this accepts both a string and a list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * openStore's `onUpgrade` for a command: one line on stderr before a file from an older hashctl is
 * upgraded (silent with --quiet), so a minute spent rebuilding an index does not look like a hang.
 */
export function upgradeNote(globals: GlobalOptions, ctx: Context) {
  return (file: string, steps: readonly string[]): void => {
    if (globals.quiet) return;
    ctx.stderr.write(
      `hashctl: upgrading ${file} for this hashctl (${steps.join(', ')}); a large file takes a minute, once\n`,
    );
  };
}
