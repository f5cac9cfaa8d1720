// What collect learned about talking to each miner, kept in the store (miners.dialect) so that a
// cron run, a new process every minute, asks each miner only what its firmware needs, in as few
// requests as it allows, instead of first contact's wide probe. Write-only-on-change: a farm whose
// miners keep their firmware writes nothing here after the first cycle.
import { type DialectCache, dialectHint, seedDialect } from '../miners/fetch.js';
import { type CycleHook, minerStatements, type Store } from '../store/index.js';
import { targetKey } from '../targets/types.js';

export interface StoredDialects {
  /** Saves the cycle's changed hints, in the cycle's transaction. */
  hook: CycleHook;
  /** Miners whose hint seeded the cache. */
  seeded: number;
}

/** Seeds `cache` from the site's stored hints; the hook keeps them current. */
export function storedDialects(store: Store, site: string, cache: DialectCache): StoredDialects {
  const miners = store.prepared(minerStatements);
  const stored = new Map<string, string>();
  for (const row of miners.dialects(site)) {
    const key = targetKey(row.host, row.port);
    if (seedDialect(cache, key, row.dialect)) stored.set(key, row.dialect);
  }
  const hook: CycleHook = (_db, cycle) => {
    for (const { minerId, outcome } of cycle.miners) {
      // A failed poll says nothing new about the dialect.
      if (!outcome.ok) continue;
      const key = outcome.target.key;
      const hint = dialectHint(cache.get(key));
      if (hint === (stored.get(key) ?? null)) continue;
      miners.setDialect(minerId, hint);
      // Should the cycle roll back, this only costs the miner a first contact in a later run.
      if (hint === null) stored.delete(key);
      else stored.set(key, hint);
    }
  };
  return { hook, seeded: stored.size };
}
