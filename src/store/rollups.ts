// Hourly rollups and retention: what keeps the file bounded. Raw history older than `retainMs` is
// deleted once its hours are rolled up; rollups live longer (`rollupRetainMs`). Cheap to call after
// every cycle: it does the work at most once per wall-clock hour.
import { commandLogStatements, type PruneCursor } from './command-log.js';
import { withStoreErrors } from './errors.js';
import { historyStatements } from './history.js';
import { metaStatements } from './meta.js';
import type { Store } from './open.js';
import { type DroppedBatches, dropUndeliveredBefore } from './outbox.js';
import { runStatements } from './runs.js';
import { siteStatements } from './sites.js';
import type { Db } from './types.js';

export const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
export const DEFAULT_RETAIN_MS = 30 * 24 * HOUR_MS;
export const DEFAULT_ROLLUP_RETAIN_MS = 400 * 24 * HOUR_MS;
/** Rows deleted per transaction (whole cycles, so a little more), so the collector's next write never waits long. */
const DELETE_CHUNK_ROWS = 20_000;
/**
 * Raw rows one maintenance call deletes at most (about 3 s): the rest waits for the next cycle's
 * call. Lowering --retain from 30d to 1d, or the end of a clock hold, leaves a month of a farm's
 * rows to go at once (200 M rows at 5,000 miners, 20 minutes and more), and the collector, which
 * runs maintenance between two cycles, polled nothing meanwhile.
 */
const DELETE_BUDGET_ROWS = 500_000;
/** Undelivered upload batches dropped per transaction, and per call (some 100 MB of bodies). */
const DROP_CHUNK_BATCHES = 200;
const DROP_BUDGET_BATCHES = 2_000;
/** Hours aggregated per transaction when catching up. */
const ROLLUP_CHUNK_HOURS = 6;

export interface MaintenanceOptions {
  now: number;
  /** Raw history kept (default 30 days). */
  retainMs?: number;
  /**
   * The site this run collects. Given, `retainMs` is that site's retention (remembered for it) and
   * every other site keeps the retention its own collector gave last: one database, two sites,
   * `--retain 1d` on one must not cut the other's 365 days. A site no collector has given one
   * for yet loses nothing. Without it, `retainMs` applies to every site.
   */
  site?: string;
  rollupRetainMs?: number;
  /** Run even if it already ran this hour. */
  force?: boolean;
  /** Raw rows deleted per transaction (rounded up to whole cycles); tests make it small. */
  deleteChunkRows?: number;
  /** Raw rows deleted per call, roughly (whole transactions); the next call goes on. */
  deleteBudgetRows?: number;
  /** Undelivered upload batches dropped per transaction and per call; tests make them small. */
  uploadDropChunkBatches?: number;
  uploadDropBudgetBatches?: number;
  /** command_log rows looked at per transaction and per call; tests make them small. */
  commandLogChunkRows?: number;
  commandLogBudgetRows?: number;
}

export interface MaintenanceResult {
  ran: boolean;
  hoursRolled: number;
  historyDeleted: number;
  runsDeleted: number;
  rollupsDeleted: number;
  thermalEventsDeleted: number;
  /** command_log rows past their retention (that of the rollups; see runMaintenance). */
  commandLogDeleted: number;
  /** Live rows of miners not polled within the retention. */
  minersRetired: number;
  /** Inventory rows nothing names any more (no live row, history, rollup or thermal record). */
  minersForgotten: number;
  /** Upload batches still undelivered after the retention, dropped with the history they carry. */
  uploadDropped: DroppedBatches;
  /**
   * Set while deletions are held because the clock leapt forward (see clockHold): since when,
   * from which last maintenance, and until when at the latest.
   */
  clockHold: { since: number; previous: number; until: number } | null;
  /**
   * More raw rows (or upload batches, or command_log rows) are past retention than one call
   * deletes: the next call goes on, even this hour.
   */
  unfinished: boolean;
}

export interface HourlyRow {
  hour_start: number;
  samples: number;
  ok_samples: number;
  hashrate_avg_hs: number | null;
  hashrate_min_hs: number | null;
  hashrate_max_hs: number | null;
  temp_chip_max_c: number | null;
  temp_board_max_c: number | null;
  fan_min_rpm: number | null;
  power_avg_w: number | null;
  /** Polls with each figure; the temperature and fan averages and ranges. NULL in hours rolled up before migration 9. */
  hashrate_samples: number | null;
  temp_avg_c: number | null;
  temp_min_c: number | null;
  temp_max_c: number | null;
  temp_samples: number | null;
  fan_avg_rpm: number | null;
  fan_max_rpm: number | null;
  fan_samples: number | null;
}

/** A poll's temperature as `history` charts it: the hottest chip, else the hottest board. */
const POLL_TEMP = 'coalesce(temp_chip_max_c, temp_board_max_c)';

/** Hourly rows from raw history: the statements below add which rows and what a conflict does. */
const HOURLY_FROM_HISTORY = `INSERT INTO telemetry_hourly (miner_id, hour_start, site_id, samples, ok_samples, hashrate_avg_hs,
       hashrate_min_hs, hashrate_max_hs, temp_chip_max_c, temp_board_max_c, fan_min_rpm, power_avg_w,
       hashrate_samples, temp_avg_c, temp_min_c, temp_max_c, temp_samples, fan_avg_rpm, fan_max_rpm, fan_samples,
       power_samples)
     SELECT miner_id, (ts / ${HOUR_MS}) * ${HOUR_MS}, site_id, count(*), sum(error_kind IS NULL), avg(hashrate_hs),
       min(hashrate_hs), max(hashrate_hs), max(temp_chip_max_c), max(temp_board_max_c), min(fan_min_rpm),
       avg(power_w), count(hashrate_hs), avg(${POLL_TEMP}), min(${POLL_TEMP}), max(${POLL_TEMP}),
       count(${POLL_TEMP}), avg(fan_min_rpm), max(fan_min_rpm), count(fan_min_rpm), count(power_w)
     FROM telemetry_history`;

export function rollupStatements(db: Db) {
  const rollup = db.prepare<{ site_id: number; from: number; to: number }>(
    `${HOURLY_FROM_HISTORY}
     WHERE site_id = @site_id AND ts >= @from AND ts < @to
     GROUP BY miner_id, ts / ${HOUR_MS}
     ON CONFLICT (miner_id, hour_start) DO UPDATE SET
       samples = excluded.samples, ok_samples = excluded.ok_samples, hashrate_avg_hs = excluded.hashrate_avg_hs,
       hashrate_min_hs = excluded.hashrate_min_hs, hashrate_max_hs = excluded.hashrate_max_hs,
       temp_chip_max_c = excluded.temp_chip_max_c, temp_board_max_c = excluded.temp_board_max_c,
       fan_min_rpm = excluded.fan_min_rpm, power_avg_w = excluded.power_avg_w,
       hashrate_samples = excluded.hashrate_samples, temp_avg_c = excluded.temp_avg_c,
       temp_min_c = excluded.temp_min_c, temp_max_c = excluded.temp_max_c, temp_samples = excluded.temp_samples,
       fan_avg_rpm = excluded.fan_avg_rpm, fan_max_rpm = excluded.fan_max_rpm, fan_samples = excluded.fan_samples,
       power_samples = excluded.power_samples`,
  );
  // Each side's average weighs as the polls that had the figure (not every answered poll: one that
  // gave no hashrate is no poll of the average). An hour rolled up before migration 9 has no such
  // count: its answered polls stand in, as they did.
  const stored = (column: string, samples: string) =>
    `coalesce(${samples}, CASE WHEN ${column} IS NULL THEN 0 ELSE ok_samples END)`;
  // Nulls are "not known" on either side: min(), max() of SQLite return null when one argument is.
  const weighted = (column: string, samples: string) => `CASE WHEN ${column} IS NULL THEN excluded.${column}
       WHEN excluded.${column} IS NULL THEN ${column}
       ELSE (${column} * ${stored(column, samples)} + excluded.${column} * excluded.${samples})
         / max(${stored(column, samples)} + excluded.${samples}, 1) END`;
  const either = (fn: 'min' | 'max', column: string) =>
    `coalesce(${fn}(${column}, excluded.${column}), ${column}, excluded.${column})`;
  // The temperature and fan averages and ranges of an hour rolled up before migration 9 are not
  // known (its rollup kept the peaks only): they stay NULL rather than become the added polls' alone.
  const known = (samples: string, merged: string) =>
    `CASE WHEN ${samples} IS NULL THEN NULL ELSE ${merged} END`;
  const addCycle = db.prepare<{ site_id: number; ts: number; run_id: number }>(
    `${HOURLY_FROM_HISTORY}
     WHERE site_id = @site_id AND ts = @ts AND run_id = @run_id
     GROUP BY miner_id
     ON CONFLICT (miner_id, hour_start) DO UPDATE SET
       samples = samples + excluded.samples, ok_samples = ok_samples + excluded.ok_samples,
       hashrate_avg_hs = ${weighted('hashrate_avg_hs', 'hashrate_samples')},
       hashrate_min_hs = ${either('min', 'hashrate_min_hs')}, hashrate_max_hs = ${either('max', 'hashrate_max_hs')},
       temp_chip_max_c = ${either('max', 'temp_chip_max_c')}, temp_board_max_c = ${either('max', 'temp_board_max_c')},
       fan_min_rpm = ${either('min', 'fan_min_rpm')}, power_avg_w = ${weighted('power_avg_w', 'power_samples')},
       hashrate_samples = ${stored('hashrate_avg_hs', 'hashrate_samples')} + excluded.hashrate_samples,
       power_samples = ${stored('power_avg_w', 'power_samples')} + excluded.power_samples,
       temp_avg_c = ${known('temp_samples', weighted('temp_avg_c', 'temp_samples'))},
       temp_min_c = ${known('temp_samples', either('min', 'temp_min_c'))},
       temp_max_c = ${known('temp_samples', either('max', 'temp_max_c'))},
       temp_samples = ${known('temp_samples', 'temp_samples + excluded.temp_samples')},
       fan_avg_rpm = ${known('fan_samples', weighted('fan_avg_rpm', 'fan_samples'))},
       fan_max_rpm = ${known('fan_samples', either('max', 'fan_max_rpm'))},
       fan_samples = ${known('fan_samples', 'fan_samples + excluded.fan_samples')}`,
  );
  const oldestForSite = db.prepare<[number], { ts: number | null }>(
    'SELECT min(ts) AS ts FROM telemetry_history WHERE site_id = ?',
  );
  const firstFrom = db.prepare<[number, number], { ts: number | null }>(
    'SELECT min(ts) AS ts FROM telemetry_history WHERE site_id = ? AND ts >= ?',
  );
  const deleteRollups = db.prepare<[number, number]>(
    'DELETE FROM telemetry_hourly WHERE site_id = ? AND hour_start < ?',
  );
  const deleteThermalEvents = db.prepare<[number, number]>(
    'DELETE FROM thermal_events WHERE site_id = ? AND ts < ?',
  );
  // A miner the site's collector has not polled within its retention (taken out of the targets,
  // or its site renamed): its raw history is gone, and so goes its live row (live listed it as
  // stale for ever, a thousand miners churned through the targets made `live` a thousand rows).
  const retireThermal = db.prepare<[number, number]>(
    `DELETE FROM thermal_state WHERE miner_id IN
       (SELECT miner_id FROM telemetry_live WHERE site_id = ? AND collected_at < ?)`,
  );
  const retireLive = db.prepare<[number, number]>(
    'DELETE FROM telemetry_live WHERE site_id = ? AND collected_at < ?',
  );
  // The inventory row goes once nothing names the miner any more (its last rollup, its last event).
  const forgetMiners = db.prepare<[number]>(
    `DELETE FROM miners WHERE site_id = ?
       AND NOT EXISTS (SELECT 1 FROM telemetry_live l WHERE l.miner_id = miners.id)
       AND NOT EXISTS (SELECT 1 FROM telemetry_history h WHERE h.miner_id = miners.id)
       AND NOT EXISTS (SELECT 1 FROM telemetry_hourly r WHERE r.miner_id = miners.id)
       AND NOT EXISTS (SELECT 1 FROM thermal_state t WHERE t.miner_id = miners.id)
       AND NOT EXISTS (SELECT 1 FROM thermal_events e WHERE e.miner_id = miners.id)`,
  );
  // A change of algorithm labels the miner's rows of earlier runs (export): once none of the site's
  // runs before it is left, nothing needs it. Those of miners no longer in the inventory go too.
  // A change from an algorithm the miner does not hash now (the live one, or the last read before
  // an 'unknown'; another machine hashed it: not a flap to 'unknown' and back) stays while an hourly rollup before it is left: `history` charts only
  // the machine there now, and rollups carry no run id to tell the machines apart.
  const deleteAlgorithmChanges = db.prepare<{ site_id: number }>(
    `DELETE FROM telemetry_algorithm_changes AS c
      WHERE (miner_id IN (SELECT id FROM miners WHERE site_id = @site_id)
          AND run_id <= coalesce((SELECT min(id) FROM collection_runs WHERE site_id = @site_id), run_id)
          AND NOT (c.algorithm_before <> 'unknown'
            AND c.algorithm_before IS NOT coalesce(
              (SELECT nullif(l.algorithm, 'unknown') FROM telemetry_live l WHERE l.miner_id = c.miner_id),
              (SELECT d.algorithm_before FROM telemetry_algorithm_changes d
                WHERE d.miner_id = c.miner_id AND d.algorithm_before <> 'unknown' ORDER BY d.run_id DESC LIMIT 1))
            AND EXISTS (SELECT 1 FROM telemetry_hourly h WHERE h.miner_id = c.miner_id AND h.hour_start < c.at)))
         OR miner_id NOT IN (SELECT id FROM miners)`,
  );
  const firstSiteHour = db.prepare<[number, number, number], { hour: number | null }>(
    'SELECT min(hour_start) AS hour FROM telemetry_hourly WHERE site_id = ? AND hour_start >= ? AND hour_start < ?',
  );
  const forMiner = db.prepare<[number, number, number], HourlyRow>(
    `SELECT hour_start, samples, ok_samples, hashrate_avg_hs, hashrate_min_hs, hashrate_max_hs, temp_chip_max_c,
       temp_board_max_c, fan_min_rpm, power_avg_w, hashrate_samples, temp_avg_c, temp_min_c, temp_max_c,
       temp_samples, fan_avg_rpm, fan_max_rpm, fan_samples
     FROM telemetry_hourly WHERE miner_id = ? AND hour_start >= ? AND hour_start < ? ORDER BY hour_start`,
  );
  return {
    rollup(siteId: number, from: number, to: number): number {
      return rollup.run({ site_id: siteId, from, to }).changes;
    },
    /** Adds one cycle's history rows (all stamped `ts`) into their hour's rollups. */
    addCycle(siteId: number, ts: number, runId: number): number {
      return addCycle.run({ site_id: siteId, ts, run_id: runId }).changes;
    },
    oldestHistoryTs(siteId: number): number | null {
      return oldestForSite.get(siteId)?.ts ?? null;
    },
    /** The ts of the site's first raw row stamped at or after `from` (null: none). */
    firstHistoryTsFrom(siteId: number, from: number): number | null {
      return firstFrom.get(siteId, from)?.ts ?? null;
    },
    deleteBefore(siteId: number, cutoff: number): number {
      return deleteRollups.run(siteId, cutoff).changes;
    },
    deleteThermalEventsBefore(siteId: number, cutoff: number): number {
      return deleteThermalEvents.run(siteId, cutoff).changes;
    },
    /** Live rows (and thermal memory) of the site's miners last polled before `cutoff`. */
    retireUnpolled(siteId: number, cutoff: number): number {
      retireThermal.run(siteId, cutoff);
      return retireLive.run(siteId, cutoff).changes;
    },
    /** Changes of algorithm no stored row of the site was polled before (see migration 0011). */
    deleteAlgorithmChanges(siteId: number): number {
      return deleteAlgorithmChanges.run({ site_id: siteId }).changes;
    },
    /** Inventory rows of the site that no table names any more. */
    forgetMiners(siteId: number): number {
      return forgetMiners.run(siteId).changes;
    },
    /** The first hour in [from, to) the site has a rollup for (null: none). */
    firstSiteHour(siteId: number, from: number, to: number): number | null {
      return firstSiteHour.get(siteId, from, to)?.hour ?? null;
    },
    /** Rollups of one miner in [from, to). */
    forMiner(minerId: number, from: number, to: number): HourlyRow[] {
      return forMiner.all(minerId, from, to);
    },
  };
}

export function floorHour(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

const rolledKey = (siteId: number) => `rollup_through:${siteId}`;
/** Raw history of the site before this ts was deleted by retention (rolled up first). */
const deletedKey = (siteId: number) => `history_deleted_before:${siteId}`;

/**
 * Before when retention has deleted the site's raw history (null: never): every hour that starts
 * before it is whole in its rollup only, with the rows a clock set back stamped into it since, and
 * what is left of the hour a deletion stopped in.
 */
export function historyDeletedBefore(store: Store, siteId: number): number | null {
  return store.prepared(metaStatements).getNumber(deletedKey(siteId));
}

/**
 * A cycle stored in an hour already rolled up (the clock ran ahead and came back, or was set
 * back): its rows must reach the hour's rollup before retention deletes them. Called in the
 * cycle's transaction, after its history rows are written.
 * - An hour whose raw rows are all still there is rolled up again from them.
 * - An hour retention has deleted raw rows from cannot be: its rollup stands for polls no longer
 *   in the file, and recomputing it from what is left replaced three polls by one (`--retain 1h`
 *   and a clock set back two hours). The cycle's rows are added into that rollup instead.
 */
export function cycleInRolledHour(store: Store, siteId: number, runId: number, startedAt: number): void {
  const meta = store.prepared(metaStatements);
  const rolled = meta.getNumber(rolledKey(siteId));
  if (rolled === null || startedAt >= rolled) return;
  const hour = floorHour(startedAt);
  const deletedBefore = meta.getNumber(deletedKey(siteId));
  if (deletedBefore !== null && hour < deletedBefore)
    store.prepared(rollupStatements).addCycle(siteId, startedAt, runId);
  else meta.set(rolledKey(siteId), hour);
}
const MAINTENANCE_HOUR_KEY = 'maintenance_hour';
/** Where an unfinished command_log pruning goes on (JSON {ts, id}; '' when none). */
const COMMAND_LOG_CURSOR_KEY = 'command_log_prune_cursor';
/**
 * The latest hour maintenance ever ran in. A leap is measured from it, not from the last run: one
 * cycle of a host that booted with 1970 on its clock must not make the true time, when NTP sets it
 * an hour later, look like a leap of 55 years (and hold every deletion for a whole retention).
 */
const MAINTENANCE_LATEST_KEY = 'maintenance_latest_hour';
const CLOCK_HOLD_KEY = 'clock_hold';

/** A gap between two maintenance runs this large is read as the clock leaping, not as downtime. */
export function clockLeapMs(retainMs: number): number {
  return Math.max(DAY_MS, retainMs / 4);
}

/**
 * Whether this run must delete nothing because the wall clock leapt forward: a host whose clock
 * runs weeks ahead for one cycle (no RTC battery, a bad NTP answer) would otherwise cut retention
 * at "now − 30 days" and drop every undelivered upload batch and the raw history for good. The
 * hold starts when maintenance last ran more than clockLeapMs ago, and ends when the clock comes
 * back below the leap (it was wrong) or when a whole retention has passed since it (it was right:
 * the host was down that long, and the file has grown by one retention at most meanwhile).
 */
function clockHold(
  meta: ReturnType<typeof metaStatements>,
  now: number,
  retainMs: number,
): MaintenanceResult['clockHold'] {
  const held = meta.get(CLOCK_HOLD_KEY);
  if (held) {
    const [since, previous] = held.split(',').map(Number) as [number, number];
    if (
      Number.isFinite(since) &&
      Number.isFinite(previous) &&
      now >= since - HOUR_MS &&
      now - since < retainMs
    )
      return { since, previous, until: since + retainMs };
    meta.set(CLOCK_HOLD_KEY, ''); // over: deletions resume from this run on
  }
  const previous = meta.getNumber(MAINTENANCE_LATEST_KEY) ?? meta.getNumber(MAINTENANCE_HOUR_KEY);
  if (previous === null || now - previous <= clockLeapMs(retainMs)) return null;
  meta.set(CLOCK_HOLD_KEY, `${now},${previous}`);
  return { since: now, previous, until: now + retainMs };
}

/** The retention the site's own collector asked for last, in ms. */
const retainKey = (siteId: number) => `retain_ms:${siteId}`;

/**
 * Whether a collector ever stored into the site, for a reader that finds no live row of it: either
 * retention retired them (it deletes the site's runs, raw history and live rows, its rollups a
 * year on, never the --retain each collect run remembers for its site), or nothing was collected
 * yet (the site row came from `thermal check --db`, which writes thermal state and no telemetry).
 */
export function collectedStatements(db: Db) {
  const everCollected = db.prepare<{ site_id: number; retain_key: string }, number>(
    `SELECT EXISTS (SELECT 1 FROM store_meta WHERE key = @retain_key)
         OR EXISTS (SELECT 1 FROM collection_runs WHERE site_id = @site_id)
         OR EXISTS (SELECT 1 FROM telemetry_hourly WHERE site_id = @site_id)
         OR EXISTS (SELECT 1 FROM telemetry_history WHERE site_id = @site_id)`,
  );
  return {
    everCollected(siteId: number): boolean {
      return everCollected.pluck().get({ site_id: siteId, retain_key: retainKey(siteId) }) === 1;
    },
  };
}

export function runMaintenance(store: Store, options: MaintenanceOptions): MaintenanceResult {
  const result: MaintenanceResult = {
    ran: false,
    hoursRolled: 0,
    historyDeleted: 0,
    runsDeleted: 0,
    rollupsDeleted: 0,
    thermalEventsDeleted: 0,
    commandLogDeleted: 0,
    minersRetired: 0,
    minersForgotten: 0,
    uploadDropped: { batches: 0, miners: 0 },
    clockHold: null,
    unfinished: false,
  };
  const budget = options.deleteBudgetRows ?? DELETE_BUDGET_ROWS;
  const meta = store.prepared(metaStatements);
  const retainMs = options.retainMs ?? DEFAULT_RETAIN_MS;
  // Remembered on every call (a write only when it changes): maintenance runs once an hour for the
  // whole file, maybe always in another site's run.
  const ownSite = options.site === undefined ? null : store.prepared(siteStatements).find(options.site);
  if (ownSite && meta.getNumber(retainKey(ownSite.id)) !== retainMs)
    store.transaction(() => meta.set(retainKey(ownSite.id), retainMs));
  const currentHour = floorHour(options.now);
  if (!options.force && meta.getNumber(MAINTENANCE_HOUR_KEY) === currentHour) return result;
  result.ran = true;
  result.clockHold = store.transaction(() => clockHold(meta, options.now, retainMs));
  // Undelivered batches past retention, a chunk per transaction and a budget per call (shared by
  // every site): each body is read to free it, and weeks of them (a --retain lowered, a clock hold
  // ended) in one go held the file for minutes between two cycles.
  const dropChunk = Math.max(1, options.uploadDropChunkBatches ?? DROP_CHUNK_BATCHES);
  const dropBudget = options.uploadDropBudgetBatches ?? DROP_BUDGET_BATCHES;
  const dropUndelivered = (before: number, which: Parameters<typeof dropUndeliveredBefore>[2]) => {
    for (;;) {
      const room = dropBudget - result.uploadDropped.batches;
      if (room <= 0) {
        // Whether any is left is the next call's question; it runs next cycle (unfinished).
        result.unfinished = true;
        return;
      }
      const limit = Math.min(dropChunk, room);
      const dropped = store.transaction(() => dropUndeliveredBefore(store.db, before, which, limit));
      result.uploadDropped.batches += dropped.batches;
      result.uploadDropped.miners += dropped.miners;
      if (dropped.batches < limit) return;
    }
  };
  const rollups = store.prepared(rollupStatements);
  const history = store.prepared(historyStatements);
  const runs = store.prepared(runStatements);
  // command_log (the audit trail of control and thermal protection) has no site: it is kept as long
  // as the longest-kept rollups of any site, so every hour `history` can still show has the commands
  // that explain it.
  let commandLogRetainMs = Math.max(options.rollupRetainMs ?? DEFAULT_ROLLUP_RETAIN_MS, retainMs);
  for (const site of store.prepared(siteStatements).list()) {
    // 1. Roll up every whole hour not rolled yet (the current hour is still being written).
    let rolledThrough = meta.getNumber(rolledKey(site.id));
    if (rolledThrough === null) {
      const oldest = rollups.oldestHistoryTs(site.id);
      rolledThrough = oldest === null ? currentHour : floorHour(oldest);
    }
    while (rolledThrough < currentHour) {
      // Hours with no raw row have nothing to roll up: skipped in one step. A cycle stamped 1970
      // (a host booted without RTC or NTP) moved the marker back to it, and the next pass walked
      // the 480,000 empty hours since in 6-hour transactions (80,000, seconds between two cycles).
      const next = rollups.firstHistoryTsFrom(site.id, rolledThrough);
      if (next === null || next >= currentHour) {
        rolledThrough = currentHour;
        break;
      }
      rolledThrough = Math.max(rolledThrough, floorHour(next));
      const to = Math.min(currentHour, rolledThrough + ROLLUP_CHUNK_HOURS * HOUR_MS);
      const from = rolledThrough;
      store.transaction(() => {
        rollups.rollup(site.id, from, to);
        meta.set(rolledKey(site.id), to);
      });
      result.hoursRolled += (to - from) / HOUR_MS;
      rolledThrough = to;
    }
    store.transaction(() => meta.set(rolledKey(site.id), rolledThrough));
    if (result.clockHold) continue; // rolled up, but nothing deleted while the clock is in doubt
    const siteRetainMs =
      options.site === undefined || site.id === ownSite?.id ? retainMs : meta.getNumber(retainKey(site.id));
    if (siteRetainMs === null) continue;
    // 2. Delete raw rows past retention, never before they were rolled up; whole cycles at a time,
    // each with its collection_runs row in the same transaction, so that a kill between two
    // chunks leaves only whole cycles (every row of a cycle carries the cycle's start as ts).
    // Whole hours only: an hour cut into kept its rollup and some raw rows, and `history`, which
    // shows an hour as raw rows or as its rollup, lost the polls deleted from it (its peak too).
    const cutoff = Math.min(floorHour(options.now - siteRetainMs), rolledThrough);
    for (;;) {
      const oldest = rollups.oldestHistoryTs(site.id);
      if (oldest === null || oldest >= cutoff) break;
      if (result.historyDeleted >= budget) {
        result.unfinished = true;
        break;
      }
      // Up to the cycle the chunk ends in, exclusive; at least the oldest cycle, however large.
      const bound = Math.max(
        history.nthTsBefore(site.id, cutoff, options.deleteChunkRows ?? DELETE_CHUNK_ROWS) ?? cutoff,
        oldest + 1,
      );
      store.transaction(() => {
        result.historyDeleted += history.deleteBefore(site.id, bound);
        result.runsDeleted += runs.deleteBefore(site.id, bound);
        if (bound > (meta.getNumber(deletedKey(site.id)) ?? Number.NEGATIVE_INFINITY))
          meta.set(deletedKey(site.id), bound);
      });
    }
    // Runs that stored no rows (none of their miners polled) go too; not while rows of older
    // cycles wait for the next call (each cycle goes with its run).
    if (!result.unfinished) result.runsDeleted += store.transaction(() => runs.deleteBefore(site.id, cutoff));
    result.minersRetired += store.transaction(() =>
      rollups.retireUnpolled(site.id, options.now - siteRetainMs),
    );
    const rollupRetainMs = Math.max(options.rollupRetainMs ?? DEFAULT_ROLLUP_RETAIN_MS, siteRetainMs);
    commandLogRetainMs = Math.max(commandLogRetainMs, rollupRetainMs);
    result.rollupsDeleted += store.transaction(() =>
      rollups.deleteBefore(site.id, options.now - rollupRetainMs),
    );
    // Thermal status changes go with the rollups of their hours: a miner that misses a poll now and
    // then logs two (ok → unknown → ok) each time, and nothing else ever deletes them.
    result.thermalEventsDeleted += store.transaction(() =>
      rollups.deleteThermalEventsBefore(site.id, options.now - rollupRetainMs),
    );
    result.minersForgotten += store.transaction(() => rollups.forgetMiners(site.id));
    store.transaction(() => rollups.deleteAlgorithmChanges(site.id));
    // 3. Upload batches the collector has not taken within the retention: their history is gone
    // from the file by now, and a collector that never comes back must not grow it without bound.
    if (options.site !== undefined) dropUndelivered(options.now - siteRetainMs, { name: site.name });
  }
  if (!result.clockHold) {
    // 4. The command log, in chunks, keeping each miner's newest pause/resume (and newest of each
    // action): a miner paused long ago and never resumed still reads as paused.
    const saved = meta.get(COMMAND_LOG_CURSOR_KEY);
    const from = saved ? (JSON.parse(saved) as PruneCursor) : null;
    const pruned = store
      .prepared(commandLogStatements)
      .pruneBefore(
        options.now - commandLogRetainMs,
        (fn) => store.transaction(fn),
        options.commandLogChunkRows,
        options.commandLogBudgetRows,
        from,
      );
    result.commandLogDeleted = pruned.deleted;
    if (pruned.next) result.unfinished = true;
    if (pruned.next || saved)
      store.transaction(() =>
        meta.set(COMMAND_LOG_CURSOR_KEY, pruned.next ? JSON.stringify(pruned.next) : ''),
      );
    // Every site at once, or (per site above) those of no stored site, at this run's retention.
    dropUndelivered(options.now - retainMs, options.site === undefined ? null : 'orphans');
  }
  store.transaction(() => {
    // Unfinished: not marked done for this hour, so the next cycle's call goes on deleting.
    if (!result.unfinished) meta.set(MAINTENANCE_HOUR_KEY, currentHour);
    const latest = meta.getNumber(MAINTENANCE_LATEST_KEY) ?? Number.NEGATIVE_INFINITY;
    if (currentHour > latest) meta.set(MAINTENANCE_LATEST_KEY, currentHour);
  });
  // Keeps the planner's statistics in step with a growing file (bounded work since SQLite 3.46).
  withStoreErrors(store.path, () => store.db.pragma('optimize'));
  return result;
}
