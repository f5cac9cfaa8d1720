// --out files (scan's inventory, audit's report): checked before a long run starts, so a wrong path
// is one clear error before any traffic rather than minutes of results lost at the end.
import { access, constants, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HashctlError } from '../errors.js';

/** The `io` error for an --out file that cannot be written. */
export function outFileError(shown: string, error: unknown): HashctlError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return new HashctlError('io', `cannot write --out file '${shown}': ${code ?? String(error)}`, {
    cause: error,
  });
}

/** Throws outFileError unless `file`'s folder may be written and `file`, if it exists, is a writable file. */
export async function checkOutFile(file: string, shown: string = file): Promise<void> {
  try {
    await access(dirname(file), constants.W_OK);
    const existing = await stat(file).catch(() => null);
    if (existing?.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (existing) await access(file, constants.W_OK);
  } catch (error) {
    throw outFileError(shown, error);
  }
}
