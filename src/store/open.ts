// Opening the database: pragmas, migrations, and the Store handle every module hangs off.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage, LockedError, StoreError } from '../errors.js';
import { makeDirectories } from '../util/mkdir.js';
import { fileSystemFull, noInodesLeft, StoreVersionError, translateSqliteError } from './errors.js';
import { acquireLock, type StoreLock } from './lock.js';
import { assertIncreasing, assertNotFromFuture, latestVersion, migrate, schemaVersion } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';
import { loadSqlite } from './native.js';
import { assertLockable, dbHint, oddCompanion, statDbFile } from './paths.js';
import type { Db, Migration } from './types.js';

export interface OpenStoreOptions {
  /**
   * Never write data. The file must exist. A file at an older schema is upgraded once by a
   * read-write open first, under the collect lock (readers of a freshly upgraded hashctl should not
   * fail on an old file, and an upgrade may rebuild an index for a minute).
   */
  readonly?: boolean;
  /**
   * A writer that only works on what collect stored (upload): a missing file is an error rather
   * than a new empty database (a typo in a cron line must not look like success forever).
   */
  mustExist?: boolean;
  /** How long a write waits for another process's write to finish (SQLite busy timeout). */
  busyTimeoutMs?: number;
  /**
   * Told the steps about to be applied to a file that already holds data, before they run: a step
   * may rebuild an index of a large file (a minute for 30 days of 1,000 miners), and a command
   * silent that long looks hung.
   */
  onUpgrade?: (file: string, steps: readonly string[]) => void;
  /** For tests: another migration list, or stop at a version. */
  migrations?: readonly Migration[];
  targetVersion?: number;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/**
 * What the `-wal` file is cut back to once a checkpoint has emptied it. A reader that holds its
 * snapshot (`export | less` left open overnight) keeps every checkpoint from restarting the WAL, so
 * a `--interval` collect grows it by a cycle's pages each cycle (14 MB at 5,000 miners); without a
 * limit the file kept that size, gigabytes, for as long as the service ran. Above the largest
 * cycle of a large farm, so a steady WAL is reused rather than cut and grown every cycle.
 */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** An open database. Table modules take `store.db`; `prepared()` builds statement sets once. */
export class Store {
  readonly #cache = new Map<(db: Db) => unknown, unknown>();
  /** The file opened (device and inode), to notice it being replaced under a long-running writer. */
  readonly #identity: { dev: number; ino: number } | null;
  /**
   * Read as immutable (a full disk left no room for its -shm): SQLite then takes no lock, so a
   * writer could change the file under a read. What it was when opened; each read checks it.
   */
  readonly #immutableAs: string | null;

  constructor(
    readonly db: Db,
    readonly path: string,
    readonly readonly: boolean,
    immutable = false,
  ) {
    const stat = statDbFile(path);
    this.#identity = stat ? { dev: stat.dev, ino: stat.ino } : null;
    this.#immutableAs = immutable ? this.#state() : null;
  }

  /** The file's size and times, and whether a -wal with content or a -shm is beside it. */
  #state(): string {
    const stat = statDbFile(this.path);
    const wal = statDbFile(`${this.path}-wal`)?.size ?? 0;
    const shm = fs.existsSync(`${this.path}-shm`);
    return `${stat?.ino}:${stat?.size}:${stat?.mtimeMs}:${stat?.ctimeMs}:${wal > 32}:${shm}`;
  }

  /**
   * Throws when the path no longer leads to the file this store has open: deleted, or replaced
   * (an operator restoring a backup with mv). Writes would go on into the orphaned file and be
   * lost without a word, so `collect --interval` asks before each cycle.
   */
  assertStillAt(): void {
    if (this.#identity === null) return;
    let now: fs.Stats | null;
    try {
      now = statDbFile(this.path);
    } catch {
      now = null; // a folder on its path became a file: the database is not there any more
    }
    if (now && now.dev === this.#identity.dev && now.ino === this.#identity.ino) return;
    throw new StoreError(
      'io',
      `${this.path} was ${now ? 'replaced' : 'deleted'} while collect was running: this cycle was not stored (cycles before it went to the file that was there); start collect again`,
      { details: { file: this.path } },
    );
  }

  /**
   * The statement set `build(db)` for this connection, built on first use and reused after:
   * `const live = store.prepared(liveStatements)`. Each table module exports such a builder.
   */
  prepared<T>(build: (db: Db) => T): T {
    let value = this.#cache.get(build) as T | undefined;
    if (value === undefined) {
      value = build(this.db);
      this.#cache.set(build, value);
    }
    return value;
  }

  /**
   * Runs fn in one IMMEDIATE transaction; SQLite failures become StoreErrors naming the file.
   * Inside another transaction fn simply joins it: the outer one commits or rolls back the whole.
   * (A nested savepoint would let no caller recover anything, and it is costly: while one is open,
   * SQLite keeps every statement's sub-journal for the savepoint's sake, which made the cycle's
   * 15,000 upserts cost 2.7 s instead of 0.3 s.)
   */
  transaction<T>(fn: (db: Db) => T): T {
    try {
      if (this.db.inTransaction) return fn(this.db);
      return this.db.transaction(() => fn(this.db)).immediate();
    } catch (error) {
      throw translateSqliteError(error, this.path);
    }
  }

  /**
   * Runs fn in one read transaction: every statement in it sees the same committed state, however
   * many cycles collect commits meanwhile (each statement on its own took the state of its moment,
   * so a view read in several statements could mix two cycles). Inside another transaction fn
   * simply joins it.
   */
  snapshot<T>(fn: (db: Db) => T): T {
    if (this.db.inTransaction) return fn(this.db);
    const result = this.db.transaction(() => fn(this.db)).deferred();
    if (this.#immutableAs !== null && this.#state() !== this.#immutableAs)
      throw new StoreError(
        'store',
        `${this.path} was written while it was read without its -shm (a full disk or a read-only mount left no room for one, and without it SQLite cannot keep a writer from changing the file under a read), so what was read may mix two states and is not shown: try again`,
        { details: { file: this.path }, retriable: true },
      );
    return result;
  }

  close(): void {
    this.#cache.clear();
    if (this.db.open) this.db.close();
  }
}

export function openStore(file: string, options: OpenStoreOptions = {}): Store {
  const migrations = options.migrations ?? MIGRATIONS;
  assertIncreasing(migrations);
  // SQLite's own words for a directory ("disk I/O error", "cannot open") send the user looking elsewhere.
  // A hard-linked file is refused for every opener, not only lock holders: under its other name a
  // reader misses the -wal collect writes, and a writer without the lock (thermal check --db,
  // control's command_log) writes a second -wal into the same file.
  assertLockable(file);
  if (options.readonly) return openReadonly(file, options, migrations);
  if (options.mustExist) assertExists(file);
  const odd = oddCompanion(file);
  if (odd) throw odd;
  try {
    makeDirectories(path.dirname(file));
  } catch (error) {
    throw new StoreError('io', `cannot create the directory for ${file}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  const db = openConnection(file, false, options);
  try {
    // Before the first write (journal_mode = WAL rewrites the header): a newer hashctl's file and
    // another program's database are refused untouched.
    assertOurs(db, file, migrations);
    configure(db, false);
    migrate(db, file, migrations, options.targetVersion, options.onUpgrade);
    return new Store(db, file, false);
  } catch (error) {
    db.close();
    throw translateSqliteError(error, file);
  }
}

/**
 * Before a writer takes the collect lock: refuses another program's database or a newer hashctl's
 * (exit 2), or a file that is not SQLite at all (exit 1), without making `<db>.lock` beside it.
 * Anything else wrong with the file is left to the open that follows, which says it in full.
 */
export function assertNotForeign(file: string, migrations: readonly Migration[] = MIGRATIONS): void {
  if (!(statDbFile(file)?.size ?? 0)) return;
  let db: Db;
  try {
    db = openConnection(file, true, {});
  } catch {
    return;
  }
  try {
    assertOurs(db, file, migrations);
  } catch (error) {
    if (error instanceof StoreVersionError) throw error;
    // Not SQLite at all (a text file, random bytes) or damaged: said now, with no lock file left.
    const code = String((error as { code?: unknown }).code ?? '');
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'))
      throw translateSqliteError(error, file);
  } finally {
    db.close();
  }
}

function assertExists(file: string): void {
  if (!fs.existsSync(file)) {
    throw new StoreError(
      'io',
      `no database at ${file}: run \`hashctl collect\` first (or ${dbHint(file, 'another file', 'pass --db')})`,
      {
        details: { file },
      },
    );
  }
}

function openReadonly(file: string, options: OpenStoreOptions, migrations: readonly Migration[]): Store {
  assertExists(file);
  let db = openConnection(file, true, options);
  let immutable = false;
  try {
    let hot: boolean;
    try {
      hot = hasHotJournal(db);
    } catch (error) {
      // A full disk or a read-only mount: SQLite could not create or grow FILE-shm, which a WAL
      // read needs.
      const reason = noShmPossible(error, file);
      if (reason === null) throw error;
      db.close();
      ({ db, immutable } = openWithoutShm(file, options, reason));
      hot = false;
    }
    if (hot) {
      db.close();
      rollBackHotJournal(file, options);
      db = openConnection(file, true, options);
    }
    configure(db, true);
    const current = assertOurs(db, file, migrations);
    // A reader never creates the schema: an empty file holds nothing to show, and writing it is collect's job.
    if (current === 0)
      throw new StoreError(
        'io',
        `nothing stored in ${file} yet: run \`hashctl collect\` first (or ${dbHint(file, 'another file', 'pass --db')})`,
        {
          details: { file },
        },
      );
    const wanted = options.targetVersion ?? latestVersion(migrations);
    if (current < wanted) {
      db.close();
      const lock = lockForUpgrade(file, current);
      try {
        openStore(file, { ...options, readonly: false }).close();
      } catch (error) {
        // An upgrade writes: on a full disk it cannot, and "disk full writing" alone reads as if the
        // command had meant to store something; on a read-only mount no user can.
        const reason = noShmPossible(error, file);
        if (reason !== null)
          throw new StoreError(
            'io',
            `${file} is from an older hashctl (schema ${current}) and must be upgraded before this hashctl can read it, ${reason === 'full' ? 'which needs free space on its file system: free some and run again (what is stored is intact)' : 'which cannot be done on a read-only file system: copy it to a writable folder and read the copy, or use the hashctl that wrote it'}`,
            { cause: error, details: { file, schema: current, supported: wanted } },
          );
        // A reader that may not write the file (another user's, a read-only mount) cannot bring it
        // to this hashctl's schema; say that, rather than "nothing was stored".
        if (isReadOnlyRefusal(error))
          throw new StoreError(
            'io',
            `${file} is from an older hashctl (schema ${current}) and read-only here: run this hashctl once as a user who may write it (any command upgrades it), or use the hashctl that wrote it`,
            { cause: error, details: { file, schema: current, supported: wanted } },
          );
        throw error;
      } finally {
        lock?.release();
      }
      db = openConnection(file, true, options);
      configure(db, true);
      if (schemaVersion(db) < wanted)
        throw new StoreError('store', `${file} could not be upgraded to schema ${wanted}`);
    }
    return new Store(db, file, true, immutable);
  } catch (error) {
    if (db.open) db.close();
    // What SQLite could not open may be a folder or a FIFO where its -wal or -shm should be.
    const odd = oddCompanion(file);
    if (odd) throw odd;
    const translated = translateSqliteError(error, file);
    if (onReadOnlyFileSystem(translated, file)) {
      // No -shm beside a WAL database, and none can be made: SQLite cannot read it in place.
      throw new StoreError(
        'io',
        `cannot read ${file} on a read-only file system: SQLite needs ${path.basename(file)}-shm beside it and cannot create it there; copy the file to a writable folder and read the copy`,
        { cause: error, details: translated.details },
      );
    }
    if (isReadOnlyRefusal(translated) || cannotCreateShm(translated, file)) {
      // Reading a WAL database creates `FILE-shm` beside it when no writer left one there. With
      // the -wal a crashed collector left, SQLite says only "cannot open".
      throw new StoreError(
        'io',
        `cannot read ${file} as this user: SQLite must create ${path.basename(file)}-shm in its directory, which this user may not write (give write access to the directory, or run as the file's owner)`,
        { cause: error, details: translated.details },
      );
    }
    throw translated;
  }
}

/**
 * SQLite failed because nothing can be created or grown beside FILE (its -shm, -wal or an
 * upgrade's pages): 'full' when its file system is out of space or inodes, 'read-only' on a
 * read-only mount; null for any other failure.
 */
function noShmPossible(error: unknown, file: string): 'full' | 'read-only' | null {
  const translated = translateSqliteError(error, file);
  if (!(translated instanceof StoreError)) return null;
  const code = String(translated.details.sqlite_code ?? '');
  if (!/^SQLITE_(FULL|IOERR|CANTOPEN|READONLY)/.test(code)) return null;
  if (fileSystemFull(file) || noInodesLeft(file)) return 'full';
  return onReadOnlyFileSystem(translated, file) ? 'read-only' : null;
}

/** The database as SQLite's URI filename, so that parameters can follow it. */
function uriOf(file: string, parameter: string): string {
  const encoded = path.resolve(file).split('/').map(encodeURIComponent).join('/');
  return `file:${encoded}?${parameter}`;
}

/** A WAL header alone holds no commit. */
const WAL_HEADER_BYTES = 32;

/**
 * Opens FILE for reading on a full disk or a read-only mount, creating nothing beside it
 * (https://www.sqlite.org/wal.html, "Read-Only Databases"):
 * - FILE-shm there (a failed read makes an empty one while inodes last): opened read-only. With no
 *   writer attached, SQLite then reads the whole -wal into memory itself, so commits not yet
 *   checkpointed are seen, and holds the read lock that keeps a writer from checkpointing under it.
 * - No -shm and none can be made: with no -wal content (nor -journal) the database file holds all
 *   of it and is read as immutable; the Store checks after each read that no writer changed it.
 * - Else the -wal holds commits that cannot be read safely without a -shm: said, nothing guessed.
 */
function openWithoutShm(
  file: string,
  options: OpenStoreOptions,
  reason: 'full' | 'read-only',
): { db: Db; immutable: boolean } {
  const name = path.basename(file);
  const immutable = !fs.existsSync(`${file}-shm`);
  if (immutable) {
    const size = (suffix: string) => statDbFile(`${file}${suffix}`)?.size ?? 0;
    const journal = size('-journal') > 0;
    if (journal || size('-wal') > WAL_HEADER_BYTES)
      throw new StoreError(
        'io',
        `cannot read ${file} on a ${reason === 'full' ? 'full disk' : 'read-only file system'}: ${journal ? `${name}-journal holds a write left unfinished` : `${name}-wal holds commits not yet in the database`}, which SQLite can read safely only with ${name}-shm beside it, ${reason === 'full' ? 'and there is no room to create that: free some space on its file system and run again (nothing was changed)' : `and it cannot create that there: copy the file with its ${name}-${journal ? 'journal' : 'wal'} to a writable folder and read the copy`}`,
        { details: { file, no_shm: true } },
      );
  }
  const db = openConnection(uriOf(file, immutable ? 'immutable=1' : 'readonly_shm=1'), true, options);
  try {
    db.pragma('user_version');
  } catch (error) {
    db.close();
    throw translateSqliteError(error, file);
  }
  return { db, immutable };
}

/**
 * The collect lock, for a reader about to upgrade the file: the upgrade must not run under a collect
 * (of this version or an older one, which would then meet a schema newer than it knows), and a
 * collect must not start in the middle of a minute-long index rebuild. Null when the lock file
 * cannot be made at all (a read-only folder): the upgrade then fails with its own clear line.
 */
function lockForUpgrade(file: string, schema: number): StoreLock | null {
  try {
    return acquireLock(file);
  } catch (error) {
    if (!(error instanceof LockedError)) return null;
    throw new LockedError(
      `${file} is from an older hashctl (schema ${schema}) and a collect run holds it: try again when it finishes (a collect of this hashctl upgrades it itself)`,
      { cause: error, details: error.details },
    );
  }
}

/** What the first migration creates, so every hashctl file of any schema version holds. */
const CORE_TABLES = [
  'sites',
  'miners',
  'collection_runs',
  'telemetry_live',
  'telemetry_history',
  'store_meta',
];

/**
 * The file's schema version, refusing a newer hashctl's file and a database of another program
 * (tables but no hashctl schema version): hashctl must not add its tables to somebody else's data.
 */
function assertOurs(db: Db, file: string, migrations: readonly Migration[]): number {
  const current = assertNotFromFuture(db, file, migrations);
  if (current > 0) {
    // A schema version is any program's to set: a hashctl file also holds the first migration's
    // tables. Without them, upgrading would add hashctl's tables to somebody else's data.
    const core = db
      .prepare(
        `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN (${CORE_TABLES.map(() => '?').join(',')})`,
      )
      .pluck()
      .get(...CORE_TABLES) as number;
    if (core < CORE_TABLES.length)
      throw new StoreVersionError(
        `${file} is not a hashctl database (its schema version is ${current}, but it lacks hashctl's tables): ${dbHint(file, 'another file')}`,
        { file, schema: current },
      );
  }
  if (current === 0) {
    const tables = db
      .prepare("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'")
      .pluck()
      .get() as number;
    if (tables > 0)
      throw new StoreVersionError(
        `${file} is not a hashctl database (it holds ${tables} other table${tables === 1 ? '' : 's'}): ${dbHint(file, 'another file')}`,
        { file, schema: 0 },
      );
  }
  return current;
}

/** SQLite said the file (or the directory it needs beside it) may not be written. */
/** SQLite could not open FILE for reading, and its folder is on a read-only mount (EROFS). */
function onReadOnlyFileSystem(error: unknown, file: string): error is StoreError {
  if (!(error instanceof StoreError)) return false;
  const code = String(error.details.sqlite_code ?? '');
  if (!code.startsWith('SQLITE_CANTOPEN') && !code.startsWith('SQLITE_READONLY')) return false;
  try {
    fs.accessSync(path.dirname(file), fs.constants.W_OK);
    return false;
  } catch (cause) {
    return (cause as NodeJS.ErrnoException).code === 'EROFS';
  }
}

/**
 * FILE-journal beside the file holds a write another program (sqlite3, a backup tool, a hashctl
 * on a file in rollback-journal mode) left unfinished when it stopped: a read-only connection may
 * not roll it back, and SQLite says only "attempt to write a readonly database".
 */
function hasHotJournal(db: Db): boolean {
  try {
    db.pragma('user_version');
    return false;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_READONLY_ROLLBACK') return true;
    throw error;
  }
}

/** Rolls the unfinished write back as a writer would on its first read; the data before it is kept. */
function rollBackHotJournal(file: string, options: OpenStoreOptions): void {
  const Database = loadSqlite();
  let db: Db | undefined;
  try {
    db = new Database(file, {
      fileMustExist: true,
      timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    });
    db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get();
  } catch (error) {
    const translated = translateSqliteError(error, file);
    const code = String((translated as StoreError).details?.sqlite_code ?? '');
    if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN'))
      throw new StoreError(
        'io',
        `cannot read ${file}: ${path.basename(file)}-journal beside it holds a write another program left unfinished, which only a user who may write ${file} and its folder can roll back (run any hashctl command once as such a user)`,
        { cause: error, details: { file, journal: `${file}-journal` } },
      );
    throw translated;
  } finally {
    db?.close();
  }
}

/** SQLite could not open FILE for reading because it may not create FILE-shm in its folder. */
function cannotCreateShm(error: unknown, file: string): error is StoreError {
  if (!(error instanceof StoreError)) return false;
  if (!String(error.details.sqlite_code ?? '').startsWith('SQLITE_CANTOPEN')) return false;
  if (fs.existsSync(`${file}-shm`) || !fs.existsSync(file)) return false;
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    return false;
  }
  try {
    fs.accessSync(path.dirname(file), fs.constants.W_OK);
    return false;
  } catch (cause) {
    return (cause as NodeJS.ErrnoException).code === 'EACCES';
  }
}

function isReadOnlyRefusal(error: unknown): error is StoreError {
  return error instanceof StoreError && String(error.details.sqlite_code ?? '').startsWith('SQLITE_READONLY');
}

function openConnection(file: string, readonly: boolean, options: OpenStoreOptions): Db {
  const Database = loadSqlite();
  try {
    return new Database(file, {
      readonly,
      fileMustExist: readonly,
      timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    });
  } catch (error) {
    throw translateSqliteError(error, file);
  }
}

function configure(db: Db, readonly: boolean): void {
  if (!readonly) {
    // WAL: readers (live, history, export) never block the collector and vice versa. NORMAL is
    // safe in WAL (a power cut may lose the last commit, never corrupt or half-write one).
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    // Statement journals (an upsert inside the cycle's transaction keeps the pages it changes, in
    // case it must abort alone) in memory, not in /var/tmp files: a 5,000-miner cycle wrote 57,000
    // of them, 4 and 4096 bytes at a time. A statement journal holds one statement's pages.
    db.pragma('temp_store = MEMORY');
  }
  db.pragma('foreign_keys = ON');
}
