// Read-only access to the replies of one poll: `{command: DecodedReply | MinerError}`. Total: any
// missing command, failed member or odd body reads as "no data", never as an exception.
import type { DecodedReply } from '../cgminer/types.js';
import { MinerError } from '../errors.js';
import { isRecord, type Rec, records } from './values.js';

export type ReplyMap = Record<string, DecodedReply | MinerError>;

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
      const found = records(reply.body[name]);
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
