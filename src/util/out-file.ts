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
  lstat,
  readlink,
  realpath,
  rename,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { HashctlError, UsageError } from '../errors.js';

function reason(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
}

/** The `io` error for an --out file that could not be written after the run. */
export function outFileError(shown: string, error: unknown): HashctlError {
  return new HashctlError('io', `cannot write --out file '${shown}': ${reason(error)}`, { cause: error });
}

const failure = (code: string) => Object.assign(new Error(code), { code });

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
export async function checkOutFile(file: string, shown: string = file): Promise<void> {
  try {
    const { path, atomic } = await destination(file);
    if (!atomic) {
      await access(path, constants.W_OK);
      return;
    }
    const folder = await stat(dirname(path));
    if (!folder.isDirectory()) throw failure('ENOTDIR');
    await access(dirname(path), constants.W_OK);
  } catch (error) {
    throw new UsageError(`cannot write --out file '${shown}': ${reason(error)}`, { cause: error });
  }
}

/** Writes `text` to `file` (through a temporary name and a rename where it can); throws outFileError. */
export async function writeOutFile(file: string, text: string, shown: string = file): Promise<void> {
  let temporary: string | null = null;
  try {
    const { path, atomic } = await destination(file);
    if (!atomic) {
      await writeFile(path, text);
      return;
    }
    temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (error) {
    if (temporary !== null) await unlink(temporary).catch(() => {});
    throw outFileError(shown, error);
  }
}
