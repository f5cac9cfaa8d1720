// --out files (scan's inventory, audit's report). Checked before a long run starts, so a wrong path
// is one clear usage error (exit 2) before any traffic rather than minutes of results lost at the
// end; written to a temporary name and renamed, so a reader (`collect @FILE`, a CI step picking up
// the SARIF) never sees half a file. A write that still fails late is an `io` error (exit 1), and
// the caller prints what it had on stdout instead. The rename happens where the data really goes:
// a symlink is followed (the link stays a link), and a FIFO, a device or /dev/stdout is written
// straight into (a rename would replace the device node with a plain file).
import {
  access,
  constants,
  type FileHandle,
  lstat,
  open,
  readlink,
  realpath,
  rename,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { HashctlError, UsageError } from '../errors.js';
import { formatDuration } from './duration.js';

/** What the system's error code means for an output path, in words, the code kept for a search. */
const WHY: Record<string, string> = {
  ENOENT: 'no such folder',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many symbolic links',
};

export function reason(error: unknown): string {
  const errno = error as (NodeJS.ErrnoException & { why?: string }) | undefined;
  const code = errno?.code;
  if (code === undefined) return String(error);
  const why = errno?.why ?? WHY[code];
  return why === undefined ? code : `${why} (${code})`;
}

/** The `io` error for an --out file that could not be written after the run. */
export function outFileError(shown: string, error: unknown, flag = '--out'): HashctlError {
  return new HashctlError('io', `cannot write ${flag} file '${shown}': ${reason(error)}`, { cause: error });
}

const failure = (code: string, why?: string) =>
  Object.assign(new Error(code), { code }, why === undefined ? {} : { why });

interface Destination {
  path: string;
  /** Through a temporary file and a rename (a regular file, or none yet); else written in place. */
  atomic: boolean;
}

const code = (error: unknown) => (error as NodeJS.ErrnoException).code;

/** Where writing `file` really lands, and how. */
async function destination(file: string): Promise<Destination> {
  const target = await stat(file).catch((error: unknown) => {
    if (code(error) === 'ENOENT') return null;
    throw error;
  });
  if (target?.isDirectory()) throw failure('EISDIR');
  if (target?.isFile()) return { path: await realpath(file), atomic: true };
  if (target) return { path: file, atomic: false }; // a FIFO, a device, a terminal, a pipe
  // Nothing there yet, or a link to something not there yet: create what the link names.
  const link = await lstat(file).catch(() => null);
  if (link?.isSymbolicLink()) return { path: resolve(dirname(file), await readlink(file)), atomic: true };
  return { path: file, atomic: true };
}

/**
 * Throws a UsageError unless writeOutFile can put `file` in place: for a regular file (or a new
 * one), its folder is a folder this user may write and `file` is not a folder (an existing file
 * need not be writable itself: it is replaced, not written into); anything else must be writable.
 */
export async function checkOutFile(file: string, shown: string = file, flag = '--out'): Promise<void> {
  try {
    const { path, atomic } = await destination(file);
    if (!atomic) {
      await access(path, constants.W_OK);
      return;
    }
    const folder = await stat(dirname(path));
    if (!folder.isDirectory()) throw failure('ENOTDIR');
    await access(dirname(path), constants.W_OK);
    await probeCreate(`${path}.${process.pid}.tmp`, dirname(path));
  } catch (error) {
    throw new UsageError(`cannot write ${flag} file '${shown}': ${reason(error)}`, { cause: error });
  }
}

/**
 * Creates and removes `file`: what writeOutFile will do with its temporary name. access() alone
 * says yes to root everywhere, and to a folder that takes no new file at all (/proc, /sys: there
 * the creation fails with ENOENT although the folder is there), so a run did all its work and
 * then lost it. Throws with the reason in words.
 */
export async function probeCreate(file: string, folder: string = dirname(file)): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    const errno = code(error);
    if (errno === 'EEXIST') return; // a leftover of the same name: the write replaces it
    if (errno === 'ENOENT' || errno === 'EINVAL' || errno === 'EOPNOTSUPP')
      throw failure(errno, `its folder '${folder}' does not take new files`);
    throw error;
  }
  await handle.close();
  await unlink(file).catch(() => {});
}

/** How long a FIFO given as --out waits for a reader (`mkfifo p; hashctl … --out p & cat p`). */
export const FIFO_READER_WAIT_MS = 10_000;

/**
 * The FIFO at `path` opened for writing once something reads it, within `waitMs`. A plain open()
 * of a FIFO nobody reads blocks inside the thread pool until a reader comes, and no signal ends
 * it: a cron run would hang for good. A non-blocking open fails at once (ENXIO) instead, and once
 * it succeeds the blocking open returns at once, taken before the probe closes so a reader never
 * sees an end of file in between.
 */
async function openFifoWhenRead(path: string, waitMs: number): Promise<FileHandle> {
  // On the monotonic clock: a wall clock stepped back an hour during the wait made it an hour longer.
  const deadline = performance.now() + waitMs;
  for (;;) {
    let probe: FileHandle;
    try {
      probe = await open(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if (code(error) !== 'ENXIO') throw error;
      if (performance.now() >= deadline)
        throw failure(`nothing reads the FIFO (waited ${formatDuration(waitMs)})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    try {
      return await open(path, constants.O_WRONLY);
    } finally {
      await probe.close();
    }
  }
}

async function writeInPlace(path: string, text: string, fifoWaitMs: number): Promise<void> {
  if (!(await stat(path)).isFIFO()) {
    await writeFile(path, text);
    return;
  }
  const handle = await openFifoWhenRead(path, fifoWaitMs);
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

/** Writes `text` to `file` (through a temporary name and a rename where it can); throws outFileError. */
export async function writeOutFile(
  file: string,
  text: string,
  shown: string = file,
  fifoWaitMs: number = FIFO_READER_WAIT_MS,
  flag = '--out',
): Promise<void> {
  let temporary: string | null = null;
  try {
    const { path, atomic } = await destination(file);
    if (!atomic) {
      await writeInPlace(path, text, fifoWaitMs);
      return;
    }
    temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (error) {
    if (temporary !== null) await unlink(temporary).catch(() => {});
    throw outFileError(shown, error, flag);
  }
}
