// Reading and validating the config file. Errors are one line naming the file, the key path and
// (where known) the line: `hashctl: config farm.json:4: interval: invalid duration "soon"`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, errorMessage, UsageError } from '../errors.js';
import { expandHome } from '../store/paths.js';
import { firstDuplicateKey, jsonPathLines, lineOf, positionOf } from './json-lines.js';
import { configSchema, type HashctlConfig } from './schema.js';
import { unknownKeyMessage } from './suggest.js';

export interface LoadedConfig {
  file: string;
  config: HashctlConfig;
}

/** The config file to read: `--config`, else $HASHCTL_CONFIG, else none. */
export function configPath(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): string | null {
  // `--config "$CFG"` with CFG unset must not quietly run on the defaults (or on $HASHCTL_CONFIG):
  // a thermal check would judge the farm by limits nobody chose.
  if (flag !== undefined && flag.trim() === '')
    throw new UsageError('--config is empty: give a config file name');
  const chosen = flag ?? env.HASHCTL_CONFIG;
  return chosen ? path.resolve(cwd, expandHome(chosen, env)) : null;
}

/** Far above any real config (200,000 targets take about 4 MB): a larger file is a wrong path. */
export const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

export function loadConfig(
  file: string,
  env: Readonly<Record<string, string | undefined>> = {},
): LoadedConfig {
  const fail = (why: string, cause?: unknown): never => {
    throw new ConfigError(`config ${file}: ${why}`, { cause, details: { file } });
  };
  let text = '';
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO given as the config must not wait for a writer for ever (a cron
    // run blocked in open() that not even SIGTERM ends, the next runs piling up behind it).
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'ELOOP'
            ? 'too many symbolic links (a loop?)'
            : code === 'ENOTDIR'
              ? 'a folder on its path is a file'
              : code === 'ENXIO'
                ? 'is a socket, not a config file'
                : errorMessage(error),
      error,
    );
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) fail('is a directory, not a config file');
    if (stat.isFIFO()) text = readPipe(fd, file, fail);
    else if (!stat.isFile()) fail('is not a regular file (a device or socket)');
    else if (stat.size > MAX_CONFIG_BYTES) fail(tooLarge(stat.size));
    else text = decodeConfig(fs.readFileSync(fd), file);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    fail(errorMessage(error), error);
  } finally {
    fs.closeSync(fd);
  }
  return parseConfig(text, file, env);
}

const tooLarge = (bytes: number) =>
  `${bytes.toLocaleString('en')} bytes: a config file is at most 64 MiB (is this the right file?)`;

/** How long a pipe (`--config <(…)`, `/dev/stdin`) may stay silent before it is written and closed. */
const PIPE_WAIT_MS = 10_000;

/**
 * A pipe opened without blocking: `--config <(envsubst < farm.tmpl)` is read as it is written; a
 * named FIFO nobody writes to is said at once instead of waiting in open() for ever.
 */
function readPipe(fd: number, file: string, fail: (why: string) => never): string {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(64 * 1024);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let total = 0;
  let waited = 0;
  for (;;) {
    let read: number;
    try {
      read = fs.readSync(fd, buffer);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      if (waited >= PIPE_WAIT_MS) fail(`is a pipe nothing was written to for ${PIPE_WAIT_MS / 1000}s`);
      Atomics.wait(pause, 0, 0, 20); // a writer is there but has not written yet
      waited += 20;
      continue;
    }
    if (read === 0) break;
    waited = 0; // the limit is a silence, not the whole writing: a writer may pause more than once
    total += read;
    if (total > MAX_CONFIG_BYTES) fail(tooLarge(total));
    chunks.push(Buffer.from(buffer.subarray(0, read)));
  }
  if (total === 0) fail('is a FIFO with no writer (nothing to read)');
  return decodeConfig(Buffer.concat(chunks), file);
}

/**
 * The file's text, which JSON says is UTF-8. Read leniently, a byte that is not (an editor that
 * saved "café" in Latin-1) became U+FFFD without a word: the site or db named in it silently
 * changed, and the cycles went to a new site or file. UTF-16 (Windows Notepad's "Unicode") failed
 * as "Unexpected token '�'".
 */
function decodeConfig(bytes: Buffer, file: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    throw new ConfigError(`config ${file}: is UTF-16 text: save it as UTF-8`, { details: { file } });
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    const lenient = bytes.toString('utf8');
    const at = lenient.indexOf('\uFFFD');
    const line = at < 0 ? null : positionOf(lenient, at).line;
    throw new ConfigError(
      `config ${file}${line === null ? '' : `:${line}`}: not UTF-8 text (saved as Latin-1 or another encoding?): save it as UTF-8`,
      { cause: error, details: { file, line } },
    );
  }
}

/**
 * Where JSON.parse first meets a character it cannot take, for the errors V8 gives no position: the
 * shortest prefix that fails other than by ending early. Only on the error path (a config file).
 */
function firstBadOffset(text: string): number | null {
  const failsInside = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length));
      return false;
    } catch (error) {
      const message = errorMessage(error);
      if (/end of JSON input|Unterminated string/.test(message)) return false;
      const at = /position (\d+)/.exec(message);
      return !(at && Number(at[1]) >= length);
    }
  };
  if (!failsInside(text.length)) return null;
  let low = 1;
  let high = text.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (failsInside(middle)) high = middle;
    else low = middle + 1;
  }
  return low - 1;
}

export function parseConfig(
  withBom: string,
  file: string,
  env: Readonly<Record<string, string | undefined>> = {},
): LoadedConfig {
  // A byte-order mark (Windows editors) is not part of the JSON, and must not hide the line numbers.
  const text = withBom.replace(/^\uFEFF/, '');
  let data: unknown;
  // Two common slips said in JSON.parse's words were "Unexpected end of JSON input" for a file with
  // nothing in it, and no line at all for a YAML or INI file: each gets a line of its own.
  const start = /\S/.exec(text);
  if (!start)
    throw new ConfigError(
      `config ${file}: is empty: a config file is one JSON object, {"targets": [...], ...}`,
      {
        details: { file },
      },
    );
  try {
    data = JSON.parse(text);
  } catch (error) {
    const message = errorMessage(error);
    // V8 names no position for some errors ("Unexpected token 'a', "targets:\n…" is not valid
    // JSON", with the file's text in it): the offset is then found by parsing prefixes.
    const stated = /position (\d+)/.exec(message);
    let offset = stated ? Number(stated[1]) : firstBadOffset(text);
    let reason = message
      .replace(/ (?:in|after) JSON at position \d+.*$/s, (found) =>
        found.startsWith(' after') ? ' after JSON' : '',
      )
      .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '');
    // What editors and other tools allow in their JSON (VS Code's JSON with comments, JSON5) was
    // said in V8's words ("Expected property name or '}'") of a line that looks fine to its author.
    const bad = offset === null ? '' : text.slice(offset, offset + 2);
    if (bad === '//' || bad === '/*' || bad.startsWith('#')) reason = 'a comment: JSON has none; remove it';
    else if (offset !== null && (bad.startsWith('}') || bad.startsWith(']'))) {
      const before = text.slice(0, offset).trimEnd();
      if (before.endsWith(',')) {
        offset = before.length - 1;
        reason = 'a comma after the last item: JSON takes none; remove it';
      }
    }
    const where = offset === null ? '' : `:${positionOf(text, offset).line}`;
    // A file that does not start as a JSON object (YAML, INI, a bare list) is most likely not meant
    // as JSON at all: said so, rather than leaving the reader with a token.
    const hint =
      start[0] === '{'
        ? ''
        : ': a config file is one JSON object, {"targets": [...], ...}; YAML and INI are not read';
    throw new ConfigError(`config ${file}${where}: not valid JSON (${reason})${hint}`, {
      cause: error,
      details: { file },
    });
  }
  // JSON.parse keeps the last of two equal keys without a word: a "db" or "retain" added below an
  // old one (or one miner's thermal limits written twice) would silently decide which one counts.
  const duplicate = firstDuplicateKey(text);
  if (duplicate) {
    throw new ConfigError(
      `config ${file}:${duplicate.line}: ${shownKey(duplicate.path)}: given twice (also on line ${duplicate.firstLine}): keep one`,
      { details: { file, key: duplicate.path, line: duplicate.line } },
    );
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    // Report the first problem in reading order, as a person would fix them.
    const lines = jsonPathLines(text);
    // A required key that is missing next to an unknown one is that key misspelt (`endpont`): the
    // unknown key is the problem to name, not the missing one.
    const misspelt = new Set(
      parsed.error.issues
        .filter((issue) => issue.code === 'unrecognized_keys')
        .map((issue) => issue.path.map(String).join('.')),
    );
    const issues = parsed.error.issues.filter(
      (issue) =>
        issue.code === 'unrecognized_keys' ||
        valueAt(data, issue.path) !== undefined ||
        !misspelt.has(issue.path.slice(0, -1).map(String).join('.')),
    );
    const problems = issues.map((issue) => {
      let keyPath = issue.path.map(String);
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') {
        keyPath = [...keyPath, issue.keys[0]!];
        message = unknownKeyMessage(configSchema, issue.path, issue.keys[0]!);
      }
      return { keyPath, message, line: lineOf(lines, keyPath) };
    });
    problems.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
    const { keyPath, message, line } = problems[0]!;
    const where = line === null ? '' : `:${line}`;
    const name = keyPath.length > 0 ? shownKey(keyPath.join('.')) : '(top level)';
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw new ConfigError(`config ${file}${where}: ${name}: ${message}${more}`, {
      details: { file, path: keyPath, line },
    });
  }
  return { file, config: resolveRelativePaths(parsed.data, path.dirname(file), env) };
}

/** Longer key paths are named by their start: a generated 3 MB key was echoed whole in the error. */
const SHOWN_KEY_CHARS = 80;

function shownKey(keyPath: string): string {
  return keyPath.length <= SHOWN_KEY_CHARS
    ? keyPath
    : `${keyPath.slice(0, 64)}… (${keyPath.length} characters)`;
}

function valueAt(data: unknown, keyPath: readonly PropertyKey[]): unknown {
  let value = data;
  for (const key of keyPath) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * Paths in a config file are relative to the file, not to wherever cron starts hashctl. A leading
 * `~/` is the home folder, as it is in `db`: no shell expands a tilde inside a JSON file, and
 * `"key_file": "~/.hashctl/key"` read as `/etc/hashctl/~/.hashctl/key` failed the run.
 */
function resolveRelativePaths(
  config: HashctlConfig,
  base: string,
  env: Readonly<Record<string, string | undefined>>,
): HashctlConfig {
  const resolved: HashctlConfig = { ...config };
  const resolveFile = (file: string) => path.resolve(base, expandHome(file, env));
  // `~/farm.db` is left for resolveDbPath, which knows the home folder (the environment's HOME).
  if (config.db && !/^~(\/|$)/.test(config.db)) resolved.db = path.resolve(base, config.db);
  if (config.targets) {
    resolved.targets = config.targets.map((spec) =>
      spec.startsWith('@') ? `@${resolveFile(spec.slice(1))}` : spec,
    );
  }
  if (config.upload) {
    resolved.upload = { ...config.upload };
    if (config.upload.key_file) resolved.upload.key_file = resolveFile(config.upload.key_file);
    if (config.upload.ca_file) resolved.upload.ca_file = resolveFile(config.upload.ca_file);
  }
  return resolved;
}
