// Braiins OS (BOSminer / BOSminer+ / BOSer): MH/s everywhere, per-chain `devs`, `temps` and `fans`
// sections, chip counts and model in `devdetails` (CGMINER-API.md §8.3). `devs` Temperature is 0.0:
// the readings live in `temps`.
import { isHydroModel } from '../models.js';
import { counter, nonNegative, positive, type Rec, round, rpm, sumAll, temp } from '../values.js';
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

/**
 * A chain's clock in MHz. BOSminer's devdetails gives it in Hz (`"Frequency": 799682118`, an S9 at
 * 800 MHz); no ASIC clocks below 1 MHz or above 5 GHz, so a figure of a million or more is Hz.
 */
function chainFrequency(value: unknown): number | null {
  const frequency = positive(value);
  if (frequency === null || frequency < 1e6) return frequency;
  return round(frequency / 1e6, 2);
}

export function parseBraiins(input: DialectInput): Telemetry {
  const out = emptyTelemetry();
  const { replies, spec } = input;
  const summary = replies.section('summary', 'SUMMARY')[0];
  const devs = replies.section(['devs', 'edevs'], 'DEVS');
  const details = replies.section('devdetails', 'DEVDETAILS');
  const temps = replies.section('temps', 'TEMPS');

  out.hashrate.current_hs =
    labelledRate(summary, CURRENT_LABELS) ?? sumAll(devs.map((d) => labelledRate(d, CURRENT_LABELS)));
  out.hashrate.average_hs =
    labelledRate(summary, AVERAGE_LABELS) ?? sumAll(devs.map((d) => labelledRate(d, AVERAGE_LABELS)));
  const nominal = sumAll(devs.map((d) => nonNegative(d['Nominal MHS'])));
  out.hashrate.nominal_hs = nominal === null ? null : nominal * 1e6;
  applySummaryCounters(out, summary);

  // Chains are keyed by their ID (6, 7, 8 on an S9) in devs, devdetails and temps alike.
  const byId = new Map<number, BoardDraft>();
  const board = (id: number): BoardDraft => {
    let found = byId.get(id);
    if (!found) {
      found = {
        index: id,
        hashrate_hs: null,
        chips: null,
        chips_expected: spec?.chipsPerBoard ?? null,
        temp_board_c: null,
        temp_chip_c: null,
        frequency_mhz: null,
      };
      byId.set(id, found);
    }
    return found;
  };
  const idOf = (rec: Rec, position: number) => counter(rec.ID) ?? counter(rec.ASC) ?? position;
  devs.forEach((dev, i) => {
    const b = board(idOf(dev, i));
    b.hashrate_hs = labelledRate(dev, CURRENT_LABELS);
    b.temp_board_c = temp(dev.Temperature);
    if (String(dev.Status ?? '').toLowerCase() === 'dead') b.firmware_dead = true;
  });
  details.forEach((detail, i) => {
    const chips = counter(detail.Chips);
    if (chips !== null) board(idOf(detail, i)).chips = chips;
    const frequency = chainFrequency(detail.Frequency);
    if (frequency !== null) board(idOf(detail, i)).frequency_mhz = frequency;
  });
  temps.forEach((reading, i) => {
    const b = board(idOf(reading, i));
    b.temp_board_c = temp(reading.Board) ?? b.temp_board_c;
    b.temp_chip_c = temp(reading.Chip);
  });
  out.boards = [...byId.values()].sort((a, b) => a.index - b.index);

  const fans = replies.section('fans', 'FANS');
  const slots = fans.map((fan, i): [number, number | null] => [counter(fan.ID) ?? i, rpm(fan.RPM)]);
  // BOSminer lists spare slots (an S9's FANS holds four, two at 0), so without the model's count a 0
  // beside turning fans is said, not judged. Every slot at 0 while the boards hash is a stopped fan
  // set (or immersion, which the thermal config tells), as on other firmwares: it vanished on a
  // model the table lacks, and a miner hashing with no fan turning read "ok". Not on a hydro model.
  const turning = slots.some(([, speed]) => speed !== null && speed > 0);
  const unlisted = turning || isHydroModel(input.identity.model) ? null : slots.length;
  out.fans = fansFromSlots(slots, spec?.fans ?? unlisted, isHashing(out));
  if (spec?.fans === undefined)
    noteUnjudgedFans(out, slots, `the ${input.identity.model ?? 'unknown model'}'s`);
  out.cooling = out.fans.length > 0 ? 'air' : null;
  return out;
}
