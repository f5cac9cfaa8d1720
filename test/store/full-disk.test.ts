// A real full disk, end to end through bin/hashctl: a small tmpfs mounted in a private mount
// namespace (`unshare -rm`, as unwritable.test.ts does), skipped where the host allows none.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, Store } from '../../src/store/index.js';
import { tempDir } from './helpers.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'bin', 'hashctl');

/** Whether this host lets a test mount a tmpfs of its own (a user and mount namespace). */
const canMount =
  process.platform === 'linux' &&
  spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$1"', 'sh', root], {
    timeout: 10_000,
  }).status === 0;

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-full-'));
});
afterEach(() => cleanup());

/**
 * Runs `script` (sh, with $D a fresh 1 MB tmpfs, $N node and $B bin/hashctl) in its own mount
 * namespace; the file system is gone when it returns.
 */
function onTmpfs(script: string, options = 'size=1m', more: Record<string, string> = {}) {
  const result = spawnSync(
    'unshare',
    ['-rm', 'sh', '-c', `mount -t tmpfs -o ${options} tmpfs "$D" && ${script}`],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', D: dir, N: process.execPath, B: bin, ...more },
      timeout: 60_000,
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// No miner answers on port 1 of loopback: each run stores a cycle of one failed miner (exit 1).
const COLLECT = '"$N" "$B" collect --targets 127.0.0.1:1 --db "$D/farm.db" --once';

describe('collect on a full disk', () => {
  it.skipIf(!canMount)(
    'names the database, not its lock file, and stores the next cycle once there is room',
    () => {
      const result = onTmpfs(
        [
          `${COLLECT} 2>/dev/null`,
          // Fill the file system to the last block.
          'dd if=/dev/zero of="$D/filler" bs=4k 2>/dev/null',
          `${COLLECT}; echo "full $?"`,
          'rm "$D/filler"',
          `${COLLECT} --json 2>/dev/null; echo "room $?"`,
        ].join('; '),
      );
      expect(result.stderr).toBe(
        `hashctl: disk full writing ${dir}/farm.db: nothing from this write was stored, earlier data is intact\n`,
      );
      // The full disk: exit 1; with room again, the next run is stored after the first (exit 1 only
      // because no miner answered).
      const lines = result.stdout.trim().split('\n');
      expect(lines[0]).toBe('full 1');
      expect(JSON.parse(lines[1]!)).toMatchObject({ run_id: 2, polled: 1 });
      expect(lines[2]).toBe('room 1');
    },
  );

  it.skipIf(!canMount)(
    'out of inodes: says the disk is full, not "missing directory or no permission"',
    () => {
      // Every inode taken (the file system's root holds one), first before the lock, then before the database.
      const fill = 'i=0; while touch "$D/f$i" 2>/dev/null; do i=$((i+1)); done';
      const result = onTmpfs(
        [
          fill,
          `${COLLECT}; echo "lock $?"`,
          'rm "$D/f0"',
          'touch "$D/farm.db.lock"',
          `${COLLECT}; echo "db $?"`,
        ].join('; '),
        'size=1m,nr_inodes=16',
      );
      const full = (file: string) =>
        `hashctl: disk full: cannot create ${dir}/${file} or the files beside it (no space or inodes left on its file system); nothing was stored, earlier data is intact`;
      expect(result.stderr.trim().split('\n')).toEqual([full('farm.db.lock'), full('farm.db')]);
      expect(result.stdout.trim().split('\n')).toEqual(['lock 1', 'db 1']);
    },
  );
});

describe('reading on a full disk', () => {
  /** A database, its -wal and its -shm as a collect left them, in a folder of its own outside the tmpfs. */
  let prep: string;
  beforeEach(() => {
    prep = fs.mkdtempSync(path.join(dir, '..', 'hashctl-full-prep-'));
  });
  afterEach(() => fs.rmSync(prep, { recursive: true, force: true }));

  /** Fill the tmpfs to its last block; with `inodes`, to its last inode first. */
  const fill = (inodes = false) =>
    [
      inodes ? 'i=0; while touch "$D/f$i" 2>/dev/null; do i=$((i+1)); done' : ':',
      'dd if=/dev/zero of="$D/filler" bs=4k 2>/dev/null',
    ].join('; ');
  const READS = [
    'live --json',
    'upload --status --json',
    'history 127.0.0.1:1 --metric hashrate --json',
    'export --format csv',
  ];

  it.skipIf(!canMount)(
    'live, upload --status, history and export read what is stored, with room for no -shm',
    () => {
      const result = onTmpfs(
        [
          `${COLLECT} 2>/dev/null >/dev/null`,
          fill(),
          ...READS.map((read) => `"$N" "$B" ${read} --db "$D/farm.db"; echo "rc $?"`),
        ].join('; '),
      );
      expect(result.stderr).toBe('');
      const out = result.stdout;
      expect(out.match(/^rc \d+$/gm)).toEqual(['rc 0', 'rc 0', 'rc 0', 'rc 0']);
      expect(out).toContain('"miner": "127.0.0.1:1"');
      expect(out).toContain('"pending"');
      expect(out).toContain(',default,127.0.0.1:1,1,');
    },
  );

  it.skipIf(!canMount)(
    'thermal check --from-db checks the stored miners read-only, recording nothing',
    () => {
      const result = onTmpfs(
        [
          `${COLLECT} 2>/dev/null >/dev/null`,
          fill(),
          `"$N" "$B" thermal check --from-db --db "$D/farm.db"; echo "rc $?"`,
        ].join('; '),
      );
      expect(result.stderr).toContain(
        `hashctl: disk full writing ${dir}/farm.db: nothing from this write was stored, earlier data is intact; checked the stored miners read-only (no hysteresis, nothing recorded)\n`,
      );
      expect(result.stdout).toMatch(/^127\.0\.0\.1:1\t/m);
      expect(result.stdout).toMatch(/^rc 1$/m);
    },
  );

  it.skipIf(!canMount)(
    'no inode left for the -shm either: the database file alone is read when its -wal holds nothing',
    () => {
      const result = onTmpfs(
        [
          `${COLLECT} 2>/dev/null >/dev/null`,
          fill(true),
          'ls "$D"',
          `"$N" "$B" live --json --db "$D/farm.db"; echo "rc $?"`,
        ].join('; '),
        'size=1m,nr_inodes=16',
      );
      expect(result.stderr).toBe('');
      expect(result.stdout).not.toMatch(/^farm\.db-shm$/m);
      expect(result.stdout).toContain('"miner": "127.0.0.1:1"');
      expect(result.stdout).toMatch(/^rc 0$/m);
    },
  );

  /** A database whose last commit is only in its -wal (a collect killed mid-run), copied as it was. */
  function walWithCommit(): void {
    const file = path.join(prep, 'farm.db');
    openStore(file).close();
    const writer = new Database(file);
    writer.pragma('wal_autocheckpoint = 0');
    writer.prepare("INSERT INTO sites (id, name, created_at) VALUES (7, 'only-in-wal', 0)").run();
    for (const suffix of ['', '-wal'])
      fs.copyFileSync(`${file}${suffix}`, path.join(prep, `copy.db${suffix}`));
    writer.close();
  }

  it.skipIf(!canMount)('a -wal holding commits is read whole when an -shm can be made', () => {
    walWithCommit();
    const result = onTmpfs(
      [
        `cp "$P/copy.db" "$D/farm.db"; cp "$P/copy.db-wal" "$D/farm.db-wal"`,
        fill(),
        `"$N" "$B" export --format csv --db "$D/farm.db" --site only-in-wal; echo "rc $?"`,
      ].join('; '),
      'size=1m',
      { P: prep },
    );
    // The site is known (only its -wal says so): an empty export, not "no site only-in-wal".
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^rc 0$/m);
  });

  it.skipIf(!canMount)('a -wal holding commits with no room for an -shm: says so, reads nothing half', () => {
    walWithCommit();
    const result = onTmpfs(
      [
        `cp "$P/copy.db" "$D/farm.db"; cp "$P/copy.db-wal" "$D/farm.db-wal"`,
        fill(true),
        `"$N" "$B" live --db "$D/farm.db"; echo "rc $?"`,
        `cmp "$P/copy.db-wal" "$D/farm.db-wal" && echo same`,
      ].join('; '),
      'size=1m,nr_inodes=16',
      { P: prep },
    );
    expect(result.stderr).toBe(
      `hashctl: cannot read ${dir}/farm.db on a full disk: farm.db-wal holds commits not yet in the database, which SQLite can read safely only with farm.db-shm beside it, and there is no room to create that: free some space on its file system and run again (nothing was changed)\n`,
    );
    expect(result.stdout.trim().split('\n')).toEqual(['rc 1', 'same']);
  });

  it.skipIf(!canMount)(
    "an older hashctl's file: one line saying it needs an upgrade and room for it, the file untouched",
    () => {
      openStore(path.join(prep, 'old.db'), { targetVersion: 5 }).close();
      const result = onTmpfs(
        [
          'cp "$P/old.db" "$D/farm.db"',
          fill(),
          `"$N" "$B" upload --status --db "$D/farm.db"; echo "rc $?"`,
          'cmp "$P/old.db" "$D/farm.db" && echo same',
        ].join('; '),
        'size=1m',
        { P: prep },
      );
      expect(result.stderr).toBe(
        `hashctl: ${dir}/farm.db is from an older hashctl (schema 5) and must be upgraded before this hashctl can read it, which needs free space on its file system: free some and run again (what is stored is intact)\n`,
      );
      expect(result.stdout.trim().split('\n')).toEqual(['rc 1', 'same']);
    },
  );
});

describe('a database read as immutable (no room for its -shm)', () => {
  it('a read during which a writer changed the file is refused, not shown half', () => {
    const file = path.join(dir, 'farm.db');
    openStore(file).close();
    // SQLite takes no lock on an immutable file: the Store checks the file after each read.
    const reader = new Database(file, { readonly: true });
    reader.pragma('user_version'); // makes the -shm that a full disk would not let it make
    const store = new Store(reader, file, true, true);
    try {
      expect(store.snapshot((db) => db.prepare('SELECT count(*) FROM sites').pluck().get())).toBe(0);
      const writer = openStore(file);
      writer.db.prepare("INSERT INTO sites (name, created_at) VALUES ('b', 0)").run();
      writer.close();
      expect(() => store.snapshot((db) => db.prepare('SELECT count(*) FROM sites').pluck().get())).toThrow(
        /was written while it was read without its -shm .*: try again/,
      );
    } finally {
      store.close();
    }
  });
});
