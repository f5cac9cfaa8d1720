// The shapes `hashctl scan` produces: one result per endpoint, a summary, and the inventory that
// `probe` and `collect` read back as `@FILE` (src/targets accepts `{"miners":[{host,port}]}`).
import type { MinerErrorKind } from '../errors.js';

/**
 * `miner`: a CGMiner API answered (identified as far as its replies allow);
 * `open`: something accepted the connection but is not a miner API (HTTP, empty close, garbage,
 * silence after connect…), with the reason; `none`: refused, unreachable or no answer to connect.
 */
export type ScanOutcome = 'miner' | 'open' | 'none';

export interface ScanResult {
  /** `host:port` as the targets grammar writes it. */
  target: string;
  host: string;
  port: number;
  outcome: ScanOutcome;
  /** Only for `miner`: what detect() made of the replies (`unknown` when nothing names the make). */
  make: string | null;
  model: string | null;
  firmware: { name: string | null; version: string | null } | null;
  algorithm: string | null;
  /** Connections used for this endpoint (1 for most miners: connect and `version` in one go). */
  round_trips: number;
  elapsed_ms: number;
  /** Why an endpoint is `open` or `none`, or a note on a `miner` (e.g. its miner process is down). */
  reason?: string;
  /** The contract kind behind `reason` (`refused`, `timeout`, `protocol`, `empty_reply`, …). */
  kind?: MinerErrorKind;
}

export interface ScanSummary {
  /** Endpoints in the ranges (addresses × ports, deduplicated). */
  targets: number;
  /** Endpoints finished. Less than `targets` only when interrupted. */
  checked: number;
  miners: number;
  open: number;
  none: number;
  /** Miners per make, e.g. `{"Antminer": 812, "Whatsminer": 140}`. */
  by_make: Record<string, number>;
  ports: number[];
  concurrency: number;
  connect_timeout_ms: number;
  reply_timeout_ms: number;
  elapsed_ms: number;
  /** Endpoints finished per second. */
  rate_per_s: number;
  /** Times the open-file limit (EMFILE/ENFILE) or the local port range pushed the scan to back off. */
  backoffs: number;
  /** Concurrency the scan ended with (lower than `concurrency` after backing off). */
  final_concurrency: number;
  interrupted: boolean;
  /** Host names given as targets that could not be resolved (the first 20, each once). */
  unresolved: string[];
}

export interface ScanProgress {
  total: number;
  checked: number;
  miners: number;
  open: number;
  elapsedMs: number;
}

export interface ScanOptions {
  /** Ports each address is scanned on (explicit `HOST:PORT` specs keep their own). */
  ports: number[];
  /** Connect timeout: how long an address may stay silent before it is `none`. */
  connectTimeoutMs: number;
  /** After connecting: how long the first reply may take before the endpoint is `open` (timeout). */
  replyTimeoutMs: number;
  /**
   * How long a host name may take to resolve; its connect timeout starts once it has (default 5 s,
   * never less than the connect timeout). A name not resolved in time is unresolved, not `none`.
   */
  lookupTimeoutMs?: number;
  maxBytes: number;
  /** Endpoints in flight at once; lowered on its own when the open-file limit is reached. */
  concurrency: number;
  /** Extra attempts for an endpoint that connected but closed empty, reset, or sent garbage. */
  retries: number;
  /** Keep `none` results (otherwise only counted). */
  keepNone: boolean;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Name resolution for host-name targets (default: the system's). */
  lookup?: import('node:net').LookupFunction;
  /** What the endpoints' decoded replies may weigh together (default: the process's; tests pass a small one). */
  budget?: import('../cgminer/budget.js').ReplyBudget;
}

/** The `--out` file: what `probe @FILE` and `collect @FILE` read. */
export interface ScanInventory {
  generated_at: string;
  miners: {
    host: string;
    port: number;
    make: string | null;
    model: string | null;
    firmware: { name: string | null; version: string | null } | null;
  }[];
}
