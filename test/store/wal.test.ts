// The -wal file of a long-running collect: a reader holding its snapshot makes it grow; once the
// reader is gone it must come back down, not stay gigabytes for as long as the service runs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store, writeCycle } from '../../src/store/index.js';
import { okOutcome, tempDir } from './helpers.js';

/** What collect's connection cuts the -wal file back to (src/store/open.ts). */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

let dir: string;
let cleanup: () => void;
let file: string;
let store: Store;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  file = path.join(dir, 'hashctl.db');
  store = openStore(file);
});
afterEach(() => {
  store.close();
  cleanup();
});

describe('the WAL of a long-running collect', () => {
  it('is cut back once a reader that held its snapshot lets go', () => {
    const outcomes = Array.from({ length: 500 }, (_, i) => okOutcome(5000 + i));
    let t = Date.UTC(2025, 0, 1);
    const cycle = () => {
      writeCycle(store, { site: 'default', startedAt: t, endedAt: t + 1000, outcomes });
      t += 60_000;
    };
    const walBytes = () => fs.statSync(`${file}-wal`).size;
    cycle();
    // `hashctl export | less` left open: a read that has not finished holds its snapshot.
    const reader = openStore(file, { readonly: true });
    const rows = reader.db.prepare('SELECT ts FROM telemetry_history').iterate();
    expect(rows.next().done).toBe(false);
    for (let i = 0; i < 400 && walBytes() <= WAL_SIZE_LIMIT_BYTES; i++) cycle();
    const grown = walBytes();
    expect(grown).toBeGreaterThan(WAL_SIZE_LIMIT_BYTES);
    rows.return?.();
    reader.close();
    // The next cycles checkpoint the whole WAL and start it again from its beginning.
    for (let i = 0; i < 3; i++) cycle();
    expect(walBytes()).toBeLessThanOrEqual(WAL_SIZE_LIMIT_BYTES);
    // Nothing written while the reader held on was lost.
    expect(store.db.prepare('SELECT count(DISTINCT ts) FROM telemetry_history').pluck().get()).toBe(
      store.db.prepare('SELECT count(*) FROM collection_runs').pluck().get(),
    );
  });
});
