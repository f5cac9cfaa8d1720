// Every failure in hashctl is one of these classes. `kind` is the stable contract (hashctl.md §3),
// asserted by tests and printed in --json; messages are for people and may change.

/** Error kinds of the miner-facing contract (hashctl.md §3). */
export const MINER_ERROR_KINDS = [
  'timeout',
  'refused',
  'reset',
  'unreachable',
  'empty_reply',
  'too_large',
  'parse',
  'protocol',
  'api',
  'denied',
] as const;
export type MinerErrorKind = (typeof MINER_ERROR_KINDS)[number];

/** Kinds for failures that are not about one miner (listed in the README beside the miner kinds). */
export const LOCAL_ERROR_KINDS = [
  'usage', // bad flag, target, duration, parameter: exit 2
  'config', // bad config file: exit 2
  'io', // disk full, read-only file, permission: exit 1
  'store', // database refused (newer schema, corrupt): exit 1 or 2
  'locked', // another run holds the lock: exit 75
  'upload', // the collector endpoint failed or refused: exit 1
  'interrupted', // SIGINT before the work finished (a target's `kind` in --json too): exit 130
  'internal', // a bug: exit 1
] as const;
export type LocalErrorKind = (typeof LOCAL_ERROR_KINDS)[number];

export type ErrorKind = MinerErrorKind | LocalErrorKind;

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  findings: 3,
  locked: 75,
  interrupted: 130,
} as const;

export interface HashctlErrorOptions {
  cause?: unknown;
  retriable?: boolean;
  /** Free-form details that are safe to show (never secrets). */
  details?: Record<string, unknown>;
}

export class HashctlError extends Error {
  readonly kind: ErrorKind;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;

  constructor(kind: ErrorKind, message: string, options: HashctlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.retriable = options.retriable ?? false;
    this.details = options.details ?? {};
  }

  get exitCode(): number {
    switch (this.kind) {
      case 'usage':
      case 'config':
        return EXIT.usage;
      case 'locked':
        return EXIT.locked;
      case 'interrupted':
        return EXIT.interrupted;
      default:
        return EXIT.failed;
    }
  }
}

/** A failure talking to one miner. `attempts` counts connections tried. */
export class MinerError extends HashctlError {
  declare readonly kind: MinerErrorKind;
  attempts = 1;
  /** STATUS Code and Msg for `api` and `denied`. */
  readonly code: number | null;
  readonly apiMessage: string | null;
  /** True when at least one byte of the request had been written before the failure. */
  requestSent: boolean;

  constructor(
    kind: MinerErrorKind,
    message: string,
    options: HashctlErrorOptions & {
      code?: number | null;
      apiMessage?: string | null;
      requestSent?: boolean;
    } = {},
  ) {
    super(kind, message, { ...options, retriable: options.retriable ?? RETRIABLE_KINDS.has(kind) });
    this.code = options.code ?? null;
    this.apiMessage = options.apiMessage ?? null;
    this.requestSent = options.requestSent ?? false;
  }

  toJSON(): { kind: MinerErrorKind; message: string; attempts: number; code?: number; msg?: string } {
    const out: { kind: MinerErrorKind; message: string; attempts: number; code?: number; msg?: string } = {
      kind: this.kind,
      message: this.message,
      attempts: this.attempts,
    };
    if (this.code !== null) out.code = this.code;
    if (this.apiMessage !== null) out.msg = this.apiMessage;
    return out;
  }
}

/** Kinds worth another connection for a read-only command. `parse` may be a truncated read. */
export const RETRIABLE_KINDS: ReadonlySet<MinerErrorKind> = new Set<MinerErrorKind>([
  'timeout',
  'refused',
  'reset',
  'empty_reply',
  'parse',
]);

export class UsageError extends HashctlError {
  constructor(message: string, options: HashctlErrorOptions = {}) {
    super('usage', message, options);
  }
}

export class ConfigError extends HashctlError {
  constructor(message: string, options: HashctlErrorOptions = {}) {
    super('config', message, options);
  }
}

export class StoreError extends HashctlError {}

export class LockedError extends HashctlError {
  constructor(message: string, options: HashctlErrorOptions = {}) {
    super('locked', message, options);
  }
}

export class UploadError extends HashctlError {}

export function isHashctlError(error: unknown): error is HashctlError {
  return error instanceof HashctlError;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
