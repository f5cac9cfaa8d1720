// bin/hashctl runs the bundle from a V8 code cache. Node 20 loses a script's dynamic-import callback
// when the script comes from a cache, so this runs commands that load packages lazily (the chart's
// asciichart, the table's cli-table3 and chalk) twice, without and then with the cache, end to end.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, writeCycle } from '../../src/store/index.js';
import { okOutcome, tempDir } from '../store/helpers.js';

const bin = path.resolve(import.meta.dirname, '../../bin/hashctl');

let dir: string;
let cleanup: () => void;
let db: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-code-cache-'));
  db = path.join(dir, 'farm.db');
  const store = openStore(db);
  const now = Date.now();
  for (let cycle = 0; cycle < 3; cycle++) {
    const at = now - (3 - cycle) * 60_000;
    writeCycle(store, { site: 'default', startedAt: at, endedAt: at + 500, outcomes: [okOutcome(4028)] });
  }
  store.close();
});
afterEach(() => cleanup());

function hashctl(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [bin, ...args, '--db', db], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      HOME: path.join(dir, 'home'),
      TMPDIR: path.join(dir, 'tmp'),
      HASHCTL_FORMAT: 'table',
      FORCE_COLOR: '1',
      ...env,
    },
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const caches = (cacheDir: string) =>
  fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir).filter((name) => name.endsWith('.v8cache')) : [];

describe('the code cache of bin/hashctl', () => {
  it('is written by the first run, used by the next, and the lazily loaded packages still load', () => {
    const cacheDir = path.join(dir, 'cache');
    for (const args of [['history', '127.0.0.1:4028', '--since', '1h'], ['live']]) {
      const first = hashctl(args, { HASHCTL_CACHE_DIR: cacheDir });
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(caches(cacheDir)).toHaveLength(1);
      const second = hashctl(args, { HASHCTL_CACHE_DIR: cacheDir });
      expect(second).toEqual(first);
      const uncached = hashctl(args, { HASHCTL_CACHE_DIR: cacheDir, HASHCTL_CODE_CACHE: '0' });
      expect(uncached).toEqual(first);
    }
    const [name] = caches(cacheDir);
    expect(fs.statSync(path.join(cacheDir, name!)).mode & 0o777).toBe(0o600);
  });

  it('is not written by a bare --version, which stops before the program compiles', () => {
    const cacheDir = path.join(dir, 'cache');
    const env = { HASHCTL_CACHE_DIR: cacheDir };
    for (const flag of ['--version', '-V']) {
      const result = spawnSync(process.execPath, [bin, flag], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
      expect(result.status).toBe(0);
      expect(caches(cacheDir)).toHaveLength(0);
    }
    expect(hashctl(['live'], env).code).toBe(0);
    expect(caches(cacheDir)).toHaveLength(1);
  });

  it("leaves another checkout's cache alone, and replaces its own older one", () => {
    const cacheDir = path.join(dir, 'cache');
    expect(hashctl(['live'], { HASHCTL_CACHE_DIR: cacheDir }).code).toBe(0);
    const [own] = caches(cacheDir);
    const prefix = own!.split('-').slice(0, 2).join('-');
    const older = `${prefix}-1-2-v0-x64.v8cache`;
    const foreign = 'bundle-00000000-1-2-v0-x64.v8cache';
    fs.renameSync(path.join(cacheDir, own!), path.join(cacheDir, older));
    fs.writeFileSync(path.join(cacheDir, foreign), 'not a cache');
    expect(hashctl(['live'], { HASHCTL_CACHE_DIR: cacheDir }).code).toBe(0);
    expect(caches(cacheDir).sort()).toEqual([foreign, own].sort());
  });

  it('is never read from or written to a directory others may write', () => {
    const shared = path.join(dir, 'shared');
    fs.mkdirSync(shared, { mode: 0o777 });
    fs.chmodSync(shared, 0o777);
    const home = path.join(dir, 'home');
    const run = hashctl(['live'], { HASHCTL_CACHE_DIR: shared });
    expect(run.code).toBe(0);
    expect(caches(shared)).toEqual([]);
    // The next directory in line took it instead.
    expect(caches(path.join(home, '.cache', 'hashctl'))).toHaveLength(1);
  });

  it('rejects a cache damaged on disk (V8 checks its checksum) and writes a good one again', () => {
    const cacheDir = path.join(dir, 'cache');
    const first = hashctl(['live'], { HASHCTL_CACHE_DIR: cacheDir });
    expect(first.code).toBe(0);
    const file = path.join(cacheDir, caches(cacheDir)[0]!);
    const bytes = fs.readFileSync(file);
    // Bits flipped all through the payload: without the checksum, V8 ran it and crashed (SIGSEGV).
    for (let at = 2000; at < bytes.length; at += 997) bytes[at] = (bytes[at] as number) ^ 0x10;
    fs.writeFileSync(file, bytes);
    const damaged = hashctl(['live'], { HASHCTL_CACHE_DIR: cacheDir });
    expect(damaged).toEqual(first);
    expect(fs.readFileSync(file).equals(bytes)).toBe(false);
    expect(hashctl(['live'], { HASHCTL_CACHE_DIR: cacheDir })).toEqual(first);
  });

  it('is named after the content of the build, not its size and modification time', () => {
    const cacheDir = path.join(dir, 'cache');
    expect(hashctl(['live'], { HASHCTL_CACHE_DIR: cacheDir }).code).toBe(0);
    const stamp = /^\/\/ hashctl-build ([0-9a-f]{16})\n/.exec(
      fs.readFileSync(path.resolve(import.meta.dirname, '../../dist/hashctl.cjs'), 'utf8').slice(0, 40),
    );
    expect(stamp).not.toBeNull();
    expect(caches(cacheDir)[0]).toContain(`-${stamp![1]}-${process.version}-`);
  });

  it('is not used with HASHCTL_CODE_CACHE=0', () => {
    const cacheDir = path.join(dir, 'cache');
    expect(hashctl(['live'], { HASHCTL_CACHE_DIR: cacheDir, HASHCTL_CODE_CACHE: '0' }).code).toBe(0);
    expect(caches(cacheDir)).toEqual([]);
  });

  it('skips a cache directory that cannot be made, /proc included, without hanging', () => {
    // Node's own recursive mkdir never returns under /proc.
    const run = hashctl(['live'], {
      HASHCTL_CACHE_DIR: '/proc/self/hashctl/cache',
      XDG_CACHE_HOME: '/proc/x',
    });
    expect(run.code).toBe(0);
    expect(caches(path.join(dir, 'home', '.cache', 'hashctl'))).toHaveLength(1);
  });
});
