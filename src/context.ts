// Everything a command needs from the outside world arrives here, so tests can hand in their own
// streams, clock, randomness and abort signal without monkey-patching globals.
import { setMaxListeners } from 'node:events';
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';

export interface OutStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface Context {
  stdout: OutStream;
  stderr: OutStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  now: () => number;
  /**
   * A clock that only moves forward (ms), for how long things take and deadlines: the wall clock
   * (`now`) can be stepped by NTP or an operator while a command runs.
   */
  monotonic: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  /**
   * Aborted on SIGINT/SIGTERM/SIGHUP: long-running commands finish the work in flight, then stop.
   * Its reason is a ProcessStop naming the signal (another AbortError in tests).
   */
  signal: AbortSignal;
  /** Host-name resolution for scan and the miner client (absent: the system resolver); tests resolve without DNS. */
  lookup?: import('node:net').LookupFunction;
  /**
   * What the decoded replies kept at once (scan's endpoints, probe's targets) may weigh together
   * (absent: the process's budget, src/cgminer/budget.ts); tests pass a small one.
   */
  decodedBudget?: import('./cgminer/budget.js').ReplyBudget;
}

/**
 * The abort reason main() gives the process's signal: an AbortError as every abortable API expects
 * (fetch rethrows it), naming the signal, so a note can say what happened and what a second one does.
 */
export class ProcessStop extends DOMException {
  constructor(readonly signalName: NodeJS.Signals) {
    super(`stopped by ${signalName}`, 'AbortError');
  }
}

/** The signal that stopped the process (null: not aborted, or aborted by something else). */
export function stoppedBy(signal: AbortSignal): NodeJS.Signals | null {
  return signal.aborted && signal.reason instanceof ProcessStop ? signal.reason.signalName : null;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The width tables are fitted to in a pipe: $COLUMNS, which `watch` sets to its terminal's width
 * (and which cuts every longer line, the PROBLEMS column first), else 160.
 */
export function pipeColumns(env: Readonly<Record<string, string | undefined>>): number {
  const text = env.COLUMNS?.trim() ?? '';
  const columns = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  return columns > 0 ? columns : 160;
}

/**
 * The width to fit text to on `out`: its terminal's, else $COLUMNS (a pipe under `watch`, or a
 * terminal that reports 0 columns: a serial console, a pty nobody sized), else undefined.
 */
export function outputColumns(
  out: OutStream,
  env: Readonly<Record<string, string | undefined>>,
): number | undefined {
  if (out.columns !== undefined && out.columns > 0) return out.columns;
  const text = env.COLUMNS?.trim() ?? '';
  const columns = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  return columns > 0 ? columns : undefined;
}

/**
 * The stdout commands write to. HASHCTL_FORMAT=table asks for the human tables even when stdout is
 * a pipe (watch, less -R, demos), fitted to its terminal, else $COLUMNS, else 160 columns. A
 * terminal that reports 0 columns (a serial console, a pty nobody sized) is fitted to $COLUMNS
 * when it is set: its tables were not fitted at all.
 */
export function stdoutFor(stream: OutStream, env: Readonly<Record<string, string | undefined>>): OutStream {
  if (env.HASHCTL_FORMAT === 'table')
    return asTerminal(stream, outputColumns(stream, env) ?? pipeColumns(env));
  if (stream.isTTY !== true || (stream.columns ?? 0) > 0) return stream;
  const columns = outputColumns(stream, env);
  return columns === undefined ? stream : asTerminal(stream, columns);
}

type EventedStream = OutStream & {
  writableNeedDrain?: boolean;
  on?: (event: string, listener: () => void) => unknown;
  once?: (event: string, listener: () => void) => unknown;
  removeListener?: (event: string, listener: () => void) => unknown;
};

/**
 * `stream` seen as a terminal `columns` wide. Its back-pressure and events go through: under
 * HASHCTL_FORMAT=table it is a pipe, and a wrapper with write() alone made every streamed document
 * (probe --json, export) stop waiting for a slow reader and queue all of its output in the process.
 */
function asTerminal(stream: OutStream, columns: number): OutStream {
  const evented = stream as EventedStream;
  const wrapper: EventedStream = {
    write: (chunk) => stream.write(chunk),
    isTTY: true,
    columns,
    get writableNeedDrain() {
      return evented.writableNeedDrain;
    },
  };
  if (typeof evented.on === 'function') wrapper.on = (event, listener) => evented.on?.(event, listener);
  if (typeof evented.once === 'function') wrapper.once = (event, listener) => evented.once?.(event, listener);
  if (typeof evented.removeListener === 'function')
    wrapper.removeListener = (event, listener) => evented.removeListener?.(event, listener);
  return wrapper;
}

export function processContext(signal: AbortSignal): Context {
  const stdout = stdoutFor(process.stdout, process.env);
  return {
    stdout,
    stderr: process.stderr,
    // Read on first use: Node builds process.stdin (a TTY, pipe or file stream) when it is first
    // touched, 3-4 ms of every start, and only `-` targets and control's prompt ever read it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    // Read when a command resolves a path, not at start (see currentDirectory).
    get cwd() {
      return currentDirectory();
    },
    now: () => Date.now(),
    monotonic: wholeMilliseconds,
    sleep,
    random: Math.random,
    signal,
  };
}

/**
 * The working directory, or, when it was deleted under the shell (process.cwd() throws), a name for
 * it: absolute paths still work, and a relative one fails as a missing file does, in a line.
 * On Linux that is the kernel's own link to the dead folder: nothing can be created in it (not
 * even by `mkdir -p`, which finds it there), where $PWD's path was recreated by collect's mkdir and
 * written to, and without $PWD (env -i, cron, a service) '/' took `--db rel.db` as /rel.db.
 */
function currentDirectory(): string {
  try {
    return process.cwd();
  } catch {
    // Only where /proc is mounted: else mkdir -p would make /proc/self/cwd a real folder on disk.
    if (process.platform === 'linux' && procCwdMounted()) return '/proc/self/cwd';
    const shell = process.env.PWD;
    return shell && isAbsolute(shell) ? shell : '/';
  }
}

function procCwdMounted(): boolean {
  try {
    return statSync('/proc/self/cwd').isDirectory();
  } catch {
    return false;
  }
}

/**
 * The monotonic clock in whole milliseconds, as `now` counts them: durations it measures are
 * written as `elapsed_ms` and `duration_ms`, where 33.191433 said nothing 33 did not.
 */
function wholeMilliseconds(): number {
  return Math.floor(performance.now());
}

/** A signal that never fires, which any number of requests may listen on (as main's does). */
function quietSignal(): AbortSignal {
  const { signal } = new AbortController();
  setMaxListeners(0, signal);
  return signal;
}

/** A context for tests and in-process callers: captures output in strings. */
export function memoryContext(
  overrides: Partial<Context> = {},
): Context & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const base: Context = {
    stdout: {
      write: (s) => {
        out += s;
        return true;
      },
      isTTY: false,
    },
    stderr: {
      write: (s) => {
        err += s;
        return true;
      },
      isTTY: false,
    },
    stdin: process.stdin,
    env: {},
    cwd: process.cwd(),
    now: () => Date.now(),
    monotonic: wholeMilliseconds,
    sleep,
    random: Math.random,
    signal: quietSignal(),
  };
  // A test that hands in its own `now` (a fake clock it steps) times durations on it too, unless
  // it hands in a monotonic clock of its own.
  const monotonic = overrides.monotonic ?? overrides.now ?? base.monotonic;
  return { ...base, ...overrides, monotonic, out: () => out, err: () => err };
}
