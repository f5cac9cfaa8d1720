// Framing: which bytes of what arrived form the reply, and how they become text. Pure.
//
// The reply ends at the first NUL (upstream cgminer) or at EOF (firmwares that send none), with two
// repairs for hostile or broken peers: NUL bytes before any content are skipped rather than read as
// an empty reply, and a reply in UTF-16 (a byte-order mark, or the unmistakable `{\0"\0` pattern) ends
// at a 16-bit NUL instead of at the first zero byte of its first character.

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

export interface Frame {
  /** The reply bytes: leading NULs and the terminating NUL left out. */
  bytes: Uint8Array;
  encoding: TextEncoding;
  /** A NUL ended the frame (upstream cgminer always sends one; some firmwares do not). */
  terminated: boolean;
  /** Bytes followed the first NUL (cgminer 4.11.1 can send two frames, CGMINER-API.md §15). */
  extra: boolean;
  /** NUL bytes came before the reply. */
  leadingNul: boolean;
}

/** Bytes needed to tell UTF-16 from UTF-8; a shorter reply is read as UTF-8. */
export const SNIFF_BYTES = 4;

/** The encoding of a reply from its first bytes (at least SNIFF_BYTES of them unless it is shorter). */
export function sniffEncoding(head: Uint8Array): TextEncoding {
  const [b0, b1, b2, b3] = head;
  if (b0 === 0xff && b1 === 0xfe) return 'utf-16le';
  if (b0 === 0xfe && b1 === 0xff) return 'utf-16be';
  if (head.length >= SNIFF_BYTES) {
    // ASCII in UTF-16 without a byte-order mark: every other byte is zero.
    if (b0 !== 0 && b1 === 0 && b2 !== 0 && b3 === 0) return 'utf-16le';
    if (b0 === 0 && b1 !== 0 && b2 === 0 && b3 !== 0) return 'utf-16be';
  }
  return 'utf-8';
}

/** Whether the first bytes of a reply (fewer than SNIFF_BYTES) may still turn out to be UTF-16. */
function mayBeUtf16(head: Uint8Array): boolean {
  const at = (i: number, test: (byte: number) => boolean) => i >= head.length || test(head[i] as number);
  const zero = (byte: number) => byte === 0;
  const nonZero = (byte: number) => byte !== 0;
  // Both bytes of a mark: FF FE or FE FF (`FF 41 00` is no mark, and ends at its NUL).
  const bom = at(0, (b) => b === 0xff || b === 0xfe) && at(1, (b) => b === (head[0] === 0xff ? 0xfe : 0xff));
  const little = at(0, nonZero) && at(1, zero) && at(2, nonZero);
  const big = at(0, zero) && at(1, nonZero) && at(2, zero);
  return bom || little || big;
}

/** Index of the terminating 16-bit NUL at or after `from` (an even offset), or -1. */
function utf16Terminator(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 1 < bytes.length; i += 2) if (bytes[i] === 0 && bytes[i + 1] === 0) return i;
  return -1;
}

/** Index of the first byte that is not NUL, or `bytes.length`. */
function skipNuls(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  return i;
}

/** The first terminated frame, or everything when no terminator came. */
export function firstFrame(bytes: Uint8Array): Frame {
  const encoding = sniffEncoding(bytes.subarray(0, SNIFF_BYTES));
  if (encoding !== 'utf-8') {
    const end = utf16Terminator(bytes, 0);
    if (end === -1) return { bytes, encoding, terminated: false, extra: false, leadingNul: false };
    return {
      bytes: bytes.subarray(0, end),
      encoding,
      terminated: true,
      extra: end + 2 < bytes.length,
      leadingNul: false,
    };
  }
  const start = skipNuls(bytes);
  const nul = bytes.indexOf(0, start);
  const leadingNul = start > 0 && start < bytes.length;
  if (nul === -1)
    return { bytes: bytes.subarray(start), encoding, terminated: false, extra: false, leadingNul };
  return {
    bytes: bytes.subarray(start, nul),
    encoding,
    terminated: true,
    extra: nul + 1 < bytes.length,
    leadingNul,
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const lenientUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: false });

/** UTF-8 with U+FFFD for invalid sequences (as pyasic does); says whether any were replaced. */
export function decodeUtf8(bytes: Uint8Array): { text: string; invalid: boolean } {
  try {
    return { text: strictUtf8.decode(bytes), invalid: false };
  } catch {
    return { text: lenientUtf8.decode(bytes), invalid: true };
  }
}

/** The text of a frame in its encoding; `invalid` when some bytes had to be replaced by U+FFFD. */
export function decodeFrameText(frame: Frame): { text: string; invalid: boolean } {
  if (frame.encoding === 'utf-8') return decodeUtf8(frame.bytes);
  // A lone byte at the end cannot be a UTF-16 code unit: the reply was cut.
  const invalid = frame.bytes.length % 2 === 1;
  const text = new TextDecoder(frame.encoding, { fatal: false, ignoreBOM: false }).decode(frame.bytes);
  return { text, invalid: invalid || text.includes('\ufffd') };
}

/**
 * Collects the chunks of one reply as they arrive: complete at the terminator of the first frame
 * (by the rules of firstFrame), over the cap as soon as one byte more than `maxBytes` arrived
 * before it (only the part of a chunk within the cap is kept, so memory stays ≤ maxBytes; a UTF-8
 * NUL just past it, ending a reply of exactly `maxBytes`, completes it). Linear: each byte is
 * looked at once.
 */
export class FrameReader {
  private readonly chunks: Uint8Array[] = [];
  private received = 0;
  private state: 'reading' | 'complete' | 'too_large' = 'reading';
  private encoding: TextEncoding | null = null;
  /** UTF-8: a byte other than NUL has arrived, so the next NUL ends the reply. */
  private contentStarted = false;
  /** UTF-16: the byte before the current chunk, and whether it began a code unit. */
  private previousByte = -1;

  constructor(private readonly maxBytes: number) {}

  /** Adds a chunk; says whether the reply is complete, still coming, or over the cap. */
  push(chunk: Uint8Array): 'reading' | 'complete' | 'too_large' {
    if (this.state !== 'reading') return this.state;
    const room = this.maxBytes - this.received;
    if (chunk.length <= room) return this.add(chunk);
    // Past the cap, unless the reply ends within it: one read can hold the reply, its NUL and
    // what follows (cgminer's second frame, CGMINER-API.md §15), which is not the reply's to count.
    if (room > 0) this.add(chunk.subarray(0, room));
    this.received += chunk.length - room;
    // A NUL right past the cap ends a reply of exactly `maxBytes`: it frames the reply, it is not
    // part of it (nor kept). UTF-16's two-byte terminator past the cap still counts against it.
    if (this.state === 'reading' && this.encoding === 'utf-8' && this.contentStarted && chunk[room] === 0)
      this.state = 'complete';
    if (this.state === 'reading') this.state = 'too_large';
    return this.state;
  }

  /** Keeps a chunk that fits the cap and looks for the terminator in it. */
  private add(chunk: Uint8Array): 'reading' | 'complete' | 'too_large' {
    const offset = this.received;
    this.received += chunk.length;
    this.chunks.push(chunk);
    if (this.encoding === null) {
      // Fewer bytes than sniffing needs: wait only while they could still begin UTF-16. A short
      // reply such as `ok\0` from a peer that keeps the socket open is complete at its NUL.
      if (this.received < SNIFF_BYTES && mayBeUtf16(this.bytes())) return this.state;
      // Enough bytes to choose: look at everything kept so far once, then only at new chunks.
      const head = this.bytes();
      this.encoding = sniffEncoding(head.subarray(0, SNIFF_BYTES));
      if (this.scan(head, 0)) this.state = 'complete';
      return this.state;
    }
    if (this.scan(chunk, offset)) this.state = 'complete';
    return this.state;
  }

  /** True when `chunk`, starting at absolute offset `offset`, holds the terminator. */
  private scan(chunk: Uint8Array, offset: number): boolean {
    if (this.encoding === 'utf-8') {
      let i = 0;
      if (!this.contentStarted) {
        while (i < chunk.length && chunk[i] === 0) i++;
        if (i === chunk.length) return false;
        this.contentStarted = true;
      }
      return chunk.indexOf(0, i) !== -1;
    }
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      // The second byte of a code unit sits at an odd absolute offset.
      if ((offset + i) % 2 === 1 && byte === 0 && this.previousByte === 0) return true;
      this.previousByte = byte;
    }
    return false;
  }

  /** Bytes received so far, counting a chunk refused for the cap. */
  get length(): number {
    return this.received;
  }

  /**
   * Lets go of the bytes kept (the caller has what it needs). An Error built inside a socket callback
   * keeps that callback's closure alive through its captured stack, and with it this reader: a
   * thousand failed replies held for a report must not hold their bytes too.
   */
  clear(): void {
    this.chunks.length = 0;
  }

  /** The bytes kept (everything up to the cap), joined. */
  bytes(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0] as Uint8Array;
    const out = new Uint8Array(this.chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    // Keep one copy: the chunks are garbage from here on.
    this.chunks.length = 0;
    this.chunks.push(out);
    return out;
  }
}
