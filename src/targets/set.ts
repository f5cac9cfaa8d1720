// A deduplicated, lazily expanded set of targets. Ranges stay intervals: `count` is arithmetic and
// iteration walks addresses one at a time, skipping spans an earlier range already covered, so a /8
// costs no memory per address. Only explicit hosts (already in memory as specs) sit in a Map.

import { formatIpv4, parseIpv4, type TargetEntry } from './parse.js';
import { type Target, targetKey } from './types.js';

type Interval = [start: number, end: number];

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

/** Inserts [start, end] into merged `intervals`, keeping them merged. */
function insertMerged(intervals: Interval[], start: number, end: number): Interval[] {
  return merge([...intervals, [start, end]]);
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

  constructor(entries: TargetEntry[], singleHost = false) {
    this.entries = entries;
    this.singleHost = singleHost && entries.length === 1 && entries[0]?.kind === 'host';
    const rangesByPort = new Map<number, Interval[]>();
    entries.forEach((entry, index) => {
      if (entry.kind === 'host') {
        if (!this.firstHostIndex.has(entry.target.key)) this.firstHostIndex.set(entry.target.key, index);
      } else {
        const list = rangesByPort.get(entry.port) ?? [];
        list.push([entry.start, entry.end]);
        rangesByPort.set(entry.port, list);
      }
    });
    let count = 0;
    const mergedByPort = this.mergedByPort;
    for (const [port, list] of rangesByPort) {
      const merged = merge(list);
      mergedByPort.set(port, merged);
      for (const [start, end] of merged) count += end - start + 1;
    }
    for (const index of this.firstHostIndex.values()) {
      const entry = this.entries[index] as Extract<TargetEntry, { kind: 'host' }>;
      const merged = mergedByPort.get(entry.target.port);
      if (entry.ipv4 !== null && merged && findCovering(merged, entry.ipv4) !== -1) continue;
      count++;
    }
    this.count = count;
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
        yield entry.target;
        continue;
      }
      const { start, end, port } = entry;
      const covered = seen.get(port) ?? [];
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
      seen.set(port, insertMerged(covered, start, end));
    }
  }
}
