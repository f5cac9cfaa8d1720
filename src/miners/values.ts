// Total, pure readers for the loosely typed values miners send: numbers as strings with padding,
// "" for absent, nan/inf, sentinel temperatures. Every reader returns null rather than guessing.

import { fold } from '../util/fold.js';

export type Rec = Record<string, unknown>;

export function isRecord(value: unknown): value is Rec {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The records of an array-of-objects section; anything else yields []. */
export function records(value: unknown): Rec[] {
  if (Array.isArray(value)) return value.filter(isRecord);
  if (isRecord(value)) return [value];
  return [];
}

// `\d+(?:\.\d*)?`, never `\d+\.?\d*`: the two match the same, but the second can split a run of
// digits between its two `\d` in every way, and on a long one that fails at its end (a hostile
// `"1111…1x"`) it tries them all: quadratic, 40 KB took 3.5 s and no deadline can stop a regex.
const NUMERIC = /^[-+]?(\d+(?:\.\d*)?|\.\d+)(e[-+]?\d+)?$/i;

/** A finite number from a number or a numeric string (`" 69.2461"`, `"156.0000"`); otherwise null. */
export function num(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (!NUMERIC.test(text)) return null;
  const parsed = Number(text);
  return Number.isFinite(parsed) ? parsed : null;
}

const UNIT_PREFIX: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15, e: 1e18 };
const RATE_WITH_UNIT = /^([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)\s*([kmgtpe]?)(?:h|sol)(?:\/s|s|ps)?$/i;

/**
 * A rate that names its own unit (`"102.23 TH/s"`, Whatsminer's `"9529.46 MH/s"`, `"289.94 Ksol/s"`,
 * `"14 THS"`), in H/s; null for anything else, plain numbers included.
 */
export function rateWithUnit(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const match = RATE_WITH_UNIT.exec(value.trim());
  if (!match) return null;
  const hs = Number(match[1]) * (UNIT_PREFIX[(match[2] as string).toLowerCase()] as number);
  return Number.isFinite(hs) && hs >= 0 ? hs : null;
}

/** A rate in the field's own unit (`unit` H/s each): a plain number, or one naming its unit, converted. */
export function rateIn(value: unknown, unit: number): number | null {
  const n = num(value);
  if (n !== null) return n;
  const hs = rateWithUnit(value);
  return hs === null ? null : hs / unit;
}

/**
 * A number, or one written with the unit its field is in (`"65 C"`, `"65°C"`, `"5400 RPM"`): the
 * unit must be the expected one, so a `"149 F"` or a `"60%"` fan stays null rather than misread.
 */
function numWithUnit(value: unknown, unit: RegExp): number | null {
  const n = num(value);
  if (n !== null || typeof value !== 'string') return n;
  const match = unit.exec(value);
  return match ? num(match[1]) : null;
}

const CELSIUS = /^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?:°\s*C|℃|C)\s*$/i;
const RPM = /^\s*(\d+(?:\.\d+)?)\s*rpm\s*$/i;
const WATTS = /^\s*(\d+(?:\.\d+)?)\s*w\s*$/i;

/** A power draw in watts, positive: a number, or one that says `W` (`"3250 W"`); a `kW` or `mW` figure is null. */
export function watts(value: unknown): number | null {
  const n = numWithUnit(value, WATTS);
  return n !== null && n > 0 ? n : null;
}

/** A fan speed in RPM: a number, or one that says `rpm`; null for anything else (a `"60%"` duty). */
export function rpm(value: unknown): number | null {
  return numWithUnit(value, RPM);
}

/** A number that must be positive to mean anything (counts of chips, RPM, watts, MHz). */
export function positive(value: unknown): number | null {
  const n = num(value);
  return n !== null && n > 0 ? n : null;
}

/** A non-negative integer counter (shares, errors); negative or overflowed garbage is rejected. */
export function counter(value: unknown): number | null {
  const n = num(value);
  if (n === null || n < 0) return null;
  const rounded = Math.round(n);
  return Number.isSafeInteger(rounded) ? rounded : null;
}

/** The first leading number of a string such as `"1600M"`, `"289.94 Ksol/s"`, `"967.50 (AB)"`. */
export function leadingNumber(value: unknown): number | null {
  if (typeof value === 'number') return num(value);
  if (typeof value !== 'string') return null;
  const match = /^\s*([-+]?\d+(?:\.\d+)?)/.exec(value);
  return match ? num(match[1]) : null;
}

export function str(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  return text === '' ? null : text;
}

export function bool(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (text === 'true' || text === 'y' || text === 'yes') return true;
    if (text === 'false' || text === 'n' || text === 'no') return false;
  }
  return null;
}

// Readings outside this band are broken sensors (S9 boards report -83, Avalon -273, a dead I2C
// sensor 255 or 0xFFFF), not weather. The top is where a board physically stops being one (solder
// melts at ~220 °C): anything hotter than a chip's limit but below it is kept, so that it is judged
// critical; a reading is never made to vanish for being alarming (a board at 151 °C is not "ok").
const TEMP_MIN_C = -40;
const TEMP_MAX_C = 250;

/**
 * A chip, board or outlet temperature in °C, or null for the sentinels: 0 (sensor absent), -1
 * (a sensor the firmware could not read: `"temp_chip2":"-1--1--1--1"`), -273, and impossible
 * values. A board that hashes is never at -1 °C.
 */
export function temp(value: unknown): number | null {
  const n = celsius(value);
  return n === -1 ? null : n;
}

/**
 * Above this no inlet is weather or coolant (water boils; the config refuses inlet limits past it):
 * it is a sensor's sentinel (127, 200), and judged critical it had `--protect` pause a miner whose
 * boards and chips read cool.
 */
const INLET_MAX_C = 100;

/**
 * An inlet (ambient, intake, coolant-in) temperature: as temp, but -1 °C is kept, because it can be
 * the weather at a cold site and the inlet_low limits are judged on it; above 100 °C it is no inlet.
 */
export function ambientTemp(value: unknown): number | null {
  const n = celsius(value);
  return n !== null && n > INLET_MAX_C ? null : n;
}

function celsius(value: unknown): number | null {
  // To a hundredth of a degree, finer than any sensor reads: 5e-324 is a 0 (the sentinel), not a
  // reading to print as '5e-324°C'.
  const n = round(numWithUnit(value, CELSIUS), 2);
  if (n === null || n === 0 || n < TEMP_MIN_C || n > TEMP_MAX_C) return null;
  return n;
}

/**
 * The values of an Antminer dash string (`"22-53-21-50"`, `"2--1-20-22"`, `"-8--11-10-12"`):
 * a `-` that follows a separator (or starts the string) is a minus sign.
 */
export function dashList(value: unknown): number[] {
  const out: number[] = [];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const n = celsiusOrNumber(value[i]);
      if (n !== null) out.push(n);
    }
    return out;
  }
  if (typeof value !== 'string') return out;
  const parts = value.trim().split('-');
  let negative = false;
  for (const part of parts) {
    if (part === '') {
      negative = true;
      continue;
    }
    const n = celsiusOrNumber(part);
    if (n !== null) out.push(negative ? -n : n);
    negative = false;
  }
  return out;
}

/**
 * A list element: a number, or a numeric string with or without its `C` (`"65.5"`, `"65 C"`), in an
 * array or between the dashes of a sensor string (`"78 °C-50 °C"` was read as no sensor at all).
 */
export const celsiusOrNumber = (value: unknown): number | null => numWithUnit(value, CELSIUS);

/**
 * dashList's values in their positions, null where one cannot be read (`[30, null, 40, 85]`,
 * `"30-nan-40-85"`): where a position names the sensor (S21 hydro: [0] water in, [2] water out), a
 * dropped value must not shift a board sensor into the water's place.
 */
export function dashSlots(value: unknown): (number | null)[] {
  if (Array.isArray(value)) return value.map(celsiusOrNumber);
  if (typeof value !== 'string') return [];
  const parts = value.trim().split('-');
  const out: (number | null)[] = [];
  let negative = false;
  for (const part of parts) {
    if (part === '') {
      negative = true;
      continue;
    }
    const n = celsiusOrNumber(part);
    out.push(n === null ? null : negative ? -n : n);
    negative = false;
  }
  return out;
}

const same = (value: number | null | undefined) => value;

/** The largest finite value, or null (see util/fold.ts for why no for…of or spread). */
export function maxOf(values: readonly (number | null | undefined)[]): number | null {
  return fold(values, same, 'max');
}

/** The sum of the finite values; null when there is none, or when the sum overflows. */
export function sumOf(values: readonly (number | null | undefined)[]): number | null {
  const total = fold(values, same, 'sum');
  return total === null || Number.isFinite(total) ? total : null;
}

/**
 * The total of parts that must all be read: null when any part is unread or none is given. A sum
 * that skipped an unread board, chain or module is a plausible wrong total (two boards' rate, two
 * chains' watts), worse than none.
 */
export function sumAll(values: readonly (number | null | undefined)[]): number | null {
  if (values.length === 0) return null;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === undefined || !Number.isFinite(value)) return null;
  }
  return sumOf(values);
}

/** A number that may be 0 but not negative (a chain's watts, a dead chain's nominal rate). */
export function nonNegative(value: unknown): number | null {
  const n = num(value);
  return n !== null && n >= 0 ? n : null;
}

/** Indices N for which `prefix + N` is a key of the record (e.g. `chain_acn` → 1, 2, 3, 6 …), sorted. */
export function indexedKeys(record: Rec, prefix: string): number[] {
  // A prefix test and a digit scan instead of a RegExp built per call (this runs per miner per cycle).
  const out = new Set<number>();
  for (const key of Object.keys(record)) {
    if (key.length > prefix.length && key.startsWith(prefix) && allDigits(key, prefix.length)) {
      out.add(Number(key.slice(prefix.length)));
    }
  }
  return [...out].sort((a, b) => a - b);
}

function allDigits(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * A record's value under `key`, or under the same key written in another ASCII case: firmwares vary
 * it (BW L21's cgminer 4.10 writes `temperature`, upstream `Temperature`; `MHS 30S` for `MHS 30s`).
 * The exact key wins where both are present; else the first such key in the record's order.
 * A miss walks the keys without allocating: most lookups of candidate keys miss, on records of a
 * hundred keys, and a folded index built per record cost more than it saved.
 */
export function field(record: Rec, key: string): unknown {
  if (Object.hasOwn(record, key)) return record[key];
  const length = key.length;
  for (const own in record) {
    if (own.length === length && sameAsciiFolded(own, key) && Object.hasOwn(record, own)) return record[own];
  }
  return undefined;
}

/** Equal strings of one length but for the case of ASCII letters (a Kelvin sign is no `K`). */
function sameAsciiFolded(a: string, b: string): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y && ((x | 0x20) !== (y | 0x20) || (x | 0x20) < 0x61 || (x | 0x20) > 0x7a)) return false;
  }
  return true;
}

/** The first present (non-null after `read`) value among several candidate keys, in any case. */
export function firstOf<T>(
  record: Rec | null | undefined,
  keys: string[],
  read: (v: unknown) => T | null,
): T | null {
  if (!record) return null;
  for (const key of keys) {
    const raw = field(record, key);
    if (raw !== undefined) {
      const value = read(raw);
      if (value !== null) return value;
    }
  }
  return null;
}

/** Round to a fixed number of decimals so derived values print cleanly and compare stably. */
export function round(value: number | null, decimals = 2): number | null {
  if (value === null) return null;
  const factor = 10 ** decimals;
  // A figure this large has no decimals to drop, and scaled it overflowed: 1e307 J/TH became Infinity.
  const scaled = value * factor;
  return Number.isFinite(scaled) ? Math.round(scaled) / factor : value;
}

/** All values of a key the decoder saw more than once (kept as `key`, `key#2`, …; Hammer D10). */
export function allValues(record: Rec, key: string): unknown[] {
  const out: unknown[] = key in record ? [record[key]] : [];
  for (let n = 2; `${key}#${n}` in record; n++) out.push(record[`${key}#${n}`]);
  return out;
}
