// `mkdir -p`, without Node's recursive mode: on Node 20, mkdirSync(…, { recursive: true }) under
// /proc (/proc/nope/x.db as --db or $HASHCTL_DB) loops for ever at full CPU, deaf to SIGTERM,
// because mkdir there answers ENOENT and it tries the parent, then the child, again and again.
// Here each missing directory is made once, from the top, and the first failure is thrown.
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Creates `dir` and its missing parents (with `mode`, before the umask); throws the first error
 * (ENOTDIR when a file is in the way).
 */
export function makeDirectories(dir: string, mode?: number): void {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (stat) {
      if (stat.isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${current}'`), {
        code: 'ENOTDIR',
        path: current,
      });
    }
    const parent = path.dirname(current);
    if (parent === current) break;
    missing.push(current);
    current = parent;
  }
  for (const each of missing.reverse()) {
    try {
      fs.mkdirSync(each, mode === undefined ? undefined : { mode });
    } catch (error) {
      // Made meanwhile by another run: as good as made here.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
