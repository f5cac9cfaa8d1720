// Entry point of the targets grammar: every spec validated up front, files and stdin read once.
import { readFile as readFileFromDisk } from 'node:fs/promises';
import { UsageError, errorMessage } from '../errors.js';
import { parseSpecEntry, parseTargetFile, type TargetEntry } from './parse.js';
import { TargetSet } from './set.js';

export { parseTarget, parseIpv4, formatIpv4, type TargetEntry } from './parse.js';
export { TargetSet } from './set.js';

export interface ParseTargetsOptions {
  defaultPort: number;
  /** Reads an @FILE (defaults to the file system). */
  readFile?: (path: string) => Promise<string>;
  /** Standard input, read when a spec is `-`. */
  stdin?: AsyncIterable<string | Uint8Array>;
}

async function readAll(stream: AsyncIterable<string | Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of stream)
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/**
 * Parses target specs (hashctl.md §2). Throws UsageError naming the first bad spec (or file line)
 * before anything is contacted. The result expands lazily and yields each target once.
 */
export async function parseTargetSpecs(specs: string[], options: ParseTargetsOptions): Promise<TargetSet> {
  const readFile = options.readFile ?? ((path: string) => readFileFromDisk(path, 'utf8'));
  const entries: TargetEntry[] = [];
  let stdinUsed = false;
  for (const spec of specs) {
    if (spec.startsWith('@')) {
      const path = spec.slice(1);
      if (path === '') throw new UsageError(`invalid target '@': name a file after @`);
      let content: string;
      try {
        content = await readFile(path);
      } catch (error) {
        throw new UsageError(`cannot read target file '${path}': ${errorMessage(error)}`, { cause: error });
      }
      entries.push(...parseTargetFile(content, path, options.defaultPort));
    } else if (spec === '-') {
      if (stdinUsed) throw new UsageError("'-' (standard input) can be given only once");
      if (!options.stdin) throw new UsageError("'-' needs targets on standard input");
      stdinUsed = true;
      entries.push(...parseTargetFile(await readAll(options.stdin), 'stdin', options.defaultPort));
    } else {
      entries.push(parseSpecEntry(spec, options.defaultPort));
    }
  }
  // An empty file or stdin is almost always a mistake upstream (an empty scan inventory, a broken
  // pipe): say so instead of doing nothing successfully.
  if (entries.length === 0)
    throw new UsageError(`no targets: ${specs.join(' ') || '(none given)'} named no miner`);
  const singleHost = specs.length === 1 && !specs[0]?.startsWith('@') && specs[0] !== '-';
  return new TargetSet(entries, singleHost);
}
