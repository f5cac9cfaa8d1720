// The endpoints of a scan: every spec of the targets grammar on every port of `--port 4028,4029`,
// as one lazy, deduplicated TargetSet (a /8 stays a pair of numbers per port).
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import {
  emptyStdinError,
  noTargetsError,
  readTargetFile,
  readTargetStream,
  TargetEntries,
  type TargetLimit,
  targetFileError,
  targetFilePath,
} from '../targets/index.js';
import { parseSpecEntry, parseTargetFile, type TargetEntry } from '../targets/parse.js';
import type { DistinctTargets, ResolveHost } from '../targets/resolve.js';
import { TargetSet } from '../targets/set.js';
import { type Target, targetKey } from '../targets/types.js';

/** More ports than this is a port scan, which is nmap's job, not a miner scan. */
export const MAX_SCAN_PORTS = 64;

/** `4028`, `4028,4029`, `4028-4030` → sorted distinct ports. */
export function parsePortList(text: string): number[] {
  const ports = new Set<number>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(item);
    if (!match)
      throw new UsageError(`invalid --port '${text}': use a port, a list (4028,4029) or a range (4028-4030)`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (first < 1 || last > 65_535 || last < first) {
      throw new UsageError(`invalid --port '${item}': ports are 1-65535 and a range runs upwards`);
    }
    for (let port = first; port <= last && ports.size <= MAX_SCAN_PORTS; port++) ports.add(port);
    if (ports.size > MAX_SCAN_PORTS) throw new UsageError(`--port lists more than ${MAX_SCAN_PORTS} ports`);
  }
  return [...ports].sort((a, b) => a - b);
}

export interface ScanTargetsOptions {
  readFile?: (path: string) => Promise<string>;
  stdin?: AsyncIterable<string | Uint8Array>;
  /** Whose HOME a leading `~/` of an @FILE names. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The run's cap on endpoints: a list is refused at the line past it (see TargetEntries). */
  limit?: TargetLimit;
}

/** The port a list's entry has when its line names none: each of `--port`'s, set per port. */
const UNSET_PORT = 0;

/** `entry` on `port` when its spec named no port of its own. */
function onPort(entry: TargetEntry, port: number): TargetEntry {
  if (entry.kind === 'range') return entry.port === UNSET_PORT ? { ...entry, port } : entry;
  if (entry.target.port !== UNSET_PORT) return entry;
  const { host } = entry.target;
  return { kind: 'host', target: { host, port, key: targetKey(host, port) }, ipv4: entry.ipv4 };
}

/**
 * Parses each spec, file and stdin once (a list was parsed again for every port of `--port
 * 4028-4091`) and joins the entries, on every port, into one TargetSet, which merges ranges per port
 * and drops repeats. Throws UsageError before any traffic.
 */
export async function buildScanTargets(
  specs: string[],
  ports: number[],
  options: ScanTargetsOptions = {},
): Promise<TargetSet> {
  if (specs.length === 0) throw new UsageError('name at least one address, range or network to scan');
  if (ports.length === 0) throw new UsageError('--port names no port');
  const readFile = options.readFile ?? readTargetFile;
  const sources: { spec: string; content: string | null; name: string }[] = [];
  let stdinUsed = false;
  for (const spec of specs) {
    if (spec.startsWith('@')) {
      const path = targetFilePath(spec, options.env);
      if (path === '') throw new UsageError(`invalid target '@': name a file after @`);
      try {
        sources.push({ spec, content: await readFile(path), name: path });
      } catch (error) {
        throw targetFileError(path, error);
      }
    } else if (spec === '-') {
      if (stdinUsed) throw new UsageError("'-' (standard input) can be given only once");
      if (!options.stdin) throw new UsageError("'-' needs targets on standard input");
      stdinUsed = true;
      sources.push({ spec, content: await readTargetStream(options.stdin), name: 'stdin' });
    } else {
      sources.push({ spec, content: null, name: spec });
    }
  }
  const entries = new TargetEntries(options.limit ?? null);
  let named = 0;
  for (const source of sources) {
    if (source.content === null) {
      const entry = parseSpecEntry(source.spec, UNSET_PORT);
      for (const port of ports) entries.add(onPort(entry, port));
      named++;
      continue;
    }
    // Once, whatever the ports, its repeats dropped. A line without a port of its own names one
    // endpoint per port: once the lines pass the cap so counted, the reading stops at that line.
    const list = new TargetEntries(options.limit ?? null, UNSET_PORT, ports.length);
    const before = named;
    parseTargetFile(source.content, source.name, UNSET_PORT, (entry, where) => {
      named++;
      list.add(entry, where);
    });
    if (named === before && source.spec === '-' && specs.length > 1) throw emptyStdinError(specs);
    for (const port of ports) for (const entry of list.list) entries.add(onPort(entry, port), source.name);
  }
  // As probe and collect: a sweep of nothing is no success (exit 0, an empty --out inventory).
  if (named === 0) throw noTargetsError(specs);
  return new TargetSet(entries.list);
}

/**
 * The set less the host names that name an endpoint it already holds (a name inside a range it
 * scans, or two names of one miner): one miner is connected to once and counted once, as probe and
 * collect do (src/targets/resolve.ts). Only the names are resolved, so a /8 with one name costs one
 * lookup; the address is kept, the name dropped. A name that does not resolve stays, to fail as such.
 */
export async function withoutAliases(
  targets: TargetSet,
  resolve: ResolveHost,
): Promise<{ targets: TargetSet; dropped: DistinctTargets['dropped'] }> {
  const named = targets.count < 2 ? [] : targets.hostTargets().filter((target) => isIP(target.host) === 0);
  if (named.length === 0) return { targets, dropped: [] };
  const names = [...new Set(named.map((target) => target.host))];
  const resolved = new Map(
    await Promise.all(names.map(async (name) => [name, await resolve(name)] as const)),
  );
  const owner = new Map<string, Target>();
  const dropped: DistinctTargets['dropped'] = [];
  for (const target of named) {
    const addresses = (resolved.get(target.host) ?? []).filter((address) => isIP(address) !== 0);
    let sameAs: Target | undefined;
    for (const address of addresses) {
      const key = targetKey(address, target.port);
      sameAs = targets.covers(address, target.port)
        ? { host: address, port: target.port, key }
        : owner.get(key);
      if (sameAs) break;
    }
    if (sameAs) {
      dropped.push({ target, sameAs });
      continue;
    }
    for (const address of addresses) owner.set(targetKey(address, target.port), target);
  }
  if (dropped.length === 0) return { targets, dropped };
  return { targets: targets.without(new Set(dropped.map((d) => d.target.key))), dropped };
}
