// The compact numbers kept per miner per cycle, derived from a Snapshot (pure, no I/O).
import type { Snapshot } from '../miners/types.js';
import { fold } from '../util/fold.js';

export interface CompactMetrics {
  hashrate_hs: number | null;
  nominal_hs: number | null;
  temp_chip_max_c: number | null;
  temp_board_max_c: number | null;
  fan_min_rpm: number | null;
  boards_ok: number | null;
  boards_total: number | null;
  chips: number | null;
  chips_expected: number | null;
  power_w: number | null;
  accepted: number | null;
  rejected: number | null;
}

export const EMPTY_METRICS: CompactMetrics = {
  hashrate_hs: null,
  nominal_hs: null,
  temp_chip_max_c: null,
  temp_board_max_c: null,
  fan_min_rpm: null,
  boards_ok: null,
  boards_total: null,
  chips: null,
  chips_expected: null,
  power_w: null,
  accepted: null,
  rejected: null,
};

function finite(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * For INTEGER columns: a figure past 2^53 (a broken field) is not a count or a speed, and past 2^63
 * SQLite's STRICT table would refuse the whole cycle's transaction for it.
 */
function wholeOrNull(value: number | null): number | null {
  if (value === null) return null;
  const whole = Math.round(value);
  return Number.isSafeInteger(whole) ? whole : null;
}

/**
 * The chips expected of the boards whose chips were read. A board whose expected count was not read
 * (an Innosilicon chain reading `Num chips` 0, an implausible count) counts as what it read: left out,
 * its chips were in `chips` alone, 352/252 read as more chips than expected and hid another board's
 * shortfall. null when no board's expected count was read.
 */
function chipsExpected(boards: Snapshot['boards']): number | null {
  if (fold(boards, (b) => (b.chips === null ? null : b.chips_expected), 'sum') === null) return null;
  return wholeOrNull(fold(boards, (b) => (b.chips === null ? null : (b.chips_expected ?? b.chips)), 'sum'));
}

export function compactMetrics(snapshot: Snapshot): CompactMetrics {
  const boards = snapshot.boards ?? [];
  return {
    hashrate_hs: finite(snapshot.hashrate?.current_hs) ?? finite(snapshot.hashrate?.average_hs),
    nominal_hs: finite(snapshot.hashrate?.nominal_hs),
    temp_chip_max_c: finite(snapshot.temp_max_chip_c) ?? fold(boards, (b) => b.temp_chip_c, 'max'),
    temp_board_max_c: finite(snapshot.temp_max_board_c) ?? fold(boards, (b) => b.temp_board_c, 'max'),
    fan_min_rpm: wholeOrNull(fold(snapshot.fans ?? [], (f) => f.rpm, 'min')),
    boards_ok: boards.length === 0 ? null : fold(boards, (b) => (b.status === 'ok' ? 1 : 0), 'sum'),
    boards_total: boards.length === 0 ? null : boards.length,
    chips: wholeOrNull(fold(boards, (b) => b.chips, 'sum')),
    // Only the boards whose count was read: an unread one (`"chain_acn2":"nan"`) counted here alone
    // read as all its chips missing (228/342), and live listed the miner under missing chips.
    chips_expected: chipsExpected(boards),
    power_w: finite(snapshot.power_w),
    accepted: wholeOrNull(finite(snapshot.accepted)),
    rejected: wholeOrNull(finite(snapshot.rejected)),
  };
}
