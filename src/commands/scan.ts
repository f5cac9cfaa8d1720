// `hashctl scan`: which endpoints on these subnets are miners, and what they are. One round trip per
// miner where the firmware allows (connect + `version`), bounded concurrency from the open-file limit,
// results streamed with --ndjson, a JSON inventory for `probe`/`collect @FILE` with --out.
import type { Command } from 'commander';
import { type Context, outputColumns } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { terminalSafe } from '../output/terminal.js';
import type { ScanResult, ScanSummary } from '../scan/types.js';
import { parseTimerDuration } from '../util/duration.js';
import { noteTerminalTargets } from './miners.js';
import { type GlobalOptions, namedFlag, type RegisterCommand } from './shared.js';

/** Scan's connect timeout when --timeout is not given: a LAN host answers a SYN in well under 1 s. */
export const SCAN_DEFAULT_CONNECT_TIMEOUT_MS = 1000;
/** How long a connected endpoint may take to send its first reply (slow and busy miners included). */
export const SCAN_DEFAULT_REPLY_TIMEOUT_MS = 3000;
/** One more connection for an endpoint that closed empty, reset or sent garbage (unless --retries). */
export const SCAN_DEFAULT_RETRIES = 1;
const PROGRESS_INTERVAL_MS = 200;
/** Endpoints one scan sweeps at most: a /8 on one port (results stream, so memory is not the bound). */
export const MAX_SCAN_TARGETS = 2 ** 24;

export interface ScanCommandOptions {
  specs: string[];
  ports: number[];
  connectTimeoutMs: number;
  replyTimeoutMs: number;
  retries: number;
  /** null: from the open-file limit. */
  concurrency: number | null;
  ndjson: boolean;
  outFile: string | null;
  all: boolean;
}

/** What the action learned from commander: where the shared flags came from (default or typed). */
export interface ScanFlagSources {
  timeoutGiven: boolean;
  retriesGiven: boolean;
}

/** Flags → typed options; every usage problem is found here, before any traffic. */
export function parseScanOptions(
  specs: string[],
  ports: number[],
  raw: Record<string, unknown>,
  globals: GlobalOptions,
  sources: ScanFlagSources,
): ScanCommandOptions {
  const ndjson = raw.ndjson === true;
  if (ndjson && globals.json) throw new UsageError('--json and --ndjson cannot be used together');
  const outFile = namedFlag(raw, 'out', '--out', 'a file name') ?? null;
  const replyTimeoutMs =
    raw.replyTimeout === undefined
      ? SCAN_DEFAULT_REPLY_TIMEOUT_MS
      : parseTimerDuration(String(raw.replyTimeout), '--reply-timeout');
  const connectTimeoutMs = sources.timeoutGiven ? globals.timeoutMs : SCAN_DEFAULT_CONNECT_TIMEOUT_MS;
  if (connectTimeoutMs <= 0) throw new UsageError('--timeout must be more than 0');
  if (replyTimeoutMs <= 0) throw new UsageError('--reply-timeout must be more than 0');
  return {
    specs,
    ports,
    connectTimeoutMs,
    replyTimeoutMs,
    retries: sources.retriesGiven ? globals.retries : SCAN_DEFAULT_RETRIES,
    concurrency: globals.concurrency,
    ndjson,
    outFile,
    all: raw.all === true,
  };
}

export async function runScan(
  opts: ScanCommandOptions,
  globals: GlobalOptions,
  ctx: Context,
): Promise<number> {
  const [scanLib, { connectionLimit }, render, { checkOutFile, writeOutFile }, { resolve }] =
    await Promise.all([
      import('../scan/index.js'),
      import('../cgminer/limits.js'),
      import('../output/render.js'),
      import('../util/out-file.js'),
      import('node:path'),
    ]);
  noteTerminalTargets(opts.specs, globals, ctx);
  // Endpoints, not addresses, with several ports: a /8 on two ports names 16,777,216 addresses.
  const unit = opts.ports.length > 1 ? `endpoints (addresses × ${opts.ports.length} ports)` : 'addresses';
  const advice = 'split the range (a /8 on one port per run at most)';
  const listed = await scanLib.buildScanTargets(opts.specs, opts.ports, {
    env: ctx.env,
    limit: { max: MAX_SCAN_TARGETS, advice, unit },
    ...(opts.specs.includes('-') ? { stdin: ctx.stdin } : {}),
  });
  // A /0 (or `10.0.0.0/0`, which is one) would sweep the whole Internet from the farm's LAN.
  const { assertTargetCount } = await import('../targets/index.js');
  assertTargetCount(listed, MAX_SCAN_TARGETS, advice, unit);
  // A host name and its address (`rig1.lan` inside the range) are one miner: connected to once,
  // counted once, listed once in the inventory.
  const { bounded, DEFAULT_RESOLVE_MS, droppedNote, resolvedHosts, resolverOf } = await import(
    '../targets/resolve.js'
  );
  // Ctrl-C (or SIGTERM) stops the wait at once, as in control: a resolver gone quiet held the
  // interrupt for the whole deadline.
  const resolver = bounded(
    ctx.lookup ? resolverOf(ctx.lookup) : resolvedHosts,
    DEFAULT_RESOLVE_MS,
    ctx.signal,
  );
  const { targets, dropped } = await scanLib.withoutAliases(listed, resolver);
  const aliasNote = droppedNote(dropped, 'scanned once');
  if (aliasNote && !globals.quiet) ctx.stderr.write(`hashctl: ${terminalSafe(aliasNote, true)}\n`);
  // Before any traffic: a sweep of a /16 must not end in "cannot write --out".
  const outFile = opts.outFile === null ? null : resolve(ctx.cwd, opts.outFile);
  if (outFile !== null) await checkOutFile(outFile, opts.outFile ?? outFile);
  const concurrency = opts.concurrency ?? connectionLimit();
  // A dumb terminal (TERM=dumb: Emacs' shell, a serial console) cannot clear a line: each redraw
  // printed `^[[2K` and a new copy of the line.
  const showProgress =
    ctx.stderr.isTTY === true && ctx.env.TERM !== 'dumb' && !globals.quiet && !globals.json;
  // The line is redrawn over itself: one that wraps (a /8's counts are 90 characters; a 40-column
  // pane) left a copy of its first part on the screen at every redraw. Cut to the terminal's width.
  const width = outputColumns(ctx.stderr, ctx.env) ?? 0;

  let latest = '';
  let drawn = false;
  const draw = (): void => {
    if (latest === '') return;
    const line = width > 1 && latest.length >= width ? `${latest.slice(0, width - 2)}…` : latest;
    ctx.stderr.write(`\r\u001b[2K${line}`);
    drawn = true;
  };
  const timer = showProgress ? setInterval(draw, PROGRESS_INTERVAL_MS) : null;
  timer?.unref();

  let report: Awaited<ReturnType<typeof scanLib.scan>>;
  // Every refused or silent address costs an Error; capturing their stacks was a third of a sweep's
  // CPU. Stacks are printed only with --debug, so only then are they kept.
  const stackTraceLimit = Error.stackTraceLimit;
  if (!globals.debug) Error.stackTraceLimit = 0;
  try {
    report = await scanLib.scan(
      targets,
      {
        ports: opts.ports,
        connectTimeoutMs: opts.connectTimeoutMs,
        replyTimeoutMs: opts.replyTimeoutMs,
        maxBytes: globals.maxBytes,
        concurrency,
        retries: opts.retries,
        // --ndjson has already streamed every result; holding millions of `none` for nothing would not do.
        keepNone: opts.all && !opts.ndjson,
        signal: ctx.signal,
        // Only timings (elapsed_ms, the rate): a wall clock stepped mid-sweep made them 0 or below.
        now: ctx.monotonic,
        sleep: ctx.sleep,
        random: ctx.random,
        ...(ctx.lookup ? { lookup: ctx.lookup } : {}),
        ...(ctx.decodedBudget ? { budget: ctx.decodedBudget } : {}),
      },
      {
        onResult: opts.ndjson
          ? (result) => {
              if (result.outcome !== 'none' || opts.all) {
                if (drawn) ctx.stderr.write('\r\u001b[2K');
                render.writeNdjson(ctx.stdout, result);
              }
            }
          : undefined,
        onProgress: showProgress
          ? (progress) => {
              latest = `hashctl scan: ${scanLib.formatProgress(progress)}`;
            }
          : undefined,
      },
    );
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    if (timer) clearInterval(timer);
    if (drawn) ctx.stderr.write('\r\u001b[2K');
  }
  const { results, summary } = report;

  // Results first: should the inventory still fail to write (disk full), they are not lost.
  if (globals.json) {
    // Endpoint by endpoint: a /11 with --all was one string past V8's limit (see writeJsonMembers).
    await render.writeJsonMembers(ctx.stdout, { results, summary }, ['results'], ctx.signal);
  } else if (opts.ndjson) {
    render.writeNdjson(ctx.stdout, { summary });
  } else {
    await writeResultsTable(results, globals, ctx);
  }
  // Ctrl-C mid-scan: a farm's inventory from an earlier full scan is worth more than this part of
  // one, so an existing file is left as it was (the partial results are printed above).
  const { statSync } = await import('node:fs');
  // So is one from a scan that found no miner at all (a network down, a range mistyped): the
  // inventory cron collects from must not be emptied by it. Only a file holds an inventory to keep:
  // a FIFO (`--out p & jq . < p`) or a device is written into, or its reader waits for good.
  const keepOld =
    outFile !== null &&
    (summary.interrupted || summary.miners === 0) &&
    statSync(outFile, { throwIfNoEntry: false })?.isFile() === true;
  if (outFile !== null && !keepOld) {
    const inventory = scanLib.buildInventory(results, new Date(ctx.now()));
    // Atomic: `collect @FILE` never reads half an inventory.
    await writeOutFile(outFile, `${JSON.stringify(inventory, null, 2)}\n`, opts.outFile ?? outFile);
  }
  if (!globals.quiet && !globals.json) {
    ctx.stderr.write(`hashctl: ${summaryLine(summary)}\n`);
    if (!keepOld && opts.outFile !== null)
      ctx.stderr.write(`hashctl: wrote ${count(summary.miners, 'miner')} to ${opts.outFile}\n`);
    // Ctrl-C also cuts the exchanges in flight short: those are in neither the table nor the counts.
    if (summary.interrupted)
      ctx.stderr.write(
        `hashctl: interrupted: ${summary.targets - summary.checked} of ${count(summary.targets, 'endpoint')} not checked (cut short in flight or not yet started)\n`,
      );
  }
  // Why the exit is 1, which no --quiet or --json may hide: cron mails stderr, and the JSON
  // document has no word of the file (the unresolved names it does list).
  if (keepOld)
    ctx.stderr.write(
      `hashctl: ${opts.outFile} left as it was: this scan ${summary.interrupted ? 'was interrupted' : 'found no miner'}\n`,
    );
  if (summary.unresolved.length > 0 && !globals.json)
    ctx.stderr.write(
      `hashctl: could not resolve ${summary.unresolved.map((name) => terminalSafe(name)).join(', ')}: not scanned\n`,
    );
  if (summary.interrupted) return EXIT.interrupted;
  if (keepOld) return EXIT.failed;
  // A name the user gave that does not resolve was never checked: a failed target (hashctl.md §3).
  return summary.unresolved.length > 0 ? EXIT.failed : EXIT.ok;
}

export function summaryLine(summary: ScanSummary): string {
  const makes = Object.entries(summary.by_make)
    .map(([make, count]) => `${count} ${make}`)
    .join(', ');
  const seconds = (summary.elapsed_ms / 1000).toFixed(1);
  const backoff = summary.backoffs > 0 ? `; backed off ${summary.backoffs}× at the open-file limit` : '';
  return (
    `${count(summary.miners, 'miner')}${makes ? ` (${makes})` : ''}, ${summary.open} open, ${summary.none} silent or closed ` +
    `of ${count(summary.checked, 'endpoint')} in ${seconds}s (${summary.rate_per_s}/s, concurrency ${summary.concurrency})${backoff}`
  );
}

/** `1 miner`, `2 miners`: as audit and thermal count. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function firmwareText(result: ScanResult): string {
  if (!result.firmware) return '';
  return [result.firmware.name, result.firmware.version].filter((part) => part !== null).join(' ');
}

async function writeResultsTable(results: ScanResult[], globals: GlobalOptions, ctx: Context): Promise<void> {
  const { palette, writeTable } = await import('../output/render.js');
  const tty = ctx.stdout.isTTY === true;
  const paint = await palette(globals.color);
  const outcome = (value: ScanResult['outcome']): string =>
    tty
      ? value === 'miner'
        ? paint.green(value)
        : value === 'open'
          ? paint.yellow(value)
          : paint.dim(value)
      : value;
  const rows = results.map((r) => [
    r.host,
    String(r.port),
    outcome(r.outcome),
    r.make ?? '',
    r.model ?? '',
    firmwareText(r),
    // A peer's words (an HTTP status line, a banner): strictly visible, colour codes included.
    terminalSafe((r.reason ?? '').replace(/\s+/g, ' '), true),
  ]);
  if (tty && rows.length === 0) return;
  await writeTable(ctx.stdout, ['host', 'port', 'outcome', 'make', 'model', 'firmware', 'reason'], rows, {
    tty,
  });
}

export const registerScan: RegisterCommand = (program, env) => {
  program
    .command('scan')
    .description(
      'discover miners on subnets: a fast TCP sweep, then make, model and firmware of what answered',
    )
    .argument('<ranges...>', 'addresses to scan (CIDR, range, HOST[:PORT], @FILE, -)')
    .option('--reply-timeout <duration>', 'after connecting, how long the first reply may take', '3s')
    .option('--ndjson', 'stream one JSON object per endpoint as found, then a summary line')
    .option('--out <file>', 'write the miners found as a JSON inventory (for probe/collect @FILE)')
    .option('--all', 'also list endpoints that refused or never answered (outcome none)')
    .addHelpText(
      'after',
      '\nShared flags mean, for scan: --port takes a list (4028,4029 or 4028-4030) and may be repeated, every\n' +
        'value counting; --timeout is the connect timeout (default 1s here); --concurrency defaults from the\n' +
        'open-file limit; --retries (default 1 here) re-asks endpoints that closed empty, reset, or sent\n' +
        'garbage.',
    )
    .action(async (specs: string[], raw: Record<string, unknown>, command: Command) => {
      const { parsePortList } = await import('../scan/targets.js');
      const ports = parsePortList(String(command.optsWithGlobals().port ?? '4028'));
      // Scan reads the whole list (repeated --port flags arrive joined); the shared parser, which
      // refuses a list, is handed its first port.
      command.parent?.setOptionValueWithSource(
        'port',
        String(ports[0]),
        command.getOptionValueSourceWithGlobals('port'),
      );
      const given = (flag: string) => {
        const source = command.getOptionValueSourceWithGlobals(flag);
        return source !== undefined && source !== 'default';
      };
      const globals = env.globals(command);
      const opts = parseScanOptions(specs, ports, raw, globals, {
        timeoutGiven: given('timeout'),
        retriesGiven: given('retries'),
      });
      env.exit(await runScan(opts, globals, env.ctx));
    });
};
