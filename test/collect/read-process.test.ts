// The readers as cron, a shell and `watch` run them: bin/hashctl in a child process, its stdout a
// real file, device or pipe. `export` reads a real SQLite file of some 16,000 history rows (about
// 2 MB of CSV, far more than a pipe holds).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, writeCycle } from '../../src/store/index.js';
import { failedOutcome, okOutcome, tempDir } from '../store/helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MINERS = 400;
const CYCLES = 40;

let dir: string;
let cleanup: () => void;
let dbPath: string;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('hashctl-export-'));
  dbPath = path.join(dir, 'farm.db');
  const store = openStore(dbPath);
  try {
    const outcomes = Array.from({ length: MINERS }, (_, i) => okOutcome(10_000 + i));
    const start = Date.now() - CYCLES * 60_000;
    for (let c = 0; c < CYCLES; c++) {
      const t = start + c * 60_000;
      writeCycle(store, { site: 'north', startedAt: t, endedAt: t + 100, outcomes });
    }
  } finally {
    store.close();
  }
});
afterAll(() => cleanup());

/** bin/hashctl export on the test database, stdout as given; settles with its exit code and stderr. */
function exportTo(stdout: number | 'pipe') {
  const child = spawn(process.execPath, ['bin/hashctl', 'export', '--db', dbPath, '--since', '1d'], {
    cwd: root,
    stdio: ['ignore', stdout, 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 25_000);
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stderr });
    }),
  );
  return { child, done };
}

describe('hashctl export to a real output', () => {
  it('stops at a full disk with one line and exit 1, not "internal error" after it', async () => {
    const full = fs.openSync('/dev/full', 'w');
    try {
      const { code, stderr } = await exportTo(full).done;
      expect(code).toBe(1);
      expect(stderr).toContain('cannot write the output: ENOSPC');
      expect(stderr).not.toContain('internal error');
    } finally {
      fs.closeSync(full);
    }
  });

  it('stops on Ctrl-C: exit 130, a note, and the rows written so far end on a whole line', async () => {
    const { child, done } = exportTo('pipe');
    const out = child.stdout as Readable;
    // The first bytes: the export is under way. Nothing more is read until the signal is sent, so
    // the child is held by the full pipe long before its last row.
    await new Promise((resolve) => out.once('readable', resolve));
    child.kill('SIGINT');
    let text = '';
    out.setEncoding('utf8');
    out.on('data', (d: string) => {
      text += d;
    });
    const { code, stderr } = await done;
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]?.startsWith('ts,site,miner,')).toBe(true);
    expect(lines.length).toBeLessThan(1 + MINERS * CYCLES);
    for (const line of lines.slice(1)) expect(line.split(',')).toHaveLength(18);
  });
});

describe('hashctl live with HASHCTL_FORMAT=table in a pipe', () => {
  it('fits the table to $COLUMNS (what watch sets), not to a fixed 160', async () => {
    const db = path.join(dir, 'live.db');
    const store = openStore(db);
    try {
      const t = Date.now() - 60_000;
      writeCycle(store, {
        site: 'north',
        startedAt: t - 60_000,
        endedAt: t,
        outcomes: [okOutcome(4001), okOutcome(4002)],
      });
      // 4002 then timed out: offline, with its figures' age, a long PROBLEMS cell.
      writeCycle(store, {
        site: 'north',
        startedAt: t,
        endedAt: t + 100,
        outcomes: [okOutcome(4001), failedOutcome(4002)],
      });
    } finally {
      store.close();
    }
    const child = spawn(process.execPath, ['bin/hashctl', 'live', '--db', db], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', HASHCTL_FORMAT: 'table', COLUMNS: '150' },
    });
    let text = '';
    child.stdout!.on('data', (d) => {
      text += d;
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const rows = text.split('\n').filter((line) => line.startsWith('│'));
    expect(rows.some((line) => line.includes('offline'))).toBe(true);
    for (const line of rows) expect([...line].length).toBeLessThanOrEqual(150);
  });
});
