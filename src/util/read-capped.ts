// A small file named by a flag (a CA bundle, a password file), read with a ceiling: at most `cap` + 1
// bytes, so a disk image or an endless pipe named by mistake cannot fill memory; opened without
// blocking, so a named FIFO nobody writes to is said at once instead of holding the run in open()
// for ever, deaf to SIGTERM (cron then started another stuck run every minute).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** How long a pipe (`--ca <(…)`) may stay silent before it is written and closed. */
const PIPE_SILENCE_MS = 10_000;

/** The file's bytes, or null when it holds more than `cap`. Errors: Node's, or a plain Error. */
export function readCapped(file: string, cap: number): Buffer | null {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const pipe = fstatSync(fd).isFIFO();
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const chunks: Buffer[] = [];
    let total = 0;
    let silent = 0;
    // Bounded: each pass reads at least a byte (it stops past `cap`) or waits (a silence is bounded).
    while (total <= cap) {
      const chunk = Buffer.alloc(Math.min(65_536, cap + 1 - total));
      let read: number;
      try {
        read = readSync(fd, chunk, 0, chunk.length, null);
      } catch (error) {
        if (!pipe || (error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        if (silent >= PIPE_SILENCE_MS)
          throw new Error(`a pipe nothing was written to for ${PIPE_SILENCE_MS / 1000} s`);
        Atomics.wait(pause, 0, 0, 20); // a writer is there but has not written yet
        silent += 20;
        continue;
      }
      if (read === 0) break;
      silent = 0; // a writer may pause more than once: the limit is a silence, not the whole writing
      chunks.push(chunk.subarray(0, read));
      total += read;
    }
    if (pipe && total === 0) throw new Error('a FIFO with no writer (nothing to read)');
    return total > cap ? null : Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}
