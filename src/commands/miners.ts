// How a command reaches miners: the targets its arguments name and a client shaped by the global
// flags. Both load their modules lazily, so importing this file keeps `hashctl --help` fast.
import type { MinerClient } from '../cgminer/types.js';
import type { Context } from '../context.js';
import type { TargetSet } from '../targets/set.js';
import type { GlobalOptions } from './shared.js';

/** The targets grammar (hashctl.md §2) over the command's specs; `-` reads `ctx.stdin`. */
export async function targetsFromSpecs(
  specs: string[],
  globals: Pick<GlobalOptions, 'port'>,
  ctx: Pick<Context, 'stdin'>,
): Promise<TargetSet> {
  const { parseTargetSpecs } = await import('../targets/index.js');
  return parseTargetSpecs(specs, {
    defaultPort: globals.port,
    // Touched only for `-`: Node builds process.stdin on first access (a few ms of every start).
    ...(specs.includes('-') ? { stdin: ctx.stdin as AsyncIterable<string | Uint8Array> } : {}),
  });
}

/** A client with --timeout, --max-bytes, --retries and --concurrency (when given), on ctx's clock. */
export async function clientFromGlobals(
  globals: Pick<GlobalOptions, 'timeoutMs' | 'maxBytes' | 'retries' | 'concurrency'>,
  ctx: Pick<Context, 'sleep' | 'random'>,
): Promise<MinerClient> {
  const { createClient } = await import('../cgminer/client.js');
  return createClient({
    timeoutMs: globals.timeoutMs,
    maxBytes: globals.maxBytes,
    retries: globals.retries,
    ...(globals.concurrency !== null ? { concurrency: globals.concurrency } : {}),
    sleep: ctx.sleep,
    random: ctx.random,
  });
}
