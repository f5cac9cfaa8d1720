// Read-only access to the replies of one poll: `{command: DecodedReply | MinerError}`. Total: any
// missing command, failed member or odd body reads as "no data", never as an exception.
import type { DecodedReply } from '../cgminer/types.js';
import { MinerError } from '../errors.js';
import { field, isRecord, type Rec, records } from './values.js';

export type ReplyMap = Record<string, DecodedReply | MinerError>;

/** The data section each read's reply carries (CGMINER-API.md §3.1; every sample agrees). */
// In any case: a build that writes `"summary":[…]` answers the read all the same (section() below).
const SECTION_OF: Record<string, RegExp> = {
  version: /^VERSION$/i,
  summary: /^SUMMARY$/i,
  pools: /^POOLS$/i,
  stats: /^STATS\d*$/i,
  estats: /^STATS\d*$/i,
  litestats: /^STATS\d*$/i,
  devs: /^DEVS$/i,
  edevs: /^DEVS$/i,
  devdetails: /^DEVDETAILS$/i,
  fans: /^FANS$/i,
  temps: /^TEMPS$/i,
  coin: /^COIN$/i,
  config: /^CONFIG$/i,
};
const KNOWN_SECTIONS = /^(VERSION|SUMMARY|POOLS|STATS\d*|DEVS|DEVDETAILS|FANS|TEMPS|COIN|CONFIG)$/i;
/** What every reply carries besides its data. */
const ENVELOPE_KEYS = /^(STATUS|id)$/i;

/**
 * A reply that carries another read's data and not its own (POOLS to `summary`: a confused or
 * hijacked API answering everything alike) is no answer to the read: a `protocol` failure, so the
 * miner is not shown online from figures it never gave.
 */
export function misaddressed(command: string, reply: DecodedReply | MinerError): DecodedReply | MinerError {
  const own = SECTION_OF[command];
  if (!own || reply instanceof MinerError || !reply.ok) return reply;
  let other: string | null = null;
  let data = false;
  for (const key of Object.keys(reply.body)) {
    if (own.test(key)) return reply;
    if (other === null && KNOWN_SECTIONS.test(key)) other = key;
    if (!ENVELOPE_KEYS.test(key)) data = true;
  }
  // A bare STATUS S and nothing else: the miner said it answered, and gave no figure at all.
  if (other === null && !data) {
    return new MinerError('protocol', `answered '${command}' with a status and no data`, {
      requestSent: true,
    });
  }
  if (other === null) return reply;
  return new MinerError('protocol', `answered ${other} to '${command}' (another command's reply)`, {
    requestSent: true,
  });
}

/**
 * The read's section (POOLS, SUMMARY, …) a reply to `command` carries instead of its own, or null.
 * A write's reply is a STATUS alone (CGMINER-API.md §3.1): one carrying POOLS answered some other
 * request (an API, or a caching proxy before it, answering everything alike), not the write.
 */
export function foreignReadSection(command: string, reply: DecodedReply): string | null {
  const own = SECTION_OF[command];
  let other: string | null = null;
  for (const key of Object.keys(reply.body)) {
    if (own?.test(key)) return null;
    if (other === null && KNOWN_SECTIONS.test(key)) other = key;
  }
  return other;
}

function isDecodedReply(value: unknown): value is DecodedReply {
  return isRecord(value) && isRecord(value.body) && isRecord(value.status);
}

export class Replies {
  readonly commands: string[];

  constructor(private readonly map: Readonly<Record<string, unknown>>) {
    this.commands = Object.keys(map);
  }

  /** The decoded reply for a command, successful or not; null when absent or failed to arrive. */
  reply(command: string): DecodedReply | null {
    const value = this.map[command];
    return isDecodedReply(value) ? value : null;
  }

  /** The reply only when its STATUS is a success. */
  ok(command: string): DecodedReply | null {
    const reply = this.reply(command);
    return reply?.ok ? reply : null;
  }

  /** The failure recorded for a command (connection error, STATUS E, access denied). */
  failure(command: string): MinerError | null {
    const value = this.map[command];
    return value instanceof MinerError ? value : null;
  }

  /** Records of a data section (`STATS`, `POOLS`, …) of the first command in `commands` that has it. */
  section(commands: string | string[], name: string): Rec[] {
    for (const command of Array.isArray(commands) ? commands : [commands]) {
      const reply = this.ok(command);
      if (!reply) continue;
      // The section under its name in any case (`"summary":[…]`), the exact one first.
      const found = records(reply.body[name] ?? field(reply.body, name));
      if (found.length > 0) return found;
    }
    return [];
  }

  /** The object `Msg` of a Whatsminer native reply (`get_version`, `status`, `get_error_code`). */
  nativeMsg(command: string): Rec | null {
    const reply = this.ok(command);
    if (!reply) return null;
    const msg = reply.body.Msg ?? reply.body.msg;
    return isRecord(msg) ? msg : null;
  }

  private arrived: [string, DecodedReply][] | undefined;

  /** Every reply that arrived, with its command (listed once per instance: detection and every dialect walk it). */
  all(): readonly [string, DecodedReply][] {
    if (this.arrived === undefined) {
      this.arrived = [];
      for (const command of this.commands) {
        const reply = this.reply(command);
        if (reply) this.arrived.push([command, reply]);
      }
    }
    return this.arrived;
  }

  *failures(): Generator<[string, MinerError]> {
    for (const command of this.commands) {
      const failure = this.failure(command);
      if (failure) yield [command, failure];
    }
  }
}
