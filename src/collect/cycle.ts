// The collection loop: poll every target, write the cycle in one transaction, keep the file
// bounded, and keep time (hashctl.md §8). Library code: it reports through callbacks, never prints.
import { errorMessage, HashctlError, MinerError, StoreError } from '../errors.js';
import type { Snapshot } from '../miners/types.js';
import { terminalSafe } from '../output/terminal.js';
import {
  type CycleHook,
  type CycleInput,
  type CycleSummary,
  type MaintenanceResult,
  type MinerOutcome,
  runMaintenance,
  type Store,
  writeCycle,
} from '../store/index.js';
import type { Target } from '../targets/types.js';
import type { ThermalConfig } from '../thermal/config.js';
import type { FirmwareThermalLimits } from '../thermal/types.js';
import { formatDuration } from '../util/duration.js';
import { nextSlot } from './schedule.js';
import { type ThermalCycleSummary, trackCycleThermal } from './thermal.js';

/** Polls one miner; throws MinerError when it cannot be read. */
export type FetchSnapshot = (target: Target) => Promise<Snapshot>;

/** Runs `fetch` over all targets, `concurrency` at a time; yields each outcome as it completes. */
export type PollAll = (fetch: (target: Target) => Promise<MinerOutcome>) => AsyncIterable<MinerOutcome>;

export interface CycleReport extends CycleSummary {
  startedAt: number;
  /** Polling and storing the cycle; the hourly maintenance after it is `maintenanceMs`. */
  durationMs: number;
  /**
   * The retention and rollups run after the stored cycle (about 0 when none was due): after an upgrade with a
   * backlog the first pass took 6 s of a cycle whose polls took 1 s, and the run line said "in 7s".
   */
  maintenanceMs: number;
  /** Failed miners by error kind, e.g. { timeout: 2, refused: 1 }. */
  failedByKind: Record<string, number>;
  maintenance: MaintenanceResult | null;
  /** Miners by thermal status and the events recorded (null when thermal tracking is off). */
  thermal: ThermalCycleSummary | null;
}

export interface CollectLoopOptions {
  site: string;
  /** null: one cycle (--once). */
  intervalMs: number | null;
  retainMs: number;
  hooks?: readonly CycleHook[];
  /**
   * The config file's thermal section: when given (even empty, for the built-in limits), every
   * cycle stores each miner's thermal status with its history row and records changes of status
   * in thermal_events.
   */
  thermal?: ThermalConfig;
  /** The limits a miner's firmware reported in this cycle's replies (by target key), if any. */
  firmwareLimits?: (miner: string) => FirmwareThermalLimits | null;
}

export interface CollectLoopDeps {
  store: Store;
  pollAll: PollAll;
  fetchSnapshot: FetchSnapshot;
  now: () => number;
  /**
   * The schedule's clock (default `now`): monotonic in production, so that a wall clock stepped
   * back by an hour (NTP at boot, an operator) neither stalls the loop for that hour nor, stepped
   * forward, reports skipped slots for a cycle that took 20 ms. Timestamps stay on `now`.
   */
  monotonic?: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stop after the cycle in flight (SIGINT/SIGTERM). Polling itself is not cut short by it. */
  signal: AbortSignal;
  /**
   * Asked before each cycle: throws when this run may no longer poll, e.g. its lock file was
   * removed and another run took the lock (the loop stops with that error).
   */
  beforeCycle?: () => void;
  onCycle: (report: CycleReport) => void;
  /** Something the operator should know (skipped slots, a lost cycle); one line, no newline. */
  onNote: (message: string) => void;
  /**
   * Work after each stored cycle that must not delay the next one (the upload flush): started
   * without waiting; `nextCycleAt` (null after the last cycle) is when it should be done by. While
   * one is still running, the next cycle does not start another. The loop waits for the last one
   * before returning.
   */
  afterCycle?: (report: CycleReport, nextCycleAt: number | null) => Promise<void>;
  /** Retention and rollups after each stored cycle (tests stand in for it); default runMaintenance. */
  maintain?: typeof runMaintenance;
}

export interface CollectLoopResult {
  cycles: number;
  lastReport: CycleReport | null;
  interrupted: boolean;
  /** --interval: the last cycle could not be stored (busy database, full disk); the loop went on. */
  lastNotStored: boolean;
}

/**
 * One miner: a good snapshot or its error kind, with the time it took. Anything thrown that is not
 * a MinerError is a bug in a lower layer: it is recorded against the miner as `protocol` (one
 * miner's odd reply must not cost the whole farm its cycle) and handed to `onBug` to be reported.
 */
export async function pollOne(
  target: Target,
  fetch: FetchSnapshot,
  now: () => number,
  onBug: (error: unknown) => void = () => {},
): Promise<MinerOutcome> {
  const started = now();
  try {
    const snapshotJson = JSON.stringify(await fetch(target));
    // Parsed back: a copy that shares no memory with the replies it came from. Strings the decoder
    // cut out of a reply are slices that keep the whole reply text alive (V8 sliced strings), so a
    // farm of 10,000 snapshots held until the cycle's transaction would keep every reply too. The
    // JSON (one flat string) goes to the store as is, so it is not serialized a second time.
    const snapshot = JSON.parse(snapshotJson) as Snapshot;
    return { target, ok: true, snapshot, snapshotJson, elapsedMs: now() - started };
  } catch (error) {
    if (!(error instanceof MinerError)) onBug(error);
    const kind = error instanceof MinerError ? error.kind : 'protocol';
    // Stored, exported and uploaded: a STATUS Msg's escape sequences in their visible form, as
    // the snapshot's own strings are.
    const message = terminalSafe(errorMessage(error), true);
    return { target, ok: false, error: { kind, message }, elapsedMs: now() - started };
  }
}

export async function runCycle(options: CollectLoopOptions, deps: CollectLoopDeps): Promise<CycleReport> {
  const startedAt = deps.now();
  // How long things took, on the schedule's (monotonic) clock: the wall clock stepped by NTP during
  // the polls made a 700 ms cycle "-3599300ms" and stored each miner's elapsed_ms as an hour, or
  // below zero. Timestamps stay on the wall clock.
  const clock = deps.monotonic ?? deps.now;
  const began = clock();
  const outcomes: MinerOutcome[] = [];
  const bugs: unknown[] = [];
  const onBug = (error: unknown) => bugs.push(error);
  for await (const outcome of deps.pollAll((target) => pollOne(target, deps.fetchSnapshot, clock, onBug))) {
    outcomes.push(outcome);
  }
  if (bugs.length > 0) {
    deps.onNote(
      `internal error polling ${bugs.length} miner${bugs.length === 1 ? '' : 's'} (recorded as protocol errors; please report): ${errorMessage(bugs[0])}`,
    );
  }
  // Stable order (by target) so the rows of a cycle are written the same way every time.
  outcomes.sort((a, b) => (a.target.key < b.target.key ? -1 : a.target.key > b.target.key ? 1 : 0));
  const input = { site: options.site, startedAt, endedAt: deps.now(), outcomes };
  // The file replaced or deleted under a long-running loop: say so, instead of writing on into an
  // orphaned file that nothing will ever read.
  deps.store.assertStillAt();
  const write = (cycle: CycleInput, hooks: readonly CycleHook[]) =>
    writeCycle(deps.store, cycle, hooks.length > 0 ? { extraInTransaction: hooks } : {});
  const thermalConfig = options.thermal;
  // With thermal tracking: one transaction around the memory read and the cycle's write
  // (writeCycle joins it: Store.transaction opens no savepoint inside another transaction), so a
  // `thermal check --db` running meanwhile cannot record the same change twice.
  const { summary, thermal } = thermalConfig
    ? deps.store.transaction(() => {
        const tracked = trackCycleThermal(
          deps.store,
          thermalConfig,
          options.site,
          outcomes,
          startedAt,
          options.firmwareLimits,
          deps.now(),
        );
        const hooks = [tracked.hook, ...(options.hooks ?? [])];
        return { summary: write({ ...input, outcomes: tracked.outcomes }, hooks), thermal: tracked.summary };
      })
    : { summary: write(input, options.hooks ?? []), thermal: null };
  const failedByKind: Record<string, number> = {};
  for (const outcome of outcomes) {
    if (!outcome.ok) failedByKind[outcome.error.kind] = (failedByKind[outcome.error.kind] ?? 0) + 1;
  }
  const stored = clock();
  // The cycle is stored by now: retention and rollups failing (a full disk) cost this hour's
  // maintenance, which the next cycle tries again, not the cycle or the service.
  // A stop asked meanwhile (SIGINT/SIGTERM) waits for the cycle, not for retention: up to 500,000
  // rows deleted after a lowered --retain ran past a service manager's stop timeout, and the
  // SIGKILL after it lost the exit status. The next run's first cycle does it.
  let maintenance: ReturnType<typeof runMaintenance> | null = null;
  if (!deps.signal.aborted)
    try {
      maintenance = (deps.maintain ?? runMaintenance)(deps.store, {
        now: deps.now(),
        retainMs: options.retainMs,
        site: options.site,
      });
    } catch (error) {
      if (!(error instanceof HashctlError)) throw error;
      deps.onNote(`retention and rollups not done this time (the cycle was stored): ${error.message}`);
    }
  const hold = maintenance?.ran ? maintenance.clockHold : null;
  if (hold) {
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
    deps.onNote(
      `retention held: the clock reads ${formatDuration(hold.since - hold.previous)} past the last maintenance (${day(hold.previous)} UTC), so nothing is deleted (history, upload batches) until it comes back, or until ${day(hold.until)} UTC if it is right`,
    );
  }
  const dropped = maintenance?.uploadDropped;
  if (dropped && dropped.batches > 0) {
    deps.onNote(
      `upload: dropped ${dropped.batches} batch${dropped.batches === 1 ? '' : 'es'} (${dropped.miners} miner snapshot${dropped.miners === 1 ? '' : 's'}) the collector had not taken within the ${formatDuration(options.retainMs)} retention (--retain)`,
    );
  }
  return {
    ...summary,
    startedAt,
    durationMs: stored - began,
    // Measured whether or not a pass ran: a refused one (a full disk) took its time too.
    maintenanceMs: clock() - stored,
    failedByKind,
    maintenance: maintenance?.ran ? maintenance : null,
    thermal,
  };
}

function isBusy(error: unknown): error is HashctlError {
  return error instanceof StoreError && error.retriable;
}

function isDiskFull(error: unknown): error is HashctlError {
  return error instanceof StoreError && error.details.sqlite_code === 'SQLITE_FULL';
}

/** How often a loop says again what it said already (a refused cycle, a failing retention pass). */
const NOTE_REPEAT_MS = 3_600_000;

/** --once: one cycle. --interval: cycles at anchor + k × interval until the signal. */
export async function collectLoop(
  options: CollectLoopOptions,
  deps: CollectLoopDeps,
): Promise<CollectLoopResult> {
  const result: CollectLoopResult = { cycles: 0, lastReport: null, interrupted: false, lastNotStored: false };
  if (deps.signal.aborted) return { ...result, interrupted: true };
  const clock = deps.monotonic ?? deps.now;
  const anchor = clock();
  let slot = 0;
  let background: Promise<void> | null = null;
  // Cycles refused in a row for the same reason: said once (and again each hour it lasts), not
  // once a cycle; a 1s loop on a full disk wrote 3,600 identical lines an hour to the journal.
  const outage: { refused: { message: string; count: number; saidAt: number } | null } = { refused: null };
  // The cycle's own notes, likewise: a retention pass a full disk refuses is retried (and refused)
  // every cycle; the same line is said again after an hour, not every second.
  const said = new Map<string, number>();
  // Cycles overrunning the interval in a row: said when it starts, once an hour while it lasts and
  // when a cycle fits again. A farm that takes 16 s to poll at --interval 1s (a few hung miners at
  // the default timeout) wrote the same warning after every cycle, 225 lines an hour, for ever.
  let overrun: { count: number; skipped: number; saidAt: number } | null = null;
  const cycleDeps: CollectLoopDeps = {
    ...deps,
    onNote: (message) => {
      const at = clock();
      const before = said.get(message);
      if (before !== undefined && at - before < NOTE_REPEAT_MS) return;
      said.set(message, at);
      deps.onNote(message);
    },
  };
  try {
    for (;;) {
      let report: CycleReport | null = null;
      const cycleStart = clock();
      try {
        for (const [message, at] of said) if (cycleStart - at >= NOTE_REPEAT_MS) said.delete(message);
        deps.beforeCycle?.();
        report = await runCycle(options, cycleDeps);
        result.cycles++;
        result.lastReport = report;
        result.lastNotStored = false;
        const refused = outage.refused;
        if (refused) {
          deps.onNote(
            `cycles stored again (${refused.count} before this one ${refused.count === 1 ? 'was' : 'were'} not)`,
          );
          outage.refused = null;
        }
        deps.onCycle(report);
      } catch (error) {
        // In a loop, a database that stayed busy (another writer) or a disk that filled up costs
        // this cycle, not the service: the next one is stored once the space is back.
        if (options.intervalMs === null || !(isBusy(error) || isDiskFull(error))) throw error;
        result.lastNotStored = true;
        const at = clock();
        const refused = outage.refused;
        if (refused?.message === error.message) {
          refused.count++;
          if (at - refused.saidAt >= NOTE_REPEAT_MS) {
            refused.saidAt = at;
            deps.onNote(`still not storing cycles (${refused.count} in a row): ${error.message}`);
          }
        } else {
          outage.refused = { message: error.message, count: 1, saidAt: at };
          deps.onNote(
            `cycle not stored (the next ones try again; said again once an hour while it lasts): ${error.message}`,
          );
        }
      }
      const last = options.intervalMs === null || deps.signal.aborted;
      const cycleEnd = clock();
      const next = last ? null : nextSlot(anchor, options.intervalMs!, slot, cycleEnd);
      if (report && deps.afterCycle && background === null) {
        // The next start on the wall clock, which the background work reads its time from.
        const nextAt = next === null ? null : deps.now() + (next.at - clock());
        // Caught here: a failure of the background work must never become an unhandled rejection.
        background = deps
          .afterCycle(report, nextAt)
          .catch((error: unknown) => deps.onNote(`after-cycle work failed: ${errorMessage(error)}`))
          .finally(() => {
            background = null;
          });
      }
      if (next === null) break;
      const interval = `${options.intervalMs! / 1000}s interval`;
      const slots = (n: number) => `${n} slot${n === 1 ? '' : 's'}`;
      // The hourly maintenance is no overrun: the cycle fit, and the next hour's pass is short.
      const maintenanceMs = report?.maintenanceMs ?? 0;
      const overran = next.skipped > 0 && cycleEnd - cycleStart - maintenanceMs > options.intervalMs!;
      if (overran) {
        if (overrun === null) {
          overrun = { count: 1, skipped: next.skipped, saidAt: cycleEnd };
          deps.onNote(`the cycle took longer than the ${interval}: skipped ${slots(next.skipped)}`);
        } else {
          overrun.count++;
          overrun.skipped += next.skipped;
          if (cycleEnd - overrun.saidAt >= NOTE_REPEAT_MS) {
            overrun.saidAt = cycleEnd;
            deps.onNote(
              `cycles still take longer than the ${interval} (${overrun.count} in a row, ${slots(overrun.skipped)} skipped; said again once an hour while it lasts)`,
            );
          }
        }
      } else if (overrun !== null && report !== null) {
        if (overrun.count > 1)
          deps.onNote(
            `cycles fit the ${interval} again, after ${overrun.count} in a row that did not (${slots(overrun.skipped)} skipped)`,
          );
        overrun = null;
      }
      if (next.skipped > 0 && !overran && maintenanceMs > 0 && cycleEnd - cycleStart > options.intervalMs!) {
        deps.onNote(
          `retention and hourly rollups took ${formatDuration(maintenanceMs)} after the cycle (${formatDuration(report!.durationMs)}): skipped ${slots(next.skipped)}`,
        );
      } else if (next.skipped > 0 && !overran) {
        // A short cycle that started late: the process was not running (SIGSTOP, a suspended host
        // or VM), and blaming the cycle would send the operator after slow miners.
        const late = cycleStart - (anchor + slot * options.intervalMs!);
        deps.onNote(
          `collect did not run for ${formatDuration(late)} (stopped, or the host suspended): skipped ${slots(next.skipped)} rather than catching up`,
        );
      }
      slot = next.slot;
      await deps.sleep(Math.max(0, next.at - clock()), deps.signal);
      if (deps.signal.aborted) break;
    }
  } finally {
    if (background) await background;
  }
  return result;
}
