/** One miner API endpoint. `key` is the canonical `host:port` (`[v6]:port` for IPv6), used for dedup and display. */
export interface Target {
  host: string;
  port: number;
  key: string;
}

export function targetKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
