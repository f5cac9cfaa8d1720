// A file this user may read but not write, end to end through bin/hashctl: readers get one line
// that says what to do, never "nothing was stored". Run as root (CI), the command runs as nobody,
// for whom the permissions below hold; run as anyone else, they hold for that user already. Root
// with a checkout nobody may read (a clone under /root) cannot drop its rights for the command, and
// checks the other side instead: whoever may write the file upgrades it and reads it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { latestVersion, MIGRATIONS, openStore, schemaVersion } from '../../src/store/index.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'bin', 'hashctl');
const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;
/** Whether the command can run as nobody (root only: it needs the checkout readable by others). */
const asNobody =
  asRoot &&
  spawnSync(process.execPath, [bin, '--version'], { uid: NOBODY, gid: NOBODY, timeout: 20_000 }).status === 0;
const mayWriteAnyway = asRoot && !asNobody;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-unwritable-'));
});
afterEach(() => {
  fs.chmodSync(dir, 0o755);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** bin/hashctl with `args`, as nobody when that is possible. */
function runAs(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
    ...(asNobody ? { uid: NOBODY, gid: NOBODY } : {}),
    timeout: 20_000,
  });
}

function liveAs(file: string) {
  const result = runAs(['live', '--db', file]);
  return { code: result.status, stderr: result.stderr };
}

/** One `collect --once` into `db` of a target that refuses at once. */
function collectOnceAs(db: string) {
  return runAs([
    'collect',
    '--once',
    '--targets',
    '127.0.0.1:1',
    '--timeout',
    '300ms',
    '--retries',
    '0',
    '--db',
    db,
  ]);
}

/** A closed database at `version`, with no -wal or -shm left beside it. */
function database(name: string, version?: number): string {
  const file = path.join(dir, name);
  openStore(file, version === undefined ? {} : { targetVersion: version }).close();
  for (const extra of ['-wal', '-shm']) fs.rmSync(`${file}${extra}`, { force: true });
  return file;
}

describe('a database this user may not write', () => {
  it('in a directory it may not write: live says SQLite needs its -shm file there', () => {
    const file = database('farm.db');
    fs.chmodSync(file, 0o644);
    fs.chmodSync(dir, 0o555);
    const { code, stderr } = liveAs(file);
    if (mayWriteAnyway) {
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      return;
    }
    expect(code).toBe(1);
    expect(stderr).toBe(
      `hashctl: cannot read ${file} as this user: SQLite must create farm.db-shm in its directory, which this user may not write (give write access to the directory, or run as the file's owner)\n`,
    );
  });

  it('with the -wal a killed collector left and no -shm: live says SQLite needs its -shm file there', () => {
    // What `kill -9` (or a power cut) leaves of a collect: the last cycles in farm.db-wal only.
    const writer = openStore(path.join(dir, 'writer.db'));
    writer.db.pragma('wal_autocheckpoint = 0');
    writer.db.exec("INSERT INTO sites (name, created_at) VALUES ('north', 0)");
    const file = path.join(dir, 'farm.db');
    fs.copyFileSync(writer.path, file);
    fs.copyFileSync(`${writer.path}-wal`, `${file}-wal`);
    writer.close();
    fs.chmodSync(dir, 0o555);
    const { code, stderr } = liveAs(file);
    if (mayWriteAnyway) {
      expect(code).toBe(0);
      return;
    }
    expect(code).toBe(1);
    expect(stderr).toBe(
      `hashctl: cannot read ${file} as this user: SQLite must create farm.db-shm in its directory, which this user may not write (give write access to the directory, or run as the file's owner)\n`,
    );
  });

  it('from an older hashctl: live says it cannot upgrade it, and the file keeps its schema', () => {
    const file = database('old.db', 5);
    fs.chmodSync(file, 0o444);
    fs.chmodSync(dir, 0o1777);
    const before = fs.readFileSync(file);
    const { code, stderr } = liveAs(file);
    if (mayWriteAnyway) {
      expect(code).toBe(0);
      expect(stderr).toContain(`hashctl: upgrading ${file} for this hashctl (0006-live-algorithm`);
      const upgraded = openStore(file, { readonly: true, targetVersion: 5 });
      expect(schemaVersion(upgraded.db)).toBe(latestVersion(MIGRATIONS));
      upgraded.close();
      return;
    }
    expect(code).toBe(1);
    expect(stderr).toContain(`hashctl: ${file} is from an older hashctl (schema 5) and read-only here`);
    expect(stderr.trim().split('\n').length).toBeLessThanOrEqual(2); // the upgrade note, then the error
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('in a directory it may not write, with no lock file yet: collect names the directory, not "cannot open database FILE.lock"', () => {
    // What a first collect as another user meets: SQLite's words for the lock file it cannot create
    // called the lock a database and blamed a "missing directory" that is there.
    const file = database('farm.db');
    fs.chmodSync(file, 0o666);
    fs.chmodSync(dir, 0o555);
    for (const db of [file, path.join(dir, 'new.db')]) {
      const result = collectOnceAs(db);
      if (mayWriteAnyway) {
        expect(result.status).toBe(1); // root writes there anyway; the one target is refused
        continue;
      }
      expect(result.stderr).toBe(
        `hashctl: ${db} cannot be written: its directory ${dir} is read-only for this user (hashctl must create ${path.basename(db)}.lock there, and SQLite its -wal and -shm): nothing was stored\n`,
      );
      expect(result.status).toBe(1);
    }
    expect(fs.readdirSync(dir)).toEqual(['farm.db']);
  });

  it('with a -shm another user left read-only: collect names the -shm, not the writable database', () => {
    const file = database('farm.db');
    fs.chmodSync(file, 0o666);
    fs.chmodSync(dir, 0o1777);
    fs.writeFileSync(`${file}-shm`, Buffer.alloc(32_768));
    fs.chmodSync(`${file}-shm`, 0o444);
    const result = collectOnceAs(file);
    if (mayWriteAnyway) {
      expect(result.status).toBe(1); // root writes the -shm anyway; the one target is refused
      return;
    }
    expect(result.stderr).toContain(`hashctl: ${file} cannot be written: its ${file}-shm is read-only`);
    expect(result.status).toBe(1);
  });
});

/** Whether this host lets a test mount a read-only view of a folder (a user and mount namespace). */
const canMountReadOnly =
  spawnSync('unshare', ['-rm', 'true'], { timeout: 10_000 }).status === 0 && process.platform === 'linux';

describe('a database on a read-only file system', () => {
  /** `live ARGS --db VIEW/farm.db` in a private mount namespace where VIEW shows `dir` read-only. */
  function liveThroughView(view: string, args: string) {
    const script = `mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && exec "$3" "$4" live ${args} --db "$2/farm.db"`;
    return spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', dir, view, process.execPath, bin], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
      timeout: 20_000,
    });
  }

  it.skipIf(!canMountReadOnly)('live reads it in place, creating nothing beside it', () => {
    // One cycle stored (of a miner that does not answer), its -wal checkpointed and removed at exit.
    spawnSync(
      process.execPath,
      [bin, 'collect', '--once', '--targets', '127.0.0.1:1', '--db', path.join(dir, 'farm.db')],
      { env: { PATH: process.env.PATH ?? '' }, timeout: 20_000 },
    );
    const view = path.join(dir, 'view');
    fs.mkdirSync(view);
    const result = liveThroughView(view, '--json');
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('"miner": "127.0.0.1:1"');
    expect(result.status).toBe(0);
    // Nothing was changed in the folder behind the view.
    expect(fs.readdirSync(dir).sort()).toEqual(['farm.db', 'farm.db.lock', 'view']);
  });

  it.skipIf(!canMountReadOnly)(
    'a -wal holding commits, with no -shm: says it must be copied to be read, never reads it half',
    () => {
      const file = database('farm.db');
      // A commit only in the -wal (its writer killed), and no -shm beside it.
      const writer = openStore(file);
      writer.db.pragma('wal_autocheckpoint = 0');
      writer.db.prepare("INSERT INTO sites (name, created_at) VALUES ('b', 0)").run();
      fs.copyFileSync(`${file}-wal`, path.join(dir, 'wal'));
      writer.close();
      fs.renameSync(path.join(dir, 'wal'), `${file}-wal`);
      fs.rmSync(`${file}-shm`, { force: true });
      const view = path.join(dir, 'view');
      fs.mkdirSync(view);
      const result = liveThroughView(view, '');
      expect(result.status).toBe(1);
      expect(result.stderr.trim()).toBe(
        `hashctl: cannot read ${view}/farm.db on a read-only file system: farm.db-wal holds commits not yet in the database, which SQLite can read safely only with farm.db-shm beside it, and it cannot create that there: copy the file with its farm.db-wal to a writable folder and read the copy`,
      );
      expect(fs.readdirSync(dir).sort()).toEqual(['farm.db', 'farm.db-wal', 'view']);
    },
  );

  it.skipIf(!canMountReadOnly)(
    "an older hashctl's file: says it needs an upgrade, which a read-only mount does not allow",
    () => {
      database('farm.db', 5);
      const view = path.join(dir, 'view');
      fs.mkdirSync(view);
      const result = liveThroughView(view, '');
      expect(result.stderr.trim()).toBe(
        `hashctl: ${view}/farm.db is from an older hashctl (schema 5) and must be upgraded before this hashctl can read it, which cannot be done on a read-only file system: copy it to a writable folder and read the copy, or use the hashctl that wrote it`,
      );
      expect(result.status).toBe(1);
    },
  );

  it.skipIf(!canMountReadOnly)(
    'collect says the folder is read-only, not "no permission" nor a lock left by sudo',
    () => {
      database('farm.db');
      const view = path.join(dir, 'view');
      fs.mkdirSync(view);
      const script =
        'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && "$3" "$4" collect --targets 127.0.0.1:1 --once --db "$2/farm.db"';
      const collect = () =>
        spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', dir, view, process.execPath, bin], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
          timeout: 20_000,
        });
      const expected = `hashctl: cannot write ${view}/farm.db: its folder is on a read-only file system (a writer needs the database and farm.db.lock writable there); nothing was stored\n`;
      // No lock file yet, and one an earlier run left there.
      for (const lockLeft of [false, true]) {
        if (lockLeft) fs.writeFileSync(path.join(dir, 'farm.db.lock'), '');
        const result = collect();
        expect(result.stderr, `lock left: ${lockLeft}`).toBe(expected);
        expect(result.status).toBe(1);
      }
    },
  );
});
