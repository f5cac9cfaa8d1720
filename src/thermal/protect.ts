// `thermal check --protect`: miners whose evaluation asks for `pause` are paused through the same
// path as `hashctl control pause` (dry run, --yes, one send per miner, read-back, command_log), at
// most once per --cooldown per miner (the cooldown is read from command_log, source 'thermal'), and
// each attempt is also written to thermal_events so the thermal history shows what was done.
// A pause is a write on one reading's word, and a sensor can glitch once (thermal-facts §4,
// "persistence before action"): a miner is paused only when `readings` consecutive readings, the
// check's and the re-reads taken here `intervalMs` apart, all ask for it.
import type { MinerClient } from '../cgminer/types.js';
import type { Context } from '../context.js';
import type {
  ConfirmSummary,
  ControlOptions,
  ControlResult,
  ControlRun,
  TargetControlResult,
} from '../control/types.js';
import { type CommandLogStatements, commandLogStatements } from '../store/command-log.js';
import { minerStatements } from '../store/miners.js';
import type { Store } from '../store/open.js';
import { DEFAULT_SITE, siteStatements } from '../store/sites.js';
import { thermalStatements } from '../store/thermal.js';
import type { CheckResult } from './check.js';

export const PROTECT_SOURCE = 'thermal';
export const DEFAULT_COOLDOWN_MS = 30 * 60_000;

export interface ProtectOptions {
  dryRun: boolean;
  yes: boolean;
  confirm?: (summary: ConfirmSummary) => Promise<boolean>;
  cooldownMs: number;
  verifyTimeoutMs: number;
  concurrency: number;
  client: MinerClient;
  /** Where the cooldown and the audit live; null: no cooldown can be kept (the caller warned). */
  store: Store | null;
  /** Site for miners the store has not seen yet. */
  site: string | null;
  actor: string;
  /** The Whatsminer admin password, asked once when a Whatsminer is to be paused (as control's). */
  adminPassword?: () => Promise<string | null>;
  /** The encrypted Whatsminer pause's --timeout, --max-bytes and --retries (as control's). */
  wire?: ControlOptions['wire'];
  /**
   * Consecutive readings that must all ask for a pause (the check's is the first); `reread` reads
   * and judges the given miners again. Without it (or with 1 reading) the check's reading decides.
   */
  persistence?: {
    readings: number;
    intervalMs: number;
    reread: (miners: CheckResult[]) => Promise<CheckResult[]>;
    /** Before each wait: reading `index` of `of` is due in `intervalMs` for `miners` miners. */
    onWait?: (step: { index: number; of: number; miners: number; intervalMs: number }) => void;
  };
}

export interface ProtectOutcome {
  target: string;
  host: string;
  port: number;
  action: 'pause';
  /**
   * A control result; `cooldown` when this miner was paused by protection within --cooldown;
   * `unconfirmed` when a later reading no longer asked for a pause (nothing sent).
   */
  result: ControlResult | 'cooldown' | 'unconfirmed';
  ok: boolean;
  request: string | null;
  detail: string | null;
  /** For `cooldown`: when the last protective pause was attempted (ms). */
  last_attempt_at?: number;
  /** For `unconfirmed`: which reading (2…) no longer asked for a pause, and what it said. */
  reading?: { index: number; of: number; status: string; reasons: string[] };
  error?: TargetControlResult['error'];
  verification?: TargetControlResult['verification'];
}

export interface ProtectReport {
  run_id: string | null;
  cooldown_ms: number;
  outcomes: ProtectOutcome[];
  declined: boolean;
  interrupted: boolean;
}

function fromControl(result: TargetControlResult): ProtectOutcome {
  return {
    target: result.target,
    host: result.host,
    port: result.port,
    action: 'pause',
    result: result.result,
    ok: result.ok,
    request: result.request,
    detail: result.error?.message ?? result.verification?.detail ?? null,
    ...(result.error ? { error: result.error } : {}),
    ...(result.verification ? { verification: result.verification } : {}),
  };
}

/** Pauses the miners `results` say must be paused. Throws UsageError (nothing sent) without --yes or a confirm. */
export async function protectMiners(
  results: CheckResult[],
  options: ProtectOptions,
  ctx: Context,
): Promise<ProtectReport> {
  const { runControlAction } = await import('../control/run.js');
  const now = ctx.now();
  const log: CommandLogStatements | null = options.store
    ? options.store.prepared(commandLogStatements)
    : null;
  const wanted = results.filter((r) => r.action === 'pause');
  const outcomes: ProtectOutcome[] = [];
  let due: CheckResult[] = [];
  for (const result of wanted) {
    const last =
      log?.lastTaken(result.host, result.port, 'pause', PROTECT_SOURCE, now - options.cooldownMs) ?? null;
    if (last === null) {
      due.push(result);
      continue;
    }
    outcomes.push({
      target: result.target,
      host: result.host,
      port: result.port,
      action: 'pause',
      result: 'cooldown',
      ok: true,
      request: null,
      detail: `paused by thermal protection ${Math.round((now - last) / 1000)}s ago; cooldown ${Math.round(options.cooldownMs / 1000)}s`,
      last_attempt_at: last,
    });
  }
  const confirmed = await persistentOnly(due, options, outcomes, ctx);
  due = confirmed.due;
  if (confirmed.interrupted || due.length === 0) {
    return {
      run_id: null,
      cooldown_ms: options.cooldownMs,
      outcomes,
      declined: false,
      interrupted: confirmed.interrupted,
    };
  }
  const run: ControlRun = await runControlAction(
    { name: 'pause' },
    due.map((r) => ({ host: r.host, port: r.port, key: r.target })),
    {
      dryRun: options.dryRun,
      yes: options.yes,
      ...(options.confirm ? { confirm: options.confirm } : {}),
      verify: true,
      verifyTimeoutMs: options.verifyTimeoutMs,
      canary: 0,
      batch: 0,
      staggerMs: 0,
      concurrency: options.concurrency,
      client: options.client,
      log,
      actor: options.actor,
      source: PROTECT_SOURCE,
      ...(options.adminPassword ? { adminPassword: options.adminPassword } : {}),
      ...(options.wire ? { wire: options.wire } : {}),
    },
    ctx,
  );
  outcomes.push(...run.results.map(fromControl));
  if (options.store && !options.dryRun) recordEvents(options.store, due, run, options.site, ctx.now());
  return {
    run_id: run.runId,
    cooldown_ms: options.cooldownMs,
    outcomes,
    declined: run.declined,
    interrupted: run.interrupted,
  };
}

/**
 * The miners of `due` that every further reading still asks to pause; the others go to `outcomes`
 * as `unconfirmed`, with the reading that let them off. Stops early (interrupted) on SIGINT/SIGTERM.
 */
async function persistentOnly(
  due: CheckResult[],
  options: ProtectOptions,
  outcomes: ProtectOutcome[],
  ctx: Context,
): Promise<{ due: CheckResult[]; interrupted: boolean }> {
  const confirm = options.persistence;
  if (!confirm || confirm.readings < 2) return { due, interrupted: false };
  let pending = due;
  for (let index = 2; index <= confirm.readings && pending.length > 0; index++) {
    confirm.onWait?.({ index, of: confirm.readings, miners: pending.length, intervalMs: confirm.intervalMs });
    await ctx.sleep(confirm.intervalMs, ctx.signal);
    if (ctx.signal.aborted) return { due: [], interrupted: true };
    const fresh = new Map((await confirm.reread(pending)).map((r) => [r.target, r]));
    if (ctx.signal.aborted) return { due: [], interrupted: true };
    pending = pending.filter((result) => {
      const again = fresh.get(result.target);
      if (again?.action === 'pause') return true;
      const status = again ? again.status : 'unread';
      const reasons = again ? again.reasons.map((reason) => reason.message) : [];
      const why = again?.error?.message ?? reasons[0];
      outcomes.push({
        target: result.target,
        host: result.host,
        port: result.port,
        action: 'pause',
        result: 'unconfirmed',
        ok: true,
        request: null,
        detail: `not paused: reading ${index} of ${confirm.readings} was ${status}${why ? ` (${why})` : ''}`,
        reading: { index, of: confirm.readings, status, reasons },
      });
      return false;
    });
  }
  return { due: pending, interrupted: false };
}

/** One thermal_events row per miner the protection acted on (status unchanged: the detail says what was done). */
function recordEvents(
  store: Store,
  due: CheckResult[],
  run: ControlRun,
  defaultSite: string | null,
  now: number,
): void {
  const sites = store.prepared(siteStatements);
  const miners = store.prepared(minerStatements);
  const thermal = store.prepared(thermalStatements);
  const byTarget = new Map(run.results.map((r) => [r.target, r]));
  store.transaction(() => {
    for (const check of due) {
      const done = byTarget.get(check.target);
      if (!done) continue;
      // With no site named, a miner the store holds in one site is that row (memory.ts
      // withStoredSite): not a second one in the default site that `live` never shows.
      const named = check.site ?? defaultSite;
      const rows = named === null ? miners.find(check.host, check.port) : [];
      const row = rows.length === 1 ? rows[0] : undefined;
      const siteId = row?.site_id ?? sites.ensure(named ?? DEFAULT_SITE, now);
      const minerId = row?.id ?? miners.upsert(siteId, check.host, check.port, now, null);
      const why = done.error?.message ?? done.verification?.detail;
      thermal.insertEvent({
        miner_id: minerId,
        site_id: siteId,
        ts: now,
        from_state: check.status,
        to_state: check.status,
        metric: check.worst?.metric ?? null,
        value: check.worst?.value ?? null,
        limit_value: check.worst?.limit ?? null,
        detail: `protect: pause ${done.result}${why ? ` (${why})` : ''} [run ${run.runId}]`,
      });
    }
  });
}
