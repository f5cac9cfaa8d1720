// Helpers for the control tests: the CLI in-process against the simulator, and what the simulator saw.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import type { TargetControlResult } from '../../src/control/types.js';
import type { Farm } from '../../src/sim/index.js';

/** Commands a miner may receive during a control run that change nothing. */
export const READS = new Set([
  'version',
  'summary',
  'stats',
  'pools',
  'devs',
  'devdetails',
  'config',
  'temps',
  'tempctrl',
  'tunerstatus',
  'fans',
  'estats',
  'litestats',
  'profiles',
  'events',
  'session',
  'power',
  'edevs',
  'coin',
  'status',
  'get_version',
  'get_error_code',
  'check',
  'privileged',
]);

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export async function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const stdin = Object.assign(Readable.from([]), { isTTY: false });
  const ctx = memoryContext({ env, stdin });
  const code = await runCli(args, ctx);
  return { code, out: ctx.out(), err: ctx.err() };
}

export interface ControlJson {
  action: string;
  dry_run: boolean;
  run_id: string;
  results: TargetControlResult[];
}

/** `hashctl control …--json`; fails the test with stderr when stdout is not JSON. */
export async function control(
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun & { json: ControlJson }> {
  const run = await cli(['control', ...args, '--json', '--timeout', '2s', '--retries', '0'], env);
  let json: ControlJson;
  try {
    json = JSON.parse(run.out) as ControlJson;
  } catch {
    throw new Error(`no JSON (exit ${run.code}): ${run.err}`);
  }
  return { ...run, json };
}

/** Every command the farm received that is not a read, as `target command parameter`. */
export function writesSeen(farm: Farm): { target: string; command: string; parameter: string | null }[] {
  return farm.commandLog
    .filter((entry) => !entry.command.split('+').every((name) => READS.has(name)))
    .map(({ target, command, parameter }) => ({ target, command, parameter }));
}

export function tempDir(): { dir: string; db: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-control-'));
  return {
    dir,
    db: path.join(dir, 'hashctl.db'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
