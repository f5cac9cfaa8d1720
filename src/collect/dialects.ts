// What collect learned about talking to each miner, kept in the store (miners.dialect) so that a
// cron run, a new process every minute, asks each miner only what its firmware needs, in as few
// requests as it allows, instead of first contact's wide probe. Write-only-on-change: a farm whose
// miners keep their firmware writes nothing here after the first cycle.
import { type DialectCache, dialectHint, dialectStatics, seedDialect } from '../miners/fetch.js';
import { type CycleHook, minerStatements, type Store } from '../store/index.js';
import { runStatements } from '../store/runs.js';
import { targetKey } from '../targets/types.js';

export interface StoredDialects {
  /** Saves the cycle's changed hints, in the cycle's transaction. */
  hook: CycleHook;
  /** Miners whose hint seeded the cache. */
  seeded: number;
}

/** Seeds `cache` from the site's stored hints; the hook keeps them current. */
export function storedDialects(
  store: Store,
  site: string,
  cache: DialectCache,
  now: number = Date.now(),
): StoredDialects {
  const miners = store.prepared(minerStatements);
  /** target key → what the store holds: the hint and when its statics were asked. */
  const stored = new Map<string, { hint: string; staticsAt: number | null }>();
  for (const row of miners.dialects(site)) {
    const key = targetKey(row.host, row.port);
    const identity =
      row.make === null
        ? null
        : {
            make: row.make,
            model: row.model,
            firmware: { name: row.firmware_name, version: row.firmware_version },
          };
    if (seedDialect(cache, key, row.dialect, row.statics, now, identity)) {
      stored.set(key, { hint: row.dialect, staticsAt: cache.get(key)?.staticsAt ?? null });
    }
  }
  const runs = store.prepared(runStatements);
  /**
   * What the last cycle that wrote hints changed in `stored` (the value before it), until a later
   * cycle knows whether it was committed: one that failed after this hook ran (a full disk at its
   * commit) rolled the hints back while `stored` kept them as written, and an --interval run never
   * wrote them again (the next run seeded the old hint, or made first contact again).
   */
  let unconfirmed: {
    runId: number;
    siteId: number;
    startedAt: number;
    before: Map<string, { hint: string; staticsAt: number | null } | undefined>;
  } | null = null;
  const hook: CycleHook = (_db, cycle) => {
    if (
      unconfirmed !== null &&
      (unconfirmed.runId === cycle.runId ||
        !runs.isStored(unconfirmed.runId, unconfirmed.siteId, unconfirmed.startedAt))
    ) {
      for (const [key, value] of unconfirmed.before) {
        if (value === undefined) stored.delete(key);
        else stored.set(key, value);
      }
    }
    unconfirmed = null;
    for (const { minerId, outcome } of cycle.miners) {
      // A failed poll says nothing new about the dialect.
      if (!outcome.ok) continue;
      const key = outcome.target.key;
      const entry = cache.get(key);
      const hint = dialectHint(entry);
      const staticsAt = entry?.staticsAt ?? null;
      const before = stored.get(key);
      if (hint === (before?.hint ?? null) && staticsAt === (before?.staticsAt ?? null)) continue;
      miners.setDialect(minerId, hint, dialectStatics(entry));
      unconfirmed ??= {
        runId: cycle.runId,
        siteId: cycle.siteId,
        startedAt: cycle.startedAt,
        before: new Map(),
      };
      if (!unconfirmed.before.has(key)) unconfirmed.before.set(key, before);
      if (hint === null) stored.delete(key);
      else stored.set(key, { hint, staticsAt });
    }
  };
  return { hook, seeded: stored.size };
}
