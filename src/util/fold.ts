// One figure out of a list (the hottest board, the slowest fan, the chips of all boards) without
// building another list to get it.

export type FoldHow = 'max' | 'min' | 'sum';

/**
 * The largest, smallest or sum of what `read` gives for the items, `start` counted as one more;
 * only finite numbers count, and null when there is none.
 *
 * An indexed loop over the list itself, on purpose: the per-miner code of a collection cycle once
 * did this with spreads and mapped copies (`max([own, ...boards.map(…)])`), and lists of every
 * element kind (small integers, doubles, nulls, holes: each another V8 map) kept V8 throwing that
 * code's optimized version away; a cold `collect --once` spent about a second recompiling it.
 */
export function fold<T>(
  items: readonly T[],
  read: (item: T) => number | null | undefined,
  how: FoldHow,
  start: number | null = null,
): number | null {
  let result = start !== null && Number.isFinite(start) ? start : null;
  for (let i = 0; i < items.length; i++) {
    const value = read(items[i] as T);
    if (value === null || value === undefined || !Number.isFinite(value)) continue;
    if (result === null) result = value;
    else if (how === 'sum') result += value;
    else if (how === 'max' ? value > result : value < result) result = value;
  }
  return result;
}
