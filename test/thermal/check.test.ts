import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import type { CheckResult } from '../../src/thermal/check.js';
import { startHealthyFarm } from '../support/farm.js';
import {
  antminerReplies,
  braiinsReplies,
  braiinsWithTempctrl,
  type FakeMiner,
  startFakeMiner,
  TEMPCTRL_FAILURES,
} from './fake-miner.js';
import { airMiner, storeCycle, storedTarget } from './helpers.js';

interface CheckJson {
  results: {
    target: string;
    status: string;
    readings: Record<string, number | null> | null;
    limits: Record<string, { warn: number | null; critical: number | null; source: string }> | null;
    reasons: string[];
    action: string;
    error?: { kind: string; message: string };
    limit_notes?: string[];
    firmware_limits_error?: { kind: string; message: string };
  }[];
  summary: { total: number; ok: number; warn: number; critical: number; unknown: number; failing: number };
}

async function check(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; json: CheckJson; err: string }> {
  const ctx = memoryContext({ env });
  const code = await runCli(
    ['thermal', 'check', ...args, '--json', '--timeout', '2s', '--retries', '0'],
    ctx,
  );
  let json: CheckJson;
  try {
    json = JSON.parse(ctx.out());
  } catch {
    throw new Error(`no JSON (exit ${code}): ${ctx.err()}`);
  }
  return { code, json, err: ctx.err() };
}

const HOUR = 3_600_000;

/** The states the store's thermal events moved to, in order. */
function eventStates(db: string): string[] {
  const sqlite = new Database(db, { readonly: true });
  try {
    return sqlite.prepare('SELECT to_state FROM thermal_events ORDER BY id').pluck().all() as string[];
  } finally {
    sqlite.close();
  }
}

describe('thermal check on the simulator', () => {
  let farm: Farm | null = null;
  let clock = Date.parse('2026-11-02T12:00:00Z');
  afterEach(async () => {
    await farm?.stop();
    farm = null;
  });

  /** Lets the simulated temperatures settle (no waiting: the farm reads this clock). */
  const later = () => {
    clock += HOUR;
  };

  it('a cool farm is ok and exits 0', async () => {
    farm = await startHealthyFarm(3, () => clock);
    later();
    const { code, json } = await check(farm.inventory());
    expect(json.summary).toMatchObject({ total: 3, ok: 3, failing: 0 });
    for (const result of json.results) {
      expect(result.readings?.board_c).toBeGreaterThan(20);
      expect(result.readings?.board_c).toBeLessThan(75);
      expect(result.limits?.board).toMatchObject({ warn: 75, critical: 80 });
    }
    expect(code).toBe(0);
  });

  it('high ambient, a failed fan and a dead board make it critical (exit 3)', async () => {
    farm = await startHealthyFarm(4, () => clock);
    const [hot, fan, dead, all] = farm.miners;
    hot!.state.ambientC = 55; // fans already at full speed cannot hold it
    fan!.state.fans[0]!.failed = true;
    dead!.state.boards[0]!.dead = true;
    all!.state.ambientC = 45;
    all!.state.fans[1]!.failed = true;
    all!.state.boards[2]!.dead = true;
    later();
    const { code, json } = await check(farm.inventory());
    const byTarget = new Map(json.results.map((r) => [r.target, r]));
    const hotResult = byTarget.get(hot!.key)!;
    expect(hotResult.status).toBe('critical');
    expect(hotResult.readings?.board_c).toBeGreaterThanOrEqual(80);
    expect(hotResult.action).toBe('pause');
    const fanResult = byTarget.get(fan!.key)!;
    expect(fanResult.status).toBe('critical');
    expect(fanResult.readings?.fans_failed).toBe(1);
    expect(fanResult.reasons[0]).toMatch(/^failed fans 1/);
    // A dead board alone is a warning (it may have been cut by its own over-temperature guard).
    const deadResult = byTarget.get(dead!.key)!;
    expect(deadResult.status).toBe('warn');
    expect(deadResult.readings?.boards_dead).toBe(1);
    expect(byTarget.get(all!.key)!.status).toBe('critical');
    expect(json.summary).toMatchObject({ critical: 3, warn: 1, failing: 3 });
    expect(code).toBe(3);

    // --fail-on warn also counts the dead board.
    const warn = await check([...farm.inventory(), '--fail-on', 'warn']);
    expect(warn.json.summary.failing).toBe(4);
    expect(warn.code).toBe(3);
  });

  it('a miner with no temperature readings is unknown, not ok', async () => {
    farm = await startFarm({
      profile: 'cgminer',
      count: 1,
      seed: 3,
      host: '127.0.0.1',
      basePort: 0,
      now: () => clock,
    });
    later();
    const { code, json } = await check(farm.inventory());
    // A cgminer with no device: no hash board, hashing nothing. Unknown, and said why; but nothing
    // here can overheat, so it leaves no check undone (a cool mix farm exits 0).
    expect(json.results[0]).toMatchObject({
      status: 'unknown',
      reasons: ['no temperature reading: no hash board and not hashing, nothing to overheat'],
    });
    expect(code).toBe(0);
  });

  it('a hashing miner with no temperature reading is a check not done: exit 1', async () => {
    const { checkExitCode, summarize } = await import('../../src/thermal/check.js');
    const unknown = { status: 'unknown', reasons: [] } as unknown as CheckResult;
    const bare = { ...unknown, nothingToHeat: true } as CheckResult;
    expect(checkExitCode(summarize([unknown], 'critical'), [unknown])).toBe(1);
    expect(checkExitCode(summarize([bare], 'critical'), [bare])).toBe(0);
  });
});

describe('thermal check on hand-written replies', () => {
  const miners: FakeMiner[] = [];
  afterEach(async () => {
    await Promise.all(miners.splice(0).map((m) => m.close()));
  });

  it('boards above 90 °C and chips above 110 °C are critical (exit 3)', async () => {
    const miner = await startFakeMiner(antminerReplies([91, 93, 92], [111, 114, 112]), 'bmminer 1.0.0');
    miners.push(miner);
    const { code, json } = await check([miner.target]);
    const [result] = json.results;
    expect(result).toMatchObject({ target: miner.target, status: 'critical', action: 'pause' });
    expect(result?.readings).toMatchObject({ board_c: 93, chip_c: 114, fans_failed: 0 });
    expect(result?.reasons.join('\n')).toMatch(/board 93 °C ≥ critical 80 °C \(default air\)/);
    expect(result?.reasons.join('\n')).toMatch(/chip 114 °C ≥ critical 95 °C/);
    expect(code).toBe(3);
  });

  it('boards at 45 °C and chips at 60 °C are ok (exit 0)', async () => {
    const miner = await startFakeMiner(antminerReplies([45, 44, 45], [60, 59, 58]), 'bmminer 1.0.0');
    miners.push(miner);
    const { code, json } = await check([miner.target]);
    expect(json.results[0]).toMatchObject({ status: 'ok', reasons: [], action: 'none' });
    expect(json.results[0]?.readings).toMatchObject({ board_c: 45, chip_c: 60 });
    expect(code).toBe(0);
  });

  it('a model override written as probe shows it applies; one that matches nothing is warned about', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-thermal-model-'));
    try {
      const miner = await startFakeMiner(antminerReplies([62, 61, 60], [77, 76, 75]), 'bmminer 1.0.0');
      miners.push(miner);
      const file = path.join(dir, 'hashctl.json');
      const write = (models: Record<string, unknown>) =>
        fs.writeFileSync(file, JSON.stringify({ thermal: { models } }));
      // The make-prefixed name (probe's MODEL column) and any case: both mean this S19j Pro.
      for (const name of ['Antminer S19j Pro', 'antminer s19j pro', 'S19J PRO']) {
        write({ [name]: { board: { warn: 55, critical: 60 } } });
        const { code, json, err } = await check([miner.target, '--config', file]);
        expect(json.results[0]?.limits?.board, name).toMatchObject({ warn: 55, critical: 60 });
        expect(json.results[0]?.status, name).toBe('critical');
        expect(code, name).toBe(3);
        expect(err, name).not.toMatch(/matched no miner/);
      }
      // A typo: no effect on the limits, and one line on stderr naming it and the file.
      write({ 'Nonexistent X1': { board: { warn: 55, critical: 60 } } });
      const typo = await check([miner.target, '--config', file]);
      expect(typo.json.results[0]?.limits?.board).toMatchObject({ warn: 75, critical: 80 });
      const lines = typo.err.split('\n').filter((line) => /matched no miner/.test(line));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`config ${file}: thermal.models "Nonexistent X1": matched no miner checked`);
      // A model hashctl knows that is not in this check is not a typo; --quiet silences the warning.
      write({ S9: { board: { warn: 70 } } });
      expect((await check([miner.target, '--config', file])).err).not.toMatch(/matched no miner/);
      write({ 'Nonexistent X1': { board: { warn: 55, critical: 60 } } });
      expect((await check([miner.target, '--config', file, '--quiet'])).err).not.toMatch(/matched no miner/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every fan of a hashing air miner stopped is critical (not "no fans"), and the table says 0/4', async () => {
    const miner = await startFakeMiner(
      antminerReplies([60, 61, 60], [70, 71, 70], [0, 0, 0, 0]),
      'bmminer 1.0.0',
    );
    miners.push(miner);
    const { code, json } = await check([miner.target]);
    expect(json.results[0]).toMatchObject({
      status: 'critical',
      readings: { fans_total: 4, fans_failed: 4 },
    });
    expect(code).toBe(3);
    const ctx = memoryContext();
    await runCli(['thermal', 'check', miner.target, '--timeout', '2s', '--retries', '0'], ctx);
    // Into a pipe, bare figures under named headers: 4 failed, no running fan to give a speed.
    const [head = '', ...rows] = ctx.out().trimEnd().split('\n');
    const row = rows.find((line) => line.startsWith(miner.target))?.split('\t') ?? [];
    const cell = (name: string) => row[head.split('\t').indexOf(name)];
    expect([cell('fans_failed'), cell('fan_min_rpm')]).toEqual(['4', '-']);
    // One miner is one miner, not "1 miners".
    expect(ctx.err()).toMatch(/^1 miner: 1 critical, 0 warn, 0 ok, 0 unknown$/m);
    // On a terminal: running/total.
    const terminal = memoryContext();
    Object.assign(terminal.stdout, { isTTY: true, columns: 200 });
    await runCli(['thermal', 'check', miner.target, '--timeout', '2s', '--retries', '0'], terminal);
    expect(terminal.out()).toContain('0/4');
  });

  it('an unreachable miner is unknown with its error kind, and fails the check (exit 1) unless one is critical (3)', async () => {
    const miner = await startFakeMiner({});
    const target = miner.target;
    await miner.close();
    const { code, json } = await check([target]);
    expect(json.results[0]).toMatchObject({ status: 'unknown', error: { kind: 'refused' } });
    expect(code).toBe(1);
    const hot = await startFakeMiner(braiinsReplies({ boards: [130, 128, 129] }), 'BOSminer+ 0.2.0');
    miners.push(hot);
    expect((await check([target, hot.target])).code).toBe(3);
  });

  it('uses a Braiins OS miner’s own Hot/Dangerous as limits', async () => {
    const miner = await startFakeMiner(
      braiinsReplies({ boards: [97, 95, 96], hot: 95, dangerous: 105 }),
      'BOSminer+ 0.2.0',
    );
    miners.push(miner);
    const { code, json } = await check([miner.target]);
    expect(json.results[0]?.limits?.board).toEqual({
      warn: 95,
      critical: 102,
      source: 'firmware Braiins OS Hot=95; firmware Braiins OS Dangerous=105 − 3',
    });
    expect(json.results[0]?.status).toBe('warn');
    expect(miner.received).toContain('tempctrl');
    expect(code).toBe(0);
  });

  it('ignores firmware limits above the vendor maximum: a board at 130 °C is critical (exit 3)', async () => {
    const miner = await startFakeMiner(
      braiinsReplies({ boards: [130, 128, 129], hot: 140, dangerous: 150 }),
      'BOSminer+ 0.2.0',
    );
    miners.push(miner);
    const { code, json } = await check([miner.target]);
    const [result] = json.results;
    expect(result?.status).toBe('critical');
    expect(result?.limits?.board).toMatchObject({ warn: 75, critical: 85 });
    expect(result?.limits?.board?.source).toMatch(/Hot=140 ignored: above the vendor maximum 110 °C/);
    expect(result?.limits?.board?.source).toMatch(/Dangerous=150 ignored: above the vendor maximum 110 °C/);
    expect(result?.limit_notes).toHaveLength(2);
    expect(code).toBe(3);

    // `thermal limits` shows the same numbers and why.
    const ctx = memoryContext();
    expect(await runCli(['thermal', 'limits', miner.target, '--timeout', '2s', '--retries', '0'], ctx)).toBe(
      0,
    );
    const board = ctx
      .out()
      .split('\n')
      .find((line) => line.startsWith(`${miner.target}\tboard\t`));
    expect(board).toMatch(new RegExp(`^${miner.target}\tboard\tc\t75\t85\t.*Hot=140 ignored`));
    expect(ctx.out()).toMatch(/\tnote\t-\t.*Dangerous=150 ignored/);
  });

  it('a failed tempctrl read is said by check (defaults apply, exit unchanged) and by limits (exit 1)', async () => {
    for (const [tempctrl, kind] of TEMPCTRL_FAILURES) {
      const miner = await braiinsWithTempctrl(tempctrl);
      miners.push(miner);
      const { code, json } = await check([miner.target]);
      const [result] = json.results;
      // The S9 rule applies (75/85): the board at 71 °C is ok, and the check does not fail on the read.
      expect(result?.status).toBe('ok');
      expect(result?.limits?.board).toMatchObject({ warn: 75, critical: 85 });
      expect(result?.firmware_limits_error?.kind).toMatch(kind);
      expect(result?.limit_notes?.join('\n')).toMatch(/firmware limits not read: tempctrl failed/);
      expect(code).toBe(0);

      const ctx = memoryContext();
      const limitsCode = await runCli(
        ['thermal', 'limits', miner.target, '--json', '--timeout', '2s', '--retries', '0'],
        ctx,
      );
      const limits = JSON.parse(ctx.out());
      expect(limits.miners[0].firmware_limits).toBeNull();
      expect(limits.miners[0].firmware_limits_error.kind).toMatch(kind);
      expect(limits.miners[0].limits.notes.join('\n')).toMatch(/firmware limits not read/);
      expect(limitsCode).toBe(1);
    }
  });

  it('--protect never pauses a cool miner whose firmware reports Hot 1 / Dangerous 2', async () => {
    const miner = await startFakeMiner(
      braiinsReplies({ boards: [60, 58, 59], target: 1, hot: 1, dangerous: 2 }),
      'BOSminer+ 0.2.0',
    );
    miners.push(miner);
    const { code, json } = await check([miner.target, '--protect', '--yes', '--verify-timeout', '2s']);
    const [result] = json.results;
    expect(result?.limits?.board).toMatchObject({ warn: 75, critical: 85 });
    expect(result?.limit_notes?.join('\n')).toMatch(/Dangerous=2 ignored: at or below 45 °C/);
    expect(result?.status).toBe('ok');
    expect(result?.action).toBe('none');
    expect(miner.received).not.toContain('pause');
    expect(code).toBe(0);
  });

  it('a LuxOS Dangerous of 1e308 is ignored, not a critical limit of Infinity', async () => {
    const replies = braiinsReplies({ boards: [60, 61, 62] });
    const miner = await startFakeMiner(
      {
        ...replies,
        version: {
          STATUS: [{ STATUS: 'S', Code: 22, Msg: 'LUXminer versions', Description: 'LUXminer 2025.4.8' }],
          VERSION: [{ LUXminer: '2025.4.8.220305-57b389c7', API: '3.7', Type: 'Antminer S19j Pro' }],
          id: 1,
        },
        tempctrl: {
          STATUS: [{ STATUS: 'S', Code: 200, Msg: 'Temperature control', Description: 'LUXminer 2025.4.8' }],
          TEMPCTRL: [{ Mode: 'Automatic', Target: 55, Hot: 65, Dangerous: 1e308 }],
          id: 1,
        },
      },
      'LUXminer 2025.4.8',
    );
    miners.push(miner);
    const { json } = await check([miner.target]);
    const board = json.results[0]?.limits?.board;
    expect(board?.critical).not.toBe(null);
    expect(Number.isFinite(board?.critical)).toBe(true);
    expect(board?.critical).toBeLessThanOrEqual(150);
    expect(board?.source).toMatch(/Dangerous=1e\+308 ignored/);
    const ctx = memoryContext();
    await runCli(['thermal', 'limits', miner.target, '--timeout', '2s', '--retries', '0'], ctx);
    expect(ctx.out()).not.toMatch(/Infinity/);
  });
});

describe('thermal check with a store', () => {
  let dir: string;
  const miners: FakeMiner[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-thermal-db-'));
  });
  afterEach(async () => {
    await Promise.all(miners.splice(0).map((m) => m.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('without --site, a miner the store holds in one site is that row: its limits, its memory, its events', async () => {
    const db = path.join(dir, 'farm.db');
    const config = path.join(dir, 'hashctl.json');
    // No `site` in the config: only the site's limits (board warn 65 in north).
    fs.writeFileSync(config, JSON.stringify({ thermal: { sites: { north: { board: { warn: 65 } } } } }));
    const miner = await startFakeMiner(antminerReplies([70, 65, 64], [80, 75, 74]), 'bmminer 1.0.0');
    miners.push(miner);
    // The miner enters the store under north (as `collect --site north` puts it there).
    const first = await check([miner.target, '--db', db, '--site', 'north', '--config', config]);
    expect(first.json.results[0]).toMatchObject({ site: 'north', status: 'warn' });
    // From cron without --site: the same miner, judged and remembered as north's.
    const again = await check([miner.target, '--db', db, '--config', config]);
    expect(again.json.results[0]).toMatchObject({ site: 'north', status: 'warn' });
    expect(again.json.results[0]).not.toHaveProperty('transition');
    const sqlite = new Database(db, { readonly: true });
    try {
      expect(
        sqlite.prepare('SELECT s.name AS site, m.port FROM miners m JOIN sites s ON s.id = m.site_id').all(),
      ).toEqual([{ site: 'north', port: miner.port }]);
      expect(sqlite.prepare('SELECT count(*) AS n FROM thermal_state').get()).toEqual({ n: 1 });
      expect(sqlite.prepare('SELECT count(*) AS n FROM thermal_events').get()).toEqual({ n: 1 });
    } finally {
      sqlite.close();
    }
  });

  it('records each change once, with hysteresis across runs', async () => {
    const db = path.join(dir, 'farm.db');
    const table = antminerReplies([70, 65, 64], [80, 75, 74]);
    const miner = await startFakeMiner(table, 'bmminer 1.0.0');
    miners.push(miner);
    const statuses: string[] = [];
    for (const board of [70, 76, 74, 75, 73, 71, 70]) {
      // The fake miner answers from this table at request time: same miner, new readings.
      Object.assign(
        table,
        antminerReplies([board, board - 5, board - 6], [board + 10, board + 5, board + 4]),
      );
      const { code, json } = await check([miner.target, '--db', db, '--site', 'A']);
      expect(code).toBe(0);
      statuses.push(json.results[0]!.status);
    }
    // 74, 75 and 73 stay warn: the level is left only below 75 − 3.
    expect(statuses).toEqual(['ok', 'warn', 'warn', 'warn', 'warn', 'ok', 'ok']);
    const sqlite = new Database(db, { readonly: true });
    try {
      const events = sqlite
        .prepare(
          `SELECT s.name AS site, m.host, m.port, e.from_state, e.to_state, e.metric, e.value, e.limit_value
           FROM thermal_events e JOIN miners m ON m.id = e.miner_id JOIN sites s ON s.id = e.site_id ORDER BY e.id`,
        )
        .all();
      expect(events).toEqual([
        {
          site: 'A',
          host: '127.0.0.1',
          port: miner.port,
          from_state: 'ok',
          to_state: 'warn',
          metric: 'board',
          value: 76,
          limit_value: 75,
        },
        {
          site: 'A',
          host: '127.0.0.1',
          port: miner.port,
          from_state: 'warn',
          to_state: 'ok',
          metric: 'board',
          value: 71,
          limit_value: 75,
        },
      ]);
      expect(sqlite.prepare('SELECT status, levels FROM thermal_state').all()).toEqual([
        { status: 'ok', levels: expect.stringContaining('"board":"ok"') },
      ]);
    } finally {
      sqlite.close();
    }
  });

  it('a level held by hysteresis says so, not that the limit is reached', async () => {
    const db = path.join(dir, 'farm.db');
    const table = antminerReplies([84, 70, 70], [90, 85, 85]);
    const miner = await startFakeMiner(table, 'bmminer 1.0.0');
    miners.push(miner);
    const reasons: string[][] = [];
    for (const board of [84, 79, 73]) {
      Object.assign(table, antminerReplies([board, 70, 70], [90, 85, 85]));
      const { json } = await check([miner.target, '--db', db]);
      reasons.push(json.results[0]!.reasons);
    }
    expect(reasons[1]).toContain(
      'board 79 °C, held critical until below 77 °C (hysteresis; critical 80 °C, default air)',
    );
    expect(reasons[2]).toContain(
      'board 73 °C, held warn until below 72 °C (hysteresis; warn 75 °C, default air)',
    );
    expect(reasons.flat().some((r) => /79 °C ≥|73 °C ≥/.test(r))).toBe(false);
  });

  it('a miner hashctl paused is not reported for its idle boards on the next check', async () => {
    let clock = Date.parse('2026-11-02T12:00:00Z');
    const farm = await startFarm({
      profile: 'braiins-os',
      count: 1,
      seed: 5,
      host: '127.0.0.1',
      basePort: 0,
      ambientC: 20,
      now: () => clock,
    });
    try {
      const miner = farm.miners[0]!;
      clock += HOUR;
      miner.state.limits = { target: 30, hot: 46, dangerous: 47 }; // its own limits: critical at 44 °C
      const db = path.join(dir, 'farm.db');
      const protect = [...farm.inventory(), '--db', db, '--protect', '--yes', '--verify-timeout', '2s'];
      const first = await check(protect);
      expect(first.json.results[0]?.status).toBe('critical');
      expect(miner.state.sleeping).toBe(true);
      clock += HOUR; // cooled down while paused: every board idle
      const next = await check([...farm.inventory(), '--db', db]);
      expect(next.json.results[0]?.readings?.boards_dead).toBe(3);
      expect(next.json.results[0]?.reasons.join('; ')).not.toMatch(/dead boards/);
      expect(next.json.results[0]?.status).toBe('ok');
      // Without the store's record of our pause, the same idle boards do count.
      const other = await check([...farm.inventory(), '--db', path.join(dir, 'other.db')]);
      expect(other.json.results[0]?.reasons.join('; ')).toMatch(/dead boards 3 ≥ warn 1/);
    } finally {
      await farm.stop();
    }
  });

  it('--protect pauses a critical Whatsminer from cron with --admin-password-file', async () => {
    const farm = await startFarm({
      profile: 'whatsminer',
      count: 1,
      seed: 5,
      host: '127.0.0.1',
      basePort: 0,
      ambientC: 45,
      writes: 'allow',
    });
    try {
      const miner = farm.miners[0]!;
      const pw = path.join(dir, 'admin.pw');
      fs.writeFileSync(pw, `${miner.state.adminPassword ?? 'admin'}\n`, { mode: 0o600 });
      const base = [...farm.inventory(), '--protect', '--yes', '--verify-timeout', '5s'];
      // Without the password (cron has no terminal to ask on): skipped, and it says why.
      const without = await check([...base, '--db', path.join(dir, 'a.db')]);
      expect(without.json.results[0]?.status).toBe('critical');
      expect(miner.state.sleeping).toBe(false);
      expect(without.err + JSON.stringify(without.json)).toMatch(/--admin-password-file/);
      const withFile = await check([...base, '--db', path.join(dir, 'b.db'), '--admin-password-file', pw]);
      expect(withFile.code).toBe(3);
      expect(miner.state.sleeping).toBe(true);
      // An unreadable password file: exit 2 before any traffic.
      const asked = miner.received().length;
      const missing = memoryContext();
      expect(
        await runCli(
          ['thermal', 'check', ...base, '--admin-password-file', path.join(dir, 'none.pw')],
          missing,
        ),
      ).toBe(2);
      expect(missing.err()).toMatch(/^hashctl: cannot read --admin-password-file '.*none\.pw': ENOENT\n$/);
      expect(miner.received().length).toBe(asked);
      // The flag belongs to --protect.
      const ctx = memoryContext();
      expect(await runCli(['thermal', 'check', ...farm.inventory(), '--admin-password-file', pw], ctx)).toBe(
        2,
      );
    } finally {
      await farm.stop();
    }
  });

  it('--from-db judges by the firmware limits collect stored, as a live check does, and logs no false recovery', async () => {
    const farm = await startFarm({
      profile: 'braiins-os',
      count: 1,
      seed: 5,
      host: '127.0.0.1',
      basePort: 0,
    });
    try {
      const miner = farm.miners[0]!;
      miner.state.limits = { target: 30, hot: 46, dangerous: 47 }; // its own limits: critical from 44 °C
      const db = path.join(dir, 'farm.db');
      const live = await check([...farm.inventory(), '--db', db]);
      expect(live.json.results[0]?.status).toBe('critical');
      const collected = memoryContext();
      const code = await runCli(
        ['collect', '--targets', ...farm.inventory(), '--db', db, '--once'],
        collected,
      );
      expect(code, collected.err()).toBe(0);
      const stored = await check(['--from-db', '--db', db]);
      expect(stored.json.results[0]?.status).toBe('critical');
      expect(stored.json.results[0]?.limits).toEqual(live.json.results[0]?.limits);
      expect(eventStates(db)).toEqual(['critical']);
    } finally {
      await farm.stop();
    }
  });

  it('--from-db checks what collect stored; a failed poll is unknown with its kind', async () => {
    const db = path.join(dir, 'farm.db');
    await storeCycle(db, 'B', [
      { target: storedTarget(1), ok: true, snapshot: airMiner(86), elapsedMs: 20 },
      { target: storedTarget(2), ok: true, snapshot: airMiner(50), elapsedMs: 20 },
      {
        target: storedTarget(3),
        ok: false,
        error: { kind: 'timeout', message: 'no answer in 5s' },
        elapsedMs: 5000,
      },
    ]);
    const { code, json } = await check(['--from-db', '--db', db, '--site', 'B']);
    expect(json.results.map((r) => [r.target, r.status, r.error?.kind ?? null])).toEqual([
      ['10.0.0.1:4028', 'critical', null],
      ['10.0.0.2:4028', 'ok', null],
      ['10.0.0.3:4028', 'unknown', 'timeout'],
    ]);
    expect(code).toBe(3);
    expect(eventStates(db)).toEqual(['critical']);
    const missing = memoryContext();
    expect(await runCli(['thermal', 'check', '--from-db', '--db', path.join(dir, 'none.db')], missing)).toBe(
      1,
    );
    expect(missing.err()).toMatch(/no database at/);
    const both = memoryContext();
    expect(await runCli(['thermal', 'check', '--from-db', '127.0.0.1:9'], both)).toBe(2);
  });

  it('--from-db: a failed stored row with no error kind recorded gets a listed kind (store), not "unknown"', async () => {
    const db = path.join(dir, 'farm.db');
    await storeCycle(db, 'B', [
      {
        target: storedTarget(3),
        ok: false,
        error: { kind: 'timeout', message: 'no answer in 5s' },
        elapsedMs: 5000,
      },
    ]);
    // A row written by another tool, or a hand-edited database: the failure without its kind.
    const sqlite = new Database(db);
    sqlite.prepare('UPDATE telemetry_live SET error_kind = NULL, error_message = NULL').run();
    sqlite.close();
    const { LOCAL_ERROR_KINDS, MINER_ERROR_KINDS } = await import('../../src/errors.js');
    const { code, json } = await check(['--from-db', '--db', db]);
    const kind = json.results[0]?.error?.kind ?? '';
    expect([...MINER_ERROR_KINDS, ...LOCAL_ERROR_KINDS] as string[]).toContain(kind);
    expect(kind).toBe('store');
    expect(json.results[0]?.status).toBe('unknown');
    expect(json.results[0]?.error?.message).toMatch(/no error kind/);
    expect(code).toBe(1);
  });

  /** Cycles of site A started at `starts`, each with one air-cooled miner at 86 °C. */
  async function storeCycles(db: string, starts: number[]): Promise<void> {
    const { openStore, writeCycle } = await import('../../src/store/index.js');
    const store = openStore(db);
    try {
      for (const startedAt of starts) {
        writeCycle(store, {
          site: 'A',
          startedAt,
          endedAt: startedAt + 1000,
          outcomes: [
            {
              target: { host: '10.0.0.1', port: 4028, key: '10.0.0.1:4028' },
              ok: true,
              snapshot: airMiner(86),
              elapsedMs: 20,
            },
          ],
        });
      }
    } finally {
      store.close();
    }
  }

  it('--from-db does not judge snapshots collect took long ago, nor pass an empty database', async () => {
    const db = path.join(dir, 'old.db');
    // Collect stopped three days ago, with one miner at 86 °C.
    await storeCycles(db, [Date.now() - 3 * 86_400_000]);
    const stale = await check(['--from-db', '--db', db]);
    expect(stale.json.results.map((r) => [r.status, r.error?.kind])).toEqual([['unknown', 'stale']]);
    expect(stale.json.results[0]?.error?.message).toMatch(/^last reading 3d ago \(older than 10m\)/);
    expect(stale.code).toBe(1);
    const allowed = await check(['--from-db', '--db', db, '--stale-after', '4d']);
    expect(allowed.json.results[0]?.status).toBe('critical');
    expect(allowed.code).toBe(3);

    const empty = path.join(dir, 'empty.db');
    await storeCycles(empty, []);
    const ctx = memoryContext();
    expect(await runCli(['thermal', 'check', '--from-db', '--db', empty], ctx)).toBe(1);
    expect(ctx.err()).toMatch(/no collected miners in .*empty\.db: run `hashctl collect` first/);
    expect(await runCli(['thermal', 'check', '127.0.0.1:9', '--stale-after', '1h'], memoryContext())).toBe(2);
  });

  it('--from-db does not judge a snapshot stamped far ahead of the clock as the miner now', async () => {
    const db = path.join(dir, 'ahead.db');
    // Taken while the collector's clock ran a month ahead (before NTP set it back).
    await storeCycles(db, [Date.now() + 30 * 86_400_000]);
    const ahead = await check(['--from-db', '--db', db]);
    expect(ahead.json.results.map((r) => [r.status, r.error?.kind])).toEqual([['unknown', 'stale']]);
    expect(ahead.json.results[0]?.error?.message).toMatch(/^last reading stamped 29d23h ahead of this clock/);
    expect(ahead.code).toBe(1);
    // A few seconds ahead (clocks a little apart) is the miner now.
    const near = path.join(dir, 'near.db');
    await storeCycles(near, [Date.now() + 5_000]);
    expect((await check(['--from-db', '--db', near])).json.results[0]?.status).toBe('critical');
  });

  it('--site is refused as collect refuses it: control characters would be stored with the state', async () => {
    const db = path.join(dir, 'sites.db');
    for (const site of ['north\nsouth', 'evil\u202Eeman', ' ']) {
      // Loopback only, even for code that would poll before refusing (a closed port).
      for (const command of [
        ['check', '127.0.0.1:9', '--db', db],
        ['limits', '127.0.0.1:9'],
      ]) {
        const ctx = memoryContext();
        expect(await runCli(['thermal', ...command, '--site', site], ctx), command[0]).toBe(2);
        expect(ctx.err()).toMatch(/invalid --site|--site is empty/);
        expect(ctx.err().trimEnd().split('\n')).toHaveLength(1);
      }
    }
    expect(fs.existsSync(db)).toBe(false);
  });

  it('--fail-on takes its level in any case (WARN, Critical), as audit --fail-on does', async () => {
    const { parseThermalCheckOptions } = await import('../../src/commands/thermal.js');
    expect(parseThermalCheckOptions(['127.0.0.1:9'], { failOn: 'WARN' }).failOn).toBe('warn');
    expect(parseThermalCheckOptions(['127.0.0.1:9'], { failOn: 'Critical' }).failOn).toBe('critical');
    expect(() => parseThermalCheckOptions(['127.0.0.1:9'], { failOn: 'hot' })).toThrow(
      "invalid --fail-on 'hot'",
    );
  });

  it('--from-db by default allows a site 2.5 of its collect interval, as live does (a 15-minute cron)', async () => {
    const db = path.join(dir, 'cron15.db');
    const minute = 60_000;
    const last = Date.now() - 14 * minute; // the next cron run is a minute away
    await storeCycles(db, [last - 45 * minute, last - 30 * minute, last - 15 * minute, last]);
    const judged = await check(['--from-db', '--db', db]);
    expect(judged.json.results[0]?.status).toBe('critical');
    expect(judged.code).toBe(3);
    const strict = await check(['--from-db', '--db', db, '--stale-after', '10m']);
    expect(strict.json.results[0]?.error?.message).toMatch(/^last reading 14m ago \(older than 10m\)/);
  });
});

describe('Ctrl-C', () => {
  it('check and posture show the miners already read, say the rest were skipped, and exit 130', async () => {
    const farm = await startHealthyFarm(2, () => Date.now());
    const { createServer } = await import('node:net');
    // A peer that accepts and never answers: its read is in flight when Ctrl-C comes.
    const hung = createServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const hungKey = `127.0.0.1:${(hung.address() as import('node:net').AddressInfo).port}`;
    try {
      for (const command of ['check', 'posture']) {
        const controller = new AbortController();
        const ctx = memoryContext({ signal: controller.signal });
        const timer = setTimeout(() => controller.abort(), 700);
        const args = ['thermal', command, ...farm.inventory(), hungKey, '--json', '--timeout', '20s'];
        const code = await runCli(args, ctx).finally(() => clearTimeout(timer));
        expect(code, command).toBe(130);
        const doc = JSON.parse(ctx.out()) as {
          results?: { target: string }[];
          miners?: { target: string }[];
        };
        const shown = (doc.results ?? doc.miners ?? []).map((r) => r.target).sort();
        expect(shown, command).toEqual([...farm.inventory()].sort());
        expect(ctx.err(), command).toMatch(/interrupted; miners not yet read were skipped/);
      }
    } finally {
      hung.close();
      await farm.stop();
    }
  });
});
