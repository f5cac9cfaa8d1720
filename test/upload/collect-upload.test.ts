// `collect --upload` in-process against a simulated farm and a real collector on 127.0.0.1: the
// upload side of a cycle (the flush after it, the upload lock, the key's messages).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { acquireLock, openStore } from '../../src/store/index.js';
import { KEY } from './support/fixtures.js';
import { collectorPerTest } from './support/setup.js';

const setup = collectorPerTest();
let farm: Farm;
beforeAll(async () => {
  farm = await startFarm({ profile: 'mix', count: 3, seed: 5, host: '127.0.0.1', basePort: 0 });
});
afterAll(async () => {
  await farm?.stop();
});

/** `collect --interval 1s --upload URL` on the farm, running until the test aborts `stop`. */
function collectLoop(dir: string, url: string) {
  const dbPath = join(dir, 'farm.db');
  const stop = new AbortController();
  const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, signal: stop.signal });
  const running = runCli(
    ['collect', '--targets', ...farm.inventory(), '--db', dbPath, '--interval', '1s', '--upload', url],
    ctx,
  );
  return { dbPath, stop, ctx, running };
}

async function collect(
  dbPath: string,
  endpoint: string,
  env: Record<string, string> = { HASHCTL_COLLECTOR_KEY: KEY },
  more: string[] = [],
) {
  const ctx = memoryContext({ env });
  const code = await runCli(
    ['collect', '--targets', ...farm.inventory(), '--db', dbPath, '--once', '--upload', endpoint, ...more],
    ctx,
  );
  return { code, out: ctx.out(), err: ctx.err() };
}

function pendingBatches(dbPath: string): number {
  const store = openStore(dbPath, { readonly: true });
  try {
    return store.db
      .prepare("SELECT count(*) FROM upload_outbox WHERE state = 'pending'")
      .pluck()
      .get() as number;
  } finally {
    store.close();
  }
}

describe('collect --upload', () => {
  it("flushes its own site's batches only, with its own key: another site's wait for theirs", async () => {
    const { collector, temp } = await setup((request) =>
      request.headers['x-collector-key'] === `key-${request.body?.site_id}`
        ? { status: 200, body: '{"ok":true}' }
        : { status: 403, body: '{"error":"not your site"}' },
    );
    const dbPath = join(temp.dir, 'farm.db');
    // Site B's cycle while its collector was down: its batch stays pending.
    const down = await collect(dbPath, 'http://127.0.0.1:9', { HASHCTL_COLLECTOR_KEY: 'key-b' }, [
      '--site',
      'b',
    ]);
    expect(down.code).toBe(0);
    for (const run of [1, 2]) {
      const a = await collect(dbPath, collector.url, { HASHCTL_COLLECTOR_KEY: 'key-a' }, ['--site', 'a']);
      expect(a.code, `run ${run}: ${a.err}`).toBe(0);
    }
    expect(collector.received.map((r) => r.body?.site_id)).toEqual(['a', 'a']);
    expect(pendingBatches(dbPath)).toBe(1);
  });

  it('skips its flush, with a note and exit 0, while another run holds the upload lock', async () => {
    const { collector, temp } = await setup();
    const dbPath = join(temp.dir, 'farm.db');
    const other = acquireLock(dbPath, 'upload');
    try {
      const result = await collect(dbPath, collector.url);
      expect(result.code).toBe(0);
      expect(result.err).toMatch(
        /^hashctl: upload: another hashctl run is uploading this outbox: flush skipped, 1 batch\(es\) wait for the next one$/m,
      );
      expect(collector.received).toHaveLength(0);
      expect(pendingBatches(dbPath)).toBe(1);
    } finally {
      other.release();
    }
    // The lock was released after the flush: the next cycle's flush sends both cycles' batches.
    const next = await collect(dbPath, collector.url);
    expect(next.code).toBe(0);
    expect(collector.accepted.size).toBe(2);
    expect(pendingBatches(dbPath)).toBe(0);
    acquireLock(dbPath, 'upload').release();
  });

  it('uploads when the config file names upload.endpoint, as --upload does', async () => {
    const { collector, temp } = await setup();
    const dbPath = join(temp.dir, 'farm.db');
    const config = join(temp.dir, 'farm.json');
    writeFileSync(
      config,
      JSON.stringify({ targets: farm.inventory(), db: dbPath, upload: { endpoint: collector.url } }),
    );
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY } });
    expect(await runCli(['collect', '--config', config, '--once'], ctx)).toBe(0);
    expect(collector.accepted.size).toBe(1);
    expect(pendingBatches(dbPath)).toBe(0);
  });

  it('says so when the collector refuses (quarantines) a batch, and exits 1; the cycle is stored', async () => {
    const { collector, temp } = await setup(() => ({ status: 422, body: '{"error":"schema"}' }));
    const dbPath = join(temp.dir, 'farm.db');
    const result = await collect(dbPath, collector.url);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^hashctl: run 1 \(site default\): 3 polled, 3 ok/m);
    expect(result.err).toMatch(
      /^hashctl: upload: 1 batch refused by the collector and quarantined \(see hashctl upload --status\)$/m,
    );
  });

  it('--interval is judged by its last flush: a key refused once, then taken, ends in exit 0', async () => {
    // 401 for the first request only (the key was fixed on the collector's side meanwhile).
    const { collector, temp } = await setup((_request, index) =>
      index === 0 ? { status: 401, body: 'bad key' } : { status: 200, body: '{"ok":true}' },
    );
    const { dbPath, stop, ctx, running } = collectLoop(temp.dir, collector.url);
    await collector.waitFor(2);
    for (let i = 0; i < 100 && pendingBatches(dbPath) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    expect(await running).toBe(0);
    expect(ctx.err()).toMatch(/^hashctl: upload: .*refused/m);
    expect(pendingBatches(dbPath)).toBe(0);
  });

  it('--interval says where its refused key came from, and that a changed key needs a restart', async () => {
    // Keys get rotated: a loop reads its key once, at start. Its note said only "the collector
    // refused the key", hourly, while the operator's new key sat unread in the file or environment.
    const { collector, temp } = await setup(() => ({ status: 401, body: 'bad key' }));
    const { stop, ctx, running } = collectLoop(temp.dir, collector.url);
    await collector.waitFor(1);
    for (let i = 0; i < 100 && !/refused the key/.test(ctx.err()); i++)
      await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    await running;
    expect(ctx.err()).toMatch(
      /^hashctl: upload: the collector refused the key from HASHCTL_COLLECTOR_KEY \(HTTP 401\).*collect reads the key once, at start: restart it once the key is changed/m,
    );
  });

  it('--interval says a collector outage once (and once an hour while it lasts), not after every cycle', async () => {
    // 401 to four flushes in a row, then taken: one line for the refusal, one when it delivers again.
    const { collector, temp } = await setup((_request, index) =>
      index < 4 ? { status: 401, body: 'bad key' } : { status: 200, body: '{"ok":true}' },
    );
    const { dbPath, stop, ctx, running } = collectLoop(temp.dir, collector.url);
    await collector.waitFor(5);
    for (let i = 0; i < 100 && pendingBatches(dbPath) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    expect(await running).toBe(0);
    const said = ctx
      .err()
      .split('\n')
      .filter((line) => line.startsWith('hashctl: upload:'));
    expect(said).toHaveLength(2);
    expect(said[0]).toMatch(/refused the key.*said again once an hour while it lasts/);
    expect(said[1]).toMatch(/^hashctl: upload: delivering again after 4 flushes that left batches pending/);
  });

  it('--interval times the outage note on the monotonic clock: wall-clock steps do not repeat it', async () => {
    // The wall clock is stepped two hours forward at each refused request (NTP, an operator): the
    // hourly repeat of the outage note was timed on it, and the note came back after every cycle.
    let stepped = 0;
    const { collector, temp } = await setup((_request, index) => {
      if (index < 4) {
        stepped += 2 * 3_600_000;
        return { status: 401, body: 'bad key' };
      }
      return { status: 200, body: '{"ok":true}' };
    });
    const dbPath = join(temp.dir, 'farm.db');
    const stop = new AbortController();
    const ctx = memoryContext({
      env: { HASHCTL_COLLECTOR_KEY: KEY },
      signal: stop.signal,
      now: () => Date.now() + stepped,
      monotonic: () => performance.now(),
    });
    const running = runCli(
      [
        'collect',
        '--targets',
        ...farm.inventory(),
        '--db',
        dbPath,
        '--interval',
        '1s',
        '--upload',
        collector.url,
      ],
      ctx,
    );
    await collector.waitFor(5);
    for (let i = 0; i < 100 && pendingBatches(dbPath) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    expect(await running).toBe(0);
    const said = ctx
      .err()
      .split('\n')
      .filter((line) => line.startsWith('hashctl: upload:'));
    expect(said[0]).toMatch(/refused the key.*said again once an hour while it lasts/);
    expect(said.slice(1).filter((line) => /refused the key/.test(line))).toEqual([]);
  });

  it("--interval sends nothing more while the collector's Retry-After runs, not a new batch each cycle", async () => {
    // Rate-limited: wait two minutes. The next cycles' batches wait with the first, unsent.
    const { collector, temp } = await setup(() => ({
      status: 429,
      headers: { 'retry-after': '120', 'content-type': 'text/plain' },
      body: 'slow down',
    }));
    const { dbPath, stop, ctx, running } = collectLoop(temp.dir, collector.url);
    await collector.waitFor(1);
    for (let i = 0; i < 200 && !/^hashctl: run 4 /m.test(ctx.err()); i++)
      await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    await running;
    expect(ctx.err()).toMatch(/^hashctl: run 4 /m);
    expect(collector.received).toHaveLength(1);
    expect(pendingBatches(dbPath)).toBeGreaterThanOrEqual(4);
  });

  it('names the flag or the config key a bad endpoint came from', async () => {
    const { temp } = await setup();
    const dbPath = join(temp.dir, 'farm.db');
    const flag = await collect(dbPath, 'ftp://127.0.0.1/');
    expect(flag.code).toBe(2);
    expect(flag.err.trim()).toBe(
      "hashctl: invalid --upload 'ftp://127.0.0.1/': only http:// and https:// are supported",
    );
    const config = join(temp.dir, 'farm.json');
    writeFileSync(
      config,
      JSON.stringify({ targets: farm.inventory(), upload: { endpoint: 'ftp://127.0.0.1/' } }),
    );
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY } });
    expect(await runCli(['collect', '--config', config, '--db', dbPath, '--once'], ctx)).toBe(2);
    expect(ctx.err().trim()).toBe(`hashctl: config ${config}:1: upload.endpoint: must be an http(s) URL`);
    // The config's URL and CA file are named with the config file, not as flags never given.
    for (const [section, said] of [
      [
        { endpoint: 'https://127.0.0.1:9/#x' },
        `invalid upload.endpoint in config ${config} 'https://127.0.0.1:9/#x'`,
      ],
      [
        { endpoint: 'https://127.0.0.1:9/', ca_file: 'no.pem' },
        `cannot read the collector's CA file ${join(temp.dir, 'no.pem')} (upload.ca_file in config ${config})`,
      ],
    ] as const) {
      writeFileSync(config, JSON.stringify({ targets: farm.inventory(), upload: section }));
      const named = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY } });
      expect(await runCli(['collect', '--config', config, '--db', dbPath, '--once'], named)).toBe(2);
      expect(named.err()).toContain(said);
    }
  });

  it('without a key, names the ways collect takes one (it has no --key-file)', async () => {
    const { collector, temp } = await setup();
    const dbPath = join(temp.dir, 'farm.db');
    const result = await collect(dbPath, collector.url, {});
    expect(result.code).toBe(2);
    expect(result.err.trim()).toBe(
      'hashctl: no collector key: set HASHCTL_COLLECTOR_KEY or name a key file (mode 0600) as upload.key_file in the config file',
    );
    expect(collector.received).toHaveLength(0);
  });

  it("--once gives its flush what is left of cron's minute after a long cycle, not a fixed 40 s", async () => {
    // The cycle took 50 s on the run's clock (each miner's poll moves it on), and the collector
    // never answers. A fixed 40 s flush held the lock until 90 s, past cron's next start (exit 75,
    // that minute's cycle lost); the flush gets the 5 s minimum, and a request 4 s of it.
    let cycleTook = 0;
    const slow = await startFarm({
      profile: 'mix',
      count: 1,
      seed: 7,
      host: '127.0.0.1',
      basePort: 0,
      onCommand: () => {
        cycleTook = 50_000;
      },
    });
    try {
      const { collector, temp } = await setup(() => 'hang');
      const dbPath = join(temp.dir, 'farm.db');
      const ctx = memoryContext({
        env: { HASHCTL_COLLECTOR_KEY: KEY },
        monotonic: () => Math.round(performance.now()) + cycleTook,
      });
      const code = await runCli(
        ['collect', '--targets', ...slow.inventory(), '--db', dbPath, '--once', '--upload', collector.url],
        ctx,
      );
      expect(code, ctx.err()).toBe(0);
      expect(collector.received).toHaveLength(1);
      const store = openStore(dbPath, { readonly: true });
      try {
        const lastError = store.db
          .prepare("SELECT last_error FROM upload_outbox WHERE state = 'pending'")
          .pluck()
          .get() as string;
        expect(lastError).toBe('no answer within 4000 ms');
      } finally {
        store.close();
      }
    } finally {
      await slow.stop();
    }
  }, 30_000);
});
