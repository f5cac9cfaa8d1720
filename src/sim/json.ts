// A tiny JSON writer that keeps the number formats real firmwares print (`%.2f`, `%f`, integers)
// and the key order of the captures; JSON.stringify can do neither. It writes the reply's bytes
// directly (the farm answers thousands of requests a second: up to ~3 KB each, ~10 KB joined).

/** A number printed with a fixed count of decimals, as cgminer's `%.2f` / `%f` do. */
export class Fixed {
  constructor(
    readonly value: number,
    readonly digits: number,
  ) {}
}

/** `fx(1.5, 2)` prints `1.50`. */
export function fx(value: number, digits: number): Fixed {
  return new Fixed(value, digits);
}

export type Value = string | number | boolean | null | Fixed | Value[] | Rec;
export interface Rec {
  [key: string]: Value;
}

export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return String(value);
}

function formatFixed(fixed: Fixed): string {
  if (!Number.isFinite(fixed.value)) return formatNumber(fixed.value);
  return fixed.value.toFixed(fixed.digits);
}

/**
 * Writes JSON straight into bytes. A reply is hundreds of small pieces (keys, numbers,
 * punctuation); built as one string by concatenation they make a rope that must be flattened and
 * encoded again for the socket, garbage that kept the collector busy. Here each piece is copied
 * once into a reused scratch buffer, and `finish()` hands out an exact copy. The bytes are those of
 * `Buffer.from(text)` for the text a string-building writer would make (test/sim/json.test.ts
 * checks that against one; test/sim/wire.test.ts pins every profile's replies).
 */
export class JsonWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Starts a new document in the same scratch buffer. */
  reset(): this {
    this.pos = 0;
    return this;
  }

  /** The document so far as its own buffer (the scratch one is reused), NUL-terminated on request. */
  finish(nul = false): Buffer {
    const out = Buffer.allocUnsafe(nul ? this.pos + 1 : this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    if (nul) out[this.pos] = 0;
    return out;
  }

  toString(): string {
    return this.buf.toString('utf8', 0, this.pos);
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** Text as is, UTF-8 encoded: ASCII byte by byte, the rest through Buffer#write. */
  raw(text: string): void {
    const n = text.length;
    // A UTF-16 unit never takes more than 3 UTF-8 bytes (a pair: 4 bytes for 2 units).
    this.reserve(n * 3);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = pos + buf.write(i === 0 ? text : text.slice(i), pos, 'utf8');
        return;
      }
      buf[pos++] = c;
    }
    this.pos = pos;
  }

  /** Bytes already encoded (short: a cached key). */
  bytes(bytes: Uint8Array): void {
    const n = bytes.length;
    this.reserve(n);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = bytes[i] as number;
    this.pos = pos;
  }

  /** One ASCII byte (punctuation). */
  byte(code: number): void {
    this.reserve(1);
    this.buf[this.pos++] = code;
  }

  /** A JSON string, exactly as JSON.stringify quotes it. */
  string(text: string): void {
    const n = text.length;
    this.reserve(n + 2);
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    buf[pos++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      // Quote, backslash, controls, anything non-ASCII (surrogates need JSON.stringify's care).
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) {
        this.pos = start;
        this.raw(JSON.stringify(text));
        return;
      }
      buf[pos++] = c;
    }
    buf[pos++] = 0x22;
    this.pos = pos;
  }

  /** As `String(value)` (and `nan`, `inf`, `-inf` as firmwares print them). */
  number(value: number): void {
    // 32-bit integers, written digit by digit with integer arithmetic; the rest (large counters,
    // fractions, -0) as String() prints them.
    if ((value | 0) !== value || Object.is(value, -0)) {
      this.raw(formatNumber(value));
      return;
    }
    this.reserve(11);
    const buf = this.buf;
    let n = value;
    if (n < 0) {
      buf[this.pos++] = 0x2d;
      n = -n;
    }
    let digits = 1;
    for (let rest = n; rest >= 10; rest = (rest / 10) | 0) digits++;
    let pos = this.pos + digits;
    this.pos = pos;
    do {
      const next = (n / 10) | 0;
      buf[--pos] = 0x30 + n - next * 10;
      n = next;
    } while (n > 0);
  }

  /** As `value.toFixed(digits)`; whole numbers (counters, difficulties, zeros) skip toFixed. */
  fixed(value: number, digits: number): void {
    // Fractions need toFixed's exact decimal rounding; so do odd digit counts (it throws past 100).
    if (!Number.isSafeInteger(value) || digits > 20) {
      this.raw(Number.isFinite(value) ? value.toFixed(digits) : formatNumber(value));
      return;
    }
    // Exact: a safe integer prints its digits, then the point and `digits` zeros (-0 as 0).
    if (value === 0) this.byte(0x30);
    else this.number(value);
    if (digits === 0) return;
    this.reserve(digits + 1);
    const buf = this.buf;
    let pos = this.pos;
    buf[pos++] = 0x2e;
    for (let i = 0; i < digits; i++) buf[pos++] = 0x30;
    this.pos = pos;
  }

  /** Insertion order, or sorted keys for firmwares whose serializer sorts (BOSminer). */
  value(value: Value, sortKeys: boolean): void {
    switch (typeof value) {
      case 'string':
        this.string(value);
        return;
      case 'number':
        this.number(value);
        return;
      case 'boolean':
        this.raw(value ? 'true' : 'false');
        return;
    }
    if (value === null) {
      this.raw('null');
    } else if (value instanceof Fixed) {
      this.fixed(value.value, value.digits);
    } else if (Array.isArray(value)) {
      this.byte(0x5b);
      for (let i = 0; i < value.length; i++) {
        if (i > 0) this.byte(0x2c);
        this.value(value[i] as Value, sortKeys);
      }
      this.byte(0x5d);
    } else {
      this.record(value, sortKeys);
    }
  }

  /** A record in its own key order, or (BOSminer) sorted, and so are the records inside it. */
  private record(record: Rec, sortKeys: boolean): void {
    const keys = sortKeys ? sortedKeys(record) : Object.keys(record);
    let first = true;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const item = record[key];
      if (item === undefined) continue;
      const quoted = quotedKey(key);
      this.bytes(first ? quoted.first : quoted.next);
      first = false;
      this.value(item, sortKeys);
    }
    this.raw(first ? '{}' : '}');
  }
}

/**
 * The keys in sorted order (as sort() compares: UTF-16 code units). BOSminer's records are written
 * sorted already, so they are checked before being sorted.
 */
function sortedKeys(record: Rec): string[] {
  const keys = Object.keys(record);
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) return keys.sort();
  }
  return keys;
}

/** A key as it opens a record (`{"key":`) and as it follows another (`,"key":`), UTF-8. */
interface QuotedKey {
  first: Uint8Array;
  next: Uint8Array;
}

/**
 * Record keys are the firmware's field names (a few hundred across all profiles): quoted and
 * encoded once, bounded so that odd keys cannot grow the cache without end.
 */
const quotedKeys = new Map<string, QuotedKey>();
const QUOTED_KEYS_LIMIT = 4096;

function quotedKey(key: string): QuotedKey {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    const q = `${JSON.stringify(key)}:`;
    quoted = { first: Buffer.from(`{${q}`, 'utf8'), next: Buffer.from(`,${q}`, 'utf8') };
    if (quotedKeys.size < QUOTED_KEYS_LIMIT) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/** The same document as a string (Whatsminer's sealed replies, nested values in text mode). */
export function toJson(value: Value, sortKeys = false): string {
  const writer = new JsonWriter(256);
  writer.value(value, sortKeys);
  return writer.toString();
}

/** Text-mode value (§3.2): user-originated strings escape `\ | , =`; everything else is raw. */
export function toText(value: Value, escapeStrings: boolean): string {
  if (typeof value === 'string') return escapeStrings ? value.replace(/[\\|,=]/g, '\\$&') : value;
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null) return '';
  if (value instanceof Fixed) return formatFixed(value);
  return toJson(value);
}
