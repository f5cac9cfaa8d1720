// `hashctl thermal`: limits (what applies and why), check (cron: exit 3 when a miner runs hot),
// posture (does the firmware protect itself?) and config pull (limits from the cloud).
// Exit codes: check and posture exit 3 when a result is at or above --fail-on; otherwise every
// subcommand exits 1 when a target could not be read (hashctl.md §3: in a check it is `unknown`,
// and a farm gone dark must not pass cron). `limits` and `posture` also exit 1 when the firmware's
// own limits could not be read; check says so in the result and keeps its exit code.
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { EXIT, errorMessage, HashctlError, StoreError, UsageError } from '../errors.js';
import { oneLine, quoted, terminalSafe } from '../output/terminal.js';
import type { Store } from '../store/open.js';
import { siteNameProblem } from '../store/sites.js';
import { compareTargets, type Target } from '../targets/types.js';
import type { CheckResult, CheckSource } from '../thermal/check.js';
import type { ThermalConfig } from '../thermal/config.js';
import type { PostureReport, PostureSeverity } from '../thermal/posture.js';
import type { ProtectReport } from '../thermal/protect.js';
import type { Metric, ThermalLevel, ThermalLimits, ThermalStatus } from '../thermal/types.js';
import {
  formatDuration,
  parseDuration,
  parseIntFlag,
  parsePositiveDuration,
  parseTimerDuration,
} from '../util/duration.js';
import { clientFromGlobals, targetsFromSpecs } from './miners.js';
import { type GlobalOptions, namedFlag, type RegisterCommand, upgradeNote } from './shared.js';

export interface ThermalCommonOptions {
  targets: string[];
  configFile: string | undefined;
  site: string | null;
}

export interface ThermalCheckOptions extends ThermalCommonOptions {
  fromDb: boolean;
  /** --from-db: a snapshot older than this is not judged as the miner's state now. */
  /** null: each site's default, as `live` has it. */
  staleAfterMs: number | null;
  db: string | undefined;
  failOn: ThermalLevel;
  /** --protect: pause the miners whose evaluation asks for it (through src/control). */
  protect: ThermalProtectFlags | null;
}

export interface ThermalProtectFlags {
  dryRun: boolean;
  yes: boolean;
  cooldownMs: number;
  verifyTimeoutMs: number;
  /** Consecutive critical readings (the check's first) before a miner is paused; 1: the check's alone. */
  readings: number;
  /** Between those readings. */
  readingIntervalMs: number;
  /** File whose first line is the Whatsminer admin password (pausing a Whatsminer needs it). */
  adminPasswordFile: string | null;
}

export interface ThermalPostureOptions extends ThermalCommonOptions {
  failOn: PostureSeverity | 'none';
}

export interface ThermalPullOptions {
  /** --endpoint, else the config's upload.endpoint (as upload and collect --upload take it). */
  endpoint: string | undefined;
  configFile: string | undefined;
  keyFile: string | undefined;
  /** A private CA for the cloud (--ca, else the config's upload.ca_file). */
  caFile: string | undefined;
  dryRun: boolean;
}

const POSTURE_LEVELS: PostureSeverity[] = ['info', 'low', 'medium', 'high', 'critical'];

interface LoadedThermal {
  config: ThermalConfig;
  file: string | null;
  site: string | null;
  db: string | undefined;
}

async function loadThermalConfig(flag: string | undefined, ctx: Context): Promise<LoadedThermal> {
  const { configPath, loadConfig } = await import('../config/index.js');
  const { parseThermalConfig } = await import('../thermal/config.js');
  const file = configPath(flag, ctx.env, ctx.cwd);
  if (!file) return { config: {}, file: null, site: null, db: undefined };
  const loaded = loadConfig(file, ctx.env);
  return {
    config: parseThermalConfig(loaded.config.thermal, `config ${file}: thermal`),
    file,
    site: loaded.config.site ?? null,
    db: loaded.config.db,
  };
}

/**
 * One line on stderr for `models.<name>` entries that matched no miner checked and no model hashctl
 * knows: a typo there would otherwise fall back to the defaults without a word. Not refused, because
 * a model hashctl has not heard of yet must stay configurable.
 */
async function warnUnmatchedModels(
  loaded: LoadedThermal,
  sources: readonly CheckSource[],
  globals: GlobalOptions,
  ctx: Context,
): Promise<void> {
  if (globals.quiet || !loaded.config.models) return;
  const { unmatchedModelKeys } = await import('../thermal/limits.js');
  const snapshots = sources.flatMap((source) => (source.snapshot ? [source.snapshot] : []));
  const keys = unmatchedModelKeys(loaded.config, snapshots);
  if (keys.length === 0) return;
  const names = keys.map((key) => JSON.stringify(key)).join(', ');
  ctx.stderr.write(
    `hashctl: config ${loaded.file ?? '-'}: thermal.models ${names}: matched no miner checked and no model hashctl knows, so ${keys.length === 1 ? 'it changes' : 'they change'} nothing (write the model as probe shows it, e.g. "S19 Pro" or "Antminer S19 Pro")\n`,
  );
}

/** Reads every target (bounded concurrency) into check sources, in completion order. */
async function readTargets(
  specs: string[],
  site: string | null,
  globals: GlobalOptions,
  ctx: Context,
): Promise<CheckSource[]> {
  return readMiners(await targetsFromSpecs(specs, globals, ctx), site, globals, ctx);
}

/** Reads each miner once (snapshot, and the firmware's limits where it shows them). */
async function readMiners(
  targets: Iterable<Target>,
  site: string | null,
  globals: GlobalOptions,
  ctx: Context,
): Promise<CheckSource[]> {
  const { fetchSnapshot } = await import('../miners/fetch.js');
  const { runPool } = await import('../util/pool.js');
  const { readMiner } = await import('../thermal/live.js');
  const client = await clientFromGlobals(globals, ctx);
  const sources: CheckSource[] = [];
  const limit = globals.concurrency ?? 256;
  const read = async (target: Target): Promise<CheckSource | null> => {
    try {
      return await readMiner(client, fetchSnapshot, target, site, ctx.signal);
    } catch (error) {
      // Ctrl-C cut this read short: left out like those never started; the rest are still shown.
      if (error instanceof HashctlError && error.kind === 'interrupted') return null;
      throw error;
    }
  };
  for await (const source of runPool(targets, limit, read, { signal: ctx.signal })) {
    if (source !== null) sources.push(source);
  }
  return sources;
}

/**
 * The exit code, or 130 after Ctrl-C: what was read is shown, and said to be partial. `note`
 * replaces the default line where it would mislead (--protect stopped before its pauses).
 */
function unlessInterrupted(
  code: number,
  globals: GlobalOptions,
  ctx: Context,
  note = 'interrupted; miners not yet read were skipped',
): number {
  if (!ctx.signal.aborted) return code;
  if (!globals.quiet) ctx.stderr.write(`hashctl: ${note}\n`);
  return EXIT.interrupted;
}

function fmt(value: number | null | undefined, unit = ''): string {
  if (value === null || value === undefined) return '-';
  return `${Math.round(value * 10) / 10}${unit}`;
}

// ---------------------------------------------------------------------------------------------- check

export async function runThermalCheck(
  opts: ThermalCheckOptions,
  globals: GlobalOptions,
  ctx: Context,
): Promise<number> {
  const { checkSource, checkExitCode, sortResults, summarize } = await import('../thermal/check.js');
  // Before any traffic: a protective write needs a yes, from the flag or from a person at a terminal.
  // Targets typed on the terminal (`-`, then Ctrl-D) leave no terminal to ask, as in control.
  const cannotAsk = opts.protect ? (await import('./control.js')).noTerminalToAsk(opts.targets, ctx) : null;
  // A malformed target names itself (exit 2) before the refusal below: adding --yes only to be told
  // of the target next is two runs for one mistake. `-` is read once, after it.
  const listed =
    opts.fromDb || opts.targets.includes('-') ? null : await targetsFromSpecs(opts.targets, globals, ctx);
  if (opts.protect && !opts.protect.dryRun && !opts.protect.yes && cannotAsk !== null) {
    throw new UsageError(`--protect sends writes: pass --yes (${cannotAsk}) or --dry-run`);
  }
  // Read now: an unreadable password file is exit 2 before any traffic and before the store.
  const adminPassword = opts.protect
    ? await protectAdminPassword(opts.protect, ctx, cannotAsk === null)
    : undefined;
  const loaded = await loadThermalConfig(opts.configFile, ctx);
  const site = opts.site ?? loaded.site;
  const useStore = opts.fromDb || opts.db !== undefined;
  const sources = opts.fromDb
    ? null
    : listed !== null
      ? await readMiners(listed, site, globals, ctx)
      : await readTargets(opts.targets, site, globals, ctx);

  let results: CheckResult[];
  let storedSources: CheckSource[] = [];
  let storeError: HashctlError | null = null;
  if (useStore) {
    const fs = await import('node:fs');
    const { openStore, resolveDbPath, dbHint } = await import('../store/index.js');
    const { fileSystemFull, noInodesLeft } = await import('../store/errors.js');
    const { storeMemory, withStoredSite } = await import('../thermal/memory.js');
    const { sourcesFromStore } = await import('../thermal/stored.js');
    const { pausedLookup } = await import('../thermal/paused.js');
    const file = resolveDbPath(
      opts.db ?? loaded.db,
      ctx.env,
      ctx.cwd,
      opts.db === undefined && loaded.db !== undefined ? `"db" in config ${loaded.file}` : undefined,
    );
    if (opts.fromDb && !fs.existsSync(file)) {
      throw new StoreError(
        'io',
        `no database at ${file}: run \`hashctl collect\` first (or ${dbHint(file, 'another file', 'pass --db')})`,
      );
    }
    try {
      const store = openStore(file, { onUpgrade: upgradeNote(globals, ctx) });
      try {
        const now = ctx.now();
        // One transaction: every miner's state and events of this run are stored together or not at all.
        results = store.transaction(() => {
          const memory = storeMemory(store, now, site);
          const pausedBy = pausedLookup(store);
          const list =
            sources === null
              ? sourcesFromStore(store, opts.site, now, opts.staleAfterMs)
              : site === null
                ? sources.map((source) => withStoredSite(store, source))
                : sources;
          if (opts.fromDb && list.length === 0) {
            const where = opts.site === null ? '' : ` for site ${opts.site}`;
            throw new StoreError(
              'io',
              `no collected miners${where} in ${file}: run \`hashctl collect\` first`,
            );
          }
          storedSources = list;
          return list.map((source) => checkSource(source, { config: loaded.config, site, memory, pausedBy }));
        });
      } finally {
        store.close();
      }
    } catch (error) {
      // The miners were read: a damaged, locked or full database costs the hysteresis and the
      // thermal_events record, not the verdict. A miner running critical must still exit 3 (it
      // was exit 1 with no result at all), and --json still prints its document.
      if (!isStoreFailure(error)) throw error;
      // --from-db on a full disk: the collected miners can still be read (a read-only open needs no
      // room), and a critical one must still be said, as with TARGETS.
      const full = error.kind === 'io' && (fileSystemFull(file) || noInodesLeft(file));
      const fromStore = sources === null && full ? readOnlyCheck(file) : null;
      if (sources === null && fromStore === null) throw error;
      storeError = error;
      ctx.stderr.write(
        `hashctl: ${oneLine(error.message)}; checked ${fromStore ? 'the stored miners read-only' : 'without the store'} (no hysteresis, nothing recorded)\n`,
      );
      results =
        fromStore ?? (sources ?? []).map((source) => checkSource(source, { config: loaded.config, site }));
    }
    /** The stored miners checked from a read-only open (their pauses included), or what stops it. */
    function readOnlyCheck(file: string): CheckResult[] {
      const store = openStore(file, { readonly: true, onUpgrade: upgradeNote(globals, ctx) });
      try {
        return store.snapshot(() => {
          const list = sourcesFromStore(store, opts.site, ctx.now(), opts.staleAfterMs);
          if (list.length === 0) {
            const where = opts.site === null ? '' : ` for site ${opts.site}`;
            throw new StoreError(
              'io',
              `no collected miners${where} in ${file}: run \`hashctl collect\` first`,
            );
          }
          storedSources = list;
          const pausedBy = pausedLookup(store);
          return list.map((source) => checkSource(source, { config: loaded.config, site, pausedBy }));
        });
      } finally {
        store.close();
      }
    }
  } else if (opts.protect) {
    // --protect keeps its cooldown in the store: the pauses it made are there, even without --db.
    const fs = await import('node:fs');
    const { openStore, resolveDbPath } = await import('../store/index.js');
    const { pausedLookup } = await import('../thermal/paused.js');
    const file = resolveDbPath(
      opts.db ?? loaded.db,
      ctx.env,
      ctx.cwd,
      opts.db === undefined && loaded.db !== undefined ? `"db" in config ${loaded.file}` : undefined,
    );
    let store: Store | null = null;
    try {
      if (fs.existsSync(file)) store = openStore(file, { onUpgrade: upgradeNote(globals, ctx) });
    } catch {
      store = null; // runProtection says so when it needs the store; the check itself goes on.
    }
    try {
      const pausedBy = store ? pausedLookup(store) : undefined;
      // As with --db: with no site named, a miner the store holds in one site is judged as its site's.
      const { withStoredSite } = await import('../thermal/memory.js');
      const held = store;
      results = (sources ?? [])
        .map((source) => (held && site === null ? withStoredSite(held, source) : source))
        .map((source) =>
          checkSource(source, { config: loaded.config, site, ...(pausedBy ? { pausedBy } : {}) }),
        );
    } finally {
      store?.close();
    }
  } else {
    results = (sources ?? []).map((source) => checkSource(source, { config: loaded.config, site }));
  }

  results = sortResults(results);
  await warnUnmatchedModels(loaded, sources ?? storedSources, globals, ctx);
  const summary = summarize(results, opts.failOn);
  // The confirming readings of --protect: read again and judged afresh (each on its own, no
  // hysteresis), recorded nowhere; the check's reading is the one reported and stored.
  // Each judged by the site its first reading was (the store's, for a miner it holds in one site
  // when none is named): by other limits, a miner critical under its site's would not be confirmed.
  const reread = async (miners: CheckResult[]): Promise<CheckResult[]> => {
    const siteOf = new Map(miners.map((m) => [m.target, m.site]));
    return (
      await readMiners(
        miners.map((m) => ({ host: m.host, port: m.port, key: m.target })),
        site,
        globals,
        ctx,
      )
    ).map((source) =>
      checkSource(
        { ...source, site: siteOf.get(source.target) ?? source.site },
        { config: loaded.config, site },
      ),
    );
  };
  // After Ctrl-C nothing is paused: the operator stopped the run.
  const protect =
    opts.protect && !ctx.signal.aborted
      ? await runProtection(results, opts.protect, opts.db ?? loaded.db, site, globals, ctx, {
          adminPassword,
          reread,
        })
      : null;
  if (globals.json) {
    const { writeJson } = await import('../output/render.js');
    writeJson(ctx.stdout, {
      results: results.map((r) => ({
        target: r.target,
        host: r.host,
        port: r.port,
        site: r.site,
        status: r.status,
        cooling: r.cooling,
        readings: r.readings,
        limits: r.limits,
        limit_notes: r.limitNotes,
        ...(r.limitsError ? { firmware_limits_error: r.limitsError } : {}),
        reasons: r.reasons.map((reason) => reason.message),
        action: r.action,
        worst: r.worst,
        ...(r.error ? { error: r.error } : {}),
        ...(r.transition ? { transition: r.transition } : {}),
      })),
      summary,
      ...(protect ? { protect } : {}),
      ...(storeError ? { store_error: { kind: storeError.kind, message: storeError.message } } : {}),
    });
  } else {
    await writeCheckTable(results, globals, ctx);
    if (protect) await writeProtectTable(protect, ctx);
    if (!globals.quiet) {
      ctx.stderr.write(
        `${summary.total} miner${summary.total === 1 ? '' : 's'}: ${summary.critical} critical, ${summary.warn} warn, ${summary.ok} ok, ${summary.unknown} unknown\n`,
      );
    }
  }
  const code = checkExitCode(summary, results);
  // --protect cut short by Ctrl-C (between its confirming readings, or before them): the miners
  // that asked for a pause and got none are said as such, not as "not yet read" (they were).
  const unpaused = opts.protect
    ? results.filter(
        (r) => r.action === 'pause' && !protect?.outcomes.some((outcome) => outcome.target === r.target),
      ).length
    : 0;
  const note =
    unpaused > 0
      ? `interrupted before pausing: ${unpaused} miner${unpaused === 1 ? '' : 's'} that asked for a pause ${unpaused === 1 ? 'was' : 'were'} not paused${protect ? '' : '; miners not yet read were skipped'}`
      : undefined;
  // A clean check whose store failed still fails, with the store's own code (75 locked, 1 io).
  return unlessInterrupted(storeError && code === EXIT.ok ? storeError.exitCode : code, globals, ctx, note);
}

/** A store that could not be opened or written (not a usage error, not Ctrl-C). */
function isStoreFailure(error: unknown): error is HashctlError {
  return error instanceof HashctlError && ['store', 'io', 'locked'].includes(error.kind);
}

/** --protect: pause what must be paused, with the cooldown and audit in the store. */
async function runProtection(
  results: CheckResult[],
  flags: ThermalProtectFlags,
  dbFlag: string | undefined,
  site: string | null,
  globals: GlobalOptions,
  ctx: Context,
  deps: {
    adminPassword: (() => Promise<string | null>) | undefined;
    reread: (miners: CheckResult[]) => Promise<CheckResult[]>;
  },
): Promise<ProtectReport> {
  const { adminPassword, reread } = deps;
  const { protectMiners } = await import('../thermal/protect.js');
  const { actorName, confirmOnTty } = await import('../control/prompt.js');
  const { openStore, resolveDbPath } = await import('../store/index.js');
  const fs = await import('node:fs');
  let store: Store | null = null;
  const file = resolveDbPath(dbFlag, ctx.env, ctx.cwd);
  if (flags.dryRun && results.some((r) => r.action === 'pause') && fs.existsSync(file)) {
    // A dry run shows what a real run would do, cooldown included: read it, write nothing.
    try {
      store = openStore(file, { readonly: true });
    } catch {
      store = null; // the real run says what is wrong with the store; a preview goes on without it
    }
  } else if (!flags.dryRun && results.some((r) => r.action === 'pause')) {
    try {
      store = openStore(file, { onUpgrade: upgradeNote(globals, ctx) });
    } catch (error) {
      // Protection must not wait on a broken database: go on without cooldown or audit, and say so.
      ctx.stderr.write(
        `hashctl: store unavailable for --protect (${errorMessage(error)}); pausing without cooldown or command log\n`,
      );
    }
  }
  const client = await clientFromGlobals(globals, ctx);
  try {
    return await protectMiners(
      results,
      {
        dryRun: flags.dryRun,
        yes: flags.yes,
        ...(flags.yes || ctx.stdin.isTTY !== true
          ? {}
          : {
              confirm: (summary) =>
                summary.miners === 0
                  ? Promise.resolve(false)
                  : confirmOnTty(
                      ctx,
                      `thermal protection: pause ${summary.miners} miner(s) running critical?`,
                    ),
            }),
        cooldownMs: flags.cooldownMs,
        verifyTimeoutMs: flags.verifyTimeoutMs,
        persistence: {
          readings: flags.readings,
          intervalMs: flags.readingIntervalMs,
          reread,
          // A person waiting on a quiet terminal for seconds is told why.
          ...(globals.quiet
            ? {}
            : {
                onWait: ({ index, of, miners, intervalMs }) =>
                  ctx.stderr.write(
                    `hashctl: thermal protection: ${miners} miner(s) critical; reading ${index} of ${of} in ${formatDuration(intervalMs)} before pausing\n`,
                  ),
              }),
        },
        concurrency: globals.concurrency ?? 64,
        client,
        store,
        site,
        actor: actorName(ctx.env),
        ...(adminPassword ? { adminPassword } : {}),
        wire: { timeoutMs: globals.timeoutMs, maxBytes: globals.maxBytes, retries: globals.retries },
      },
      ctx,
    );
  } finally {
    store?.close();
  }
}

/**
 * The Whatsminer admin password for --protect, as `control pause` gets it: the file (read now, an
 * unreadable one is exit 2 before any traffic), else a terminal asked once, else none (those
 * miners are skipped and say why). From cron, the file is the only way.
 */
async function protectAdminPassword(
  flags: ThermalProtectFlags,
  ctx: Context,
  canAsk: boolean,
): Promise<(() => Promise<string | null>) | undefined> {
  if (flags.dryRun) return undefined;
  const { whatsminerPasswordSource } = await import('./control.js');
  return whatsminerPasswordSource(flags.adminPasswordFile, ctx, canAsk);
}

async function writeProtectTable(report: ProtectReport, ctx: Context): Promise<void> {
  if (report.outcomes.length === 0) return;
  const { writeTable } = await import('../output/render.js');
  ctx.stdout.write('\n');
  await writeTable(
    ctx.stdout,
    ['target', 'protect', 'result', 'detail'],
    // A detail may quote the miner (a STATUS Msg): strict, so its escapes are shown, not obeyed.
    report.outcomes.map((o) => [o.target, o.action, o.result, terminalSafe(o.detail ?? '-', true)]),
  );
}

async function writeCheckTable(results: CheckResult[], globals: GlobalOptions, ctx: Context): Promise<void> {
  const { palette, writeTable } = await import('../output/render.js');
  const paint = await palette(globals.color);
  const colour: Record<ThermalStatus, (text: string) => string> = {
    critical: paint.red,
    warn: paint.yellow,
    ok: paint.green,
    unknown: paint.dim,
  };
  const tty = ctx.stdout.isTTY === true;
  const degrees = tty ? ' °C' : '';
  const rows = results.map((r) => {
    const x = r.readings;
    const fans = !tty
      ? // Into a pipe, two bare figures: failed fans, and the slowest running fan's rpm.
        [x && x.fans_total > 0 ? fmt(x.fans_failed ?? 0) : '-', fmt(x?.fan_min_rpm)]
      : x && x.fans_total > 0
        ? // running/total, and the slowest running fan's RPM when one runs ("0/4": every fan stopped)
          [
            `${x.fans_total - (x.fans_failed ?? 0)}/${x.fans_total}${x.fan_min_rpm === null ? '' : ` ≥${fmt(x.fan_min_rpm)}`}`,
          ]
        : ['-'];
    // The reasons may quote the miner (an unreachable one's STATUS Msg): strict, as probe shows an
    // error, since a table on a terminal keeps colour codes and these are none of hashctl's.
    const reasons = [
      ...r.reasons.map((reason) => reason.message),
      ...r.limitNotes.map((note) => `note: ${note}`),
    ].join('; ');
    return [
      r.target,
      colour[r.status](r.status),
      fmt(x?.inlet_c, degrees),
      fmt(x?.board_c, degrees),
      fmt(x?.chip_c, degrees),
      ...fans,
      terminalSafe(reasons, true) || '-',
    ];
  });
  // Into a pipe, bare numbers under headers that carry the unit (as --json names them), as `live` has it.
  await writeTable(
    ctx.stdout,
    tty
      ? ['target', 'status', 'inlet', 'board', 'chip', 'fans', 'reasons']
      : ['target', 'status', 'inlet_c', 'board_c', 'chip_c', 'fans_failed', 'fan_min_rpm', 'reasons'],
    rows,
  );
}

// --------------------------------------------------------------------------------------------- limits

/**
 * Into a pipe, the unit of a row's warn and critical (`c`, `rpm`, `count`), as the `_c` and `_rpm`
 * of the other commands' headers name it: one column holds °C, RPM and counts, so its header cannot.
 * Null on a terminal, where the metric's name says it.
 */
type UnitOf = ((metric: Metric) => string) | null;

function limitRows(prefix: string[], limits: ThermalLimits, unitOf: UnitOf): string[][] {
  const rows: string[][] = [];
  for (const [metric, pair] of Object.entries(limits.metrics) as [
    Metric,
    ThermalLimits['metrics'][Metric],
  ][]) {
    if (pair.warn.value === null && pair.critical.value === null) continue;
    const source =
      pair.warn.source === pair.critical.source
        ? pair.warn.source
        : `${pair.warn.source}; ${pair.critical.source}`;
    rows.push([
      ...prefix,
      metric,
      ...(unitOf ? [unitOf(metric)] : []),
      fmt(pair.warn.value),
      fmt(pair.critical.value),
      source,
    ]);
  }
  return rows;
}

export async function runThermalLimits(
  opts: ThermalCommonOptions,
  globals: GlobalOptions,
  ctx: Context,
): Promise<number> {
  const { effectiveLimits, identitySnapshot, CHIP_DEFAULTS, MODEL_RULES } = await import(
    '../thermal/limits.js'
  );
  const { limitsReadError, readFirmwareLimits } = await import('../thermal/replies.js');
  const { COOLING_CLASSES, METRIC_INFO } = await import('../thermal/types.js');
  const { writeJson, writeTable } = await import('../output/render.js');
  const loaded = await loadThermalConfig(opts.configFile, ctx);
  const site = opts.site ?? loaded.site;
  const tty = ctx.stdout.isTTY === true;
  const UNITS = { '°C': 'c', RPM: 'rpm', count: 'count' } as const;
  const unitOf: UnitOf = tty ? null : (metric) => UNITS[METRIC_INFO[metric].unit];
  /** The unit cell of a row that is not a metric's (or `[]` on a terminal). */
  const noUnit = tty ? [] : ['-'];

  if (opts.targets.length === 0) {
    await warnUnmatchedModels(loaded, [], globals, ctx);
    // The defaults table: each cooling class as an Antminer (estimated chip) would get it, with this
    // config's class and site overrides applied, plus the real-chip limits and the model rules.
    const classes = COOLING_CLASSES.map((cooling) => ({
      cooling,
      limits: effectiveLimits(identitySnapshot('Antminer', null, cooling), loaded.config, site),
    }));
    if (globals.json) {
      writeJson(ctx.stdout, {
        site,
        classes: Object.fromEntries(classes.map((c) => [c.cooling, c.limits.metrics])),
        chip_sensors: CHIP_DEFAULTS,
        model_rules: MODEL_RULES.map((rule) => ({
          name: rule.name,
          limits: rule.limits,
          source: rule.source,
        })),
        margin_c: classes[0]?.limits.margin_c,
        margin_rpm: classes[0]?.limits.margin_rpm,
      });
      return EXIT.ok;
    }
    const rows = classes.flatMap((c) => limitRows([c.cooling], c.limits, unitOf));
    const real = CHIP_DEFAULTS.real;
    rows.push([
      'any',
      'chip (real sensor)',
      ...(unitOf ? [unitOf('chip')] : []),
      fmt(real.pair[0]),
      fmt(real.pair[1]),
      real.source,
    ]);
    for (const rule of MODEL_RULES) {
      for (const [metric, pair] of Object.entries(rule.limits) as [Metric, (typeof rule.limits)[Metric]][]) {
        rows.push([
          `model ${rule.name}`,
          metric,
          ...(unitOf ? [unitOf(metric)] : []),
          fmt(pair?.[0]),
          fmt(pair?.[1]),
          rule.source,
        ]);
      }
    }
    await writeTable(
      ctx.stdout,
      tty
        ? ['class', 'metric', 'warn', 'critical', 'source']
        : ['class', 'metric', 'unit', 'warn', 'critical', 'source'],
      rows,
    );
    return EXIT.ok;
  }

  const sources = await readTargets(opts.targets, site, globals, ctx);
  sources.sort((a, b) => compareTargets(a.target, b.target));
  await warnUnmatchedModels(loaded, sources, globals, ctx);
  let failed = 0;
  const miners = sources.map((source) => {
    if (!source.snapshot) {
      failed++;
      return { target: source.target, error: source.error ?? null, limits: null };
    }
    const firmware = readFirmwareLimits(source.replies, source.snapshot.firmware.name);
    const firmwareError = firmware === null ? limitsReadError(source.replies) : null;
    // The limits shown would be the firmware's had the read worked: not a complete answer.
    if (firmwareError) failed++;
    const limits = effectiveLimits(source.snapshot, loaded.config, site, {
      miner: source.target,
      firmware,
      firmwareError,
      ...(source.replies ? { replies: source.replies } : {}),
    });
    return {
      target: source.target,
      make: source.snapshot.make,
      model: source.snapshot.model,
      // `firmware` is the miner's firmware {name, version} everywhere else (probe, control): these
      // are the limits it reports, named as posture and the store name them.
      firmware_limits: firmware,
      ...(firmwareError ? { firmware_limits_error: firmwareError } : {}),
      limits,
    };
  });
  if (globals.json) {
    writeJson(ctx.stdout, { site, miners });
  } else {
    const rows: string[][] = [];
    for (const miner of miners) {
      if (!miner.limits) {
        rows.push([
          miner.target,
          '-',
          ...noUnit,
          '-',
          '-',
          `unreachable: ${miner.error?.kind ?? 'internal'}`,
        ]);
        continue;
      }
      rows.push(...limitRows([miner.target], miner.limits, unitOf));
      rows.push([
        miner.target,
        'cooling',
        ...noUnit,
        miner.limits.cooling.value,
        '',
        miner.limits.cooling.source,
      ]);
      for (const note of miner.limits.notes) rows.push([miner.target, 'note', ...noUnit, '', '', note]);
    }
    await writeTable(
      ctx.stdout,
      tty
        ? ['target', 'metric', 'warn', 'critical', 'source']
        : ['target', 'metric', 'unit', 'warn', 'critical', 'source'],
      rows,
    );
  }
  return unlessInterrupted(failed > 0 ? EXIT.failed : EXIT.ok, globals, ctx);
}

// -------------------------------------------------------------------------------------------- posture

export async function runThermalPosture(
  opts: ThermalPostureOptions,
  globals: GlobalOptions,
  ctx: Context,
): Promise<number> {
  const { postureReport } = await import('../thermal/posture.js');
  const { writeJson, writeTable, palette } = await import('../output/render.js');
  const loaded = await loadThermalConfig(opts.configFile, ctx);
  const site = opts.site ?? loaded.site;
  const sources = await readTargets(opts.targets, site, globals, ctx);
  sources.sort((a, b) => compareTargets(a.target, b.target));
  await warnUnmatchedModels(loaded, sources, globals, ctx);
  const threshold = opts.failOn === 'none' ? Number.POSITIVE_INFINITY : POSTURE_LEVELS.indexOf(opts.failOn);
  let failed = 0;
  let unread = 0;
  let flagged = 0;
  const reports: { target: string; error?: { kind: string; message: string }; report?: PostureReport }[] = [];
  for (const source of sources) {
    if (!source.snapshot) {
      failed++;
      reports.push({
        target: source.target,
        error: source.error ?? { kind: 'internal', message: 'no snapshot and no error recorded' },
      });
      continue;
    }
    const report = postureReport(source.replies, source.snapshot, {
      config: loaded.config,
      site,
      miner: source.target,
    });
    if (report.limitsError) unread++;
    if (report.findings.some((f) => POSTURE_LEVELS.indexOf(f.severity) >= threshold)) flagged++;
    reports.push({ target: source.target, report });
  }
  if (globals.json) {
    writeJson(ctx.stdout, {
      miners: reports.map(({ target, error, report }) =>
        report
          ? {
              target,
              firmware_limits: report.firmware,
              ...(report.limitsError ? { firmware_limits_error: report.limitsError } : {}),
              trip: report.trip,
              cooling: report.limits.cooling,
              readings: report.readings,
              findings: report.findings,
            }
          : { target, error },
      ),
      summary: {
        total: reports.length,
        unreachable: failed,
        limits_unread: unread,
        flagged,
        fail_on: opts.failOn,
      },
    });
  } else {
    const paint = await palette(globals.color);
    const severityColour: Record<PostureSeverity, (t: string) => string> = {
      critical: paint.red,
      high: paint.red,
      medium: paint.yellow,
      low: paint.dim,
      info: paint.dim,
    };
    // On a terminal, the limits, the trip point and the readings each in one cell; into a pipe, one
    // figure a column under a header that names its unit, as `check` and `live` have it.
    const tty = ctx.stdout.isTTY === true;
    const rows: string[][] = [];
    for (const { target, error, report } of reports) {
      if (!report) {
        rows.push([target, ...Array<string>(tty ? 3 : 10).fill('-'), `unreachable: ${error?.kind}`]);
        continue;
      }
      const fw = report.firmware;
      const limits = fw
        ? 'firmware'
        : report.limitsError
          ? `read failed: ${report.limitsError.kind}`
          : 'not exposed';
      const findings = report.findings.map(
        (f) => `${severityColour[f.severity](f.severity)} ${f.id}: ${terminalSafe(f.message, true)}`,
      );
      const trip = report.trip;
      if (!tty) {
        rows.push([
          target,
          limits,
          fw?.mode ?? '-',
          fmt(fw?.target_c),
          fmt(fw?.hot_c),
          fmt(fw?.dangerous_c),
          fmt(trip?.value_c),
          trip?.sensor ?? '-',
          trip?.origin ?? '-',
          fmt(report.readings.board_c),
          fmt(report.readings.chip_c),
          findings.join('; ') || '-',
        ]);
        continue;
      }
      const configured = fw
        ? `${fw.mode ?? ''} ${[fw.target_c, fw.hot_c, fw.dangerous_c].map((v) => fmt(v)).join('/')}`.trim()
        : limits;
      const observed = `board ${fmt(report.readings.board_c)} chip ${fmt(report.readings.chip_c)}`;
      rows.push([
        target,
        configured,
        // Read from the firmware, or assumed from the facts for its firmware and model: said apart.
        trip ? `${trip.value_c} (${trip.sensor}, ${trip.origin})` : '-',
        observed,
        findings.join('; ') || '-',
      ]);
    }
    await writeTable(
      ctx.stdout,
      tty
        ? ['target', 'limits (mode target/hot/dangerous)', 'trip', 'observed', 'findings']
        : [
            'target',
            'limits',
            'mode',
            'target_c',
            'hot_c',
            'dangerous_c',
            'trip_c',
            'trip_sensor',
            'trip_origin',
            'board_c',
            'chip_c',
            'findings',
          ],
      rows,
    );
  }
  if (flagged > 0) return unlessInterrupted(EXIT.findings, globals, ctx);
  return unlessInterrupted(failed > 0 || unread > 0 ? EXIT.failed : EXIT.ok, globals, ctx);
}

// ---------------------------------------------------------------------------------------- config pull

export async function runThermalConfigPull(
  opts: ThermalPullOptions,
  globals: GlobalOptions,
  ctx: Context,
): Promise<number> {
  const { configPath, loadConfig } = await import('../config/index.js');
  const { loadCollectorKey } = await import('../upload/key.js');
  const { diffThermal, fetchThermalConfig, readLocalConfig, thermalConfigUrl, writeThermalSection } =
    await import('../thermal/pull.js');
  const flagUrl = opts.endpoint === undefined ? null : thermalConfigUrl(opts.endpoint);
  const file = configPath(opts.configFile, ctx.env, ctx.cwd);
  if (!file && !opts.dryRun)
    throw new UsageError('name the config file to update with --config FILE (or HASHCTL_CONFIG)');
  // Refuse to rewrite a config that does not validate as a whole: the user should fix it first.
  const existing = file ? readLocalConfig(file) : null;
  const validated = file && existing?.exists ? loadConfig(file, ctx.env).config : null;
  // The cloud is the one upload and collect --upload send to: the config's upload.endpoint, as its
  // key_file and ca_file are taken from there too.
  const configured = validated?.upload?.endpoint;
  if (flagUrl === null && configured === undefined)
    throw new UsageError('config pull needs --endpoint URL (or upload.endpoint in the config)');
  // A value from the config is said as the config's, not as a flag the user never gave.
  const url = flagUrl ?? thermalConfigUrl(configured as string, `upload.endpoint in config ${file}`);
  const key = loadCollectorKey({
    env: ctx.env,
    ...(opts.keyFile ? { keyFile: opts.keyFile } : {}),
    ...(validated?.upload?.key_file
      ? {
          configKeyFile: validated.upload.key_file,
          configKeyFileSource: `upload.key_file in config ${file}`,
        }
      : {}),
  });
  const caFile = opts.caFile ?? validated?.upload?.ca_file;
  const { readCollectorCa } = await import('../upload/flush.js');
  const ca = caFile
    ? readCollectorCa(caFile, opts.caFile ? '--ca' : `upload.ca_file in config ${file}`)
    : undefined;
  const remote = await fetchThermalConfig({
    url,
    key: key.value,
    timeoutMs: globals.timeoutMs,
    signal: ctx.signal,
    env: ctx.env,
    ...(ca === undefined ? {} : { ca }),
    ...(ctx.lookup ? { lookup: ctx.lookup } : {}),
  });
  const changes = diffThermal(existing?.thermal ?? {}, remote);
  const write = !opts.dryRun && changes.length > 0 && existing !== null;
  if (write && existing) writeThermalSection(existing, remote);
  if (globals.json) {
    const { writeJson } = await import('../output/render.js');
    writeJson(ctx.stdout, {
      endpoint: `${url.origin}${url.pathname}`,
      file,
      changes,
      written: write,
      dry_run: opts.dryRun,
    });
  } else {
    const show = (value: unknown) => (value === undefined ? '(unset)' : JSON.stringify(value));
    for (const change of changes)
      ctx.stdout.write(`${change.path}: ${show(change.before)} -> ${show(change.after)}\n`);
    if (!globals.quiet) {
      const note =
        changes.length === 0
          ? 'thermal config is already up to date'
          : write
            ? `wrote ${changes.length} change(s) to ${file}`
            : `${changes.length} change(s); dry run, nothing written`;
      ctx.stderr.write(`${note}\n`);
    }
  }
  return EXIT.ok;
}

// ------------------------------------------------------------------------------------------- register

function parseFailOn(value: unknown): ThermalLevel {
  const text = value === undefined ? 'critical' : String(value).toLowerCase();
  if (text !== 'warn' && text !== 'critical')
    throw new UsageError(`invalid --fail-on '${text}': use warn or critical`);
  return text;
}

function parsePostureFailOn(value: unknown): PostureSeverity | 'none' {
  const text = value === undefined ? 'critical' : String(value).toLowerCase();
  if (text !== 'none' && !(POSTURE_LEVELS as string[]).includes(text)) {
    throw new UsageError(`invalid --fail-on '${text}': use critical, high, medium, low, info or none`);
  }
  return text as PostureSeverity | 'none';
}

function optionalText(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

// Given empty (`--config "$CFG"` with CFG unset), these are usage errors: a check run on the
// default limits, or without the store it was told to use, would look like the one asked for.
const configFlag = (raw: Record<string, unknown>) =>
  namedFlag(raw, 'config', '--config', 'a config file name');
/**
 * --site, refused as collect refuses it: `check --db` stores its thermal state under that name (a
 * newline or bidi override in it then broke every table and title that shows the site).
 */
function siteFlag(raw: Record<string, unknown>): string | null {
  const site = namedFlag(raw, 'site', '--site', 'a site name')?.normalize('NFC') ?? null;
  const problem = site === null ? null : siteNameProblem(site);
  if (site !== null && problem !== null) {
    const shown = site.length > 40 ? `${quoted(site.slice(0, 40))}…` : quoted(site);
    throw new UsageError(`invalid --site '${shown}': ${problem}`);
  }
  return site;
}

export function parseThermalCheckOptions(
  targets: string[],
  raw: Record<string, unknown>,
): ThermalCheckOptions {
  const fromDb = raw.fromDb === true;
  if (fromDb && targets.length > 0) throw new UsageError('give either TARGETS or --from-db, not both');
  if (!fromDb && targets.length === 0)
    throw new UsageError('name the miners to check (TARGETS) or use --from-db');
  const protectFlags = [
    'yes',
    'dryRun',
    'cooldown',
    'verifyTimeout',
    'readings',
    'readingInterval',
    'adminPasswordFile',
  ].filter((key) => raw[key] !== undefined);
  if (raw.protect !== true && protectFlags.length > 0) {
    throw new UsageError(
      '--yes, --dry-run, --cooldown, --verify-timeout, --readings, --reading-interval and --admin-password-file go with --protect',
    );
  }
  namedFlag(raw, 'adminPasswordFile', '--admin-password-file', 'a file name');
  if (raw.protect === true && fromDb) {
    throw new UsageError('--protect acts on live readings: name the miners (TARGETS) instead of --from-db');
  }
  if (raw.staleAfter !== undefined && !fromDb) throw new UsageError('--stale-after goes with --from-db');
  const protect: ThermalProtectFlags | null =
    raw.protect === true
      ? {
          dryRun: raw.dryRun === true,
          yes: raw.yes === true,
          cooldownMs: parseDuration(raw.cooldown === undefined ? '30m' : String(raw.cooldown), '--cooldown'),
          // 0 would judge each pause on one read made at once: never confirmed.
          verifyTimeoutMs: parsePositiveDuration(
            raw.verifyTimeout === undefined ? '30s' : String(raw.verifyTimeout),
            '--verify-timeout',
            true,
          ),
          readings: raw.readings === undefined ? 3 : parseIntFlag(String(raw.readings), '--readings', 1, 20),
          readingIntervalMs: parseTimerDuration(
            raw.readingInterval === undefined ? '5s' : String(raw.readingInterval),
            '--reading-interval',
          ),
          adminPasswordFile: optionalText(raw.adminPasswordFile) ?? null,
        }
      : null;
  return {
    targets,
    fromDb,
    staleAfterMs:
      raw.staleAfter === undefined ? null : parsePositiveDuration(String(raw.staleAfter), '--stale-after'),
    db: namedFlag(raw, 'db', '--db', 'a database file name'),
    site: siteFlag(raw),
    configFile: configFlag(raw),
    failOn: parseFailOn(raw.failOn),
    protect,
  };
}

export const registerThermal: RegisterCommand = (program, env) => {
  const thermal = program
    .command('thermal')
    .description('thermal limits, checks with hysteresis, and firmware protection posture');

  thermal
    .command('limits')
    .description('show the thermal limits that apply (the defaults, or per miner) and where each comes from')
    .argument('[targets...]', 'miners (HOST[:PORT], CIDR, range, @FILE, -); none: the defaults table')
    .option('--site <id>', 'site for config overrides')
    .option('--config <file>', 'config file (default $HASHCTL_CONFIG)')
    .action(async (targets: string[], raw: Record<string, unknown>, command: Command) => {
      const globals = env.globals(command);
      const opts = { targets, site: siteFlag(raw), configFile: configFlag(raw) };
      env.exit(await runThermalLimits(opts, globals, env.ctx));
    });

  thermal
    .command('check')
    .description('check miners against their thermal limits; exit 3 when one is at or above --fail-on')
    .argument('[targets...]', 'miners (HOST[:PORT], CIDR, range, @FILE, -)')
    .option('--from-db', 'check the latest collected snapshots instead of asking the miners')
    .option(
      '--stale-after <duration>',
      "with --from-db: older snapshots are unknown (stale), not judged (default 10m, or 2.5 of the site's collect interval when longer)",
    )
    .option('--site <id>', 'site: config overrides, and the store rows (with --db / --from-db)')
    .option('--db <path>', 'database: remember states (hysteresis) and record changes in thermal_events')
    .option('--fail-on <level>', 'warn or critical (default critical)')
    .option('--config <file>', 'config file (default $HASHCTL_CONFIG)')
    .option('--protect', 'pause miners whose evaluation says pause (as `hashctl control pause`)')
    .option('-y, --yes', 'with --protect: do not ask (required when stdin is not a terminal)')
    .option('--dry-run', 'with --protect: print the pause requests; send nothing')
    .option('--cooldown <duration>', 'with --protect: pause a miner at most once per this (default 30m)')
    .option('--verify-timeout <duration>', 'with --protect: how long to read back the pause (default 30s)')
    .option(
      '--readings <n>',
      "with --protect: pause only a miner critical on N readings in a row, this check's the first (default 3)",
    )
    .option('--reading-interval <duration>', 'with --protect: between those readings (default 5s)')
    .option(
      '--admin-password-file <file>',
      'with --protect: file whose first line is the Whatsminer admin password (pausing one needs it)',
    )
    .action(async (targets: string[], raw: Record<string, unknown>, command: Command) => {
      const globals = env.globals(command);
      env.exit(await runThermalCheck(parseThermalCheckOptions(targets, raw), globals, env.ctx));
    });

  thermal
    .command('posture')
    .description("read each miner's own thermal protection (read-only) and report weak settings")
    .argument('<targets...>', 'miners (HOST[:PORT], CIDR, range, @FILE, -)')
    .option('--site <id>', 'site for config overrides')
    .option(
      '--fail-on <severity>',
      'exit 3 at or above: critical, high, medium, low, info, none (default critical)',
    )
    .option('--config <file>', 'config file (default $HASHCTL_CONFIG)')
    .action(async (targets: string[], raw: Record<string, unknown>, command: Command) => {
      const globals = env.globals(command);
      const opts: ThermalPostureOptions = {
        targets,
        site: siteFlag(raw),
        configFile: configFlag(raw),
        failOn: parsePostureFailOn(raw.failOn),
      };
      env.exit(await runThermalPosture(opts, globals, env.ctx));
    });

  const config = thermal.command('config').description('thermal settings in the config file');
  config
    .command('pull')
    .description('fetch thermal limits from the cloud ({endpoint}/api/thermal/config) into the config file')
    .option('--endpoint <url>', "cloud base URL (default: the config's upload.endpoint)")
    .option('--config <file>', 'config file to update (default $HASHCTL_CONFIG)')
    .option(
      '--key-file <file>',
      "collector key file, readable by no group or other (default: $HASHCTL_COLLECTOR_KEY, else the config's upload.key_file)",
    )
    .option(
      '--ca <file>',
      "PEM file of a private CA to trust in addition to the system roots (default: the config's upload.ca_file)",
    )
    .option('--dry-run', 'show the changes only')
    .action(async (raw: Record<string, unknown>, command: Command) => {
      const globals = env.globals(command);
      const opts: ThermalPullOptions = {
        endpoint: raw.endpoint === undefined ? undefined : String(raw.endpoint),
        configFile: configFlag(raw),
        keyFile: namedFlag(raw, 'keyFile', '--key-file', 'a key file name'),
        caFile: namedFlag(raw, 'ca', '--ca', 'a PEM file name'),
        dryRun: raw.dryRun === true,
      };
      env.exit(await runThermalConfigPull(opts, globals, env.ctx));
    });
};
