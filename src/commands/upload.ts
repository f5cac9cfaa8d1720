// hashctl upload: flush the upload outbox to the cloud collector, show its state, or release
// quarantined batches (hashctl.md §9). The key comes from HASHCTL_COLLECTOR_KEY or --key-file only.
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { HashctlError, UploadError, UsageError } from '../errors.js';
import { oneLine, quoted } from '../output/terminal.js';
import { parseIntFlag, parsePositiveDuration } from '../util/duration.js';
import {
  type GlobalOptions,
  namedFlag,
  READER_DB_HELP,
  type RegisterCommand,
  upgradeNote,
} from './shared.js';

export interface UploadOptions {
  endpoint: string | null;
  db: string | undefined;
  /** --config FILE ($HASHCTL_CONFIG otherwise): its `upload.endpoint`, `upload.key_file` and `db` fill in. */
  config: string | undefined;
  keyFile: string | undefined;
  caFile: string | undefined;
  status: boolean;
  requeue: boolean;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  maxAttempts: number;
  /** Budget for the whole flush (cron: finish before the next run). */
  deadlineMs: number | null;
  /** Only this site's batches (--site, else the config's site). */
  site: string | undefined;
}

export function parseUploadOptions(raw: Record<string, unknown>): UploadOptions {
  const text = (key: string): string | undefined => (raw[key] === undefined ? undefined : String(raw[key]));
  const options: UploadOptions = {
    endpoint: text('endpoint') ?? null,
    db: text('db'),
    config: text('config'),
    keyFile: namedFlag(raw, 'keyFile', '--key-file', 'a key file name'),
    caFile: namedFlag(raw, 'ca', '--ca', 'a PEM file name'),
    status: raw.status === true,
    requeue: raw.requeue === true,
    connectTimeoutMs: parsePositiveDuration(text('connectTimeout') ?? '10s', '--connect-timeout', true),
    totalTimeoutMs: parsePositiveDuration(text('requestTimeout') ?? '60s', '--request-timeout', true),
    maxAttempts: parseIntFlag(text('attempts') ?? '4', '--attempts', 1, 20),
    deadlineMs:
      raw.deadline === undefined ? null : parsePositiveDuration(String(raw.deadline), '--deadline', true),
    site: namedFlag(raw, 'site', '--site', 'a site name')?.normalize('NFC'),
  };
  if (options.connectTimeoutMs <= 0 || options.totalTimeoutMs <= 0)
    throw new UsageError('timeouts must be greater than zero');
  if (options.status && (options.requeue || options.endpoint !== null)) {
    throw new UsageError('--status only reads the outbox: use it without --endpoint and --requeue');
  }
  return options;
}

/**
 * The site this run reads, sends or requeues: --site, else the config's `site`, else every site
 * (null). A site this file has never seen (a typo, the wrong case) would flush nothing and exit 0
 * on every cron run while the real site's batches wait for ever: refused, as live and export do.
 */
async function chosenSite(
  opts: UploadOptions,
  config: { site?: string | undefined } | undefined,
  db: import('../store/index.js').Db,
  dbPath: string,
): Promise<string | null> {
  const site = opts.site ?? config?.site?.normalize('NFC') ?? null;
  if (site === null) return null;
  const { outboxSites } = await import('../store/outbox.js');
  const { siteStatements } = await import('../store/sites.js');
  const known = [
    ...new Set([
      ...siteStatements(db)
        .list()
        .map((row) => row.name),
      ...outboxSites(db),
    ]),
  ].sort();
  if (!known.includes(site))
    throw new UsageError(
      `no site '${quoted(site)}' in ${dbPath}${known.length ? ` (known: ${known.slice(0, 5).join(', ')}${known.length > 5 ? ', …' : ''})` : ''}`,
    );
  return site;
}

export async function runUpload(opts: UploadOptions, globals: GlobalOptions, ctx: Context): Promise<number> {
  const { configPath, loadConfig } = await import('../config/index.js');
  const configFile = configPath(opts.config, ctx.env, ctx.cwd);
  const config = configFile === null ? undefined : loadConfig(configFile, ctx.env).config;
  const endpoint = opts.status ? null : (opts.endpoint ?? config?.upload?.endpoint ?? null);
  if (!opts.status && !opts.requeue && endpoint === null) {
    throw new UsageError(
      'upload needs --endpoint URL (or upload.endpoint in the config, --status, or --requeue)',
    );
  }
  const { resolveDbPath, openStore, acquireLock, withStoreErrors } = await import('../store/index.js');
  const dbPath = resolveDbPath(
    opts.db ?? config?.db,
    ctx.env,
    ctx.cwd,
    opts.db === undefined && config?.db !== undefined ? `"db" in config ${configFile}` : undefined,
  );
  if (opts.status) {
    const store = openStore(dbPath, { readonly: true, onUpgrade: upgradeNote(globals, ctx) });
    try {
      const { outboxStatus } = await import('../store/outbox.js');
      // That site's batches only, as --requeue and a send take them: --site was ignored here, and
      // `--status --site b` showed every site's counts as if they were b's.
      const site = await chosenSite(opts, config, store.db, dbPath);
      const status = store.snapshot(() => outboxStatus(store.db, undefined, site, ctx.now()));
      await printStatus(status, globals, ctx);
    } finally {
      store.close();
    }
    return 0;
  }

  const { resolveUploadSettings, flushOutbox } = await import('../upload/flush.js');
  // Flags, key and CA are checked before the database is touched or a byte is sent.
  const settings =
    endpoint === null
      ? null
      : resolveUploadSettings(
          {
            endpoint,
            // A URL, key file or CA the config named is said as the config's key, with its file.
            endpointSource: opts.endpoint !== null ? '--endpoint' : `upload.endpoint in config ${configFile}`,
            keyFile: opts.keyFile,
            ...(config?.upload?.key_file
              ? {
                  configKeyFile: config.upload.key_file,
                  configKeyFileSource: `upload.key_file in config ${configFile}`,
                }
              : {}),
            // upload.ca_file as collect and thermal config pull take it (a private CA's collector).
            caFile: opts.caFile ?? config?.upload?.ca_file,
            caFileSource: opts.caFile !== undefined ? '--ca' : `upload.ca_file in config ${configFile}`,
            connectTimeoutMs: opts.connectTimeoutMs,
            totalTimeoutMs: opts.totalTimeoutMs,
            maxAttempts: opts.maxAttempts,
          },
          ctx,
        );
  const note = (line: string): void => {
    if (!globals.quiet) ctx.stderr.write(`${line}\n`);
  };
  // Only collect creates a database: a mistyped --db must fail, not flush a new empty file and exit 0.
  const store = openStore(dbPath, { mustExist: true, onUpgrade: upgradeNote(globals, ctx) });
  // One sender per outbox: two runs side by side (or this and collect --upload's flush) would
  // both post every pending batch. A second run exits 75 at once; the lock is taken after the
  // open so a missing database is still "no database at …" and no directory is made for it.
  let lock: import('../store/index.js').StoreLock | undefined;
  try {
    lock = acquireLock(dbPath, 'upload');
    // The site this run sends (and requeues), checked before anything changes.
    const { pendingSites } = await import('../store/outbox.js');
    const site = await chosenSite(opts, config, store.db, dbPath);
    // One key, one site: batches of several sites are never sent together under one site's key.
    // Judged with what a --requeue is about to release, before it does: refused after it, the run
    // left other sites' batches released and exited 2, where it would have sent the one site alone.
    const sites = settings === null ? [] : pendingSites(store.db, opts.requeue);
    if (site === null && sites.length > 1) {
      throw new UsageError(
        `the outbox holds batches of ${sites.length} sites (${sites.slice(0, 5).join(', ')}${sites.length > 5 ? ', …' : ''}): give --site, with that site's collector key`,
      );
    }
    let requeued: number | null = null;
    if (opts.requeue) {
      // A named site's quarantined batches only: another site's wait for its own operator and key.
      const { requeueQuarantined } = await import('../store/outbox.js');
      requeued = withStoreErrors(dbPath, () => requeueQuarantined(store.db, ctx.now(), undefined, site));
      note(`requeued ${requeued} quarantined batch${requeued === 1 ? '' : 'es'}`);
    }
    if (settings === null) {
      if (globals.json) ctx.stdout.write(`${JSON.stringify({ requeued })}\n`);
      return 0;
    }
    // Without --site, the one site pending now: a collect of another site may commit batches
    // into this file while the run sends, and they must not go under this key either.
    const flushSite = site ?? sites[0] ?? null;
    // A week's backlog takes minutes to hours to send: on a terminal, a line says how far it got
    // (hashctl.md §3: long work shows progress on a TTY, never with --json or --quiet).
    const progress =
      ctx.stderr.isTTY === true && !globals.quiet && !globals.json
        ? await uploadProgress(store.db, flushSite, ctx)
        : null;
    const report = await flushOutbox(
      store.db,
      {
        endpoint: settings.endpoint,
        key: settings.key,
        ...(settings.ca === undefined ? {} : { ca: settings.ca }),
        connectTimeoutMs: settings.connectTimeoutMs,
        totalTimeoutMs: settings.totalTimeoutMs,
        maxAttempts: settings.maxAttempts,
        ...(opts.deadlineMs === null ? {} : { deadlineMs: ctx.now() + opts.deadlineMs }),
        signal: ctx.signal,
        site: flushSite,
        ...(progress ? { onProgress: progress.update } : {}),
      },
      ctx,
    ).finally(() => progress?.clear());
    if (globals.json) {
      ctx.stdout.write(
        `${JSON.stringify({
          endpoint: report.endpoint,
          stop: report.stop,
          reason: report.reason,
          requeued,
          attempts: report.attempts,
          delivered: report.delivered,
          delivered_miners: report.deliveredMiners,
          duplicates: report.duplicates,
          split: report.split,
          quarantined: report.quarantined,
          pending: report.pending,
          next_attempt_at:
            report.nextAttemptAt === null ? null : new Date(report.nextAttemptAt).toISOString(),
          last_status: report.lastStatus,
          pruned: report.pruned,
          delivered_batch_ids: report.deliveredBatchIds,
          elapsed_ms: report.elapsedMs,
        })}\n`,
      );
    } else {
      const parts = [
        `delivered ${report.delivered} batch${report.delivered === 1 ? '' : 'es'} (${report.deliveredMiners} miner${report.deliveredMiners === 1 ? '' : 's'})`,
      ];
      if (report.split > 0) parts.push(`split ${report.split} too large`);
      if (report.quarantined > 0)
        parts.push(
          `${report.quarantined} refused by the collector and quarantined (see hashctl upload --status)`,
        );
      parts.push(`${report.pending} pending`);
      note(`${parts.join(', ')} — ${report.endpoint}`);
    }
    if (report.delivered + report.pending + report.quarantined === 0) {
      // Nothing ever queued (not even delivered rows kept for the retention): the cycles were
      // stored by a collect without --upload, which queues nothing; a cron of this alone sends nothing.
      const { outboxStatus } = await import('../store/outbox.js');
      const { states } = outboxStatus(store.db, 0);
      if (Object.values(states).every((state) => state.batches === 0))
        note(
          'the outbox is empty: collect queues batches only with --upload URL (or upload.endpoint in its config)',
        );
    }
    if (report.stop === 'aborted')
      throw new HashctlError('interrupted', `interrupted: ${report.pending} batch(es) still pending`);
    // Refused data is a failure cron must see, like data not sent: a run that quarantined every
    // batch has nothing pending, yet nothing of it reached the collector.
    const failures: string[] = [];
    if (report.pending > 0)
      failures.push(
        report.stop === 'key_refused'
          ? `the collector refused the key from ${settings.keySource} (HTTP ${report.lastStatus}); ${report.pending} batch(es) kept pending`
          : `${report.pending} batch(es) still pending: ${report.reason ?? 'not delivered'}`,
      );
    if (report.quarantined > 0)
      failures.push(
        `the collector refused ${report.quarantined} batch(es) of this run: quarantined, see hashctl upload --status (--requeue sends them again)`,
      );
    if (failures.length === 0) return 0;
    throw new UploadError('upload', failures.join('; '));
  } finally {
    lock?.release();
    store.close();
  }
}

/** How often the progress line is redrawn, at most. */
const PROGRESS_INTERVAL_MS = 200;

/** The progress line of a flush: drawn at the first batch, then at most every PROGRESS_INTERVAL_MS. */
async function uploadProgress(
  db: import('../store/index.js').Db,
  site: string | null,
  ctx: Context,
): Promise<{
  update: (report: Readonly<import('../upload/flush.js').FlushReport>) => void;
  clear: () => void;
}> {
  const { outboxStatus } = await import('../store/outbox.js');
  const pending = outboxStatus(db, 0, site).states.pending;
  const count = (n: number): string => n.toLocaleString('en-US');
  let drawnAt: number | null = null;
  return {
    update: (report) => {
      const now = ctx.now();
      if (drawnAt !== null && now - drawnAt < PROGRESS_INTERVAL_MS) return;
      drawnAt = now;
      // Batches of this site that a collect commits meanwhile are sent too: the total grows with them.
      const miners = Math.max(pending.miners, report.deliveredMiners);
      const percent = miners === 0 ? 100 : Math.floor((100 * report.deliveredMiners) / miners);
      const refused = report.quarantined > 0 ? `, ${count(report.quarantined)} quarantined` : '';
      ctx.stderr.write(
        `\r\u001b[2Khashctl upload: ${percent}% — ${count(report.deliveredMiners)} of ${count(miners)} miner snapshots in ${count(report.delivered)} batch${report.delivered === 1 ? '' : 'es'} delivered${refused}`,
      );
    },
    clear: () => {
      if (drawnAt !== null) ctx.stderr.write('\r\u001b[2K');
    },
  };
}

async function printStatus(
  status: import('../store/outbox.js').OutboxStatus,
  globals: GlobalOptions,
  ctx: Context,
): Promise<void> {
  const { formatDuration } = await import('../util/duration.js');
  const now = ctx.now();
  const iso = (at: number | null): string | null => (at === null ? null : new Date(at).toISOString());
  const states = (['pending', 'quarantined', 'delivered'] as const).map((state) => status.states[state]);
  // A collector's Retry-After still running holds every pending batch, the ones due by their own
  // row too (a flush caps it at an hour, as here): it, not a time already past, is the next attempt.
  const waitEnds =
    status.collectorWaitUntil !== null && status.collectorWaitUntil > now
      ? Math.min(status.collectorWaitUntil, now + 3_600_000)
      : null;
  const nextAttemptAt =
    status.nextAttemptAt !== null && waitEnds !== null
      ? Math.max(status.nextAttemptAt, waitEnds)
      : status.nextAttemptAt;
  if (globals.json) {
    const { writeJson } = await import('../output/render.js');
    writeJson(ctx.stdout, {
      ...Object.fromEntries(
        states.map((row) => [
          row.state,
          {
            batches: row.batches,
            miners: row.miners,
            bytes: row.bytes,
            oldest_at: iso(row.oldestCreatedAt),
            oldest_age_s:
              row.oldestCreatedAt === null
                ? null
                : Math.max(0, Math.round((now - row.oldestCreatedAt) / 1000)),
          },
        ]),
      ),
      next_attempt_at: iso(nextAttemptAt),
      last_error: status.lastError && {
        batch_id: status.lastError.batchId,
        status: status.lastError.status,
        // `reason`, as the flush's document and quarantined_batches say it: `error` is an object
        // ({kind, message, …}) in every other document.
        reason: status.lastError.error,
        at: iso(status.lastError.at),
      },
      // The list stops at the oldest QUARANTINED_LISTED: how many more there are is said, not left out.
      quarantined_batches_omitted: status.states.quarantined.batches - status.quarantined.length,
      quarantined_batches: status.quarantined.map((batch) => ({
        batch_id: batch.batchId,
        created_at: iso(batch.createdAt),
        miners: batch.miners,
        status: batch.lastStatus,
        reason: batch.lastError,
      })),
    });
    return;
  }
  const { writeTable } = await import('../output/render.js');
  // Into a pipe, the age is a bare number under a header with its unit, as --json names it.
  const tty = ctx.stdout.isTTY === true;
  await writeTable(
    ctx.stdout,
    ['state', 'batches', 'miners', 'bytes', tty ? 'oldest' : 'oldest_age_s'],
    states.map((row) => [
      row.state,
      String(row.batches),
      String(row.miners),
      String(row.bytes),
      row.oldestCreatedAt === null
        ? '-'
        : tty
          ? `${formatDuration(Math.max(0, now - row.oldestCreatedAt))} ago`
          : String(Math.max(0, Math.round((now - row.oldestCreatedAt) / 1000))),
    ]),
    { alignRight: [1, 2, 3] },
  );
  if (waitEnds !== null && status.states.pending.batches > 0) {
    // Several sites (--status without --site): each waiting collector said with its URL and its
    // sites, so that a wait is not read as holding every site's batches.
    const running = status.collectorWaits.filter((wait) => wait.until > now);
    const only = running.length === 1 ? running[0] : undefined;
    if (only !== undefined && (status.waitSites <= 1 || only.sites.length === status.waitSites))
      ctx.stdout.write(`the collector asked (Retry-After) to be sent nothing before ${iso(waitEnds)}\n`);
    else
      for (const wait of running)
        ctx.stdout.write(
          `the collector at ${oneLine(wait.endpoint)}${wait.sites.length ? ` (site ${wait.sites.map(quoted).join(', ')})` : ''} asked (Retry-After) to be sent nothing before ${iso(Math.min(wait.until, now + 3_600_000))}\n`,
        );
  }
  if (status.lastError) {
    // An attempt in flight or cut by its flush's deadline is no error: a healthy drain read as a failing one.
    const { attemptWithoutAnswer } = await import('../store/outbox.js');
    const label = attemptWithoutAnswer(status.lastError.error) ? 'last attempt' : 'last error';
    ctx.stdout.write(`${label}: batch ${status.lastError.batchId}: ${oneLine(status.lastError.error)}\n`);
  }
  if (status.quarantined.length > 0) {
    ctx.stdout.write('\n');
    await writeTable(
      ctx.stdout,
      tty
        ? ['quarantined batch', 'created', 'miners', 'reason']
        : ['batch_id', 'created_at', 'miners', 'reason'],
      status.quarantined.map((batch) => [
        batch.batchId,
        iso(batch.createdAt) ?? '-',
        String(batch.miners),
        batch.lastError ?? '-',
      ]),
    );
    const omitted = status.states.quarantined.batches - status.quarantined.length;
    if (omitted > 0)
      ctx.stdout.write(
        `… and ${omitted} more quarantined batch${omitted === 1 ? '' : 'es'} (the oldest ${status.quarantined.length} are listed)\n`,
      );
  }
}

export const registerUpload: RegisterCommand = (program, env) => {
  program
    .command('upload')
    .description(
      'send collected batches from the outbox to the cloud collector (key: HASHCTL_COLLECTOR_KEY or --key-file)',
    )
    .option('--endpoint <url>', 'collector base URL (https://…); batches go to {url}/api/collector/upload')
    .option('--db <path>', READER_DB_HELP)
    .option(
      '--config <file>',
      'config file (default: $HASHCTL_CONFIG); supplies upload.endpoint, upload.key_file, upload.ca_file, site, db',
    )
    .option('--key-file <file>', 'file holding the collector key (must not be readable by group or others)')
    .option('--ca <file>', 'PEM file of a private CA to trust in addition to the system roots')
    .option('--site <id>', "only this site's batches (needed when the outbox holds several sites)")
    .option('--status', 'show pending and quarantined batches and the last error; sends nothing')
    .option('--requeue', 'move quarantined batches back to pending (then flush, with --endpoint)')
    .option('--connect-timeout <duration>', 'TCP/TLS connect timeout', '10s')
    .option('--request-timeout <duration>', 'deadline of one request, connect to last byte', '60s')
    .option('--attempts <n>', 'tries per batch in this run before leaving it for the next run', '4')
    .option('--deadline <duration>', 'stop flushing after this long (what is left stays pending)')
    .action(async (raw: Record<string, unknown>, command: Command) => {
      const globals = env.globals(command);
      env.exit(await runUpload(parseUploadOptions(raw), globals, env.ctx));
    });
};
