// One miner, one poller: a host name and the address it resolves to (or two names of one address)
// are the same miner, which must not be polled twice at once (hashctl.md §4) nor counted twice.
import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import type { Target } from './types.js';

export type ResolveHost = (host: string) => Promise<string[]>;

/** `::ffff:127.0.0.1` and `127.0.0.1` are one host. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? (mapped[1] as string) : address.toLowerCase();
}

/**
 * Every address a host name resolves to (connect may use any of them), or the name itself when it
 * is an address or does not resolve (its connect then fails and is reported as such).
 */
export async function resolvedHosts(host: string): Promise<string[]> {
  if (isIP(host) !== 0) return [normalizeAddress(host)];
  try {
    const addresses = await lookup(host, { all: true });
    return addresses.length > 0
      ? addresses.map((entry) => normalizeAddress(entry.address))
      : [host.toLowerCase()];
  } catch {
    return [host.toLowerCase()];
  }
}

/** How long the names are given to resolve before the run goes on without knowing. */
export const DEFAULT_RESOLVE_MS = 5000;

/**
 * A resolver that answers within `ms`, or at once when `signal` aborts: a resolver that is down
 * (getaddrinfo retries for many seconds per name, and Node's lookup has no timeout) must not hold a
 * cron run's first poll back, nor a Ctrl-C. A name not resolved in time is kept as it is, as one
 * that does not resolve.
 */
export function bounded(resolve: ResolveHost, ms: number, signal?: AbortSignal): ResolveHost {
  return (host) =>
    new Promise((done) => {
      const unresolved = [host.toLowerCase()];
      if (signal?.aborted) {
        done(unresolved);
        return;
      }
      const settle = (hosts: string[]): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        done(hosts);
      };
      const onAbort = (): void => settle(unresolved);
      const timer = setTimeout(onAbort, ms);
      timer.unref?.();
      signal?.addEventListener('abort', onAbort, { once: true });
      resolve(host).then(settle, () => settle(unresolved));
    });
}

/** A ResolveHost over a `net` lookup function (a test's, or scan's context's). */
export function resolverOf(lookup: LookupFunction): ResolveHost {
  return (host) =>
    isIP(host) !== 0
      ? Promise.resolve([normalizeAddress(host)])
      : new Promise((done) => {
          lookup(host, { all: true }, (error, addresses) => {
            const list = Array.isArray(addresses) ? addresses : [];
            done(
              error || list.length === 0
                ? [host.toLowerCase()]
                : list.map((entry) => normalizeAddress(entry.address)),
            );
          });
        });
}

export interface DistinctTargets {
  targets: Target[];
  /** Targets left out, each with the one listed before it that names the same miner. */
  dropped: { target: Target; sameAs: Target }[];
}

/**
 * The targets less those that name a miner listed before them under another name, or null when
 * every target is an address (nothing to resolve: keys already tell miners apart).
 */
export async function distinctMiners(
  targets: Iterable<Target> & { count?: number },
  /** `signal`: Ctrl-C stops the wait at once (the names not resolved yet are kept as they are). */
  options: { resolve?: ResolveHost; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<DistinctTargets | null> {
  // One target cannot name a miner twice: not worth a lookup before the poll makes its own.
  if (targets.count !== undefined && targets.count < 2) return null;
  const resolve = bounded(
    options.resolve ?? resolvedHosts,
    options.timeoutMs ?? DEFAULT_RESOLVE_MS,
    options.signal,
  );
  let named = false;
  for (const target of targets) {
    if (isIP(target.host) === 0) {
      named = true;
      break;
    }
  }
  if (!named) return null;
  const list = [...targets];
  // Resolved together (the resolver's threads bound how many run at once), then walked in order.
  const names = [...new Set(list.filter((t) => isIP(t.host) === 0).map((t) => t.host))];
  const resolved = new Map(
    await Promise.all(names.map(async (name) => [name, await resolve(name)] as const)),
  );
  const owner = new Map<string, Target>();
  const kept: Target[] = [];
  const dropped: DistinctTargets['dropped'] = [];
  for (const target of list) {
    const hosts = resolved.get(target.host) ?? [normalizeAddress(target.host)];
    const endpoints = hosts.map((host) => `${normalizeAddress(host)}|${target.port}`);
    const first = endpoints.map((endpoint) => owner.get(endpoint)).find((t) => t !== undefined);
    if (first) {
      dropped.push({ target, sameAs: first });
      continue;
    }
    for (const endpoint of endpoints) owner.set(endpoint, target);
    kept.push(target);
  }
  return { targets: kept, dropped };
}

/** One line on the targets left out (`done`: what the kept one got, e.g. "polled once"), or null. */
export function droppedNote(dropped: DistinctTargets['dropped'], done: string): string | null {
  const [first] = dropped;
  if (!first) return null;
  const more = dropped.length - 1;
  return `${first.target.key} is the miner ${first.sameAs.key} already names: ${done}${more > 0 ? ` (and ${more} more target${more === 1 ? '' : 's'} like it)` : ''}`;
}
