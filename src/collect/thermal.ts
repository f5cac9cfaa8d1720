// The thermal status of every collection cycle: each miner is evaluated against its limits with the
// hysteresis memory `thermal check --db` also keeps (thermal_state), its status goes into the
// history row, and each change of status becomes one thermal_events row, in the cycle's transaction.
// So cron's `collect` alone records thermal events, and a sensor hovering at a limit does not flap.

import type { Snapshot } from '../miners/types.js';
import { commandLogStatements } from '../store/command-log.js';
import type { CycleHook, MinerOutcome, Store } from '../store/index.js';
import { minerStatements } from '../store/miners.js';
import { runStatements } from '../store/runs.js';
import { thermalStatements } from '../store/thermal.js';
import type { Db } from '../store/types.js';
import { targetKey } from '../targets/types.js';
import type { ThermalConfig } from '../thermal/config.js';
import { isIdle } from '../thermal/evaluate.js';
import {
  nextThermalState,
  type ThermalMemory,
  type ThermalStep,
  trackThermal,
} from '../thermal/hysteresis.js';
import { limitsFor } from '../thermal/limits.js';
import { machineJson, memoryFromState } from '../thermal/memory.js';
import { pausedBy } from '../thermal/paused.js';
import type { FirmwareThermalLimits, ThermalStatus } from '../thermal/types.js';

export interface ThermalCycleSummary {
  ok: number;
  warn: number;
  critical: number;
  unknown: number;
  /** Changes of status recorded in thermal_events by this cycle. */
  events: number;
}

export interface TrackedCycle {
  /** The outcomes with `thermalStatus` set (new objects; the input is not changed). */
  outcomes: MinerOutcome[];
  /** Saves each miner's memory and its event, if any; pass it to writeCycle with these outcomes. */
  hook: CycleHook;
  summary: ThermalCycleSummary;
}

interface StateBySiteRow {
  host: string;
  port: number;
  status: ThermalStatus;
  metric: string | null;
  levels: string;
  updated_at: number;
  machine: string | null;
}

// One statement for the whole site, through the miners (site, host, port) index and the
// thermal_state primary key: no read per miner.
function memoryStatements(db: Db) {
  const bySite = db.prepare<[string], StateBySiteRow>(
    `SELECT m.host, m.port, t.status, t.metric, t.levels, t.updated_at, t.machine
     FROM sites s JOIN miners m ON m.site_id = s.id JOIN thermal_state t ON t.miner_id = m.id
     WHERE s.name = ?`,
  );
  return {
    /** Every remembered miner of the site, by target key, with when its memory was written. */
    forSite(site: string): Map<string, ThermalMemory & { updatedAt: number }> {
      const memories = new Map<string, ThermalMemory & { updatedAt: number }>();
      for (const row of bySite.all(site)) {
        let levels: Record<string, unknown> = {};
        try {
          const parsed: unknown = JSON.parse(row.levels);
          if (typeof parsed === 'object' && parsed !== null) levels = parsed as Record<string, unknown>;
        } catch {
          // A damaged row only costs the hysteresis of that miner for one cycle.
        }
        memories.set(targetKey(row.host, row.port), {
          ...memoryFromState({ ...row, levels }),
          updatedAt: row.updated_at,
        });
      }
      return memories;
    },
  };
}

function sameMemory(a: ThermalMemory, b: ThermalMemory): boolean {
  if (a.status !== b.status || a.metric !== b.metric) return false;
  const am = a.machine ?? null;
  const bm = b.machine ?? null;
  if (
    am === null || bm === null
      ? am !== bm
      : am.make !== bm.make || am.model !== bm.model || am.algorithm !== bm.algorithm
  )
    return false;
  const keys = Object.keys(a.levels) as (keyof ThermalMemory['levels'])[];
  if (keys.length !== Object.keys(b.levels).length) return false;
  return keys.every((metric) => a.levels[metric] === b.levels[metric]);
}

/**
 * Evaluates one cycle. Call it inside the transaction that then writes the cycle (the memory read
 * here and the memory saved by the hook must not interleave with another writer's). `at` is the
 * cycle's start: the time of its history rows, its events and the memory.
 */
export function trackCycleThermal(
  store: Store,
  config: ThermalConfig,
  site: string,
  outcomes: readonly MinerOutcome[],
  at: number,
  /** The limits a miner's firmware reported this cycle (Braiins OS / LuxOS tempctrl, Avalon TarT). */
  firmwareLimits: (miner: string) => FirmwareThermalLimits | null = () => null,
  /** The wall clock now, read inside the transaction: no reading stored before it is stamped later. */
  readAt: number = Number.POSITIVE_INFINITY,
): TrackedCycle {
  const memories = store.prepared(memoryStatements).forSite(site);
  const shared = limitsFor(config, site);
  // As `thermal check` judges them: with the firmware's own limits where it reported some.
  const limits = (snapshot: Snapshot, miner: string) => shared(snapshot, miner, firmwareLimits(miner));
  // Only memories that changed are written: at 10,000 miners, rewriting every unchanged row each
  // cycle would cost about as much as the cycle's own live rows. So for rows collect writes,
  // thermal_state.updated_at is when the memory last changed, not when it was last evaluated.
  const steps = new Map<MinerOutcome, ThermalStep>();
  const summary: ThermalCycleSummary = { ok: 0, warn: 0, critical: 0, unknown: 0, events: 0 };
  const log = store.prepared(commandLogStatements);
  const tracked = outcomes.map((outcome) => {
    const previous = memories.get(outcome.target.key) ?? null;
    // A miner hashctl paused is idle on purpose: its boards are not dead (asked only of idle ones).
    const paused =
      outcome.ok && isIdle(outcome.snapshot) ? pausedBy(log, outcome.target.host, outcome.target.port) : null;
    const step = outcome.ok
      ? trackThermal(previous, outcome.snapshot, limits(outcome.snapshot, outcome.target.key), {
          pausedBy: paused,
        })
      : nextThermalState(previous, null, `unreachable: ${outcome.error.kind}`);
    const withStatus: MinerOutcome = { ...outcome, thermalStatus: step.memory.status };
    // A reading newer than this cycle's (`thermal check --db` committed while this cycle polled)
    // stays: this older one must not overwrite it, nor log a change dated before it. One stamped
    // after now was taken while the clock ran ahead (NTP has set it back since): kept, it froze the
    // miner's memory until the clock caught up, and a miner turning critical meanwhile was logged
    // nowhere and read 'ok' in live.
    const newer = previous !== null && previous.updatedAt > at && previous.updatedAt <= readAt;
    if (!newer && (step.transition || !previous || !sameMemory(previous, step.memory)))
      steps.set(withStatus, step);
    summary[step.memory.status]++;
    if (step.transition && !newer) summary.events++;
    return withStatus;
  });

  const hook: CycleHook = (_db, cycle) => {
    const thermal = store.prepared(thermalStatements);
    for (const { minerId, outcome } of cycle.miners) {
      const step = steps.get(outcome);
      if (!step) continue;
      thermal.saveState({
        miner_id: minerId,
        site_id: cycle.siteId,
        status: step.memory.status,
        metric: step.memory.metric,
        levels: step.memory.levels,
        since: at,
        updated_at: at,
        machine: machineJson(step.memory.machine),
      });
      const { transition } = step;
      if (!transition) continue;
      thermal.insertEvent({
        miner_id: minerId,
        site_id: cycle.siteId,
        ts: at,
        from_state: transition.from,
        to_state: transition.to,
        metric: transition.metric,
        value: transition.value,
        limit_value: transition.limit,
        detail: transition.detail,
      });
    }
  };
  return { outcomes: tracked, hook, summary };
}

/**
 * Keeps miners.firmware_limits as the last good poll found them, in the cycle's transaction, so
 * that `thermal check --from-db` judges the stored snapshots by the limits collect used. Written
 * only when they change (a farm whose firmware settings stay put writes nothing after its first
 * cycle).
 */
export function storedFirmwareLimits(
  store: Store,
  limitsOf: (miner: string) => FirmwareThermalLimits | null,
): CycleHook {
  const miners = store.prepared(minerStatements);
  const runs = store.prepared(runStatements);
  let written = miners.firmwareLimits();
  /** The cycle whose changes `written` holds without knowing whether it was committed. */
  let unconfirmed: { runId: number; siteId: number; startedAt: number } | null = null;
  return (_db, cycle) => {
    // A cycle that failed after this hook ran (a full disk at its commit) rolled its changes back,
    // while `written` kept them: they were never written again, and `thermal check --from-db`
    // judged those miners by the built-in limits for as long as the loop ran. Its run is then not
    // stored: `written` is read again from the file.
    if (
      unconfirmed !== null &&
      (unconfirmed.runId === cycle.runId ||
        !runs.isStored(unconfirmed.runId, unconfirmed.siteId, unconfirmed.startedAt))
    )
      written = miners.firmwareLimits();
    unconfirmed = null;
    for (const { minerId, outcome } of cycle.miners) {
      if (!outcome.ok) continue;
      const limits = limitsOf(outcome.target.key);
      const json = limits === null ? null : JSON.stringify(limits);
      if ((written.get(minerId) ?? null) === json) continue;
      miners.setFirmwareLimits(minerId, json);
      if (json === null) written.delete(minerId);
      else written.set(minerId, json);
      unconfirmed = { runId: cycle.runId, siteId: cycle.siteId, startedAt: cycle.startedAt };
    }
  };
}
