// What every subcommand shares: the global flags, parsed once into typed values, and the way an
// action reports its exit code back to src/cli.ts.
import type { Command } from 'commander';
import { MAX_REPLY_BYTES } from '../cgminer/limits.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { colorEnabled } from '../output/render.js';
import { parseBytes, parseIntFlag, parsePositiveDuration } from '../util/duration.js';

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
    // No command can wait 0 ms for a miner: said here, with the flag, not by the client as 'timeout 0'.
    timeoutMs: parsePositiveDuration(text('timeout', '5s'), '--timeout', true),
    retries: parseIntFlag(text('retries', '2'), '--retries', 0, 10),
    maxBytes: parseBytes(text('maxBytes', '8MiB'), '--max-bytes', MAX_REPLY_BYTES),
    concurrency:
      raw.concurrency === undefined
        ? null
        : parseIntFlag(String(raw.concurrency), '--concurrency', 1, 100_000),
    port: parsePort(text('port', '4028')),
    json: raw.json === true,
    quiet: raw.quiet === true,
    debug: raw.debug === true,
    color: colorEnabled(ctx, raw.color as boolean | undefined),
  };
}

/** The one default port of every command but scan (which reads a list: src/scan/targets.ts). */
function parsePort(text: string): number {
  if (text.includes(','))
    throw new UsageError(
      `--port takes one port here, not '${text}' (a list or a repeated --port is for scan)`,
    );
  return parseIntFlag(text, '--port', 1, 65_535);
}

/**
 * A flag that names a file or a site: undefined when absent; given empty (`--key-file "$KEY"` with
 * KEY unset) it is a usage error naming the flag, never a quiet fall-back to the default.
 */
export function namedFlag(
  raw: Record<string, unknown>,
  key: string,
  flag: string,
  what: string,
): string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  const text = String(value);
  if (text.trim() === '') throw new UsageError(`${flag} is empty: give ${what}`);
  return text;
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

/**
 * `--db` of the commands that also take `--config` (collect, upload, live, history, export): the
 * config's `db` comes before $HASHCTL_DB, so the readers open the file collect wrote.
 */
export const READER_DB_HELP =
  "database file (default: the config file's db, else $HASHCTL_DB, else $XDG_DATA_HOME/hashctl/hashctl.db)";
export const READER_CONFIG_HELP = 'config file (default: $HASHCTL_CONFIG); supplies db';

/**
 * The database a reader opens: `--db`, else the `db` of the config file (`--config`, else
 * $HASHCTL_CONFIG) that collect wrote with, else $HASHCTL_DB or the default. Without this, a farm
 * host set up with HASHCTL_CONFIG collected into one file and `live` read another.
 */
export async function readerDbPath(raw: Record<string, unknown>, ctx: Context): Promise<string> {
  const { resolveDbPath } = await import('../store/paths.js');
  const flag = raw.db as string | undefined;
  if (flag !== undefined) return resolveDbPath(flag, ctx.env, ctx.cwd);
  const { configPath, loadConfig } = await import('../config/index.js');
  const file = configPath(raw.config as string | undefined, ctx.env, ctx.cwd);
  const db = file === null ? undefined : loadConfig(file, ctx.env).config.db;
  return resolveDbPath(db, ctx.env, ctx.cwd, db === undefined ? undefined : `"db" in config ${file}`);
}
