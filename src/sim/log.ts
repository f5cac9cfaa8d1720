// Every command the farm receives: kept in a bounded in-memory list (tests), passed to an
// optional callback, and appended as NDJSON to --log FILE through a buffer flushed in batches so
// 20k requests/s cost one write every 100 ms, not one each.
import { closeSync, openSync, writeSync } from 'node:fs';
import { HashctlError } from '../errors.js';
import { jsonText } from '../output/terminal.js';
import { reason } from '../util/out-file.js';
import type { CommandLogEntry } from './types.js';

const FLUSH_INTERVAL_MS = 100;
const FLUSH_BYTES = 256 * 1024;

export class CommandLog {
  readonly entries: CommandLogEntry[] = [];
  private buffer: string[] = [];
  private bufferedBytes = 0;
  private fd: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly limit: number,
    file: string | null,
    private readonly onCommand?: (entry: CommandLogEntry) => void,
    /** The --log file could not be written (a full disk): logging stops, the farm goes on. */
    private readonly onLogError?: (error: NodeJS.ErrnoException) => void,
  ) {
    if (file !== null) {
      try {
        this.fd = openSync(file, 'a');
      } catch (error) {
        throw new HashctlError('usage', `cannot open --log file '${file}': ${reason(error)}`, {
          cause: error,
        });
      }
      this.timer = setInterval(() => this.flush(), FLUSH_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /**
   * `shown`: the entry as the file may show it (passwords hidden: the file is handed on); the
   * in-process list and callback keep what the wire carried, for the tests that check it.
   */
  record(entry: CommandLogEntry, shown: (entry: CommandLogEntry) => CommandLogEntry = (e) => e): void {
    if (this.limit > 0) {
      if (this.entries.length >= this.limit) this.entries.splice(0, Math.ceil(this.limit / 10));
      this.entries.push(entry);
    }
    this.onCommand?.(entry);
    if (this.fd !== null) {
      // Read with `tail -f` on a terminal: what a client sent (bidi overrides, C1 controls) is
      // written as \u escapes, the same data for a JSON reader (JSON.stringify escapes only C0).
      const line = `${jsonText(shown(entry))}\n`;
      this.buffer.push(line);
      this.bufferedBytes += line.length;
      if (this.bufferedBytes >= FLUSH_BYTES) this.flush();
    }
  }

  flush(): void {
    if (this.fd === null || this.buffer.length === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    this.bufferedBytes = 0;
    try {
      writeSync(this.fd, text);
    } catch (error) {
      // A simulator for trials and benchmarks must not die of its log: say so once, stop logging.
      const fd = this.fd;
      this.fd = null;
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      try {
        closeSync(fd);
      } catch {
        // Already failing: the error reported is the write's.
      }
      this.onLogError?.(error as NodeJS.ErrnoException);
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
