// The hysteresis memory kept in the store: thermal_state per miner, thermal_events per change.
// Live targets that the store has not seen yet get a miners row in the --site (or default) site;
// with no site named, one the store holds in a single site is that row (withStoredSite).

import { minerStatements } from '../store/miners.js';
import type { Store } from '../store/open.js';
import { DEFAULT_SITE, siteStatements } from '../store/sites.js';
import { thermalStatements } from '../store/thermal.js';
import type { CheckSource, ThermalMemoryStore } from './check.js';
import type { Machine, ThermalMemory, ThermalTransition } from './hysteresis.js';
import { METRICS, type Metric, type ThermalLevel, type ThermalStatus } from './types.js';

const LEVELS: readonly string[] = ['ok', 'warn', 'critical'];

/** A thermal_state row as memory; metrics or levels this version does not know are dropped. */
export function memoryFromState(row: {
  status: ThermalStatus;
  metric: string | null;
  levels: Record<string, unknown>;
  machine?: string | null;
}): ThermalMemory {
  const levels: ThermalMemory['levels'] = {};
  for (const [metric, level] of Object.entries(row.levels)) {
    if (
      (METRICS as readonly string[]).includes(metric) &&
      typeof level === 'string' &&
      LEVELS.includes(level)
    )
      levels[metric as Metric] = level as ThermalLevel;
  }
  const metric =
    row.metric !== null && (METRICS as readonly string[]).includes(row.metric)
      ? (row.metric as Metric)
      : null;
  return { status: row.status, levels, metric, machine: parseMachine(row.machine ?? null) };
}

/** thermal_state.machine (JSON) as a Machine; null when absent or damaged. */
export function parseMachine(text: string | null): Machine | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return null;
    const record = value as Record<string, unknown>;
    const field = (key: string) => (typeof record[key] === 'string' ? (record[key] as string) : null);
    return { make: field('make'), model: field('model'), algorithm: field('algorithm') };
  } catch {
    return null;
  }
}

/** A Machine as thermal_state.machine stores it. */
export function machineJson(machine: Machine | null | undefined): string | null {
  return machine
    ? JSON.stringify({ make: machine.make, model: machine.model, algorithm: machine.algorithm })
    : null;
}

/**
 * A live target read with no site named (no --site, no `site` in the config), as the store has it
 * when it holds that miner in exactly one site (collect's, under its --site): judged with that site's
 * config limits and remembered in its row, as collect judges and remembers it. Put in the default
 * site instead, a `thermal check --db` without --site kept a second memory beside collect's
 * (hysteresis not shared, events under a miner `live` never shows) and judged by other limits.
 */
export function withStoredSite(store: Store, source: CheckSource): CheckSource {
  if (source.site !== null || source.minerId !== undefined) return source;
  const rows = store.prepared(minerStatements).find(source.host, source.port);
  const row = rows.length === 1 ? rows[0] : undefined;
  return row ? { ...source, site: row.site, minerId: row.id, siteId: row.site_id } : source;
}

/** Must be used inside one store transaction (the caller wraps the whole run). */
export function storeMemory(store: Store, now: number, defaultSite: string | null): ThermalMemoryStore {
  const sites = store.prepared(siteStatements);
  const miners = store.prepared(minerStatements);
  const thermal = store.prepared(thermalStatements);
  const ids = new Map<string, { minerId: number; siteId: number }>();

  const idsFor = (source: CheckSource) => {
    if (source.minerId !== undefined && source.siteId !== undefined)
      return { minerId: source.minerId, siteId: source.siteId };
    const known = ids.get(source.target);
    if (known) return known;
    const siteId = sites.ensure(source.site ?? defaultSite ?? DEFAULT_SITE, now);
    const minerId = miners.upsert(siteId, source.host, source.port, now, source.snapshot);
    const found = { minerId, siteId };
    ids.set(source.target, found);
    return found;
  };

  /** When each loaded memory was written, to keep one from a newer reading than the source's. */
  const writtenAt = new Map<number, number>();

  return {
    load(source) {
      const { minerId } = idsFor(source);
      const row = thermal.loadState(minerId);
      if (row) writtenAt.set(minerId, row.updated_at);
      return row ? memoryFromState(row) : null;
    },
    save(source, memory: ThermalMemory, transition: ThermalTransition | null) {
      const { minerId, siteId } = idsFor(source);
      // A stored row (--from-db) is as old as its poll: dated by it, not by this run's clock, or a
      // collect cycle that polled meanwhile took this older reading for a newer one than its own
      // and dropped its change (a critical cycle between two ok ones never reached thermal_events).
      const at = source.readAt ?? now;
      // And a memory from a newer reading than the stored row (a live check since) stays. Not
      // asked of a live reading: a clock stepped back would keep it from ever being stored.
      if (source.readAt !== undefined && (writtenAt.get(minerId) ?? Number.NEGATIVE_INFINITY) > at) return;
      thermal.saveState({
        miner_id: minerId,
        site_id: siteId,
        status: memory.status,
        metric: memory.metric,
        levels: memory.levels,
        since: at,
        updated_at: at,
        machine: machineJson(memory.machine),
      });
      if (!transition) return;
      thermal.insertEvent({
        miner_id: minerId,
        site_id: siteId,
        ts: at,
        from_state: transition.from,
        to_state: transition.to,
        metric: transition.metric,
        value: transition.value,
        limit_value: transition.limit,
        detail: transition.detail,
      });
    },
  };
}
