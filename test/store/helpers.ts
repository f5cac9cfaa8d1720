// Hand-built snapshots and temp databases for the store and collect tests.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Snapshot } from '../../src/miners/types.js';
import { type CommandResult, commandLogStatements } from '../../src/store/command-log.js';
import type { MinerOutcome } from '../../src/store/index.js';
import type { Db } from '../../src/store/types.js';
import { targetKey } from '../../src/targets/types.js';

export function tempDir(prefix = 'hashctl-store-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function makeSnapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    make: 'Antminer',
    model: 'S19j Pro',
    firmware: { name: 'bmminer', version: '1.0.0' },
    algorithm: 'sha256d',
    hashrate: { current_hs: 100e12, average_hs: 99e12, nominal_hs: 104e12 },
    uptime_s: 3600,
    accepted: 1000,
    rejected: 3,
    hw_errors: 0,
    boards: [0, 1, 2].map((index) => ({
      index,
      hashrate_hs: 33e12,
      chips: 126,
      chips_expected: 126,
      temp_board_c: 60 + index,
      temp_chip_c: 75 + index,
      frequency_mhz: 525,
      status: 'ok',
    })),
    fans: [
      { index: 0, rpm: 5400 },
      { index: 1, rpm: 5280 },
    ],
    temp_max_chip_c: 77,
    temp_max_board_c: 62,
    power_w: 3050,
    efficiency_j_per_th: 30.5,
    pools: [
      {
        index: 0,
        url: 'stratum+tcp://pool.example:3333',
        user: 'farm.worker1',
        status: 'Alive',
        priority: 0,
        active: true,
        accepted: 1000,
        rejected: 3,
      },
    ],
    errors: [],
    ...overrides,
  };
}

export function target(port: number, host = '127.0.0.1') {
  return { host, port, key: targetKey(host, port) };
}

export function okOutcome(port: number, overrides: Partial<Snapshot> = {}): MinerOutcome {
  return { target: target(port), ok: true, snapshot: makeSnapshot(overrides), elapsedMs: 12 };
}

export function failedOutcome(port: number, kind: 'timeout' | 'refused' = 'timeout'): MinerOutcome {
  return {
    target: target(port),
    ok: false,
    error: { kind, message: `${kind} talking to miner` },
    elapsedMs: 5000,
  };
}

/** One finished command in command_log, as `control` (source `cli`) or thermal protect writes it. */
export function recordCommand(
  db: Db,
  command: {
    ts: number;
    action: string;
    port: number;
    host?: string;
    source?: string;
    result?: Exclude<CommandResult, 'pending'>;
    finishedAt?: number;
  },
): void {
  const log = commandLogStatements(db);
  const id = log.begin({
    run_id: `${command.action}-${command.port}-${command.ts}`,
    ts: command.ts,
    actor: 'op',
    source: command.source ?? 'cli',
    action: command.action,
    host: command.host ?? '127.0.0.1',
    port: command.port,
    dialect: null,
    request: null,
  });
  log.finish(id, {
    result: command.result ?? 'verified',
    finished_at: command.finishedAt ?? command.ts + 1,
    error_kind: null,
    error_code: null,
    error_message: null,
    verification: null,
  });
}

/** A verified `control pause` of 127.0.0.1:PORT at `ts`, as command_log keeps it. */
export function recordPause(db: Db, port: number, ts: number): void {
  recordCommand(db, { ts, action: 'pause', port, finishedAt: ts });
}

/** SQLite's EXPLAIN QUERY PLAN of `sql` with `params`: its detail lines, one per line. */
export function queryPlan(db: Db, sql: string, ...params: unknown[]): string {
  return db
    .prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...params)
    .map((row) => (row as { detail: string }).detail)
    .join('\n');
}
