// The vocabulary of `hashctl control`: actions, per-miner plans and results, run options.
import type { MinerClient } from '../cgminer/types.js';
import type { MinerErrorKind } from '../errors.js';
import type { Family } from '../miners/detect.js';
import type { CommandLogStatements } from '../store/command-log.js';

export const ACTION_NAMES = [
  'restart',
  'switchpool',
  'enablepool',
  'disablepool',
  'removepool',
  'addpool',
  'pause',
  'resume',
  'raw',
] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

/** The actions a dialect may support (raw is sent verbatim to anything). */
export type DialectAction = Exclude<ActionName, 'raw'>;
export const DIALECT_ACTIONS: readonly DialectAction[] = ACTION_NAMES.filter(
  (name): name is DialectAction => name !== 'raw',
);

export type ControlAction =
  | { name: 'restart' | 'pause' | 'resume' }
  | { name: 'switchpool' | 'enablepool' | 'disablepool' | 'removepool'; pool: number }
  | { name: 'addpool'; url: string; user: string; password: string }
  | { name: 'raw'; command: string; parameter?: string };

/** Per-miner outcome (the stable vocabulary of the JSON output and of command_log). */
export type ControlResult =
  | 'verified'
  | 'sent'
  | 'refused'
  | 'failed'
  | 'unknown'
  | 'unsupported'
  | 'skipped'
  /** --dry-run: the request that would be sent. */
  | 'planned';

/** One request of a plan. `{session}` in the parameter is the LuxOS session id, filled in at send time. */
export interface PlannedRequest {
  command: string;
  parameter?: string;
  /**
   * Whatsminer v2 (CGMINER-API.md §13.1): the fields of `{"cmd":command,…,"token":…}`, sent
   * AES-encrypted right after a `token` request (src/cgminer/whatsminer-v2.ts does both).
   */
  whatsminer?: { fields: Record<string, string> };
  /** LuxOS: the parameter starts with the session id (encoded by src/cgminer/escape.ts's session rule). */
  sessionPrefixed?: boolean;
  role: 'session-open' | 'token' | 'write' | 'session-close';
}

/**
 * Where a pool action leaves the miner, as the read-back that confirmed it lists the pools: the pool
 * acted on (null for removepool), its status, whether the miner mines on it, and the pool it mines on
 * (the alive, enabled pool with the lowest priority; null when none is alive).
 */
export interface PoolUse {
  index: number | null;
  status: string | null;
  in_use: boolean;
  active: number | null;
}

export interface Verification {
  confirmed: boolean;
  /** What was checked and what the miner showed. */
  detail: string;
  /** Pool actions, when the miner lists pool statuses: where the pool stands (see PoolUse). */
  pool?: PoolUse;
  /**
   * The change shows but not what it was for: a switchpool to a Dead pool (the miner keeps mining
   * on another), an added or enabled pool that is Dead, no pool left in use. The result stays
   * `verified` (the write was done, and holds: the miner moves once the pool is alive).
   */
  warning?: string;
  /** Read-backs made. */
  checks: number;
  elapsed_ms: number;
}

/**
 * A failed target's `error` (the per-target contract, hashctl.md §3): the miner-facing kinds, plus
 * control's own `unsupported` and `skipped` (nothing sent) and `unverified` (the write was taken
 * but the read-back never showed the change).
 */
export interface ControlError {
  kind: MinerErrorKind | 'unsupported' | 'skipped' | 'unverified';
  message: string;
  /**
   * Connections made for the request that failed (a read, the write, a LuxOS logon); 1 when the
   * miner answered it with an error; 0 when nothing was sent; for `unverified`, the read-backs made.
   */
  attempts: number;
  code?: number;
  msg?: string;
}

/** One miner's outcome: the per-target JSON object (hashctl.md §3), in this key order. */
export interface TargetControlResult {
  target: string;
  host: string;
  port: number;
  ok: boolean;
  elapsed_ms: number;
  result: ControlResult;
  /** The firmware family the action was mapped for (null when it could not be read). */
  dialect: Family | null;
  /** The write request as sent (JSON, secrets redacted); null when none was planned. */
  request: string | null;
  /** Every request of a multi-step plan (LuxOS logon → write → logoff), redacted. */
  requests?: string[];
  error?: ControlError;
  verification?: Verification;
}

export interface ConfirmSummary {
  action: ActionName;
  /** Miners that will receive the write. */
  miners: number;
  unsupported: number;
  unreachable: number;
  /** One line naming the action, e.g. "switchpool 1". */
  description: string;
  /** The named pool already reads Dead (or Disabled) on some of them (see ControlRun.note). */
  note?: string;
}

export interface ControlOptions {
  dryRun: boolean;
  /** --yes: no confirmation. Without it and without `confirm`, nothing is sent (UsageError). */
  yes: boolean;
  /** Asks the user (TTY); resolves false to send nothing. */
  confirm?: (summary: ConfirmSummary) => Promise<boolean>;
  verify: boolean;
  verifyTimeoutMs: number;
  /** Miners done first; the rest are skipped unless every canary is verified. 0: none. */
  canary: number;
  /** Miners per batch after the canary (0: all at once within `concurrency`). */
  batch: number;
  staggerMs: number;
  /** Miners talked to at once. */
  concurrency: number;
  /** How long a host name is given to resolve (the request deadline, --timeout); default 5 s. */
  resolveTimeoutMs?: number;
  client: MinerClient;
  /** The audit trail; null when no database could be opened (the run goes on without it). */
  log: CommandLogStatements | null;
  /** Called when writing the audit trail fails mid-run (disk full, read-only file): the run goes on. */
  onLogError?: (error: unknown) => void;
  /** user@host */
  actor: string;
  /** Who asks: 'cli', 'thermal', … (stored in command_log). */
  source: string;
  /** Progress: each miner as it finishes. */
  onResult?: (result: TargetControlResult) => void;
  /**
   * The Whatsminer admin password, asked for once and only when a Whatsminer is about to be
   * written (after the reads, before the confirmation); null or absent: those miners are skipped.
   */
  adminPassword?: () => Promise<string | null>;
  /**
   * Deadline, reply cap and retries of the encrypted Whatsminer exchange (the client's --timeout,
   * --max-bytes and --retries; retried only while none of the write has left, as every write).
   */
  wire?: { timeoutMs: number; maxBytes: number; retries?: number };
}

export interface ControlRun {
  runId: string;
  action: ActionName;
  description: string;
  dryRun: boolean;
  /** In target order. */
  results: TargetControlResult[];
  /** The user declined the confirmation: nothing was sent. */
  declined: boolean;
  interrupted: boolean;
  /**
   * switchpool/enablepool: the named pool already read Dead (switchpool: or Disabled) on some of
   * the miners to write, before anything was sent, e.g. "pool 1 already reads Dead on 2 of 5 miners".
   */
  note?: string;
}
