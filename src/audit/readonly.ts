// The audit is read-only by construction: every miner request it makes goes through `readOnlyReader`
// (the audit's reads) or `readOnlyRequest` (discovery's raw exchange), which refuse anything not on
// the fixed list below and throw before a byte is sent.
// Sources: audit-facts.md §2.2 and §2.4, CGMINER-API.md §5.1, §7, §8.5, §15.

import { buildRequest } from '../cgminer/escape.js';
import type { DecodedReply, MinerClient, PollState, ReplyHold } from '../cgminer/types.js';
import { HashctlError, MinerError } from '../errors.js';
import type { Target } from '../targets/types.js';
import type { ReadOutcome } from './types.js';

/**
 * Commands the audit may send, without a parameter. `privileged` is read-safe: it only answers S/46 or
 * E/45 (CGMINER-API §7, §15). Whatsminer's native reads are `get_version`, `status`, `get_miner_info`.
 */
export const READ_COMMANDS: ReadonlySet<string> = new Set([
  'version',
  'summary',
  'pools',
  'stats',
  'devs',
  'edevs',
  'devdetails',
  'config',
  'coin',
  'privileged',
  'tempctrl',
  'fans',
  'temps',
  'get_version',
  'status',
  'get_miner_info',
]);

/**
 * Write commands whose availability may be asked with `check|<cmd>`: `check` only answers whether the
 * command exists and is accessible; it never runs it (CGMINER-API §5.1, audit-facts §2.2).
 */
export const CHECKABLE_WRITES: ReadonlySet<string> = new Set([
  'addpool',
  'save',
  'pause',
  'ascset',
  'curtail',
]);

/** Named here so a reviewer sees they were considered: state changes or quota use (audit-facts §2.4). */
export const NEVER_SENT: ReadonlySet<string> = new Set([
  'logon',
  'get_token',
  'save',
  'addpool',
  'quit',
  'restart',
]);

/** Thrown before sending when code asks the audit to send something that is not a read. A bug, not a user error. */
export class ReadOnlyViolation extends HashctlError {
  constructor(command: string, parameter: string | undefined) {
    const shown = parameter === undefined ? command : `${command}|${parameter}`;
    super('internal', `audit refused to send '${shown}': not on the read-only list`, {
      details: { command, parameter: parameter ?? null },
    });
  }
}

/** Throws ReadOnlyViolation unless `command` (with `parameter`) is on the read-only list. */
export function assertReadOnly(command: string, parameter?: string): void {
  if (command === 'check') {
    if (parameter !== undefined && CHECKABLE_WRITES.has(parameter)) return;
    throw new ReadOnlyViolation(command, parameter);
  }
  // Multi-commands (`a+b`) are refused too: `privileged` inside one is always denied (§15) and the
  // list check would otherwise have to parse them.
  if (parameter !== undefined || !READ_COMMANDS.has(command)) throw new ReadOnlyViolation(command, parameter);
}

/**
 * The bytes of a read on the list, for audit code that writes to a socket itself (discovery runs the
 * scanner's exchange, not a client). Audit code gets request bytes from here or through a reader.
 */
export function readOnlyRequest(command: string, parameter?: string): Uint8Array {
  assertReadOnly(command, parameter);
  return buildRequest(command, parameter);
}

/** A decoded reply as plain data; E/F replies stay `ok: true` with their STATUS (rules read the code). */
export function outcomeFromReply(reply: DecodedReply): ReadOutcome {
  return {
    ok: true,
    status: reply.status.status,
    code: reply.status.code,
    msg: reply.status.msg,
    body: reply.body,
  };
}

export function outcomeFromError(error: MinerError): ReadOutcome {
  return {
    ok: false,
    error: { kind: error.kind, message: error.message, code: error.code, msg: error.apiMessage },
  };
}

/** The request key used in AuditInput.reads: `version`, `check|addpool`. */
export function readKey(command: string, parameter?: string): string {
  return parameter === undefined ? command : `${command}|${parameter}`;
}

export interface AuditReader {
  /**
   * One read-only request. Miner failures come back as `{ok:false}`; only a list violation throws.
   * `hold`: where the decoded reply is charged while the miner's audit keeps it, and the miner's
   * poll (PollState: once a read ran to its deadline, the rest are not sent).
   */
  read(
    target: Target,
    command: string,
    parameter?: string,
    hold?: ReplyHold & PollState,
  ): Promise<ReadOutcome>;
  /** Every request this reader sent, in order (`host:port command[|param]`), for evidence and tests. */
  readonly sent: readonly string[];
}

export function readOnlyReader(client: MinerClient, options: { signal?: AbortSignal } = {}): AuditReader {
  const sent: string[] = [];
  return {
    sent,
    async read(target, command, parameter, hold) {
      assertReadOnly(command, parameter);
      sent.push(`${target.key} ${readKey(command, parameter)}`);
      try {
        const reply = await client.request(target, command, {
          parameter,
          write: false,
          allowErrorStatus: true,
          signal: options.signal,
          hold,
          poll: hold,
        });
        return outcomeFromReply(reply);
      } catch (error) {
        if (error instanceof MinerError) return outcomeFromError(error);
        throw error;
      }
    },
  };
}
