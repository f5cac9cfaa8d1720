// A crash mid-cycle leaves the cycle wholly there or absent: a child process writes big cycles in
// a tight loop and is SIGKILLed at staggered moments; the file must pass integrity_check and every
// stored run must have exactly its miners.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-crash-'));
});
afterEach(() => cleanup());

const storeModule = path.resolve(__dirname, '../../src/store/index.ts');
const helpersModule = path.resolve(__dirname, './helpers.ts');
const MINERS = 1500;

/** Writes cycles forever; prints "cycle N" after each commit. */
function writerScript(dbPath: string): string {
  return `
    Promise.all([import(${JSON.stringify(storeModule)}), import(${JSON.stringify(helpersModule)})]).then(([store, helpers]) => {
      const db = store.openStore(${JSON.stringify(dbPath)});
      const outcomes = Array.from({ length: ${MINERS} }, (_, i) =>
        i % 7 === 0 ? helpers.failedOutcome(10000 + i) : helpers.okOutcome(10000 + i));
      for (let n = 0; ; n++) {
        store.writeCycle(db, { site: 'default', startedAt: 1e12 + n * 60000, endedAt: 1e12 + n * 60000 + 1, outcomes });
        process.stdout.write('cycle ' + n + '\\n');
      }
    });`;
}

async function killMidWrite(dbPath: string, afterCycles: number, extraDelayMs: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', writerScript(dbPath)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let committed = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (data: Buffer) => {
      committed += data
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('cycle')).length;
      if (committed >= afterCycles) resolve();
    });
    child.once('exit', () => reject(new Error('writer exited before it was killed')));
  });
  // Staggered so the kill lands at different points of the next transaction.
  await new Promise((resolve) => setTimeout(resolve, extraDelayMs));
  child.kill('SIGKILL');
  await exited;
  return committed;
}

describe('a cycle after a crash', () => {
  it('is wholly there or absent, whenever the writer dies', async () => {
    const dbPath = path.join(dir, 'crash.db');
    let lastCommitted = 0;
    for (const delay of [0, 7, 19]) {
      lastCommitted = await killMidWrite(dbPath, lastCommitted + 2, delay);
      const store = openStore(dbPath);
      try {
        expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
        const runs = store.db.prepare('SELECT id, polled, ok, failed FROM collection_runs').all() as {
          id: number;
          polled: number;
          ok: number;
          failed: number;
        }[];
        // At least every cycle the child reported as committed is there.
        expect(runs.length).toBeGreaterThanOrEqual(lastCommitted);
        lastCommitted = runs.length;
        const perRun = new Map(
          (
            store.db
              .prepare(
                'SELECT run_id, count(*) AS n, sum(error_kind IS NULL) AS ok FROM telemetry_history GROUP BY run_id',
              )
              .all() as { run_id: number; n: number; ok: number }[]
          ).map((r) => [r.run_id, r]),
        );
        // No history row without its run, and every run with all its miners.
        expect(perRun.size).toBe(runs.length);
        for (const run of runs) {
          expect(run.polled).toBe(MINERS);
          expect(perRun.get(run.id)).toEqual({ run_id: run.id, n: MINERS, ok: run.ok });
        }
        expect(store.db.prepare('SELECT count(*) FROM telemetry_live').pluck().get()).toBe(MINERS);
      } finally {
        store.close();
      }
    }
  });
});
