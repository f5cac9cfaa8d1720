// `hashctl export`: history rows as CSV or NDJSON, streamed from SQLite a piece of ~5,000 rows at a
// time (never the whole range in memory), waiting for the pipe to drain when the reader is slower
// than the disk.
import type { Command } from 'commander';
import type { Context, OutStream } from '../context.js';
import { EXIT, StoreError, UsageError } from '../errors.js';
import type { ExportRawRow } from '../store/index.js';
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

type Cell = string | number | null;

/** A text cell, kept per distinct value (error kinds and statuses are a handful, seen on every row). */
function textCells(format: (value: Cell) => string): (value: Cell) => string {
  const seen = new Map<string, string>();
  return (value) => {
    if (typeof value !== 'string') return format(value);
    let cell = seen.get(value);
    if (cell === undefined) {
      cell = format(value);
      if (seen.size < 1_000) seen.set(value, cell);
    }
    return cell;
  };
}

/**
 * Turns one site's raw rows into lines: the same bytes csvCell and JSON.stringify of each row's
 * record made, but with what is the same for thousands of rows (the site, each miner's address and
 * algorithm, a cycle's timestamp, the error kinds) formatted once, and no object built per row.
 * A row whose miner the export did not know at its start is left out, as the join to miners did.
 */
function rowFormatter(
  format: ExportFormat,
  siteName: string,
  miners: Map<number, { host: string; port: number }>,
  algorithms: Map<number, string | null>,
  changes: Map<number, { runId: number; before: string }[]>,
): (row: ExportRawRow) => string | null {
  const csv = format === 'csv';
  const cell = csv ? csvCell : (value: Cell): string => JSON.stringify(value);
  // A number as csvCell or JSON.stringify writes it (JSON has no Infinity: null).
  const num = csv
    ? (value: Cell): string => (typeof value === 'number' ? `${value}` : csvCell(value))
    : (value: Cell): string =>
        typeof value === 'number' && Number.isFinite(value) ? `${value}` : JSON.stringify(value);
  const text = textCells(cell);
  const site = cell(siteName);
  interface MinerCells {
    miner: string;
    algorithm: string;
    /** Another machine answered here before: a row of a run before `runId` was hashing `algorithm`. */
    before: { runId: number; algorithm: string }[] | null;
  }
  const minerCells = new Map<number, MinerCells | null>();
  const cellsOf = (minerId: number): MinerCells | null => {
    let cells = minerCells.get(minerId);
    if (cells === undefined) {
      const address = miners.get(minerId);
      cells =
        address === undefined
          ? null
          : {
              miner: cell(
                address.host.includes(':')
                  ? `[${address.host}]:${address.port}`
                  : `${address.host}:${address.port}`,
              ),
              algorithm: cell(algorithms.get(minerId) ?? null),
              before:
                changes
                  .get(minerId)
                  ?.map((change) => ({ runId: change.runId, algorithm: cell(change.before) })) ?? null,
            };
      minerCells.set(minerId, cells);
    }
    return cells;
  };
  /** A row's algorithm cell: that of the first change after its run, else the miner's now. */
  const algorithmOf = (cells: MinerCells, runId: number): string => {
    if (cells.before !== null)
      for (const change of cells.before) if (runId < change.runId) return change.algorithm;
    return cells.algorithm;
  };
  let lastTs: number | null = null;
  let tsCell = '';
  return (row) => {
    const cells = cellsOf(row[1]);
    if (cells === null) return null;
    const algorithm = algorithmOf(cells, row[2]);
    if (row[0] !== lastTs) {
      tsCell = cell(new Date(row[0]).toISOString());
      lastTs = row[0];
    }
    return csv
      ? `${tsCell},${site},${cells.miner},${num(row[2])},${num(row[3])},${algorithm},${num(row[4])},${num(row[5])},${num(row[6])},${num(row[7])},${num(row[8])},${num(row[9])},${num(row[10])},${num(row[11])},${num(row[12])},${num(row[13])},${text(row[14])},${text(row[15])}\n`
      : `{"ts":${tsCell},"site":${site},"miner":${cells.miner},"run_id":${num(row[2])},"hashrate_hs":${num(row[3])},"algorithm":${algorithm},"temp_chip_max_c":${num(row[4])},"temp_board_max_c":${num(row[5])},"fan_min_rpm":${num(row[6])},"boards_ok":${num(row[7])},"boards_total":${num(row[8])},"chips":${num(row[9])},"chips_expected":${num(row[10])},"power_w":${num(row[11])},"accepted":${num(row[12])},"rejected":${num(row[13])},"error_kind":${text(row[14])},"thermal_status":${text(row[15])}}\n`;
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
        let drain = false;
        let tick: ReturnType<typeof setImmediate> | null = null;
        const done = (): void => {
          wake = null;
          signal.removeEventListener('abort', done);
          // Ended by Ctrl-C or a failed write: the 'drain' that never came is not waited for on.
          if (drain) stream.removeListener?.('drain', done);
          if (tick !== null) clearImmediate(tick);
          resolve();
        };
        if (failed || signal.aborted) return done();
        wake = done;
        signal.addEventListener('abort', done, { once: true });
        if (full && typeof stream.once === 'function') {
          drain = true;
          stream.once('drain', done);
        } else tick = setImmediate(done);
      });
    },
    dispose(): void {
      if (listens) stream.removeListener!('error', onError);
    },
  };
}

export async function runExport(opts: ExportOptions, globals: GlobalOptions, ctx: Context): Promise<number> {
  const {
    openStore,
    historyStatements,
    historyDeletedBefore,
    rollupStatements,
    siteStatements,
    translateSqliteError,
    floorHour,
  } = await import('../store/index.js');
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
      return {
        chosen,
        algorithms: history.minerAlgorithms(),
        changes: history.algorithmChanges(),
        miners: history.exportMiners(),
        lastId: history.lastId(),
      };
    });
    const { chosen, algorithms, changes, miners, lastId } = start;
    if (opts.site !== null && chosen.length === 0)
      throw new UsageError(`no site '${opts.site}' in ${opts.dbPath}`);
    // No site at all: the first collect was killed before its first cycle was stored (it made the
    // schema). A bare CSV header and exit 0 read as an export that worked; said as live says it.
    if (chosen.length === 0)
      throw new StoreError(
        'io',
        `nothing stored in ${opts.dbPath} yet: run \`hashctl collect\` first (or pass --db)`,
      );
    const since = opts.sinceAt ?? ctx.now() - opts.sinceMs;
    // The export is raw rows: hours --since reaches that retention has already turned into rollups
    // are not in it, and an export that just starts later reads as a farm that was down.
    if (!globals.quiet) {
      const rollups = store.prepared(rollupStatements);
      for (const site of chosen) {
        let oldest = rollups.oldestHistoryTs(site.id);
        // Where retention deleted up to: a poll a clock set back stamped before it (exported, as
        // every raw row) does not start the raw history there, and the hours after it went unsaid.
        const deleted = historyDeletedBefore(store, site.id);
        if (oldest !== null && deleted !== null) oldest = Math.max(oldest, deleted);
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
      // The lines of the next chunk, joined once it has CHUNK_CHARS (one flat string to write, not
      // a chain of thousands of concatenations for the write to flatten first).
      const lines: string[] = opts.format === 'csv' ? [`${EXPORT_COLUMNS.join(',')}\n`] : [];
      let chars = 0;
      export_: for (const site of chosen) {
        // Rows are stamped in whole ms: ts > since - 1 is ts >= since.
        let after = since - 1;
        // Each pass ends at a later ts than it began (or at the last row): bounded by the rows.
        const line = rowFormatter(opts.format, site.name, miners, algorithms, changes);
        for (;;) {
          const { rows, through } = store.snapshot(() => {
            const end = history.pieceThrough(site.id, after, EXPORT_PIECE_ROWS);
            return {
              rows: history.piece(site.id, after, end ?? Number.MAX_SAFE_INTEGER, lastId),
              through: end,
            };
          });
          // Formatted once the piece's read transaction is over, as it is written.
          const texts: string[] = [];
          for (const row of rows) {
            const text = line(row);
            if (text === null) continue;
            lines.push(text);
            chars += text.length;
            if (chars >= CHUNK_CHARS) {
              texts.push(lines.join(''));
              lines.length = 0;
              chars = 0;
            }
          }
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
      if (lines.length > 0) ctx.stdout.write(lines.join(''));
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
