// Loads better-sqlite3 both from node_modules and from inside the single binary (Node SEA).
// Inside a SEA, `require` reaches built-in modules only and better-sqlite3 cannot load its addon by
// path, so the addon ships as the SEA asset `better_sqlite3.node`: it is written once into a cache
// directory (keyed by its sha256 and the Node ABI), loaded with process.dlopen, and handed to
// better-sqlite3 as the `nativeBinding` object (PACKAGING.md).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as sea from 'node:sea';
import { errorMessage, StoreError } from '../errors.js';
import { makeDirectories } from '../util/mkdir.js';

type DatabaseConstructor = typeof import('better-sqlite3');

// Defined by scripts/build.mjs in both bundles; undefined when running from sources (tsx, vitest).
declare const __HASHCTL_SEA__: boolean | undefined;

export const ADDON_ASSET = 'better_sqlite3.node';

/** The addon's exports as process.dlopen leaves them; better-sqlite3 accepts this as nativeBinding. */
export type NativeAddon = Record<string, unknown>;

export interface AddonLoadOptions {
  /** Directories tried in order; the first where the addon can be written and loaded wins. */
  dirs: string[];
  /** Node ABI (process.versions.modules); part of the cache key. */
  abi: string;
  /** Loads a shared object; process.dlopen by default (tests inject failures, e.g. a noexec mount). */
  dlopen?: (file: string) => NativeAddon;
}

export interface LoadedAddon {
  addon: NativeAddon;
  file: string;
}

// The native module is process-global state: dlopen-ing it twice is wasted work, so one Database
// constructor is kept per process.
let cachedConstructor: DatabaseConstructor | undefined;

/**
 * The better-sqlite3 Database constructor. Outside a SEA this is the normal module; inside one it
 * is a wrapper that passes the extracted addon as `nativeBinding`, so callers never pass it.
 * Throws StoreError when the addon cannot be loaded.
 */
export function loadSqlite(): DatabaseConstructor {
  if (cachedConstructor) return cachedConstructor;
  // better-sqlite3 reads this once, as its addon loads (at the first connection, made here): URI
  // file names let a reader on a full disk open the file read-only without creating its -shm
  // (store/open.ts). Every path hashctl opens is absolute, so none is taken for a URI by accident.
  const uri = process.env.SQLITE_USE_URI;
  process.env.SQLITE_USE_URI = '1';
  try {
    const Database = loadConstructor();
    new Database(':memory:').close();
    cachedConstructor = Database;
  } finally {
    if (uri === undefined) delete process.env.SQLITE_USE_URI;
    else process.env.SQLITE_USE_URI = uri;
  }
  return cachedConstructor;
}

function loadConstructor(): DatabaseConstructor {
  if (isSea()) {
    const Database = requireBetterSqlite();
    const { addon } = loadAddonFromAsset(readAddonAsset(), {
      dirs: addonCacheDirs(process.env),
      abi: process.versions.modules,
    });
    return withNativeBinding(Database, addon);
  }
  return requireBetterSqlite();
}

function isSea(): boolean {
  // The npm bundle never runs as a SEA; only the package build embeds the addon.
  if (typeof __HASHCTL_SEA__ === 'boolean' && !__HASHCTL_SEA__) return false;
  return sea.isSea();
}

function readAddonAsset(): Uint8Array {
  try {
    const asset = sea.getRawAsset(ADDON_ASSET);
    if (typeof asset === 'string') throw new Error('asset is text');
    // getRawAsset copies, so the bytes are ours to hash and write.
    return new Uint8Array(asset);
  } catch (error) {
    throw new StoreError(
      'store',
      `this hashctl binary has no SQLite addon embedded (${errorMessage(error)})`,
      {
        cause: error,
      },
    );
  }
}

function requireBetterSqlite(): DatabaseConstructor {
  try {
    if (typeof __HASHCTL_SEA__ === 'boolean') {
      // Bundled: esbuild resolves this literal require (embedded in the SEA, external otherwise).
      return require('better-sqlite3') as DatabaseConstructor;
    }
    return createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;
  } catch (error) {
    throw new StoreError('store', `cannot load SQLite (better-sqlite3): ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

/**
 * Where the extracted addon may live, in order: $HASHCTL_CACHE_DIR, $XDG_CACHE_HOME/hashctl,
 * ~/.cache/hashctl, then a per-user directory in the temp dir (home may be read-only or noexec).
 */
export function addonCacheDirs(env: Readonly<Record<string, string | undefined>>): string[] {
  const dirs: string[] = [];
  if (env.HASHCTL_CACHE_DIR) dirs.push(env.HASHCTL_CACHE_DIR);
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME))
    dirs.push(path.join(env.XDG_CACHE_HOME, 'hashctl'));
  const home = env.HOME || safeHomedir();
  // Another user's home (root under `sudo -E`): a root-owned ~/.cache made there would lock that
  // user out of their own cache directory.
  if (home && ownHome(home)) dirs.push(path.join(home, '.cache', 'hashctl'));
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  dirs.push(path.join(os.tmpdir(), `hashctl-${uid}`));
  return [...new Set(dirs.map(resolveIfPossible))];
}

/**
 * Absolute when the working directory can be read. When it was deleted under us, path.resolve
 * throws (uv_cwd) for a relative HASHCTL_CACHE_DIR or TMPDIR: kept as given, that one directory
 * fails to be created (listed in the error if none works) and the others are still tried.
 */
function resolveIfPossible(dir: string): string {
  try {
    return path.resolve(dir);
  } catch {
    return dir;
  }
}

/** The home directory is this user's (or cannot be told): true when it does not exist either. */
export function ownHome(home: string): boolean {
  if (typeof process.getuid !== 'function') return true;
  try {
    return fs.statSync(home).uid === process.getuid();
  } catch {
    return true;
  }
}

function safeHomedir(): string | null {
  try {
    return os.homedir();
  } catch {
    return null;
  }
}

/** The cache file name: content hash and ABI, so an upgrade never loads a stale addon. */
export function addonFileName(bytes: Uint8Array, abi: string): string {
  return `better_sqlite3-${sha256(bytes).slice(0, 16)}-abi${abi}.node`;
}

/**
 * Writes the addon into the first usable directory (once: an existing file with the same content is
 * reused) and loads it. A directory that cannot be created, written or executed from is skipped.
 */
export function loadAddonFromAsset(bytes: Uint8Array, options: AddonLoadOptions): LoadedAddon {
  const name = addonFileName(bytes, options.abi);
  const digest = sha256(bytes);
  const dlopen = options.dlopen ?? processDlopen;
  const failures: string[] = [];
  for (const dir of options.dirs) {
    const file = path.join(dir, name);
    try {
      ensurePrivateDir(dir);
      if (!hasContent(file, digest)) writeAtomically(file, bytes);
      return { addon: dlopen(file), file };
    } catch (error) {
      const reason = errorMessage(error).split('\n')[0] ?? '';
      if (systemLibraryProblem(reason, file)) {
        throw new StoreError(
          'store',
          `the embedded SQLite addon cannot load on this system, whose C/C++ libraries are missing or older than it needs (glibc ≥ 2.34: Debian 12, Ubuntu 22.04, RHEL 9 or newer); commands without a database still work (${reason})`,
          { cause: error, details: { file } },
        );
      }
      failures.push(`${dir}: ${reason}`);
    }
  }
  throw new StoreError(
    'store',
    `cannot load the embedded SQLite addon; set HASHCTL_CACHE_DIR to a writable directory that allows executables (tried ${failures.join('; ')})`,
    {
      details: { dirs: options.dirs },
    },
  );
}

/**
 * A load failure no other directory can cure: a system library too old (dlerror's "version
 * `GLIBC_2.34' not found") or missing (another library's "cannot open shared object file"), as on a
 * host older than the build's. A noexec mount ("failed to map segment") is the directory's.
 */
function systemLibraryProblem(reason: string, file: string): boolean {
  if (/version `[^']+' not found/.test(reason)) return true;
  const missing = /^([^:]+): cannot open shared object file/.exec(reason);
  return missing !== null && missing[1] !== file;
}

function processDlopen(file: string): NativeAddon {
  const module = { exports: {} as NativeAddon };
  process.dlopen(module, file);
  return module.exports;
}

function ensurePrivateDir(dir: string): void {
  makeDirectories(dir, 0o700);
  // A shared directory (the temp dir) must not let another user plant the file we load: ours, and
  // writable by no one else (who could otherwise swap the file between its check and its load), as
  // the launcher requires of its code-cache directory.
  const stat = fs.lstatSync(dir);
  if (!stat.isDirectory()) throw new Error('not a directory');
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid())
    throw new Error('owned by another user');
  if ((stat.mode & 0o022) !== 0) throw new Error('writable by other users');
}

function hasContent(file: string, digest: string): boolean {
  try {
    const stat = fs.lstatSync(file);
    const ours = typeof process.getuid !== 'function' || stat.uid === process.getuid();
    return stat.isFile() && ours && (stat.mode & 0o022) === 0 && sha256(fs.readFileSync(file)) === digest;
  } catch {
    return false;
  }
}

function writeAtomically(file: string, bytes: Uint8Array): void {
  // Temp file + rename: a concurrent run or a crash never leaves a half-written addon to load.
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    fs.writeFileSync(temp, bytes, { mode: 0o755, flag: 'wx' });
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The constructor with `nativeBinding` filled in; `new`, plain calls, statics and instanceof still work. */
export function withNativeBinding(Database: DatabaseConstructor, addon: NativeAddon): DatabaseConstructor {
  const withBinding = (args: unknown[]): unknown[] => {
    const [filename, options] = args;
    const given = typeof options === 'object' && options !== null ? options : {};
    return [filename, { ...given, nativeBinding: addon }];
  };
  return new Proxy(Database, {
    construct: (target, args) => Reflect.construct(target, withBinding(args)),
    apply: (target, _this, args) => Reflect.construct(target, withBinding(args)),
  });
}
