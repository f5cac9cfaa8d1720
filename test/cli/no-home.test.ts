// A user with no home: HOME unset and no passwd entry for the uid (`docker run --user 1234`, a
// service with an allocated uid). os.homedir() throws there; the default database and `~/…` paths
// were an "internal error" (exit 1) with a libuv message, instead of saying what to give.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = path.join(__dirname, '..', '..', 'bin', 'hashctl');
// A uid no passwd file names (spawning as another user needs root).
const NO_SUCH_UID = 54_321;
const isRoot = process.getuid?.() === 0;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-no-home-'));
  fs.chmodSync(dir, 0o777);
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function runAsHomeless(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], {
    cwd: dir,
    uid: NO_SUCH_UID,
    gid: NO_SUCH_UID,
    // No HOME, and a temp dir this uid may write (bin/hashctl keeps its code cache there).
    env: { PATH: '/usr/bin:/bin', TMPDIR: dir },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe.skipIf(!isRoot || process.platform !== 'linux')('no home directory at all', () => {
  it('the default database: a usage error that names --db, HASHCTL_DB and XDG_DATA_HOME', () => {
    const result = runAsHomeless(['live']);
    expect(result.stderr).not.toContain('internal error');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^hashctl: [^\n]*--db[^\n]*HASHCTL_DB[^\n]*XDG_DATA_HOME[^\n]*\n$/);
  });

  it('a ~/ path: a usage error that says there is no home to expand it in', () => {
    const result = runAsHomeless(['live', '--db=~/farm.db']);
    expect(result.stderr).not.toContain('internal error');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^hashctl: [^\n]*~\/farm\.db[^\n]*HOME[^\n]*\n$/);
  });

  it('an absolute --db still works', () => {
    const result = runAsHomeless(['live', '--db', path.join(dir, 'none.db')]);
    expect(result.stderr).toMatch(/^hashctl: no database at /);
  });
});
