import { describe, expect, it } from 'vitest';
import { evaluateThermal, levelFor } from '../../src/thermal/evaluate.js';
import { nextThermalState, type ThermalMemory, trackThermal } from '../../src/thermal/hysteresis.js';
import { effectiveLimits } from '../../src/thermal/limits.js';
import type { ThermalLevel } from '../../src/thermal/types.js';
import { airMiner, snapshotOf } from './helpers.js';

const evaluate = (snapshot: ReturnType<typeof airMiner>) =>
  evaluateThermal(snapshot, effectiveLimits(snapshot));

describe('evaluateThermal', () => {
  it('is ok for a cool miner and reports its hottest readings', () => {
    const result = evaluate(airMiner(45));
    expect(result.status).toBe('ok');
    expect(result.action).toBe('none');
    expect(result.readings).toMatchObject({
      board_c: 45,
      chip_c: 60,
      inlet_c: 25,
      fan_min_rpm: 5400,
      fans_failed: 0,
    });
    expect(result.reasons).toEqual([]);
    expect(result.worst).toMatchObject({ metric: 'inlet', value: 25, limit: 40 }); // least headroom
  });

  it('warns at the limit exactly and is critical at the critical limit', () => {
    expect(evaluate(airMiner(75)).status).toBe('warn');
    expect(evaluate(airMiner(74.9)).status).toBe('ok');
    const critical = evaluate(airMiner(80));
    expect(critical.status).toBe('critical');
    expect(critical.action).toBe('pause');
    expect(critical.reasons[0]).toMatchObject({ metric: 'board', level: 'critical', value: 80, limit: 80 });
    expect(critical.reasons[0]?.message).toContain('default air');
  });

  it('takes the hottest board, not the average', () => {
    const snapshot = airMiner(50, {
      boards: [{ temp_board_c: 50 }, { temp_board_c: 83, temp_chip_c: 97 }, { temp_board_c: 52 }],
    });
    const result = evaluate(snapshot);
    expect(result.readings.board_c).toBe(83);
    expect(result.status).toBe('critical');
    expect(result.reasons.map((r) => r.metric)).toEqual(expect.arrayContaining(['board', 'chip']));
  });

  it('is unknown, never ok, without any temperature reading', () => {
    const result = evaluate(snapshotOf({ boards: [{}, {}], fans: [5000, 5000] }));
    expect(result.status).toBe('unknown');
    expect(result.reasons).toEqual([expect.objectContaining({ metric: 'readings', level: 'unknown' })]);
    // Sentinels are not readings either.
    expect(evaluate(snapshotOf({ boards: [{ temp_board_c: 0, temp_chip_c: -273 }] })).status).toBe('unknown');
  });

  it('is critical for a stopped fan on air, and ignores fans on hydro and while sleeping', () => {
    const stopped = evaluate(airMiner(60, { fans: [5400, 0, 5460, 5520] }));
    expect(stopped.status).toBe('critical');
    expect(stopped.reasons[0]).toMatchObject({ metric: 'fans_failed', value: 1 });
    const slow = evaluate(airMiner(60, { fans: [5400, 900, 5460, 5520] }));
    expect(slow.status).toBe('warn');
    expect(slow.reasons[0]).toMatchObject({ metric: 'fan_rpm', value: 900 });
    const hydro = evaluate(airMiner(60, { model: 'S21 XP Hyd.', fans: [0, 0, 0, 0], inlet: 30 }));
    expect(hydro.status).toBe('ok');
    expect(hydro.metrics.find((m) => m.metric === 'fans_failed')?.skipped).toBe('hydro cooling');
    expect(evaluate(airMiner(40, { fans: [0, 0, 0, 0], state: 'sleeping' })).status).toBe('ok');
  });

  it('does not count a fan whose reading was not believed (null) as failed', () => {
    // The normalizer turns a 0xFFFFFFFF tach read into null: unknown, not stopped.
    const unread = evaluate(airMiner(60, { fans: [null, 5400, 5460, 5520] }));
    expect(unread.status).toBe('ok');
    expect(unread.readings).toMatchObject({ fans_failed: 0, fans_total: 3, fan_min_rpm: 5400 });
    // No fan read at all: the fan metrics are unknown, not four failures.
    const none = evaluate(airMiner(60, { fans: [null, null, null, null] }));
    expect(none.status).toBe('ok');
    expect(none.readings).toMatchObject({ fans_failed: null, fans_total: 0, fan_min_rpm: null });
    // A stopped fan next to an unread one still counts.
    const stopped = evaluate(airMiner(60, { fans: [null, 0, 5460, 5520] }));
    expect(stopped.status).toBe('critical');
    expect(stopped.reasons[0]).toMatchObject({ metric: 'fans_failed', value: 1 });
  });

  it('reports a dead board as a warning', () => {
    const result = evaluate(
      airMiner(60, {
        boards: [{ temp_board_c: 60 }, { temp_board_c: 61 }, { status: 'dead', hashrate_hs: 0 }],
      }),
    );
    expect(result.status).toBe('warn');
    expect(result.reasons[0]).toMatchObject({ metric: 'boards_dead', value: 1 });
  });

  it('does not count idle boards or fans of a miner hashctl paused, unless it hashes again', () => {
    const paused = airMiner(30, {
      fans: [0, 0, 0, 0],
      boards: [0, 1, 2].map(() => ({ temp_board_c: 30, status: 'dead' as const })),
    });
    paused.hashrate = { current_hs: 0, average_hs: 0, nominal_hs: null };
    const limits = effectiveLimits(paused);
    expect(evaluateThermal(paused, limits).status).toBe('critical'); // stopped fans, dead boards
    const ours = evaluateThermal(paused, limits, undefined, {
      pausedBy: 'paused by thermal protection at X',
    });
    expect(ours.status).toBe('ok');
    expect(ours.metrics.find((m) => m.metric === 'boards_dead')?.skipped).toBe(
      'paused by thermal protection at X',
    );
    // Hashing again (resumed outside hashctl): a dead board is a dead board.
    const hashing = { ...paused, hashrate: { current_hs: 60e12, average_hs: 60e12, nominal_hs: null } };
    expect(evaluateThermal(hashing, limits, undefined, { pausedBy: 'paused' }).status).toBe('critical');
  });

  it('checks the inlet, high and low', () => {
    expect(evaluate(airMiner(60, { inlet: 41 })).reasons[0]).toMatchObject({
      metric: 'inlet',
      level: 'critical',
    });
    expect(evaluate(airMiner(60, { inlet: -6 })).reasons[0]).toMatchObject({
      metric: 'inlet_low',
      level: 'critical',
    });
  });

  it('asks for a pause on heat, never on a cold inlet (a pause would only make it colder)', () => {
    expect(evaluate(airMiner(60, { inlet: 41 })).action).toBe('pause');
    const cold = evaluate(airMiner(60, { inlet: -6 }));
    expect([cold.status, cold.action]).toEqual(['critical', 'notify']);
    // Cold and hot at once: the heat still asks for the pause.
    expect(evaluate(airMiner(96, { inlet: -6 })).action).toBe('pause');
  });
});

describe('hysteresis', () => {
  it('levelFor enters at the limit and leaves only past limit − margin', () => {
    const sequence = [74, 75, 74, 73, 72.5, 72, 71.9, 75, 80, 78, 77, 76.9, 72];
    const expected: ThermalLevel[] = [
      'ok',
      'warn',
      'warn',
      'warn',
      'warn',
      'warn',
      'ok',
      'warn',
      'critical',
      'critical',
      'critical',
      'warn',
      'warn',
    ];
    let previous: ThermalLevel = 'ok';
    const seen: ThermalLevel[] = [];
    for (const value of sequence) {
      previous = levelFor(value, 75, 80, 'high', previous, 3);
      seen.push(previous);
    }
    expect(seen).toEqual(expected);
  });

  it('says a level is held by hysteresis instead of claiming the limit is reached', () => {
    // 84 → 79 → 73 °C against critical 80 / warn 75 with the 3 °C margin.
    let memory: ThermalMemory | null = null;
    const reasons: string[] = [];
    for (const board of [84, 79, 73, 71]) {
      const snapshot = airMiner(board, { boards: [{ temp_board_c: board, temp_chip_c: 60 }] });
      const step = trackThermal(memory, snapshot, effectiveLimits(snapshot));
      memory = step.memory;
      reasons.push(step.evaluation.reasons.map((r) => r.message).join('; ') || step.evaluation.status);
    }
    expect(reasons).toEqual([
      'board 84 °C ≥ critical 80 °C (default air)',
      'board 79 °C, held critical until below 77 °C (hysteresis; critical 80 °C, default air)',
      'board 73 °C, held warn until below 72 °C (hysteresis; warn 75 °C, default air)',
      'ok',
    ]);
    // Low metrics are held until above the limit plus the margin.
    const fan = airMiner(60, { fans: [5400, 5460, 5520, 1100] });
    const held = trackThermal(
      { status: 'warn', levels: { fan_rpm: 'warn' }, metric: 'fan_rpm' },
      fan,
      effectiveLimits(fan),
    );
    expect(held.evaluation.reasons[0]?.message).toBe(
      'fan 1100 RPM, held warn until above 1200 RPM (hysteresis; warn 1000 RPM, default air)',
    );
  });

  it('fans listed without a readable speed are said (unknown), not passed over as ok', () => {
    // Speeds the normalizer could not believe (65535, 99999) come as null.
    const unread = airMiner(60, { fans: [null, null, null, null] });
    const all = evaluate(unread);
    expect(all.status).toBe('ok');
    expect(all.reasons.map((r) => [r.level, r.message])).toEqual([
      ['unknown', '4 of 4 fans reported no readable speed: not judged'],
    ]);
    const one = evaluate(airMiner(60, { fans: [5400, null, 5520, 5580] }));
    expect(one.reasons.map((r) => r.message)).toEqual(['1 of 4 fans reported no readable speed: not judged']);
    // Not on a unit whose fans are not judged (hydro), nor when every fan reads.
    const hydro = snapshotOf({ boards: [{ temp_board_c: 60 }], fans: [null, null], cooling: 'hydro' });
    expect(evaluate(hydro).reasons).toEqual([]);
    expect(evaluate(airMiner(60)).reasons).toEqual([]);
  });

  it('a low metric that recovers is said back above its limit, not below', () => {
    // A fan at 900 RPM (warn under 1000), then back at full speed: the event names the fan.
    const slow = airMiner(60, { fans: [5400, 5460, 5520, 900] });
    const first = trackThermal(null, slow, effectiveLimits(slow));
    expect(first.memory).toMatchObject({ status: 'warn', metric: 'fan_rpm' });
    const fast = airMiner(60);
    const step = trackThermal(first.memory, fast, effectiveLimits(fast));
    expect(step.transition).toMatchObject({ from: 'warn', to: 'ok', metric: 'fan_rpm', value: 5400 });
    expect(step.transition?.detail).toBe('fan_rpm back above its limit by the margin');
    // A hot board that cools is back below it.
    const hot = airMiner(81);
    const cooled = airMiner(60);
    const back = trackThermal(
      trackThermal(null, hot, effectiveLimits(hot)).memory,
      cooled,
      effectiveLimits(cooled),
    );
    expect(back.transition?.detail).toBe('board back below its limit by the margin');
  });

  it('works the other way for low metrics (fan speed)', () => {
    const seen: ThermalLevel[] = [];
    let previous: ThermalLevel = 'ok';
    for (const rpm of [1200, 1000, 1100, 1200, 1201, 400]) {
      previous = levelFor(rpm, 1000, 500, 'low', previous, 200);
      seen.push(previous);
    }
    expect(seen).toEqual(['ok', 'warn', 'warn', 'warn', 'ok', 'critical']);
  });

  it('a sensor hovering at the limit makes one event, not one per run', () => {
    let memory: ThermalMemory | null = null;
    const events: string[] = [];
    for (const board of [70, 75, 74, 75, 74.5, 75, 73, 74, 75, 71, 70]) {
      const snapshot = airMiner(board);
      const step = trackThermal(memory, snapshot, effectiveLimits(snapshot));
      memory = step.memory;
      if (step.transition) events.push(`${step.transition.from}->${step.transition.to}@${board}`);
    }
    expect(events).toEqual(['ok->warn@75', 'warn->ok@71']);
    // Without hysteresis the same sequence flaps on every crossing.
    const plain = [70, 75, 74, 75, 74.5, 75, 73, 74, 75, 71, 70].map((b) => evaluate(airMiner(b)).status);
    expect(plain.filter((s, i) => i > 0 && s !== plain[i - 1]).length).toBe(8);
  });

  it('records unknown when unreachable, keeps levels, and does not re-alert on return at the margin', () => {
    const hot = airMiner(81);
    let step = trackThermal(null, hot, effectiveLimits(hot));
    expect(step.transition).toMatchObject({
      from: 'unknown',
      to: 'critical',
      metric: 'board',
      value: 81,
      limit: 80,
    });
    step = { ...nextThermalState(step.memory, null, 'unreachable: timeout'), evaluation: step.evaluation };
    expect(step.transition).toMatchObject({
      from: 'critical',
      to: 'unknown',
      detail: 'unreachable: timeout',
    });
    expect(step.memory.levels.board).toBe('critical');
    const back = airMiner(78);
    step = trackThermal(step.memory, back, effectiveLimits(back));
    expect(step.evaluation.status).toBe('critical');
    expect(step.transition).toMatchObject({ from: 'unknown', to: 'critical' });
    const cooled = airMiner(60);
    step = trackThermal(step.memory, cooled, effectiveLimits(cooled));
    expect(step.transition).toMatchObject({ from: 'critical', to: 'ok', metric: 'board', value: 60 });
  });

  it('a sensor that drops out is not a recovery, and keeps its level for when it reads again', () => {
    const hot = airMiner(85);
    let step = trackThermal(null, hot, effectiveLimits(hot));
    expect(step.evaluation.status).toBe('critical');
    // The board sensors stop answering; the chips still read, cool.
    const unread = snapshotOf({
      boards: [0, 1, 2].map(() => ({ temp_board_c: null, temp_chip_c: 70 })),
      fans: [5400, 5460, 5520, 5580],
      inlet: 25,
    });
    step = trackThermal(step.memory, unread, effectiveLimits(unread));
    expect(step.transition).toMatchObject({ from: 'critical', to: 'ok', metric: 'board', value: null });
    expect(step.transition?.detail).toMatch(/^board not read now, critical when last read/);
    expect(step.transition?.detail).not.toMatch(/back below/);
    expect(step.memory.levels.board).toBe('critical');
    // Back at 78 °C: inside the margin of the critical it left unmeasured, so held critical.
    const back = airMiner(78);
    step = trackThermal(step.memory, back, effectiveLimits(back));
    expect(step.evaluation.status).toBe('critical');
    expect(step.transition).toMatchObject({ from: 'ok', to: 'critical', metric: 'board', value: 78 });
  });

  it('first sight of a healthy miner is not an event', () => {
    const cool = airMiner(50);
    expect(trackThermal(null, cool, effectiveLimits(cool)).transition).toBeNull();
  });
});
