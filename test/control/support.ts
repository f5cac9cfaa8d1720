// Helpers for the control tests: the CLI in-process against the simulator, and what the simulator saw.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import type { TargetControlResult } from '../../src/control/types.js';
import { type Farm, type FarmOptions, startFarm } from '../../src/sim/index.js';
import {
  type Behaviour,
  cgminerReply,
  type FakeMiner,
  type FakeMinerOptions,
  type Script,
  startFakeMiner,
} from '../support/fake-miner.js';

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

/** The run fields control keeps beside `results`, or after a single host's own fields. */
export const RUN_FIELDS = ['action', 'dry_run', 'run_id'] as const;

/**
 * Whether the targets among `args` are one single host (README, Per-target JSON): exactly one
 * loopback `HOST[:PORT]` and no `@FILE`, `-`, range or CIDR (every target in these tests is on 127/8).
 */
export function namesSingleHost(args: string[]): boolean {
  const targets = args.filter(
    (arg) => /^127\.[\d.]*[\d]([/:-]|$)/.test(arg) || arg.startsWith('@') || arg === '-',
  );
  return targets.length === 1 && /^127\.\d+\.\d+\.\d+(:\d+)?$/.test(targets[0] as string);
}

/**
 * The per-target contract (hashctl.md §3) of one result: target, host, port, ok, elapsed_ms first,
 * and a failure says why with kind, message and a whole-number attempts.
 */
export function checkPerTarget(result: Record<string, unknown>): void {
  const where = String(result.target);
  if (JSON.stringify(Object.keys(result).slice(0, 5)) !== '["target","host","port","ok","elapsed_ms"]')
    throw new Error(`${where}: per-target keys start ${JSON.stringify(Object.keys(result).slice(0, 5))}`);
  const error = result.error as Record<string, unknown> | undefined;
  if (result.ok === false && error === undefined) throw new Error(`${where}: failed without an error`);
  if (error === undefined) return;
  if (typeof error.kind !== 'string' || typeof error.message !== 'string')
    throw new Error(`${where}: error without kind or message: ${JSON.stringify(error)}`);
  if (!Number.isInteger(error.attempts) || (error.attempts as number) < 0)
    throw new Error(`${where}: error without attempts: ${JSON.stringify(error)}`);
}

/**
 * `hashctl control …--json`, checked against the contract: one JSON document; for one single host
 * the per-target object with the run fields, otherwise the run fields and `results`. `json` is the
 * run in one shape either way (`results` holds the single host's object); `doc` is what was printed.
 * Fails the test with stderr when stdout is not JSON.
 */
export async function control(
  args: string[],
  env: Record<string, string> = {},
): Promise<CliRun & { json: ControlJson; doc: Record<string, unknown> }> {
  const run = await cli(['control', ...args, '--json', '--timeout', '2s', '--retries', '0'], env);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(run.out) as Record<string, unknown>;
  } catch {
    throw new Error(`no JSON (exit ${run.code}): ${run.err}`);
  }
  for (const field of RUN_FIELDS) if (!(field in doc)) throw new Error(`no ${field} in ${run.out}`);
  const single = namesSingleHost(args) && run.code !== 130;
  if (single === 'results' in doc)
    throw new Error(`${single ? 'one single host' : 'several targets'} printed ${run.out}`);
  const results = single
    ? [
        Object.fromEntries(
          Object.entries(doc).filter(([key]) => !(RUN_FIELDS as readonly string[]).includes(key)),
        ),
      ]
    : (doc.results as Record<string, unknown>[]);
  for (const result of results) checkPerTarget(result);
  const json = {
    action: doc.action,
    dry_run: doc.dry_run,
    run_id: doc.run_id,
    results,
  } as unknown as ControlJson;
  return { ...run, json, doc };
}

/** Every command the farm received that is not a read, as `target command parameter`. */
export function writesSeen(farm: Farm): { target: string; command: string; parameter: string | null }[] {
  return farm.commandLog
    .filter((entry) => !entry.command.split('+').every((name) => READS.has(name)))
    .map(({ target, command, parameter }) => ({ target, command, parameter }));
}

/**
 * Call once at the top level of a test file: the farms and fake miners a test starts through it are
 * stopped after that test, and `temp()` is the test's own folder (made on first use, then removed).
 */
export function perTest() {
  const closers: (() => Promise<void>)[] = [];
  let temp: ReturnType<typeof tempDir> | null = null;
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    temp?.remove();
    temp = null;
  });
  return {
    async farm(options: FarmOptions): Promise<Farm> {
      const farm = await startFarm(options);
      closers.push(() => farm.stop());
      return farm;
    },
    async fake(script: Script, options: FakeMinerOptions = {}): Promise<FakeMiner> {
      const fake = await startFakeMiner(script, options);
      closers.push(() => fake.close());
      return fake;
    },
    temp(): { dir: string; db: string } {
      temp ??= tempDir();
      return temp;
    },
  };
}

export function tempDir(): { dir: string; db: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-control-'));
  return {
    dir,
    db: path.join(dir, 'hashctl.db'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** The pools a plain S9 lists unless a test gives its own: one alive pool, active. */
const ONE_POOL = [
  { POOL: 0, URL: 'stratum+tcp://p:3333', User: 'w', Status: 'Alive', Priority: 0, 'Stratum Active': true },
];

/**
 * A plain cgminer (Antminer S9) that answers reads (`pools` and the extra `summary` fields as given;
 * joins refused) and every other command with `write` (default: S, done), recording the writes.
 */
export function plainS9(
  options: {
    /** The POOLS records, or a function giving them at each read (a miner whose pools change). */
    pools?: Record<string, unknown>[] | (() => Record<string, unknown>[]);
    summary?: Record<string, unknown>;
    write?: (command: string, parameter: string | undefined) => Behaviour;
  } = {},
) {
  const writes: string[] = [];
  const reply = (bytes: string): Behaviour => ({ kind: 'reply', bytes });
  const script = (request: string): Behaviour => {
    const { command, parameter } = JSON.parse(request) as { command: string; parameter?: string };
    if (command.includes('+'))
      return reply(cgminerReply('X', [], { STATUS: 'E', Code: 14, Msg: 'Invalid command' }));
    switch (command) {
      case 'version':
        return reply(cgminerReply('VERSION', [{ CGMiner: '4.11.1', API: '3.7', Type: 'Antminer S9' }]));
      case 'summary':
        return reply(
          cgminerReply('SUMMARY', [
            { Elapsed: 5000, 'MHS av': 13_500_000, 'MHS 5s': 13_400_000, ...options.summary },
          ]),
        );
      case 'pools': {
        const pools = typeof options.pools === 'function' ? options.pools() : options.pools;
        return reply(cgminerReply('POOLS', pools ?? ONE_POOL));
      }
      case 'devs':
      case 'stats':
        return reply(cgminerReply(command.toUpperCase(), []));
      default:
        writes.push(command);
        return options.write
          ? options.write(command, parameter)
          : reply(cgminerReply('X', [], { STATUS: 'S', Code: 47, Msg: `${command} done` }));
    }
  };
  return { script, writes };
}
