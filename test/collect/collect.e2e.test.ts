// `hashctl collect` end to end: bin/hashctl (the built bundle) against a simulated farm on
// 127.0.0.1, a real SQLite file in a temp dir, then live/history/export on what it stored.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { existsSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Farm } from '../../src/sim/index.js';
import { startFarm } from '../../src/sim/index.js';
import { acquireLock, openStore } from '../../src/store/index.js';
import { loadSqlite } from '../../src/store/native.js';
import { tempDir } from '../store/helpers.js';

const root = path.resolve(__dirname, '../..');
const bin = path.join(root, 'bin', 'hashctl');
const MINERS = 8;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running: ChildProcess[] = [];

function hashctl(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<Ran> } {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<Ran>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

const run = (args: string[], env?: Record<string, string>) => hashctl(args, env).done;
/** `collect` on the test's farm and database, then `extra`. */
const collectArgs = (...extra: string[]): string[] => [
  'collect',
  '--targets',
  `@${inventory}`,
  '--db',
  dbPath,
  ...extra,
];

let farm: Farm;
let inventory: string;
let dir: string;
let cleanup: () => void;
let dbPath: string;

beforeAll(async () => {
  if (!existsSync(path.join(root, 'dist', 'hashctl.cjs')))
    throw new Error('dist/hashctl.cjs is missing: run `npm run build`');
  farm = await startFarm({ profile: 'mix', count: MINERS, seed: 3, host: '127.0.0.1', basePort: 0 });
});
afterAll(async () => {
  await farm?.stop();
});
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-e2e-'));
  dbPath = path.join(dir, 'farm.db');
  inventory = path.join(dir, 'inventory.txt');
  writeFileSync(inventory, `${farm.inventory().join('\n')}\n`);
});
afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
  }
  for (const miner of farm.miners) await miner.setFaults({ refused: false, hang: false });
  cleanup();
});

describe('hashctl collect (end to end)', () => {
  it('--once --json stores one cycle of every miner; live, history and export read it', async () => {
    const collected = await run(collectArgs('--once', '--json'));
    expect(collected.stderr).not.toMatch(/internal error/);
    expect(collected.code).toBe(0);
    const summary = JSON.parse(collected.stdout.trim());
    expect(Object.keys(summary).sort()).toEqual(['duration_ms', 'failed', 'ok', 'polled', 'run_id']);
    expect(summary).toMatchObject({ run_id: 1, polled: MINERS, ok: MINERS, failed: 0 });

    const live = await run(['live', '--db', dbPath, '--json']);
    expect(live.code).toBe(0);
    const farmNow = JSON.parse(live.stdout);
    expect(farmNow.summary).toMatchObject({ miners: MINERS, online: MINERS, offline: 0, stale: 0 });
    expect(farmNow.summary.hashrate_hs).toBeGreaterThan(0);
    const makes = new Set(farmNow.miners.map((m: { make: string }) => m.make));
    expect(makes.size).toBeGreaterThan(1); // the mix really is mixed
    expect(farmNow.miners.every((m: { hashrate_hs: number | null }) => m.hashrate_hs !== null)).toBe(true);

    const first = farm.inventory()[0]!;
    const history = await run(['history', first, '--db', dbPath, '--json']);
    expect(history.code).toBe(0);
    expect(JSON.parse(history.stdout)).toMatchObject({ miner: first, samples: 1 });
    // The chart and the table load their packages with import(): twice, as a start-up cache would
    // only show its effect from the second run on.
    for (let i = 0; i < 2; i++) {
      const chart = await run(['history', first, '--db', dbPath]);
      expect(chart.stderr).toBe('');
      expect(chart.stdout).toMatch(/min .* avg .* max/);
      const table = await run(['live', '--db', dbPath], { HASHCTL_FORMAT: 'table' });
      expect(table.stderr).toBe('');
      expect(table.code).toBe(0);
    }

    // The longest --since (a hundred years) starts the series at 1970, not at a date before it.
    const ancient = await run(['history', first, '--db', dbPath, '--json', '--since', '36500d']);
    expect(ancient.code).toBe(0);
    expect(JSON.parse(ancient.stdout)).toMatchObject({ from: '1970-01-01T00:00:00.000Z', samples: 1 });

    const exported = await run(['export', '--db', dbPath, '--format', 'csv']);
    expect(exported.code).toBe(0);
    expect(exported.stdout.trim().split('\n')).toHaveLength(1 + MINERS);
    const ndjson = await run(['export', '--db', dbPath, '--ndjson']);
    expect(ndjson.code).toBe(0);
    expect(
      ndjson.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toHaveLength(MINERS);

    // A site id a spreadsheet would run as a formula is exported as text; one with control
    // characters is refused before anything is stored.
    const formula = '=HYPERLINK("x")';
    const second = await run(collectArgs('--once', '--site', formula));
    expect(second.code).toBe(0);
    const cells = await run(['export', '--db', dbPath, '--format', 'csv', '--site', formula]);
    expect(cells.stdout.trim().split('\n')[1]).toMatch(/^[^,]+,"'=HYPERLINK\(""x""\)",/);
    const hostile = await run(collectArgs('--once', '--site', 'a\u001b[31mred'));
    expect(hostile.code).toBe(2);
    expect(hostile.stderr.trim()).toBe(
      "hashctl: invalid --site 'a\\x1b[31mred': control and invisible characters cannot name a site",
    );
    // A name past the limit is said to be too long, not echoed whole.
    const long = await run(collectArgs('--once', '--site', 'x'.repeat(100_000)));
    expect(long.code).toBe(2);
    expect(long.stderr.trim()).toBe(
      `hashctl: invalid --site '${'x'.repeat(40)}…': longer than 200 characters`,
    );
  });

  it("stores each miner's dialect, so the next run asks only its plan, one request where joins work", async () => {
    const args = collectArgs('--once', '-q');
    const firstContact =
      'version+summary+stats+pools+devs+devdetails+edevs+config+coin+fans+temps+power+tempctrl';
    const counts = () => farm.miners.map((m) => m.received().length);
    const before = counts();
    expect((await run(args)).code).toBe(0);
    const afterFirst = counts();
    expect((await run(args)).code).toBe(0);
    const store = openStore(dbPath);
    const hints = store.db.prepare('SELECT dialect FROM miners ORDER BY id').pluck().all() as string[];
    store.close();
    expect(hints).toHaveLength(MINERS);
    expect(hints.every((h) => /^[a-z-]+( singles( \d+)?)?$/.test(h))).toBe(true);
    farm.miners.forEach((miner, i) => {
      const log = miner.received().map((e) => e.command);
      const firstRun = log.slice(before[i], afterFirst[i]);
      const secondRun = log.slice(afterFirst[i]);
      expect(firstRun[0]).toBe(firstContact);
      // no first-contact probe the second time, and never more requests than first contact took
      expect(secondRun).not.toContain(firstContact);
      expect(secondRun.length).toBeLessThanOrEqual(firstRun.length);
    });
  });

  it('polls a miner listed under its address and a host name once, and stores it once', async () => {
    const [miner, other] = farm.miners as [Farm['miners'][number], Farm['miners'][number]];
    const twice = path.join(dir, 'twice.txt');
    writeFileSync(twice, `${miner.key}\n${other.key}\nlocalhost:${miner.port}\n`);
    const before = miner.received().length;
    const result = await run(['collect', '--once', '--json', '--targets', `@${twice}`, '--db', dbPath]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ polled: 2, ok: 2 });
    expect(result.stderr).toContain(
      `localhost:${miner.port} is the miner ${miner.key} already names: polled once`,
    );
    // One first contact, not two at once.
    const firstContacts = miner
      .received()
      .slice(before)
      .filter((entry) => entry.command.startsWith('version+'));
    expect(firstContacts).toHaveLength(1);
    const store = openStore(dbPath);
    const hosts = store.db.prepare('SELECT host FROM miners ORDER BY id').pluck().all();
    store.close();
    expect(hosts).toEqual(['127.0.0.1', '127.0.0.1']);
  });

  it('records a miner that stops answering with its error kind, and live shows it offline with old figures', async () => {
    expect((await run(collectArgs('--once', '-q'))).code).toBe(0);
    await farm.miners[0]!.setFaults({ refused: true });
    const second = await run(collectArgs('--once', '--json', '--retries', '0'));
    expect(second.code).toBe(0); // one failed miner is data, not a failed run
    expect(JSON.parse(second.stdout.trim())).toMatchObject({ polled: MINERS, ok: MINERS - 1, failed: 1 });
    const live = JSON.parse((await run(['live', '--db', dbPath, '--json', '--problems'])).stdout);
    expect(live.summary).toMatchObject({ online: MINERS - 1, offline: 1 });
    const down = live.miners.find((m: { miner: string }) => m.miner === farm.miners[0]!.key);
    expect(down).toMatchObject({ state: 'offline', current: false, error_kind: 'refused' });
    expect(down.hashrate_hs).not.toBeNull();
    expect(down.age_s).not.toBeNull();
  });

  it('exits 1 when not one miner answers, and still stores the cycle', async () => {
    for (const miner of farm.miners) await miner.setFaults({ refused: true });
    const result = await run(collectArgs('--once', '--json', '--retries', '0'));
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ polled: MINERS, ok: 0, failed: MINERS });
  });

  it('a second run on a locked database exits 75 at once with one line', async () => {
    const lock = acquireLock(dbPath);
    try {
      const result = await run(collectArgs('--once'));
      expect(result.code).toBe(75);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(`${dbPath}.lock`);
      expect(existsSync(dbPath)).toBe(false); // refused before opening the database
    } finally {
      lock.release();
    }
  });

  it('--interval prints one NDJSON line per cycle and stops cleanly (exit 0) on SIGTERM', async () => {
    const { child, done } = hashctl(collectArgs('--interval', '1s', '--json'));
    let lines = 0;
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', () => {
        lines++;
        if (lines >= 2) resolve();
      });
      child.once('exit', (code) => reject(new Error(`collect exited early (${code})`)));
    });
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    // Said at once: a hung miner may hold the cycle in flight for its whole timeout.
    expect(result.stderr).toContain('stopping after the cycle in flight, if any, is stored');
    const cycles = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(cycles.length).toBeGreaterThanOrEqual(2);
    expect(cycles.map((c) => c.run_id)).toEqual(cycles.map((_, i) => i + 1));
    const store = openStore(dbPath, { readonly: true });
    try {
      expect(store.db.prepare('SELECT count(*) FROM collection_runs').pluck().get()).toBe(cycles.length);
    } finally {
      store.close();
    }
  });

  it('--interval: a lock file removed under the loop is taken again; a second run still exits 75, or the loop stops', async () => {
    // An operator's `rm` of a "stale" lock, or a /tmp cleaner: a second collect made a new lock
    // file, took it and polled beside the loop.
    const { child, done } = hashctl(collectArgs('--interval', '1s', '--json'));
    let lines = 0;
    let wanted = 0;
    let wake = () => {};
    child.stdout!.on('data', (d: Buffer) => {
      lines += d.toString().split('\n').length - 1;
      if (lines >= wanted) wake();
    });
    const cycles = (n: number) =>
      new Promise<void>((resolve, reject) => {
        wanted = n;
        wake = resolve;
        if (lines >= n) resolve();
        child.once('exit', (code) => reject(new Error(`collect exited early (${code})`)));
      });
    await cycles(1);
    const lockFile = `${dbPath}.lock`;
    fs.rmSync(lockFile);
    await cycles(lines + 2); // a cycle started after the removal has run
    const second = await run(collectArgs('--once'));
    expect(second.code, second.stderr).toBe(75);
    // Removed again, and another run takes the new file before the loop's next cycle: the loop
    // stops rather than poll beside it.
    await cycles(lines + 1);
    fs.rmSync(lockFile);
    const other = acquireLock(dbPath);
    try {
      const result = await done;
      expect(result.code).toBe(75);
      expect(result.stderr).toContain(
        'was removed while this run held it, and another run has taken it since',
      );
    } finally {
      other.release();
    }
  });

  it('a second Ctrl-C stops at once with one line, and the cycles stored before stay', async () => {
    const { child, done } = hashctl(collectArgs('--interval', '1s', '--json', '--timeout', '20s'));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`collect exited early (${code})`)));
    });
    // The next cycle hangs on one miner for its whole timeout.
    await farm.miners[0]!.setFaults({ hang: true });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.kill('SIGINT');
    for (let i = 0; i < 100 && !stderr.includes('Ctrl-C again'); i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGINT');
    const result = await done;
    await farm.miners[0]!.setFaults({ hang: false });
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('interrupted again: stopped at once');
    const store = openStore(dbPath, { readonly: true });
    try {
      expect(store.db.prepare('SELECT count(*) FROM collection_runs').pluck().get()).toBeGreaterThanOrEqual(
        1,
      );
      expect(store.db.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');
    } finally {
      store.close();
    }
  });

  it('--interval says once that its config file was edited, and goes on with what it read at start', async () => {
    const config = path.join(dir, 'collect.json');
    writeFileSync(config, JSON.stringify({ targets: [`@${inventory}`], db: dbPath }));
    const { child, done } = hashctl(['collect', '--config', config, '--interval', '1s', '--json']);
    let lines = 0;
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (data: Buffer) => {
        lines += data.toString().split('\n').length - 1;
        // After the first cycle: another site, which this run must not switch to halfway.
        if (lines === 1)
          writeFileSync(config, JSON.stringify({ targets: [`@${inventory}`], db: dbPath, site: 'b' }));
        if (lines >= 3) resolve();
      });
      child.once('exit', (code) => reject(new Error(`collect exited early (${code})`)));
    });
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    const said = result.stderr.split('\n').filter((line) => line.includes('changed since this run started'));
    expect(said).toEqual([
      `hashctl: config ${config} changed since this run started: collect reads it once, at start; restart it for the change to apply`,
    ]);
    expect(result.stderr).not.toContain('(site b)');
  });

  it('survives SIGKILL mid-collect: integrity_check passes and every stored run has all its miners', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { child, done } = hashctl(collectArgs('--interval', '1s', '--json'));
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once('data', () => setTimeout(resolve, 200 + attempt * 450));
        child.once('exit', (code) => reject(new Error(`collect exited early (${code})`)));
      });
      child.kill('SIGKILL');
      await done;
    }
    const Database = loadSqlite();
    const db = new Database(dbPath);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const incomplete = db
        .prepare(
          `SELECT count(*) FROM collection_runs r
           WHERE r.polled <> (SELECT count(*) FROM telemetry_history h WHERE h.run_id = r.id)`,
        )
        .pluck()
        .get();
      expect(incomplete).toBe(0);
      expect(db.prepare('SELECT count(*) FROM collection_runs').pluck().get()).toBeGreaterThanOrEqual(3);
    } finally {
      db.close();
    }
  });

  it('bad config, bad flags and a newer database are one line and exit 2', async () => {
    const config = path.join(dir, 'farm.json');
    writeFileSync(config, '{\n  "targets": ["127.0.0.1:1"],\n  "interval": "often"\n}\n');
    const bad = await run(['collect', '--config', config, '--db', dbPath]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe(
      `hashctl: config ${config}:3: interval: invalid duration "often": use e.g. 500ms, 60s, 5m, 30d`,
    );

    const neither = await run(['collect', '--targets', '127.0.0.1:1', '--db', dbPath]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/--once .* or --interval/);

    const badTarget = await run(['collect', '--targets', '10.0.0.300', '--db', dbPath, '--once']);
    expect(badTarget.code).toBe(2);

    // Past a Node timer's range the cycles would run back to back.
    const tooLong = await run(['collect', '--targets', '127.0.0.1:1', '--db', dbPath, '--interval', '25d']);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr.trim()).toBe(
      'hashctl: --interval must be at most 24d (for longer, run --once from cron)',
    );

    // Another program's database: refused untouched, and no lock file made beside it.
    const foreign = path.join(dir, 'crm.db');
    const crm = new (loadSqlite())(foreign);
    crm.exec('CREATE TABLE customers (name TEXT)');
    crm.close();
    const refused = await run(['collect', '--targets', '127.0.0.1:1', '--db', foreign, '--once']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not a hashctl database');
    expect(existsSync(`${foreign}.lock`)).toBe(false);

    // A /8 typed by mistake: refused before any traffic, not a host out of memory.
    const huge = await run(['collect', '--targets', '127.0.0.0/8', '--db', dbPath, '--once']);
    expect(huge.code).toBe(2);
    expect(huge.stderr).toMatch(
      /^hashctl: the targets name 16,777,216 addresses; collect polls at most 200,000 per run/,
    );

    const emptyDb = await run(['collect', '--targets', '127.0.0.1:1', '--db', '', '--once']);
    expect(emptyDb.code).toBe(2);
    expect(emptyDb.stderr.trim()).toBe('hashctl: --db is empty: give a database file name');

    openStore(dbPath).close();
    const Database = loadSqlite();
    const raw = new Database(dbPath);
    raw.pragma('user_version = 9999');
    raw.close();
    const newer = await run(collectArgs('--once'));
    expect(newer.code).toBe(2);
    expect(newer.stderr.trim().split('\n')).toHaveLength(1);
    expect(newer.stderr).toContain('newer hashctl');
    const live = await run(['live', '--db', dbPath]);
    expect(live.code).toBe(2);
  });

  it('reads the config file from $HASHCTL_CONFIG, with flags winning over it', async () => {
    const config = path.join(dir, 'farm.json');
    writeFileSync(
      config,
      JSON.stringify({ targets: [`@${inventory}`], site: 'from-config', db: dbPath, interval: '60s' }),
    );
    const result = await run(['collect', '--once', '--site', 'from-flag', '--json'], {
      HASHCTL_CONFIG: config,
    });
    expect(result.code).toBe(0);
    const live = JSON.parse((await run(['live', '--db', dbPath, '--json', '--site', 'from-flag'])).stdout);
    expect(live.summary.miners).toBe(MINERS);
  });

  it('--upload delivers the cycle to the collector through the outbox', async () => {
    const received: {
      path: string;
      key: string | undefined;
      idempotency: string | undefined;
      body: { miners: unknown[] };
    }[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          path: req.url ?? '',
          key: req.headers['x-collector-key'] as string | undefined,
          idempotency: req.headers['idempotency-key'] as string | undefined,
          body: JSON.parse(gunzipSync(Buffer.concat(chunks)).toString('utf8')),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const result = await run(collectArgs('--once', '--json', '--upload', `http://127.0.0.1:${port}`), {
        HASHCTL_COLLECTOR_KEY: 'test-key-0123456789abcdef',
      });
      expect(result.stderr).not.toMatch(/internal error/);
      expect(result.code).toBe(0);
      expect(received.length).toBeGreaterThanOrEqual(1);
      expect(received[0]).toMatchObject({ path: '/api/collector/upload', key: 'test-key-0123456789abcdef' });
      expect(received[0]!.idempotency).toBeTruthy();
      expect(received.reduce((n, r) => n + r.body.miners.length, 0)).toBe(MINERS);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('--upload refused by the collector (401) stores the cycle, keeps the batch pending and exits 1', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(401).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const result = await run(collectArgs('--once', '--json', '--upload', `http://127.0.0.1:${port}`), {
        HASHCTL_COLLECTOR_KEY: 'wrong-key-0123456789abcdef',
      });
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout.trim())).toMatchObject({ polled: MINERS, ok: MINERS });
      const store = openStore(dbPath, { readonly: true });
      try {
        expect(store.db.prepare('SELECT count(*) FROM collection_runs').pluck().get()).toBe(1);
        expect(
          store.db.prepare("SELECT count(*) FROM upload_outbox WHERE state = 'pending'").pluck().get(),
        ).toBeGreaterThan(0);
      } finally {
        store.close();
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('--upload without a key is a usage error before any cycle', async () => {
    const result = await run(collectArgs('--once', '--upload', 'http://127.0.0.1:9'));
    expect(result.code).toBe(2);
    expect(existsSync(dbPath)).toBe(false);
  });
});
