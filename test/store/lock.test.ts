import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockedError, StoreError, UsageError } from '../../src/errors.js';
import { acquireLock, lockPathFor, openStore } from '../../src/store/index.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
const children: ChildProcess[] = [];
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-lock-'));
});
afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  cleanup();
});

const lockModule = path.resolve(__dirname, '../../src/store/lock.ts');

/** A child process that takes the lock, says so, and waits to be killed. */
function holdLockInChild(dbPath: string): Promise<ChildProcess> {
  const script = `
    import(${JSON.stringify(lockModule)}).then(({ acquireLock }) => {
      acquireLock(${JSON.stringify(dbPath)});
      process.stdout.write('held\\n');
      setInterval(() => {}, 60_000);
    });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (data: Buffer) => {
      if (data.toString().includes('held')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
  });
}

describe('acquireLock', () => {
  it('is the same lock through a symlink to the database or to its folder', () => {
    const db = path.join(dir, 'farm.db');
    fs.writeFileSync(db, '');
    fs.symlinkSync(db, path.join(dir, 'link.db'));
    fs.symlinkSync(dir, path.join(dir, 'folder-link'));
    const held = acquireLock(db);
    try {
      for (const other of [path.join(dir, 'link.db'), path.join(dir, 'folder-link', 'farm.db')])
        expect(() => acquireLock(other)).toThrow(LockedError);
      // Not made yet: the folder's link still leads to the same lock.
      const later = acquireLock(path.join(dir, 'folder-link', 'later.db'));
      expect(() => acquireLock(path.join(dir, 'later.db'))).toThrow(LockedError);
      later.release();
    } finally {
      held.release();
    }
  });

  it('is the same lock through a symlink to a database not made yet (the first run)', () => {
    fs.symlinkSync(path.join(dir, 'real.db'), path.join(dir, 'link.db'));
    fs.symlinkSync(path.join(dir, 'link.db'), path.join(dir, 'link2.db'));
    const held = acquireLock(path.join(dir, 'link2.db'));
    try {
      expect(() => acquireLock(path.join(dir, 'real.db'))).toThrow(LockedError);
      expect(() => acquireLock(path.join(dir, 'link.db'))).toThrow(LockedError);
    } finally {
      held.release();
    }
  });

  it('refuses a hard-linked database (two names, two locks, two WALs) and a path through a file', () => {
    const db = path.join(dir, 'farm.db');
    fs.writeFileSync(db, '');
    fs.linkSync(db, path.join(dir, 'other.db'));
    for (const name of [db, path.join(dir, 'other.db')])
      expect(() => acquireLock(name)).toThrow(/has 2 hard links: SQLite cannot lock/);
    const file = path.join(dir, 'targets.txt');
    fs.writeFileSync(file, '127.0.0.1\n');
    expect(() => acquireLock(path.join(file, 'x.db'))).toThrow(UsageError);
    expect(() => acquireLock(path.join(file, 'x.db'))).toThrow(/a folder on its path is a file/);
  });

  it('refuses a hard-linked database for every opener, not only lock holders (thermal check --db, control, readers)', () => {
    const db = path.join(dir, 'farm.db');
    openStore(db).close();
    const other = path.join(dir, 'other.db');
    fs.linkSync(db, other);
    // A writer without the collect lock (thermal check --db, control's command_log) would write
    // other.db-wal beside a collect writing farm.db-wal; a reader would miss farm.db-wal's cycles.
    for (const name of [db, other]) {
      expect(() => openStore(name)).toThrow(UsageError);
      expect(() => openStore(name, { readonly: true })).toThrow(/has 2 hard links: SQLite cannot lock/);
    }
    expect(fs.existsSync(`${other}-wal`)).toBe(false);
  });

  it('refuses a symlink loop as the database or a folder on its path, as a usage error', () => {
    const loop = path.join(dir, 'a');
    fs.symlinkSync('b', loop);
    fs.symlinkSync('a', path.join(dir, 'b'));
    for (const name of [loop, path.join(loop, 'x.db')]) {
      expect(() => acquireLock(name)).toThrow(UsageError);
      expect(() => openStore(name)).toThrow(/its symlinks point at each other in a loop/);
    }
  });

  it('lets one holder in; a second attempt fails at once with LockedError (exit 75)', () => {
    const db = path.join(dir, 'farm.db');
    const first = acquireLock(db);
    expect(first.path).toBe(lockPathFor(db));
    let caught: unknown;
    try {
      acquireLock(db);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LockedError);
    expect((caught as LockedError).kind).toBe('locked');
    expect((caught as LockedError).exitCode).toBe(75);
    first.release();
    first.release(); // idempotent
    const again = acquireLock(db);
    again.release();
  });

  it('reassert: takes the lock again when its file was removed under it (rm, a /tmp cleaner), or says another run took it', () => {
    const db = path.join(dir, 'farm.db');
    const held = acquireLock(db);
    held.reassert(); // still its file: nothing to do
    expect(() => acquireLock(db)).toThrow(LockedError);
    // Removed: a second run would make a new file and take that one, beside the first.
    fs.rmSync(held.path);
    held.reassert();
    expect(fs.existsSync(held.path)).toBe(true);
    expect(() => acquireLock(db)).toThrow(LockedError);
    // Removed, and a second run took the new file first: the first must not go on beside it.
    fs.rmSync(held.path);
    const second = acquireLock(db);
    expect(() => held.reassert()).toThrow(LockedError);
    expect(() => held.reassert()).toThrow(
      /was removed while this run held it, and another run has taken it since/,
    );
    second.release();
    held.release();
    acquireLock(db).release();
  });

  it('says a lock path that is no lock file (a folder, a FIFO, a link to a device or to nothing, other data) as such', () => {
    const db = path.join(dir, 'farm.db');
    const lock = lockPathFor(db);
    const cases: [string, () => void][] = [
      ['is a directory', () => fs.mkdirSync(lock)],
      ['is a FIFO, device or socket', () => spawnSync('mkfifo', [lock])],
      ['is a FIFO, device or socket', () => fs.symlinkSync('/dev/null', lock)],
      ['is a symbolic link to nothing', () => fs.symlinkSync(path.join(dir, 'gone', 'x'), lock)],
      ['holds other data', () => fs.writeFileSync(lock, 'these are notes, not a lock\n'.repeat(10))],
    ];
    for (const [what, make] of cases) {
      fs.rmSync(lock, { recursive: true, force: true });
      make();
      let caught: unknown;
      try {
        acquireLock(db).release();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(StoreError);
      expect((caught as StoreError).message).toBe(
        `cannot take the lock: ${lock} ${what}, not the lock file hashctl makes there: remove it (hashctl makes it again); nothing was stored`,
      );
    }
    fs.rmSync(lock, { recursive: true, force: true });
    acquireLock(db).release();
  });

  it('locks each database separately, creating the data directory on first use', () => {
    const a = acquireLock(path.join(dir, 'new', 'dir', 'a.db'));
    const b = acquireLock(path.join(dir, 'b.db'));
    a.release();
    b.release();
  });

  it('is held against other processes and freed by the kernel when the holder is SIGKILLed', async () => {
    const db = path.join(dir, 'farm.db');
    const child = await holdLockInChild(db);
    expect(() => acquireLock(db)).toThrow(LockedError);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    // No stale-lock cleanup needed: the lock died with its process.
    const lock = acquireLock(db);
    lock.release();
  });

  it('stays held when the caller keeps no reference to it and the garbage collector runs', async () => {
    const db = path.join(dir, 'farm.db');
    acquireLock(db); // dropped on purpose: only the side effect is kept
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(() => acquireLock(db)).toThrow(LockedError);
  });
});
