// Bitmain stock firmware (bmminer / Bitmain cgminer): the classic `stats` device record with chains
// discovered from the data (1–3, 6–8 on S9, 1,2,4 on Z15 Pro, nine on E3), and the "new_api" shape
// of the S21 era (CGMINER-API.md §8.1). Also the base of every aftermarket firmware on bmminer.
import { fold } from '../../util/fold.js';
import { ghsFieldUnit, isHydroModel, type ModelSpec, unitMultiplier } from '../models.js';
import {
  allValues,
  ambientTemp,
  counter,
  dashList,
  dashSlots,
  firstOf,
  leadingNumber,
  maxOf,
  num,
  positive,
  type Rec,
  rateIn,
  records,
  rpm,
  sumAll,
  sumOf,
  temp,
  watts,
} from '../values.js';
import {
  AVERAGE_LABELS,
  applySummaryCounters,
  type BoardDraft,
  CURRENT_LABELS,
  type DialectInput,
  emptyTelemetry,
  fansFromSlots,
  isHashing,
  labelledRate,
  MAX_BOARDS,
  scaled,
  type Telemetry,
} from './common.js';

/** The device record of a classic `stats` reply: the entry after the header that carries the data. */
export function deviceRecord(stats: Rec[]): Rec | undefined {
  return stats.find(
    (rec) => 'ID' in rec || Object.keys(rec).some((k) => k.startsWith('chain_') || k.startsWith('GHS')),
  );
}

/**
 * A new_api stats record: a `chain` list, or (an S21 whose firmware sent `chain` null or none)
 * the schema's own totals (`rate_avg`, `rate_5s`) without the classic layout's `GHS`/`ID` keys.
 */
function isNewApiRecord(rec: Rec): boolean {
  if (Array.isArray(rec.chain) || rec.chain === null) return true;
  return (
    rec.chain === undefined &&
    ('rate_avg' in rec || 'rate_5s' in rec) &&
    !('ID' in rec) &&
    !Object.keys(rec).some(
      (k) => k.startsWith('GHS') || k.startsWith('chain_acn') || k.startsWith('chain_rate'),
    )
  );
}

/** A reply whose `STATS[0]` is of the new_api schema. */
export function newApiStats(input: DialectInput): Rec | undefined {
  for (const [, reply] of input.replies.all()) {
    if (!reply.ok) continue;
    const first = records(reply.body.STATS)[0];
    if (first && isNewApiRecord(first)) return first;
  }
  return undefined;
}

function badChips(acs: unknown): number | null {
  if (typeof acs !== 'string' || acs.trim() === '') return null;
  return (acs.match(/x/gi) ?? []).length;
}

const CHAIN_PREFIXES = [
  'chain_acn',
  'chain_rate',
  'chain_xtime',
  'chain_offside_',
  'chain_opencore_',
  'chain_SN',
  'chain_power',
  'chain_consumption',
  'fan',
] as const;
type ChainPrefix = (typeof CHAIN_PREFIXES)[number];

/** The `chain_…` prefixes by the character after `chain_` (a stats record has dozens of chain keys). */
const CHAIN_PREFIX_BY_CHAR = new Map<number, ChainPrefix[]>();
for (const prefix of CHAIN_PREFIXES) {
  if (!prefix.startsWith('chain_')) continue;
  const code = prefix.charCodeAt(6);
  CHAIN_PREFIX_BY_CHAR.set(code, [...(CHAIN_PREFIX_BY_CHAR.get(code) ?? []), prefix]);
}

function isDigits(text: string, from: number): boolean {
  if (from >= text.length) return false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** The number the digits from `from` on write (isDigits holds): Number(slice) without the slice. */
function digitsValue(text: string, from: number): number {
  let n = 0;
  for (let i = from; i < text.length; i++) n = n * 10 + (text.charCodeAt(i) - 0x30);
  return n;
}

/**
 * The N of every `prefix` + N key (as values.indexedKeys finds them: distinct, ascending), for all
 * the prefixes of a stats device record in one pass over its keys: a device record has a hundred or
 * more, and this runs for every Antminer on every cycle.
 */
export function chainIndexes(device: Rec): Record<ChainPrefix, number[]> {
  const found: Record<ChainPrefix, number[]> = {
    chain_acn: [],
    chain_rate: [],
    chain_xtime: [],
    chain_offside_: [],
    chain_opencore_: [],
    chain_SN: [],
    chain_power: [],
    chain_consumption: [],
    fan: [],
  };
  let unsorted = false;
  // for…in, not Object.keys: no copy of a hundred keys per record (own keys only: see hasOwn below).
  for (const key in device) {
    // Every prefix starts `chain_` or `fan`: most keys are out after two character reads.
    const first = key.charCodeAt(0);
    let prefix: ChainPrefix | undefined;
    if (first === 0x66) {
      if (key.startsWith('fan')) prefix = 'fan';
    } else if (first === 0x63 && key.startsWith('chain_')) {
      const candidate = CHAIN_PREFIX_BY_CHAR.get(key.charCodeAt(6));
      if (candidate !== undefined) prefix = candidate.find((p) => key.startsWith(p));
    }
    if (prefix === undefined || !isDigits(key, prefix.length) || !Object.hasOwn(device, key)) continue;
    const list = found[prefix];
    const n = digitsValue(key, prefix.length);
    if (list.length > 0 && n <= (list[list.length - 1] as number)) unsorted = true;
    list.push(n);
  }
  if (unsorted) {
    for (const prefix of CHAIN_PREFIXES) {
      const list = found[prefix];
      if (list.length > 1) found[prefix] = [...new Set(list)].sort((a, b) => a - b);
    }
  }
  return found;
}

/** Chains that exist: chips detected or hashing; else (boards powered down) the per-chain bookkeeping keys. */
export function discoverChains(
  device: Rec,
  indexes: Record<ChainPrefix, number[]> = chainIndexes(device),
): number[] {
  const strong = new Set<number>();
  for (const n of indexes.chain_acn) if ((num(device[`chain_acn${n}`]) ?? 0) > 0) strong.add(n);
  for (const n of indexes.chain_rate) if ((rateIn(device[`chain_rate${n}`], 1) ?? 0) > 0) strong.add(n);
  if (strong.size > 0) return [...strong].sort((a, b) => a - b);
  const weak = new Set<number>();
  for (const prefix of ['chain_xtime', 'chain_offside_', 'chain_SN'] as const) {
    for (const n of indexes[prefix]) weak.add(n);
  }
  // `chain_opencore_` counts from 0 on some builds (MSKminer S19-88: opencore 0-2 beside xtime 1-3):
  // mixed in, it adds a board that does not exist. It names the chains only when nothing else does.
  if (weak.size === 0) for (const n of indexes.chain_opencore_) weak.add(n);
  return [...weak].sort((a, b) => a - b);
}

/**
 * The H/s unit of per-chain rates, calibrated against the total: Z15 Pro reports the total in
 * ksol/s and the chains in Gsol/s-scale numbers in the same reply. Falls back to the total's unit.
 */
function chainUnit(
  chainSumRaw: number | null,
  totalHs: number | null,
  fallback: number,
  chainSumAll: number | null = chainSumRaw,
): number {
  if (chainSumRaw === null || chainSumRaw <= 0 || totalHs === null || totalHs <= 0) return fallback;
  // Every chain read, in the total's unit, adds up to the total: that is their unit, whatever the
  // outlier filter left out. Two hashing chains a thousand times apart (one board down to a few
  // chips) have no median to judge by: the weak one was kept as the one that read right, and the
  // chains were rescaled to make it the total (36 GH/s shown as 36 TH/s, 37 TH/s as 37 PH/s).
  if (chainSumAll !== null && chainSumAll > 0) {
    const asIs = totalHs / (chainSumAll * fallback);
    if (asIs > 0.5 && asIs < 2) return fallback;
  }
  const exponent = Math.round(Math.log(totalHs / chainSumRaw) / Math.log(1000));
  const unit = 1000 ** exponent;
  const ratio = totalHs / (chainSumRaw * unit);
  return ratio > 0.5 && ratio < 2 ? unit : fallback;
}

/**
 * Chain rates without the ones a thousand times above the median of the others (one chain's
 * garbage value, 1e20, would otherwise set the unit of every chain and zero the ones that read
 * right). Real chains of one miner stay within a few times of each other.
 */
function withoutOutliers(rates: (number | null)[]): (number | null)[] {
  const positive = rates.filter((r): r is number => r !== null && r > 0).sort((a, b) => a - b);
  if (positive.length < 2) return rates;
  const median = positive[Math.floor((positive.length - 1) / 2)]!;
  return rates.map((r) => (r !== null && r > median * 1000 ? null : r));
}

/**
 * A new_api chip reading: °C, or milli-°C on Bitmain-style builds that send strings such as
 * `"47125"` (Elphapex). Between 1,000 and 250,000 a reading can only be milli-degrees, but for the
 * 16-bit "no reading" values (0x7FFF, 0x8000, 0xFFFF) a sensor that failed reports: read as milli,
 * they were a plausible 32.8 or 65.5 °C chip, and a miner with every sensor lost passed as ok.
 */
const SIXTEEN_BIT_SENTINELS = new Set([32767, 32768, 65535]);
function milliOrCelsius(value: number): number | null {
  if (SIXTEEN_BIT_SENTINELS.has(value)) return null;
  return value >= 1000 && value <= 250_000 ? temp(value / 1000) : temp(value);
}

function inletOutlet(
  model: string | null,
  raw: unknown,
  pcb: number[],
): { inlet: number | null; outlet: number | null; board: readonly (number | null)[] } {
  // Only S21-generation hydro units document the order of the four PCB sensors: [0] in, [2] out.
  if (!isHydroModel(model) || !/^S21/i.test(model ?? '')) return { inlet: null, outlet: null, board: pcb };
  // By position, an unreadable value kept in its place: dropped, it moved a board sensor into
  // the outlet's place and the water's into the board's.
  const slots = dashSlots(raw);
  if (slots.length < 3) return { inlet: null, outlet: null, board: pcb };
  // The water's sensors are not the board's: with the board sensors unread, the loop's 40 °C
  // outlet passed for the board's temperature and a miner whose boards went unread was ok.
  const board = slots.filter((_, i) => i !== 0 && i !== 2);
  return { inlet: ambientTemp(slots[0]), outlet: temp(slots[2]), board };
}

/** A hash board the miner should have and does not hash with: no chips, no rate, no readings. */
function deadBoard(index: number, spec: ModelSpec | null): BoardDraft {
  return {
    index,
    hashrate_hs: 0,
    chips: 0,
    chips_expected: spec?.chipsPerBoard ?? null,
    temp_board_c: null,
    temp_chip_c: null,
    frequency_mhz: null,
    bad_chips: null,
  };
}

/**
 * A hash board that fell off the bus leaves its chain slot empty (`chain_acn3: 0`, `chain_rate3: ""`),
 * so discoverChains drops it as one of the spare slots every firmware lists. While the others
 * hash, a model built with N boards that shows fewer has lost one: it is added as a dead board (no
 * chips, no hashrate) in the empty slot nearest the live ones, rather than silently vanishing.
 */
function addMissingBoards(
  out: Telemetry,
  device: Rec,
  indexes: Record<ChainPrefix, number[]>,
  chains: readonly number[],
  spec: ModelSpec | null,
): void {
  const expected = spec?.boards;
  if (expected === undefined || out.boards.length >= expected || !isHashing(out)) return;
  const live = new Set(chains);
  const distance = (n: number) => {
    let nearest = Number.POSITIVE_INFINITY;
    for (const c of chains) nearest = Math.min(nearest, Math.abs(c - n));
    return nearest;
  };
  // Only a slot that reads empty is one: 0 chips, or without a chip count a rate of 0 or "". An
  // unreadable count (`nan`, garbage) says nothing, and would make a hashing board a dead one at 0 H/s.
  const isEmpty = (n: number) => {
    const chips = device[`chain_acn${n}`];
    if (chips !== undefined) return num(chips) === 0;
    const rate = device[`chain_rate${n}`];
    return rate === '' || num(rate) === 0;
  };
  const empty = [...new Set([...indexes.chain_acn, ...indexes.chain_rate])]
    .filter((n) => !live.has(n) && isEmpty(n))
    .sort((a, b) => distance(a) - distance(b) || a - b)
    .slice(0, expected - out.boards.length);
  for (const index of empty) out.boards.push(deadBoard(index, spec));
  out.boards.sort((a, b) => a.index - b.index);
}

export function parseClassicStats(input: DialectInput, device: Rec): Telemetry {
  const out = emptyTelemetry();
  const { identity, spec } = input;
  const summary = input.replies.section('summary', 'SUMMARY')[0];
  const algorithm = identity.algorithm;

  // Total unit: rate_unit when the firmware states it, otherwise the algorithm's (§9).
  let totalUnit = unitMultiplier(device.rate_unit) ?? ghsFieldUnit(algorithm);
  const indexes = chainIndexes(device);
  const chains = discoverChains(device, indexes);
  const chainRates = chains.map((n) => rateIn(device[`chain_rate${n}`], totalUnit));
  const chainSumRaw = sumOf(withoutOutliers(chainRates));
  const total = positive(device['GHS 5s']) ?? positive(device['GHS av']);
  if (algorithm === 'equihash' && total !== null && chainSumRaw !== null && chainSumRaw > 0) {
    // Some Z11/Z15 builds give the total in sol/s while the chains stay in ksol/s: the total is then
    // about 1000 times their sum. Judged on a log scale (10^1.5 to 10^4.5), so that a chain or two
    // unread (the sum short of it) or an unread 5 s total (the average read instead) do not make
    // the total a thousand times too high.
    const ratio = total / chainSumRaw;
    if (ratio > 10 ** 1.5 && ratio < 10 ** 4.5) totalUnit = 1;
  }
  // GHS fields (stats and summary) carry the model's unit; MHS fields are MH/s (Hammer, ccminer builds).
  const mhs = (labels: [string, number][]) => labels.filter(([label]) => label.startsWith('MHS'));
  out.hashrate.current_hs =
    scaled(device['GHS 5s'], totalUnit) ??
    labelledRate(device, mhs(CURRENT_LABELS)) ??
    scaled(summary?.['GHS 5s'], totalUnit) ??
    labelledRate(summary, mhs(CURRENT_LABELS));
  out.hashrate.average_hs =
    scaled(device['GHS av'], totalUnit) ??
    labelledRate(device, mhs(AVERAGE_LABELS)) ??
    scaled(summary?.['GHS av'], totalUnit) ??
    labelledRate(summary, mhs(AVERAGE_LABELS));
  const nominal = positive(device.total_rateideal);
  out.hashrate.nominal_hs = nominal === null ? null : nominal * totalUnit;

  const reference = (out.hashrate.current_hs ?? 0) > 0 ? out.hashrate.current_hs : out.hashrate.average_hs;
  const perChainUnit = chainUnit(chainSumRaw, reference, totalUnit, sumOf(chainRates));
  const globalFreq = positive(leadingNumber(device.frequency));
  const hydro = isHydroModel(identity.model);

  for (const n of chains) {
    const rate = rateIn(device[`chain_rate${n}`], totalUnit);
    const pcb = dashList(device[`temp_pcb${n}`]);
    const chip = dashList(device[`temp_chip${n}`]);
    const { inlet, outlet, board: boardSensors } = inletOutlet(identity.model, device[`temp_pcb${n}`], pcb);
    // Z-series inlet/outlet sensors count as board and chip readings too.
    let boardTemp = fold(boardSensors, temp, 'max', fold(allValues(device, `temp${n}`), temp, 'max'));
    boardTemp = fold(dashList(device[`temp_in_pcb_${n}`]), temp, 'max', boardTemp);
    boardTemp = fold(dashList(device[`temp_out_pcb_${n}`]), temp, 'max', boardTemp);
    let chipTemp = fold(chip, temp, 'max', fold(allValues(device, `temp2_${n}`), temp, 'max'));
    chipTemp = fold(dashList(device[`temp_in_chip_${n}`]), temp, 'max', chipTemp);
    chipTemp = fold(dashList(device[`temp_out_chip_${n}`]), temp, 'max', chipTemp);
    const board: BoardDraft = {
      index: n,
      hashrate_hs: rate === null ? null : rate * perChainUnit,
      chips: counter(device[`chain_acn${n}`]),
      chips_expected: spec?.chipsPerBoard ?? null,
      temp_board_c: boardTemp,
      temp_chip_c: chipTemp,
      frequency_mhz:
        firstOf(device, [`freq${n}`, `freq_avg${n}`, `frequency${n}`], (v) => positive(leadingNumber(v))) ??
        globalFreq,
      bad_chips: badChips(device[`chain_acs${n}`]),
    };
    if (inlet !== null || outlet !== null) {
      board.temp_inlet_c = inlet;
      board.temp_outlet_c = outlet;
    }
    out.boards.push(board);
  }
  addMissingBoards(out, device, indexes, chains, spec);

  const fanSlots = indexes.fan.map((n): [number, number | null] => [n, rpm(device[`fan${n}`])]);
  const fanNum = positive(device.fan_num);
  out.fans = fansFromSlots(fanSlots, hydro ? null : (spec?.fans ?? fanNum), isHashing(out));
  out.cooling = hydro ? 'hydro' : out.fans.length > 0 ? 'air' : null;

  out.uptime_s = counter(device.Elapsed);
  applySummaryCounters(out, summary);
  out.hw_errors ??= sumAll(chains.map((n) => counter(device[`chain_hw${n}`])));

  // Mode 254 is the S17/T17 sleep mode. S19 reports its normal Mode while asleep; there the
  // signature is no hashing since boot (current and average 0) with every chip marked `x`. Read as
  // 0, not unread: an overheated S19 that cut its boards (no chips, 0 now) is not asleep because its
  // average could not be read.
  const mode = num(device.Mode);
  const allChipsOff =
    out.boards.length > 0 && out.boards.every((b) => (b.chips ?? 0) === 0 || (b.bad_chips ?? 0) === b.chips);
  if (mode === 254) out.state = 'sleeping';
  else if (
    out.hashrate.current_hs === 0 &&
    out.hashrate.average_hs === 0 &&
    allChipsOff &&
    (out.uptime_s ?? 0) > 300
  ) {
    out.state = 'sleeping';
  }
  out.power_w = watts(device.watt);
  return out;
}

/**
 * The new_api `chain` list leaves out a chain that fell off the bus: while the others hash, a model
 * built with N boards that lists fewer has lost one, added as a dead board (no chips, no hashrate)
 * at the lowest index not listed, as addMissingBoards does for the classic layout. Left out, the
 * miner was ok with a board gone, one its over-temperature guard may have cut.
 */
function addUnlistedChains(out: Telemetry, spec: ModelSpec | null, chainNum: number | null): void {
  // The model's count, else the firmware's own `chain_num` (a model the table does not hold).
  const expected = spec?.boards ?? chainNum;
  if (expected === null || expected > MAX_BOARDS || out.boards.length >= expected || !isHashing(out)) return;
  const listed = new Set(out.boards.map((b) => b.index));
  for (let index = 0; out.boards.length < expected && index < expected + out.boards.length; index++) {
    if (listed.has(index)) continue;
    out.boards.push(deadBoard(index, spec));
  }
  out.boards.sort((a, b) => a.index - b.index);
}

export function parseNewApi(input: DialectInput, stats: Rec): Telemetry {
  const out = emptyTelemetry();
  const { identity, spec } = input;
  const unit = unitMultiplier(stats.rate_unit) ?? ghsFieldUnit(identity.algorithm);
  out.hashrate.current_hs = scaled(stats.rate_5s, unit);
  out.hashrate.average_hs = scaled(stats.rate_avg, unit);
  const ideal = positive(stats.rate_ideal);
  out.hashrate.nominal_hs = ideal === null ? null : ideal * unit;
  out.uptime_s = counter(stats.elapsed);
  const hydro = isHydroModel(identity.model);
  // Without its chain list the record still holds the totals, fans, power and uptime: read those,
  // and say the boards were not. An empty list while hashing names no chain that fell off.
  if (!Array.isArray(stats.chain))
    out.errors.push({
      code: 'no_chains',
      message: 'stats: no chain list (missing or null); boards not read',
    });
  else if (stats.chain.length === 0)
    out.errors.push({ code: 'no_chains', message: 'stats: the chain list is empty; no boards read' });
  for (const [position, chain] of records(stats.chain).entries()) {
    const pcb = dashList(chain.temp_pcb);
    const { inlet, outlet, board: boardSensors } = inletOutlet(identity.model, chain.temp_pcb, pcb);
    const board: BoardDraft = {
      index: counter(chain.index) ?? position,
      hashrate_hs: scaled(chain.rate_real, unit),
      chips: counter(chain.asic_num),
      chips_expected: spec?.chipsPerBoard ?? null,
      temp_board_c: maxOf(boardSensors.map(temp)),
      temp_chip_c: maxOf(dashList(chain.temp_chip).map(milliOrCelsius)),
      frequency_mhz: positive(chain.freq_avg),
      bad_chips: badChips(chain.asic),
    };
    if (inlet !== null || outlet !== null) {
      board.temp_inlet_c = inlet;
      board.temp_outlet_c = outlet;
    }
    out.boards.push(board);
  }
  if (out.boards.length > 0) addUnlistedChains(out, spec, counter(stats.chain_num));
  const fanValues = Array.isArray(stats.fan) ? stats.fan : [];
  out.fans = fansFromSlots(
    fanValues.map((value, i): [number, number | null] => [i, rpm(value)]),
    hydro ? null : (spec?.fans ?? positive(stats.fan_num)),
    isHashing(out),
  );
  out.cooling = hydro ? 'hydro' : out.fans.length > 0 ? 'air' : null;
  out.power_w = watts(stats.watt);
  applySummaryCounters(out, input.replies.section('summary', 'SUMMARY')[0]);
  return out;
}

/** Stock Antminer (and any Bitmain-style `Type` firmware such as Hammer or Blackminer). */
export function parseAntminer(input: DialectInput): Telemetry {
  const classic = deviceRecord(input.replies.section('stats', 'STATS'));
  const modern = newApiStats(input);
  if (classic && !isNewApiRecord(classic)) return parseClassicStats(input, classic);
  if (modern) return parseNewApi(input, modern);
  // Only summary/devs/pools answered (stats refused or missing): totals from the summary.
  const out = emptyTelemetry();
  const summary = input.replies.section('summary', 'SUMMARY')[0];
  const unit = ghsFieldUnit(input.identity.algorithm);
  const mhs = (labels: [string, number][]) => labels.filter(([label]) => label.startsWith('MHS'));
  out.hashrate.current_hs = scaled(summary?.['GHS 5s'], unit) ?? labelledRate(summary, mhs(CURRENT_LABELS));
  out.hashrate.average_hs = scaled(summary?.['GHS av'], unit) ?? labelledRate(summary, mhs(AVERAGE_LABELS));
  applySummaryCounters(out, summary);
  return out;
}
