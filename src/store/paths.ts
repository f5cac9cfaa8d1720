// Where the database lives when --db is not given (hashctl.md §7).
import * as os from 'node:os';
import * as path from 'node:path';

/** `--db`, else `$HASHCTL_DB`, else `$XDG_DATA_HOME/hashctl/hashctl.db`, else `~/.local/share/hashctl/hashctl.db`. */
export function resolveDbPath(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): string {
  if (flag) return path.resolve(cwd, flag);
  if (env.HASHCTL_DB) return path.resolve(cwd, env.HASHCTL_DB);
  // XDG: a relative XDG_DATA_HOME is invalid and must be ignored.
  if (env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME)) {
    return path.join(env.XDG_DATA_HOME, 'hashctl', 'hashctl.db');
  }
  const home = env.HOME || os.homedir();
  return path.join(home, '.local', 'share', 'hashctl', 'hashctl.db');
}

/** The lock file sits next to the database so two databases never share a lock. */
export function lockPathFor(dbPath: string): string {
  return `${dbPath}.lock`;
}
