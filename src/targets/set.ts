// A deduplicated, lazily expanded set of targets. Ranges stay intervals: `count` is arithmetic and
// iteration walks addresses one at a time, skipping spans an earlier range already covered, so a /8
// costs no memory per address. Only explicit hosts (already in memory as specs) sit in a Map.

import { formatIpv4, parseIpv4, type TargetEntry } from './parse.js';
import { type Target, targetKey } from './types.js';

export type Interval = [start: number, end: number];

/** Sorted, non-overlapping, merged copy of `intervals` (adjacent ones joined). */
function merge(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const out: Interval[] = [];
  for (const [start, end] of sorted) {
    const last = out[out.length - 1];
    if (last && start <= last[1] + 1) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

/** Index of the interval containing `value` in merged `intervals`, or -1. */
function findCovering(intervals: Interval[], value: number): number {
  let low = 0;
  let high = intervals.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const [start, end] = intervals[mid] as Interval;
    if (value < start) high = mid - 1;
    else if (value > end) low = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * Inserts [start, end] into merged `intervals` in place, keeping them merged, and returns how many
 * addresses it added (0: all were covered already): a binary search and
 * one splice. A copy and a sort per range (as it was) made a file of 20,000 single-address ranges
 * take 16 s to walk, and the run cap of 65,536 several minutes, before any traffic.
 */
export function insertMerged(intervals: Interval[], start: number, end: number): number {
  // First interval that ends at or after start - 1 (the first one this range may touch or join).
  let low = 0;
  let high = intervals.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((intervals[mid] as Interval)[1] < start - 1) low = mid + 1;
    else high = mid;
  }
  let last = low;
  let from = start;
  let to = end;
  let before = 0; // addresses the joined intervals held already
  while (last < intervals.length && (intervals[last] as Interval)[0] <= end + 1) {
    const [s, e] = intervals[last] as Interval;
    if (s <= start && e >= end && last === low) return 0; // already covered: nothing changes
    from = Math.min(from, s);
    to = Math.max(to, e);
    before += e - s + 1;
    last++;
  }
  intervals.splice(low, last - low, [from, to]);
  return to - from + 1 - before;
}

export class TargetSet implements Iterable<Target> {
  /** Distinct targets the iterator yields. */
  readonly count: number;
  /** The specs were exactly one plain host (probe --json then prints that object, not a list). */
  readonly singleHost: boolean;
  private readonly entries: readonly TargetEntry[];
  /** Explicit host key → index of its first entry. */
  private readonly firstHostIndex = new Map<string, number>();
  /** Ranges per port, merged. */
  private readonly mergedByPort = new Map<number, Interval[]>();
  /**
   * Indexes of the range entries that share an address with another range on their port: only
   * those need what earlier ranges covered when walked (a list of disjoint ranges needs none).
   */
  private readonly overlapping = new Set<number>();
  /** The other range entries per port, as [start, end, entry index], sorted: no two share an address. */
  private readonly soleByPort = new Map<number, [start: number, end: number, index: number][]>();

  constructor(entries: TargetEntry[], singleHost = false) {
    this.entries = entries;
    this.singleHost = singleHost && entries.length === 1 && entries[0]?.kind === 'host';
    const rangesByPort = new Map<number, Interval[]>();
    const indexesByPort = new Map<number, number[]>();
    entries.forEach((entry, index) => {
      if (entry.kind === 'host') {
        if (!this.firstHostIndex.has(entry.target.key)) this.firstHostIndex.set(entry.target.key, index);
      } else {
        const list = rangesByPort.get(entry.port) ?? [];
        list.push([entry.start, entry.end]);
        rangesByPort.set(entry.port, list);
        const indexes = indexesByPort.get(entry.port) ?? [];
        indexes.push(index);
        indexesByPort.set(entry.port, indexes);
      }
    });
    let count = 0;
    const mergedByPort = this.mergedByPort;
    for (const [port, list] of rangesByPort) {
      const merged = merge(list);
      mergedByPort.set(port, merged);
      for (const [start, end] of merged) count += end - start + 1;
      this.markOverlapping(port, indexesByPort.get(port) ?? []);
    }
    for (const index of this.firstHostIndex.values()) {
      const entry = this.entries[index] as Extract<TargetEntry, { kind: 'host' }>;
      const merged = mergedByPort.get(entry.target.port);
      if (entry.ipv4 !== null && merged && findCovering(merged, entry.ipv4) !== -1) continue;
      count++;
    }
    this.count = count;
  }

  /**
   * Marks the range entries (of one port) that share an address with another: sorted by start, a
   * run of ranges each starting within the furthest end so far shares addresses; every range of a
   * run of two or more is marked (one that touches no other is walked as it is, and kept in
   * soleByPort for the hosts it may cover).
   */
  private markOverlapping(port: number, indexes: number[]): void {
    const range = (index: number) => this.entries[index] as Extract<TargetEntry, { kind: 'range' }>;
    const sorted = [...indexes].sort((a, b) => range(a).start - range(b).start);
    let run: number[] = [];
    let furthest = -1;
    const sole: [number, number, number][] = [];
    const close = () => {
      if (run.length > 1) for (const index of run) this.overlapping.add(index);
      else if (run.length === 1) {
        const index = run[0] as number;
        sole.push([range(index).start, range(index).end, index]);
      }
    };
    for (const index of sorted) {
      const { start, end } = range(index);
      if (run.length > 0 && start <= furthest) {
        run.push(index);
        furthest = Math.max(furthest, end);
        continue;
      }
      close();
      run = [index];
      furthest = end;
    }
    close();
    this.soleByPort.set(port, sole);
  }

  /** Whether a range entry that shares no address with another range, listed before `before`, holds `address`. */
  private soleRangeBefore(port: number, address: number, before: number): boolean {
    const sole = this.soleByPort.get(port);
    if (sole === undefined) return false;
    let low = 0;
    let high = sole.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const [start, end, index] = sole[mid] as [number, number, number];
      if (address < start) high = mid - 1;
      else if (address > end) low = mid + 1;
      else return index < before;
    }
    return false;
  }

  /** The targets given as hosts (not ranges), each once, in order: a handful even for a /8. */
  hostTargets(): Target[] {
    return [...this.firstHostIndex.values()].map(
      (index) => (this.entries[index] as Extract<TargetEntry, { kind: 'host' }>).target,
    );
  }

  /** Whether the set yields `host:port` (host as an address: an IPv4 inside a range counts). */
  covers(host: string, port: number): boolean {
    if (this.firstHostIndex.has(targetKey(host, port))) return true;
    const ipv4 = parseIpv4(host);
    const merged = this.mergedByPort.get(port);
    return ipv4 !== null && merged !== undefined && findCovering(merged, ipv4) !== -1;
  }

  /** The same set less the host targets with these keys. */
  without(keys: ReadonlySet<string>): TargetSet {
    return new TargetSet(
      this.entries.filter((entry) => entry.kind !== 'host' || !keys.has(entry.target.key)),
      this.singleHost,
    );
  }

  *[Symbol.iterator](): Iterator<Target> {
    // Ranges seen so far, per port, merged: what a later entry must not yield again.
    const seen = new Map<number, Interval[]>();
    for (let index = 0; index < this.entries.length; index++) {
      const entry = this.entries[index] as TargetEntry;
      if (entry.kind === 'host') {
        if (this.firstHostIndex.get(entry.target.key) !== index) continue;
        const covered = seen.get(entry.target.port);
        if (entry.ipv4 !== null && covered && findCovering(covered, entry.ipv4) !== -1) continue;
        if (entry.ipv4 !== null && this.soleRangeBefore(entry.target.port, entry.ipv4, index)) continue;
        yield entry.target;
        continue;
      }
      const { start, end, port } = entry;
      const overlaps = this.overlapping.has(index);
      // A range that shares no address with another needs no record of what the others covered.
      const covered = overlaps ? (seen.get(port) ?? []) : [];
      let next = 0; // first covered interval that may still lie ahead of `address`
      for (let address = start; address <= end; address++) {
        while (next < covered.length && (covered[next] as Interval)[1] < address) next++;
        const span = covered[next];
        if (span && span[0] <= address) {
          address = span[1]; // jump over the whole covered span
          continue;
        }
        const host = formatIpv4(address);
        const key = targetKey(host, port);
        const hostIndex = this.firstHostIndex.get(key);
        if (hostIndex !== undefined && hostIndex < index) continue;
        yield { host, port, key };
      }
      if (overlaps) {
        insertMerged(covered, start, end);
        seen.set(port, covered);
      }
    }
  }
}
