// Entry point of the targets grammar: every spec validated up front, files and stdin read once.
import { fstatSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { errorMessage, UsageError } from '../errors.js';
import { expandHome } from '../store/paths.js';
import { parseIpv4, parseSpecEntry, parseTargetFile, type TargetEntry } from './parse.js';
import { type Interval, insertMerged, TargetSet } from './set.js';

export { formatIpv4, parseIpv4, parseTarget, type TargetEntry } from './parse.js';
export { TargetSet } from './set.js';

export interface ParseTargetsOptions {
  defaultPort: number;
  /** Reads an @FILE (defaults to the file system). */
  readFile?: (path: string) => Promise<string>;
  /** Standard input, read when a spec is `-`. */
  stdin?: AsyncIterable<string | Uint8Array>;
  /** The environment whose HOME a leading `~/` of an @FILE names (see targetFilePath). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The run's cap: a target list is refused as soon as it names more, not once all of it is parsed. */
  limit?: TargetLimit;
}

/** The most targets a run takes, and what its refusal says (assertTargetCount's words). */
export interface TargetLimit {
  max: number;
  advice: string;
  /** What is counted: `addresses`, or scan's endpoints over several ports. */
  unit?: string;
  /** Said before "at most" (collect's `collect polls `); none: nothing. */
  who?: string;
}

/**
 * The file an `@FILE` spec names. No shell expands a tilde after `@` (`probe @~/farm.json`), nor in
 * a config file's `targets`: `~/` is the home folder here, as it is for `--db` and `--config`.
 */
export function targetFilePath(spec: string, env?: Readonly<Record<string, string | undefined>>): string {
  const file = spec.slice(1);
  return env ? expandHome(file, env) : file;
}

/**
 * The most a target list (@FILE or stdin) may hold: a farm's inventory is a few MB (200,000 lines
 * are ~5 MB). `@/dev/urandom` must end in a clear line, not a gigabyte of memory.
 */
export const MAX_TARGET_LIST_BYTES = 64 * 1024 * 1024;

const tooLarge = (what: string) =>
  new Error(`${what} is larger than ${MAX_TARGET_LIST_BYTES / 1024 / 1024} MiB: not a list hashctl reads`);

type Decoder = InstanceType<typeof TextDecoder>;

/**
 * UTF-8 (a BOM dropped), or UTF-16 when the text starts with its BOM: Windows PowerShell's `>` and
 * Out-File write UTF-16LE, which read as UTF-8 was refused as "invalid target '��1\x002\x00…'".
 */
function textDecoderFor(start: Uint8Array): Decoder {
  if (start[0] === 0xff && start[1] === 0xfe) return new TextDecoder('utf-16le');
  if (start[0] === 0xfe && start[1] === 0xff) return new TextDecoder('utf-16be');
  return new TextDecoder();
}

/** Reads a target file as text, refusing one past MAX_TARGET_LIST_BYTES (a device never ends). */
export async function readTargetFile(path: string): Promise<string> {
  const file = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(1024 * 1024);
      const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_TARGET_LIST_BYTES) throw tooLarge('the file');
      chunks.push(chunk.subarray(0, bytesRead));
    }
    const bytes = Buffer.concat(chunks);
    return textDecoderFor(bytes).decode(bytes);
  } finally {
    await file.close();
  }
}

/**
 * Why an @FILE could not be read, as a usage error. `@-` is curl's way to say standard input; here
 * that is `-` alone, which the line says rather than only "no such file '-'".
 */
export function targetFileError(path: string, error: unknown): UsageError {
  const stdinHint =
    path === '-' && (error as NodeJS.ErrnoException | null)?.code === 'ENOENT'
      ? "; to read targets from standard input, give '-' without '@'"
      : '';
  return new UsageError(`cannot read target file '${path}': ${errorMessage(error)}${stdinHint}`, {
    cause: error,
  });
}

/**
 * Specs that named nothing at all. An empty file or stdin is almost always a mistake upstream (an
 * empty scan inventory, a broken pipe): said, instead of doing nothing successfully.
 */
export function noTargetsError(specs: readonly string[]): UsageError {
  return new UsageError(`no targets: ${specs.join(' ') || '(none given)'} named no miner`);
}

/**
 * `-` read no target while other targets were given: `10.0.0.1 - 10.0.0.9` typed for a range (the
 * rest would be checked and the range silently not), or a pipe that broke upstream.
 */
export function emptyStdinError(specs: readonly string[]): UsageError {
  const at = specs.indexOf('-');
  const [before, after] = [specs[at - 1], specs[at + 1]];
  if (before !== undefined && after !== undefined && parseIpv4(before) !== null && parseIpv4(after) !== null)
    return new UsageError(
      `'${before} - ${after}': '-' reads targets from standard input, which named none; for a range write ${before}-${after}, without spaces`,
    );
  return new UsageError("'-' (standard input) named no target");
}

/**
 * Refuses a run past `max` targets before any traffic, pointing at the way to find miners first.
 * `unit` names what is counted: scan's several `--port`s make each address several endpoints.
 */
export function assertTargetCount(
  targets: TargetSet,
  max: number,
  advice: string,
  unit = 'addresses',
  who = '',
): void {
  if (targets.count > max)
    throw new UsageError(
      `the targets name ${targets.count.toLocaleString('en')} ${unit}; ${who}at most ${max.toLocaleString('en')} per run: ${advice}`,
    );
}

/**
 * The entries of a run as they are read, each kept only if it names a target not named before (a
 * repeated host, a range whose every address an earlier range holds, yields nothing when walked), and
 * the count refused as soon as it passes the cap. A list of a million lines was a million entries
 * (457 MB) before the count was checked; now a list stops at the line past the cap, and what is kept
 * is at most the cap's hosts and ranges. The count here is a lower bound (distinct hosts, or the
 * addresses of the ranges): the exact one is TargetSet's, which assertTargetCount checks after.
 */
export class TargetEntries {
  readonly list: TargetEntry[] = [];
  private readonly hostKeys = new Set<string>();
  private readonly rangesByPort = new Map<number, Interval[]>();
  /** Distinct hosts and range addresses so far, on real ports and on the placeholder port. */
  private hosts = 0;
  private addresses = 0;
  private placeholderHosts = 0;
  private placeholderAddresses = 0;

  /**
   * `placeholder`: the port of entries that take each of `ports` ports later (scan's `--port`). Those
   * are counted apart: `10.0.0.0/8` and `10.0.0.0/8:4028` are one /8 on `--port 4028`, not two.
   */
  constructor(
    private readonly limit: TargetLimit | null = null,
    private readonly placeholder: number | null = null,
    private readonly ports = 1,
  ) {}

  /** Adds an entry; `where` (`farm.txt:12`) says where a list is past the cap (none: not checked). */
  add(entry: TargetEntry, where?: string): void {
    if (entry.kind === 'host') {
      if (this.hostKeys.has(entry.target.key)) return;
      this.hostKeys.add(entry.target.key);
      if (entry.target.port === this.placeholder) this.placeholderHosts++;
      else this.hosts++;
    } else {
      let merged = this.rangesByPort.get(entry.port);
      if (merged === undefined) {
        merged = [];
        this.rangesByPort.set(entry.port, merged);
      }
      const added = insertMerged(merged, entry.start, entry.end);
      if (added === 0) return;
      if (entry.port === this.placeholder) this.placeholderAddresses += added;
      else this.addresses += added;
    }
    this.list.push(entry);
    // Each count alone is a lower bound of the run's: past the cap, so is the run.
    const atLeast = Math.max(
      this.hosts,
      this.addresses,
      this.placeholderHosts * this.ports,
      this.placeholderAddresses * this.ports,
    );
    if (this.limit !== null && where !== undefined && atLeast > this.limit.max) {
      const { max, advice, unit = 'addresses', who = '' } = this.limit;
      throw new UsageError(
        `the targets name more than ${max.toLocaleString('en')} ${unit} (reading stopped at ${where}); ${who}at most ${max.toLocaleString('en')} per run: ${advice}`,
      );
    }
  }
}

/** Standard input as text, refusing more than MAX_TARGET_LIST_BYTES. */
export async function readTargetStream(stream: AsyncIterable<string | Uint8Array>): Promise<string> {
  // Node gives a directory on fd 0 (`probe - < somedir`) as a stream that ends at once: read, it
  // was "- named no miner", as if the list were empty, and the folder-for-a-file slip went unnamed.
  const fd = (stream as { fd?: unknown }).fd;
  if (typeof fd === 'number' && isDirectory(fd))
    throw new UsageError(
      "'-' reads targets from standard input, which is a directory here: redirect a file (< farm.txt)",
    );
  let decoder: Decoder | null = null;
  let text = '';
  for await (const chunk of stream) {
    if (typeof chunk !== 'string') decoder ??= textDecoderFor(chunk);
    text += typeof chunk === 'string' ? chunk : (decoder as Decoder).decode(chunk, { stream: true });
    if (text.length > MAX_TARGET_LIST_BYTES) throw new UsageError(tooLarge('standard input').message);
  }
  return text + (decoder?.decode() ?? '');
}

function isDirectory(fd: number): boolean {
  try {
    return fstatSync(fd).isDirectory();
  } catch {
    return false; // not a descriptor fstat can read: the stream says what it holds
  }
}

/**
 * Parses target specs (hashctl.md §2). Throws UsageError naming the first bad spec (or file line)
 * before anything is contacted. The result expands lazily and yields each target once.
 */
export async function parseTargetSpecs(specs: string[], options: ParseTargetsOptions): Promise<TargetSet> {
  const readFile = options.readFile ?? readTargetFile;
  const entries = new TargetEntries(options.limit ?? null);
  let named = 0;
  const add = (entry: TargetEntry, where: string): void => {
    named++;
    entries.add(entry, where);
  };
  let stdinUsed = false;
  for (const spec of specs) {
    if (spec.startsWith('@')) {
      const path = targetFilePath(spec, options.env);
      if (path === '') throw new UsageError(`invalid target '@': name a file after @`);
      let content: string;
      try {
        content = await readFile(path);
      } catch (error) {
        throw targetFileError(path, error);
      }
      parseTargetFile(content, path, options.defaultPort, add);
    } else if (spec === '-') {
      if (stdinUsed) throw new UsageError("'-' (standard input) can be given only once");
      if (!options.stdin) throw new UsageError("'-' needs targets on standard input");
      stdinUsed = true;
      const before = named;
      parseTargetFile(await readTargetStream(options.stdin), 'stdin', options.defaultPort, add);
      if (named === before && specs.length > 1) throw emptyStdinError(specs);
    } else {
      // Checked once all are read, with the exact count: a spec given by hand is one entry.
      entries.add(parseSpecEntry(spec, options.defaultPort));
      named++;
    }
  }
  if (named === 0) throw noTargetsError(specs);
  const singleHost = specs.length === 1 && !specs[0]?.startsWith('@') && specs[0] !== '-';
  return new TargetSet(entries.list, singleHost);
}
