// How many sockets we may hold open at once, from the process's open-file limit (hashctl.md §4).
import { readFileSync } from 'node:fs';

/** File descriptors kept free for stdio, the database, its WAL, log files and libraries. */
export const FD_SAFETY_MARGIN = 64;
/** The margin under a small limit: what hashctl holds besides sockets, with room to spare. */
const MIN_FD_MARGIN = 24;
/** Used when /proc/self/limits cannot be read (macOS, a sandbox): safe under the common 256/1024. */
export const FALLBACK_CONNECTION_LIMIT = 200;
/** The largest reply cap --max-bytes may set (one reply held whole in memory). */
export const MAX_REPLY_BYTES = 256 * 1024 * 1024;
/** More sockets than this buys nothing on a farm LAN and costs memory. */
export const MAX_CONNECTION_LIMIT = 4096;

/** The soft "Max open files" from the text of /proc/self/limits; Infinity for "unlimited". */
export function parseOpenFileLimit(text: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  if (!line) return null;
  const soft = line.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === 'unlimited') return Number.POSITIVE_INFINITY;
  const value = Number(soft);
  return Number.isInteger(value) && value > 0 ? value : null;
}

export function readOpenFileLimit(
  read: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): number | null {
  try {
    return parseOpenFileLimit(read());
  } catch {
    return null;
  }
}

/** Connections allowed at once for a soft open-file limit (null: unknown). */
export function connectionLimitFor(softLimit: number | null): number {
  if (softLimit === null) return FALLBACK_CONNECTION_LIMIT;
  // Three quarters of what is left after the margin: other code in the process opens files too.
  // A small limit shrinks the margin (hashctl itself holds ~21 descriptors): at `ulimit -n 64` the
  // full margin left one socket, and a /24 scan took 10 s instead of 0.3 s.
  const margin = Math.min(FD_SAFETY_MARGIN, Math.max(MIN_FD_MARGIN, Math.floor(softLimit / 4)));
  const usable = Math.floor((softLimit - margin) * 0.75);
  return Math.max(1, Math.min(MAX_CONNECTION_LIMIT, usable));
}

/** The global connection limit of this process. */
export function connectionLimit(read?: () => string): number {
  return connectionLimitFor(readOpenFileLimit(read));
}

/** Default number of miners worked on at once by a command (`--concurrency` overrides). */
export function defaultConcurrency(read?: () => string): number {
  return Math.min(512, connectionLimit(read));
}
