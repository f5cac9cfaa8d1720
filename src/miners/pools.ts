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
    const url = str(rec.URL);
    if (url === null) return;
    pools.push({
      index: counter(rec.POOL) ?? position,
      url,
      user: str(rec.User),
      status: str(rec.Status),
      priority: num(rec.Priority),
      active: false,
      accepted: counter(rec.Accepted),
      rejected: counter(rec.Rejected),
    });
  });
  return markActive(pools);
}
