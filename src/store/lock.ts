// The collect lock: one run per database at a time; a second run fails at once (exit 75) so cron
// simply tries again next minute.
//
// Why an EXCLUSIVE transaction on a small SQLite file (`<db>.lock`) rather than a pid file: the lock
// is a POSIX advisory lock the kernel drops the moment the holder dies (SIGKILL, OOM, power loss),
// so there is no stale-lock detection to get wrong and no pid-reuse race; it needs no flock binding
// (Node has none) and SQLite already implements it for every platform we ship. A pid file would
// need a liveness check that fails across PID namespaces and after reboots.
// It is a separate file, not the database itself: holding a write lock on the database for a whole
// `--interval` run would block `hashctl upload` and other writers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage, LockedError, StoreError } from '../errors.js';
import { makeDirectories } from '../util/mkdir.js';
import { translateSqliteError } from './errors.js';
import { loadSqlite } from './native.js';
import { assertLockable, lockPathFor } from './paths.js';
import type { Db } from './types.js';

export type LockPurpose = 'collect' | 'upload';

/**
 * Every lock connection this process holds. better-sqlite3 closes a connection nobody refers to
 * when the garbage collector finalizes it, and the kernel then drops its lock: a caller that kept
 * only the side effect of acquireLock would lose the lock at the next GC, silently.
 */
const heldLocks = new Set<Db>();

export interface StoreLock {
  readonly path: string;
  release(): void;
  /**
   * Makes sure the lock still excludes other runs: when its file was removed (an operator's `rm` of
   * a "stale" lock, a /tmp cleaner), a second run would make a new one and run beside this one. The
   * lock is taken again on a new file; LockedError when another run took it first. A long-running
   * holder (collect --interval) asks before each cycle.
   */
  reassert(): void;
}

/**
 * Takes the lock next to `dbPath` or throws LockedError at once (no waiting). `collect` (the
 * default) guards collection runs and upgrades; `upload` guards the outbox's sender, so two senders
 * never post the same batches side by side, while a collect without --upload goes on.
 */
export function acquireLock(dbPath: string, purpose: LockPurpose = 'collect'): StoreLock {
  assertLockable(dbPath);
  const lockPath = lockPathFor(dbPath, purpose);
  try {
    // The first run on a host creates the data directory before anything else.
    makeDirectories(path.dirname(lockPath));
  } catch (error) {
    throw new StoreError('io', `cannot create the directory for ${dbPath}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  assertLockFile(lockPath);
  // SQLite opens a lock file it may not write read-only, without a word, and a read-only
  // connection's EXCLUSIVE lock does not exclude another one: two collectors would run side by
  // side (a `sudo hashctl collect` once leaves such a root-owned file behind).
  try {
    fs.accessSync(lockPath, fs.constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EROFS') throw onReadOnlyMount(dbPath, lockPath, error);
    if (code !== 'ENOENT') {
      throw new StoreError(
        'io',
        `cannot take the lock: ${lockPath} is not writable by this user (${code}); it was made by another user (sudo?): give it to this one or remove it`,
        { cause: error, details: { lock: lockPath } },
      );
    }
  }
  const Database = loadSqlite();
  let db: Db;
  try {
    db = new Database(lockPath, { timeout: 0 });
  } catch (error) {
    // SQLite's "cannot open" names no reason: a read-only mount is the one the operator can act on.
    const folder = writeProblem(path.dirname(lockPath));
    if (folder === 'EROFS') throw onReadOnlyMount(dbPath, lockPath, error);
    // A folder this user may not write (another user's, a first run as the wrong one): SQLite said
    // "cannot open database FILE.lock (missing directory or no permission)" of a folder that is there.
    if (folder !== null && !fs.existsSync(lockPath))
      throw new StoreError(
        'io',
        `${dbPath} cannot be written: its directory ${path.dirname(lockPath)} is read-only for this user (hashctl must create ${path.basename(lockPath)} there, and SQLite its -wal and -shm): nothing was stored`,
        { cause: error, details: { file: dbPath, lock: lockPath } },
      );
    throw translateSqliteError(error, lockPath);
  }
  try {
    // The lock is the file's, not a journal's: kept in memory, BEGIN EXCLUSIVE writes nothing, so a
    // full disk (or a full folder) does not stop a run from starting. Its cycles then fail with the
    // database named and, in a --interval loop, are stored again once there is room.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) {
      throw new LockedError(`another hashctl run holds ${lockPath}; try again when it finishes`, {
        details: { lock: lockPath },
      });
    }
    // SQLite's words for the lock file were the database's ("not a hashctl database or is damaged").
    if (code === 'SQLITE_NOTADB' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT')))
      throw notOurLock(lockPath, 'holds other data', error);
    throw translateSqliteError(error, lockPath);
  }
  heldLocks.add(db);
  let held = true;
  // The file locked: the lock excludes only runs that open this same file.
  const identity = fileIdentity(lockPath);
  const drop = () => {
    heldLocks.delete(db);
    try {
      db.exec('ROLLBACK');
    } finally {
      db.close();
    }
  };
  /** The lock taken again on a new file, once this one's file was removed. */
  let successor: StoreLock | null = null;
  return {
    path: lockPath,
    release() {
      if (!held) return;
      held = false;
      if (successor) successor.release();
      else drop();
    },
    reassert() {
      if (!held) return;
      if (successor) return successor.reassert();
      const now = fileIdentity(lockPath);
      if (now !== null && identity !== null && now.dev === identity.dev && now.ino === identity.ino) return;
      try {
        successor = acquireLock(dbPath, purpose);
      } catch (error) {
        if (!(error instanceof LockedError)) throw error;
        throw new LockedError(
          `${lockPath} was removed while this run held it, and another run has taken it since: this one stops so that the two do not overlap`,
          { cause: error, details: { lock: lockPath } },
        );
      }
      // The old connection locks a file nobody else will open.
      drop();
    },
  };
}

function fileIdentity(file: string): { dev: number; ino: number } | null {
  try {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    return stat ? { dev: stat.dev, ino: stat.ino } : null;
  } catch {
    return null;
  }
}

/**
 * The lock file is hashctl's own, empty regular file. Anything else at its name (a folder, a FIFO,
 * a link to /dev/null or to nowhere) was said as SQLite's words for a database: "cannot open
 * database (missing directory or no permission)", "disk I/O error", or taken as a lock that is none.
 */
function assertLockFile(lockPath: string): void {
  let link: fs.Stats | undefined;
  try {
    link = fs.lstatSync(lockPath, { throwIfNoEntry: false });
  } catch {
    return; // said by the open that follows
  }
  if (!link) return;
  const stat = fs.statSync(lockPath, { throwIfNoEntry: false });
  if (!stat) throw notOurLock(lockPath, 'is a symbolic link to nothing');
  if (stat.isDirectory()) throw notOurLock(lockPath, 'is a directory');
  if (!stat.isFile()) throw notOurLock(lockPath, 'is a FIFO, device or socket');
}

function notOurLock(lockPath: string, what: string, cause?: unknown): StoreError {
  return new StoreError(
    'io',
    `cannot take the lock: ${lockPath} ${what}, not the lock file hashctl makes there: remove it (hashctl makes it again); nothing was stored`,
    { cause, details: { lock: lockPath } },
  );
}

/** Why this user may not write `dir` (an errno code), or null when it may. */
function writeProblem(dir: string): string | null {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'EACCES';
  }
}

function onReadOnlyMount(dbPath: string, lockPath: string, cause: unknown): StoreError {
  return new StoreError(
    'io',
    `cannot write ${dbPath}: its folder is on a read-only file system (a writer needs the database and ${path.basename(lockPath)} writable there); nothing was stored`,
    { cause, details: { file: dbPath, lock: lockPath } },
  );
}
