// `hashctl export | less` (or into a slow network pipe) on a big file takes minutes to hours, while
// collect goes on committing a cycle a minute. The export waits for its reader holding no read
// transaction: one held for the whole export kept every cycle's pages in the WAL (no checkpoint can
// pass an open reader), 4 MB a cycle at 500 miners, for as long as the reader took.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseExportOptions, runExport } from '../../src/commands/export.js';
import { parseGlobals } from '../../src/commands/shared.js';
import { memoryContext } from '../../src/context.js';
import { openStore, writeCycle } from '../../src/store/index.js';
import { okOutcome, tempDir } from '../store/helpers.js';

let cleanup: () => void;
let dbPath: string;
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

beforeEach(() => {
  const temp = tempDir('hashctl-export-wal-');
  cleanup = temp.cleanup;
  dbPath = path.join(temp.dir, 'farm.db');
});
afterEach(() => cleanup());

const outcomes = Array.from({ length: 400 }, (_, i) => okOutcome(6000 + i));

describe('hashctl export into a reader that stalls', () => {
  it('holds no read transaction while it waits: the collector checkpoints its WAL meanwhile', async () => {
    const collector = openStore(dbPath);
    try {
      for (let c = 0; c < 3; c++)
        writeCycle(collector, {
          site: 'bulk',
          startedAt: NOW - 600_000 + c * 60_000,
          endedAt: NOW,
          outcomes,
        });
      collector.db.pragma('busy_timeout = 0'); // a checkpoint that a reader blocks says so at once
      let text = '';
      let waits = 0;
      const checkpoints: { busy: number; log: number }[] = [];
      const stdout = {
        isTTY: false,
        write(chunk: string) {
          text += chunk;
          return false; // a full pipe: the export waits for 'drain' after every write
        },
        once(event: string, fn: () => void) {
          expect(event).toBe('drain');
          waits++;
          if (waits === 1) {
            // The reader is away: collect commits its next cycle and checkpoints the WAL.
            writeCycle(collector, { site: 'bulk', startedAt: NOW - 30_000, endedAt: NOW, outcomes });
            checkpoints.push(
              ...(collector.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number }[]),
            );
          }
          setImmediate(fn);
        },
      };
      const ctx = memoryContext({ now: () => NOW, stdout, env: {} });
      const globals = parseGlobals({}, ctx);
      const code = await runExport(
        await parseExportOptions({ db: dbPath, site: 'bulk', since: '1h' }, globals, ctx),
        globals,
        ctx,
      );
      expect(code).toBe(0);
      expect(waits).toBeGreaterThan(0);
      // Not blocked by the export, and the WAL reset to nothing.
      expect(checkpoints).toEqual([{ busy: 0, log: 0, checkpointed: 0 }]);
      expect(fs.statSync(`${dbPath}-wal`).size).toBe(0);
      // The export is still the file as it was when it began: three cycles, not the fourth.
      const lines = text.trimEnd().split('\n');
      expect(lines).toHaveLength(1 + 3 * 400);
      expect(lines.filter((line) => line.startsWith(new Date(NOW - 30_000).toISOString()))).toEqual([]);
    } finally {
      collector.close();
    }
  });

  it('exports every row once, oldest first, across the pieces it reads them in (whole cycles each)', async () => {
    const collector = openStore(dbPath);
    try {
      // 30 cycles × 400 miners: several pieces of 5,000 rows, each ending inside a cycle.
      for (let c = 0; c < 30; c++)
        writeCycle(collector, {
          site: 'bulk',
          startedAt: NOW - 1_800_000 + c * 60_000,
          endedAt: NOW,
          outcomes,
        });
    } finally {
      collector.close();
    }
    const ctx = memoryContext({ now: () => NOW, env: {} });
    const globals = parseGlobals({}, ctx);
    await runExport(
      await parseExportOptions({ db: dbPath, site: 'bulk', since: '1h' }, globals, ctx),
      globals,
      ctx,
    );
    const rows = ctx.out().trimEnd().split('\n').slice(1);
    expect(rows).toHaveLength(30 * 400);
    const keys = rows.map((row) => row.split(',').slice(0, 3).join(','));
    expect(new Set(keys).size).toBe(30 * 400);
    const stamps = rows.map((row) => row.slice(0, 24));
    expect(stamps).toEqual([...stamps].sort());
  });
});
