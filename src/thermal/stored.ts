// `thermal check --from-db`: the latest snapshot per miner as `collect` left it in telemetry_live.
// A miner whose last poll failed is `unknown` with that error, never judged on its stale snapshot.

import { defaultStaleAfterMs } from '../collect/farm.js';
import { UsageError } from '../errors.js';
import type { Snapshot } from '../miners/types.js';
import { liveStatements } from '../store/live.js';
import { minerStatements } from '../store/miners.js';
import type { Store } from '../store/open.js';
import { runStatements } from '../store/runs.js';
import { siteStatements } from '../store/sites.js';
import { targetKey } from '../targets/types.js';
import { formatDuration } from '../util/duration.js';
import type { CheckSource } from './check.js';
import type { FirmwareThermalLimits } from './types.js';

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseSnapshot(text: string | null): Snapshot | null {
  if (!text) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return null;
    const snapshot = value as Partial<Snapshot>;
    // The minimum evaluateThermal relies on; anything older or damaged is treated as no reading.
    if (typeof snapshot.make !== 'string' || !Array.isArray(snapshot.boards) || !Array.isArray(snapshot.fans))
      return null;
    // Each board and fan is read as an object: one `null` (a damaged or hand-edited row) would
    // otherwise end the whole check with an internal error instead of costing this miner alone.
    if (!snapshot.boards.every(isObject) || !snapshot.fans.every(isObject)) return null;
    return { firmware: { name: null, version: null }, ...snapshot } as Snapshot;
  } catch {
    return null;
  }
}

/**
 * The stored sources of `site` (null: every site). A snapshot taken more than `staleAfterMs` before
 * `now` (null: each site's default, as `live` has it: 10m or 2.5 of its collector's usual interval)
 * is not the miner's state now (collect stopped, or the miner left the targets): it is
 * reported as an error of kind `stale`, never judged as current (hashctl.md §8).
 */
export function sourcesFromStore(
  store: Store,
  site: string | null,
  now: number,
  staleAfterMs: number | null,
): CheckSource[] {
  const sites = store.prepared(siteStatements);
  let siteId: number | null = null;
  if (site !== null) {
    const row = sites.find(site);
    if (!row) {
      const known = sites.list().map((s) => s.name);
      throw new UsageError(
        `no site '${site}' in ${store.path}${known.length ? ` (known: ${known.join(', ')})` : ''}`,
      );
    }
    siteId = row.id;
  }
  const live = store.prepared(liveStatements);
  // The limits the firmware reported at the last good poll, as collect judged the miner by them.
  const limits = store.prepared(minerStatements).firmwareLimits();
  const runs = store.prepared(runStatements);
  const bySite = new Map<number, number>();
  const staleAfterFor = (siteId: number): number => {
    if (staleAfterMs !== null) return staleAfterMs;
    let ms = bySite.get(siteId);
    if (ms === undefined) {
      ms = defaultStaleAfterMs(runs.recentStarts(siteId, 4));
      bySite.set(siteId, ms);
    }
    return ms;
  };
  return live.list(siteId).map((row) => {
    const base = {
      target: targetKey(row.host, row.port),
      host: row.host,
      port: row.port,
      site: row.site,
      minerId: row.miner_id,
      siteId: row.site_id,
      observedAt: row.last_ok_at,
    };
    // The poll the row holds was made then: the check's memory and events are dated by it (a stale
    // row, below, is today's finding and takes the check's own time).
    const readAt = row.collected_at;
    if (row.ok !== 1) {
      return {
        ...base,
        readAt,
        snapshot: null,
        // A failed row without its kind (another tool's row, a hand-edited database) is a gap in
        // the store, said with a listed kind: `unknown` was none, and a `jq` on kinds missed it.
        error:
          row.error_kind === null
            ? {
                kind: 'store',
                message: `the last poll failed; the store has no error kind for it${row.error_message ? `: ${row.error_message}` : ''}`,
              }
            : { kind: row.error_kind, message: row.error_message ?? 'the last poll failed' },
      };
    }
    const age = now - (row.last_ok_at ?? row.collected_at);
    const staleAfter = staleAfterFor(row.site_id);
    // A reading stamped further ahead of this clock than the stale limit (taken while the
    // collector's clock ran ahead) is no more the miner's state now than one as far behind; as
    // `live` has it.
    if (age > staleAfter || -age > staleAfter) {
      return {
        ...base,
        snapshot: null,
        error: {
          kind: 'stale',
          message:
            age > staleAfter
              ? `last reading ${formatDuration(age)} ago (older than ${formatDuration(staleAfter)}): is collect running?`
              : `last reading stamped ${formatDuration(-age)} ahead of this clock (more than ${formatDuration(staleAfter)}): is the collector's clock right?`,
        },
      };
    }
    const snapshot = parseSnapshot(live.snapshotJson(row.miner_id));
    if (!snapshot)
      return {
        ...base,
        readAt,
        snapshot: null,
        error: { kind: 'parse', message: 'stored snapshot is missing or unreadable' },
      };
    return { ...base, readAt, snapshot, firmwareLimits: parseLimits(limits.get(row.miner_id)) };
  });
}

function parseLimits(text: string | undefined): FirmwareThermalLimits | null {
  if (text === undefined) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && 'firmware' in value
      ? (value as FirmwareThermalLimits)
      : null;
  } catch {
    return null;
  }
}
