import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { acquireLock } from '../../src/store/index.js';
import { deferBatch, markQuarantined, recordAttempt } from '../../src/store/outbox.js';
import { startCollector } from './support/collector.js';
import { enqueueCycle, KEY, reports, type TempStore } from './support/fixtures.js';
import { collectorPerTest } from './support/setup.js';

const setup = collectorPerTest();

async function run(args: string[], env: Record<string, string> = { HASHCTL_COLLECTOR_KEY: KEY }) {
  const ctx = memoryContext({ env });
  const code = await runCli(args, ctx);
  return { code, out: ctx.out(), err: ctx.err() };
}

/** Every byte the database left on disk (main file, WAL, shm). */
function databaseBytes(temp: TempStore): Buffer {
  return Buffer.concat(readdirSync(temp.dir).map((name) => readFileSync(join(temp.dir, name))));
}

describe('hashctl upload', () => {
  it('flushes the outbox and exits 0 when nothing is left pending', async () => {
    const { collector, temp } = await setup();
    enqueueCycle(temp.store, { miners: reports(4), now: Date.now(), limits: { maxMiners: 2 } });
    const result = await run(['upload', '--endpoint', collector.url, '--db', temp.path, '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out) as { delivered: number; pending: number; stop: string };
    expect(report).toMatchObject({ delivered: 2, pending: 0, stop: 'done' });
    expect(collector.accepted.size).toBe(2);
  });

  it('shows how far a long flush got on a TTY (cleared before its summary), never with --json or --quiet', async () => {
    const { collector, temp } = await setup();
    enqueueCycle(temp.store, { miners: reports(4), now: Date.now(), limits: { maxMiners: 2 } });
    const tty = (args: string[]) => {
      const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY } });
      let err = '';
      ctx.stderr = {
        isTTY: true,
        columns: 80,
        write: (text: string) => {
          err += text;
          return true;
        },
      };
      return runCli(args, ctx).then((code) => ({ code, err }));
    };
    const drawn = await tty(['upload', '--endpoint', collector.url, '--db', temp.path]);
    expect(drawn.code).toBe(0);
    expect(drawn.err).toContain(
      '\r\u001b[2Khashctl upload: 50% — 2 of 4 miner snapshots in 1 batch delivered',
    );
    expect(drawn.err).toMatch(/\r\u001b\[2Kdelivered 2 batches \(4 miners\), 0 pending/);
    for (const flag of ['--json', '--quiet']) {
      enqueueCycle(temp.store, { miners: reports(4), now: Date.now(), limits: { maxMiners: 2 } });
      const quiet = await tty([flag, 'upload', '--endpoint', collector.url, '--db', temp.path]);
      expect(quiet.code).toBe(0);
      expect(quiet.err).not.toContain('hashctl upload:');
    }
    expect(collector.accepted.size).toBe(6);
  });

  it("sends one site's batches only, with --site; refuses to send several sites' under one key", async () => {
    const { collector, temp } = await setup();
    enqueueCycle(temp.store, { miners: reports(2), now: Date.now(), siteId: 'farm-a' });
    enqueueCycle(temp.store, { miners: reports(2), now: Date.now(), siteId: 'farm-b' });
    const mixed = await run(['upload', '--endpoint', collector.url, '--db', temp.path]);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/holds batches of 2 sites \(farm-a, farm-b\): give --site/);
    expect(collector.received).toHaveLength(0);
    const onlyB = await run([
      'upload',
      '--endpoint',
      collector.url,
      '--db',
      temp.path,
      '--site',
      'farm-b',
      '--json',
    ]);
    expect(onlyB.code).toBe(0);
    expect(JSON.parse(onlyB.out)).toMatchObject({ delivered: 1, pending: 0 });
    expect(collector.received.map((r) => r.body?.site_id)).toEqual(['farm-b']);
    // farm-a's batch waits for farm-a's own key.
    const status = JSON.parse((await run(['upload', '--status', '--db', temp.path, '--json'])).out);
    expect(status.pending.batches).toBe(1);
  });

  it('refuses a --site the database has never seen (a typo would flush nothing and exit 0 for ever)', async () => {
    const { collector, temp } = await setup();
    enqueueCycle(temp.store, { miners: reports(2), now: Date.now(), siteId: 'farm-a' });
    const typo = await run(['upload', '--endpoint', collector.url, '--db', temp.path, '--site', 'Farm-A']);
    expect(typo.code).toBe(2);
    expect(typo.err.trim()).toBe(`hashctl: no site 'Farm-A' in ${temp.path} (known: farm-a)`);
    expect(collector.received).toHaveLength(0);
    // A known site with nothing pending is no mistake: exit 0.
    expect(
      (await run(['upload', '--endpoint', collector.url, '--db', temp.path, '--site', 'farm-a'])).code,
    ).toBe(0);
    expect(
      (await run(['upload', '--endpoint', collector.url, '--db', temp.path, '--site', 'farm-a'])).code,
    ).toBe(0);
    expect(collector.received).toHaveLength(1);
  });

  it('without --site sends the one site found pending, never a site whose batches arrive during the run', async () => {
    let temp: TempStore | undefined;
    const { collector, temp: store } = await setup((request, index) => {
      // A collect of another site in the same file commits a cycle while this run is sending.
      if (index === 0) enqueueCycle(temp!.store, { miners: reports(2), now: Date.now(), siteId: 'farm-b' });
      return request.body?.site_id === 'farm-a' ? { status: 200 } : { status: 403 };
    });
    temp = store;
    enqueueCycle(temp.store, {
      miners: reports(4),
      now: Date.now(),
      siteId: 'farm-a',
      limits: { maxMiners: 2 },
    });
    const result = await run(['upload', '--endpoint', collector.url, '--db', temp.path]);
    expect(result.code).toBe(0);
    expect(collector.received.map((r) => r.body?.site_id)).toEqual(['farm-a', 'farm-a']);
  });

  it('says in one line that the key was refused, keeps every batch and exits 1; the key is nowhere', async () => {
    const { collector, temp } = await setup(() => ({ status: 401, body: `{"error":"bad key ${KEY}"}` }));
    enqueueCycle(temp.store, { miners: reports(4), now: Date.now(), limits: { maxMiners: 2 } });
    const result = await run(['upload', '--endpoint', collector.url, '--db', temp.path]);
    expect(result.code).toBe(1);
    const lines = result.err.trim().split('\n');
    expect(lines.at(-1)).toMatch(
      /^hashctl: the collector refused the key from HASHCTL_COLLECTOR_KEY \(HTTP 401\); 2 batch\(es\) kept pending$/,
    );
    const status = await run(['upload', '--status', '--db', temp.path, '--json']);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.out) as { pending: { batches: number }; last_error: { reason: string } };
    expect(parsed.pending.batches).toBe(2);
    expect(parsed.last_error.reason).toContain('[redacted]');
    const textStatus = await run(['upload', '--status', '--db', temp.path]);
    for (const output of [result.out, result.err, status.out, status.err, textStatus.out, textStatus.err]) {
      expect(output).not.toContain(KEY);
    }
    temp.store.db.pragma('wal_checkpoint(TRUNCATE)');
    expect(databaseBytes(temp).includes(KEY)).toBe(false);
    expect(collector.received[0]!.headers['x-collector-key']).toBe(KEY);
  });

  it('--status says a drain cut by its deadline, or a batch in flight, as an attempt, not as an error', async () => {
    // The collector takes the first batch and has not answered the second when --deadline ends
    // the run: a healthy drain, which --status said as "last error: … no answer recorded".
    const { collector, temp } = await setup((_request, index) =>
      index === 0 ? { status: 200, body: '{"ok":true}' } : 'hang',
    );
    enqueueCycle(temp.store, { miners: reports(4), now: Date.now(), limits: { maxMiners: 2 } });
    await run(['upload', '--endpoint', collector.url, '--db', temp.path, '--deadline', '1s']);
    expect(collector.received).toHaveLength(2);
    const cut = await run(['upload', '--status', '--db', temp.path]);
    expect(cut.out, cut.out).not.toMatch(/^last error/m);
    expect(cut.out).toMatch(
      /^last attempt: batch \S+: cut by the flush's deadline before an answer came \(not a failure/m,
    );
    // A batch being sent right now (its attempt counted, no answer yet).
    const pending = temp.store.db
      .prepare("SELECT batch_id FROM upload_outbox WHERE state = 'pending'")
      .pluck()
      .get() as string;
    recordAttempt(temp.store.db, pending, Date.now());
    const inFlight = await run(['upload', '--status', '--db', temp.path]);
    expect(inFlight.out).not.toMatch(/^last error/m);
    expect(inFlight.out).toMatch(
      /^last attempt: batch \S+: no answer recorded for the last attempt \(in flight/m,
    );
  });

  it("--status gives the collector's Retry-After as the next attempt, not a newer batch that waits for it too", async () => {
    const { collector, temp } = await setup((_request, index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '600' } } : { status: 200 },
    );
    const now = Date.now();
    enqueueCycle(temp.store, { miners: reports(1), now: now - 2 });
    enqueueCycle(temp.store, { miners: reports(1), now: now - 1 });
    expect((await run(['upload', '--endpoint', collector.url, '--db', temp.path])).code).toBe(1);
    const json = JSON.parse((await run(['upload', '--status', '--db', temp.path, '--json'])).out);
    // The newer batch is due by its own row, but nothing goes to the collector for ten minutes.
    expect(Date.parse(json.next_attempt_at)).toBeGreaterThan(now + 500_000);
    const text = await run(['upload', '--status', '--db', temp.path]);
    expect(text.out).toMatch(/^the collector asked \(Retry-After\) to be sent nothing before \S+Z$/m);
    expect(collector.received).toHaveLength(1);
  });

  it("--status --site gives the wait of that site's own collector, not another site's Retry-After", async () => {
    // Site a's collector asks for ten minutes; site b goes to another collector, which asked nothing.
    const { collector: a, temp } = await setup(() => ({ status: 429, headers: { 'retry-after': '600' } }));
    const b = await startCollector(() => ({ status: 503 }));
    try {
      const now = Date.now();
      enqueueCycle(temp.store, { miners: reports(1), now: now - 2, siteId: 'farm-a' });
      enqueueCycle(temp.store, { miners: reports(1), now: now - 1, siteId: 'farm-b' });
      const send = (url: string, site: string) =>
        run(['upload', '--endpoint', url, '--db', temp.path, '--site', site, '--attempts', '1']);
      expect((await send(a.url, 'farm-a')).code).toBe(1);
      expect((await send(b.url, 'farm-b')).code).toBe(1);
      const status = (site: string) =>
        Promise.all([
          run(['upload', '--status', '--db', temp.path, '--site', site]),
          run(['upload', '--status', '--db', temp.path, '--site', site, '--json']),
        ]);
      const [textB, jsonB] = await status('farm-b');
      expect(textB.out).not.toContain('Retry-After');
      // b's batch is due now (its collector answered 503 without a wait), not in ten minutes.
      expect(Date.parse(JSON.parse(jsonB.out).next_attempt_at)).toBeLessThan(now + 300_000);
      const [textA, jsonA] = await status('farm-a');
      expect(textA.out).toMatch(/^the collector asked \(Retry-After\) to be sent nothing before \S+Z$/m);
      expect(Date.parse(JSON.parse(jsonA.out).next_attempt_at)).toBeGreaterThan(now + 500_000);
      // Every site at once: the one collector that waits is named, with its site (b's batches do not wait).
      const all = await run(['upload', '--status', '--db', temp.path]);
      expect(all.out).toMatch(
        new RegExp(
          `^the collector at ${a.url}/api/collector/upload \\(site farm-a\\) asked \\(Retry-After\\) to be sent nothing before \\S+Z$`,
          'm',
        ),
      );
      // b's collector also asks for a wait: both are said, each with its URL.
      const b2 = await startCollector(() => ({ status: 429, headers: { 'retry-after': '900' } }));
      try {
        expect((await send(b2.url, 'farm-b')).code).toBe(1);
        const both = await run(['upload', '--status', '--db', temp.path]);
        expect(both.out).toContain(
          `the collector at ${a.url}/api/collector/upload (site farm-a) asked (Retry-After)`,
        );
        expect(both.out).toContain(
          `the collector at ${b2.url}/api/collector/upload (site farm-b) asked (Retry-After)`,
        );
      } finally {
        await b2.close();
      }
    } finally {
      await b.close();
    }
  });

  it('--status gives a next attempt stamped by a clock that leapt ahead as due now, as the flush takes it', async () => {
    const { collector, temp } = await setup();
    const now = Date.now();
    const [batch] = enqueueCycle(temp.store, { miners: reports(1), now });
    // Left by a run on a clock a month ahead: the flush sends it at once (no wait is ever that long).
    deferBatch(temp.store.db, batch!.batchId, now + 30 * 86_400_000);
    const json = JSON.parse((await run(['upload', '--status', '--db', temp.path, '--json'])).out);
    expect(Date.parse(json.next_attempt_at)).toBeLessThanOrEqual(Date.now());
    const sent = await run(['upload', '--endpoint', collector.url, '--db', temp.path, '--json']);
    expect(JSON.parse(sent.out)).toMatchObject({ delivered: 1, pending: 0 });
  });

  it('redacts the key also when the collector echoes it percent-encoded or JSON-escaped', async () => {
    const key = 'k3y/with"quote\\and%&+=?#~';
    const { collector, temp } = await setup((_request, index) =>
      index === 0
        ? { status: 400, body: JSON.stringify({ error: 'bad key', key, auth: `Basic ${btoa(`c:${key}`)}` }) }
        : { status: 307, headers: { location: `https://127.0.0.1/login?key=${encodeURIComponent(key)}` } },
    );
    enqueueCycle(temp.store, { miners: reports(2), now: Date.now(), limits: { maxMiners: 1 } });
    const env = { HASHCTL_COLLECTOR_KEY: key };
    const result = await run(['upload', '--endpoint', collector.url, '--db', temp.path, '--json'], env);
    expect(result.code).toBe(1);
    expect(collector.received.map((request) => request.headers['x-collector-key'])).toEqual([key, key]);
    const status = await run(['upload', '--status', '--db', temp.path, '--json'], env);
    const textStatus = await run(['upload', '--status', '--db', temp.path], env);
    expect(textStatus.out).toContain('HTTP 400: {"error":"bad key","key":"[redacted]"');
    expect(result.err).toContain('redirects to https://127.0.0.1/login?key=***)');
    temp.store.db.pragma('wal_checkpoint(TRUNCATE)');
    const stored = databaseBytes(temp).toString('latin1');
    const forms = [key, encodeURIComponent(key), JSON.stringify(key).slice(1, -1), btoa(key)];
    for (const output of [result.out, result.err, status.out, textStatus.out, stored]) {
      for (const form of forms) expect(output).not.toContain(form);
    }
  });

  it("never shows or stores a token from the endpoint's query that the collector echoes back", async () => {
    const token = 'qt0k3n-s3cr3t-v4lue';
    const { collector, temp } = await setup((request, index) =>
      index === 0
        ? { status: 400, body: `no such tenant for ${request.url} (token ${token})` }
        : { status: 302, headers: { location: `https://collector.example${request.url}` } },
    );
    enqueueCycle(temp.store, { miners: reports(2), now: Date.now(), limits: { maxMiners: 1 } });
    const endpoint = `${collector.url}/?token=${token}&site=a`;
    const result = await run(['upload', '--endpoint', endpoint, '--db', temp.path, '--json']);
    expect(result.code).toBe(1);
    expect(collector.received.map((request) => request.url)).toEqual([
      `/api/collector/upload?token=${token}&site=a`,
      `/api/collector/upload?token=${token}&site=a`,
    ]);
    expect(result.err).toContain(
      'redirects to https://collector.example/api/collector/upload?token=***&site=***)',
    );
    const status = await run(['upload', '--status', '--db', temp.path, '--json']);
    const textStatus = await run(['upload', '--status', '--db', temp.path]);
    expect(textStatus.out).toContain(
      'HTTP 400: no such tenant for /api/collector/upload?token=[redacted]&site=a',
    );
    temp.store.db.pragma('wal_checkpoint(TRUNCATE)');
    const stored = databaseBytes(temp).toString('latin1');
    for (const output of [result.out, result.err, status.out, textStatus.out, stored])
      expect(output).not.toContain(token);
  });

  it('exits 1 and says why when batches stay pending', async () => {
    const { collector, temp } = await setup(() => ({ status: 503, headers: { 'retry-after': '3600' } }));
    enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
    const result = await run(['upload', '--endpoint', collector.url, '--db', temp.path]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/hashctl: 1 batch\(es\) still pending: the collector asked to wait 3600 s/);
  });

  it('reads the key from a private key file and refuses one readable by others', async () => {
    const { collector, temp } = await setup();
    enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
    const keyFile = join(temp.dir, 'collector.key');
    writeFileSync(keyFile, `${KEY}\n`, { mode: 0o644 });
    chmodSync(keyFile, 0o644);
    const refused = await run(
      ['upload', '--endpoint', collector.url, '--db', temp.path, '--key-file', keyFile],
      {},
    );
    expect(refused.code).toBe(2);
    expect(refused.err.trim()).toBe(
      `hashctl: key file ${keyFile} is readable by group or others (mode 0644); run: chmod 600 ${keyFile}`,
    );
    expect(collector.received).toHaveLength(0);
    chmodSync(keyFile, 0o640);
    expect(
      (await run(['upload', '--endpoint', collector.url, '--db', temp.path, '--key-file', keyFile], {})).code,
    ).toBe(2);
    chmodSync(keyFile, 0o600);
    const accepted = await run(
      ['upload', '--endpoint', collector.url, '--db', temp.path, '--key-file', keyFile],
      {},
    );
    expect(accepted.code).toBe(0);
    expect(collector.received[0]!.headers['x-collector-key']).toBe(KEY);
    expect(accepted.err + accepted.out).not.toContain(KEY);
  });

  it('refuses to run without a key, and rejects bad endpoints before sending', async () => {
    const { collector, temp } = await setup();
    const noKey = await run(['upload', '--endpoint', collector.url, '--db', temp.path], {});
    expect(noKey.code).toBe(2);
    expect(noKey.err).toContain('no collector key: set HASHCTL_COLLECTOR_KEY or pass --key-file');
    for (const endpoint of ['ftp://127.0.0.1/', 'not a url', `http://user:${KEY}@127.0.0.1:1/`]) {
      const bad = await run(['upload', '--endpoint', endpoint, '--db', temp.path]);
      expect(bad.code).toBe(2);
      expect(bad.err).not.toContain(KEY);
    }
    // A URL refused for its scheme or port is still never quoted with its password (nor by collect).
    for (const endpoint of [
      'ftp://user:hunter2pw@127.0.0.1/',
      'http://user:hunter2pw@127.0.0.1:99999/',
      'http://:hunter2pw@[::1/',
    ]) {
      const bad = await run(['upload', '--endpoint', endpoint, '--db', temp.path]);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/^hashctl: invalid --endpoint '[^']*\*\*\*@/);
      const collect = await run([
        'collect',
        '--targets',
        '127.0.0.1:9',
        '--once',
        '--db',
        temp.path,
        '--upload',
        endpoint,
      ]);
      expect(collect.code).toBe(2);
      for (const output of [bad.err, bad.out, collect.err, collect.out])
        expect(output).not.toContain('hunter2pw');
    }
    expect((await run(['upload', '--db', temp.path])).code).toBe(2);
    expect((await run(['upload', '--status', '--requeue', '--db', temp.path])).code).toBe(2);
    expect(collector.received).toHaveLength(0);
  });

  it('one sender per outbox: while another run holds the upload lock, upload exits 75 and sends nothing', async () => {
    const { collector, temp } = await setup();
    enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
    const other = acquireLock(temp.path, 'upload');
    try {
      const locked = await run(['upload', '--endpoint', collector.url, '--db', temp.path]);
      expect(locked.code).toBe(75);
      expect(locked.err).toMatch(/^hashctl: another hashctl run holds .*\.upload\.lock/);
      expect(collector.received).toHaveLength(0);
      // --status only reads: it never waits on a sender.
      expect((await run(['upload', '--status', '--db', temp.path])).code).toBe(0);
    } finally {
      other.release();
    }
    const free = await run(['upload', '--endpoint', collector.url, '--db', temp.path]);
    expect(free.code).toBe(0);
    expect(collector.received).toHaveLength(1);
    // The run released it: the next sender gets it.
    acquireLock(temp.path, 'upload').release();
  });

  it('says why there is nothing to send when collect never queued a batch (it ran without --upload)', async () => {
    const { collector, temp } = await setup();
    const empty = await run(['upload', '--endpoint', collector.url, '--db', temp.path]);
    expect(empty.code).toBe(0);
    expect(empty.err).toMatch(/outbox is empty: collect queues batches only with --upload/);
    // An outbox that delivered before is just up to date: no hint.
    enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
    await run(['upload', '--endpoint', collector.url, '--db', temp.path]);
    const upToDate = await run(['upload', '--endpoint', collector.url, '--db', temp.path]);
    expect(upToDate.err).not.toMatch(/outbox is empty/);
  });

  it('a --db that does not exist is an error (exit 1), not a new empty database', async () => {
    const { collector, temp } = await setup();
    const missing = join(temp.dir, 'no-such-dir', 'hashctl.db');
    for (const flags of [['--endpoint', collector.url], ['--requeue']]) {
      const result = await run(['upload', ...flags, '--db', missing]);
      expect(result.code).toBe(1);
      expect(result.err).toContain(`hashctl: no database at ${missing}`);
    }
    expect(existsSync(join(temp.dir, 'no-such-dir'))).toBe(false);
    expect(collector.received).toHaveLength(0);
  });

  it('exits 1 when this run quarantined a batch, and says so; old quarantined batches do not count', async () => {
    const { collector, temp } = await setup((request) =>
      request.body?.miners.length === 1 ? { status: 400, body: 'bad miner' } : { status: 200 },
    );
    enqueueCycle(temp.store, { miners: reports(3), now: Date.now(), limits: { maxMiners: 2 } });
    const mixed = await run(['upload', '--endpoint', collector.url, '--db', temp.path]);
    expect(mixed.code).toBe(1);
    const [summary, error] = mixed.err.trimEnd().split('\n');
    expect(summary).toMatch(
      /^delivered 1 batch \(2 miners\), 1 refused by the collector and quarantined .*0 pending/,
    );
    expect(error).toBe(
      'hashctl: the collector refused 1 batch(es) of this run: quarantined, see hashctl upload --status (--requeue sends them again)',
    );
    const json = await run(['upload', '--endpoint', collector.url, '--db', temp.path, '--json']);
    expect(json.code).toBe(0); // the batch quarantined by the earlier run is not this run's failure
    expect(JSON.parse(json.out)).toMatchObject({ quarantined: 0, pending: 0 });

    collector.handler = () => ({ status: 422, body: 'schema mismatch' });
    enqueueCycle(temp.store, { miners: reports(2), now: Date.now(), limits: { maxMiners: 1 } });
    const allRefused = await run(['upload', '--endpoint', collector.url, '--db', temp.path, '--json']);
    expect(allRefused.code).toBe(1);
    expect(JSON.parse(allRefused.out)).toMatchObject({ delivered: 0, quarantined: 2, pending: 0 });
  });

  it("--requeue --site releases that site's quarantined batches only; an unknown site releases none", async () => {
    const { collector, temp } = await setup(() => ({ status: 422, body: 'schema mismatch' }));
    enqueueCycle(temp.store, { miners: reports(1), now: Date.now(), siteId: 'farm-a' });
    enqueueCycle(temp.store, { miners: reports(1), now: Date.now(), siteId: 'farm-b' });
    for (const site of ['farm-a', 'farm-b'])
      expect(
        (await run(['upload', '--endpoint', collector.url, '--db', temp.path, '--site', site])).code,
      ).toBe(1);
    const typo = await run(['upload', '--requeue', '--db', temp.path, '--site', 'farm-c']);
    expect(typo.code).toBe(2);
    const status = async () =>
      JSON.parse((await run(['upload', '--status', '--db', temp.path, '--json'])).out) as {
        pending: { batches: number };
        quarantined: { batches: number };
      };
    expect((await status()).quarantined.batches).toBe(2);
    const onlyA = await run(['upload', '--requeue', '--db', temp.path, '--site', 'farm-a', '--json']);
    expect(onlyA.code).toBe(0);
    expect(JSON.parse(onlyA.out)).toEqual({ requeued: 1 });
    expect(await status()).toMatchObject({ pending: { batches: 1 }, quarantined: { batches: 1 } });
  });

  it('--requeue with --endpoint and no --site refuses several sites before releasing any batch', async () => {
    const { collector, temp } = await setup(() => ({ status: 422, body: 'schema mismatch' }));
    enqueueCycle(temp.store, { miners: reports(1), now: Date.now(), siteId: 'farm-b' });
    expect(
      (await run(['upload', '--endpoint', collector.url, '--db', temp.path, '--site', 'farm-b'])).code,
    ).toBe(1);
    enqueueCycle(temp.store, { miners: reports(1), now: Date.now(), siteId: 'farm-a' });
    const sent = collector.received.length;
    // farm-a pending, farm-b quarantined: released, farm-b's would go under farm-a's key, so the run
    // is refused, and refused before it changes anything (a usage error leaves the outbox as it was).
    const both = await run(['upload', '--requeue', '--endpoint', collector.url, '--db', temp.path]);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/holds batches of 2 sites \(farm-a, farm-b\): give --site/);
    expect(both.err).not.toContain('requeued');
    expect(collector.received).toHaveLength(sent);
    const status = JSON.parse((await run(['upload', '--status', '--db', temp.path, '--json'])).out);
    expect(status).toMatchObject({ pending: { batches: 1 }, quarantined: { batches: 1 } });
  });

  it("--status --site shows that site's batches only; an unknown site is refused", async () => {
    const { collector, temp } = await setup(() => ({ status: 422, body: 'schema mismatch' }));
    enqueueCycle(temp.store, { miners: reports(1), now: Date.now(), siteId: 'farm-a' });
    enqueueCycle(temp.store, { miners: reports(2), now: Date.now(), siteId: 'farm-b' });
    expect(
      (await run(['upload', '--endpoint', collector.url, '--db', temp.path, '--site', 'farm-a'])).code,
    ).toBe(1);
    const status = async (...site: string[]) => {
      const result = await run(['upload', '--status', '--db', temp.path, '--json', ...site]);
      return {
        code: result.code,
        err: result.err,
        report: result.code === 0 ? JSON.parse(result.out) : null,
      };
    };
    const a = await status('--site', 'farm-a');
    expect(a.report).toMatchObject({ pending: { batches: 0 }, quarantined: { batches: 1, miners: 1 } });
    expect(a.report.quarantined_batches).toHaveLength(1);
    const b = await status('--site', 'farm-b');
    expect(b.report).toMatchObject({ pending: { batches: 1, miners: 2 }, quarantined: { batches: 0 } });
    expect(b.report.last_error).toBeNull();
    expect(b.report.quarantined_batches).toEqual([]);
    expect((await status()).report).toMatchObject({ pending: { batches: 1 }, quarantined: { batches: 1 } });
    const typo = await status('--site', 'farm-c');
    expect(typo.code).toBe(2);
    expect(typo.err).toContain("no site 'farm-c'");
  });

  it('--status says how many quarantined batches its list leaves out', async () => {
    const { collector, temp } = await setup(() => ({ status: 422, body: 'schema mismatch' }));
    enqueueCycle(temp.store, { miners: reports(53), now: Date.now(), limits: { maxMiners: 1 } });
    expect((await run(['upload', '--endpoint', collector.url, '--db', temp.path])).code).toBe(1);
    const text = await run(['upload', '--status', '--db', temp.path]);
    expect(text.out).toMatch(/^quarantined\t53\t53\t/m);
    expect(text.out.match(/^[\w-]+\t\S+\t1\tHTTP 422: schema mismatch$/gm)).toHaveLength(50);
    expect(text.out).toContain('… and 3 more quarantined batches (the oldest 50 are listed)');
    const json = JSON.parse((await run(['upload', '--status', '--db', temp.path, '--json'])).out);
    expect(json.quarantined_batches).toHaveLength(50);
    expect(json.quarantined_batches_omitted).toBe(3);
  });

  it('--requeue releases quarantined batches and the next flush delivers them', async () => {
    let refuse = true;
    const { collector, temp } = await setup(() =>
      refuse ? { status: 422, body: 'schema mismatch' } : { status: 200 },
    );
    enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
    const first = await run(['upload', '--endpoint', collector.url, '--db', temp.path]);
    expect(first.code).toBe(1); // nothing pending, but the data was refused: cron must see it
    expect(first.err).toContain('1 refused by the collector and quarantined');
    const status = await run(['upload', '--status', '--db', temp.path]);
    expect(status.out).toMatch(/^quarantined\t1\t1\t/m);
    expect(status.out).toContain('HTTP 422: schema mismatch');
    refuse = false;
    const requeued = await run([
      'upload',
      '--requeue',
      '--endpoint',
      collector.url,
      '--db',
      temp.path,
      '--json',
    ]);
    expect(requeued.code).toBe(0);
    expect(JSON.parse(requeued.out)).toMatchObject({ requeued: 1, delivered: 1, pending: 0 });
  });

  it("names the config file and its key when the config's endpoint or key file is wrong, never --endpoint", async () => {
    const { temp } = await setup();
    const config = join(temp.dir, 'farm.json');
    const upload = async (
      section: Record<string, string>,
      env: Record<string, string> = { HASHCTL_COLLECTOR_KEY: KEY },
    ) => {
      writeFileSync(config, JSON.stringify({ db: 'hashctl.db', upload: section }));
      return run(['upload', '--config', config], env);
    };
    const where = `upload.endpoint in config ${config}`;
    const secret = await upload({ endpoint: 'https://farm:pa55w0rd@127.0.0.1:9/' });
    expect(secret.code).toBe(2);
    expect(secret.err.trim()).toBe(
      `hashctl: invalid ${where}: credentials in the URL are refused; the key comes from HASHCTL_COLLECTOR_KEY or a key file`,
    );
    const fragment = await upload({ endpoint: 'https://127.0.0.1:9/#x' });
    expect(fragment.err.trim()).toBe(
      `hashctl: invalid ${where} 'https://127.0.0.1:9/#x': a #fragment has no meaning here`,
    );
    const plain = await upload({ endpoint: 'http://collector.farm.lan/' });
    expect(plain.code).toBe(2);
    expect(plain.err).toContain(`over plain http to collector.farm.lan (${where}): use https://`);
    const keyFile = await upload({ endpoint: 'https://127.0.0.1:9/', key_file: 'missing.key' }, {});
    expect(keyFile.code).toBe(2);
    expect(keyFile.err).toContain(
      `cannot read key file ${join(temp.dir, 'missing.key')} (upload.key_file in config ${config}):`,
    );
    expect(`${secret.err}${fragment.err}${plain.err}${keyFile.err}`).not.toMatch(/--endpoint|pa55w0rd/);
  });

  it('takes the endpoint, key file and database from the config file', async () => {
    const { collector, temp } = await setup();
    enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
    writeFileSync(join(temp.dir, 'collector.key'), KEY, { mode: 0o600 });
    const config = join(temp.dir, 'hashctl.json');
    writeFileSync(
      config,
      JSON.stringify({ db: 'hashctl.db', upload: { endpoint: collector.url, key_file: 'collector.key' } }),
    );
    const result = await run(['upload', '--config', config], {});
    expect(result.code).toBe(0);
    expect(collector.received[0]!.headers['x-collector-key']).toBe(KEY);
    // The environment's key wins over the config's key file; --key-file wins over both.
    enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
    expect((await run(['upload'], { HASHCTL_CONFIG: config, HASHCTL_COLLECTOR_KEY: 'env-key' })).code).toBe(
      0,
    );
    expect(collector.received[1]!.headers['x-collector-key']).toBe('env-key');
  });
});

describe('hashctl upload --status while a flush runs', () => {
  afterEach(() => vi.restoreAllMocks());

  it('reads counts, last error and the quarantined list in one snapshot: they never disagree', async () => {
    const { temp } = await setup();
    const batches = enqueueCycle(temp.store, {
      miners: reports(3),
      now: Date.now(),
      limits: { maxMiners: 1 },
    });
    // --status takes no lock: another run's flush quarantines a batch after the counts were read,
    // just before the list is (the writer is this test's own connection, the reader --status's).
    const prepare = Database.prototype.prepare;
    let done = false;
    vi.spyOn(Database.prototype, 'prepare').mockImplementation(function (
      this: Database.Database,
      sql: string,
    ) {
      if (!done && this.readonly && /state = 'quarantined'.*ORDER BY created_at/s.test(sql)) {
        done = true;
        markQuarantined(temp.store.db, batches[0]!.batchId, { status: 422, error: 'HTTP 422: bad batch' });
      }
      return prepare.call(this, sql);
    } as typeof prepare);
    const result = await run(['upload', '--status', '--db', temp.path, '--json']);
    expect(done).toBe(true);
    const status = JSON.parse(result.out) as {
      pending: { batches: number };
      quarantined: { batches: number };
      quarantined_batches: unknown[];
      quarantined_batches_omitted: number;
    };
    // The outbox as it was when --status began: three pending, none quarantined, listed or not.
    expect(status).toMatchObject({
      pending: { batches: 3 },
      quarantined: { batches: 0 },
      quarantined_batches: [],
      quarantined_batches_omitted: 0,
    });
    // The next --status sees the quarantined batch, in its count and its list alike.
    const after = JSON.parse((await run(['upload', '--status', '--db', temp.path, '--json'])).out);
    expect(after).toMatchObject({
      pending: { batches: 2 },
      quarantined: { batches: 1 },
      quarantined_batches_omitted: 0,
    });
    expect(after.quarantined_batches).toHaveLength(1);
  });
});
