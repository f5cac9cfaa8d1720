// Pool URLs compared the way an operator means them: scheme, host (case-insensitive) and port.
// The allowlist file holds one pool URL or host:port per line (audit-facts §4).
import { UsageError } from '../errors.js';
import type { AllowedPool } from './types.js';

export interface PoolAddress {
  scheme: string | null;
  host: string;
  port: number | null;
}

const POOL_PATTERN =
  /^(?:([a-z][a-z0-9+.-]*):\/\/)?(?:[^@/]*@)?(\[[0-9a-f:.]+\]|[^:/?#\s]+)(?::(\d{1,5}))?(?:[/?#].*)?$/i;

/** `stratum+tcp://Pool.Example.com:3333/` → {scheme:'stratum+tcp', host:'pool.example.com', port:3333}. */
export function parsePoolAddress(text: string): PoolAddress | null {
  const match = POOL_PATTERN.exec(text.trim());
  if (!match) return null;
  const host = (match[2] ?? '')
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[|\]$/g, '');
  if (host === '') return null;
  const port = match[3] === undefined ? null : Number(match[3]);
  if (port !== null && (port < 1 || port > 65_535)) return null;
  return { scheme: match[1]?.toLowerCase() ?? null, host, port };
}

/** Parses the --allowed-pools file contents; `#` comments and blank lines are ignored. */
export function parseAllowedPools(contents: string, source: string): AllowedPool[] {
  const pools: AllowedPool[] = [];
  contents.split(/\r?\n/).forEach((line, index) => {
    const entry = line.replace(/#.*$/, '').trim();
    if (entry === '') return;
    const address = parsePoolAddress(entry);
    if (!address) throw new UsageError(`${source}:${index + 1}: not a pool URL or host:port: '${entry}'`);
    // A miner URL with an '@' never matches (hidesHost): an entry with one would allow nothing.
    if (hidesHost(entry))
      throw new UsageError(
        `${source}:${index + 1}: '${entry}' has an '@': give the pool as a URL or host:port without a user (workers are checked by --worker-pattern)`,
      );
    pools.push({ text: entry, ...address });
  });
  if (pools.length === 0) throw new UsageError(`${source}: no pool listed`);
  return pools;
}

/**
 * The scheme a miner connects with when its pool URL has none: cgminer-family firmwares (and the
 * schemeless `host:port` their web pages accept) speak plain Stratum over TCP, never TLS.
 */
const PLAIN_STRATUM = new Set(['stratum+tcp', 'stratum']);

function schemeMatches(entry: AllowedPool, scheme: string | null): boolean {
  if (entry.scheme === null || entry.scheme === scheme) return true;
  return scheme === null && PLAIN_STRATUM.has(entry.scheme);
}

function hostPortMatches(entry: AllowedPool, address: PoolAddress): boolean {
  return entry.host === address.host && (entry.port === null || entry.port === address.port);
}

/**
 * A pool URL as a report shows it. A report is handed on, so what a URL parser takes for a password
 * (after a `:` in the user-info) and the values of the query (`?token=…`) are shown as `***`. The
 * user-info's first part stays: it is the host a cgminer-based firmware really connects to when
 * the URL hides one (`evil.example:***@pool.example.com:3333`, see hidesHost).
 */
export function shownPoolUrl(url: string): string {
  const start = /^\s*[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0].length ?? 0;
  let shown = url;
  // The last '@': a password may hold '@' or '/' (a path with an '@' is over-hidden, harmlessly).
  const at = shown.lastIndexOf('@');
  const colon = shown.indexOf(':', start);
  if (at > start && colon !== -1 && colon < at) shown = `${shown.slice(0, colon + 1)}***${shown.slice(at)}`;
  const query = shown.indexOf('?', start);
  if (query !== -1) {
    const hash = shown.indexOf('#', query);
    const end = hash === -1 ? shown.length : hash;
    const values = shown.slice(query, end).replace(/([?&;][^=&;#]*=)[^&;#]*/g, '$1***');
    shown = `${shown.slice(0, query)}${values}${shown.slice(end)}`;
  }
  return shown;
}

/**
 * Whether a miner's pool URL has an `@` before its path: `evil.example:25000@pool.example.com:3333`.
 * A URL parser reads the host after the `@`, but cgminer and its forks (bmminer, most stock
 * firmware) know no user-info: they connect to the host before the first `:` (evil.example, port
 * 25000). Which one the firmware mines on cannot be told from the reply, so such a URL is never
 * taken as an allowed pool.
 */
export function hidesHost(url: string): boolean {
  const rest = url.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = rest.indexOf('/');
  return (slash === -1 ? rest : rest.slice(0, slash)).includes('@');
}

/**
 * An allowlist entry without scheme or port matches any scheme or port. A miner's URL without a
 * scheme is plain Stratum: it matches `stratum+tcp://` entries, not `stratum+ssl://` ones. A URL
 * whose host is in doubt (`hidesHost`) matches none.
 */
export function poolAllowed(url: string, allowed: readonly AllowedPool[]): boolean {
  if (hidesHost(url)) return false;
  const address = parsePoolAddress(url);
  if (!address) return false;
  return allowed.some((entry) => hostPortMatches(entry, address) && schemeMatches(entry, address.scheme));
}

/**
 * The allowlist entry a refused URL misses only by its scheme (`stratum+tcp://` configured where
 * the list wants `stratum+ssl://`): the finding says so, rather than reading as a foreign pool.
 */
export function schemeOnlyMismatch(url: string, allowed: readonly AllowedPool[]): AllowedPool | null {
  if (hidesHost(url)) return null;
  const address = parsePoolAddress(url);
  if (!address) return null;
  return allowed.find((entry) => hostPortMatches(entry, address)) ?? null;
}

/**
 * Firmware developer-fee rows are normal (audit-facts §4): VNish lists `URL:"DevFee"`, `User:"DevFee"`;
 * Blissz lists users `devFeeMiner.N` at priority 9998/9999. Only those shapes: a worker merely named
 * `devfee…` on a pool at an operator's priority is what a hijacker would choose to pass as one.
 */
export function isDevFeePool(pool: { url: string; user: string | null; priority: number | null }): boolean {
  if (/^dev[\s_-]?fee$/i.test(pool.url.trim())) return true;
  return (
    pool.user !== null &&
    /^devFeeMiner\.\d+$/i.test(pool.user.trim()) &&
    pool.priority !== null &&
    pool.priority >= 9998
  );
}

/** Factory defaults from the old Bitmain config script: an unconfigured unit, not malware. */
const FACTORY_POOLS = ['192.168.110.30:3333', 'stratum.antpool.com:3333', '50.31.149.57:3333'];
export function isFactoryDefaultPool(url: string, user: string | null): boolean {
  const address = parsePoolAddress(url);
  if (!address) return false;
  return user === 'antminer_1' && FACTORY_POOLS.includes(`${address.host}:${address.port ?? ''}`);
}
