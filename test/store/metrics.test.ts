// The compact figures stored per miner per cycle (history, live's problems, the farm report).
import { describe, expect, it } from 'vitest';
import { compactMetrics } from '../../src/store/metrics.js';
import { makeSnapshot } from './helpers.js';

describe('compactMetrics', () => {
  it('sets the chips read against those boards expected: a board whose count was not read is left out of both', () => {
    const whole = makeSnapshot();
    const unread = makeSnapshot({
      boards: whole.boards.map((board) => (board.index === 1 ? { ...board, chips: null } : board)),
    });
    expect(compactMetrics(whole)).toMatchObject({ chips: 378, chips_expected: 378 });
    // Not 252/378: no board said it lacked a chip, so live must not list the miner as missing 126.
    expect(compactMetrics(unread)).toMatchObject({ chips: 252, chips_expected: 252 });
  });

  it('keeps a real shortfall', () => {
    const short = makeSnapshot({
      boards: makeSnapshot().boards.map((board) => (board.index === 2 ? { ...board, chips: 100 } : board)),
    });
    expect(compactMetrics(short)).toMatchObject({ chips: 352, chips_expected: 378 });
  });

  it('a board whose expected count was not read (an Innosilicon chain reading 0 chips, an implausible count) is not counted as surplus', () => {
    // Its chips went into `chips` and its expected count nowhere: 3 boards of 126 read 352/252, more
    // chips than expected, and the board missing 26 of them was never listed as missing chips.
    const mixed = makeSnapshot({
      boards: makeSnapshot().boards.map((board) =>
        board.index === 1
          ? { ...board, chips_expected: null }
          : board.index === 2
            ? { ...board, chips: 100 }
            : board,
      ),
    });
    expect(compactMetrics(mixed)).toMatchObject({ chips: 352, chips_expected: 378 });
    // None read: no expected figure at all, not the chips read passed off as one.
    const unknown = makeSnapshot({
      boards: makeSnapshot().boards.map((board) => ({ ...board, chips_expected: null })),
    });
    expect(compactMetrics(unknown)).toMatchObject({ chips: 378, chips_expected: null });
  });

  it('has no chip figures when no board read its count', () => {
    const none = makeSnapshot({ boards: makeSnapshot().boards.map((board) => ({ ...board, chips: null })) });
    expect(compactMetrics(none)).toMatchObject({ chips: null, chips_expected: null });
  });
});
