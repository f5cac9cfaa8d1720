// Collection benchmark (hashctl.md §10). Run: npx tsx bench/collect.ts [--quick]
//  1. `hashctl collect --once` on N simulated miners (100 ms latency, simulator in its own process)
//     against a bare node:net loop sending the very same requests at the same concurrency (the
//     transport ceiling), whole processes, alternated, several rounds; the same again warm (each
//     round on a copy of a database that already holds a cycle, as cron runs it: every miner's
//     dialect stored, so collect asks only its plan); and once against the seed design (20 worker
//     threads, one blocking connection per command).
//  2. One cycle on 10,000 miners: time and peak RSS.
//  3. History bytes per miner-cycle on disk (table and its indexes).
//  4. `live` / `history` latency on a generated database of 30 days × 1,000 miners at 1-minute cycles.
// Writes bench/results/collect-<time>.json; benchCollect() returns the same object to bench/run.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HISTORY_MINER_INDEX_SQL } from '../src/store/migrations/0007-history-series-index.js';
import { HOUR_MS, openStore, writeCycle } from '../src/store/index.js';
import type { MinerOutcome } from '../src/store/index.js';
import { benchSnapshot } from './lib/snapshot.js';
import { median, ratio } from './lib/stats.js';
import type { BenchOutcome, BenchResult } from './lib/types.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'hashctl');

export interface BenchCollectOptions {
  miners: number;
  latencyMs: number;
  concurrency: number;
  rounds: number;
  /** Rounds of the seed design (slow: 20 connections at a time). 0 skips it. */
  seedRounds: number;
  bigMiners: number;
  historyDays: number;
  historyMiners: number;
  /** Where the JSON goes (null: not written). */
  outDir: string | null;
  log: (line: string) => void;
}

export const DEFAULT_OPTIONS: BenchCollectOptions = {
  miners: 5000,
  latencyMs: 100,
  concurrency: 1000,
  rounds: 3,
  seedRounds: 1,
  bigMiners: 10_000,
  historyDays: 30,
  historyMiners: 1000,
  outDir: join(root, 'bench', 'results'),
  log: (line) => process.stderr.write(`${line}\n`),
};

export const QUICK_OPTIONS: Partial<BenchCollectOptions> = {
  miners: 500,
  rounds: 2,
  bigMiners: 1000,
  historyDays: 2,
  historyMiners: 100,
};

export interface CollectBenchReport {
  bench: 'collect';
  at: string;
  node: string;
  cpus: number;
  options: Omit<BenchCollectOptions, 'log' | 'outDir'>;
  collect_vs_net: {
    requests_per_miner: number;
    collect_ms: number[];
    net_ms: number[];
    collect_cycle_ms: number[];
    collect_median_ms: number;
    net_median_ms: number;
    ratio: number | null;
    collect_ok: number;
    collect_peak_rss_mb: number | null;
    net_peak_rss_mb: number | null;
  };
  warm_vs_net: {
    requests_per_miner: number;
    collect_ms: number[];
    net_ms: number[];
    collect_median_ms: number;
    net_median_ms: number;
    ratio: number | null;
  };
  seed_baseline: { ms: number[]; median_ms: number; collect_speedup: number | null } | null;
  big_farm: { miners: number; wall_ms: number; cycle_ms: number; ok: number; peak_rss_mb: number | null };
  history_bytes: { per_miner_cycle: number; file_per_miner_cycle: number; rows: number };
  read_latency: {
    days: number;
    miners: number;
    rows: number;
    generate_ms: number;
    file_mb: number;
    /** Whole process (wallMs) and the command's own work as --debug reports it (ownMs). */
    live_ms: ReadTiming;
    history_24h_ms: ReadTiming;
    history_24h_mid_file_ms: ReadTiming;
    history_all_ms: ReadTiming;
    node_e0_ms: number;
  };
  results: BenchOutcome[];
}

interface ReadTiming {
  wallMs: number;
  ownMs: number | null;
}

// ---------------------------------------------------------------- processes

const RSS_PRELOAD = `process.on('exit', () => { try { require('fs').writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)); } catch {} });\n`;

interface Timed {
  code: number | null;
  wallMs: number;
  stdout: string;
  stderr: string;
  peakRssMb: number | null;
}

function run(args: string[], work: string, env: Record<string, string> = {}): Promise<Timed> {
  const rssFile = join(work, `rss-${process.hrtime.bigint()}`);
  const started = performance.now();
  const child = spawn(process.execPath, ['--require', join(work, 'rss-preload.cjs'), ...args], {
    env: { ...process.env, ...env, BENCH_RSS_FILE: rssFile, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const wallMs = performance.now() - started;
      let peakRssMb: number | null = null;
      if (existsSync(rssFile)) {
        peakRssMb = Math.round(Number(readFileSync(rssFile, 'utf8')) / 1024);
        rmSync(rssFile, { force: true });
      }
      resolve({ code, wallMs, stdout, stderr, peakRssMb });
    });
  });
}

interface Simulator {
  inventoryFile: string;
  targets: string[];
  stop(): Promise<void>;
}

async function startSimulator(
  count: number,
  latencyMs: number,
  work: string,
  logFile?: string,
): Promise<Simulator> {
  const inventoryFile = join(work, `inventory-${count}-${latencyMs}.txt`);
  rmSync(inventoryFile, { force: true });
  const args = [
    bin,
    'simulate',
    '--profile',
    'mix',
    '--count',
    String(count),
    '--base-port',
    '0',
    '--seed',
    '11',
  ];
  if (latencyMs > 0) args.push('--faults', `latency=${latencyMs}ms`);
  if (logFile) args.push('--log', logFile);
  args.push('--inventory', inventoryFile, '--quiet');
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`simulator exited (${child.exitCode})`);
    if (existsSync(inventoryFile)) {
      const targets = readFileSync(inventoryFile, 'utf8').split('\n').filter(Boolean);
      if (targets.length === count) return { inventoryFile, targets, stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`simulator of ${count} miners did not start in 120 s`);
}

// ---------------------------------------------------------------- baselines

/** The bare loop: per miner, the same requests collect sent, each on its own connection, no parsing. */
const NET_LOOP = `
const net = require('node:net');
const fs = require('node:fs');
const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const concurrency = Number(process.argv[3]);
function request(host, port, payload) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let ok = false;
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk) => { ok = true; if (chunk.includes(0)) socket.destroy(); });
    socket.on('error', () => {});
    socket.on('close', () => resolve(ok));
  });
}
let next = 0, ok = 0, failed = 0;
async function worker() {
  while (next < plan.length) {
    const miner = plan[next++];
    let good = true;
    for (const payload of miner.payloads) good = (await request(miner.host, miner.port, payload)) && good;
    if (good) ok++; else failed++;
  }
}
Promise.all(Array.from({ length: concurrency }, worker)).then(() => process.stdout.write(JSON.stringify({ ok, failed }) + '\\n'));
`;

/** The seed design: 20 worker threads, each polling its share one miner and one command at a time. */
const SEED_DESIGN = `
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const fs = require('node:fs');
if (isMainThread) {
  const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const threads = 20;
  let ok = 0, failed = 0, done = 0;
  for (let t = 0; t < threads; t++) {
    const worker = new Worker(__filename, { workerData: plan.filter((_, i) => i % threads === t) });
    worker.on('message', (m) => { ok += m.ok; failed += m.failed; if (++done === threads) process.stdout.write(JSON.stringify({ ok, failed }) + '\\n'); });
  }
} else {
  const request = (host, port, command) => new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const chunks = [];
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('connect', () => socket.write(JSON.stringify({ command })));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8').replace(/\\0+$/, '');
      try { JSON.parse(text); resolve(true); } catch { resolve(text.length > 0); }
    });
  });
  (async () => {
    let ok = 0, failed = 0;
    for (const miner of workerData) {
      let good = true;
      for (const command of miner.commands) good = (await request(miner.host, miner.port, command)) && good;
      if (good) ok++; else failed++;
    }
    parentPort.postMessage({ ok, failed });
  })();
}
`;

interface PlanEntry {
  host: string;
  port: number;
  payloads: string[];
  /** Single commands, a joined `a+b` split (the seed design sent one command per connection). */
  commands: string[];
}

/**
 * What collect sent to each miner, read from the simulator's command log of a calibration run. The
 * calibration farm has the same seed and size, so miner i has the same profile in both; its ports
 * differ, hence the mapping by position in the inventory.
 */
function planFromLog(
  lines: string[],
  calibrationTargets: string[],
  targets: string[],
): { plan: PlanEntry[]; requestsPerMiner: number } {
  const byTarget = new Map<string, { command: string; parameter: string | null }[]>();
  for (const line of lines) {
    if (!line) continue;
    const entry = JSON.parse(line) as { target: string; command: string; parameter: string | null };
    const list = byTarget.get(entry.target) ?? [];
    list.push({ command: entry.command, parameter: entry.parameter });
    byTarget.set(entry.target, list);
  }
  let requests = 0;
  const plan = targets.map((key, index) => {
    const at = key.lastIndexOf(':');
    const sent = byTarget.get(calibrationTargets[index] ?? '');
    if (!sent) throw new Error(`the calibration log has no request for miner ${index}`);
    requests += sent.length;
    return {
      host: key.slice(0, at),
      port: Number(key.slice(at + 1)),
      payloads: sent.map((r) => JSON.stringify(r.parameter === null ? { command: r.command } : r)),
      commands: [...new Set(sent.flatMap((r) => r.command.split('+')))],
    };
  });
  return { plan, requestsPerMiner: requests / targets.length };
}

/** The simulator's log once it stops growing (it is written as requests arrive). */
async function settledLog(file: string): Promise<string[]> {
  let size = -1;
  for (let i = 0; i < 50; i++) {
    const now = existsSync(file) ? statSync(file).size : 0;
    if (now === size) break;
    size = now;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

// ---------------------------------------------------------------- history database

function generateHistoryDb(file: string, miners: number, days: number): { rows: number; ms: number } {
  const started = performance.now();
  const store = openStore(file);
  try {
    const now = Date.now();
    const cycles = days * 24 * 60;
    const first = now - cycles * 60_000;
    // One real cycle for the inventory and the live rows, then raw history rows behind it.
    const outcomes: MinerOutcome[] = Array.from({ length: miners }, (_, i) => ({
      target: {
        host: `10.${(i >> 8) & 255}.${i & 255}.1`,
        port: 4028,
        key: `10.${(i >> 8) & 255}.${i & 255}.1:4028`,
      },
      ok: true,
      elapsedMs: 40,
      snapshot: benchSnapshot(i),
    }));
    const { siteId } = writeCycle(store, { site: 'default', startedAt: now, endedAt: now + 500, outcomes });
    const db = store.db;
    db.pragma('synchronous = OFF');
    // Bulk load without the two indexes, then build them once (a sort instead of random inserts).
    db.exec('DROP INDEX telemetry_history_miner_ts; DROP INDEX telemetry_history_site_ts;');
    const insert = db.prepare(
      `INSERT INTO telemetry_history (run_id, miner_id, site_id, ts, hashrate_hs, temp_chip_max_c, temp_board_max_c,
         fan_min_rpm, boards_ok, boards_total, chips, chips_expected, power_w, accepted, rejected, error_kind)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 3, 3, 378, 378, ?, ?, 0, NULL)`,
    );
    const insertRun = db.prepare(
      'INSERT INTO collection_runs (site_id, started_at, ended_at, polled, ok, failed) VALUES (?, ?, ?, ?, ?, 0)',
    );
    const load = db.transaction((from: number, to: number) => {
      for (let c = from; c < to; c++) {
        const ts = first + c * 60_000;
        const runId = Number(insertRun.run(siteId, ts, ts + 900, miners, miners).lastInsertRowid);
        for (let m = 1; m <= miners; m++) {
          const wobble = ((c * 31 + m * 17) % 200) / 100;
          insert.run(
            runId,
            m,
            siteId,
            ts,
            100e12 + wobble * 1e12,
            70 + wobble * 5,
            58 + wobble,
            4800 + ((c + m) % 400),
            3000 + wobble * 50,
            c * 3,
          );
        }
      }
    });
    const chunk = Math.max(1, Math.floor(200_000 / miners));
    for (let c = 0; c < cycles; c += chunk) load(c, Math.min(cycles, c + chunk));
    db.exec(`${HISTORY_MINER_INDEX_SQL};
             CREATE INDEX telemetry_history_site_ts ON telemetry_history (site_id, ts);`);
    // As maintenance would leave it: everything rolled up to the current hour.
    db.prepare("INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?), ('maintenance_hour', ?)").run(
      `rollup_through:${siteId}`,
      String(Math.floor(now / HOUR_MS) * HOUR_MS),
      String(Math.floor(now / HOUR_MS) * HOUR_MS),
    );
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { rows: cycles * miners, ms: performance.now() - started };
  } finally {
    store.close();
  }
}

function historyBytes(file: string): { perRow: number; rows: number } {
  const store = openStore(file);
  try {
    const rows = store.db.prepare('SELECT count(*) FROM telemetry_history').pluck().get() as number;
    const bytes = store.db
      .prepare(
        "SELECT sum(pgsize) FROM dbstat WHERE name IN ('telemetry_history', 'telemetry_history_miner_ts', 'telemetry_history_site_ts')",
      )
      .pluck()
      .get() as number;
    return { perRow: rows === 0 ? 0 : bytes / rows, rows };
  } finally {
    store.close();
  }
}

// ---------------------------------------------------------------- the benchmark

function parseCycle(stdout: string): {
  run_id: number;
  polled: number;
  ok: number;
  failed: number;
  duration_ms: number;
} {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`collect printed no summary: ${stdout.slice(0, 200)}`);
  }
}

export async function benchCollect(
  overrides: Partial<BenchCollectOptions> = {},
): Promise<CollectBenchReport> {
  const options: BenchCollectOptions = { ...DEFAULT_OPTIONS, ...overrides };
  const { log } = options;
  if (!existsSync(join(root, 'dist', 'hashctl.cjs')))
    throw new Error('dist/hashctl.cjs is missing: run `npm run build` first');
  const work = mkdtempSync(join(tmpdir(), 'hashctl-bench-collect-'));
  writeFileSync(join(work, 'rss-preload.cjs'), RSS_PRELOAD);
  writeFileSync(join(work, 'net-loop.cjs'), NET_LOOP);
  writeFileSync(join(work, 'seed-design.cjs'), SEED_DESIGN);
  const collectArgs = (inventory: string, db: string) => [
    bin,
    'collect',
    '--targets',
    `@${inventory}`,
    '--db',
    db,
    '--once',
    '--json',
    '--quiet',
    '--concurrency',
    String(options.concurrency),
  ];
  try {
    // Calibration: which requests collect sends to each miner (from the simulator's log), on a
    // first run (empty database: first contact) and on the run after it (cron's usual case: each
    // miner's dialect already stored).
    log(`calibrating: the requests collect sends to ${options.miners} miners, cold and warm`);
    const logFile = join(work, 'calibration.ndjson');
    const calibration = await startSimulator(options.miners, 0, work, logFile);
    const calibrationTargets = calibration.targets;
    let coldLines: string[];
    let warmLines: string[];
    try {
      const calibrationDb = join(work, 'calibration.db');
      const first = await run(collectArgs(calibration.inventoryFile, calibrationDb), work);
      if (first.code !== 0)
        throw new Error(`calibration collect failed (${first.code}): ${first.stderr.trim()}`);
      coldLines = await settledLog(logFile);
      const second = await run(collectArgs(calibration.inventoryFile, calibrationDb), work);
      if (second.code !== 0)
        throw new Error(`calibration collect failed (${second.code}): ${second.stderr.trim()}`);
      warmLines = (await settledLog(logFile)).slice(coldLines.length);
    } finally {
      await calibration.stop();
    }

    // 1. collect against the bare loop, alternated, on a farm with latency.
    const sim = await startSimulator(options.miners, options.latencyMs, work);
    const { plan, requestsPerMiner } = planFromLog(coldLines, calibrationTargets, sim.targets);
    const planFile = join(work, 'plan.json');
    writeFileSync(planFile, JSON.stringify(plan));
    const warm = planFromLog(warmLines, calibrationTargets, sim.targets);
    const warmPlanFile = join(work, 'plan-warm.json');
    writeFileSync(warmPlanFile, JSON.stringify(warm.plan));
    const warmMs: number[] = [];
    const warmNetMs: number[] = [];
    const collectMs: number[] = [];
    const cycleMs: number[] = [];
    const netMs: number[] = [];
    let collectOk = 0;
    let collectRss: number | null = null;
    let netRss: number | null = null;
    const seedMs: number[] = [];
    try {
      for (let round = 0; round < options.rounds; round++) {
        const order = round % 2 === 0 ? ['collect', 'net'] : ['net', 'collect'];
        for (const which of order) {
          if (which === 'collect') {
            const result = await run(collectArgs(sim.inventoryFile, join(work, `round-${round}.db`)), work);
            if (result.code !== 0)
              throw new Error(`collect failed (${result.code}): ${result.stderr.trim()}`);
            const cycle = parseCycle(result.stdout);
            collectMs.push(result.wallMs);
            cycleMs.push(cycle.duration_ms);
            collectOk = cycle.ok;
            collectRss = Math.max(collectRss ?? 0, result.peakRssMb ?? 0);
          } else {
            const result = await run(
              [join(work, 'net-loop.cjs'), planFile, String(options.concurrency)],
              work,
            );
            if (result.code !== 0)
              throw new Error(`net loop failed (${result.code}): ${result.stderr.trim()}`);
            netMs.push(result.wallMs);
            netRss = Math.max(netRss ?? 0, result.peakRssMb ?? 0);
          }
          log(
            `  round ${round + 1}/${options.rounds} ${which}: ${Math.round((which === 'collect' ? collectMs : netMs).at(-1)!)} ms`,
          );
        }
      }
      // Warm: the same farm, each round on a copy of the database the first cold round left
      // (dialects stored), against the bare loop sending what a warm run sends.
      for (let round = 0; round < options.rounds; round++) {
        const order = round % 2 === 0 ? ['collect', 'net'] : ['net', 'collect'];
        for (const which of order) {
          if (which === 'collect') {
            const db = join(work, `warm-${round}.db`);
            copyFileSync(join(work, 'round-0.db'), db);
            const result = await run(collectArgs(sim.inventoryFile, db), work);
            if (result.code !== 0)
              throw new Error(`warm collect failed (${result.code}): ${result.stderr.trim()}`);
            warmMs.push(result.wallMs);
          } else {
            const result = await run(
              [join(work, 'net-loop.cjs'), warmPlanFile, String(options.concurrency)],
              work,
            );
            if (result.code !== 0)
              throw new Error(`net loop failed (${result.code}): ${result.stderr.trim()}`);
            warmNetMs.push(result.wallMs);
          }
          log(
            `  warm round ${round + 1}/${options.rounds} ${which}: ${Math.round((which === 'collect' ? warmMs : warmNetMs).at(-1)!)} ms`,
          );
        }
      }
      for (let round = 0; round < options.seedRounds; round++) {
        log(
          `  seed design (20 threads, one connection per command), round ${round + 1}/${options.seedRounds}`,
        );
        const result = await run([join(work, 'seed-design.cjs'), planFile], work);
        if (result.code !== 0)
          throw new Error(`seed design failed (${result.code}): ${result.stderr.trim()}`);
        seedMs.push(result.wallMs);
      }
    } finally {
      await sim.stop();
    }
    const history = historyBytes(join(work, 'round-0.db'));
    const roundDbSize = statSync(join(work, 'round-0.db')).size;

    // 2. One cycle on the big farm.
    log(`one cycle on ${options.bigMiners} miners`);
    const big = await startSimulator(options.bigMiners, options.latencyMs, work);
    let bigRun: Timed;
    try {
      bigRun = await run(collectArgs(big.inventoryFile, join(work, 'big.db')), work);
      if (bigRun.code !== 0)
        throw new Error(`collect on the big farm failed (${bigRun.code}): ${bigRun.stderr.trim()}`);
    } finally {
      await big.stop();
    }
    const bigCycle = parseCycle(bigRun.stdout);

    // 4. Reads on a month of history.
    log(`generating ${options.historyDays} days × ${options.historyMiners} miners of history`);
    const historyDb = join(work, 'month.db');
    const generated = generateHistoryDb(historyDb, options.historyMiners, options.historyDays);
    const readRounds = 5;
    /** Whole-process wall time, and the command's own (--debug says it: after Node and the bundle load). */
    const timeCommand = async (args: string[]): Promise<ReadTiming> => {
      const walls: number[] = [];
      const owns: number[] = [];
      for (let i = 0; i < readRounds; i++) {
        const result = await run([bin, ...args, '--db', historyDb, '--debug'], work);
        if (result.code !== 0) throw new Error(`${args[0]} failed (${result.code}): ${result.stderr.trim()}`);
        walls.push(result.wallMs);
        const own = /the command took (\d+) ms/.exec(result.stderr);
        if (own) owns.push(Number(own[1]));
      }
      return { wallMs: median(walls), ownMs: owns.length > 0 ? median(owns) : null };
    };
    const nodeE0: number[] = [];
    for (let i = 0; i < readRounds; i++) nodeE0.push((await run(['-e', '0'], work)).wallMs);
    const liveMs = await timeCommand(['live', '--json']);
    const history24h = await timeCommand(['history', '10.0.0.1:4028', '--since', '24h', '--json']);
    // A miner in the middle of the file, whose pages the day before did not touch.
    const historyMid = await timeCommand([
      'history',
      `10.${(options.historyMiners >> 9) & 255}.${(options.historyMiners >> 1) & 255}.1:4028`,
      '--since',
      '24h',
      '--json',
    ]);
    const historyAll = await timeCommand(['history', '10.0.0.1:4028', '--since', `${options.historyDays}d`]);
    const fileMb = statSync(historyDb).size / 2 ** 20;

    /** A whole-process read time against `node -e 0` started the same way. */
    const readResult = (subject: string, timed: ReadTiming): BenchResult => ({
      bench: 'collect',
      subject,
      value: timed.wallMs,
      unit: 'ms',
      better: 'lower',
      baseline: { subject: 'node -e 0', value: median(nodeE0) },
      ratio: ratio(timed.wallMs, median(nodeE0)),
      samples: readRounds,
      notes: `whole process; the command's own work ${timed.ownMs ?? '?'} ms`,
    });
    const collectMedian = median(collectMs);
    const netMedian = median(netMs);
    const seedMedian = seedMs.length > 0 ? median(seedMs) : null;
    const note = `${options.miners} miners, ${options.latencyMs} ms latency, concurrency ${options.concurrency}, ${requestsPerMiner.toFixed(2)} requests/miner`;
    const results: BenchOutcome[] = [
      {
        bench: 'collect',
        subject: `hashctl collect --once (${options.miners} miners)`,
        value: collectMedian,
        unit: 'ms',
        better: 'lower',
        baseline: { subject: 'bare node:net loop, same requests', value: netMedian },
        ratio: ratio(collectMedian, netMedian),
        samples: collectMs.length,
        notes: note,
      } satisfies BenchResult,
    ];
    const warmMedian = median(warmMs);
    const warmNetMedian = median(warmNetMs);
    results.push({
      bench: 'collect',
      subject: `hashctl collect --once, warm (${options.miners} miners, dialects and static replies stored by the run before)`,
      value: warmMedian,
      unit: 'ms',
      better: 'lower',
      baseline: { subject: 'bare node:net loop, same requests', value: warmNetMedian },
      ratio: ratio(warmMedian, warmNetMedian),
      samples: warmMs.length,
      notes: `${options.miners} miners, ${options.latencyMs} ms latency, concurrency ${options.concurrency}, ${warm.requestsPerMiner.toFixed(2)} requests/miner`,
    } satisfies BenchResult);
    if (seedMedian !== null) {
      results.push({
        bench: 'collect',
        subject: `hashctl collect --once (${options.miners} miners)`,
        value: collectMedian,
        unit: 'ms',
        better: 'lower',
        baseline: { subject: 'seed design: 20 threads, one connection per command', value: seedMedian },
        ratio: ratio(collectMedian, seedMedian),
        samples: collectMs.length,
        notes: note,
      });
    }
    results.push(
      {
        bench: 'collect',
        subject: `collect --once cycle on ${options.bigMiners} miners`,
        value: bigRun.wallMs,
        unit: 'ms',
        better: 'lower',
        baseline: null,
        ratio: null,
        samples: 1,
        notes: `peak RSS ${bigRun.peakRssMb ?? '?'} MiB, ${bigCycle.ok}/${bigCycle.polled} ok, cycle ${bigCycle.duration_ms} ms`,
      },
      {
        bench: 'collect',
        subject: 'history bytes per miner-cycle (table + indexes)',
        value: history.perRow,
        unit: 'bytes',
        better: 'lower',
        baseline: null,
        ratio: null,
        samples: history.rows,
        notes: `whole file ${(roundDbSize / history.rows).toFixed(0)} bytes per miner-cycle after one cycle (live snapshots included)`,
      },
      readResult(`hashctl live --json (${options.historyMiners} miners, ${options.historyDays} d)`, liveMs),
      readResult(`hashctl history --since 24h (${generated.rows} rows)`, history24h),
      readResult('hashctl history --since 24h, a miner mid-file', historyMid),
      readResult(`hashctl history --since ${options.historyDays}d, chart`, historyAll),
    );
    const { log: _log, outDir: _out, ...shown } = options;
    const report: CollectBenchReport = {
      bench: 'collect',
      at: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      options: shown,
      collect_vs_net: {
        requests_per_miner: requestsPerMiner,
        collect_ms: collectMs,
        net_ms: netMs,
        collect_cycle_ms: cycleMs,
        collect_median_ms: collectMedian,
        net_median_ms: netMedian,
        ratio: ratio(collectMedian, netMedian),
        collect_ok: collectOk,
        collect_peak_rss_mb: collectRss,
        net_peak_rss_mb: netRss,
      },
      warm_vs_net: {
        requests_per_miner: warm.requestsPerMiner,
        collect_ms: warmMs,
        net_ms: warmNetMs,
        collect_median_ms: warmMedian,
        net_median_ms: warmNetMedian,
        ratio: ratio(warmMedian, warmNetMedian),
      },
      seed_baseline:
        seedMedian === null
          ? null
          : { ms: seedMs, median_ms: seedMedian, collect_speedup: ratio(seedMedian, collectMedian) },
      big_farm: {
        miners: options.bigMiners,
        wall_ms: bigRun.wallMs,
        cycle_ms: bigCycle.duration_ms,
        ok: bigCycle.ok,
        peak_rss_mb: bigRun.peakRssMb,
      },
      history_bytes: {
        per_miner_cycle: history.perRow,
        file_per_miner_cycle: roundDbSize / history.rows,
        rows: history.rows,
      },
      read_latency: {
        days: options.historyDays,
        miners: options.historyMiners,
        rows: generated.rows,
        generate_ms: generated.ms,
        file_mb: fileMb,
        live_ms: liveMs,
        history_24h_ms: history24h,
        history_24h_mid_file_ms: historyMid,
        history_all_ms: historyAll,
        node_e0_ms: median(nodeE0),
      },
      results,
    };
    if (options.outDir !== null) {
      mkdirSync(options.outDir, { recursive: true });
      const file = join(options.outDir, `collect-${report.at.replace(/[:.]/g, '-')}.json`);
      writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
      log(`wrote ${file}`);
    }
    return report;
  } finally {
    rmSync(work, { recursive: true, force: true, maxRetries: 3 });
  }
}

function printTable(report: CollectBenchReport): void {
  const rows = report.results.map((r) =>
    'skipped' in r
      ? [r.bench, r.skipped, '', '', '']
      : [
          r.subject,
          `${r.value.toFixed(r.unit === 'ms' ? 0 : 1)} ${r.unit}`,
          r.baseline ? `${r.baseline.subject}: ${r.baseline.value.toFixed(0)} ${r.unit}` : '-',
          r.ratio === null ? '-' : `×${r.ratio.toFixed(2)}`,
          r.notes ?? '',
        ],
  );
  process.stdout.write(`${['subject', 'value', 'baseline', 'ratio', 'notes'].join('\t')}\n`);
  for (const row of rows) process.stdout.write(`${row.join('\t')}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes('--quick');
  benchCollect(quick ? QUICK_OPTIONS : {}).then(printTable, (error: unknown) => {
    process.stderr.write(`bench collect: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
