// The files SQLite keeps beside a WAL database, FILE-wal and FILE-shm, found as something else: a
// folder (an `mkdir` in the wrong place, a backup tool's restore), a FIFO. SQLite's words for them
// sent the operator elsewhere: "cannot open database FILE (missing directory or no permission)",
// "FILE is read-only" of a writable file, "disk I/O error".
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { openStore, writeCycle } from '../../src/store/index.js';
import { okOutcome, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-companions-'));
});
afterEach(() => cleanup());

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  const ctx = memoryContext();
  const code = await runCli(args, ctx);
  return { code, err: ctx.err() };
}

const canMakeFifo = spawnSync('mkfifo', ['--help'], { timeout: 10_000 }).status === 0;

describe('FILE-wal or FILE-shm that is not a file', () => {
  for (const suffix of ['-wal', '-shm']) {
    for (const kind of ['directory', 'FIFO'] as const) {
      it.skipIf(kind === 'FIFO' && !canMakeFifo)(
        `${suffix} as a ${kind}: one line that names it; the stored cycle is kept`,
        async () => {
          const db = path.join(dir, 'farm.db');
          const store = openStore(db);
          writeCycle(store, {
            site: 'north',
            startedAt: Date.now(),
            endedAt: Date.now(),
            outcomes: [okOutcome(4028)],
          });
          store.close();
          const odd = `${db}${suffix}`;
          fs.rmSync(odd, { force: true });
          if (kind === 'directory') fs.mkdirSync(odd);
          else expect(spawnSync('mkfifo', [odd]).status).toBe(0);
          const what = kind === 'directory' ? 'a directory' : 'a FIFO, device or socket';
          const said = `hashctl: cannot use ${db}: ${odd} beside it is ${what}, not SQLite's own file: move it away (SQLite makes its own there; nothing stored is in it)\n`;
          // The target is never polled: the store is opened first.
          const collect = await cli(['collect', '--once', '--targets', '127.0.0.1:1', '--db', db]);
          expect(collect).toEqual({ code: EXIT.failed, err: said });
          // A reader that SQLite lets read all the same reads; one it does not says the same line.
          const live = await cli(['live', '--db', db, '--json']);
          if (live.code !== EXIT.ok) expect(live).toEqual({ code: EXIT.failed, err: said });
          fs.rmSync(odd, { recursive: true });
          const check = openStore(db, { readonly: true });
          expect(check.db.prepare('SELECT count(*) FROM telemetry_history').pluck().get()).toBe(1);
          check.close();
        },
      );
    }
  }
});
