// The endpoints of a scan: every spec of the targets grammar on every port of `--port 4028,4029`,
// as one lazy, deduplicated TargetSet (a /8 stays a pair of numbers per port).
import { errorMessage, UsageError } from '../errors.js';
import { readTargetFile, readTargetStream } from '../targets/index.js';
import { parseSpecEntry, parseTargetFile, type TargetEntry } from '../targets/parse.js';
import { TargetSet } from '../targets/set.js';

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
}

/**
 * Parses the specs once per port (files and stdin are read once) and joins the entries into one
 * TargetSet, which merges ranges per port and drops repeats. Throws UsageError before any traffic.
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
      const path = spec.slice(1);
      if (path === '') throw new UsageError(`invalid target '@': name a file after @`);
      try {
        sources.push({ spec, content: await readFile(path), name: path });
      } catch (error) {
        throw new UsageError(`cannot read target file '${path}': ${errorMessage(error)}`, { cause: error });
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
  const entries: TargetEntry[] = [];
  for (const source of sources) {
    for (const port of ports) {
      if (source.content === null) entries.push(parseSpecEntry(source.spec, port));
      else entries.push(...parseTargetFile(source.content, source.name, port));
    }
  }
  // As for every other command (targets/index.ts): an empty file or stdin is a mistake upstream,
  // not a scan of nothing that exits 0 (cron read a sweep of an emptied ranges file as a success).
  if (entries.length === 0) throw new UsageError(`no targets: ${specs.join(' ')} named no address to scan`);
  return new TargetSet(entries);
}
