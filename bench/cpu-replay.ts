// CPU of collect's per-miner pipeline without sockets, for tuning it on a busy machine:
//   npx tsx bench/cpu-replay.ts [--miners 5000] [--rounds 5] [--warm] [--fresh] [--cpu-prof DIR | --heap-prof DIR]
// 1. Records every reply a real collect cycle gets from a simulated farm (`simulate --profile mix`
//    in its own process): the real client, with its transport wrapped to keep request → bytes.
// 2. Replays that cycle several times through the code `collect --once` runs (client with its
//    joins and fallbacks, decode, detect, normalize, pollOne, the cycle's transaction with thermal
//    tracking; not the hook that stores dialect hints, which writes only when a hint changes) with the transport answering from the recording, and reports the CPU per miner of
//    polling alone and of the whole cycle. --warm: the cycle of a cron run that found each miner's
//    dialect stored by the run before (what collect --once does from its second run on). Deterministic input, no network: the numbers move only
//    when the code does (or the machine is loaded, which CPU time tolerates better than wall time).
// --fresh: each round's cycle in a new process, as `collect --once` runs it: V8 compiles the code
//    while the cycle runs (and again after each deoptimization), which rounds in one warm process
//    hide. Reports the whole process's CPU (compiler threads included) for the cycle alone.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '../src/cgminer/client.js';
import { type ExchangeOptions, type ExchangeResult, exchange } from '../src/cgminer/connection.js';
import { pollOne, runCycle } from '../src/collect/cycle.js';
import {
  createDialectCache,
  dialectHint,
  dialectStatics,
  fetchSnapshot,
  seedDialect,
} from '../src/miners/fetch.js';
import { openStore } from '../src/store/index.js';
import type { Target } from '../src/targets/types.js';
import { runPool } from '../src/util/pool.js';
import { median } from './lib/stats.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
}

const miners = Number(flag('--miners', '5000'));
const rounds = Number(flag('--rounds', '5'));
const profileDir = flag('--cpu-prof', '');
/** --heap-prof DIR: where the last round allocates (objects collected since included), not its CPU. */
const heapDir = flag('--heap-prof', '');
const warm = process.argv.includes('--warm');
const fresh = process.argv.includes('--fresh');
/** Internal: the child of --fresh, replaying the recording in this file once. */
const replayOnly = flag('--replay-only', '');
const CONCURRENCY = 1000;

const keyOf = (o: ExchangeOptions) => `${o.host}:${o.port} ${Buffer.from(o.request).toString('latin1')}`;

interface Recording {
  targets: Target[];
  replies: Map<string, ExchangeResult>;
  /** --warm: each miner's stored dialect hint (and static replies) after a first cycle. */
  hints: Map<string, { hint: string; statics: string | null }>;
}

/** A cache as collect --once builds it: empty, or seeded from the hints a first run stored. */
function cacheFor(hints: Recording['hints']) {
  const cache = createDialectCache();
  for (const [key, { hint, statics }] of hints) seedDialect(cache, key, hint, statics);
  return cache;
}

async function record(work: string): Promise<Recording> {
  const inventory = join(work, 'inventory.txt');
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin/hashctl'),
      'simulate',
      '--profile',
      'mix',
      '--count',
      String(miners),
      '--base-port',
      '0',
      '--seed',
      '11',
      '--inventory',
      inventory,
      '--quiet',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    const deadline = Date.now() + 120_000;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      if (existsSync(inventory)) {
        lines = readFileSync(inventory, 'utf8').split('\n').filter(Boolean);
        if (lines.length === miners) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (lines.length !== miners) throw new Error('the simulator did not start');
    const targets = lines.map((key) => {
      const at = key.lastIndexOf(':');
      return { host: key.slice(0, at), port: Number(key.slice(at + 1)), key };
    });
    const replies = new Map<string, ExchangeResult>();
    const hints: Recording['hints'] = new Map();
    if (warm) {
      // A first run, unrecorded, that learns every miner's dialect.
      const learning = createClient({
        timeoutMs: 5000,
        maxBytes: 8 * 2 ** 20,
        retries: 0,
        concurrency: CONCURRENCY,
      });
      const learned = createDialectCache();
      for await (const outcome of runPool(targets, CONCURRENCY, (target) =>
        pollOne(
          target,
          async (t) => (await fetchSnapshot(learning, t, { cache: learned })).snapshot,
          Date.now,
        ),
      )) {
        if (!outcome.ok) throw new Error(`learning: ${outcome.target.key} failed: ${outcome.error.message}`);
        const entry = learned.get(outcome.target.key);
        const hint = dialectHint(entry);
        if (hint !== null) hints.set(outcome.target.key, { hint, statics: dialectStatics(entry) });
      }
    }
    const client = createClient({
      timeoutMs: 5000,
      maxBytes: 8 * 2 ** 20,
      retries: 0,
      concurrency: CONCURRENCY,
      exchange: async (options) => {
        const result = await exchange(options);
        replies.set(keyOf(options), { bytes: Uint8Array.from(result.bytes), terminated: result.terminated });
        return result;
      },
    });
    const cache = cacheFor(hints);
    for await (const outcome of runPool(targets, CONCURRENCY, (target) =>
      pollOne(target, async (t) => (await fetchSnapshot(client, t, { cache })).snapshot, Date.now),
    )) {
      if (!outcome.ok) throw new Error(`recording: ${outcome.target.key} failed: ${outcome.error.message}`);
    }
    return { targets, replies, hints };
  } finally {
    child.kill('SIGTERM');
  }
}

function replayClient(replies: Map<string, ExchangeResult>) {
  return createClient({
    timeoutMs: 5000,
    maxBytes: 8 * 2 ** 20,
    retries: 0,
    concurrency: CONCURRENCY,
    exchange: async (options) => {
      const found = replies.get(keyOf(options));
      if (!found) throw new Error(`no recorded reply for ${keyOf(options)}`);
      return { bytes: found.bytes, terminated: found.terminated };
    },
  });
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

/** One cycle as collect --once runs it, replayed into a fresh database; its CPU in ms. */
async function replayCycle(
  targets: Target[],
  replies: Map<string, ExchangeResult>,
  hints: Recording['hints'],
  dbPath: string,
): Promise<number> {
  const client = replayClient(replies);
  const cache = cacheFor(hints);
  const fetch = async (t: Target) => (await fetchSnapshot(client, t, { cache })).snapshot;
  const store = openStore(dbPath);
  try {
    const started = process.cpuUsage();
    const report = await runCycle(
      { site: 'default', intervalMs: null, retainMs: 30 * 86_400_000, thermal: {} },
      {
        store,
        pollAll: (fn) => runPool(targets, CONCURRENCY, fn),
        fetchSnapshot: fetch,
        now: Date.now,
        sleep: async () => {},
        signal: new AbortController().signal,
        onCycle: () => {},
        onNote: () => {},
      },
    );
    const ms = cpuMs(started);
    if (report.ok !== targets.length) throw new Error(`replay cycle: ${report.ok}/${targets.length} ok`);
    return ms;
  } finally {
    store.close();
  }
}

interface SavedRecording {
  targets: Target[];
  replies: [string, string, boolean][];
  hints: [string, { hint: string; statics: string | null }][];
}

function saveRecording(file: string, recording: Recording): void {
  const replies = [...recording.replies].map(([key, r]): [string, string, boolean] => [
    key,
    Buffer.from(r.bytes).toString('base64'),
    r.terminated,
  ]);
  const saved: SavedRecording = { targets: recording.targets, replies, hints: [...recording.hints] };
  writeFileSync(file, JSON.stringify(saved));
}

function loadRecording(file: string): Recording {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedRecording;
  const replies = new Map(
    saved.replies.map(([key, bytes, terminated]): [string, ExchangeResult] => [
      key,
      { bytes: new Uint8Array(Buffer.from(bytes, 'base64')), terminated },
    ]),
  );
  return { targets: saved.targets, replies, hints: new Map(saved.hints) };
}

/** --fresh: each cycle in a new process of this script (same loader flags), its CPU as it reports it. */
function freshCycles(file: string, work: string): number[] {
  const out: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const child = spawnSync(
      process.execPath,
      [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        '--replay-only',
        file,
        '--miners',
        String(miners),
      ],
      { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const ms = Number(child.stdout.trim());
    if (child.status !== 0 || !Number.isFinite(ms)) throw new Error(`fresh round ${round + 1} failed`);
    process.stderr.write(`  fresh round ${round + 1}: cycle ${ms.toFixed(0)} ms CPU\n`);
    out.push(ms);
  }
  return out;
}

/** The result line (JSON on stdout): the run's settings, the median cycle CPU, and `extra`. */
function report(requests: number, cycleMs: number, extra: Record<string, number>): void {
  const line = {
    miners,
    rounds,
    warm,
    fresh,
    requests_per_miner: Number((requests / miners).toFixed(2)),
    cycle_cpu_ms: Math.round(cycleMs),
    cycle_us_per_miner: Math.round((cycleMs * 1000) / miners),
    ...extra,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  // The profile is of an in-process round; --fresh rounds run in children of their own.
  if (fresh && profileDir)
    throw new Error('--cpu-prof profiles the in-process rounds: use it without --fresh');
  const work = mkdtempSync(join(tmpdir(), 'hashctl-cpu-replay-'));
  try {
    process.stderr.write(`recording one cycle of ${miners} simulated miners\n`);
    const { targets, replies, hints } = await record(work);
    process.stderr.write(`${replies.size} replies recorded\n`);
    if (fresh) {
      const file = join(work, 'recording.json');
      saveRecording(file, { targets, replies, hints });
      report(replies.size, median(freshCycles(file, work)), {});
      return;
    }
    const session = profileDir || heapDir ? new Session() : null;
    if (session) {
      session.connect();
      await session.post(heapDir ? 'HeapProfiler.enable' : 'Profiler.enable');
    }
    const pollMs: number[] = [];
    const cycleMs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      if (session && round === rounds - 1) {
        if (heapDir)
          await session.post('HeapProfiler.startSampling', {
            samplingInterval: 4096,
            includeObjectsCollectedByMajorGC: true,
            includeObjectsCollectedByMinorGC: true,
          });
        else await session.post('Profiler.start');
      }
      // Polling alone: client, decode, detect, normalize, pollOne.
      const client = replayClient(replies);
      const cache = cacheFor(hints);
      const fetch = async (t: Target) => (await fetchSnapshot(client, t, { cache })).snapshot;
      const started = process.cpuUsage();
      for await (const outcome of runPool(targets, CONCURRENCY, (t) => pollOne(t, fetch, Date.now))) {
        if (!outcome.ok) throw new Error(`replay: ${outcome.target.key}: ${outcome.error.message}`);
      }
      pollMs.push(cpuMs(started));
      // The whole cycle as collect --once runs it, into a fresh database.
      cycleMs.push(await replayCycle(targets, replies, hints, join(work, `round-${round}.db`)));
      process.stderr.write(
        `  round ${round + 1}: poll ${pollMs.at(-1)!.toFixed(0)} ms CPU, cycle ${cycleMs.at(-1)!.toFixed(0)} ms CPU\n`,
      );
    }
    if (session && heapDir) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      mkdirSync(heapDir, { recursive: true });
      const file = join(heapDir, `cpu-replay-${Date.now()}.heapprofile`);
      writeFileSync(file, JSON.stringify(profile));
      process.stderr.write(`allocations of the last round: ${file}\n`);
      session.disconnect();
    } else if (session) {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(profileDir, { recursive: true });
      const file = join(profileDir, `cpu-replay-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      process.stderr.write(`profile of the last round: ${file}\n`);
      session.disconnect();
    }
    const poll = median(pollMs);
    const cycle = median(cycleMs);
    report(replies.size, cycle, {
      poll_cpu_ms: Math.round(poll),
      poll_us_per_miner: Math.round((poll * 1000) / miners),
      store_us_per_miner: Math.round(((cycle - poll) * 1000) / miners),
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function replayOnce(file: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'hashctl-cpu-replay-once-'));
  try {
    const { targets, replies, hints } = loadRecording(file);
    process.stdout.write(
      `${(await replayCycle(targets, replies, hints, join(work, 'cycle.db'))).toFixed(0)}\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

(replayOnly ? replayOnce(replayOnly) : main()).catch((error: unknown) => {
  process.stderr.write(`cpu-replay: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
