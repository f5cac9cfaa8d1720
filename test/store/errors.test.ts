// How SQLite's failures are said: the full disk that reaches SQLite as an I/O error (a write to the
// -wal or -shm) is said as a full disk, as SQLITE_FULL is; other I/O errors keep SQLite's words.
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { fileSystemFull, translateSqliteError } from '../../src/store/errors.js';

function sqliteError(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: 'SqliteError', code });
}

describe('translateSqliteError', () => {
  it('says a full disk for SQLITE_FULL, and for an I/O error on a file system with no room left', () => {
    const file = path.join(os.tmpdir(), 'hashctl.db');
    const full = translateSqliteError(sqliteError('SQLITE_FULL', 'database or disk is full'), file);
    expect(full).toBeInstanceOf(StoreError);
    expect((full as StoreError).message).toMatch(/^disk full writing /);
    expect(fileSystemFull(file, () => ({ bavail: 0, bsize: 4096 }))).toBe(true);
    expect(fileSystemFull(file, () => ({ bavail: 1_000_000, bsize: 4096 }))).toBe(false);
    // A pseudo file system (/proc, /sys) has no blocks at all: not full, it just takes no files.
    expect(fileSystemFull(file, () => ({ bavail: 0, bsize: 4096, blocks: 0 }))).toBe(false);
    expect(fileSystemFull(file, () => ({ bavail: 0, bsize: 4096, blocks: 1_000_000 }))).toBe(true);
    expect(
      fileSystemFull(file, () => {
        throw new Error('ENOSYS');
      }),
    ).toBe(false);
    // The temporary directory has room: an I/O error there keeps SQLite's own words.
    const io = translateSqliteError(sqliteError('SQLITE_IOERR_WRITE', 'disk I/O error'), file);
    expect((io as StoreError).message).toBe(`I/O error on ${file}: disk I/O error`);
  });

  it('a database that cannot be created on /proc is not said as a full disk', () => {
    const cantOpen = translateSqliteError(
      sqliteError('SQLITE_CANTOPEN', 'unable to open database file'),
      '/proc/hashctl.db',
    );
    expect((cantOpen as StoreError).message).toBe(
      'cannot open database /proc/hashctl.db (missing directory or no permission)',
    );
  });
});
