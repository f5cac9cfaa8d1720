// A password file holds one short line: --password-file and --admin-password-file read at most a few
// KiB of it, and refuse a bigger one (a log or an image named by mistake, a pipe that never ends)
// with a usage error naming the file, before any traffic, instead of reading it all into memory.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { cli, tempDir } from './support.js';

let farm: Farm | null = null;
let temp: ReturnType<typeof tempDir> | null = null;
afterEach(async () => {
  await farm?.stop();
  farm = null;
  temp?.remove();
  temp = null;
});

describe('password files', () => {
  it('a password file larger than 4 KiB is refused, naming it, before traffic', async () => {
    farm = await startFarm({ profile: 'whatsminer', count: 1, basePort: 0 });
    const key = farm.inventory()[0] as string;
    temp = tempDir();
    const big = path.join(temp.dir, 'big.txt');
    // A first line that would do, and a megabyte behind it: not a password file.
    fs.writeFileSync(big, `s3cret\n${'x'.repeat(1024 * 1024)}\n`);
    for (const args of [
      ['addpool', 'stratum+tcp://pool.example:3333', 'w', key, '--dry-run', '--password-file', big],
      ['pause', key, '--yes', '--admin-password-file', big],
    ]) {
      const run = await cli(['control', ...args, '--timeout', '2s', '--retries', '0']);
      expect(run.code, `${args.join(' ')}: ${run.err}`).toBe(2);
      expect(run.err).toMatch(/--(admin-)?password-file '.*big\.txt' is larger than 4096 bytes/);
    }
    expect(farm.commandLog.filter((entry) => entry.command !== 'version')).toHaveLength(0);
  });

  it('a named pipe is read only up to the cap, not to its end', async () => {
    temp = tempDir();
    const fifo = path.join(temp.dir, 'pw.fifo');
    execFileSync('mkfifo', [fifo]);
    // A bounded 64 KiB from another process (as a real writer is), held in the pipe: this end,
    // opened first, lets the writer's open() return, and keeps the pipe while hashctl reads it.
    const held = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    await new Promise<void>((resolve) =>
      spawn('sh', ['-c', `head -c 65536 /dev/zero | tr '\\0' a > "$0"`, fifo], { stdio: 'ignore' }).on(
        'close',
        () => resolve(),
      ),
    );
    const run = await cli([
      'control',
      'addpool',
      'stratum+tcp://pool.example:3333',
      'w',
      '127.0.0.1:1',
      '--dry-run',
      '--password-file',
      fifo,
    ]);
    fs.closeSync(held);
    expect(run.code, run.err).toBe(2);
    expect(run.err).toMatch(/--password-file '.*pw\.fifo' is larger than 4096 bytes/);
  });

  it('a named pipe nobody writes to is said at once (exit 2), not waited on for ever', async () => {
    temp = tempDir();
    const fifo = path.join(temp.dir, 'nobody.fifo');
    execFileSync('mkfifo', [fifo]);
    // Opened blocking, the run waited in open() for a writer, deaf to SIGTERM (found by hand).
    const run = await cli([
      'control',
      'addpool',
      'stratum+tcp://pool.example:3333',
      'w',
      '127.0.0.1:1',
      '--dry-run',
      '--password-file',
      fifo,
    ]);
    expect(run.code, run.err).toBe(2);
    expect(run.err).toMatch(/cannot read --password-file '.*nobody\.fifo': a FIFO with no writer/);
  });

  it('a short password file still reads its first line', async () => {
    farm = await startFarm({ count: 1, basePort: 0 });
    temp = tempDir();
    const file = path.join(temp.dir, 'pw.txt');
    fs.writeFileSync(file, `\ufeffs3cret\r\nignored\n`);
    const run = await cli([
      'control',
      'addpool',
      'stratum+tcp://pool.example:3333',
      'w',
      farm.inventory()[0] as string,
      '--dry-run',
      '--password-file',
      file,
    ]);
    expect(run.err).not.toMatch(/larger than/);
    expect(run.code, run.err).toBe(0);
  });
});
