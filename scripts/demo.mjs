#!/usr/bin/env node
// `npm run demo`: a simulated farm of a few dozen mixed miners in a child process, a few collection
// cycles into a temporary SQLite file, then `hashctl live`. Everything it starts, it stops; the
// temporary directory is removed at the end (also on Ctrl-C).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'hashctl');
const MINERS = 36;
const CYCLES = 3;
const SIM_START_TIMEOUT_MS = 30_000;

function say(text) {
  process.stderr.write(`\n\x1b[1m== ${text}\x1b[0m\n`);
}

function hashctl(args, { table = false } = {}) {
  // The demo is for people: show the tables even when its output is piped.
  const env = table ? { ...process.env, HASHCTL_FORMAT: 'table' } : process.env;
  const result = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit', env });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

async function waitForInventory(file, simulator) {
  const deadline = Date.now() + SIM_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (simulator.exitCode !== null)
      throw new Error(`the simulator exited early (code ${simulator.exitCode})`);
    if (existsSync(file)) {
      const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      if (lines.length === MINERS) return lines;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the simulator did not start in 30 s');
}

function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function main() {
  if (!existsSync(join(root, 'dist', 'hashctl.cjs'))) {
    say('building hashctl');
    const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
    if (build.status !== 0) return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hashctl-demo-'));
  const inventory = join(dir, 'inventory.txt');
  const db = join(dir, 'demo.db');
  let simulator = null;
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    say(`starting a simulated farm of ${MINERS} mixed miners on 127.0.0.1`);
    // A few dead boards, a worn fan and 5% of miners slow to answer: a farm as it really looks.
    simulator = spawn(
      process.execPath,
      [
        bin,
        'simulate',
        '--profile',
        'mix',
        '--count',
        String(MINERS),
        '--base-port',
        '0',
        '--seed',
        '7',
        '--dead-boards',
        '8%',
        '--failed-fans',
        '5%',
        '--faults',
        'latency=40ms,jitter=20ms,timeout=3%',
        '--inventory',
        inventory,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const targets = await waitForInventory(inventory, simulator);
    for (let cycle = 1; cycle <= CYCLES && !interrupted; cycle++) {
      say(`collect cycle ${cycle} of ${CYCLES}: hashctl collect --targets @inventory --db ${db} --once`);
      const code = hashctl([
        'collect',
        '--targets',
        `@${inventory}`,
        '--db',
        db,
        '--once',
        '--timeout',
        '1s',
        '--retries',
        '1',
      ]);
      if (code !== 0 && code !== 1) return code;
      if (cycle < CYCLES) await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    if (interrupted) return 130;
    say(`hashctl live --db ${db}`);
    hashctl(['live', '--db', db], { table: true });
    say(`hashctl history ${targets[0]} --since 1h --db ${db}`);
    hashctl(['history', targets[0], '--since', '1h', '--db', db], { table: true });
    say(
      'next: try `hashctl live --problems --db <file>`, `hashctl export --format csv`, `hashctl collect --interval 60s`',
    );
    return 0;
  } finally {
    await stop(simulator);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
