// A real full disk, end to end through bin/hashctl: a small tmpfs mounted in a private mount
// namespace (`unshare -rm`, as unwritable.test.ts does), skipped where the host allows none.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
function onTmpfs(script: string, options = 'size=1m') {
  const result = spawnSync(
    'unshare',
    ['-rm', 'sh', '-c', `mount -t tmpfs -o ${options} tmpfs "$D" && ${script}`],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', D: dir, N: process.execPath, B: bin },
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
