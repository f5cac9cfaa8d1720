// Where the database lives when --db is not given (hashctl.md §7), and the lock beside it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { errorMessage, StoreError, UsageError } from '../errors.js';

/**
 * Where a database path resolved here came from, when not `--db`: `"db" in config FILE`,
 * `$HASHCTL_DB`. The errors about the file name it (dbHint) rather than tell the user to fix a
 * --db they never gave. Per process, a handful of entries: one per database a command resolved.
 */
const dbOrigins = new Map<string, string>();

function remember(file: string, origin: string | undefined): string {
  if (origin === undefined) dbOrigins.delete(file);
  else dbOrigins.set(file, origin);
  return file;
}

/**
 * How to fix the name of the database `file` in an error: `give --db a file name`, or for a path
 * from the config file `set "db" in config FILE to a file name`.
 */
export function dbHint(file: string, what = 'a file name', otherwise = `give --db ${what}`): string {
  const origin = dbOrigins.get(file);
  return origin === undefined ? otherwise : `set ${origin} to ${what}`;
}

/**
 * `--db`, else `$HASHCTL_DB`, else `$XDG_DATA_HOME/hashctl/hashctl.db`, else `~/.local/share/hashctl/hashctl.db`.
 * `origin` names where `flag` came from when that is not --db (`"db" in config FILE`).
 */
export function resolveDbPath(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
  origin?: string,
): string {
  // `--db "$DB"` with DB unset must not quietly write the default database.
  if (flag !== undefined && flag.trim() === '')
    throw new UsageError(`${origin ?? '--db'} is empty: give a database file name`);
  if (flag) return remember(path.resolve(cwd, expandHome(flag, env)), origin);
  if (env.HASHCTL_DB) {
    if (env.HASHCTL_DB.trim() === '') throw new UsageError('$HASHCTL_DB is blank: give a database file name');
    return remember(path.resolve(cwd, expandHome(env.HASHCTL_DB, env)), '$HASHCTL_DB');
  }
  // XDG: a relative XDG_DATA_HOME is invalid and must be ignored.
  if (env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME)) {
    return path.join(env.XDG_DATA_HOME, 'hashctl', 'hashctl.db');
  }
  return path.join(
    homeOf(
      env,
      'no database given (--db FILE, $HASHCTL_DB or $XDG_DATA_HOME) and no home for the default one',
    ),
    '.local',
    'share',
    'hashctl',
    'hashctl.db',
  );
}

/**
 * $HOME, else the passwd entry's. A uid with neither (`docker run --user 1234`, a service's
 * allocated uid) made os.homedir() throw a libuv SystemError: an internal error, exit 1.
 */
function homeOf(env: Readonly<Record<string, string | undefined>>, what: string): string {
  if (env.HOME) return env.HOME;
  try {
    return os.homedir();
  } catch {
    throw new UsageError(`${what}: HOME is not set and this user has no home directory`);
  }
}

/**
 * `~` and `~/…` as the shell would have expanded them. `--db=~/farm.db` (no shell expands a tilde
 * after `=`), a systemd `Environment=HASHCTL_DB=~/farm.db` and a config file's `"db"` all arrive
 * unexpanded; resolved against the folder they would make a directory named `~` there, and
 * collect (run by cron from $HOME) and `live` (run from anywhere else) would use two files.
 */
export function expandHome(file: string, env: Readonly<Record<string, string | undefined>>): string {
  return file === '~' || file.startsWith('~/')
    ? path.join(homeOf(env, `cannot expand '${file}'`), file.slice(1))
    : file;
}

/**
 * The database file's stat, or null when it is not there yet. A path through a regular file
 * (`--db farm.txt/x.db`) or a symlink loop is a usage error, and a folder this user may not enter
 * is a store error: one line each, never an internal error.
 */
export function statDbFile(file: string): fs.Stats | null {
  try {
    return fs.statSync(file, { throwIfNoEntry: false }) ?? null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR')
      throw new UsageError(`${file}: a folder on its path is a file, not a folder (${dbHint(file)})`, {
        details: { file },
      });
    if (code === 'ELOOP')
      throw new UsageError(`${file}: its symlinks point at each other in a loop (${dbHint(file)})`, {
        details: { file },
      });
    if (code === 'ENAMETOOLONG')
      throw new UsageError(
        `${file}: the name is too long for this system (${dbHint(file, 'a shorter one')})`,
        {
          details: { file },
        },
      );
    throw new StoreError('io', `cannot reach ${file}: ${errorMessage(error)}`, {
      cause: error,
      details: { file, code },
    });
  }
}

/**
 * A directory, FIFO, device or socket given as the database is a usage error (exit 2), found before
 * any lock file is made: SQLite would block for ever opening a FIFO, and write its journal beside
 * a device.
 */
export function assertRegularFile(file: string): void {
  const stat = statDbFile(file);
  if (stat?.isDirectory())
    throw new UsageError(`${file} is a directory, not a database file (${dbHint(file)})`, {
      details: { file },
    });
  if (stat && !stat.isFile())
    throw new UsageError(`${file} is not a regular file (a FIFO, device or socket): ${dbHint(file)}`, {
      details: { file },
    });
  // /proc/version is a regular file, of size 0: SQLite sees an empty database there, so readers
  // said "nothing stored yet" and collect, whose lock cannot be made in /proc, "disk full" (the
  // kernel's file systems report no free blocks).
  const kernel = kernelFileSystem(stat ? file : path.dirname(file));
  if (kernel)
    throw new UsageError(
      `${file} is on the kernel's ${kernel} file system, not a database file (${dbHint(file)})`,
      { details: { file } },
    );
}

/** statfs magic numbers of the kernel's own file systems, which hold no user files. */
const KERNEL_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x63677270, 'cgroup2'],
  [0x27e0eb, 'cgroup'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x62656570, 'configfs'],
  [0xcafe4a11, 'bpf'],
]);

/** The name of the kernel file system `file` is on, or null (any other, or it cannot be told). */
function kernelFileSystem(file: string): string | null {
  try {
    return KERNEL_FILE_SYSTEMS.get(fs.statfsSync(file).type) ?? null;
  } catch {
    return null;
  }
}

/**
 * FILE-wal or FILE-shm beside the database that is not a regular file (a folder an `mkdir` or a
 * restore left, a FIFO): said as such, rather than in SQLite's words for it ("cannot open database
 * (missing directory or no permission)", "is read-only", "disk I/O error"). Null when there is none.
 */
export function oddCompanion(file: string): StoreError | null {
  for (const suffix of ['-wal', '-shm']) {
    const companion = `${file}${suffix}`;
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(companion, { throwIfNoEntry: false });
    } catch {
      continue; // a dangling or looping link: SQLite's own error says it
    }
    if (!stat || stat.isFile()) continue;
    const what = stat.isDirectory() ? 'a directory' : 'a FIFO, device or socket';
    return new StoreError(
      'io',
      `cannot use ${file}: ${companion} beside it is ${what}, not SQLite's own file: move it away (SQLite makes its own there; nothing stored is in it)`,
      { details: { file, companion } },
    );
  }
  return null;
}

/**
 * Before a writer's lock: the file must be one SQLite can lock. Reached by two hard links, it has
 * two lock files and two WALs (both named after the link), so two writers would corrupt it; a
 * symlink is resolved and meets the same lock.
 */
export function assertLockable(file: string): void {
  assertRegularFile(file);
  const links = statDbFile(file)?.nlink ?? 1;
  if (links > 1)
    throw new UsageError(
      `${file} has ${links} hard links: SQLite cannot lock a database reached under two names (use a symlink)`,
      { details: { file } },
    );
}

/**
 * The lock file sits next to the database so two databases never share a lock. It is named after
 * the file SQLite really opens: a symlink to the database (or to its folder) must meet the same
 * lock as the path it points to.
 */
export function lockPathFor(dbPath: string, purpose: 'collect' | 'upload' = 'collect'): string {
  return `${realPath(dbPath)}${purpose === 'collect' ? '' : `.${purpose}`}.lock`;
}

/** Symlinks followed before giving up (the kernel's own limit is 40). */
const MAX_LINK_HOPS = 40;

function realPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    // Not there yet: it may be a symlink to the file the first run creates (follow it by hand,
    // or the link and its target would get two locks), and its folder may be a link too.
    let current = file;
    for (let hops = 0; hops < MAX_LINK_HOPS; hops++) {
      let target: string;
      try {
        target = fs.readlinkSync(current);
      } catch {
        break;
      }
      current = path.resolve(path.dirname(current), target);
    }
    try {
      return path.join(fs.realpathSync(path.dirname(current)), path.basename(current));
    } catch {
      return current;
    }
  }
}
