// The contract between the client (src/cgminer) and everything above it: commands, normalizers,
// probe, scan, control, audit. Keep it small and stable.
import type { MinerError } from '../errors.js';
import type { Target } from '../targets/types.js';

/** The STATUS of a reply, whatever shape the firmware used (array, object, string, lower-case keys). */
export interface ReplyStatus {
  /** 'S' | 'I' | 'W' | 'E' | 'F', or a string STATUS such as 'RESTART' / 'BYE'. */
  status: string;
  code: number | null;
  msg: string | null;
  description: string | null;
  when: number | null;
  /**
   * Set on a multi-command member whose STATUS is there but cannot be read (null, a number, []):
   * status is then 'E', and the client reports it as `parse`, as it does for a single reply.
   */
  unreadable?: true;
}

/** A decoded reply to one command. */
export interface DecodedReply {
  /** The command as requested (for a multi-command member: that member). */
  command: string;
  /** 'json' or 'text' (the plain `STATUS=…|` format), or 'bare' for a non-JSON word such as `failed`. */
  format: 'json' | 'text' | 'bare';
  status: ReplyStatus;
  /** True for STATUS S / I (and RESTART / BYE / Whatsminer "S"). */
  ok: boolean;
  /**
   * The decoded top-level object. Data sections keep their upper-case keys (`SUMMARY`, `STATS`, …);
   * Whatsminer's object `Msg` stays under `Msg`. For text replies, the records are turned into the
   * same JSON shape as a JSON reply would have.
   */
  body: Record<string, unknown>;
  /** What had to be repaired to decode it, e.g. "glued objects", "trailing comma" (empty when clean). */
  repairs: string[];
  /** Bytes received for this reply (for --dump). Absent for multi-command members. */
  raw?: Uint8Array;
}

export interface RequestOptions {
  parameter?: string;
  /**
   * LuxOS writes (CGMINER-API.md §6): the first comma field of `parameter` is a session id; the rest
   * is encoded by the command's upstream rule.
   */
  sessionPrefixed?: boolean;
  /** A write: never retried once a byte has left (hashctl.md §4). Defaults from the command name. */
  write?: boolean;
  signal?: AbortSignal;
  /**
   * Ctrl-C for a write: it stops the request before it leaves (while it waits for its turn, a
   * connection or a retry's backoff), as HashctlError('interrupted'); one on the wire is finished.
   */
  cancel?: AbortSignal;
  /** Return STATUS E/F replies instead of throwing MinerError('api' | 'denied'). */
  allowErrorStatus?: boolean;
  /** Called with the exact bytes of every connection that delivered any (also on failure), for --dump. */
  onRaw?: (bytes: Uint8Array) => void;
  /** Where the decoded reply is charged while the caller holds it (a poll); refused: `too_large`. */
  hold?: ReplyHold;
  /** The poll this read belongs to: once one of its reads ran to the deadline, the rest are not sent. */
  poll?: PollState;
}

/**
 * One poll of one miner (its reads, one after another). A read that ran to its deadline (the peer
 * silent, endless, dripping, or sending a reply it never ends) is recorded here, and the poll's
 * later reads are not sent: each fails at once with that read's kind, `attempts` 0. A poll then
 * ends in about one timeout (with its retries), not one per read; a slow miner that does end its
 * replies is still read in full.
 */
export interface PollState {
  stalled: MinerError | null;
}

/**
 * The decoded replies a caller keeps (one poll's, until its snapshot is built), charged against a
 * budget shared with the other callers in flight: see ./budget.ts.
 */
export interface ReplyHold {
  /** Charges a decoded reply of `weight` (bytes of heap, estimated); false: refuse the reply. */
  take(weight: number): boolean;
  /** What `take` would grant now at most (Infinity: anything): a reply that cannot fit is not parsed. */
  room(): number;
}

export interface ClientOptions {
  /** Connect timeout; defaults to min(timeoutMs, 3000). */
  connectTimeoutMs?: number;
  /** Total deadline for one request: connect, write, read to the end. */
  timeoutMs: number;
  /** Reply cap; past it the socket is destroyed and the request fails with `too_large`. */
  maxBytes: number;
  /** Retries for read-only commands on retriable kinds. */
  retries: number;
  /** Most connections open at once across all miners (the open-file limit's share, and never above it). */
  concurrency?: number;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Host-name resolution for the connects (absent: the system resolver); tests resolve without DNS. */
  lookup?: import('node:net').LookupFunction;
}

export interface ManyOptions {
  signal?: AbortSignal;
  /**
   * Read-only commands outside upstream's joinable set that this miner answers inside a join
   * (Braiins OS / LuxOS `fans`, `temps`, `power`: CGMINER-API.md §4). Writes are never joined.
   */
  joinable?: readonly string[];
  /**
   * Members worth asking only inside a join (first-contact probes): never sent alone, so they are
   * absent from the result when the miner refuses joins, and an E answer to one is final and comes
   * back as that reply (ok false) rather than a MinerError.
   */
  optional?: readonly string[];
  /**
   * false: one command per request (a miner known to refuse joins). true: try the join even if this
   * client remembers the miner refusing one (its firmware may have changed since). Unset: join
   * unless a refusal is remembered.
   */
  join?: boolean;
  /** Where each decoded reply is charged (RequestOptions.hold). */
  hold?: ReplyHold;
  /** The poll these reads belong to (RequestOptions.poll). */
  poll?: PollState;
}

/** What every feature uses to talk to miners. */
export interface MinerClient {
  /** One command on its own connection. Throws MinerError on any failure. */
  request(target: Target, command: string, options?: RequestOptions): Promise<DecodedReply>;
  /**
   * Several read-only commands with the fewest round trips: one `a+b+c` request where the miner
   * accepts it, separate requests where it does not (and remembers that per target).
   * Each member is a reply or the MinerError for that member.
   */
  requestMany(
    target: Target,
    commands: string[],
    options?: ManyOptions,
  ): Promise<Record<string, DecodedReply | MinerError>>;
  /** The last join this client tried on the miner was refused (and not yet outdated by one that worked). */
  refusesJoins?(target: Target): boolean;
  /**
   * Runs `task`, one exchange the client does not build itself (a Whatsminer encrypted write), in
   * the miner's turn and within the socket cap, as the client's own requests are.
   */
  slot?<T>(target: Target, task: () => Promise<T>): Promise<T>;
}
