// Bitdeer SealMiner (bdminer): one flat `stats` record with board fields prefixed by the board
// number (`"0 Chip Count"`, `"0 MHS(Sample)"`, `"0 Temp 0"`) and fans as `"<n> Speed"`.
import { bool, counter, maxOf, positive, type Rec, rpm, temp, watts } from '../values.js';
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
  scaled,
  type Telemetry,
} from './common.js';

function prefixedIndices(rec: Rec, suffix: string): number[] {
  const out: number[] = [];
  for (const key of Object.keys(rec)) {
    const match = /^(\d+) (.+)$/.exec(key);
    if (match && match[2] === suffix) out.push(Number(match[1]));
  }
  return out.sort((a, b) => a - b);
}

export function parseSealminer(input: DialectInput): Telemetry {
  const out = emptyTelemetry();
  const summary = input.replies.section('summary', 'SUMMARY')[0];
  const stats = input.replies
    .section('stats', 'STATS')
    .find((rec) => 'Board Count' in rec || 'Chip Count' in rec);
  // The stats windows are steadier than summary "MHS 5s" (368 TH/s against 220 in the sample).
  out.hashrate.current_hs =
    scaled(stats?.['MHS(30s)'], 1e6) ??
    scaled(stats?.['MHS(Sample)'], 1e6) ??
    labelledRate(summary, CURRENT_LABELS);
  out.hashrate.average_hs = scaled(stats?.['MHS(Avg)'], 1e6) ?? labelledRate(summary, AVERAGE_LABELS);
  const ideal = positive(stats?.['MHS(Ideal)']);
  out.hashrate.nominal_hs = ideal === null ? null : ideal * 1e6;
  applySummaryCounters(out, summary);
  if (!stats) return out;

  for (const n of prefixedIndices(stats, 'Chip Count')) {
    const board: BoardDraft = {
      index: n,
      hashrate_hs: scaled(stats[`${n} MHS(Sample)`], 1e6),
      chips: counter(stats[`${n} Chip Count`]),
      chips_expected: null,
      temp_board_c: maxOf([0, 1, 2, 3].map((k) => temp(stats[`${n} Temp ${k}`]))),
      temp_chip_c: null,
      frequency_mhz: positive(stats[`${n} Freq`]),
      bad_chips: counter(stats[`${n} Bad Chip Count`]),
      firmware_dead: bool(stats[`${n} Online`]) === false,
    };
    out.boards.push(board);
  }
  const liquid = bool(stats['Liquid Cooling']);
  out.fans = fansFromSlots(
    prefixedIndices(stats, 'Speed').map((n): [number, number | null] => [n, rpm(stats[`${n} Speed`])]),
    liquid === true ? null : positive(stats['Fan Count']),
    isHashing(out),
  );
  out.cooling = liquid === true ? 'hydro' : liquid === false || out.fans.length > 0 ? 'air' : null;
  out.power_w = watts(stats['PSU Input Power']);
  return out;
}
