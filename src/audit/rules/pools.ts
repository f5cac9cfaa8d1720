// Pool-hijack patterns that can be read from `pools` (audit-facts §4): pools off the operator's
// allowlist, extra or unexpectedly active pools, and workers that do not match the inventory.

import { records } from '../identify.js';
import { hidesHost, isDevFeePool, isFactoryDefaultPool, poolAllowed, schemeOnlyMismatch } from '../pools.js';
import type { AuditInput, RuleDefinition } from '../types.js';
import { configuredPools, finding } from './helpers.js';

const CHECK_POOLS =
  'Confirm the pool with the owner; if it was not configured by you, restore the pools, change the web and ' +
  'API credentials, close write access on 4028 and reflash known-good firmware (pool-hijack malware persists).';

/** What tells one pool's finding from another's run to run: not its index, status or priority. */
function poolSubject(pool: { url: string; user: string | null }): string {
  return `pool ${pool.url}\n${pool.user ?? ''}`;
}

/** Stock web UIs offer three pool slots; a 4th pool is the injection seen through exposed APIs. */
const MAX_OPERATOR_POOLS = 3;

/** A share this recent went to a pool that is mining now. */
const RECENT_SHARE_S = 120;
/** No share for this long: a hashing miner's preferred pool is not the one being mined on. */
const STALE_SHARE_S = 600;

/**
 * Seconds since each pool's last share (by its POOL index), `never` for none; pools whose time
 * cannot be read are left out. Two shapes (CGMINER-API §8.1): elapsed `"0:00:03"` (Bitmain; hours
 * may pass 24) and an epoch (BOSminer, cgminer), set against the reply's own `When` (the miner's
 * clock, not this host's); `0`/`"0"` is none yet. Anything else (a date text, a small number) is
 * not guessed at.
 */
function lastShares(reply: AuditInput['reads'][string] | undefined): Map<number, number | 'never'> {
  const shares = new Map<number, number | 'never'>();
  const when = records(reply, 'STATUS')[0]?.When;
  records(reply, 'POOLS').forEach((record, position) => {
    const index = typeof record.POOL === 'number' ? record.POOL : position;
    const raw = record['Last Share Time'];
    if (raw === 0 || raw === '0') {
      shares.set(index, 'never');
      return;
    }
    const elapsed = typeof raw === 'string' ? /^\s*(\d{1,6}):([0-5]\d):([0-5]\d)\s*$/.exec(raw) : null;
    if (elapsed) {
      shares.set(index, Number(elapsed[1]) * 3600 + Number(elapsed[2]) * 60 + Number(elapsed[3]));
      return;
    }
    if (typeof raw === 'number' && raw >= 1e9 && typeof when === 'number' && when >= raw)
      shares.set(index, when - raw);
  });
  return shares;
}

function shareAgo(ago: number | 'never'): string {
  if (ago === 'never') return 'never';
  if (ago < 120) return `${ago}s ago`;
  if (ago < 7200) return `${Math.round(ago / 60)} min ago`;
  return `${Math.round(ago / 3600)} h ago`;
}

export const poolNotAllowed: RuleDefinition = {
  id: 'pool-not-allowed',
  name: 'PoolNotAllowed',
  defaultSeverity: 'high',
  shortDescription: 'A configured pool is not on the allowed-pools list',
  fullDescription:
    'The miner is configured with a pool that the operator did not allow (--allowed-pools): a sign of a pool ' +
    'hijack (malware or an exposed write API). Firmware developer-fee rows are labelled, not reported as hijacks.',
  help: 'Compare against --allowed-pools (one URL or host:port per line; scheme, host case and port are normalized).',
  evaluate(input, policy) {
    const results = [];
    for (const pool of configuredPools(input)) {
      if (isDevFeePool(pool)) {
        results.push(
          finding(
            this,
            input,
            'info',
            'Firmware developer-fee pool (not a hijack)',
            `dev fee: pool ${pool.index} URL "${pool.shown}" user "${pool.user}"${pool.active ? ' (active)' : ''}; aftermarket firmware mines part of the time for its developer`,
            'Expected with this firmware; nothing to do unless the fee is not agreed.',
            poolSubject(pool),
          ),
        );
        continue;
      }
      if (policy.allowedPools === null) {
        if (isFactoryDefaultPool(pool.url, pool.user)) {
          results.push(
            finding(
              this,
              input,
              'low',
              'Factory default pool configured (unconfigured unit)',
              `pool ${pool.index} ${pool.shown} user ${pool.user}: Bitmain factory default`,
              'Configure the farm’s own pools and workers.',
              poolSubject(pool),
            ),
          );
        }
        continue;
      }
      if (poolAllowed(pool.url, policy.allowedPools)) continue;
      const listed = schemeOnlyMismatch(pool.url, policy.allowedPools);
      const where = `pool ${pool.index} ${pool.shown} (user ${pool.user ?? '-'}, priority ${pool.priority ?? '-'}, status ${pool.status ?? '-'}${pool.active ? ', in use' : ''})`;
      if (listed) {
        // The right pool by another scheme (plain Stratum where the list wants TLS or V2): a
        // transport to fix, not a hijack.
        const how = /^[a-z][a-z0-9+.-]*:\/\//i.test(pool.url.trim())
          ? 'by another scheme'
          : 'without a scheme, i.e. plain Stratum';
        results.push(
          finding(
            this,
            input,
            'medium',
            'Allowed pool configured with a scheme the allowlist does not allow',
            `${where} is in --allowed-pools only as ${listed.text}: the miner connects ${how}`,
            `Configure the pool as ${listed.text}.`,
            poolSubject(pool),
          ),
        );
        continue;
      }
      results.push(
        finding(
          this,
          input,
          pool.active ? 'critical' : 'high',
          pool.active ? 'Miner is mining on a pool that is not allowed' : 'Pool not on the allowed list',
          hidesHost(pool.url)
            ? `${where} is not in --allowed-pools: its address has an '@', and cgminer-based firmware connects to the host before it, not the one after`
            : `${where} is not in --allowed-pools`,
          CHECK_POOLS,
          poolSubject(pool),
        ),
      );
    }
    return results;
  },
};

export const poolExtra: RuleDefinition = {
  id: 'pool-extra',
  name: 'PoolExtra',
  defaultSeverity: 'medium',
  shortDescription: 'More pools than an operator configures, or a backup pool getting the shares',
  fullDescription:
    'Injected pools show up as a 4th pool, or as a lower-priority pool that is actually mining while a ' +
    'higher-priority pool is alive: the backup took a share within 2 minutes, the preferred pool none ' +
    'for 10 minutes (Last Share Time). Developer-fee rows are not counted.',
  help: 'Review the pool list; remove pools you did not add and find how they were added.',
  evaluate(input) {
    const pools = configuredPools(input).filter((pool) => !isDevFeePool(pool));
    const results = [];
    if (pools.length > MAX_OPERATOR_POOLS) {
      results.push(
        finding(
          this,
          input,
          'medium',
          `${pools.length} pools configured (more than ${MAX_OPERATOR_POOLS})`,
          `pools: ${pools.map((pool) => `${pool.index}:${pool.shown}`).join(', ')}`,
          CHECK_POOLS,
        ),
      );
    }
    // The pool in use by the API's own rule is the alive pool with the lowest priority (CGMINER-API
    // §15: `Stratum Active` only means connected), so a backup "in use" cannot be read from the
    // flags. What shows it is where the shares go: the preferred pool alive but with no share for
    // long, while a backup took one a moment ago.
    const preferred = pools.find((pool) => pool.active);
    const shares = lastShares(input.reads.pools);
    const preferredAgo = preferred ? shares.get(preferred.index) : undefined;
    if (
      preferred &&
      preferredAgo !== undefined &&
      (preferredAgo === 'never' || preferredAgo > STALE_SHARE_S)
    ) {
      const taking = pools.filter((pool) => {
        const ago = shares.get(pool.index);
        return pool !== preferred && typeof ago === 'number' && ago <= RECENT_SHARE_S;
      });
      if (taking.length > 0) {
        results.push(
          finding(
            this,
            input,
            'medium',
            'A backup pool is getting the shares while the preferred pool is alive',
            `preferred: pool ${preferred.index} ${preferred.shown} (priority ${preferred.priority ?? '?'}, ${preferred.status ?? 'Alive'}), last share ${shareAgo(preferredAgo)}; taking the shares: ${taking.map((pool) => `${pool.index}:${pool.shown} (last share ${shareAgo(shares.get(pool.index) ?? 'never')})`).join(', ')}`,
            CHECK_POOLS,
          ),
        );
      }
    }
    return results;
  },
};

export const workerMismatch: RuleDefinition = {
  id: 'worker-mismatch',
  name: 'WorkerMismatch',
  defaultSeverity: 'high',
  shortDescription: 'A pool worker/wallet does not match the expected pattern',
  fullDescription:
    'Pool-hijack firmware swaps the worker or reward address while keeping the pool. The worker (User) of each ' +
    'configured pool is compared with --worker-pattern; developer-fee rows are skipped.',
  help: 'Give --worker-pattern a regular expression every legitimate worker matches, e.g. "^farm1\\.".',
  evaluate(input, policy) {
    const pattern = policy.workerPattern;
    if (pattern === null) return [];
    return configuredPools(input)
      .filter((pool) => !isDevFeePool(pool))
      .filter((pool) => pool.user === null || !pattern.test(pool.user))
      .map((pool) =>
        finding(
          this,
          input,
          pool.active ? 'critical' : 'high',
          pool.active
            ? 'Miner is mining for an unexpected worker'
            : 'Pool worker does not match the expected pattern',
          `pool ${pool.index} ${pool.shown}: ${pool.user === null ? 'no user (worker) set, which cannot match' : `user "${pool.user}" does not match`} /${pattern.source}/${pool.active ? ' (in use)' : ''}`,
          CHECK_POOLS,
          poolSubject(pool),
        ),
      );
  },
};
