// What every dialect returns, and the few rules they share (fans, counters, hashrate fields).
import type { Identity } from '../detect.js';
import type { Algorithm, ModelSpec } from '../models.js';
import type { Replies } from '../replies.js';
import type { Board, Fan, Pool } from '../types.js';
import { counter, field, num, type Rec, rateWithUnit } from '../values.js';

export interface DialectInput {
  replies: Replies;
  identity: Identity;
  spec: ModelSpec | null;
}

/** A board before its status is decided (that needs the miner's state, known only at the end). */
export interface BoardDraft extends Omit<Board, 'status'> {
  /** Chips the firmware marks bad (`x` in Antminer chip strings, `Bad Chip Count`). */
  bad_chips?: number | null;
  /** The firmware's own verdict where it gives one (`Status: Dead`). */
  firmware_dead?: boolean;
}

export interface Telemetry {
  hashrate: { current_hs: number | null; average_hs: number | null; nominal_hs: number | null };
  uptime_s: number | null;
  accepted: number | null;
  rejected: number | null;
  hw_errors: number | null;
  boards: BoardDraft[];
  fans: Fan[];
  /** Miner-level readings beyond the boards (Whatsminer `Chip Temp Max`, Avalon `TMax`). */
  temp_max_chip_c: number | null;
  temp_max_board_c: number | null;
  temp_inlet_c: number | null;
  power_w: number | null;
  /** Only where the firmware reports it (Whatsminer `Power Rate`); otherwise computed later. */
  efficiency_j_per_th: number | null;
  /** null: take the standard `pools` reply. */
  pools: Pool[] | null;
  errors: { code: string | number | null; message: string }[];
  /** What the firmware says; null lets normalize decide from the hashrate. */
  state: 'mining' | 'sleeping' | null;
  cooling: 'air' | 'hydro' | 'immersion' | null;
  /** Whatsminer `Power Mode` (lower-case: 'normal', 'high', 'low'), which moves MicroBT's limits. */
  power_mode: string | null;
  /** The algorithm the replies name where detection found none (Innosilicon's `coin` Hash Method). */
  algorithm: Algorithm | null;
}

export function emptyTelemetry(): Telemetry {
  return {
    hashrate: { current_hs: null, average_hs: null, nominal_hs: null },
    uptime_s: null,
    accepted: null,
    rejected: null,
    hw_errors: null,
    boards: [],
    fans: [],
    temp_max_chip_c: null,
    temp_max_board_c: null,
    temp_inlet_c: null,
    power_w: null,
    efficiency_j_per_th: null,
    pools: null,
    errors: [],
    state: null,
    cooling: null,
    power_mode: null,
    algorithm: null,
  };
}

export function scaled(value: unknown, unit: number): number | null {
  const n = num(value);
  // "102.23 TH/s" in a GH/s field: the value's own unit wins over the field's.
  if (n === null) return rateWithUnit(value);
  if (n < 0) return null;
  const hs = n * unit;
  return Number.isFinite(hs) ? hs : null; // an overflowed counter is not a rate
}

/** Elapsed and share counters from a cgminer `SUMMARY` record. */
export function applySummaryCounters(out: Telemetry, summary: Rec | undefined): void {
  if (!summary) return;
  out.uptime_s ??= counter(field(summary, 'Elapsed'));
  out.accepted ??= counter(field(summary, 'Accepted'));
  out.rejected ??= counter(field(summary, 'Rejected'));
  out.hw_errors ??= counter(field(summary, 'Hardware Errors'));
}

/** First hashrate among several cgminer labels (in any case), with the unit each label carries. */
export function labelledRate(rec: Rec | undefined, labels: [string, number][]): number | null {
  if (!rec) return null;
  for (const [label, unit] of labels) {
    const raw = field(rec, label);
    if (raw !== undefined) {
      const value = scaled(raw, unit);
      if (value !== null) return value;
    }
  }
  return null;
}

export const CURRENT_LABELS: [string, number][] = [
  ['GHS 5s', 1e9],
  ['MHS 5s', 1e6],
  ['MHS 30s', 1e6],
  ['MHS 1m', 1e6],
  // bfgminer's only current figures (FutureBit Moonlander, Compac): a 20 s and a rolling average.
  ['MHS 20s', 1e6],
  ['MHS rolling', 1e6],
];
// sgminer and teamredminer name their rates in the unit they count in: `KHS 5s` (scrypt), `HS 5s`.
const INTERVAL_LABEL = /^([kmgtp]?)hs (\d+)s$/i;
const INTERVAL_UNIT: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

/**
 * The current hashrate under any of the labels, else over the log interval the miner was started
 * with: cgminer and bfgminer name the field after `--log` (`MHS 10s` for `--log 10`), so a farm that
 * sets it gets a label no list holds. The shortest interval present is the most current.
 */
export function currentRate(rec: Rec | undefined): number | null {
  const labelled = labelledRate(rec, CURRENT_LABELS);
  if (labelled !== null || !rec) return labelled;
  let best: { seconds: number; hs: number } | null = null;
  for (const [key, value] of Object.entries(rec)) {
    const match = INTERVAL_LABEL.exec(key);
    if (!match) continue;
    const seconds = Number(match[2]);
    const hs = scaled(value, INTERVAL_UNIT[(match[1] as string).toLowerCase()] as number);
    if (hs !== null && (best === null || seconds < best.seconds)) best = { seconds, hs };
  }
  return best?.hs ?? null;
}

export const AVERAGE_LABELS: [string, number][] = [
  ['GHS av', 1e9],
  ['MHS av', 1e6],
  // The same average in the other units cgminer forks count in (sgminer's `KHS av` on scrypt).
  ['KHS av', 1e3],
  ['THS av', 1e12],
  ['HS av', 1],
];

/** More fans, boards or pools than any miner has: the rest of a reply's list is dropped. */
export const MAX_FANS = 64;
export const MAX_BOARDS = 32;
export const MAX_POOLS = 64;

/**
 * Fans from RPM slots. A slot reading 0 is not a fan (S9 reports fan1–4 = 0 and spins fan5/fan6;
 * hydro units report four zeros). The exception, decided here: when the unit is air-cooled, at least
 * one fan spins and the model is known to have N fans (model table, else the firmware's fan count),
 * the missing ones are reported at 0 RPM, taken from the zero slots nearest to the spinning ones —
 * a stopped fan on a running miner is exactly what an operator must see.
 */
/** The first slot of the N-slot block starting at 1 + k·N that holds every spinning fan, or null. */
function alignedBlock(spinning: [number, number | null][], size: number): number | null {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const [index] of spinning) {
    lo = Math.min(lo, index);
    hi = Math.max(hi, index);
  }
  if (size < 1 || lo < 1) return null;
  const start = lo - ((lo - 1) % size);
  return hi < start + size ? start : null;
}

/**
 * A slot that cannot be read: `nan`, garbage, or a negative reading (`-1`, the unread sentinel). It
 * is still one of the fans expected, of unknown speed; a negative reading is kept as it came, so
 * that normalize says what it ignored (a -1 dropped here took the fan out of the count unseen).
 */
const unreadRpm = (rpm: number | null): boolean => rpm === null || rpm < 0;

/** Whether the boards hash now: a stopped fan set matters only then (thermal-facts §6 air rule). */
export const isHashing = (out: Telemetry): boolean => (out.hashrate.current_hs ?? 0) > 0;

/**
 * Every fan reads 0 rpm. Asleep, stopped or hydro, that is no fan at all ([]): nothing to judge.
 * While the boards hash, on a unit that expects fans, it is either every fan stopped or immersion
 * (thermal-facts §1: readings cannot tell them apart; a cooling tag in the thermal config can), so
 * the fans are kept as stopped ones and the air default judges them, instead of vanishing and
 * leaving an air unit with dead fans "ok".
 */
function allStopped(slots: [number, number | null][], expected: number | null, hashing: boolean): Fan[] {
  if (!hashing || expected === null || expected < 1 || expected > MAX_FANS) return [];
  // A slot that cannot be read is a fan of unknown speed, and the first of the fans expected: the
  // spare slots' zeros only fill what remains (an S9's one fan unread is not its fan 1 stopped).
  const unread: number[] = [];
  const zeros: number[] = [];
  const readings = new Map<number, number | null>();
  for (const [index, rpm] of slots) {
    if (unreadRpm(rpm)) {
      unread.push(index);
      readings.set(index, rpm);
    } else if (rpm === 0) zeros.push(index);
  }
  // Nothing readable at all: which slots are fans is not known, so none is named.
  if (zeros.length === 0) return [];
  unread.sort((a, b) => a - b);
  zeros.sort((a, b) => a - b);
  const fans: Fan[] = unread.slice(0, expected).map((index) => ({ index, rpm: readings.get(index) ?? null }));
  for (const index of zeros.slice(0, expected - fans.length)) fans.push({ index, rpm: 0 });
  return fans.sort((a, b) => a.index - b.index);
}

export function fansFromSlots(
  slots: [number, number | null][],
  expected: number | null,
  hashing = false,
): Fan[] {
  const spinning = slots.filter(([, rpm]) => rpm !== null && rpm > 0);
  if (spinning.length === 0) return allStopped(slots, expected, hashing);
  const fans: Fan[] = spinning.map(([index, rpm]) => ({ index, rpm }));
  // A fan count beyond any miner's is not believed (normalize drops fans past MAX_FANS and says
  // so); it also keeps the nearest-slot search below bounded whatever the reply holds.
  const plausible = expected !== null && expected <= MAX_FANS && spinning.length <= MAX_FANS;
  const missing = plausible ? expected - spinning.length : 0;
  if (missing > 0) {
    // Bitmain places N fans in N consecutive slots starting at 1 + a multiple of N (S9 5-6, S19
    // 1-4, T15 1-2): a stopped fan is the zero slot of that block, not whichever zero is nearest
    // (slots 4 and 6 are equally near a spinning 5).
    // A slot whose reading cannot be read (`nan`, garbage) is one of those fans, of unknown speed
    // (rpm null): counted as stopped, it was a false alarm, and it pushed a spare slot's 0 in as a fan.
    const block = alignedBlock(spinning, expected as number);
    if (block !== null) {
      const inBlock = slots.filter(
        ([index, rpm]) =>
          (rpm === 0 || unreadRpm(rpm)) && index >= block && index < block + (expected as number),
      );
      if (inBlock.length === missing) {
        for (const [index, rpm] of inBlock) fans.push({ index, rpm });
        return fans.sort((a, b) => a.index - b.index);
      }
    }
    const distance = (index: number) => {
      let nearest = Number.POSITIVE_INFINITY;
      for (const [s] of spinning) nearest = Math.min(nearest, Math.abs(s - index));
      return nearest;
    };
    // The nearest slots; at one distance an unread slot before a zero (it is a fan the firmware lists).
    const stopped = slots
      .filter(([, rpm]) => rpm === 0 || unreadRpm(rpm))
      .map(([index, rpm]) => ({ index, rpm, distance: distance(index) }))
      .sort(
        (a, b) =>
          a.distance - b.distance ||
          Number(!unreadRpm(a.rpm)) - Number(!unreadRpm(b.rpm)) ||
          a.index - b.index,
      )
      .slice(0, missing);
    for (const { index, rpm } of stopped) fans.push({ index, rpm });
  }
  return fans.sort((a, b) => a.index - b.index);
}

/** The snapshot error code of a 0-rpm slot left unjudged beside turning fans (thermal notes it). */
export const FAN_UNJUDGED = 'fan_unjudged';

/**
 * Slots reading 0 beside turning fans that `fansFromSlots` left out (no fan count says they are
 * fans: a firmware that lists spare slots, as Braiins OS does on an S9, shows them as 0). While the
 * boards hash, that may be a stopped fan: it is said, never dropped silently (thermal notes it).
 */
export function noteUnjudgedFans(
  out: Telemetry,
  slots: [number, number | null][],
  whose: string,
  name: (index: number) => string = (index) => `fan ${index}`,
): void {
  if (!isHashing(out) || !slots.some(([, rpm]) => rpm !== null && rpm > 0)) return;
  const kept = new Set(out.fans.map((fan) => fan.index));
  const left = slots.filter(([index, rpm]) => rpm === 0 && !kept.has(index)).map(([index]) => name(index));
  if (left.length === 0) return;
  // A hostile reply's thousand zero slots make one bounded line.
  const named =
    left.length > 8 ? `${left.slice(0, 8).join(', ')} and ${left.length - 8} more` : left.join(', ');
  out.errors.push({
    code: FAN_UNJUDGED,
    message: `${named} at 0 rpm beside turning fans, not judged: ${whose} fan count is not known (a spare slot or a stopped fan)`,
  });
}
