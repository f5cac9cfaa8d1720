// Pools as every cgminer-family firmware reports them, and the one pool actually in use.
import type { Pool } from './types.js';
import { counter, field, num, type Rec, str } from './values.js';

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
    // `url`, `user`, `status`, `priority`, `index`): read in any case.
    const url = str(field(rec, 'URL'));
    if (url === null) return;
    pools.push({
      index: counter(field(rec, 'POOL') ?? field(rec, 'index')) ?? position,
      url,
      user: str(field(rec, 'User')),
      status: str(field(rec, 'Status')),
      priority: num(field(rec, 'Priority')),
      active: false,
      accepted: counter(field(rec, 'Accepted')),
      rejected: counter(field(rec, 'Rejected')),
    });
  });
  return markActive(pools);
}
