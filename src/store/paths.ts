// Where the database lives when --db is not given (hashctl.md §7), and the lock beside it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../errors.js';

/** `--db`, else `$HASHCTL_DB`, else `$XDG_DATA_HOME/hashctl/hashctl.db`, else `~/.local/share/hashctl/hashctl.db`. */
export function resolveDbPath(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): string {
  // `--db "$DB"` with DB unset must not quietly write the default database.
  if (flag !== undefined && flag.trim() === '')
    throw new UsageError('--db is empty: give a database file name');
  if (flag) return path.resolve(cwd, flag);
  if (env.HASHCTL_DB) return path.resolve(cwd, env.HASHCTL_DB);
  // XDG: a relative XDG_DATA_HOME is invalid and must be ignored.
  if (env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME)) {
    return path.join(env.XDG_DATA_HOME, 'hashctl', 'hashctl.db');
  }
  const home = env.HOME || os.homedir();
  return path.join(home, '.local', 'share', 'hashctl', 'hashctl.db');
}

/** A directory given as the database is a usage error (exit 2), found before any lock file is made. */
export function assertNotDirectory(file: string): void {
  if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`${file} is a directory, not a database file (give --db a file name)`, {
      details: { file },
    });
}

/**
 * The lock file sits next to the database so two databases never share a lock. It is named after
 * the file SQLite really opens: a symlink to the database (or to its folder) must meet the same
 * lock as the path it points to.
 */
export function lockPathFor(dbPath: string, purpose: 'collect' | 'upload' = 'collect'): string {
  return `${realPath(dbPath)}${purpose === 'collect' ? '' : `.${purpose}`}.lock`;
}

function realPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    // Not there yet: its folder may still be a link.
    try {
      return path.join(fs.realpathSync(path.dirname(file)), path.basename(file));
    } catch {
      return file;
    }
  }
}
