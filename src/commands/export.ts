// `hashctl export`: history rows as CSV or NDJSON, streamed from SQLite row by row (never the
// whole range in memory), waiting for the pipe to drain when the reader is slower than the disk.
import type { Command } from 'commander';
import type { Context, OutStream } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import type { ExportRow } from '../store/index.js';
import { sinceFlag } from '../util/duration.js';
import {
  type GlobalOptions,
  namedFlag,
  READER_CONFIG_HELP,
  READER_DB_HELP,
  type RegisterCommand,
  readerDbPath,
  upgradeNote,
} from './shared.js';

export type ExportFormat = 'csv' | 'ndjson';

export interface ExportOptions {
  dbPath: string;
  site: string | null;
  sinceMs: number;
  /** --since given as a date: that moment (sinceMs is then how long before parsing it was). */
  sinceAt: number | null;
  format: ExportFormat;
}

/** Column order of the CSV (and key order of NDJSON objects). */
export const EXPORT_COLUMNS = [
  'ts',
  'site',
  'miner',
  'run_id',
  'hashrate_hs',
  'algorithm',
  'temp_chip_max_c',
  'temp_board_max_c',
  'fan_min_rpm',
  'boards_ok',
  'boards_total',
  'chips',
  'chips_expected',
  'power_w',
  'accepted',
  'rejected',
  'error_kind',
  'thermal_status',
] as const;

const CHUNK_CHARS = 64 * 1024;
/** Rows read in one read transaction (and the rest of the cycle the last one is in). */
const EXPORT_PIECE_ROWS = 5_000;

export async function parseExportOptions(
  raw: Record<string, unknown>,
  globals: GlobalOptions,
  ctx: Context,
): Promise<ExportOptions> {
  // Flag values in any case (`--format CSV`), as audit's --format and --fail-on take them.
  const asked = raw.format === undefined ? undefined : String(raw.format).toLowerCase();
  // A format that does not exist is said as such, before whether it fits --json.
  if (asked !== undefined && asked !== 'csv' && asked !== 'ndjson')
    throw new UsageError(`invalid --format '${String(raw.format)}': use csv or ndjson`);
  for (const [given, flag] of [
    [raw.ndjson === true, '--ndjson'],
    [globals.json, '--json'],
  ] as const) {
    if (given && asked !== undefined && asked !== 'ndjson')
      throw new UsageError(`${flag} and --format ${String(raw.format)} cannot be used together`);
  }
  const format: ExportFormat = asked ?? (globals.json || raw.ndjson === true ? 'ndjson' : 'csv');
  return {
    dbPath: await readerDbPath(raw, ctx),
    site: namedFlag(raw, 'site', '--site', 'a site name') ?? null,
    ...sinceFlag(raw.since, ctx.now()),
    format,
  };
}

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  // A text cell a spreadsheet would run as a formula (`=…`, `+…`, `-…`, `@…`) is kept as text.
  const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function record(
  row: ExportRow,
  algorithms: Map<number, string | null>,
): Record<(typeof EXPORT_COLUMNS)[number], string | number | null> {
  const { host, port, ts, miner_id, ...rest } = row;
  return {
    ...rest,
    algorithm: algorithms.get(miner_id) ?? null,
    ts: new Date(ts).toISOString(),
    miner: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
  };
}

type Watchable = OutStream & {
  once?: (event: string, fn: () => void) => unknown;
  on?: (event: string, fn: () => void) => unknown;
  removeListener?: (event: string, fn: () => void) => unknown;
};

/**
 * The export's side of stdout: waits for the next chunk (a turn of the event loop, so Ctrl-C and a
 * write error are seen even when every write is synchronous, as to a file or pipe on Linux; or the
 * 'drain' of a full stream) and notes a write that failed (a full disk under `> file`), after which
 * no 'drain' ever comes: waiting for one left the export hung until Node gave up on it.
 */
function watchOutput(out: OutStream, signal: AbortSignal) {
  const stream = out as Watchable;
  let failed = false;
  let wake: (() => void) | null = null;
  const onError = (): void => {
    failed = true;
    wake?.();
  };
  const listens = typeof stream.on === 'function' && typeof stream.removeListener === 'function';
  if (listens) stream.on!('error', onError);
  return {
    get failed(): boolean {
      return failed;
    },
    /** Resolves when the next chunk may be written, the output failed, or the run was interrupted. */
    next(full: boolean): Promise<void> {
      return new Promise((resolve) => {
        const done = (): void => {
          wake = null;
          signal.removeEventListener('abort', done);
          resolve();
        };
        if (failed || signal.aborted) return done();
        wake = done;
        signal.addEventListener('abort', done, { once: true });
        if (full && typeof stream.once === 'function') stream.once('drain', done);
        else setImmediate(done);
      });
    },
    dispose(): void {
      if (listens) stream.removeListener!('error', onError);
    },
  };
}

export async function runExport(opts: ExportOptions, globals: GlobalOptions, ctx: Context): Promise<number> {
  const { openStore, historyStatements, rollupStatements, siteStatements, translateSqliteError, floorHour } =
    await import('../store/index.js');
  const store = openStore(opts.dbPath, { readonly: true, onUpgrade: upgradeNote(globals, ctx) });
  try {
    // The export is the file as it was when it began: the algorithms, the sites and the rows stored
    // by then (ids up to the newest's; a miner whose first cycle came later is not in it, or its
    // L3+'s scrypt rate would pass for SHA-256 with no algorithm). Read in pieces, each in its own
    // short read transaction: one held while a slow reader (`| less`, a network pipe) took the
    // export's hours kept the collector's WAL from being checkpointed, and it grew by every cycle
    // (4 MB a cycle at 500 miners) for as long.
    const history = store.prepared(historyStatements);
    const start = store.snapshot(() => {
      const sites = store.prepared(siteStatements);
      const chosen = opts.site === null ? sites.list() : [sites.find(opts.site)].filter((s) => s !== null);
      return { chosen, algorithms: history.minerAlgorithms(), lastId: history.lastId() };
    });
    const { chosen, algorithms, lastId } = start;
    if (opts.site !== null && chosen.length === 0)
      throw new UsageError(`no site '${opts.site}' in ${opts.dbPath}`);
    const since = opts.sinceAt ?? ctx.now() - opts.sinceMs;
    // The export is raw rows: hours --since reaches that retention has already turned into rollups
    // are not in it, and an export that just starts later reads as a farm that was down.
    if (!globals.quiet) {
      const rollups = store.prepared(rollupStatements);
      for (const site of chosen) {
        const oldest = rollups.oldestHistoryTs(site.id);
        const before = oldest === null ? ctx.now() : floorHour(oldest);
        const first = rollups.firstSiteHour(site.id, since, before);
        if (first === null) continue;
        ctx.stderr.write(
          `hashctl: site ${site.name}: ${oldest === null ? 'no raw history is kept' : `raw history starts at ${new Date(oldest).toISOString()}`} (collect --retain); the hours from ${new Date(first).toISOString()} before it are kept as hourly rollups only, not exported (hashctl history shows them)\n`,
        );
      }
    }
    const output = watchOutput(ctx.stdout, ctx.signal);
    let interrupted = false;
    try {
      let chunk = opts.format === 'csv' ? `${EXPORT_COLUMNS.join(',')}\n` : '';
      export_: for (const site of chosen) {
        // Rows are stamped in whole ms: ts > since - 1 is ts >= since.
        let after = since - 1;
        // Each pass ends at a later ts than it began (or at the last row): bounded by the rows.
        for (;;) {
          const texts: string[] = [];
          const through = store.snapshot(() => {
            const end = history.pieceThrough(site.id, after, EXPORT_PIECE_ROWS);
            for (const row of history.iterate(site.id, after, end ?? Number.MAX_SAFE_INTEGER, lastId)) {
              const fields = record(row, algorithms);
              chunk +=
                opts.format === 'csv'
                  ? `${EXPORT_COLUMNS.map((column) => csvCell(fields[column])).join(',')}\n`
                  : `${JSON.stringify(Object.fromEntries(EXPORT_COLUMNS.map((column) => [column, fields[column]])))}\n`;
              if (chunk.length >= CHUNK_CHARS) {
                texts.push(chunk);
                chunk = '';
              }
            }
            return end;
          });
          // Written once the piece's read transaction is over: waiting for the reader holds none.
          for (const text of texts) {
            const more = ctx.stdout.write(text);
            await output.next(!more);
            // The output is lost (said by main, once): nothing more to write it to.
            if (output.failed) return EXIT.failed;
            if (ctx.signal.aborted) {
              interrupted = true;
              break export_;
            }
          }
          if (through === null) break;
          after = through;
        }
      }
      // Whole rows only: what was read before Ctrl-C ends on a complete line.
      if (chunk) ctx.stdout.write(chunk);
    } finally {
      output.dispose();
    }
    if (interrupted) {
      if (!globals.quiet)
        ctx.stderr.write('hashctl: interrupted; the export stops at the last whole row written\n');
      return EXIT.interrupted;
    }
  } catch (error) {
    // A damaged page is said as collect says it ("… is not a hashctl database or is damaged"),
    // not as an internal error.
    throw translateSqliteError(error, opts.dbPath);
  } finally {
    store.close();
  }
  return EXIT.ok;
}

export const registerExport: RegisterCommand = (program, env) => {
  program
    .command('export')
    .description('stream collected history rows as CSV or NDJSON')
    .option('--since <when>', 'how far back: a duration, or an ISO date (UTC unless given) (default 24h)')
    .option('--site <id>', 'only this site (default: every site, one after another)')
    .option('--format <format>', 'csv or ndjson (default csv; ndjson with --json)')
    .option('--ndjson', 'one JSON object per line (same as --format ndjson)')
    .option('--db <path>', READER_DB_HELP)
    .option('--config <file>', READER_CONFIG_HELP)
    .action(async (raw: Record<string, unknown>, command: Command) => {
      const globals = env.globals(command);
      env.exit(await runExport(await parseExportOptions(raw, globals, env.ctx), globals, env.ctx));
    });
};
