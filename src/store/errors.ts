// How SQLite failures reach the user: one clear line with the file named, a stable kind, and the
// promise that what was stored before is intact (SQLite rolls the failed transaction back).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXIT, errorMessage, StoreError } from '../errors.js';

/** The database was written by a newer hashctl: refused before anything is read or written (exit 2). */
export class StoreVersionError extends StoreError {
  constructor(message: string, details: Record<string, unknown>) {
    super('store', message, { details });
  }

  override get exitCode(): number {
    return EXIT.usage;
  }
}

interface SqliteLikeError {
  code: string;
  message: string;
}

function isSqliteError(error: unknown): error is SqliteLikeError {
  return (
    error instanceof Error &&
    error.name === 'SqliteError' &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

/**
 * Which file made the database read-only: SQLite needs to write the database, its -wal and -shm
 * files and their directory. A -shm left read-only by another user's run keeps failing after the
 * database itself is made writable, so the line names the one that is not.
 */
function readOnlyCulprit(file: string): string {
  const notWritable = (candidate: string) => {
    try {
      fs.accessSync(candidate, fs.constants.W_OK);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  };
  if (notWritable(file)) return `${file} is read-only`;
  for (const suffix of ['-wal', '-shm'])
    if (notWritable(`${file}${suffix}`))
      return `${file} cannot be written: its ${file}${suffix} is read-only`;
  const dir = path.dirname(file);
  if (notWritable(dir)) return `${file} cannot be written: its directory ${dir} is read-only`;
  return `${file} is read-only`;
}

/**
 * Less room than one SQLite page (and a WAL frame's header) left to this user: a full disk. A file
 * system of no blocks at all (/proc, /sys) is not full, it holds no files: `--db /proc/x.db` was
 * said as a full disk.
 */
export function fileSystemFull(
  file: string,
  statfs: (dir: string) => { bavail: number; bsize: number; blocks?: number } = fs.statfsSync,
): boolean {
  try {
    const { bavail, bsize, blocks } = statfs(path.dirname(file));
    return blocks !== 0 && bavail * bsize < 8192;
  } catch {
    return false;
  }
}

/** No inode left to create a file beside `file` (a file system that counts them: not btrfs's 0). */
export function noInodesLeft(
  file: string,
  statfs: (dir: string) => { files: number; ffree: number } = fs.statfsSync,
): boolean {
  try {
    const { files, ffree } = statfs(path.dirname(file));
    return files > 0 && ffree === 0;
  } catch {
    return false;
  }
}

/** Turns a better-sqlite3 error into a StoreError naming the file; anything else passes through. */
export function translateSqliteError(error: unknown, file: string): unknown {
  if (error instanceof StoreError || !isSqliteError(error)) return error;
  const code = error.code;
  const details = { file, sqlite_code: code };
  if (code === 'SQLITE_FULL') {
    return new StoreError(
      'io',
      `disk full writing ${file}: nothing from this write was stored, earlier data is intact`,
      {
        cause: error,
        details,
      },
    );
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new StoreError(
      'io',
      `${readOnlyCulprit(file)}: nothing was stored (check its permissions and directory)`,
      {
        cause: error,
        details,
      },
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    // SQLite names no reason. Creating the file (or its -wal, -shm) on a file system out of space
    // or inodes fails so too: "no permission" would send the operator to chmod.
    if (fileSystemFull(file) || noInodesLeft(file))
      return new StoreError(
        'io',
        `disk full: cannot create ${file} or the files beside it (no space or inodes left on its file system); nothing was stored, earlier data is intact`,
        { cause: error, details },
      );
    return new StoreError('io', `cannot open database ${file} (missing directory or no permission)`, {
      cause: error,
      details,
    });
  }
  if (code.startsWith('SQLITE_IOERR')) {
    // A full disk reaches SQLite as an I/O error where the write was to its -wal or -shm (upload's
    // outbox updates): said as collect says SQLITE_FULL, when the file system is indeed full.
    if (fileSystemFull(file))
      return new StoreError(
        'io',
        `disk full writing ${file}: nothing from this write was stored, earlier data is intact`,
        { cause: error, details },
      );
    return new StoreError('io', `I/O error on ${file}: ${error.message}`, { cause: error, details });
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new StoreError('store', `${file} is not a hashctl database or is damaged (${error.message})`, {
      cause: error,
      details,
    });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      'store',
      `database ${file} stayed busy (another process is writing it); try again`,
      {
        cause: error,
        details,
        retriable: true,
      },
    );
  }
  return new StoreError('store', `database error on ${file}: ${errorMessage(error)}`, {
    cause: error,
    details,
  });
}

/** Runs fn and rethrows SQLite failures as StoreErrors naming the file. */
export function withStoreErrors<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw translateSqliteError(error, file);
  }
}
