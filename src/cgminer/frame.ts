// Framing: which bytes of what arrived form the reply, and how they become text. Pure.

export interface Frame {
  /** The reply bytes without the terminating NUL. */
  bytes: Uint8Array;
  /** A NUL ended the frame (upstream cgminer always sends one; some firmwares do not). */
  terminated: boolean;
  /** Bytes followed the first NUL (cgminer 4.11.1 can send two frames, CGMINER-API.md §15). */
  extra: boolean;
}

/** The first NUL-terminated frame, or everything when no NUL came. */
export function firstFrame(bytes: Uint8Array): Frame {
  const nul = bytes.indexOf(0);
  if (nul === -1) return { bytes, terminated: false, extra: false };
  return { bytes: bytes.subarray(0, nul), terminated: true, extra: nul + 1 < bytes.length };
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

/** True once `chunk` holds the end of a reply (a NUL). */
export function containsTerminator(chunk: Uint8Array): boolean {
  return chunk.indexOf(0) !== -1;
}

/**
 * Collects the chunks of one reply as they arrive: complete at the first NUL, over the cap as soon
 * as one byte more than `maxBytes` arrived (that chunk is not kept, so memory stays ≤ maxBytes).
 */
export class FrameReader {
  private readonly chunks: Uint8Array[] = [];
  private received = 0;
  private state: 'reading' | 'complete' | 'too_large' = 'reading';

  constructor(private readonly maxBytes: number) {}

  /** Adds a chunk; says whether the reply is complete, still coming, or over the cap. */
  push(chunk: Uint8Array): 'reading' | 'complete' | 'too_large' {
    if (this.state !== 'reading') return this.state;
    this.received += chunk.length;
    if (this.received > this.maxBytes) {
      this.state = 'too_large';
      return this.state;
    }
    this.chunks.push(chunk);
    if (containsTerminator(chunk)) this.state = 'complete';
    return this.state;
  }

  /** Bytes received so far, counting a chunk refused for the cap. */
  get length(): number {
    return this.received;
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
    return out;
  }
}
