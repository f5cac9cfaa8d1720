// live, history and export against a database filled through writeCycle.
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseExportOptions, runExport } from '../../src/commands/export.js';
import { chartBounds, parseHistoryOptions, runHistory } from '../../src/commands/history.js';
import { parseLiveOptions, runLive } from '../../src/commands/live.js';
import { parseGlobals } from '../../src/commands/shared.js';
import { memoryContext } from '../../src/context.js';
import { UsageError } from '../../src/errors.js';
import {
  HOUR_MS,
  type MinerOutcome,
  openStore,
  runMaintenance,
  type Store,
  writeCycle,
} from '../../src/store/index.js';
import { failedOutcome, okOutcome, recordPause, target, tempDir } from '../store/helpers.js';

let dir: string;
let cleanup: () => void;
let dbPath: string;
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-read-'));
  dbPath = path.join(dir, 'farm.db');
  const store = openStore(dbPath);
  try {
    // 30 cycles a minute apart, the last one a minute before NOW.
    for (let i = 0; i < 30; i++) {
      const t = NOW - (30 - i) * 60_000;
      writeCycle(store, {
        site: 'north',
        startedAt: t,
        endedAt: t + 500,
        outcomes: [
          okOutcome(4001, {
            hashrate: { current_hs: (100 + i) * 1e12, average_hs: null, nominal_hs: 104e12 },
            temp_max_chip_c: 70 + i / 2,
          }),
          // 4002 runs hot and slow, with a dead board.
          okOutcome(4002, {
            hashrate: { current_hs: 60e12, average_hs: null, nominal_hs: 104e12 },
            temp_max_chip_c: 95,
            boards: [
              {
                index: 0,
                hashrate_hs: 30e12,
                chips: 126,
                chips_expected: 126,
                temp_board_c: 70,
                temp_chip_c: 95,
                frequency_mhz: 525,
                status: 'ok',
              },
              {
                index: 1,
                hashrate_hs: 30e12,
                chips: 120,
                chips_expected: 126,
                temp_board_c: 70,
                temp_chip_c: 90,
                frequency_mhz: 525,
                status: 'ok',
              },
              {
                index: 2,
                hashrate_hs: 0,
                chips: 0,
                chips_expected: 126,
                temp_board_c: null,
                temp_chip_c: null,
                frequency_mhz: null,
                status: 'dead',
              },
            ],
          }),
          // 4003 answered until 10 minutes ago, then timed out: its figures are stale.
          i < 20 ? okOutcome(4003) : failedOutcome(4003),
          // 4004 never answered.
          failedOutcome(4004, 'refused'),
        ],
      });
    }
    // A site whose collector stopped two hours ago.
    writeCycle(store, {
      site: 'south',
      startedAt: NOW - 2 * HOUR_MS,
      endedAt: NOW - 2 * HOUR_MS + 100,
      outcomes: [okOutcome(5001)],
    });
  } finally {
    store.close();
  }
});
afterEach(() => cleanup());

function context() {
  return memoryContext({ now: () => NOW, env: {} });
}
const globalsFor = (ctx: ReturnType<typeof context>, json: boolean) => parseGlobals({ json }, ctx);

/** One more north cycle, 30 s before NOW, of this one outcome; `also` writes beside it. */
function latestNorthCycle(outcome: MinerOutcome, also?: (store: Store) => void): void {
  const store = openStore(dbPath);
  try {
    const t = NOW - 30_000;
    writeCycle(store, { site: 'north', startedAt: t, endedAt: t + 100, outcomes: [outcome] });
    also?.(store);
  } finally {
    store.close();
  }
}

/** `live --site north` on a terminal (a TTY stdout), as a field engineer reads it: what it shows. */
async function liveOnTerminal(): Promise<string> {
  let shown = '';
  const tty = memoryContext({
    now: () => NOW,
    env: {},
    stdout: {
      write: (s) => {
        shown += s;
        return true;
      },
      isTTY: true,
    },
  });
  await runLive(await parseLiveOptions({ db: dbPath, site: 'north' }, tty), globalsFor(tty, false), tty);
  return shown;
}

describe('a damaged database', () => {
  it('live, history and export say it is damaged, as collect does, not "internal error"', async () => {
    const fs = await import('node:fs');
    const Database = (await import('better-sqlite3')).default;
    const probe = new Database(dbPath, { readonly: true });
    const roots = probe
      .prepare(
        "SELECT rootpage FROM sqlite_master WHERE name IN ('telemetry_live', 'telemetry_history', 'telemetry_history_miner_ts', 'telemetry_history_site_ts', 'sites')",
      )
      .pluck()
      .all() as number[];
    const pageSize = probe.pragma('page_size', { simple: true }) as number;
    probe.close();
    const fd = fs.openSync(dbPath, 'r+');
    for (const root of roots)
      fs.writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (root - 1) * pageSize);
    fs.closeSync(fd);
    const ctx = context();
    const globals = globalsFor(ctx, true);
    const damaged = /farm\.db is not a hashctl database or is damaged/;
    await expect(runLive(await parseLiveOptions({ db: dbPath }, ctx), globals, ctx)).rejects.toThrow(damaged);
    await expect(
      runHistory(await parseHistoryOptions('127.0.0.1:4001', { db: dbPath }, ctx), globals, ctx),
    ).rejects.toThrow(damaged);
    await expect(
      runExport(await parseExportOptions({ db: dbPath, format: 'ndjson' }, globals, ctx), globals, ctx),
    ).rejects.toThrow(damaged);
  });
});

describe('the database the readers open', () => {
  it("is the config file's db (--config or $HASHCTL_CONFIG), where collect wrote, unless --db says", async () => {
    const fs = await import('node:fs');
    const config = path.join(dir, 'hashctl.json');
    fs.writeFileSync(config, JSON.stringify({ targets: ['127.0.0.1:4028'], db: dbPath }));
    const elsewhere = path.join(dir, 'default.db');
    const env = { HASHCTL_CONFIG: config, HASHCTL_DB: elsewhere };
    const ctx = memoryContext({ env, cwd: dir });
    expect((await parseLiveOptions({}, ctx)).dbPath).toBe(dbPath);
    expect((await parseHistoryOptions('127.0.0.1:4001', {}, ctx)).dbPath).toBe(dbPath);
    expect((await parseExportOptions({}, globalsFor(ctx, false), ctx)).dbPath).toBe(dbPath);
    expect((await parseLiveOptions({ config }, memoryContext({ cwd: dir }))).dbPath).toBe(dbPath);
    expect((await parseLiveOptions({ db: elsewhere }, ctx)).dbPath).toBe(elsewhere);
    // Without a config, $HASHCTL_DB as before.
    expect((await parseLiveOptions({}, memoryContext({ env: { HASHCTL_DB: elsewhere } }))).dbPath).toBe(
      elsewhere,
    );
  });
});

describe('hashctl live', () => {
  it('says nothing is stored yet for a file whose first collect never finished a cycle', async () => {
    const empty = path.join(dir, 'schema-only.db');
    openStore(empty).close(); // the schema, no cycle: a first collect killed before its transaction
    const ctx = context();
    await expect(
      runLive(await parseLiveOptions({ db: empty }, ctx), globalsFor(ctx, true), ctx),
    ).rejects.toThrow(/^nothing stored in .*schema-only\.db yet/);
  });

  it('lists the miners polled within the retention, and says so when a site has none left', async () => {
    // Site south: 8001 was taken out of the targets three days ago; 8002 is still polled.
    const file = path.join(dir, 'churn.db');
    const store = openStore(file);
    try {
      const old = NOW - 3 * 86_400_000;
      writeCycle(store, {
        site: 'south',
        startedAt: old,
        endedAt: old + 100,
        outcomes: [okOutcome(8001), okOutcome(8002)],
      });
      writeCycle(store, {
        site: 'south',
        startedAt: NOW - 60_000,
        endedAt: NOW,
        outcomes: [okOutcome(8002)],
      });
      // Site gone: renamed three days ago, its collector never ran again.
      writeCycle(store, { site: 'gone', startedAt: old, endedAt: old + 100, outcomes: [okOutcome(8003)] });
      runMaintenance(store, { now: old + 60_000, retainMs: 86_400_000, site: 'gone' });
      // South's collector runs maintenance every hour since.
      for (let t = old + HOUR_MS; t <= NOW; t += HOUR_MS)
        runMaintenance(store, { now: t, retainMs: 86_400_000, site: 'south' });
    } finally {
      store.close();
    }
    const ctx = context();
    expect(await runLive(await parseLiveOptions({ db: file }, ctx), globalsFor(ctx, true), ctx)).toBe(0);
    const out = JSON.parse(ctx.out());
    expect(out.miners.map((m: { miner: string }) => m.miner)).toEqual(['127.0.0.1:8002']);
    expect(out.summary).toMatchObject({ miners: 1, online: 1, stale: 0 });
    const gone = context();
    await expect(
      runLive(await parseLiveOptions({ db: file, site: 'gone' }, gone), globalsFor(gone, true), gone),
    ).rejects.toThrow(/^no miner of site gone in .*churn\.db was polled within its collect's --retain/);
  });

  it('counts online, offline and stale, and sums current figures only', async () => {
    const ctx = context();
    const code = await runLive(await parseLiveOptions({ db: dbPath }, ctx), globalsFor(ctx, true), ctx);
    expect(code).toBe(0);
    const out = JSON.parse(ctx.out());
    expect(out.summary).toMatchObject({ miners: 5, online: 2, offline: 2, stale: 1 });
    // 129 TH/s (4001's last cycle) + 60 TH/s (4002); 4003's stale 100 TH/s is not counted.
    expect(out.summary.hashrate_hs).toBe(189e12);
    expect(out.summary.hottest[0]).toEqual({ miner: '127.0.0.1:4002', temp_c: 95 });
    expect(out.summary.below_nominal).toEqual(['127.0.0.1:4002']);
    expect(out.summary.missing_chips).toEqual(['127.0.0.1:4002']);
    const stale = out.miners.find((m: { port: number }) => m.port === 4003);
    expect(stale).toMatchObject({
      state: 'offline',
      current: false,
      error_kind: 'timeout',
      hashrate_hs: 100e12,
    });
    // Its figures are from the 20th cycle: 11 minutes before NOW.
    expect(stale.age_s).toBe(11 * 60);
    const never = out.miners.find((m: { port: number }) => m.port === 4004);
    expect(never).toMatchObject({ state: 'offline', age_s: null, hashrate_hs: null, algorithm: 'unknown' });
    const south = out.miners.find((m: { port: number }) => m.port === 5001);
    expect(south).toMatchObject({ state: 'stale', current: false, age_s: 7200 });
  });

  it('takes flag values in any case, as audit does (--sort TEMP, --metric Temp, --format CSV)', async () => {
    const ctx = context();
    expect((await parseLiveOptions({ db: dbPath, sort: 'TEMP' }, ctx)).sort).toBe('temp');
    expect((await parseHistoryOptions('127.0.0.1:4001', { db: dbPath, metric: 'Temp' }, ctx)).metric).toBe(
      'temp',
    );
    const globals = globalsFor(ctx, false);
    expect((await parseExportOptions({ db: dbPath, format: 'CSV' }, globals, ctx)).format).toBe('csv');
    expect(
      (await parseExportOptions({ db: dbPath, format: 'NDJSON' }, globalsFor(ctx, true), ctx)).format,
    ).toBe('ndjson');
    await expect(parseLiveOptions({ db: dbPath, sort: 'hotness' }, ctx)).rejects.toThrow(
      "invalid --sort 'hotness'",
    );
  });

  it('filters by site and problems, sorts, and prints tab-separated rows off a TTY', async () => {
    const ctx = context();
    await runLive(
      await parseLiveOptions({ db: dbPath, site: 'north', problems: true, sort: 'temp' }, ctx),
      globalsFor(ctx, false),
      ctx,
    );
    const lines = ctx.out().trimEnd().split('\n');
    // Raw numbers for scripts, so the header says their units, named as --json names the fields.
    expect(lines[0]!.split('\t')).toEqual([
      'miner',
      'state',
      'age_s',
      'thermal_status',
      'model',
      'hashrate_hs',
      'nominal_pct',
      'temp_chip_max_c',
      'temp_board_max_c',
      'fan_min_rpm',
      'chips',
      'power_w',
      'problems',
    ]);
    const miners = lines.slice(1).map((line) => line.split('\t')[0]);
    // 4001 is fine and left out; by temperature, miners without a figure last.
    expect(miners).toEqual(['127.0.0.1:4002', '127.0.0.1:4003', '127.0.0.1:4004']);
    const row4003 = lines.find((line) => line.startsWith('127.0.0.1:4003'))!.split('\t');
    expect(row4003[1]).toBe('offline');
    expect(row4003[2]).toBe('660');
    expect(row4003.at(-1)).toContain('offline: timeout');
  });

  it('names a miner hashctl paused as paused, not as below nominal with dead boards', async () => {
    latestNorthCycle(
      okOutcome(4001, { hashrate: { current_hs: 0, average_hs: 0, nominal_hs: 104e12 } }),
      (store) => recordPause(store.db, 4001, NOW - 60_000),
    );
    const ctx = context();
    await runLive(await parseLiveOptions({ db: dbPath, site: 'north' }, ctx), globalsFor(ctx, true), ctx);
    const out = JSON.parse(ctx.out());
    const paused = out.miners.find((m: { port: number }) => m.port === 4001);
    expect(paused.paused_by).toMatch(/^paused by hashctl control at /);
    expect(paused.problems).toEqual([paused.paused_by]);
    expect(out.summary.below_nominal).not.toContain('127.0.0.1:4001');
  });

  it('flags an answering miner that hashes nothing, even with no nominal to compare', async () => {
    // A plain cgminer with no devices: answers, 0 H/s, no model, so no nominal.
    latestNorthCycle(
      okOutcome(4001, {
        make: 'unknown',
        model: null,
        hashrate: { current_hs: 0, average_hs: 0, nominal_hs: null },
      }),
    );
    const ctx = context();
    await runLive(
      await parseLiveOptions({ db: dbPath, site: 'north', problems: true }, ctx),
      globalsFor(ctx, true),
      ctx,
    );
    const out = JSON.parse(ctx.out());
    const idle = out.miners.find((m: { port: number }) => m.port === 4001);
    expect(idle).toMatchObject({ state: 'online', hashrate_hs: 0, hashrate_ratio: null });
    expect(idle.problems).toContain('not hashing');
    expect(out.summary.not_hashing).toEqual(['127.0.0.1:4001']);
    // On a terminal, the summary above the table counts it.
    const shown = await liveOnTerminal();
    expect(shown).toContain('not hashing: 1 (127.0.0.1:4001)');
  });

  it('says the hottest miners with their temperature as the table does, to a tenth', async () => {
    // A firmware's float (or an average of sensors) as read: 79.94845360824742 °C.
    latestNorthCycle(okOutcome(4001, { temp_max_chip_c: 79.94845360824742 }));
    const shown = await liveOnTerminal();
    expect(shown).toMatch(/hottest: .*127\.0\.0\.1:4001 79\.9°C/);
    expect(shown).not.toContain('79.948');
  });

  it('adds a site column when the miners shown come from several sites', async () => {
    const ctx = context();
    await runLive(await parseLiveOptions({ db: dbPath }, ctx), globalsFor(ctx, false), ctx);
    const lines = ctx.out().trimEnd().split('\n');
    expect(lines[0]!.split('\t').slice(0, 3)).toEqual(['miner', 'site', 'state']);
    expect(lines.find((line) => line.startsWith('127.0.0.1:5001'))!.split('\t')[1]).toBe('south');
    const one = context();
    await runLive(await parseLiveOptions({ db: dbPath, site: 'north' }, one), globalsFor(one, false), one);
    expect(one.out().split('\n')[0]!.split('\t')[1]).toBe('state');
  });

  it('lists miners by address as numbers (10.0.0.9 before 10.0.0.10), then host names', async () => {
    const store = openStore(dbPath);
    try {
      const at = (host: string, port = 4028) => ({ ...okOutcome(port), target: target(port, host) });
      writeCycle(store, {
        site: 'rack',
        startedAt: NOW - 60_000,
        endedAt: NOW,
        outcomes: [
          at('10.0.0.100'),
          at('rig-a.farm'),
          at('10.0.0.10'),
          at('10.0.0.9', 4029),
          at('10.0.0.9'),
          at('9.0.0.1'),
        ],
      });
    } finally {
      store.close();
    }
    const ctx = context();
    await runLive(await parseLiveOptions({ db: dbPath, site: 'rack' }, ctx), globalsFor(ctx, false), ctx);
    const miners = ctx
      .out()
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => line.split('\t')[0]);
    expect(miners).toEqual([
      '9.0.0.1:4028',
      '10.0.0.9:4028',
      '10.0.0.9:4029',
      '10.0.0.10:4028',
      '10.0.0.100:4028',
      'rig-a.farm:4028',
    ]);
  });

  it('keeps the miners of a collect run every 15 minutes (cron) online between two runs, not stale', async () => {
    const store = openStore(dbPath);
    try {
      // Cycles at 12:00 − 57, 42, 27 and 12 minutes: `live` at 12:00 is 12 minutes after the last.
      for (const ago of [57, 42, 27, 12]) {
        const t = NOW - ago * 60_000;
        writeCycle(store, { site: 'cron', startedAt: t, endedAt: t + 500, outcomes: [okOutcome(4001)] });
      }
    } finally {
      store.close();
    }
    const live = async (raw: Record<string, unknown>, now = NOW) => {
      const ctx = memoryContext({ now: () => now, env: {} });
      await runLive(
        await parseLiveOptions({ db: dbPath, site: 'cron', ...raw }, ctx),
        globalsFor(ctx, true),
        ctx,
      );
      return JSON.parse(ctx.out()).summary;
    };
    expect(await live({})).toMatchObject({ online: 1, stale: 0, hashrate_hs: 100e12 });
    // An explicit --stale-after still decides; and a collector gone for 2.5 of its intervals is stale.
    expect(await live({ staleAfter: '10m' })).toMatchObject({ online: 0, stale: 1, hashrate_hs: 0 });
    expect(await live({}, NOW + 30 * 60_000)).toMatchObject({ online: 0, stale: 1 });
    // Site north's collector runs every minute: its 10-minute default is unchanged.
    const north = memoryContext({ now: () => NOW + 11 * 60_000, env: {} });
    await runLive(
      await parseLiveOptions({ db: dbPath, site: 'north' }, north),
      globalsFor(north, true),
      north,
    );
    expect(JSON.parse(north.out()).summary.online).toBe(0);
  });

  it('does not count a miner as online whose last poll is stamped a month ahead (the clock was ahead, then the collector stopped)', async () => {
    latestNorthCycle(
      okOutcome(4001, { hashrate: { current_hs: 100e12, average_hs: null, nominal_hs: 104e12 } }),
      (store) => {
        const t = NOW + 31 * 24 * HOUR_MS;
        writeCycle(store, { site: 'north', startedAt: t, endedAt: t + 100, outcomes: [okOutcome(4001)] });
      },
    );
    const ctx = context();
    await runLive(await parseLiveOptions({ db: dbPath, site: 'north' }, ctx), globalsFor(ctx, true), ctx);
    const out = JSON.parse(ctx.out());
    const ahead = out.miners.find((m: { miner: string }) => m.miner === '127.0.0.1:4001');
    expect(ahead).toMatchObject({ state: 'stale', current: false });
    expect(ahead.problems).toContain('stale: last poll stamped 31d ahead of this clock');
    // Only 4002 is online and current: 4001's figures are not in the total.
    expect(out.summary).toMatchObject({ online: 1, hashrate_hs: 60e12 });
  });

  it('refuses an unknown site or sort, and a missing database', async () => {
    const ctx = context();
    await expect(
      runLive(await parseLiveOptions({ db: dbPath, site: 'west' }, ctx), globalsFor(ctx, true), ctx),
    ).rejects.toThrow(UsageError);
    await expect(parseLiveOptions({ db: dbPath, sort: 'colour' }, ctx)).rejects.toThrow(UsageError);
    await expect(
      runLive(await parseLiveOptions({ db: path.join(dir, 'none.db') }, ctx), globalsFor(ctx, true), ctx),
    ).rejects.toMatchObject({ kind: 'io' });
  });
});

describe('hashctl history', () => {
  it('finds a miner in a site whatever the Unicode form its name is typed in, as live and export do', async () => {
    const store = openStore(dbPath);
    try {
      // Stored as collect stores it: "café" in NFC; the same miner address is also in site north.
      writeCycle(store, {
        site: 'caf\u00e9',
        startedAt: NOW - 60_000,
        endedAt: NOW,
        outcomes: [okOutcome(4001)],
      });
    } finally {
      store.close();
    }
    const ctx = context();
    // Typed decomposed (e + combining acute), as some keyboards and macOS file names give it.
    const opts = await parseHistoryOptions('127.0.0.1:4001', { db: dbPath, site: 'cafe\u0301' }, ctx);
    expect(await runHistory(opts, globalsFor(ctx, true), ctx)).toBe(0);
    expect(JSON.parse(ctx.out())).toMatchObject({ miner: '127.0.0.1:4001', site: 'caf\u00e9', samples: 1 });
  });

  it('gives the points and min/avg/max with --json', async () => {
    const ctx = context();
    const opts = await parseHistoryOptions('127.0.0.1:4001', { db: dbPath, since: '15m' }, ctx);
    expect(await runHistory(opts, globalsFor(ctx, true), ctx)).toBe(0);
    const out = JSON.parse(ctx.out());
    // Cycles 15..29 fall in the last 15 minutes: 115..129 TH/s.
    expect(out.points).toHaveLength(15);
    expect(out).toMatchObject({
      miner: '127.0.0.1:4001',
      site: 'north',
      metric: 'hashrate',
      min: 115e12,
      max: 129e12,
      samples: 15,
      gaps: 0,
    });
    expect(out.avg).toBeCloseTo(122e12, -6);
    expect(out.points[0]).toEqual({
      ts: new Date(NOW - 15 * 60_000).toISOString(),
      value: 115e12,
      source: 'raw',
    });
  });

  it('ends the window now: polls stamped ahead (the clock was ahead, then NTP set it back) are counted, not drawn', async () => {
    const store = openStore(dbPath);
    try {
      const t = NOW + 31 * 24 * HOUR_MS;
      writeCycle(store, {
        site: 'north',
        startedAt: t,
        endedAt: t + 100,
        outcomes: [okOutcome(4001, { hashrate: { current_hs: 1e12, average_hs: null, nominal_hs: 104e12 } })],
      });
    } finally {
      store.close();
    }
    const ctx = context();
    const opts = await parseHistoryOptions('127.0.0.1:4001', { db: dbPath, since: '15m' }, ctx);
    expect(await runHistory(opts, globalsFor(ctx, true), ctx)).toBe(0);
    const out = JSON.parse(ctx.out());
    expect(out).toMatchObject({ to: new Date(NOW).toISOString(), min: 115e12, max: 129e12, after_to: 1 });
    expect(out.points).toHaveLength(15);

    const text = context();
    await runHistory(opts, globalsFor(text, false), text);
    // The chart spans the 15 minutes, not a month: the last poll shown is the one before NOW.
    expect(text.out()).toContain(`… ${new Date(NOW - 60_000).toISOString().slice(0, 19)}Z`);
    expect(text.out()).toMatch(/\(15 samples, 1 stamped after now left out/);
  });

  it('takes --since as an ISO date too, for history and export alike', async () => {
    // 4003 answered 11:30..11:49, then failed: from 11:45 on, 5 polls with a value, 10 without.
    const ctx = context();
    const opts = await parseHistoryOptions('127.0.0.1:4003', { db: dbPath, since: '2025-06-01T11:45Z' }, ctx);
    expect(opts.sinceAt).toBe(NOW - 15 * 60_000);
    await runHistory(opts, globalsFor(ctx, true), ctx);
    expect(JSON.parse(ctx.out())).toMatchObject({ from: '2025-06-01T11:45:00.000Z', samples: 5, gaps: 10 });
    const text = context();
    await runHistory(opts, globalsFor(text, false), text);
    expect(text.out().split('\n')[0]).toContain('since 2025-06-01T11:45:00.000Z');
    const csv = context();
    const exportOpts = await parseExportOptions(
      { db: dbPath, site: 'north', since: '2025-06-01T13:45+02:00' },
      globalsFor(csv, false),
      csv,
    );
    await runExport(exportOpts, globalsFor(csv, false), csv);
    // 15 cycles of 4 miners from 11:45 UTC.
    expect(csv.out().trimEnd().split('\n')).toHaveLength(1 + 15 * 4);
    await expect(
      parseHistoryOptions('127.0.0.1:4003', { db: dbPath, since: '2025-06-02' }, ctx),
    ).rejects.toThrow(/not before now/);
  });

  it('draws a chart with a min/avg/max line and counts failed polls as gaps', async () => {
    const ctx = context();
    const opts = await parseHistoryOptions(
      '127.0.0.1:4003',
      { db: dbPath, metric: 'temp', since: '1h' },
      ctx,
    );
    await runHistory(opts, globalsFor(ctx, false), ctx);
    const text = ctx.out();
    expect(text).toContain('127.0.0.1:4003 (site north) hottest chip');
    expect(text).toMatch(/┤|┼/);
    expect(text).toMatch(
      /min 77\.0 °C {2}avg 77\.0 °C {2}max 77\.0 °C {2}\(20 samples, 10 without a value\)/,
    );
  });

  it('uses hourly rollups where raw rows were removed', async () => {
    const store = openStore(dbPath);
    try {
      runMaintenance(store, { now: NOW + 2 * HOUR_MS, retainMs: HOUR_MS, force: true });
    } finally {
      store.close();
    }
    const ctx = memoryContext({ now: () => NOW + 2 * HOUR_MS });
    const opts = await parseHistoryOptions('127.0.0.1:4001', { db: dbPath, since: '1d' }, ctx);
    await runHistory(opts, globalsFor(ctx, true), ctx);
    const out = JSON.parse(ctx.out());
    expect(out.points.map((p: { source: string }) => p.source)).toEqual(['hourly']);
    // The hour average of 100..129 TH/s.
    expect(out.points[0].value).toBeCloseTo(114.5e12, -6);
    // Its extremes and its 30 polls, not one sample at the average.
    expect(out).toMatchObject({ min: 100e12, max: 129e12, samples: 30 });
    // And the point itself says it: a reader taking the max of the points gets the hour's peak.
    expect(out.points[0]).toMatchObject({ min: 100e12, max: 129e12, polls: 30, polls_without_value: 0 });
  });

  it('counts each poll of the hour retention reaches once: its raw rows, then its rollup', async () => {
    // Cycles ran 11:30..11:59 (100..129 TH/s). At 12:45 with an hour's retention the cut falls in
    // 11:xx: the whole hour stays raw (none of it deleted, so not also shown as its rollup).
    for (const [at, source] of [
      [NOW + 45 * 60_000, 'raw'],
      // At 13:05 the cut is 12:00: the whole hour went, and its rollup stands for all 30 polls.
      [NOW + 65 * 60_000, 'hourly'],
    ] as const) {
      const store = openStore(dbPath);
      try {
        runMaintenance(store, { now: at, retainMs: HOUR_MS, force: true });
      } finally {
        store.close();
      }
      const ctx = memoryContext({ now: () => at, env: {} });
      const opts = await parseHistoryOptions('127.0.0.1:4001', { db: dbPath, since: '1d' }, ctx);
      await runHistory(opts, globalsFor(ctx, true), ctx);
      const out = JSON.parse(ctx.out());
      expect(out.points.every((p: { source: string }) => p.source === source)).toBe(true);
      expect(out).toMatchObject({ samples: 30, min: 100e12, max: 129e12 });
    }
  });

  it('draws flat and huge series instead of looping for ever', async () => {
    // A day at 78.3 °C whose bucket averages differ by a rounding error, and a broken 1e289.
    const store = openStore(dbPath);
    try {
      for (let i = 0; i < 1440; i++) {
        const t = NOW - 2 * 86_400_000 + i * 60_000;
        writeCycle(store, {
          site: 'east',
          startedAt: t,
          endedAt: t + 100,
          outcomes: [
            okOutcome(6001, { temp_max_chip_c: 78.3 }),
            okOutcome(6002, { hashrate: { current_hs: 1e289, average_hs: null, nominal_hs: null } }),
          ],
        });
      }
    } finally {
      store.close();
    }
    for (const [miner, metric] of [
      ['127.0.0.1:6001', 'temp'],
      ['127.0.0.1:6002', 'hashrate'],
    ] as const) {
      const ctx = memoryContext({ now: () => NOW - 86_400_000 + 60_000, env: {} });
      const opts = await parseHistoryOptions(miner, { db: dbPath, metric, since: '1d', site: 'east' }, ctx);
      expect(await runHistory(opts, globalsFor(ctx, false), ctx)).toBe(0);
      expect(ctx.out()).toMatch(/┤|┼/);
      // Every row has a label of its own (a flat line is drawn on a readable scale), none "-0.00".
      const labels = ctx
        .out()
        .split('\n')
        .filter((line) => /[┤┼]/.test(line))
        .map((line) => line.split(/[┤┼]/)[0]!.trim());
      if (metric === 'temp') {
        expect(new Set(labels).size, labels.join('|')).toBe(labels.length);
        expect(labels).toContain('78.30');
      }
      expect(labels.filter((label) => /^-0(\.0+)?$/.test(label))).toEqual([]);
    }
    expect(chartBounds([78.3, 78.29999999999998, 78.3], 12)).toMatchObject({ min: expect.any(Number) });
    expect(chartBounds([1, 5, 3], 12)).toEqual({});
    // Flat: at least a label step per row; never below zero for a series that is not.
    expect(chartBounds([78.3, 78.3], 12, 0.01)).toEqual({
      min: expect.closeTo(78.24),
      max: expect.closeTo(78.36),
    });
    expect(chartBounds([0, 0], 12, 0.01)).toEqual({ min: 0, max: expect.closeTo(0.12) });
    expect(chartBounds([1, Number.POSITIVE_INFINITY], 12)).toBeNull();
  });

  it('asks for the port when a bare host matches several miners', async () => {
    const ctx = context();
    const opts = await parseHistoryOptions('127.0.0.1', { db: dbPath }, ctx);
    await expect(runHistory(opts, globalsFor(ctx, true), ctx)).rejects.toThrow(/matches 5 miners/);
    await expect(parseHistoryOptions('127.0.0.1:4001', { metric: 'rpm' }, ctx)).rejects.toThrow(UsageError);
  });

  it('names ten of the miners a bare host matches, and says there are more', async () => {
    const many = path.join(dir, 'many.db');
    const store = openStore(many);
    try {
      const outcomes = Array.from({ length: 12 }, (_, i) => okOutcome(5001 + i));
      writeCycle(store, { site: 'north', startedAt: NOW - 60_000, endedAt: NOW - 59_500, outcomes });
    } finally {
      store.close();
    }
    const ctx = context();
    const opts = await parseHistoryOptions('127.0.0.1', { db: many }, ctx);
    const error = await runHistory(opts, globalsFor(ctx, true), ctx).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain('matches 12 miners: 127.0.0.1:5001 (site north), ');
    // All in one site: the port tells them apart, --site would not.
    expect((error as Error).message).toContain('127.0.0.1:5010 (site north), …; give the port');
    expect((error as Error).message).not.toContain('--site');
    expect((error as Error).message).not.toContain('5011');
  });

  it('asks for what tells the matches apart: the port, --site, or both', async () => {
    const store = openStore(dbPath);
    try {
      // 127.0.0.1:4001 in a second site too; 4002 only in north.
      writeCycle(store, {
        site: 'west',
        startedAt: NOW - 60_000,
        endedAt: NOW - 59_000,
        outcomes: [okOutcome(4001)],
      });
    } finally {
      store.close();
    }
    const hint = async (miner: string, site?: string) => {
      const ctx = context();
      const opts = await parseHistoryOptions(miner, { db: dbPath, ...(site ? { site } : {}) }, ctx);
      const error = await runHistory(opts, globalsFor(ctx, true), ctx).catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message.replace(/.*; give /, '');
    };
    expect(await hint('127.0.0.1:4001')).toBe('--site');
    // --site given: the ports of that site are what is left.
    expect(await hint('127.0.0.1', 'north')).toBe('the port');
    // Five ports in north, one of them also in west: neither alone picks one.
    expect(await hint('127.0.0.1')).toBe('the port and --site');
  });
});

describe('hashctl export', () => {
  it('streams CSV with a header, ISO timestamps and empty cells for unknown values', async () => {
    const ctx = context();
    await runExport(
      await parseExportOptions({ db: dbPath, since: '3m', site: 'north' }, globalsFor(ctx, false), ctx),
      globalsFor(ctx, false),
      ctx,
    );
    const lines = ctx.out().trimEnd().split('\n');
    expect(lines[0]).toBe(
      'ts,site,miner,run_id,hashrate_hs,algorithm,temp_chip_max_c,temp_board_max_c,fan_min_rpm,boards_ok,boards_total,chips,chips_expected,power_w,accepted,rejected,error_kind,thermal_status',
    );
    // Three cycles × four miners.
    expect(lines).toHaveLength(1 + 3 * 4);
    const failed = lines.find((line) => line.includes('127.0.0.1:4004'))!.split(',');
    expect(failed[0]).toBe(new Date(NOW - 3 * 60_000).toISOString());
    expect(failed[4]).toBe('');
    expect(failed[16]).toBe('refused');
    // Each row says which unit its hashrate counts: the miner's algorithm, empty where never read.
    const answered = lines.find((line) => line.includes('127.0.0.1:4001'))!.split(',');
    expect(answered[5]).toBe('sha256d');
    expect(failed[5]).toBe('');
  });

  it("labels each row with the algorithm it was hashing then: a machine replaced by another at the same address does not relabel the old one's rows", async () => {
    // An L3+ (scrypt) hashes at 127.0.0.1:8001, misses a poll, and is swapped for an S19j Pro.
    const l3 = okOutcome(8001, {
      model: 'L3+',
      algorithm: 'scrypt',
      hashrate: { current_hs: 504e6, average_hs: null, nominal_hs: 504e6 },
    });
    const plan: MinerOutcome[] = [l3, l3, failedOutcome(8001), okOutcome(8001), okOutcome(8001)];
    const store = openStore(dbPath);
    try {
      for (const [i, outcome] of plan.entries()) {
        const t = NOW - (10 - i) * 60_000;
        writeCycle(store, { site: 'east', startedAt: t, endedAt: t + 100, outcomes: [outcome] });
      }
    } finally {
      store.close();
    }
    const exported = async (format: string) => {
      const ctx = context();
      const globals = globalsFor(ctx, false);
      await runExport(
        await parseExportOptions({ db: dbPath, since: '1h', site: 'east', format }, globals, ctx),
        globals,
        ctx,
      );
      return ctx.out().trimEnd().split('\n');
    };
    const csv = (await exported('csv')).slice(1).map((line) => line.split(','));
    expect(csv.map((cells) => [cells[4], cells[5]])).toEqual([
      ['504000000', 'scrypt'],
      ['504000000', 'scrypt'],
      ['', 'scrypt'],
      ['100000000000000', 'sha256d'],
      ['100000000000000', 'sha256d'],
    ]);
    const ndjson = (await exported('ndjson')).map((line) => JSON.parse(line) as { algorithm: string });
    expect(ndjson.map((row) => row.algorithm)).toEqual(['scrypt', 'scrypt', 'scrypt', 'sha256d', 'sha256d']);
  });

  it('says when --since reaches hours retention kept only as rollups, instead of starting later in silence', async () => {
    // Two days of a site at a one-day retention: the first day is rollups only by now.
    const store = openStore(dbPath);
    try {
      for (let t = NOW - 2 * 86_400_000; t < NOW; t += 20 * 60_000) {
        writeCycle(store, { site: 'west', startedAt: t, endedAt: t + 100, outcomes: [okOutcome(7001)] });
      }
      runMaintenance(store, { now: NOW, retainMs: 86_400_000, site: 'west', force: true });
    } finally {
      store.close();
    }
    const run = async (since: string) => {
      const ctx = context();
      const globals = globalsFor(ctx, false);
      await runExport(
        await parseExportOptions({ db: dbPath, since, site: 'west' }, globals, ctx),
        globals,
        ctx,
      );
      return { rows: ctx.out().trimEnd().split('\n').length - 1, err: ctx.err() };
    };
    const week = await run('7d');
    expect(week.rows).toBe(24 * 3);
    expect(week.err).toContain(
      `site west: raw history starts at ${new Date(NOW - 86_400_000).toISOString()} (collect --retain)`,
    );
    expect(week.err).toContain(`the hours from ${new Date(NOW - 2 * 86_400_000).toISOString()} before it`);
    // Within the raw history: nothing to say.
    const day = await run('12h');
    expect(day.rows).toBe(12 * 3);
    expect(day.err).toBe('');
  });

  it('says the hours kept only as rollups when a clock set back stamped a poll before them', async () => {
    const store = openStore(dbPath);
    try {
      for (let t = NOW - 2 * 86_400_000; t < NOW; t += 20 * 60_000) {
        writeCycle(store, { site: 'west', startedAt: t, endedAt: t + 100, outcomes: [okOutcome(7001)] });
      }
      runMaintenance(store, { now: NOW, retainMs: 86_400_000, site: 'west', force: true });
      // The clock set back 40 hours for one cycle, then right again.
      const back = NOW - 40 * HOUR_MS;
      writeCycle(store, { site: 'west', startedAt: back, endedAt: back + 100, outcomes: [okOutcome(7001)] });
    } finally {
      store.close();
    }
    const ctx = context();
    const globals = globalsFor(ctx, false);
    await runExport(
      await parseExportOptions({ db: dbPath, since: '7d', site: 'west' }, globals, ctx),
      globals,
      ctx,
    );
    // The day before the retention is not exported (but the one late poll): said, as without it.
    expect(ctx.out().trimEnd().split('\n')).toHaveLength(1 + 24 * 3 + 1);
    expect(ctx.err()).toContain(
      `site west: raw history starts at ${new Date(NOW - 86_400_000).toISOString()} (collect --retain)`,
    );
    expect(ctx.err()).toContain(`the hours from ${new Date(NOW - 2 * 86_400_000).toISOString()} before it`);
  });

  it('waits for a slow reader to drain instead of buffering the whole export', async () => {
    const store = openStore(dbPath);
    try {
      const outcomes = Array.from({ length: 400 }, (_, i) => okOutcome(6000 + i));
      for (let c = 0; c < 3; c++) {
        writeCycle(store, { site: 'bulk', startedAt: NOW - 10_000 + c, endedAt: NOW - 9_000, outcomes });
      }
    } finally {
      store.close();
    }
    let text = '';
    let pendingDrain: (() => void) | null = null;
    let drains = 0;
    let writesWhileFull = 0;
    const stdout = {
      isTTY: false,
      write(chunk: string) {
        if (pendingDrain !== null) writesWhileFull++;
        text += chunk;
        return false; // always "full": the exporter must wait for 'drain' after every chunk
      },
      once(event: string, fn: () => void) {
        expect(event).toBe('drain');
        pendingDrain = fn;
        setImmediate(() => {
          drains++;
          pendingDrain = null;
          fn();
        });
      },
    };
    const ctx = memoryContext({ now: () => NOW, stdout });
    const globals = globalsFor(ctx, false);
    await runExport(
      await parseExportOptions({ db: dbPath, site: 'bulk', since: '1h' }, globals, ctx),
      globals,
      ctx,
    );
    expect(text.trimEnd().split('\n')).toHaveLength(1 + 3 * 400);
    expect(drains).toBeGreaterThan(0);
    expect(writesWhileFull).toBe(0);
  });

  it('writes one JSON object a line with --format ndjson, across every site', async () => {
    const ctx = context();
    const globals = globalsFor(ctx, false);
    await runExport(
      await parseExportOptions({ db: dbPath, since: '3h', format: 'ndjson' }, globals, ctx),
      globals,
      ctx,
    );
    const rows = ctx
      .out()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rows).toHaveLength(30 * 4 + 1);
    expect(rows.at(-1)).toMatchObject({
      site: 'south',
      miner: '127.0.0.1:5001',
      hashrate_hs: 100e12,
      error_kind: null,
    });
    expect(Object.keys(rows[0])[0]).toBe('ts');
    await expect(parseExportOptions({ format: 'xml' }, globals, ctx)).rejects.toThrow(UsageError);
  });
});
