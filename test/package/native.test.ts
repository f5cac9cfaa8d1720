// The SEA addon loader, exercised outside a SEA with the real compiled addon: extraction into a
// cache dir, reuse, fallbacks for unusable dirs, and the nativeBinding wrapper.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import {
  addonCacheDirs,
  addonFileName,
  loadAddonFromAsset,
  loadSqlite,
  type NativeAddon,
  withNativeBinding,
} from '../../src/store/native.js';

const require = createRequire(import.meta.url);
const addonFile = path.join(
  path.dirname(require.resolve('better-sqlite3/package.json')),
  'build',
  'Release',
  'better_sqlite3.node',
);
const addonBytes = new Uint8Array(fs.readFileSync(addonFile));
const abi = process.versions.modules;

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-native-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('addonCacheDirs', () => {
  it('orders override, XDG cache, home cache, then a per-user temp dir', () => {
    const dirs = addonCacheDirs({ HASHCTL_CACHE_DIR: '/opt/hc', XDG_CACHE_HOME: '/xdg', HOME: '/home/op' });
    expect(dirs.slice(0, 3)).toEqual(['/opt/hc', '/xdg/hashctl', '/home/op/.cache/hashctl']);
    expect(dirs[3]).toBe(path.join(os.tmpdir(), `hashctl-${process.getuid?.() ?? 'user'}`));
    expect(dirs).toHaveLength(4);
  });

  it.skipIf(process.getuid?.() !== 0)(
    "skips another user's home (root under sudo -E): no root-owned ~/.cache there",
    () => {
      const home = path.join(tmp, 'someone');
      fs.mkdirSync(home);
      fs.chownSync(home, 65534, 65534);
      expect(addonCacheDirs({ HOME: home })).not.toContain(path.join(home, '.cache', 'hashctl'));
      expect(addonCacheDirs({ HOME: tmp })).toContain(path.join(tmp, '.cache', 'hashctl'));
    },
  );

  it('a working directory deleted under it: a relative HASHCTL_CACHE_DIR or TMPDIR is a dir that fails, not a crash', () => {
    const home = path.join(tmp, 'home');
    const gone = path.join(tmp, 'gone');
    fs.mkdirSync(gone);
    const before = process.cwd();
    const tmpdirBefore = process.env.TMPDIR;
    let dirs: string[] = [];
    try {
      process.chdir(gone);
      fs.rmdirSync(gone);
      process.env.TMPDIR = 'reltmp';
      // Was: uv_cwd ENOENT out of path.resolve, an internal error for every SQLite command of
      // dist/hashctl, though the home cache was fine.
      dirs = addonCacheDirs({ HASHCTL_CACHE_DIR: 'relcache', HOME: home });
    } finally {
      process.chdir(before);
      if (tmpdirBefore === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdirBefore;
    }
    expect(dirs).toContain(path.join(home, '.cache', 'hashctl'));
    expect(dirs[0]).toMatch(/relcache$/);
  });

  it('ignores a relative XDG_CACHE_HOME, as the XDG spec says', () => {
    const dirs = addonCacheDirs({ XDG_CACHE_HOME: 'relative', HOME: '/home/op' });
    expect(dirs[0]).toBe('/home/op/.cache/hashctl');
    expect(dirs).toHaveLength(2);
  });
});

describe('loadAddonFromAsset', () => {
  it('writes the addon once, keyed by hash and ABI, and opens a working database with it', () => {
    const dir = path.join(tmp, 'cache', 'hashctl');
    const loaded = loadAddonFromAsset(addonBytes, { dirs: [dir], abi });
    expect(loaded.file).toBe(path.join(dir, addonFileName(addonBytes, abi)));
    expect(path.basename(loaded.file)).toMatch(new RegExp(`^better_sqlite3-[0-9a-f]{16}-abi${abi}\\.node$`));
    expect(Buffer.compare(fs.readFileSync(loaded.file), Buffer.from(addonBytes))).toBe(0);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.readdirSync(dir)).toEqual([path.basename(loaded.file)]); // no temp file left over
    expect(typeof loaded.addon.Database).toBe('function');

    const Database = withNativeBinding(loadSqlite(), loaded.addon);
    const db = new Database(path.join(tmp, 'x.db'));
    db.exec('CREATE TABLE t (v INTEGER) STRICT');
    db.prepare('INSERT INTO t VALUES (?)').run(42);
    expect(db.prepare('SELECT v FROM t').get()).toEqual({ v: 42 });
    expect(db).toBeInstanceOf(Database);
    db.close();
  });

  it('reuses an intact cached file and replaces a corrupt one', () => {
    const dir = path.join(tmp, 'cache');
    const opened: string[] = [];
    const dlopen = (file: string): NativeAddon => {
      opened.push(file);
      return { marker: true };
    };
    const first = loadAddonFromAsset(addonBytes, { dirs: [dir], abi, dlopen });
    const inode = fs.statSync(first.file).ino;
    loadAddonFromAsset(addonBytes, { dirs: [dir], abi, dlopen });
    expect(fs.statSync(first.file).ino).toBe(inode);

    fs.writeFileSync(first.file, 'truncated');
    loadAddonFromAsset(addonBytes, { dirs: [dir], abi, dlopen });
    expect(fs.statSync(first.file).size).toBe(addonBytes.byteLength);
    expect(opened).toEqual([first.file, first.file, first.file]);
  });

  it('falls back past a directory that cannot be created', () => {
    const blocker = path.join(tmp, 'a-file');
    fs.writeFileSync(blocker, '');
    const usable = path.join(tmp, 'usable');
    const loaded = loadAddonFromAsset(addonBytes, {
      dirs: [path.join(blocker, 'hashctl'), usable],
      abi,
      dlopen: () => ({}),
    });
    expect(path.dirname(loaded.file)).toBe(usable);
  });

  it('never loads from a directory other users may write, nor a file they could have swapped', () => {
    const shared = path.join(tmp, 'shared');
    fs.mkdirSync(shared, { mode: 0o777 });
    fs.chmodSync(shared, 0o777); // past the umask
    const usable = path.join(tmp, 'usable');
    const opened: string[] = [];
    const loaded = loadAddonFromAsset(addonBytes, {
      dirs: [shared, usable],
      abi,
      dlopen: (file) => {
        opened.push(file);
        return {};
      },
    });
    expect(opened).toEqual([loaded.file]);
    expect(path.dirname(loaded.file)).toBe(usable);
    // A cached copy others may write is rewritten before it is loaded, never trusted as it is.
    fs.chmodSync(loaded.file, 0o777);
    const again = loadAddonFromAsset(addonBytes, { dirs: [usable], abi, dlopen: () => ({}) });
    expect(fs.statSync(again.file).mode & 0o022).toBe(0);
  });

  it('falls back past a directory where loading fails (a noexec mount)', () => {
    const noexec = path.join(tmp, 'noexec');
    const usable = path.join(tmp, 'usable');
    const loaded = loadAddonFromAsset(addonBytes, {
      dirs: [noexec, usable],
      abi,
      dlopen: (file) => {
        if (file.startsWith(noexec)) throw new Error('failed to map segment from shared object');
        return { from: file };
      },
    });
    expect(loaded.addon).toEqual({ from: loaded.file });
    expect(path.dirname(loaded.file)).toBe(usable);
  });

  it('throws one StoreError naming every directory when none works', () => {
    const dirs = [path.join(tmp, 'one'), path.join(tmp, 'two')];
    let caught: unknown;
    try {
      loadAddonFromAsset(addonBytes, {
        dirs,
        abi,
        dlopen: () => {
          throw new Error('failed to map segment\nsecond line');
        },
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreError);
    const error = caught as StoreError;
    expect(error.kind).toBe('store');
    expect(error.message).not.toContain('\n');
    for (const dir of dirs) expect(error.message).toContain(dir);
    expect(error.message).toContain('HASHCTL_CACHE_DIR');
  });
});

describe('loadAddonFromAsset on a system too old for the addon', () => {
  // What dlerror() says on Debian 11 / Ubuntu 20.04 / RHEL 8: node itself (glibc 2.28) starts, the
  // addon (glibc 2.34, GLIBCXX_3.4.29) does not. No directory can cure that: "set HASHCTL_CACHE_DIR"
  // sent operators after the wrong thing, and a copy of the addon was left in every directory.
  it.each([
    (file: string) =>
      `/lib/x86_64-linux-gnu/libc.so.6: version \`GLIBC_2.34' not found (required by ${file})`,
    (file: string) =>
      `/lib/x86_64-linux-gnu/libstdc++.so.6: version \`GLIBCXX_3.4.29' not found (required by ${file})`,
    () => 'libstdc++.so.6: cannot open shared object file: No such file or directory',
  ])('stops at the first directory and says the system libraries are the problem (%#)', (says) => {
    const dirs = [path.join(tmp, 'one'), path.join(tmp, 'two')];
    const opened: string[] = [];
    let caught: unknown;
    try {
      loadAddonFromAsset(addonBytes, {
        dirs,
        abi,
        dlopen: (file) => {
          opened.push(file);
          throw new Error(says(file));
        },
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreError);
    const message = (caught as StoreError).message;
    expect(opened).toHaveLength(1);
    expect(fs.existsSync(dirs[1]!)).toBe(false);
    expect(message).toContain(says(opened[0]!));
    expect(message).toMatch(/glibc ≥ 2\.34/);
    expect(message).not.toContain('HASHCTL_CACHE_DIR');
    expect(message).not.toContain('\n');
  });

  it('a noexec directory is still only that directory: the next one is tried', () => {
    const dirs = [path.join(tmp, 'one'), path.join(tmp, 'two')];
    const loaded = loadAddonFromAsset(addonBytes, {
      dirs,
      abi,
      dlopen: (file) => {
        if (file.startsWith(dirs[0]!)) throw new Error(`${file}: failed to map segment from shared object`);
        return {};
      },
    });
    expect(path.dirname(loaded.file)).toBe(dirs[1]);
  });
});

describe('withNativeBinding', () => {
  it('passes the addon to every construction, with or without new, keeping caller options', () => {
    const seen: unknown[] = [];
    function FakeDatabase(this: unknown, filename: string, options: unknown) {
      seen.push([filename, options]);
    }
    FakeDatabase.SqliteError = Error;
    const addon = { tag: 'addon' };
    const Wrapped = withNativeBinding(FakeDatabase as unknown as ReturnType<typeof loadSqlite>, addon);
    new Wrapped('a.db', { readonly: true });
    (Wrapped as unknown as (f: string) => unknown)('b.db');
    expect(seen).toEqual([
      ['a.db', { readonly: true, nativeBinding: addon }],
      ['b.db', { nativeBinding: addon }],
    ]);
    expect(Wrapped.SqliteError).toBe(Error);
  });
});

describe('loadSqlite outside a SEA', () => {
  it('returns the node_modules constructor', () => {
    const Database = loadSqlite();
    expect(Database).toBe(require('better-sqlite3'));
    expect(loadSqlite()).toBe(Database);
  });
});
