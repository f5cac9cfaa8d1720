// How a command reaches miners: the targets its arguments name and a client shaped by the global
// flags. Both load their modules lazily, so importing this file keeps `hashctl --help` fast.
import type { MinerClient } from '../cgminer/types.js';
import type { Context } from '../context.js';
import type { TargetLimit } from '../targets/index.js';
import type { TargetSet } from '../targets/set.js';
import type { GlobalOptions } from './shared.js';

/**
 * Most targets one probe, control, thermal or audit run takes: each keeps its results for the table
 * it prints (several KB a target), and a /8 typed by mistake would exhaust the host's memory. A /16.
 */
export const MAX_RUN_TARGETS = 65_536;
export const FIND_MINERS_FIRST =
  'find the miners first (hashctl scan RANGE --out farm.json, then @farm.json)';

/** `-` on a terminal waits for typing: said (stderr, not with --quiet), or the run looks hung before any traffic. */
export function noteTerminalTargets(
  specs: readonly string[],
  globals: Partial<Pick<GlobalOptions, 'quiet'>>,
  ctx: Pick<Context, 'stdin'> & Partial<Pick<Context, 'stderr'>>,
): void {
  if (specs.includes('-') && ctx.stdin.isTTY === true && globals.quiet !== true)
    ctx.stderr?.write('hashctl: reading targets from the terminal, one per line; end with Ctrl-D\n');
}

/**
 * The targets grammar (hashctl.md §2) over the command's specs; `-` reads `ctx.stdin`. More than
 * `max` targets is a usage error before any traffic.
 */
export async function targetsFromSpecs(
  specs: string[],
  globals: Pick<GlobalOptions, 'port'> & Partial<Pick<GlobalOptions, 'quiet'>>,
  ctx: Pick<Context, 'stdin' | 'env'> & Partial<Pick<Context, 'stderr'>>,
  /** The cap (FIND_MINERS_FIRST its advice), or a command's own cap and words (collect's). */
  cap: number | TargetLimit = MAX_RUN_TARGETS,
): Promise<TargetSet> {
  const { assertTargetCount, parseTargetSpecs } = await import('../targets/index.js');
  const limit = typeof cap === 'number' ? { max: cap, advice: FIND_MINERS_FIRST } : cap;
  noteTerminalTargets(specs, globals, ctx);
  const targets = await parseTargetSpecs(specs, {
    defaultPort: globals.port,
    env: ctx.env,
    // A list past the cap stops where it passes it, not once every line is an object in memory.
    ...(Number.isFinite(limit.max) ? { limit } : {}),
    // Touched only for `-`: Node builds process.stdin on first access (a few ms of every start).
    ...(specs.includes('-') ? { stdin: ctx.stdin as AsyncIterable<string | Uint8Array> } : {}),
  });
  assertTargetCount(targets, limit.max, limit.advice, limit.unit, limit.who);
  return targets;
}

/** A client with --timeout, --max-bytes, --retries and --concurrency (when given), on ctx's clock. */
export async function clientFromGlobals(
  globals: Pick<GlobalOptions, 'timeoutMs' | 'maxBytes' | 'retries' | 'concurrency'>,
  ctx: Pick<Context, 'sleep' | 'random' | 'lookup'>,
): Promise<MinerClient> {
  const { createClient } = await import('../cgminer/client.js');
  return createClient({
    timeoutMs: globals.timeoutMs,
    maxBytes: globals.maxBytes,
    retries: globals.retries,
    ...(globals.concurrency !== null ? { concurrency: globals.concurrency } : {}),
    sleep: ctx.sleep,
    random: ctx.random,
    ...(ctx.lookup ? { lookup: ctx.lookup } : {}),
  });
}
