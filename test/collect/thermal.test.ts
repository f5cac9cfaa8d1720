// Thermal status in collection: every cycle stores each miner's status (with hysteresis) in its
// history row and each change in thermal_events; `live` shows it and lists hot miners first.
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { storedDialects } from '../../src/collect/dialects.js';
import { type CollectLoopDeps, type CycleReport, runCycle } from '../../src/collect/index.js';
import { storedFirmwareLimits } from '../../src/collect/thermal.js';
import { memoryContext } from '../../src/context.js';
import { MinerError, StoreError } from '../../src/errors.js';
import { createDialectCache, seedDialect } from '../../src/miners/fetch.js';
import type { Snapshot } from '../../src/miners/types.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { type CycleHook, openStore, type Store, writeCycle } from '../../src/store/index.js';
import { thermalStatements } from '../../src/store/thermal.js';
import type { Target } from '../../src/targets/types.js';
import type { ThermalConfig } from '../../src/thermal/config.js';
import type { FirmwareThermalLimits } from '../../src/thermal/types.js';
import { makeSnapshot, okOutcome, recordPause, target, tempDir } from '../store/helpers.js';
import { startHealthyFarm } from '../support/farm.js';

const HOUR = 3_600_000;
let dir: string;
let cleanup: () => void;
let dbPath: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-collect-thermal-'));
  dbPath = path.join(dir, 'farm.db');
});
afterEach(() => cleanup());

interface HistoryRow {
  port: number;
  ts: number;
  thermal_status: string | null;
}
interface EventRow {
  port: number;
  from_state: string;
  to_state: string;
  metric: string | null;
  detail: string | null;
}

function readBack(file: string): { history: HistoryRow[]; events: EventRow[] } {
  const store = openStore(file, { readonly: true });
  try {
    return {
      history: store.db
        .prepare(
          'SELECT m.port, h.ts, h.thermal_status FROM telemetry_history h JOIN miners m ON m.id = h.miner_id ORDER BY h.ts, m.port',
        )
        .all() as HistoryRow[],
      events: store.db
        .prepare(
          'SELECT m.port, e.from_state, e.to_state, e.metric, e.detail FROM thermal_events e JOIN miners m ON m.id = e.miner_id ORDER BY e.id',
        )
        .all() as EventRow[],
    };
  } finally {
    store.close();
  }
}

interface LiveJson {
  summary: { thermal_critical: string[]; thermal_warn: string[]; offline: number };
  miners: { miner: string; port: number; state: string; thermal_status: string; problems: string[] }[];
}

async function live(args: string[], now: number): Promise<LiveJson> {
  const ctx = memoryContext({ now: () => now, env: {} });
  expect(await runCli(['live', '--db', dbPath, '--json', ...args], ctx)).toBe(0);
  return JSON.parse(ctx.out()) as LiveJson;
}

describe('collect on the simulator', () => {
  let farm: Farm | null = null;
  afterEach(async () => {
    await farm?.stop();
    farm = null;
  });

  it('judges a Braiins OS miner by its firmware limits, as thermal check does: no flapping between them', async () => {
    farm = await startFarm({ profile: 'braiins-os', count: 1, host: '127.0.0.1', basePort: 0, seed: 4 });
    // Chips warn only at 95: the board decides (78.8 °C here; the S9 rule warns at 75, the
    // firmware reports Hot=100).
    const config = path.join(dir, 'thermal.json');
    writeFileSync(
      config,
      JSON.stringify({ thermal: { classes: { air: { chip: { warn: 95, critical: 100 } } } } }),
    );
    const targets = farm.inventory();
    for (let round = 0; round < 2; round++) {
      for (const args of [
        ['collect', '--once', '--db', dbPath, '--config', config, '--targets', ...targets],
        ['thermal', 'check', ...targets, '--db', dbPath, '--config', config],
      ]) {
        const ctx = memoryContext({ env: {} });
        expect(await runCli(args, ctx), ctx.err()).toBe(0);
      }
    }
    const { history, events } = readBack(dbPath);
    expect(history.map((row) => row.thermal_status)).toEqual(['ok', 'ok']);
    expect(events.filter((e) => e.from_state !== 'unknown')).toEqual([]);
  });

  it('stores critical in history and the changes in thermal_events; live lists hot miners first', async () => {
    let clock = Date.parse('2026-11-02T12:00:00Z');
    farm = await startHealthyFarm(4, () => clock);
    const [hot, fan, cool, down] = farm.miners;
    hot!.state.ambientC = 55; // fans already at full speed cannot hold it
    fan!.state.fans[0]!.failed = true;
    await down!.setFaults({ refused: true });
    clock += HOUR; // the simulated temperatures settle (the farm reads this clock)

    const collect = async () => {
      const ctx = memoryContext({ now: () => clock, env: {} });
      const args = ['collect', '--once', '--db', dbPath, '--timeout', '2s', '--retries', '0'];
      const code = await runCli([...args, '--targets', ...farm!.inventory()], ctx);
      expect(code).toBe(0);
      return ctx.err();
    };

    const note = await collect();
    expect(note).toMatch(
      /: 4 polled, 3 ok, 1 failed \(1 refused\) in .*; thermal 2 critical, 0 warn, 2 changes\n$/,
    );
    let { history, events } = readBack(dbPath);
    const status = (port: number) =>
      history.filter((row) => row.port === port).map((row) => row.thermal_status);
    expect(status(hot!.port)).toEqual(['critical']);
    expect(status(fan!.port)).toEqual(['critical']);
    expect(status(cool!.port)).toEqual(['ok']);
    expect(status(down!.port)).toEqual(['unknown']);
    // First sight: hot and fan are news; a healthy miner and one never read are not.
    expect(events).toHaveLength(2);
    expect(events.find((e) => e.port === fan!.port)).toMatchObject({
      from_state: 'unknown',
      to_state: 'critical',
      metric: 'fans_failed',
    });
    expect(events.find((e) => e.port === hot!.port)).toMatchObject({
      from_state: 'unknown',
      to_state: 'critical',
    });

    // A minute later nothing changed: history grows, no new events.
    clock += 60_000;
    await collect();
    ({ history, events } = readBack(dbPath));
    expect(status(hot!.port)).toEqual(['critical', 'critical']);
    expect(events).toHaveLength(2);

    // live --problems: critical miners first, then the other problems (the offline one).
    const problems = await live(['--problems'], clock);
    expect(problems.miners.map((m) => m.miner)).toEqual([...[hot!.key, fan!.key].sort(), down!.key]);
    expect(problems.miners[0]!.problems[0]).toMatch(/^thermal critical: /);
    expect(problems.miners[2]).toMatchObject({ state: 'offline', thermal_status: 'unknown' });
    expect(problems.summary.thermal_critical.sort()).toEqual([hot!.key, fan!.key].sort());

    // The fan is replaced: one event out of critical, and the history says so.
    fan!.state.fans[0]!.failed = false;
    clock += HOUR;
    await collect();
    ({ history, events } = readBack(dbPath));
    expect(events).toHaveLength(3);
    expect(events[2]).toMatchObject({ port: fan!.port, from_state: 'critical' });
    expect(events[2]!.to_state).not.toBe('critical');
    expect(status(fan!.port).at(-1)).toBe(events[2]!.to_state);
  });
});

describe('the thermal section of the config file', () => {
  it('is validated once for collect and thermal alike: a bad key is exit 2 naming file, line and key', async () => {
    const fs = await import('node:fs');
    const file = path.join(dir, 'farm.json');
    fs.writeFileSync(
      file,
      '{\n  "targets": ["127.0.0.1:1"],\n  "thermal": {\n    "sites": { "A": { "board": { "warn": "hot" } } }\n  }\n}\n',
    );
    for (const args of [
      ['collect', '--once', '--db', dbPath],
      ['thermal', 'limits'],
      ['thermal', 'check', '127.0.0.1:1'],
    ]) {
      const ctx = memoryContext({ env: {} });
      expect(await runCli([...args, '--config', file], ctx)).toBe(2);
      expect(ctx.err()).toMatch(new RegExp(`config ${file}:4: thermal\\.sites\\.A\\.board\\.warn: `));
    }
    // Nothing was stored: the config is refused before the database is touched.
    expect(fs.existsSync(dbPath)).toBe(false);
  });
});

/** Cycles from a script: per cycle, each port's snapshot or the error it fails with. */
async function runScript(
  store: Store,
  plan: Record<number, Snapshot | MinerError>[],
  thermal: ThermalConfig = {},
  site = 'north',
  /** Each cycle's start (the wall clock then); default a minute apart. */
  starts: readonly number[] = [],
): Promise<CycleReport[]> {
  let clock = Date.UTC(2025, 5, 1, 12);
  const reports: CycleReport[] = [];
  for (const [i, cycle] of plan.entries()) {
    clock = starts[i] ?? clock;
    const targets = Object.keys(cycle).map((port) => target(Number(port)));
    const deps: CollectLoopDeps = {
      store,
      pollAll: (fn) =>
        (async function* () {
          for (const t of targets) yield await fn(t);
        })(),
      fetchSnapshot: async (t: Target) => {
        const planned = cycle[t.port]!;
        if (planned instanceof MinerError) throw planned;
        return planned;
      },
      now: () => clock,
      sleep: async () => {},
      signal: new AbortController().signal,
      onCycle: () => {},
      onNote: () => {},
    };
    reports.push(await runCycle({ site, intervalMs: null, retainMs: 30 * 24 * HOUR, thermal }, deps));
    clock += 60_000;
  }
  return reports;
}

/** An S19j Pro whose hottest board reads `boardC` (chips 15 °C above it, fans healthy). */
function board(boardC: number, overrides: Partial<Snapshot> = {}): Snapshot {
  const base = makeSnapshot();
  return makeSnapshot({
    temp_max_board_c: boardC,
    temp_max_chip_c: boardC - 5,
    boards: base.boards.map((b) => ({ ...b, temp_board_c: boardC - 2, temp_chip_c: boardC - 5 })),
    ...overrides,
  });
}

describe('collect with hysteresis', () => {
  let store: Store;
  beforeEach(() => {
    store = openStore(dbPath);
  });
  afterEach(() => store.close());

  // Default air board limits: warn 75, critical 80; margin 3 °C.
  const hovering = [81, 79, 80.5, 78, 76.9, 73, 71.9];

  it('a board hovering at its critical limit does not flap: three changes, not six', async () => {
    const reports = await runScript(
      store,
      hovering.map((c) => ({ 4001: board(c) })),
    );
    const { history, events } = readBack(dbPath);
    expect(history.map((row) => row.thermal_status)).toEqual([
      'critical',
      'critical', // 79: below 80, but not 3 °C below it
      'critical',
      'critical',
      'warn', // 76.9: left critical (below 77), still above warn's hold edge of 72
      'warn',
      'ok',
    ]);
    expect(events.map((e) => `${e.from_state}>${e.to_state}`)).toEqual([
      'unknown>critical',
      'critical>warn',
      'warn>ok',
    ]);
    expect(events[0]).toMatchObject({ metric: 'board' });
    expect(reports.map((r) => r.thermal?.events)).toEqual([1, 0, 0, 0, 1, 0, 1]);
  });

  it('keeps a newer reading that thermal check stored while the cycle polled', async () => {
    await runScript(store, [{ 4001: board(81) }]); // critical
    const at = Date.UTC(2025, 5, 1, 12) + 60_000; // the second cycle's start
    const minerId = store.db.prepare('SELECT id FROM miners WHERE port = 4001').pluck().get() as number;
    const siteId = store.db.prepare('SELECT site_id FROM miners WHERE id = ?').pluck().get(minerId) as number;
    let clock = at;
    const deps: CollectLoopDeps = {
      store,
      pollAll: (fn) =>
        (async function* () {
          yield await fn(target(4001));
        })(),
      fetchSnapshot: async () => {
        // Meanwhile a `thermal check --db` finds the miner cooled, and records it.
        thermalStatements(store.db).saveState({
          miner_id: minerId,
          site_id: siteId,
          status: 'ok',
          metric: null,
          levels: {},
          since: at + 30_000,
          updated_at: at + 30_000,
        });
        clock = at + 60_000; // the poll ends after the check
        return board(81);
      },
      now: () => clock,
      sleep: async () => {},
      signal: new AbortController().signal,
      onCycle: () => {},
      onNote: () => {},
    };
    const report = await runCycle(
      { site: 'north', intervalMs: null, retainMs: 30 * 24 * HOUR, thermal: {} },
      deps,
    );
    expect(report.thermal?.events).toBe(0);
    expect(store.db.prepare('SELECT status FROM thermal_state WHERE miner_id = ?').pluck().get(minerId)).toBe(
      'ok',
    );
    expect(readBack(dbPath).events).toHaveLength(1); // only the first cycle's unknown>critical
  });

  it('a wall clock set back (NTP after a run ahead) does not freeze the memory: the next change is recorded', async () => {
    const t = Date.UTC(2025, 5, 1, 12);
    // Two cycles while the clock runs two hours ahead (critical, then cooled), then NTP sets it
    // right and the board overheats again.
    const reports = await runScript(
      store,
      [{ 4001: board(81) }, { 4001: board(70) }, { 4001: board(81) }],
      {},
      'north',
      [t + 2 * HOUR, t + 2 * HOUR + 60_000, t + 120_000],
    );
    const { history, events } = readBack(dbPath);
    expect(history.map((row) => row.thermal_status)).toEqual(['critical', 'critical', 'ok']);
    expect(events.map((e) => `${e.from_state}>${e.to_state}`)).toEqual([
      'unknown>critical',
      'critical>ok',
      'ok>critical',
    ]);
    expect(reports.map((r) => r.thermal?.events)).toEqual([1, 1, 1]);
    // What live reads: the miner is critical now, not still ok from the cycle stamped ahead.
    expect(store.db.prepare('SELECT status FROM thermal_state').pluck().all()).toEqual(['critical']);
  });

  it('records its change when a thermal check --from-db ran while the cycle polled: that check judged an older reading', async () => {
    const start = Date.UTC(2025, 5, 1, 12);
    await runScript(store, [{ 4001: board(70) }]); // ok, stored at `start`
    // A cron's `thermal check --from-db` runs while the next cycles poll: it judges the stored
    // rows, the previous cycle's readings, at its own later wall-clock time.
    const fromDbCheck = async (now: number) => {
      const ctx = memoryContext({ now: () => now, env: {} });
      await runCli(['thermal', 'check', '--from-db', '--db', dbPath, '--json'], ctx);
    };
    const cycle = async (at: number, snapshot: Snapshot) => {
      const deps: CollectLoopDeps = {
        store,
        pollAll: (fn) =>
          (async function* () {
            yield await fn(target(4001));
          })(),
        fetchSnapshot: async () => {
          await fromDbCheck(at + 30_000);
          return snapshot;
        },
        now: () => at,
        sleep: async () => {},
        signal: new AbortController().signal,
        onCycle: () => {},
        onNote: () => {},
      };
      return runCycle({ site: 'north', intervalMs: null, retainMs: 30 * 24 * HOUR, thermal: {} }, deps);
    };
    // The miner runs critical for one cycle: collect polled it so, after the check judged the
    // older ok row. It was dropped as "older than the check's", and the episode never reached the log.
    const hot = await cycle(start + 60_000, board(81));
    expect(hot.thermal?.events).toBe(1);
    const cooled = await cycle(start + 120_000, board(70));
    expect(cooled.thermal?.events).toBe(1);
    expect(readBack(dbPath).events.map((e) => `${e.from_state}>${e.to_state}`)).toEqual([
      'ok>critical',
      'critical>ok',
    ]);
    expect(readBack(dbPath).history.map((row) => row.thermal_status)).toEqual(['ok', 'critical', 'ok']);
  });

  it('thermal check --from-db leaves alone a memory written from a newer reading than the stored row', async () => {
    const start = Date.UTC(2025, 5, 1, 12);
    await runScript(store, [{ 4001: board(81) }]); // critical, stored at `start`
    const minerId = store.db.prepare('SELECT id FROM miners WHERE port = 4001').pluck().get() as number;
    const siteId = store.db.prepare('SELECT site_id FROM miners WHERE id = ?').pluck().get(minerId) as number;
    // A live `thermal check --db` then found the miner cooled.
    thermalStatements(store.db).saveState({
      miner_id: minerId,
      site_id: siteId,
      status: 'ok',
      metric: null,
      levels: {},
      since: start + 30_000,
      updated_at: start + 30_000,
    });
    const ctx = memoryContext({ now: () => start + 40_000, env: {} });
    await runCli(['thermal', 'check', '--from-db', '--db', dbPath, '--json'], ctx);
    expect(store.db.prepare('SELECT status FROM thermal_state WHERE miner_id = ?').pluck().get(minerId)).toBe(
      'ok',
    );
    expect(readBack(dbPath).events).toHaveLength(1); // collect's unknown>critical only
  });

  it('uses the margin from the config: with none, the same readings flap', async () => {
    await runScript(
      store,
      hovering.map((c) => ({ 4001: board(c) })),
      { margin_c: 0 },
    );
    const { history, events } = readBack(dbPath);
    expect(history.map((row) => row.thermal_status)).toEqual([
      'critical',
      'warn',
      'critical',
      'warn',
      'warn',
      'ok',
      'ok',
    ]);
    expect(events).toHaveLength(5);
  });

  it('an unreachable miner is unknown, and keeps its levels for when it returns', async () => {
    await runScript(store, [
      { 4001: board(82) },
      { 4001: new MinerError('timeout', 'no answer in 5s') },
      // Back at 78: still critical thanks to the remembered level (plain comparison would say warn).
      { 4001: board(78) },
    ]);
    const { history, events } = readBack(dbPath);
    expect(history.map((row) => row.thermal_status)).toEqual(['critical', 'unknown', 'critical']);
    expect(events.map((e) => `${e.from_state}>${e.to_state}`)).toEqual([
      'unknown>critical',
      'critical>unknown',
      'unknown>critical',
    ]);
    expect(events[1]!.detail).toBe('unreachable: timeout');
  });

  it('does not call the idle boards of a miner hashctl paused dead, until it hashes again', async () => {
    const idle = board(40, {
      hashrate: { current_hs: 0, average_hs: 0, nominal_hs: null },
      boards: makeSnapshot().boards.map((b) => ({ ...b, hashrate_hs: 0, status: 'dead' as const })),
    });
    const first = await runScript(store, [{ 4001: idle }]);
    expect(first[0]?.thermal).toMatchObject({ warn: 1 }); // not paused by hashctl: dead boards
    recordPause(store.db, 4001, Date.UTC(2025, 5, 1, 11));
    const paused = await runScript(store, [{ 4001: idle }]);
    expect(paused[0]?.thermal).toMatchObject({ ok: 1, warn: 0 });
  });

  it('applies site, model and miner overrides, each miner to its own limits', async () => {
    const config: ThermalConfig = {
      sites: { north: { board: { warn: 82, critical: 88 } } },
      models: { 'S21 Hyd': { board: { critical: 84 } } },
      miners: { '127.0.0.1:4003': { board: { warn: 70, critical: 76 } } },
    };
    await runScript(
      store,
      [
        {
          4001: board(83), // site: warn 82, critical 88
          4002: board(85, { model: 'S21 Hyd' }), // model wins over site: critical 84
          4003: board(77), // the miner's own limits
          4004: board(77), // same model as 4003, site limits
        },
      ],
      config,
    );
    const { history } = readBack(dbPath);
    expect(Object.fromEntries(history.map((row) => [row.port, row.thermal_status]))).toEqual({
      4001: 'warn',
      4002: 'critical',
      4003: 'critical',
      4004: 'ok',
    });
    // Other sites keep the defaults.
    await runScript(store, [{ 4101: board(83) }], config, 'south');
    expect(readBack(dbPath).history.at(-1)).toMatchObject({ port: 4101, thermal_status: 'critical' });
  });
});

describe('live with thermal status', () => {
  it('--problems lists critical, then warn, then the other problems; --sort temp stays by temperature', async () => {
    const store = openStore(dbPath);
    try {
      const slowFan = board(60, {
        fans: [
          { index: 0, rpm: 900 },
          { index: 1, rpm: 5200 },
        ],
      });
      await runScript(store, [
        {
          4001: board(70, { hashrate: { current_hs: 50e12, average_hs: null, nominal_hs: 104e12 } }),
          4002: board(77), // warn
          4003: board(86), // critical
          4004: new MinerError('refused', 'connection refused'),
          4005: board(65), // fine
          4006: slowFan, // warn on a cool miner
        },
      ]);
    } finally {
      store.close();
    }
    const at = Date.UTC(2025, 5, 1, 12, 1);
    const problems = await live(['--problems'], at);
    expect(problems.miners.map((m) => m.port)).toEqual([4003, 4002, 4006, 4001, 4004]);
    expect(problems.miners.map((m) => m.thermal_status)).toEqual([
      'critical',
      'warn',
      'warn',
      'ok',
      'unknown',
    ]);
    expect(problems.miners[2]!.problems).toContain('thermal warn: fan_rpm');
    expect(problems.summary).toMatchObject({
      thermal_critical: ['127.0.0.1:4003'],
      thermal_warn: ['127.0.0.1:4002', '127.0.0.1:4006'],
    });

    const byTemp = await live(['--sort', 'temp'], at);
    expect(byTemp.miners.map((m) => m.port)).toEqual([4003, 4002, 4001, 4005, 4006, 4004]);

    // Text off a TTY: a thermal_status column, plain words.
    const ctx = memoryContext({ now: () => at, env: {} });
    expect(await runCli(['live', '--db', dbPath, '--problems'], ctx)).toBe(0);
    const lines = ctx.out().trimEnd().split('\n');
    expect(lines[0]!.split('\t').slice(0, 4)).toEqual(['miner', 'state', 'age_s', 'thermal_status']);
    expect(lines[1]!.split('\t').slice(0, 4)).toEqual(['127.0.0.1:4003', 'online', '60', 'critical']);
  });
});

/** What SQLite does when the disk fills at a cycle's commit, after every hook has run. */
const diskFullAtCommit: CycleHook = () => {
  throw new StoreError('io', 'disk full', { details: { sqlite_code: 'SQLITE_FULL' } });
};

/** A cycle of site north with one good poll of the miner on port 4001. */
function northCycle(startedAt: number) {
  return { site: 'north', startedAt, endedAt: startedAt, outcomes: [okOutcome(4001)] };
}

describe("the firmware's limits kept for thermal check --from-db", () => {
  const limits: FirmwareThermalLimits = {
    firmware: 'braiins',
    mode: 'auto',
    target_c: 75,
    hot_c: 90,
    dangerous_c: 100,
    chip_hot_c: null,
    chip_dangerous_c: null,
    water_inlet_dangerous_c: null,
    min_fans: null,
  };

  it('are written by the next stored cycle when the one that found them was not stored (a full disk at its commit)', () => {
    const store = openStore(dbPath);
    try {
      const keep = storedFirmwareLimits(store, () => limits);
      const at = Date.UTC(2025, 5, 1, 12);
      expect(() =>
        writeCycle(store, northCycle(at), { extraInTransaction: [keep, diskFullAtCommit] }),
      ).toThrow(/disk full/);
      // Room again: the next cycle of the same run is stored.
      writeCycle(store, northCycle(at + 60_000), { extraInTransaction: [keep] });
      const stored = store.db.prepare('SELECT firmware_limits FROM miners').pluck().all() as string[];
      expect(stored.map((json) => JSON.parse(json))).toEqual([limits]);
    } finally {
      store.close();
    }
  });
});

describe('the dialect hints kept for the next run', () => {
  it('are written by the next stored cycle when the one that learnt them was not stored (a full disk at its commit)', () => {
    const store = openStore(dbPath);
    try {
      const cache = createDialectCache();
      const dialects = storedDialects(store, 'north', cache);
      const at = Date.UTC(2025, 5, 1, 12);
      // The first poll learnt the miner's dialect; its cycle is refused at the commit.
      seedDialect(cache, '127.0.0.1:4001', 'antminer singles');
      expect(() =>
        writeCycle(store, northCycle(at), { extraInTransaction: [dialects.hook, diskFullAtCommit] }),
      ).toThrow(/disk full/);
      // Room again: the next cycle of the same run is stored, and with it the hint.
      writeCycle(store, northCycle(at + 60_000), { extraInTransaction: [dialects.hook] });
      expect(store.db.prepare('SELECT dialect FROM miners').pluck().all()).toEqual(['antminer singles']);
    } finally {
      store.close();
    }
  });
});
