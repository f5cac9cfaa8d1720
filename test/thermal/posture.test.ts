import { describe, expect, it } from 'vitest';
import { MinerError } from '../../src/errors.js';
import { assessPosture, postureReport } from '../../src/thermal/posture.js';
import { readFirmwareLimits } from '../../src/thermal/replies.js';
import { braiinsReplies, decodedTable as decoded } from './fake-miner.js';
import { airMiner, snapshotOf } from './helpers.js';

const braiinsS9 = (board: number) =>
  snapshotOf({
    model: 'S9',
    firmware: 'BOSminer+',
    boards: [{ temp_board_c: board }, { temp_board_c: board - 2 }, { temp_board_c: board - 4 }],
    fans: [3600, 3660, 3720, 3780],
  });

const ids = (findings: { id: string }[]) => findings.map((f) => f.id).sort();

describe('readFirmwareLimits', () => {
  it('keeps a negative limit (to be ignored with a note) and reads 0 as not set', async () => {
    const { effectiveLimits } = await import('../../src/thermal/limits.js');
    const replies = decoded(braiinsReplies({ boards: [60, 58, 56], hot: -5 }));
    const firmware = readFirmwareLimits(replies, 'BOSminer+');
    expect(firmware?.hot_c).toBe(-5);
    const limits = effectiveLimits(braiinsS9(60), {}, null, { firmware: firmware! });
    expect(limits.notes.join('\n')).toMatch(/Hot=-5 ignored/);
    expect(
      readFirmwareLimits(decoded(braiinsReplies({ boards: [60, 58, 56], hot: 0 })), 'BOSminer+')?.hot_c,
    ).toBeNull();
  });
});

describe('assessPosture', () => {
  it('reads Braiins OS Target/Hot/Dangerous and finds nothing wrong with the defaults', () => {
    const replies = decoded(braiinsReplies({ boards: [60, 58, 56] }));
    expect(readFirmwareLimits(replies, 'BOSminer+')).toMatchObject({
      firmware: 'braiins',
      mode: 'Automatic',
      target_c: 89,
      hot_c: 100,
      dangerous_c: 110,
    });
    const report = postureReport(replies, braiinsS9(60));
    expect(report.trip).toMatchObject({ sensor: 'board', value_c: 110 });
    expect(report.findings).toEqual([]);
    // Our alert limits follow the firmware's own (warn at Hot, critical 3 °C before Dangerous).
    expect(report.limits.metrics.board.critical).toEqual({
      value: 107,
      source: 'firmware Braiins OS Dangerous=110 − 3',
    });
  });

  it('flags protection off, a limit above the vendor maximum, and manual fans', () => {
    const off = assessPosture(decoded(braiinsReplies({ boards: [60], mode: 'Disabled' })), braiinsS9(60));
    expect(ids(off)).toContain('protection-off');
    expect(off.find((f) => f.id === 'protection-off')?.severity).toBe('critical');

    const above = assessPosture(
      decoded(braiinsReplies({ boards: [60], hot: 105, dangerous: 125 })),
      braiinsS9(60),
    );
    const finding = above.find((f) => f.id === 'limit-above-vendor-max');
    expect(finding).toMatchObject({ severity: 'high', data: { dangerous: 125, vendor_max: 110 } });
    expect(finding?.evidence).toContain('dangerous=125');

    const manual = assessPosture(
      decoded(braiinsReplies({ boards: [60], mode: 'Manual', fanSpeed: 20 })),
      braiinsS9(60),
    );
    expect(manual.find((f) => f.id === 'fans-manual')).toMatchObject({
      severity: 'high',
      data: { max_speed_pct: 20 },
    });
  });

  it('manual fans fixed at full speed are said (low), not judged a weakened protection (high)', () => {
    // thermal-facts §6: the risk is a low fixed speed; at 100 % the fans cool all they can, and
    // Braiins OS still forces them to 100 % at Hot and stops at Dangerous in fixed-speed mode (§2.1).
    const full = assessPosture(
      decoded(braiinsReplies({ boards: [60], mode: 'Manual', fanSpeed: 100 })),
      braiinsS9(60),
    );
    expect(full.find((f) => f.id === 'fans-manual')).toMatchObject({
      severity: 'low',
      data: { max_speed_pct: 100 },
    });
    // Below the firmware's default fixed speed (70 %), or at a speed not read, it stays high.
    for (const fanSpeed of [69, 40]) {
      const slow = assessPosture(
        decoded(braiinsReplies({ boards: [60], mode: 'Manual', fanSpeed })),
        braiinsS9(60),
      );
      expect(slow.find((f) => f.id === 'fans-manual')?.severity).toBe('high');
    }
  });

  it('flags immersion mode on a model built with fans (the hAnt pattern), not on a hydro or immersion model', () => {
    const immersed = assessPosture(
      decoded(braiinsReplies({ boards: [60], mode: 'Immersion', fanSpeed: 0 })),
      braiinsS9(60),
    );
    expect(immersed.find((f) => f.id === 'immersion-on-air-model')).toMatchObject({
      severity: 'high',
      data: { mode: 'Immersion', model: 'S9', model_fans: 2 },
    });
    const hydro = assessPosture(decoded(braiinsReplies({ boards: [60], mode: 'Immersion', fanSpeed: 0 })), {
      ...braiinsS9(60),
      model: 'S19 XP Hyd.',
    });
    expect(ids(hydro)).not.toContain('immersion-on-air-model');
    const air = assessPosture(decoded(braiinsReplies({ boards: [60] })), braiinsS9(60));
    expect(ids(air)).not.toContain('immersion-on-air-model');
  });

  it('flags broken ordering and a narrow Hot–Dangerous gap', () => {
    expect(
      ids(
        assessPosture(
          decoded(braiinsReplies({ boards: [60], target: 95, hot: 90, dangerous: 100 })),
          braiinsS9(60),
        ),
      ),
    ).toEqual(['limit-order']);
    expect(
      ids(
        assessPosture(
          decoded(braiinsReplies({ boards: [60], target: 80, hot: 98, dangerous: 100 })),
          braiinsS9(60),
        ),
      ),
    ).toEqual(['hot-dangerous-gap']);
    // Decimal limits: the gap to a hundredth, not 4.299999999999997.
    const decimal = assessPosture(
      decoded(braiinsReplies({ boards: [60], target: 60, hot: 96.2, dangerous: 100.5 })),
      braiinsS9(60),
    );
    expect(decimal.find((f) => f.id === 'hot-dangerous-gap')?.message).toBe(
      'only 4.3 °C between Hot and Dangerous (guidance: about 5)',
    );
  });

  it('flags a miner past our critical but below its firmware trip, and past the trip', () => {
    const replies = decoded(braiinsReplies({ boards: [108], target: 89, hot: 100, dangerous: 110 }));
    const between = assessPosture(replies, braiinsS9(108));
    expect(between.find((f) => f.id === 'past-critical-below-trip')).toMatchObject({
      severity: 'high',
      data: { reading: 108, critical: 107, trip: 110 },
    });
    const past = assessPosture(replies, braiinsS9(111));
    expect(ids(past)).toContain('past-firmware-trip');
  });

  it('says when no temperature was read to compare with the trip point, and whether the trip was read or assumed', () => {
    const replies = decoded(braiinsReplies({ boards: [70], target: 89, hot: 100, dangerous: 110 }));
    const blind = snapshotOf({
      model: 'S9',
      firmware: 'BOSminer+',
      boards: [{}, {}, {}],
      fans: [6000, 6000],
    });
    const report = postureReport(replies, blind);
    expect(report.trip).toMatchObject({ value_c: 110, origin: 'firmware' });
    expect(report.findings.map((f) => [f.id, f.severity])).toEqual([['no-temperature', 'info']]);
    expect(report.findings[0]?.message).toContain('how close it is to its trip point 110 °C is unknown');
    const stock = snapshotOf({ model: 'S9', firmware: 'bmminer', boards: [{}], fans: [5000, 5100] });
    expect(postureReport({}, stock).trip).toMatchObject({ value_c: 90, origin: 'documented' });
  });

  it('with no trip point known, a chip past our critical is flagged too (an Avalon reports chips only)', () => {
    const avalon = snapshotOf({
      make: 'Avalon',
      model: 'AvalonMiner 1566',
      firmware: 'cgminer',
      boards: [0, 1, 2].map(() => ({ temp_chip_c: 110 })),
      fans: [4000, 4000],
    });
    const report = postureReport({}, avalon);
    expect(report.trip).toBeNull();
    const past = report.findings.find((f) => f.id === 'past-critical-below-trip');
    expect(past?.message).toMatch(/^chip 110 °C is past our critical 105 °C/);
  });

  it('a Dangerous no board can trip at (negative, 1e308) is no trip point: no "past its trip" critical', () => {
    for (const dangerous of [-5, 1e308]) {
      const replies = decoded(braiinsReplies({ boards: [60, 58, 56], target: 89, hot: 100, dangerous }));
      const report = postureReport(replies, braiinsS9(60));
      expect(report.trip).toBeNull();
      expect(ids(report.findings)).not.toContain('past-firmware-trip');
      expect(ids(report.findings)).toContain(dangerous < 0 ? 'limit-order' : 'limit-above-vendor-max');
    }
  });

  it('a Dangerous of a few degrees is no trip point either: a board at 60 °C is not "past its trip"', () => {
    for (const dangerous of [1, 2, 40]) {
      const replies = decoded(braiinsReplies({ boards: [60, 58, 56], target: 0.5, hot: 0.8, dangerous }));
      const report = postureReport(replies, braiinsS9(60));
      expect(report.trip, `Dangerous ${dangerous}`).toBeNull();
      expect(ids(report.findings), `Dangerous ${dangerous}`).not.toContain('past-firmware-trip');
      expect(report.limits.metrics.board.critical.value, `Dangerous ${dangerous}`).toBe(85);
    }
  });

  it('past the trip is "still mining" only when it hashes: idle is the trip acting, no rate read is unknown', () => {
    const replies = decoded(braiinsReplies({ boards: [111], target: 89, hot: 100, dangerous: 110 }));
    const withBoards = (rate: number | null) =>
      snapshotOf({
        model: 'S9',
        firmware: 'BOSminer+',
        boards: [111, 109, 107].map((temp) => ({ temp_board_c: temp, hashrate_hs: rate })),
        fans: [6000, 6000],
      });
    const stopped = assessPosture(replies, withBoards(0));
    expect(stopped.map((f) => [f.id, f.severity])).toEqual([['at-firmware-trip', 'medium']]);
    expect(stopped[0]?.message).toContain('not hashing');
    const unread = assessPosture(replies, withBoards(null));
    expect(unread.map((f) => [f.id, f.severity])).toEqual([['at-firmware-trip', 'high']]);
    expect(unread[0]?.message).toContain('whether it still mines is unknown');
    expect(assessPosture(replies, withBoards(4.5e12)).map((f) => [f.id, f.severity])).toEqual([
      ['past-firmware-trip', 'critical'],
    ]);
  });

  it('uses the documented cut-off for stock firmware and says limits are not readable', () => {
    const stock = snapshotOf({
      model: 'S9',
      firmware: 'bmminer',
      boards: [{ temp_board_c: 87 }],
      fans: [5000, 5100],
    });
    const report = postureReport({}, stock);
    expect(report.trip).toMatchObject({ value_c: 90, sensor: 'board' });
    expect(ids(report.findings)).toEqual(['no-readable-limits', 'past-critical-below-trip']);
    expect(report.findings.find((f) => f.id === 'past-critical-below-trip')?.data).toMatchObject({
      reading: 87,
      critical: 85,
    });
  });

  it('flags every fan stopped on an air unit that is mining (the hAnt pattern)', () => {
    const findings = assessPosture({}, airMiner(60, { fans: [0, 0, 0, 0] }));
    expect(findings.find((f) => f.id === 'fans-stopped')?.severity).toBe('critical');
    expect(ids(assessPosture({}, airMiner(60, { fans: [0, 0, 0, 0], model: 'S21 XP Hyd.' })))).not.toContain(
      'fans-stopped',
    );
  });

  it('reads LuxOS MinFans and flags 0 on an air unit', () => {
    const replies = decoded({
      version: { VERSION: [{ LUXminer: '2025.4.8.220305-57b389c7', API: '3.7', Type: 'Antminer S19k Pro' }] },
      tempctrl: { TEMPCTRL: [{ Mode: 'Automatic', Target: 55, Hot: 65, Dangerous: 80 }] },
      fans: {
        FANCTRL: [{ MinFans: 0, PowerOffSpeed: 20 }],
        FANS: [{ FAN: 'FAN1', ID: 0, RPM: 1920, Speed: 20 }],
      },
    });
    const snapshot = snapshotOf({
      model: 'S19k Pro',
      firmware: 'LUXminer',
      boards: [{ temp_board_c: 50 }],
      fans: [1920],
    });
    const findings = assessPosture(replies, snapshot);
    expect(ids(findings)).toEqual(['limit-above-vendor-max', 'min-fans-zero']);
    expect(findings[0]?.data).toMatchObject({ dangerous: 80, vendor_max: 75 });
  });

  it('tells a failed limits read from a firmware that reports none', () => {
    const replies = decoded(braiinsReplies({ boards: [60, 58, 56] }));
    const failed = postureReport(
      {
        ...replies,
        tempctrl: new MinerError('denied', "miner answered E/45: Access denied to 'tempctrl' command", {
          code: 45,
        }),
      },
      braiinsS9(60),
    );
    expect(failed.firmware).toBeNull();
    expect(failed.limitsError).toMatchObject({ command: 'tempctrl', kind: 'denied' });
    expect(ids(failed.findings)).toEqual(['limits-read-failed']);
    expect(failed.findings[0]?.data).toMatchObject({ command: 'tempctrl', kind: 'denied' });
    expect(failed.limits.notes.join('\n')).toMatch(/firmware limits not read: tempctrl failed \(denied/);
    // E/14: the firmware does not know the command, so it does report no limits.
    const unknown = postureReport(
      { ...replies, tempctrl: new MinerError('api', 'miner answered E/14: Invalid command', { code: 14 }) },
      braiinsS9(60),
    );
    expect(unknown.limitsError).toBeNull();
    expect(ids(unknown.findings)).toEqual(['no-readable-limits']);
  });
});
