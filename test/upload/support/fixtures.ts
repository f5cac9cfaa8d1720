// Snapshots and outbox databases for the upload tests: real SQLite files in a temp dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from '../../../src/miners/types.js';
import { type Store, openStore } from '../../../src/store/index.js';
import { enqueueBatches } from '../../../src/store/outbox.js';
import {
  type BuildBatchesInput,
  type MinerReport,
  type PreparedBatch,
  buildBatches,
} from '../../../src/upload/batch.js';

export const KEY = 'hk_live_5ecr3t-Key-0f-the-c0llector';

export function snapshot(i: number): Snapshot {
  return {
    make: 'Antminer',
    model: 'S19j Pro',
    firmware: { name: 'bmminer', version: '1.0.0' },
    algorithm: 'sha256d',
    hashrate: { current_hs: 100e12 + i, average_hs: 99e12, nominal_hs: 104e12 },
    uptime_s: 3600 + i,
    accepted: 10,
    rejected: 0,
    hw_errors: 1,
    boards: [
      {
        index: 0,
        hashrate_hs: 33e12,
        chips: 126,
        chips_expected: 126,
        temp_board_c: 60,
        temp_chip_c: 75,
        frequency_mhz: 525,
        status: 'ok',
      },
    ],
    fans: [{ index: 0, rpm: 5400 }],
    temp_max_chip_c: 75,
    temp_max_board_c: 60,
    power_w: 3050,
    efficiency_j_per_th: 30.5,
    pools: [
      {
        index: 0,
        url: 'stratum+tcp://pool.example:3333',
        user: 'farm.w1',
        status: 'Alive',
        priority: 0,
        active: true,
        accepted: 10,
        rejected: 0,
      },
    ],
    errors: [],
  };
}

export function reports(count: number, start = 0): MinerReport[] {
  return Array.from({ length: count }, (_, k) => {
    const i = start + k;
    const base = {
      host: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      port: 4028,
      minerId: i + 1,
      collectedAt: 1_700_000_000_000 + i,
    };
    return i % 7 === 6
      ? { ...base, error: { kind: 'timeout', message: 'no reply within 5000 ms', attempts: 3 } }
      : { ...base, snapshot: snapshot(i) };
  });
}

export interface TempStore {
  dir: string;
  path: string;
  store: Store;
  close(): void;
}

export function tempStore(): TempStore {
  const dir = mkdtempSync(join(tmpdir(), 'hashctl-upload-'));
  const path = join(dir, 'hashctl.db');
  const store = openStore(path);
  return {
    dir,
    path,
    store,
    close: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Builds and enqueues one cycle's batches, as collect does; returns them. */
export function enqueueCycle(
  store: Store,
  input: Partial<BuildBatchesInput> & { miners: MinerReport[]; now: number },
): PreparedBatch[] {
  const batches = buildBatches({ siteId: 'farm-a', runId: null, ...input });
  store.transaction((db) => enqueueBatches(db, batches));
  return batches;
}
