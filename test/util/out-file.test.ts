import { execFileSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HashctlError, UsageError } from '../../src/errors.js';
import { checkOutFile, writeOutFile } from '../../src/util/out-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hashctl-out-file-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('--out files', () => {
  it('accept a new file, and an existing read-only one (it is replaced, not written into)', async () => {
    await checkOutFile(join(dir, 'new.json'));
    const readOnly = join(dir, 'inventory.json');
    await writeFile(readOnly, 'old');
    await chmod(readOnly, 0o444);
    await checkOutFile(readOnly);
    await writeOutFile(readOnly, 'new\n');
    expect(await readFile(readOnly, 'utf8')).toBe('new\n');
    expect(await readdir(dir)).toEqual(['inventory.json']); // no temporary file left behind
  });

  it('refuse a missing folder, a folder, and a path under a file, as usage errors', async () => {
    const aFile = join(dir, 'a-file');
    await writeFile(aFile, 'x');
    for (const [file, why] of [
      [join(dir, 'missing', 'x.json'), 'no such folder (ENOENT)'],
      [dir, 'it is a folder (EISDIR)'],
      [join(aFile, 'x.json'), 'a part of the path is not a folder (ENOTDIR)'],
    ] as const) {
      const error = await checkOutFile(file, 'shown').catch((caught: unknown) => caught);
      expect(error, file).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toBe(`cannot write --out file 'shown': ${why}`);
    }
  });

  it.runIf(process.platform === 'linux')(
    'refuse an existing file in a folder that takes no new file (/proc/version) up front, saying so',
    async () => {
      // It exists and root's access() says yes, but the temporary file beside it cannot be made:
      // before, the check passed and the write failed after the run, as a bare ENOENT.
      const error = await checkOutFile('/proc/version').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toBe(
        "cannot write --out file '/proc/version': its folder '/proc' does not take new files (ENOENT)",
      );
    },
  );

  it('follow a symlink (the link stays a link) and create what a dangling one names', async () => {
    const real = join(dir, 'real.json');
    await writeFile(real, 'old');
    await symlink(real, join(dir, 'link.json'));
    await checkOutFile(join(dir, 'link.json'));
    await writeOutFile(join(dir, 'link.json'), 'new\n');
    expect((await lstat(join(dir, 'link.json'))).isSymbolicLink()).toBe(true);
    expect(await readFile(real, 'utf8')).toBe('new\n');

    await symlink('later.json', join(dir, 'dangling.json'));
    await writeOutFile(join(dir, 'dangling.json'), 'made\n');
    expect((await lstat(join(dir, 'dangling.json'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(dir, 'later.json'), 'utf8')).toBe('made\n');
    expect((await readdir(dir)).sort()).toEqual(['dangling.json', 'later.json', 'link.json', 'real.json']);
  });

  it('write straight into a FIFO instead of replacing it with a plain file', async () => {
    const fifo = join(dir, 'report.fifo');
    execFileSync('mkfifo', [fifo]);
    await checkOutFile(fifo);
    const chunks: Buffer[] = [];
    const read = new Promise<string>((done) =>
      createReadStream(fifo)
        .on('data', (chunk) => chunks.push(chunk as Buffer))
        .on('end', () => done(Buffer.concat(chunks).toString())),
    );
    await writeOutFile(fifo, 'through the pipe\n');
    expect(await read).toBe('through the pipe\n');
    expect((await lstat(fifo)).isFIFO()).toBe(true);
  });

  it('a FIFO nobody reads is given up on after its wait even when the wall clock is stepped back meanwhile', async () => {
    // NTP stepping the clock back an hour during the wait: on the wall clock, a 300 ms wait for a
    // reader became an hour and 300 ms of cron hanging on a FIFO.
    const fifo = join(dir, 'stepped.fifo');
    execFileSync('mkfifo', [fifo]);
    const realNow = Date.now.bind(Date);
    let calls = 0;
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() - (calls++ > 0 ? 3_600_000 : 0));
    try {
      const error = await Promise.race([
        writeOutFile(fifo, 'lost\n', 'stepped.fifo', 300).catch((caught: unknown) => caught),
        new Promise((resolve) => setTimeout(() => resolve('still waiting after 5 s'), 5_000)),
      ]);
      expect(error).toBeInstanceOf(HashctlError);
    } finally {
      spy.mockRestore();
    }
  });

  it('a FIFO nobody reads is an io error after a bounded wait, not an open() that hangs for good', async () => {
    const fifo = join(dir, 'unread.fifo');
    execFileSync('mkfifo', [fifo]);
    const error = await writeOutFile(fifo, 'lost\n', 'unread.fifo', 300).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HashctlError);
    expect((error as HashctlError).message).toBe(
      "cannot write --out file 'unread.fifo': nothing reads the FIFO (waited 300ms)",
    );
    // A reader that comes during the wait gets the whole text.
    const chunks: Buffer[] = [];
    const written = writeOutFile(fifo, 'late reader\n', 'unread.fifo', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const read = new Promise<string>((done) =>
      createReadStream(fifo)
        .on('data', (chunk) => chunks.push(chunk as Buffer))
        .on('end', () => done(Buffer.concat(chunks).toString())),
    );
    await written;
    expect(await read).toBe('late reader\n');
  });

  it('a write that fails late is an io error and leaves no temporary file', async () => {
    const error = await writeOutFile(dir, 'text', 'shown').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HashctlError);
    expect((error as HashctlError).kind).toBe('io');
    expect((error as HashctlError).message).toMatch(/^cannot write --out file 'shown': [^\n]*\(E[A-Z]+\)$/);
    expect(await readdir(dir)).toEqual([]);
  });
});
