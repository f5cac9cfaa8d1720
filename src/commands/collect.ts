// `hashctl collect`: poll the farm into SQLite, once (cron) or on a drift-free interval (a service).
// Exit: 0 when the cycle was stored, even if some miners failed (they are data: their rows carry the
// error kind, and cron must not mail every minute because one miner is down); 1 when not one target
// answered (the host's network is the likely problem), the cycle could not be stored, or --upload
// was refused (wrong key or endpoint); 2 for bad flags or config; 75 when another run holds the lock.
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { type Context, stoppedBy } from '../context.js';
import { ConfigError, EXIT, UsageError } from '../errors.js';
import { oneLine, quoted } from '../output/terminal.js';
import type { Target } from '../targets/types.js';
import type { ThermalConfig } from '../thermal/config.js';
import type { FirmwareThermalLimits } from '../thermal/types.js';
import { formatDuration, MAX_TIMER_MS, parseDuration } from '../util/duration.js';
import {
  collect as collectValues,
  type GlobalOptions,
  namedFlag,
  READER_DB_HELP,
  type RegisterCommand,
  upgradeNote,
} from './shared.js';

export interface CollectOptions {
  targets: string[];
  /** The config file the targets came from (null: --targets), to name it in their errors. */
  targetsFile?: string | null;
  site: string;
  dbPath: string;
  /** null: --once. */
  intervalMs: number | null;
  retainMs: number;
  concurrency: number | null;
  timeoutMs: number;
  retries: number;
  port: number;
  upload: {
    endpoint: string;
    source: string;
    configKeyFile: string | null;
    /** Where the config named it, for its messages. */
    configKeyFileSource: string;
    /** A private CA's PEM file (--ca, or upload.ca_file in the config). */
    caFile: string | null;
    /** Where it was named, for its messages. */
    caFileSource: string;
  } | null;
  /** The config file's thermal section (empty: the built-in limits); every cycle is checked. */
  thermal: ThermalConfig;
  /** The config file read (null: none), and its stat then, to notice it being edited under a loop. */
  config?: { file: string; stamp: string | null } | null;
}

/** What changes when a file is edited or replaced (null: not there). One stat. */
function fileStamp(file: string): string | null {
  try {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    return stat ? `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}` : null;
  } catch {
    return null;
  }
}

const DEFAULT_RETAIN = '30d';
/** Most targets one collect run takes (a cycle keeps every outcome in memory until it is stored). */
export const MAX_COLLECT_TARGETS = 200_000;

/**
 * How long `--once --upload` may spend delivering before it exits: what is left of cron's minute
 * once the run so far (lookups, the cycle, its maintenance) and a margin are taken off, at most
 * 40 s and at least 5 s. A fixed 40 s after a 30 s cycle held the lock past the minute, and the
 * next minute's run exited 75 (its cycle lost).
 */
function onceUploadBudgetMs(elapsedMs: number): number {
  const left = ONCE_RUN_MS - elapsedMs;
  return Math.min(ONCE_UPLOAD_MAX_MS, Math.max(ONCE_UPLOAD_MIN_MS, Number.isFinite(left) ? left : 0));
}
/** Where a --once run should be over by: cron's minute less a margin for exit and the next start. */
const ONCE_RUN_MS = 55_000;
const ONCE_UPLOAD_MAX_MS = 40_000;
const ONCE_UPLOAD_MIN_MS = 5_000;

type ValueSource = (key: string) => string | undefined;

/** Merges flags over the config file over defaults. `source(key)` says where a global came from. */
export async function parseCollectOptions(
  raw: Record<string, unknown>,
  globals: GlobalOptions,
  source: ValueSource,
  ctx: Context,
): Promise<CollectOptions> {
  const { configPath, loadConfig } = await import('../config/index.js');
  const { resolveDbPath, DEFAULT_SITE, siteNameProblem } = await import('../store/index.js');
  const file = configPath(raw.config as string | undefined, ctx.env, ctx.cwd);
  // Stamped before it is read: an edit landing while it is read is noticed after the first cycle.
  const stamp = file === null ? null : fileStamp(file);
  const config = file === null ? {} : loadConfig(file, ctx.env).config;
  const fromCli = (key: string) => source(key) === 'cli';

  const targets = (raw.targets as string[] | undefined) ?? config.targets ?? [];
  if (targets.length === 0)
    throw new UsageError('collect needs --targets SPEC… (or "targets" in the config file)');
  const site = ((raw.site as string | undefined) ?? config.site ?? DEFAULT_SITE).normalize('NFC');
  const siteProblem = siteNameProblem(site);
  if (siteProblem === 'empty') throw new UsageError('invalid --site: empty');
  if (siteProblem !== null) {
    const shown = site.length > 40 ? `${quoted(site.slice(0, 40))}…` : quoted(site);
    throw new UsageError(`invalid --site '${shown}': ${siteProblem}`);
  }

  let intervalMs: number | null;
  if (raw.once === true && raw.interval !== undefined)
    throw new UsageError('give --once or --interval, not both');
  if (raw.once === true) intervalMs = null;
  else if (raw.interval !== undefined) intervalMs = parseDuration(String(raw.interval), '--interval');
  else if (config.interval !== undefined) intervalMs = config.interval;
  else throw new UsageError('collect needs --once (one cycle, for cron) or --interval DURATION (e.g. 60s)');
  if (intervalMs !== null && intervalMs < 1000) throw new UsageError('--interval must be at least 1s');
  // A Node timer fires at once past ~24.8 days: a longer interval would poll back to back.
  if (intervalMs !== null && intervalMs > MAX_TIMER_MS)
    throw new UsageError('--interval must be at most 24d (for longer, run --once from cron)');

  const retainMs =
    raw.retain !== undefined
      ? parseDuration(String(raw.retain), '--retain')
      : (config.retain ?? parseDuration(DEFAULT_RETAIN));
  if (retainMs < 3_600_000)
    throw new UsageError('--retain must be at least 1h (hourly rollups need the raw rows)');

  // The config's upload.endpoint turns uploading on as --upload does: a config with an upload
  // section whose collect never enqueued a batch would leave `hashctl upload` nothing to send.
  const endpoint = (raw.upload as string | undefined) ?? config.upload?.endpoint ?? null;
  const caFlag = namedFlag(raw, 'ca', '--ca', 'a PEM file name');
  if (caFlag !== undefined && endpoint === null)
    throw new UsageError(
      "--ca is the collector's private CA: it needs --upload (or upload.endpoint in the config)",
    );
  return {
    targets,
    targetsFile: raw.targets === undefined && config.targets !== undefined ? file : null,
    site,
    dbPath: resolveDbPath(
      (raw.db as string | undefined) ?? config.db,
      ctx.env,
      ctx.cwd,
      raw.db === undefined && config.db !== undefined ? `"db" in config ${file}` : undefined,
    ),
    intervalMs,
    retainMs,
    concurrency: fromCli('concurrency') ? globals.concurrency : (config.concurrency ?? globals.concurrency),
    timeoutMs: fromCli('timeout') ? globals.timeoutMs : (config.timeout ?? globals.timeoutMs),
    retries: fromCli('retries') ? globals.retries : (config.retries ?? globals.retries),
    port: fromCli('port') ? globals.port : (config.port ?? globals.port),
    // The config's upload section supplies the key file too.
    upload:
      endpoint === null
        ? null
        : {
            endpoint,
            source: raw.upload !== undefined ? '--upload' : `upload.endpoint in config ${file}`,
            configKeyFile: config.upload?.key_file ?? null,
            configKeyFileSource: `upload.key_file in config ${file}`,
            caFile: caFlag ?? config.upload?.ca_file ?? null,
            caFileSource: caFlag !== undefined ? '--ca' : `upload.ca_file in config ${file}`,
          },
    thermal: config.thermal ?? {},
    config: file === null ? null : { file, stamp },
  };
}

export async function runCollect(
  opts: CollectOptions,
  globals: GlobalOptions,
  ctx: Context,
): Promise<number> {
  // When this run began (monotonic): a --once flush gets what is left of cron's minute.
  const startedAt = ctx.monotonic();
  const { targetsFromSpecs } = await import('./miners.js');
  const { acquireLock, assertNotForeign, openStore } = await import('../store/index.js');
  const { collectLoop, chooseConcurrency } = await import('../collect/index.js');
  const { createClient } = await import('../cgminer/client.js');
  const { fetchSnapshot, createDialectCache } = await import('../miners/fetch.js');
  const { runPool } = await import('../util/pool.js');
  const { storedDialects } = await import('../collect/dialects.js');
  const { storedFirmwareLimits } = await import('../collect/thermal.js');
  const { pollFirmwareLimits } = await import('../thermal/replies.js');

  // Validate everything before the lock, the database or any traffic.
  // A cycle holds every outcome until its one transaction: a /8 typed by mistake would exhaust the
  // memory of the host instead of polling a farm. Far above any one site's miners. A list past it
  // stops at the line that passes it (a million lines were parsed whole, hundreds of MB, first).
  const targets = await targetsFromSpecs(opts.targets, { port: opts.port }, ctx, {
    max: MAX_COLLECT_TARGETS,
    advice: 'find the miners first (hashctl scan RANGE --out farm.json, then --targets @farm.json)',
    who: 'collect polls ',
  }).catch((error: unknown) => {
    // An @FILE the config names that cannot be read: said with the config file it came from.
    if (opts.targetsFile && error instanceof UsageError)
      throw new ConfigError(`config ${opts.targetsFile}: targets: ${error.message}`, { cause: error });
    throw error;
  });
  const { concurrency, cappedFrom } = chooseConcurrency(opts.concurrency);
  // Notes carry what miners, collectors and the operator said (an HTTP body, a site name): one safe line.
  const note = (message: string) => {
    if (!globals.quiet) ctx.stderr.write(`hashctl: ${oneLine(message)}\n`);
  };
  // Why the run exits 1 (no miner answered, the upload was refused, the last cycle was not
  // stored): with --quiet, said once at the end all the same. cron mails stderr, and a silent
  // exit 1 left the operator to guess which of the three it was.
  const why = { miners: null as string | null, upload: [] as string[], store: null as string | null };
  if (cappedFrom !== null) note(`--concurrency ${cappedFrom} lowered to ${concurrency} (open-file limit)`);
  const upload =
    opts.upload === null
      ? null
      : await prepareUpload(opts.upload, opts.site, opts.intervalMs !== null, startedAt, ctx);

  // The client validates its options (a zero timeout is exit 2) before any file is made.
  const client = createClient({
    timeoutMs: opts.timeoutMs,
    maxBytes: globals.maxBytes,
    retries: opts.retries,
    concurrency,
  });

  assertNotForeign(opts.dbPath);
  const lock = acquireLock(opts.dbPath);
  // A hung miner can hold the cycle in flight for its whole timeout and retries: say why Ctrl-C
  // seems to do nothing yet, and how to stop at once.
  // The config is read once, at start (a service's settings do not change under it halfway through
  // a day's data); an edit is said once, after the cycle that first sees it, so the operator knows
  // to restart the service rather than wait for the change to show.
  const config = opts.intervalMs === null ? null : (opts.config ?? null);
  let configEditNoted = false;
  const noteConfigEdit = () => {
    if (config === null || configEditNoted || fileStamp(config.file) === config.stamp) return;
    configEditNoted = true;
    note(
      `config ${config.file} changed since this run started: collect reads it once, at start; restart it for the change to apply`,
    );
  };
  const onStop = () => note(stopNote(stoppedBy(ctx.signal)));
  ctx.signal.addEventListener('abort', onStop, { once: true });
  try {
    // A host name and its address are one miner: polled once, by the name listed first. Looked up
    // under the lock: a run that meets another one exits 75 at once, not after the lookups of a
    // farm listed by name (each up to --timeout while the DNS server is slow or gone).
    const { distinctMiners, droppedNote, resolverOf } = await import('../targets/resolve.js');
    const distinct = await distinctMiners(targets, {
      timeoutMs: opts.timeoutMs,
      signal: ctx.signal,
      ...(ctx.lookup ? { resolve: resolverOf(ctx.lookup) } : {}),
    });
    const dropped = distinct && droppedNote(distinct.dropped, 'polled once');
    if (dropped) note(dropped);
    const polled: Iterable<Target> = distinct?.targets ?? targets;
    const store = openStore(opts.dbPath, { onUpgrade: upgradeNote(globals, ctx) });
    try {
      const cache = createDialectCache();
      const firmwareLimits = new Map<string, FirmwareThermalLimits>();
      // What earlier runs learned of each miner's firmware: this run asks only what it needs.
      const dialects = storedDialects(store, opts.site, cache, ctx.now());
      // A refused key or a wrong endpoint is a failure cron should see (hashctl.md §9: exit 1),
      // even though the cycle itself is safely stored and its batches stay pending. As for the
      // miners, the last cycle's flush decides: a service whose key was fixed since does not end
      // in failure; what was refused on the way was said at the time.
      let uploadRefused = false;
      const result = await collectLoop(
        {
          site: opts.site,
          intervalMs: opts.intervalMs,
          retainMs: opts.retainMs,
          hooks: [
            dialects.hook,
            storedFirmwareLimits(store, (miner) => firmwareLimits.get(miner) ?? null),
            ...(upload ? [upload.hook] : []),
          ],
          thermal: opts.thermal,
          firmwareLimits: (miner) => firmwareLimits.get(miner) ?? null,
        },
        {
          store,
          pollAll: (fn) => runPool(polled, concurrency, fn),
          // No signal on purpose: SIGINT/SIGTERM let the cycle in flight finish and be stored.
          fetchSnapshot: async (target) => {
            const { snapshot, replies } = await fetchSnapshot(client, target, { cache, now: ctx.now });
            // What `thermal check` judges these miners by too: their firmware's own limits.
            const limits = pollFirmwareLimits(replies, snapshot.make, snapshot.firmware.name);
            if (limits === null) firmwareLimits.delete(target.key);
            else firmwareLimits.set(target.key, limits);
            return snapshot;
          },
          now: ctx.now,
          monotonic: ctx.monotonic,
          sleep: ctx.sleep,
          signal: ctx.signal,
          // A lock file removed under a long run (an `rm` of a "stale" lock, a /tmp cleaner) let a
          // second collect take a new one and poll beside this one: taken again, or this run stops.
          beforeCycle: () => lock.reassert(),
          onCycle: (report) => {
            if (globals.json) {
              ctx.stdout.write(
                `${JSON.stringify({
                  run_id: report.runId,
                  polled: report.polled,
                  ok: report.ok,
                  failed: report.failed,
                  duration_ms: Math.round(report.durationMs),
                })}\n`,
              );
            }
            const kinds = Object.entries(report.failedByKind)
              .sort((a, b) => b[1] - a[1])
              .map(([kind, n]) => `${n} ${kind}`)
              .join(', ');
            const t = report.thermal;
            const thermal =
              t && (t.critical > 0 || t.warn > 0 || t.events > 0)
                ? `; thermal ${t.critical} critical, ${t.warn} warn, ${t.events} change${t.events === 1 ? '' : 's'}`
                : '';
            // The hourly pass after the cycle, said apart from it when it took long enough to notice.
            const maintenance =
              report.maintenanceMs >= 1000
                ? `; retention and rollups ${formatDuration(report.maintenanceMs)} after it`
                : '';
            const line = `run ${report.runId} (site ${opts.site}): ${report.polled} polled, ${report.ok} ok, ${report.failed} failed${kinds ? ` (${kinds})` : ''} in ${formatDuration(report.durationMs)}${thermal}${maintenance}`;
            why.miners = report.polled > 0 && report.ok === 0 ? line : null;
            note(line);
            noteConfigEdit();
          },
          onNote: (message) => {
            if (/^(cycle not stored|still not storing)/.test(message)) why.store = message;
            note(message);
          },
          ...(upload
            ? {
                afterCycle: async (_report, nextCycleAt) => {
                  const flush = await upload.flush(store, nextCycleAt);
                  // As `upload` does: data the collector refused must reach cron too.
                  uploadRefused =
                    flush.stop === 'key_refused' || flush.stop === 'endpoint' || flush.quarantined > 0;
                  // What a quiet run that ends in exit 1 says at its end (the last flush's reasons).
                  why.upload = uploadRefused && flush.reason ? [`upload: ${flush.reason}`] : [];
                  // --once says its flush's reason; a loop says an outage once, not after every cycle.
                  const reason = opts.intervalMs === null ? flush.reason : upload.notes(flush);
                  if (reason) note(`upload: ${reason}`);
                  // Refused data is kept aside, never retried in a loop: the operator must hear of it.
                  if (flush.quarantined > 0) {
                    const line = `upload: ${flush.quarantined} batch${flush.quarantined === 1 ? '' : 'es'} refused by the collector and quarantined (see hashctl upload --status)`;
                    why.upload.push(line);
                    note(line);
                  }
                },
              }
            : {}),
        },
      );
      if (result.interrupted) return EXIT.interrupted;
      const last = result.lastReport;
      const noMiner = last !== null && last.polled > 0 && last.ok === 0;
      const code = result.lastNotStored || uploadRefused || noMiner ? EXIT.failed : EXIT.ok;
      if (code === EXIT.failed && globals.quiet) {
        const reasons = result.lastNotStored
          ? [why.store]
          : [noMiner ? why.miners : null, ...(uploadRefused ? why.upload : [])];
        for (const reason of reasons) if (reason !== null) ctx.stderr.write(`hashctl: ${oneLine(reason)}\n`);
      }
      return code;
    } finally {
      store.close();
    }
  } finally {
    ctx.signal.removeEventListener('abort', onStop);
    lock.release();
  }
}

interface PreparedUpload {
  endpoint: import('../upload/endpoint.js').UploadEndpoint;
  hook: import('../store/index.js').CycleHook;
  flush: (
    store: import('../store/index.js').Store,
    nextCycleAt: number | null,
  ) => Promise<import('../upload/flush.js').FlushReport>;
  /** What a loop says after a flush (an outage once, not once a cycle); null: nothing. */
  notes: (report: import('../upload/flush.js').FlushReport) => string | null;
}

/** Checks the endpoint and key before the first cycle, so a bad key is an error now, not later. */
async function prepareUpload(
  upload: NonNullable<CollectOptions['upload']>,
  site: string,
  /** --interval: one process flushes with the key it read at start, cycle after cycle. */
  loop: boolean,
  /** When the run began, on ctx.monotonic: a --once flush is bounded by what is left of the minute. */
  startedAt: number,
  ctx: Context,
): Promise<PreparedUpload> {
  const { flushNotes, outboxCycleHook, resolveUploadSettings, uploadAfterCycle } = await import(
    '../upload/index.js'
  );
  const settings = resolveUploadSettings(
    {
      endpoint: upload.endpoint,
      endpointSource: upload.source,
      ...(upload.configKeyFile
        ? { configKeyFile: upload.configKeyFile, configKeyFileSource: upload.configKeyFileSource }
        : {}),
      ...(upload.caFile ? { caFile: upload.caFile, caFileSource: upload.caFileSource } : {}),
      keyFileChoice: 'name a key file (mode 0600) as upload.key_file in the config file',
    },
    ctx,
  );
  /** The Retry-After the last flush was given: it holds for the collector, across cycles. */
  let waitUntil: number | null = null;
  return {
    endpoint: settings.endpoint,
    // Batches are sealed under the collector's body-size limit once a flush has learnt it.
    hook: outboxCycleHook({ endpointUrl: settings.endpoint.url }),
    // When the outage note repeats is elapsed time: a wall-clock step must not bring it back early.
    notes: flushNotes(ctx.monotonic),
    flush: async (store, nextCycleAt) => {
      const timing =
        nextCycleAt === null
          ? { budgetMs: onceUploadBudgetMs(ctx.monotonic() - startedAt) }
          : { nextCycleAt };
      const report = await uploadAfterCycle(
        store,
        settings,
        waitUntil === null ? timing : { ...timing, notBefore: waitUntil },
        ctx,
        // This site's batches only: another site's in the same file go with that site's key.
        site,
      );
      // A flush skipped by the lock ('busy') learnt nothing: the wait asked before still holds.
      if (report.stop !== 'busy') waitUntil = report.waitUntil;
      // Keys get rotated: a loop that said only "refused the key", hourly, left the operator's new
      // key unread in the file or the environment until someone thought of restarting it.
      if (loop && report.stop === 'key_refused' && report.reason !== null)
        report.reason = `${report.reason}; collect reads the key once, at start: restart it once the key is changed`;
      return report;
    },
  };
}

export const registerCollect: RegisterCommand = (program, env) => {
  program
    .command('collect')
    .description('poll miners into the local SQLite store, once (cron) or every --interval')
    .option(
      '--targets <spec...>',
      'miners (HOST[:PORT], CIDR, range, @FILE, -); at most 200,000',
      collectValues,
    )
    .option('--site <id>', 'site the miners belong to (default "default")')
    .option('--db <path>', READER_DB_HELP)
    .option('--once', 'run one cycle and exit (for cron)')
    .option('--interval <duration>', 'run a cycle every DURATION (1s to 24d, e.g. 60s) until SIGINT/SIGTERM')
    .option(
      '--retain <duration>',
      `keep raw history this long; hourly rollups stay longer (default ${DEFAULT_RETAIN})`,
    )
    .option('--config <file>', 'JSON config file (default $HASHCTL_CONFIG); flags override it')
    .option(
      '--upload <url>',
      'also deliver each cycle to the cloud collector at URL (or upload.endpoint in the config; key: $HASHCTL_COLLECTOR_KEY or the config key_file)',
    )
    .option(
      '--ca <file>',
      "PEM file of the collector's private CA, trusted in addition to the system roots (or upload.ca_file in the config)",
    )
    // Every other command takes its miners as arguments: say where collect's go, before any work
    // (commander's own "Expected 0 arguments but got 1" did not).
    .allowExcessArguments(true)
    .action(async (raw: Record<string, unknown>, command: Command) => {
      const stray = command.args[0];
      if (stray !== undefined)
        throw new UsageError(
          `unexpected argument '${quoted(stray)}': collect takes its miners with --targets (e.g. --targets 10.0.0.0/24 @farm.txt)`,
        );
      const globals = env.globals(command);
      const source: ValueSource = (key) => command.getOptionValueSourceWithGlobals(key);
      // A process-wide V8 setting, so it is made here (the command) and not in the library.
      const { boundHeapGrowth, COLLECT_HEAP_GROWING_PERCENT } = await import('../util/heap.js');
      boundHeapGrowth(COLLECT_HEAP_GROWING_PERCENT, {
        execArgv: process.execArgv,
        nodeOptions: env.ctx.env.NODE_OPTIONS,
      });
      env.exit(await runCollect(await parseCollectOptions(raw, globals, source, env.ctx), globals, env.ctx));
    });
};

/**
 * What collect says on the first stop: the signal it took (a service's SIGTERM or a SIGHUP is not
 * the user's Ctrl-C, and a SIGHUP does not reload), and what a second signal does.
 */
function stopNote(by: NodeJS.Signals | null): string {
  const stopping = 'stopping after the cycle in flight, if any, is stored';
  switch (by) {
    case 'SIGINT':
      return `interrupted: ${stopping} (Ctrl-C again stops at once and drops it)`;
    case 'SIGTERM':
      return `SIGTERM: ${stopping} (a second SIGTERM or Ctrl-C stops at once and drops it)`;
    case 'SIGHUP':
      return `SIGHUP (hangup: the terminal closed, or a reload asked): collect does not reload its config; ${stopping} (a second signal stops at once and drops it)`;
    default:
      return `${stopping} (a second signal stops at once and drops it)`;
  }
}
