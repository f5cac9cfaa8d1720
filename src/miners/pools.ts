// Pools as every cgminer-family firmware reports them, and the one pool actually in use.
import type { Pool } from './types.js';
import { counter, num, type Rec, str } from './values.js';

/**
 * The pool in use is the alive, enabled pool with the lowest Priority (CGMINER-API.md §15):
 * `Stratum Active` only means "connected" and is true for several pools at once after a switch.
 * Exactly one pool is active whenever any pool is alive; none when all are dead or disabled.
 */
export function markActive(pools: Pool[]): Pool[] {
  let best: Pool | null = null;
  for (const pool of pools) {
    if ((pool.status ?? '').toLowerCase() !== 'alive') continue;
    const priority = pool.priority ?? Number.POSITIVE_INFINITY;
    const bestPriority = best?.priority ?? Number.POSITIVE_INFINITY;
    if (best === null || priority < bestPriority || (priority === bestPriority && pool.index < best.index))
      best = pool;
  }
  return pools.map((pool) => ({ ...pool, active: pool === best }));
}

/** `POOLS` records → pools. Unconfigured slots (empty URL) are left out. */
export function parsePools(records: Rec[]): Pool[] {
  const pools: Pool[] = [];
  records.forEach((rec, position) => {
    // cgminer's capitalised keys, or the lower-case ones of Bitmain-style web/new APIs (Elphapex:
    // `url`, `user`, `status`, `priority`, `index`).
    const url = str(rec.URL ?? rec.url);
    if (url === null) return;
    pools.push({
      index: counter(rec.POOL ?? rec.index) ?? position,
      url,
      user: str(rec.User ?? rec.user),
      status: str(rec.Status ?? rec.status),
      priority: num(rec.Priority ?? rec.priority),
      active: false,
      accepted: counter(rec.Accepted ?? rec.accepted),
      rejected: counter(rec.Rejected ?? rec.rejected),
    });
  });
  return markActive(pools);
}
