/** One miner API endpoint. `key` is the canonical `host:port` (`[v6]:port` for IPv6), used for dedup and display. */
export interface Target {
  host: string;
  port: number;
  key: string;
}

export function targetKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

let targetOrder: Intl.Collator | null = null;

/**
 * Targets as a person reads them (127.0.0.9 before 127.0.0.10, port 9999 before 10000), the same on
 * every host: a bare localeCompare follows the process's locale (LANG=da_DK put `rig-aa` after
 * `rig-z`, lt_LT `rig-y` among the `i`s), so one farm's report came out in another order per host.
 */
export function compareTargets(a: string, b: string): number {
  targetOrder ??= new Intl.Collator('en', { numeric: true });
  return targetOrder.compare(a, b);
}
