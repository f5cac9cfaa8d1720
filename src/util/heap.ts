// V8 lets the old generation grow to a multiple of what survived its last full collection, and that
// multiple rises (up to 4x) when the program allocates fast with little pause, which is exactly a
// collect cycle: thousands of sockets and replies that live for one round trip (100 ms and more, so
// they outlive two scavenges and are promoted) and die just after. With V8's own choice a
// 10,000-miner cycle peaked at 320-345 MB of RSS for a live heap of about 50 MB; capped at 1.5x it
// peaks at 220-232 MB for the same wall time (measured alternated, three runs each; the extra full
// collections are short, most of their marking runs concurrently).
import { setFlagsFromString } from 'node:v8';

/** The old generation's growth per full GC, in percent, when the operator did not choose one. */
export const COLLECT_HEAP_GROWING_PERCENT = 50;

/**
 * Caps the heap's growth factor for the rest of the process, unless the operator set V8's flag
 * themselves (NODE_OPTIONS or node's own arguments): theirs wins.
 */
export function boundHeapGrowth(
  percent: number,
  given: { execArgv: readonly string[]; nodeOptions: string | undefined },
): boolean {
  const chosen = (flag: string) => /--heap[-_]growing[-_]percent/.test(flag);
  if (given.execArgv.some(chosen) || chosen(given.nodeOptions ?? '')) return false;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
