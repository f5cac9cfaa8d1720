// A farm's `version` replies repeat: one text per model and firmware, differing only in the server's
// clock (`When`). Decoding and detection are most of what a scan spends per miner beyond its sockets,
// so the scanner decodes each distinct text once and detects each distinct reply once. Both are pure
// (bytes → DecodedReply, replies → Identity) and neither reads `When`, which is the only part of the
// text left out of the key. Bounded: short replies only, and a fixed number of distinct texts.
import { decodeReply } from '../cgminer/decode.js';
import type { DecodedReply, ReplyHold } from '../cgminer/types.js';
import { detect, type Identity } from '../miners/detect.js';
import { Replies } from '../miners/replies.js';

/** Replies longer than this are decoded every time (a `version` reply is a few hundred bytes). */
export const MEMO_MAX_BYTES = 2048;
/** Distinct texts kept; past this, new texts are decoded every time. */
export const MEMO_MAX_ENTRIES = 512;

/** The first `When` value of the STATUS (JSON `"When":123` or text `When=123`). */
const WHEN = /("When"\s*:\s*|\bWhen=)-?\d+/;

export class ReplyMemo {
  private readonly replies = new Map<string, DecodedReply>();
  private readonly identities = new WeakMap<DecodedReply, Identity>();

  /** Texts kept. */
  get size(): number {
    return this.replies.size;
  }

  /**
   * decodeReply, with one decode per distinct text (`When` aside). Throws as decodeReply does. Each
   * reply decoded is charged to `hold` (the endpoint keeps it); one found here is the memo's, not
   * charged again.
   */
  decode(bytes: Uint8Array, command: string, hold?: ReplyHold): DecodedReply {
    const options = hold === undefined ? {} : { hold };
    if (bytes.length > MEMO_MAX_BYTES) return decodeReply(bytes, command, options);
    const key = `${command}\n${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1').replace(WHEN, '$1')}`;
    let reply = this.replies.get(key);
    if (reply === undefined) {
      reply = decodeReply(bytes, command, options);
      if (this.replies.size < MEMO_MAX_ENTRIES) this.replies.set(key, reply);
    }
    return reply;
  }

  /** What `version` alone says: detect() once per distinct reply. */
  identify(version: DecodedReply): Identity {
    let identity = this.identities.get(version);
    if (identity === undefined) {
      identity = detect(new Replies({ version }));
      this.identities.set(version, identity);
    }
    return identity;
  }
}
