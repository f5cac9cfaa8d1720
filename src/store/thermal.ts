// thermal_state (hysteresis memory per miner) and thermal_events (each status change, once).
import type { Db } from './types.js';

export type ThermalStateName = 'ok' | 'warn' | 'critical' | 'unknown';
type Level = 'ok' | 'warn' | 'critical';

export interface ThermalStateRow {
  miner_id: number;
  site_id: number;
  status: ThermalStateName;
  metric: string | null;
  levels: Record<string, Level>;
  /** When the current status began. */
  since: number;
  updated_at: number;
  /** JSON {make, model, algorithm}: the machine the levels were learnt on (null: not known). */
  machine?: string | null;
}

export interface ThermalEventInput {
  miner_id: number;
  site_id: number;
  ts: number;
  from_state: ThermalStateName;
  to_state: ThermalStateName;
  metric: string | null;
  value: number | null;
  limit_value: number | null;
  detail: string | null;
}

export interface ThermalEventRow extends ThermalEventInput {
  id: number;
  site: string;
  host: string;
  port: number;
}

interface StateDbRow extends Omit<ThermalStateRow, 'levels' | 'machine'> {
  levels: string;
  machine: string | null;
}

const LEVELS = new Set(['ok', 'warn', 'critical']);

function parseLevels(text: string): Record<string, Level> {
  // Written only by saveState; anything else in it (a hand edit) is dropped rather than trusted.
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return {};
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).filter(
        (entry): entry is [string, Level] => typeof entry[1] === 'string' && LEVELS.has(entry[1]),
      ),
    );
  } catch {
    return {};
  }
}

export const THERMAL_EVENTS_BY_SITE_SQL = `SELECT e.id, e.miner_id, e.site_id, s.name AS site, m.host, m.port, e.ts,
  e.from_state, e.to_state, e.metric, e.value, e.limit_value, e.detail
  FROM thermal_events e JOIN miners m ON m.id = e.miner_id JOIN sites s ON s.id = e.site_id
  WHERE e.site_id = ? AND e.ts >= ? ORDER BY e.ts, e.id LIMIT ?`;

export function thermalStatements(db: Db) {
  const load = db.prepare<[number], StateDbRow>(
    'SELECT miner_id, site_id, status, metric, levels, since, updated_at, machine FROM thermal_state WHERE miner_id = ?',
  );
  const save = db.prepare<StateDbRow>(
    `INSERT INTO thermal_state (miner_id, site_id, status, metric, levels, since, updated_at, machine)
     VALUES (@miner_id, @site_id, @status, @metric, @levels, @since, @updated_at, @machine)
     ON CONFLICT (miner_id) DO UPDATE SET
       site_id = excluded.site_id, status = excluded.status, metric = excluded.metric, levels = excluded.levels,
       machine = excluded.machine,
       since = CASE WHEN thermal_state.status = excluded.status THEN thermal_state.since ELSE excluded.since END,
       updated_at = excluded.updated_at`,
  );
  const insert = db.prepare<ThermalEventInput>(
    `INSERT INTO thermal_events (miner_id, site_id, ts, from_state, to_state, metric, value, limit_value, detail)
     VALUES (@miner_id, @site_id, @ts, @from_state, @to_state, @metric, @value, @limit_value, @detail)`,
  );
  const bySite = db.prepare<[number, number, number], ThermalEventRow>(THERMAL_EVENTS_BY_SITE_SQL);
  const everywhere = db.prepare<[number, number], ThermalEventRow>(
    `SELECT e.id, e.miner_id, e.site_id, s.name AS site, m.host, m.port, e.ts, e.from_state, e.to_state, e.metric,
       e.value, e.limit_value, e.detail
     FROM thermal_events e JOIN miners m ON m.id = e.miner_id JOIN sites s ON s.id = e.site_id
     WHERE e.ts >= ? ORDER BY e.ts, e.id LIMIT ?`,
  );
  return {
    loadState(minerId: number): ThermalStateRow | null {
      const row = load.get(minerId);
      return row ? { ...row, levels: parseLevels(row.levels) } : null;
    },
    /** Upserts the memory; `since` is kept while the status is unchanged. */
    saveState(row: ThermalStateRow): void {
      save.run({ ...row, levels: JSON.stringify(row.levels), machine: row.machine ?? null });
    },
    insertEvent(event: ThermalEventInput): void {
      insert.run(event);
    },
    /** Events since `sinceMs`, oldest first, for one site or all. */
    events(siteId: number | null, sinceMs = 0, limit = 1000): ThermalEventRow[] {
      return siteId === null ? everywhere.all(sinceMs, limit) : bySite.all(siteId, sinceMs, limit);
    },
  };
}
