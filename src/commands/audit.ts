// `hashctl audit`: a read-only security audit of miners (access control, disclosure, vulnerable
// firmware, pool hijack signs, exposed services, default credentials, thermal posture).
// Exit codes: 3 when a finding is at or above --fail-on; otherwise 1 when a named target could not be
// audited, a miner was audited only in part (reads without an answer: see unreadChecks) or no miner
// answered at all, else 0. Addresses of a range or network that do not answer are
// expected and are not failures; there, a port that is open but not a miner API (what `hashctl scan`
// calls `open`) is listed under "not checked". 2 for usage errors.
import type { Command } from 'commander';
import type { ReportFormat } from '../audit/report.js';
import type { AuditPolicy, AuditReport, Severity } from '../audit/types.js';
import type { Context } from '../context.js';
import { EXIT, errorMessage, UsageError } from '../errors.js';
import type { TargetEntry } from '../targets/parse.js';
import { FIND_MINERS_FIRST, MAX_RUN_TARGETS, noteTerminalTargets } from './miners.js';
import { type GlobalOptions, namedFlag, type RegisterCommand } from './shared.js';

const FORMATS: readonly ReportFormat[] = ['table', 'json', 'sarif', 'markdown'];
const SEVERITY_NAMES: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export interface AuditCommandOptions {
  targets: string[];
  allowedPoolsFile: string | null;
  /** The --worker-pattern source; compiled when the audit runs (its engine is loaded only then). */
  workerPattern: string | null;
  services: boolean;
  checkDefaultCreds: boolean;
  format: ReportFormat;
  out: string | null;
  failOn: Severity | null;
  /** --timeout / --retries written on the command line (not their defaults): discovery uses them as given. */
  timeoutGiven?: boolean;
  retriesGiven?: boolean;
}

export function parseAuditOptions(
  targets: string[],
  raw: Record<string, unknown>,
  globals: Pick<GlobalOptions, 'json'>,
): AuditCommandOptions {
  const formatFlag = raw.format === undefined ? null : String(raw.format).toLowerCase();
  if (formatFlag !== null && !FORMATS.includes(formatFlag as ReportFormat)) {
    throw new UsageError(`invalid --format '${raw.format}': use ${FORMATS.join(', ')}`);
  }
  if (globals.json && formatFlag !== null && formatFlag !== 'json') {
    throw new UsageError(`--json conflicts with --format ${formatFlag}`);
  }
  const format = (formatFlag ?? (globals.json ? 'json' : 'table')) as ReportFormat;
  let failOn: Severity | null = null;
  if (raw.failOn !== undefined) {
    const value = String(raw.failOn).toLowerCase();
    if (!SEVERITY_NAMES.includes(value as Severity)) {
      throw new UsageError(`invalid --fail-on '${raw.failOn}': use ${SEVERITY_NAMES.join(', ')}`);
    }
    failOn = value as Severity;
  }
  const workerPattern = raw.workerPattern === undefined ? null : String(raw.workerPattern);
  // An empty pattern matches every worker: the check would be listed as done while checking nothing
  // (typically `--worker-pattern "$PATTERN"` with the variable unset).
  if (workerPattern === '') {
    throw new UsageError(
      "invalid --worker-pattern: it is empty, so every worker would match; give the pattern workers must match, e.g. '^farm1\\.'",
    );
  }
  return {
    targets,
    // Given empty (`--allowed-pools "$POOLS"` with POOLS unset), named as such: not the folder's EISDIR.
    allowedPoolsFile: namedFlag(raw, 'allowedPools', '--allowed-pools', 'a file of pools') ?? null,
    workerPattern,
    services: raw.services === true,
    checkDefaultCreds: raw.checkDefaultCreds === true,
    format,
    out: namedFlag(raw, 'out', '--out', 'a file name') ?? null,
    failOn,
  };
}

/**
 * Discovery's connect deadline and retries: scan's quick defaults (1 s, 1 retry), unless --timeout or
 * --retries is given, as `hashctl scan` does. Capped at the scan defaults, a miner across a lossy
 * link whose SYN took one retransmit (1 s) was "no answer to connect" under any --timeout.
 */
export function discoveryDeadlines(
  globals: Pick<GlobalOptions, 'timeoutMs' | 'retries'>,
  opts: Pick<AuditCommandOptions, 'timeoutGiven' | 'retriesGiven'>,
  defaults: { connectTimeoutMs: number; retries: number },
): { connectTimeoutMs: number; retries: number } {
  return {
    connectTimeoutMs: opts.timeoutGiven
      ? globals.timeoutMs
      : Math.min(globals.timeoutMs, defaults.connectTimeoutMs),
    retries: opts.retriesGiven ? globals.retries : Math.min(globals.retries, defaults.retries),
  };
}

/** Targets a Ctrl-C left untried that get a line each; more are said in one line. */
const UNTRIED_LINES = 3;

/** Exit code from the report and --fail-on (see the header comment). */
export function auditExitCode(report: AuditReport, failOn: Severity | null): number {
  if (failOn !== null) {
    const threshold = SEVERITY_NAMES.indexOf(failOn);
    if (report.findings.some((finding) => SEVERITY_NAMES.indexOf(finding.severity) >= threshold))
      return EXIT.findings;
  }
  if (report.failures.some((failure) => !failure.fromRange)) return EXIT.failed;
  if (report.miners.length === 0) return EXIT.failed;
  return EXIT.ok;
}

export interface AuditTestHooks {
  /** Ports --services probes and the web port --check-default-creds uses (tests run them on loopback). */
  servicePorts?: { port: number; service: string }[];
  webPort?: number;
}

export async function runAuditCommand(
  opts: AuditCommandOptions,
  globals: GlobalOptions,
  ctx: Context,
  hooks: AuditTestHooks = {},
): Promise<number> {
  // First, before any file or traffic: the pattern (on V8's linear-time engine, see its module).
  let workerPattern: RegExp | null = null;
  if (opts.workerPattern !== null) {
    const { linearRegExp } = await import('../util/linear-regexp.js');
    try {
      workerPattern = linearRegExp(opts.workerPattern);
    } catch (error) {
      throw new UsageError(`invalid --worker-pattern: ${errorMessage(error)}`);
    }
  }
  const path = await import('node:path');
  const { checkOutFile, writeOutFile } = await import('../util/out-file.js');
  const { assertTargetCount, parseTargetSpecs, readTargetFile } = await import('../targets/index.js');
  const { parseSpecEntry, parseTargetFile } = await import('../targets/parse.js');
  const { parseAllowedPools } = await import('../audit/pools.js');
  const { runAudit } = await import('../audit/index.js');
  const report = await import('../audit/report.js');

  const { SCAN_DEFAULT_CONNECT_TIMEOUT_MS, SCAN_DEFAULT_RETRIES } = await import('./scan.js');
  const { connectionLimit } = await import('../cgminer/limits.js');

  // Silence is expected inside a range or network, not from a miner the user named: remember which
  // targets were named, including the lines of @FILE and `-` (read once, kept for a second parse).
  const lists: { content: string; source: string }[] = [];
  noteTerminalTargets(opts.targets, globals, ctx);
  const targets = await parseTargetSpecs(opts.targets, {
    defaultPort: globals.port,
    env: ctx.env,
    limit: { max: MAX_RUN_TARGETS, advice: FIND_MINERS_FIRST },
    readFile: async (file) => {
      const content = await readTargetFile(file);
      lists.push({ content, source: file });
      return content;
    },
    // Touched only for `-` (Node builds process.stdin on first access).
    ...(opts.targets.includes('-')
      ? {
          stdin: keepText(ctx.stdin as AsyncIterable<string | Uint8Array>, (content) =>
            lists.push({ content, source: 'stdin' }),
          ),
        }
      : {}),
  });
  assertTargetCount(targets, MAX_RUN_TARGETS, FIND_MINERS_FIRST);
  const named = new Set<string>();
  const name = (entry: TargetEntry): void => {
    if (entry.kind === 'host') named.add(entry.target.key);
  };
  for (const spec of opts.targets)
    if (!spec.startsWith('@') && spec !== '-') name(parseSpecEntry(spec, globals.port));
  // Entry by entry: a list of many repeated lines passes the cap, and is no copy of itself in memory.
  for (const { content, source } of lists) parseTargetFile(content, source, globals.port, name);
  const policy: AuditPolicy = { allowedPools: null, workerPattern };
  if (opts.allowedPoolsFile !== null) {
    const file = path.resolve(ctx.cwd, opts.allowedPoolsFile);
    let contents: string;
    try {
      contents = await readTargetFile(file);
    } catch (error) {
      throw new UsageError(
        `cannot read --allowed-pools file '${opts.allowedPoolsFile}': ${errorMessage(error)}`,
        { cause: error },
      );
    }
    policy.allowedPools = parseAllowedPools(contents, opts.allowedPoolsFile);
  }

  const outFile = opts.out === null ? null : path.resolve(ctx.cwd, opts.out);
  // Before any traffic: an audit must not end in "cannot write --out".
  if (outFile !== null) await checkOutFile(outFile, opts.out ?? outFile);

  // A host name and its address are one miner (as in scan, probe and control): audited once, its
  // findings reported once. After every usage check: a lookup is traffic too.
  const { distinctMiners, droppedNote, resolverOf } = await import('../targets/resolve.js');
  const distinct = await distinctMiners(targets, {
    timeoutMs: globals.timeoutMs,
    signal: ctx.signal,
    ...(ctx.lookup ? { resolve: resolverOf(ctx.lookup) } : {}),
  });
  const aliasNote = distinct && droppedNote(distinct.dropped, 'audited once');
  if (aliasNote && !globals.quiet) {
    const { terminalSafe } = await import('../output/terminal.js');
    ctx.stderr.write(`hashctl: ${terminalSafe(aliasNote, true)}\n`);
  }
  const auditTargets = distinct === null ? targets : distinct.targets;
  const auditCount = distinct === null ? targets.count : distinct.targets.length;
  for (const { target } of distinct?.dropped ?? []) named.delete(target.key);

  // ora needs a real terminal width: on a pty that reports 0 columns it redraws without end.
  const showProgress =
    ctx.stderr.isTTY === true &&
    (ctx.stderr.columns ?? 0) > 0 &&
    !globals.quiet &&
    !globals.json &&
    opts.format !== 'json';
  const spinner = showProgress
    ? (await import('ora'))
        // discardStdin (ora's default) put the terminal in raw mode, where Ctrl-C is a byte, not
        // SIGINT, and that byte was never read: Ctrl-C did nothing until the audit's last timeout.
        .default({ text: 'auditing…', stream: ctx.stderr as NodeJS.WritableStream, discardStdin: false })
        .start()
    : null;
  let result: AuditReport;
  try {
    result = await runAudit({
      targets: auditTargets,
      targetCount: auditCount,
      named,
      policy,
      services: opts.services,
      checkDefaultCreds: opts.checkDefaultCreds,
      timeoutMs: globals.timeoutMs,
      retries: globals.retries,
      maxBytes: globals.maxBytes,
      concurrency: globals.concurrency ?? 32,
      // `hashctl scan`'s stage, so both commands find the same miners; --timeout and --retries only
      // ever shorten its connect and retries. The `version` it sends is the audit's first read and
      // gets the reads' deadline: a busy miner answering in 4 s was "no reply within 3000ms", not
      // audited, under a --timeout of 5 s (or 10 s) that probe reads it within.
      discovery: {
        ...discoveryDeadlines(globals, opts, {
          connectTimeoutMs: SCAN_DEFAULT_CONNECT_TIMEOUT_MS,
          retries: SCAN_DEFAULT_RETRIES,
        }),
        replyTimeoutMs: globals.timeoutMs,
        concurrency: globals.concurrency ?? connectionLimit(),
      },
      signal: ctx.signal,
      now: ctx.now,
      sleep: ctx.sleep,
      random: ctx.random,
      ...(ctx.lookup ? { lookup: ctx.lookup } : {}),
      ...(hooks.servicePorts ? { servicePorts: hooks.servicePorts } : {}),
      ...(hooks.webPort !== undefined ? { webPort: hooks.webPort } : {}),
      onProgress: spinner
        ? ({ tried, discovered, audited }) => {
            spinner.text = `tried ${tried}/${auditCount}, ${discovered} miner(s) found, ${audited} audited`;
          }
        : undefined,
    });
  } finally {
    spinner?.stop();
  }

  const rendered = await renderReport(
    result,
    opts.format,
    opts.out === null ? globals.color : false,
    opts.out === null && ctx.stdout.isTTY === true,
    ctx.stdout.columns,
  );
  if (outFile !== null) {
    try {
      await writeOutFile(outFile, rendered.text, opts.out ?? outFile);
    } catch (error) {
      // Still failed (a full disk): the report goes to stdout rather than being lost.
      ctx.stdout.write(rendered.text);
      throw error;
    }
    // --json keeps stdout one JSON document whatever the report's own format.
    if (globals.json)
      ctx.stdout.write(
        `${JSON.stringify({ out: outFile, format: opts.format, summary: report.summaryJson(result) })}\n`,
      );
    else ctx.stdout.write(`${report.summaryLine(result)}; ${opts.format} report written to ${opts.out}\n`);
  } else {
    ctx.stdout.write(rendered.text);
    // TSV stays machine-readable: its summary goes to stderr.
    if (opts.format === 'table' && !rendered.tty && !globals.quiet)
      ctx.stderr.write(`${report.summaryLine(result)}\n`);
  }
  // A target not audited is why the run exits 1: said with --quiet too (a TSV report has no word of
  // it, and cron mails stderr). Only the targets a Ctrl-C left untried are notes. A failure's
  // message may quote the miner (a STATUS Msg): shown visible, never obeyed.
  const { terminalSafe } = await import('../output/terminal.js');
  const failed = result.failures.filter((item) => !item.fromRange);
  // A Ctrl-C a second into a long list left every target after it untried: a line each buried the
  // lines that matter under hundreds of the same words. Past a few, they are one line.
  const untried = failed.filter((item) => item.kind === 'interrupted' && item.partial !== true);
  const untriedInOne = untried.length > UNTRIED_LINES;
  if (untriedInOne && !globals.quiet) {
    const shown = untried.slice(0, UNTRIED_LINES).map((item) => item.target);
    ctx.stderr.write(
      `hashctl: ${untried.length} targets not audited (interrupted before their turn): ${shown.join(', ')} and ${untried.length - shown.length} more (the json and markdown reports list them)\n`,
    );
  }
  for (const failure of failed) {
    if (failure.kind === 'interrupted' && failure.partial !== true && (globals.quiet || untriedInOne))
      continue;
    const message = terminalSafe(failure.message, true);
    ctx.stderr.write(
      failure.partial
        ? `hashctl: ${failure.target}: ${message}\n`
        : `hashctl: ${failure.target}: not audited (${failure.kind}): ${message}\n`,
    );
  }
  if (result.miners.length === 0 && !ctx.signal.aborted)
    ctx.stderr.write(`hashctl: no miner answered on ${result.targets} target(s)\n`);
  if (!globals.quiet) {
    if (result.open.length > 0)
      ctx.stderr.write(
        `hashctl: ${result.open.length} endpoint(s) in the ranges are open but not a miner API, not audited (the json and markdown reports list them)\n`,
      );
  }
  // Ctrl-C: the partial report above is what was audited; the run itself was interrupted.
  if (ctx.signal.aborted) {
    if (!globals.quiet)
      ctx.stderr.write('hashctl: interrupted; the report covers what was audited before it\n');
    return EXIT.interrupted;
  }
  return auditExitCode(result, opts.failOn);
}

/** Passes `stream` through and hands its whole text to `done` once it ends. */
async function* keepText(
  stream: AsyncIterable<string | Uint8Array>,
  done: (text: string) => void,
): AsyncGenerator<string | Uint8Array> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    yield chunk;
  }
  done(text + decoder.decode());
}

const TTY_EVIDENCE_CHARS = 90;

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

async function renderReport(
  result: AuditReport,
  format: ReportFormat,
  color: boolean,
  tty: boolean,
  /** The terminal's width, for a table on it. */
  columns?: number,
): Promise<{ text: string; tty: boolean }> {
  const report = await import('../audit/report.js');
  if (format === 'json') return { text: report.renderJson(result), tty: false };
  if (format === 'sarif') return { text: report.renderSarif(result), tty: false };
  if (format === 'markdown') return { text: report.renderMarkdown(result), tty: false };
  const { palette, writeTable } = await import('../output/render.js');
  const paint = await palette(color);
  const tint: Record<Severity, (text: string) => string> = {
    critical: (text) => paint.bold(paint.red(text)),
    high: paint.red,
    medium: paint.yellow,
    low: paint.cyan,
    info: paint.dim,
  };
  const { head, rows } = report.tableRows(result);
  let text = '';
  const sink = {
    write: (chunk: string) => {
      text += chunk;
      return true;
    },
    isTTY: tty,
    ...(tty && columns ? { columns } : {}),
  };
  await writeTable(
    sink,
    head,
    // A terminal gets the evidence cut short; TSV, JSON, SARIF and Markdown keep all of it.
    rows.map((row) => [
      tint[row.severity](row.cells[0] ?? ''),
      ...row.cells.slice(1, 4),
      tty ? shorten(row.cells[4] ?? '', TTY_EVIDENCE_CHARS) : (row.cells[4] ?? ''),
    ]),
  );
  if (tty) text += `${paint.bold(report.summaryLine(result))}\n`;
  return { text, tty };
}

export const registerAudit: RegisterCommand = (program, env) => {
  program
    .command('audit')
    .description('read-only security audit: write access, exposure, vulnerable firmware, pool hijacks')
    .argument('<targets...>', 'miners (HOST[:PORT], CIDR, range, @FILE, -)')
    .option('--allowed-pools <file>', 'pools you expect: one URL or host:port per line')
    .option('--worker-pattern <regex>', 'every pool worker must match this regular expression')
    .option('--services', 'TCP-connect (no payload) to SSH, telnet, web and other management ports')
    .option('--check-default-creds', 'try each documented default web credential once (read-only endpoints)')
    .option('--format <format>', `report format: ${FORMATS.join(', ')} (default table)`)
    .option('--out <file>', 'write the report to a file; stdout gets a one-line summary')
    .option(
      '--fail-on <severity>',
      `exit 3 when a finding is at or above: ${SEVERITY_NAMES.join(', ')} (without it, findings leave the exit code alone)`,
    )
    .action(async (targets: string[], raw: Record<string, unknown>, command: Command) => {
      const globals = env.globals(command);
      const given = (flag: string) => {
        const source = command.getOptionValueSourceWithGlobals(flag);
        return source !== undefined && source !== 'default';
      };
      const opts = {
        ...parseAuditOptions(targets, raw, globals),
        timeoutGiven: given('timeout'),
        retriesGiven: given('retries'),
      };
      env.exit(await runAuditCommand(opts, globals, env.ctx));
    });
};
