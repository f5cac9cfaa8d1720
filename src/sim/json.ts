// A tiny JSON writer that keeps the number formats real firmwares print (`%.2f`, `%f`, integers)
// and the key order of the captures; JSON.stringify can do neither.

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

/** Characters JSON.stringify escapes in a string (quote, backslash, controls, lone surrogates). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(text)`, without its generic entry cost for the common plain string. */
export function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** A key as it opens a record (`{"key":`) and as it follows another (`,"key":`). */
interface QuotedKey {
  first: string;
  next: string;
}

/**
 * Record keys are the firmware's field names (a few hundred across all profiles), quoted on every
 * reply before; cached, bounded so that odd keys cannot grow the cache without end.
 */
const quotedKeys = new Map<string, QuotedKey>();
const QUOTED_KEYS_LIMIT = 4096;

function quotedKey(key: string): QuotedKey {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    const q = `${quote(key)}:`;
    quoted = { first: `{${q}`, next: `,${q}` };
    if (quotedKeys.size < QUOTED_KEYS_LIMIT) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/** Serializes with insertion order, or sorted keys for firmwares whose serializer sorts (BOSminer). */
export function toJson(value: Value, sortKeys = false): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      return formatNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
  }
  if (value === null) return 'null';
  if (value instanceof Fixed) return formatFixed(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += toJson(value[i] as Value, sortKeys);
    }
    return `${out}]`;
  }
  if (sortKeys) return recordJson(value, Object.keys(value).sort());
  // Insertion order: for-in walks the same keys as Object.keys (a Rec is a plain object with
  // nothing enumerable inherited) without building the array.
  let out = '';
  for (const key in value) {
    const item = value[key];
    if (item === undefined) continue;
    const quoted = quotedKey(key);
    out += (out === '' ? quoted.first : quoted.next) + toJson(item, false);
  }
  return out === '' ? '{}' : `${out}}`;
}

function recordJson(record: Rec, keys: string[]): string {
  let out = '';
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    const quoted = quotedKey(key);
    out += (out === '' ? quoted.first : quoted.next) + toJson(item, true);
  }
  return out === '' ? '{}' : `${out}}`;
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
