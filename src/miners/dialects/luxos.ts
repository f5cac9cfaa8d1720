// LuxOS (LUXminer): bmminer-compatible `stats` plus `devs` per board (MH/s, 0-based IDs), `temps`
// with four labelled board sensors, `fans`, `power`, `config` and `events` (CGMINER-API.md §8.4).
// LuxOS reports board sensors only; its `temp_chip*` strings repeat the board readings, so chip
// temperatures stay null rather than being mislabelled.

import { isHydroModel } from '../models.js';
import {
  ambientTemp,
  bool,
  counter,
  maxOf,
  nonNegative,
  type Rec,
  rpm,
  str,
  sumAll,
  temp,
  watts,
} from '../values.js';
import { chainIndexes, deviceRecord, discoverChains, parseClassicStats } from './antminer.js';
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
  noteUnjudgedFans,
  type Telemetry,
} from './common.js';

const CORNERS = ['TopLeft', 'TopRight', 'BottomLeft', 'BottomRight'] as const;

/**
 * What each corner measures, from the METADATA labels. Only the water sensors of a hydro unit
 * ("Water Inlet", "Water Outlet") are the coolant's inlet and outlet; "Board Intake", "Board
 * Inlet", "Board Exhaust" and "Board Outlet" are the board's own sensors at its intake or exhaust
 * side (an air unit's intake corner runs above room temperature), so they count as board
 * temperatures and never as the ambient or water inlet (thermal-facts §1, §6 rule 2).
 */
function cornerRoles(metadata: Rec | undefined): { board: string[]; inlet: string[]; outlet: string[] } {
  const board: string[] = [];
  const inlet: string[] = [];
  const outlet: string[] = [];
  for (const corner of CORNERS) {
    const entry = metadata?.[corner];
    const label = typeof entry === 'object' && entry !== null ? str((entry as Rec).Label) : null;
    if (label !== null && /water|coolant|fluid/i.test(label)) {
      if (/intake|inlet/i.test(label)) inlet.push(corner);
      else if (/exhaust|outlet/i.test(label)) outlet.push(corner);
      continue;
    }
    board.push(corner);
  }
  return { board, inlet, outlet };
}

/**
 * The stats chain number of devs ID 0. The chains found hashing must fit the devs list, and the
 * first chain slot the firmware lists (1 on LuxOS) is taken when it fits: a dead first chain (no
 * chips, so not found) must not shift every other board onto its neighbour's chips.
 */
function chainBase(device: Rec, boardCount: number): number {
  const hashing = discoverChains(device, chainIndexes(device));
  const slots = chainIndexes(device).chain_acn;
  const first = slots.length > 0 ? Math.min(...slots.slice(0, 64)) : (hashing[0] ?? 1);
  if (hashing.length === 0 || boardCount === 0) return first;
  const lowest = (hashing[hashing.length - 1] as number) - boardCount + 1;
  const highest = hashing[0] as number;
  return Math.min(Math.max(first, lowest), highest);
}

export function parseLuxos(input: DialectInput): Telemetry {
  const { replies, spec } = input;
  const device = deviceRecord(replies.section('stats', 'STATS'));
  const out = device ? parseClassicStats(input, device) : emptyTelemetry();
  const summary = replies.section('summary', 'SUMMARY')[0];
  // LuxOS summary GHS fields are GH/s; they are the firmware's own totals.
  out.hashrate.current_hs = labelledRate(summary, CURRENT_LABELS) ?? out.hashrate.current_hs;
  out.hashrate.average_hs = labelledRate(summary, AVERAGE_LABELS) ?? out.hashrate.average_hs;
  applySummaryCounters(out, summary);

  // Boards: devs IDs are 0-based; the stats chains are numbered from their first slot.
  const devs = replies.section(['devs', 'edevs'], 'DEVS');
  const base = device ? chainBase(device, devs.length) : 1;
  const chainByDevId = new Map<number, BoardDraft>();
  for (const b of out.boards) chainByDevId.set(b.index - base, b);
  const boards = new Map<number, BoardDraft>();
  devs.forEach((dev, i) => {
    const id = counter(dev.ID) ?? counter(dev.ASC) ?? i;
    const chain = chainByDevId.get(id);
    boards.set(id, {
      index: id,
      hashrate_hs: labelledRate(dev, CURRENT_LABELS),
      chips: chain?.chips ?? null,
      chips_expected: chain?.chips_expected ?? spec?.chipsPerBoard ?? null,
      temp_board_c: temp(dev.Temperature),
      temp_chip_c: null,
      frequency_mhz: chain?.frequency_mhz ?? null,
      bad_chips: chain?.bad_chips ?? null,
      firmware_dead: String(dev.Status ?? '').toLowerCase() === 'dead',
    });
  });
  const nominal = sumAll(devs.map((d) => nonNegative(d['Nominal MHS'])));
  if (nominal !== null) out.hashrate.nominal_hs = nominal * 1e6;
  if (boards.size === 0)
    for (const [id, chain] of chainByDevId) boards.set(id, { ...chain, index: id, temp_chip_c: null });

  const roles = cornerRoles(replies.section('temps', 'METADATA')[0]);
  replies.section('temps', 'TEMPS').forEach((reading, i) => {
    const id = counter(reading.ID) ?? i;
    const board = boards.get(id);
    if (!board) return;
    board.temp_board_c = maxOf(roles.board.map((c) => temp(reading[c]))) ?? board.temp_board_c;
    if (roles.inlet.length > 0) board.temp_inlet_c = maxOf(roles.inlet.map((c) => ambientTemp(reading[c])));
    if (roles.outlet.length > 0) board.temp_outlet_c = maxOf(roles.outlet.map((c) => temp(reading[c])));
  });
  out.boards = [...boards.values()].sort((a, b) => a.index - b.index);

  const fans = replies.section('fans', 'FANS');
  if (fans.length > 0) {
    const slots = fans.map((fan, i): [number, number | null] => [counter(fan.ID) ?? i, rpm(fan.RPM)]);
    // LuxOS lists no FANS on hydro or immersion (thermal-facts §1): on a model the table lacks, a
    // listed set all at 0 while the boards hash is a stopped fan set, not none (it vanished, and the
    // miner read "ok"); a 0 beside turning fans is said, not judged (no count says it is a fan).
    const turning = slots.some(([, speed]) => speed !== null && speed > 0);
    const unlisted = turning || isHydroModel(input.identity.model) ? null : slots.length;
    out.fans = fansFromSlots(slots, spec?.fans ?? unlisted, isHashing(out));
    const names = new Map(fans.map((fan, i) => [counter(fan.ID) ?? i, str(fan.FAN)]));
    if (spec?.fans === undefined)
      noteUnjudgedFans(
        out,
        slots,
        `the ${input.identity.model ?? 'unknown model'}'s`,
        (index) => names.get(index) ?? `fan ${index}`,
      );
  }
  out.power_w = watts(replies.section('power', 'POWER')[0]?.Watts) ?? out.power_w;

  const config = replies.section('config', 'CONFIG')[0];
  const cooling = str(config?.Cooling)?.toLowerCase();
  if (bool(config?.ImmersionMode) === true || cooling === 'immersion') out.cooling = 'immersion';
  else if (cooling === 'hydro' || cooling === 'water') out.cooling = 'hydro';
  else if (cooling === 'air') out.cooling = 'air';
  const curtail = str(config?.CurtailMode)?.toLowerCase();
  if (curtail !== undefined && curtail !== 'none') out.state = 'sleeping';
  else if (curtail === 'none') out.state = 'mining';

  for (const event of replies.section('events', 'EVENTS')) {
    out.errors.push({
      code: str(event.Code),
      message: str(event.Description) ?? str(event.Code) ?? 'LuxOS event',
    });
  }
  return out;
}
