// --out files (scan's inventory, audit's report). Checked before a long run starts, so a wrong path
// is one clear usage error (exit 2) before any traffic rather than minutes of results lost at the
// end; written to a temporary name and renamed, so a reader (`collect @FILE`, a CI step picking up
// the SARIF) never sees half a file. A write that still fails late is an `io` error (exit 1), and
// the caller prints what it had on stdout instead.
import { access, constants, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HashctlError, UsageError } from '../errors.js';

function reason(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
}

/** The `io` error for an --out file that could not be written after the run. */
export function outFileError(shown: string, error: unknown): HashctlError {
  return new HashctlError('io', `cannot write --out file '${shown}': ${reason(error)}`, { cause: error });
}

const failure = (code: string) => Object.assign(new Error(code), { code });

/**
 * Throws a UsageError unless writeOutFile can put `file` in place: its folder is a folder this user
 * may write, and `file` is not a folder. An existing file need not be writable itself: it is
 * replaced, not written into.
 */
export async function checkOutFile(file: string, shown: string = file): Promise<void> {
  try {
    const folder = await stat(dirname(file));
    if (!folder.isDirectory()) throw failure('ENOTDIR');
    await access(dirname(file), constants.W_OK);
    const existing = await stat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (existing?.isDirectory()) throw failure('EISDIR');
  } catch (error) {
    throw new UsageError(`cannot write --out file '${shown}': ${reason(error)}`, { cause: error });
  }
}

/** Writes `text` to `file` through a temporary name and a rename; throws outFileError. */
export async function writeOutFile(file: string, text: string, shown: string = file): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw outFileError(shown, error);
  }
}
