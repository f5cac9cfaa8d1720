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

/** Serializes with insertion order, or sorted keys for firmwares whose serializer sorts (BOSminer). */
export function toJson(value: Value, sortKeys = false): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
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
  const keys = sortKeys ? Object.keys(value).sort() : Object.keys(value);
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = value[key];
    if (item === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(key)}:${toJson(item, sortKeys)}`;
  }
  return `${out}}`;
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
