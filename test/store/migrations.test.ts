import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockedError, StoreError, UsageError } from '../../src/errors.js';
import {
  acquireLock,
  assertIncreasing,
  assertNotForeign,
  latestVersion,
  MIGRATIONS,
  openStore,
  StoreVersionError,
  schemaVersion,
} from '../../src/store/index.js';
import { loadSqlite } from '../../src/store/native.js';
import type { Migration } from '../../src/store/types.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

describe('migrations', () => {
  it('are listed with strictly increasing versions starting at 0001-core', () => {
    expect(() => assertIncreasing(MIGRATIONS)).not.toThrow();
    expect(MIGRATIONS[0]).toMatchObject({ version: 1, name: 'core' });
    const noop = () => {};
    expect(() =>
      assertIncreasing([
        { version: 1, name: 'a', up: noop },
        { version: 1, name: 'b', up: noop },
      ]),
    ).toThrow(/strictly increasing/);
    expect(() =>
      assertIncreasing([
        { version: 2, name: 'a', up: noop },
        { version: 1, name: 'b', up: noop },
      ]),
    ).toThrow(/strictly increasing/);
  });

  it('bring a new file to the latest user_version with WAL, foreign keys and STRICT tables', () => {
    const file = path.join(dir, 'nested', 'hashctl.db');
    const store = openStore(file);
    try {
      expect(schemaVersion(store.db)).toBe(latestVersion(MIGRATIONS));
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(store.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      const tables = store.db
        .prepare<[], { name: string; strict: number }>(
          "SELECT name, strict FROM pragma_table_list WHERE schema = 'main'",
        )
        .all();
      const names = tables.map((t) => t.name);
      for (const name of [
        'sites',
        'miners',
        'telemetry_live',
        'telemetry_history',
        'collection_runs',
        'telemetry_hourly',
      ]) {
        expect(names).toContain(name);
        expect(tables.find((t) => t.name === name)?.strict).toBe(1);
      }
      // STRICT: a string in an INTEGER column is refused instead of coerced.
      expect(() =>
        store.db.prepare("INSERT INTO sites (name, created_at) VALUES ('x', 'yesterday')").run(),
      ).toThrow(/cannot store TEXT value in INTEGER column/);
    } finally {
      store.close();
    }
  });

  it('apply each pending step in its own transaction, and only once across reopenings', () => {
    const file = path.join(dir, 'steps.db');
    const calls: number[] = [];
    const extra: Migration[] = [
      ...MIGRATIONS,
      {
        version: 900,
        name: 'extra',
        up: (db) => {
          calls.push(900);
          db.exec('CREATE TABLE extra (id INTEGER PRIMARY KEY) STRICT');
        },
      },
    ];
    openStore(file, { migrations: extra, targetVersion: latestVersion(MIGRATIONS) }).close();
    const Database = loadSqlite();
    const raw = new Database(file);
    expect(raw.pragma('user_version', { simple: true })).toBe(latestVersion(MIGRATIONS));
    raw.prepare("INSERT INTO sites (name, created_at) VALUES ('kept', 1)").run();
    raw.close();

    openStore(file, { migrations: extra }).close();
    const store = openStore(file, { migrations: extra });
    try {
      expect(calls).toEqual([900]);
      expect(schemaVersion(store.db)).toBe(900);
      expect(store.db.prepare('SELECT name FROM sites').pluck().all()).toEqual(['kept']);
    } finally {
      store.close();
    }
  });

  it('0006 fills telemetry_live.algorithm from the snapshots already stored', () => {
    const file = path.join(dir, 'v5.db');
    openStore(file, { targetVersion: 5 }).close();
    const Database = loadSqlite();
    const raw = new Database(file);
    raw.exec(`INSERT INTO sites (id, name, created_at) VALUES (1, 'default', 1);
      INSERT INTO miners (id, site_id, host, port, first_seen_at, last_seen_at) VALUES
        (1, 1, '127.0.0.1', 4028, 1, 1), (2, 1, '127.0.0.1', 4029, 1, 1), (3, 1, '127.0.0.1', 4030, 1, 1);
      INSERT INTO telemetry_live (miner_id, site_id, run_id, collected_at, ok, snapshot) VALUES
        (1, 1, 1, 1, 1, '{"make":"Goldshell","algorithm":"scrypt"}'),
        (2, 1, 1, 1, 0, NULL),
        (3, 1, 1, 1, 1, 'not json');`);
    raw.close();
    const store = openStore(file);
    try {
      expect(schemaVersion(store.db)).toBe(latestVersion(MIGRATIONS));
      expect(
        store.db.prepare('SELECT miner_id, algorithm FROM telemetry_live ORDER BY miner_id').all(),
      ).toEqual([
        { miner_id: 1, algorithm: 'scrypt' },
        { miner_id: 2, algorithm: null },
        { miner_id: 3, algorithm: null },
      ]);
    } finally {
      store.close();
    }
  });

  it('tell onUpgrade the pending steps of a file that has data, not of a new one', () => {
    const heard: string[][] = [];
    const onUpgrade = (_file: string, steps: readonly string[]) => heard.push([...steps]);
    const file = path.join(dir, 'told.db');
    openStore(file, { onUpgrade }).close();
    expect(heard).toEqual([]);
    const old = path.join(dir, 'old-told.db');
    openStore(old, { targetVersion: 5 }).close();
    openStore(old, { readonly: true, onUpgrade }).close();
    expect(heard).toEqual([
      [
        '0006-live-algorithm',
        '0007-history-series-index',
        '0008-miner-firmware-limits',
        '0009-hourly-averages',
        '0010-outbox-covering',
        '0011-algorithm-changes',
        '0012-thermal-machine',
        '0013-algorithm-change-time',
      ],
    ]);
    openStore(old, { onUpgrade }).close();
    expect(heard).toHaveLength(1);
  });

  it('upgrade an old file for a reader only under the collect lock, and not while a collect holds it', () => {
    const file = path.join(dir, 'busy.db');
    openStore(file, { targetVersion: 5 }).close();
    const collecting = acquireLock(file);
    let caught: unknown;
    try {
      openStore(file, { readonly: true });
    } catch (error) {
      caught = error;
    } finally {
      collecting.release();
    }
    expect(caught).toBeInstanceOf(LockedError);
    expect((caught as LockedError).exitCode).toBe(75);
    expect((caught as LockedError).message).toBe(
      `${file} is from an older hashctl (schema 5) and a collect run holds it: try again when it finishes (a collect of this hashctl upgrades it itself)`,
    );
    const Database = loadSqlite();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(5);
    raw.close();
    const store = openStore(file, { readonly: true });
    expect(schemaVersion(store.db)).toBe(latestVersion(MIGRATIONS));
    store.close();
    acquireLock(file).release(); // the reader let go of the lock it took
  });

  it('roll a failing step back entirely, leaving user_version where it was', () => {
    const file = path.join(dir, 'failing.db');
    openStore(file).close();
    const failing: Migration[] = [
      ...MIGRATIONS,
      {
        version: 901,
        name: 'broken',
        up: (db) => {
          db.exec('CREATE TABLE half_done (id INTEGER PRIMARY KEY) STRICT');
          db.exec('THIS IS NOT SQL');
        },
      },
    ];
    expect(() => openStore(file, { migrations: failing })).toThrow(StoreError);
    const store = openStore(file);
    try {
      expect(schemaVersion(store.db)).toBe(latestVersion(MIGRATIONS));
      expect(
        store.db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").pluck().get(),
      ).toBe(0);
    } finally {
      store.close();
    }
  });

  it('refuse a database from a newer hashctl with exit code 2 and leave it untouched', () => {
    const file = path.join(dir, 'future.db');
    openStore(file).close();
    const Database = loadSqlite();
    const raw = new Database(file);
    raw.pragma('user_version = 9999');
    raw.close();
    const before = fs.readFileSync(file);

    let caught: unknown;
    try {
      openStore(file);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreVersionError);
    expect((caught as StoreVersionError).kind).toBe('store');
    expect((caught as StoreVersionError).exitCode).toBe(2);
    expect((caught as StoreVersionError).details).toMatchObject({ schema: 9999 });
    expect(() => openStore(file, { readonly: true })).toThrow(StoreVersionError);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('refuse a newer file before switching it to WAL (the header is a write too)', () => {
    const file = path.join(dir, 'future-delete-journal.db');
    const Database = loadSqlite();
    const raw = new Database(file);
    raw.exec('CREATE TABLE t (x)');
    raw.pragma('user_version = 9999');
    raw.close();
    const before = fs.readFileSync(file);
    expect(() => openStore(file)).toThrow(StoreVersionError);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it("refuse another program's database that sets a schema version too, and leave it untouched", () => {
    const Database = loadSqlite();
    for (const version of [1, 2, 7]) {
      const file = path.join(dir, `app-${version}.db`);
      const raw = new Database(file);
      raw.exec(`CREATE TABLE foo (x); INSERT INTO foo VALUES (42); PRAGMA user_version = ${version}`);
      raw.close();
      const before = fs.readFileSync(file);
      for (const readonly of [false, true]) {
        expect(() => openStore(file, { readonly })).toThrow(
          `${file} is not a hashctl database (its schema version is ${version}, but it lacks hashctl's tables): give --db another file`,
        );
      }
      expect(() => assertNotForeign(file)).toThrow(StoreVersionError);
      expect(fs.readFileSync(file).equals(before)).toBe(true);
    }
  });

  it('refuse a FIFO or a device as the database, for readers and writers, before opening it', () => {
    const fifo = path.join(dir, 'pipe.db');
    execFileSync('mkfifo', [fifo]);
    for (const file of [fifo, '/dev/null']) {
      for (const readonly of [false, true]) {
        expect(() => openStore(file, { readonly })).toThrow(
          `${file} is not a regular file (a FIFO, device or socket): give --db a file name`,
        );
      }
      expect(() => acquireLock(file)).toThrow(UsageError);
    }
    expect(fs.existsSync('/dev/null.lock')).toBe(false);
  });

  it.runIf(fs.existsSync('/proc/version'))(
    'refuse a kernel file (/proc, /sys) as the database, for readers, writers and the lock, not as a full disk or an empty store',
    () => {
      for (const file of ['/proc/version', '/proc/hashctl-none.db', '/sys/kernel/hashctl.db']) {
        for (const open of [
          () => openStore(file),
          () => openStore(file, { readonly: true }),
          () => acquireLock(file),
        ]) {
          let caught: unknown;
          try {
            open();
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(UsageError);
          expect((caught as UsageError).message).toMatch(
            new RegExp(`^${file} is on the kernel's (proc|sysfs) file system, not a database file`),
          );
        }
      }
    },
  );

  it('say a file that is not SQLite at all is none before any lock file is made', () => {
    const file = path.join(dir, 'notes.db');
    fs.writeFileSync(file, 'hello, this is text\n'.repeat(20));
    expect(() => assertNotForeign(file)).toThrow(`${file} is not a hashctl database or is damaged`);
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
  });

  it("refuse another program's database, for readers and writers, and leave it untouched", () => {
    const file = path.join(dir, 'crm.db');
    const Database = loadSqlite();
    const raw = new Database(file);
    raw.exec("CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('a')");
    raw.close();
    const before = fs.readFileSync(file);
    for (const readonly of [false, true]) {
      let caught: unknown;
      try {
        openStore(file, { readonly });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(StoreVersionError);
      expect((caught as StoreVersionError).exitCode).toBe(2);
      expect((caught as StoreVersionError).message).toBe(
        `${file} is not a hashctl database (it holds 1 other table): give --db another file`,
      );
    }
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it('open read-only only when the file exists, and upgrade an old file first', () => {
    const missing = path.join(dir, 'missing.db');
    let caught: unknown;
    try {
      openStore(missing, { readonly: true });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreError);
    expect((caught as StoreError).kind).toBe('io');
    expect(fs.existsSync(missing)).toBe(false);

    // An empty file (user_version 0) holds nothing: a reader says so and does not create the schema.
    const empty = path.join(dir, 'empty.db');
    fs.writeFileSync(empty, '');
    expect(() => openStore(empty, { readonly: true })).toThrow(/^nothing stored in .*empty\.db yet/);
    expect(fs.statSync(empty).size).toBe(0);

    const old = path.join(dir, 'old.db');
    openStore(old, { targetVersion: 1 }).close();
    const store = openStore(old, { readonly: true });
    try {
      expect(store.readonly).toBe(true);
      expect(schemaVersion(store.db)).toBe(latestVersion(MIGRATIONS));
      expect(() => store.db.prepare("INSERT INTO sites (name, created_at) VALUES ('x', 1)").run()).toThrow(
        /readonly/,
      );
    } finally {
      store.close();
    }
  });

  it('say a directory is not a database (a usage error), for readers, writers and the lock alike', () => {
    for (const open of [
      () => openStore(dir),
      () => openStore(dir, { readonly: true }),
      () => acquireLock(dir),
    ]) {
      let caught: unknown;
      try {
        open();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(UsageError);
      expect((caught as UsageError).exitCode).toBe(2);
      expect((caught as UsageError).message).toBe(
        `${dir} is a directory, not a database file (give --db a file name)`,
      );
    }
    expect(fs.existsSync(`${dir}.lock`)).toBe(false);
  });

  it('name the file when it is not a database', () => {
    const file = path.join(dir, 'not-a-db.db');
    fs.writeFileSync(
      file,
      'this is a text file, not SQLite, and it is long enough to have a header'.repeat(20),
    );
    let caught: unknown;
    try {
      openStore(file);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreError);
    expect((caught as StoreError).kind).toBe('store');
    expect((caught as StoreError).message).toContain(file);
  });
});
