// `hashctl scan` end to end in-process: a farm with one simulated miner per profile, a slow miner,
// and things that are not miners (HTTP, empty close, garbage, echo, silence), all on 127.0.0.1.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext, type OutStream } from '../../src/context.js';
import { buildScanTargets, type ScanResult, type ScanSummary, scan } from '../../src/scan/index.js';
import { type Farm, PROFILES, startFarm } from '../../src/sim/index.js';
import { parseTargetSpecs } from '../../src/targets/index.js';
import { lookupOf } from '../support/lookup.js';
import { closedPort, type Service, startHttpService, startService } from './support/services.js';

interface Miner {
  port: number;
  make: string;
  profile: string;
}

const farms: Farm[] = [];
const miners: Miner[] = [];
let slowPort = 0;
let http: Service;
let empty: Service;
let garbage: Service;
let echo: Service;
let silent: Service;
let ssh: Service;
let refusedPort = 0;
let dir = '';

beforeAll(async () => {
  for (const profile of PROFILES) {
    const farm = await startFarm({ profile: profile.name, basePort: 0, count: 1 });
    farms.push(farm);
    const miner = farm.miners[0];
    if (!miner) throw new Error('farm without a miner');
    miners.push({ port: miner.port, make: profile.make, profile: profile.name });
  }
  // Slow but alive: must still be found (latency well inside the reply deadline used below).
  const slow = await startFarm({
    profile: 'antminer-s19',
    basePort: 0,
    count: 1,
    faults: 'latency=500ms,jitter=300ms',
  });
  farms.push(slow);
  slowPort = slow.miners[0]?.port ?? 0;
  [http, empty, garbage, echo, silent, ssh] = await Promise.all([
    startHttpService(),
    startService('empty'),
    startService('garbage'),
    startService('echo'),
    startService('silent'),
    startService('ssh'),
  ]);
  refusedPort = await closedPort();
  dir = await mkdtemp(join(tmpdir(), 'hashctl-scan-'));
});

afterAll(async () => {
  await Promise.all(farms.map((farm) => farm.stop()));
  await Promise.all(
    [http, empty, garbage, echo, silent, ssh].filter(Boolean).map((service) => service.close()),
  );
  if (dir) await rm(dir, { recursive: true, force: true });
});

function nonMinerPorts(): number[] {
  return [http.port, empty.port, garbage.port, echo.port, silent.port, ssh.port];
}

async function cli(args: string[], stdout?: OutStream) {
  const ctx = memoryContext(stdout ? { stdout } : {});
  const code = await runCli(args, ctx);
  return { code, out: stdout ? '' : ctx.out(), err: ctx.err() };
}

function byPort(results: ScanResult[]): Map<number, ScanResult> {
  return new Map(results.map((result) => [result.port, result]));
}

describe('hashctl scan', () => {
  it('a repeated --port scans every port given, before or after the subcommand; probe refuses a second port', async () => {
    const [a, b] = miners;
    if (a === undefined || b === undefined) throw new Error('two miners expected');
    const repeated = await cli([
      '--json',
      '--port',
      String(a.port),
      'scan',
      '127.0.0.1',
      '--port',
      String(b.port),
    ]);
    expect(repeated.code).toBe(0);
    const { results } = JSON.parse(repeated.out) as { results: ScanResult[] };
    expect(results.map((r) => [r.port, r.outcome]).sort()).toEqual(
      [
        [a.port, 'miner'],
        [b.port, 'miner'],
      ].sort(),
    );
    const probe = await cli(['probe', '127.0.0.1', '--port', String(a.port), '--port', String(b.port)]);
    expect(probe.code).toBe(2);
    expect(probe.err).toMatch(/--port takes one port here/);
  });

  it('identifies every miner, calls every non-miner open with its reason, and lists nothing else', async () => {
    const ports = [...miners.map((m) => m.port), slowPort, ...nonMinerPorts(), refusedPort];
    const acceptedBefore = empty.accepted;
    const { code, out, err } = await cli([
      '--json',
      'scan',
      '127.0.0.1',
      '--port',
      ports.join(','),
      '--reply-timeout',
      '2s',
    ]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const { results, summary } = JSON.parse(out) as { results: ScanResult[]; summary: ScanSummary };
    const found = byPort(results);

    for (const miner of miners) {
      const result = found.get(miner.port);
      expect(result, miner.profile).toMatchObject({ host: '127.0.0.1', outcome: 'miner', make: miner.make });
      expect(result?.firmware?.name, miner.profile).not.toBeNull();
      // Plain cgminer says nothing about the hardware; every other profile names its model.
      if (miner.profile !== 'cgminer') expect(result?.model, miner.profile).toEqual(expect.any(String));
      expect(result?.reason, miner.profile).toBeUndefined();
    }
    expect(found.get(slowPort)).toMatchObject({ outcome: 'miner', make: 'Antminer', model: 'S19 Pro' });
    // Stock Antminer names itself in `version`: connect and identify in one round trip.
    const s19 = miners.find((m) => m.profile === 'antminer-s19');
    expect(found.get(s19?.port ?? 0)?.round_trips).toBe(1);

    expect(found.get(http.port)).toMatchObject({ outcome: 'open', kind: 'protocol', make: null });
    expect(found.get(http.port)?.reason).toMatch(/HTTP/);
    expect(found.get(empty.port)).toMatchObject({ outcome: 'open', kind: 'empty_reply', round_trips: 2 });
    expect(empty.accepted - acceptedBefore).toBe(2); // asked once more (default --retries for scan is 1)
    expect(found.get(garbage.port)?.outcome).toBe('open');
    expect(['parse', 'protocol']).toContain(found.get(garbage.port)?.kind);
    expect(found.get(echo.port)).toMatchObject({ outcome: 'open', kind: 'protocol' });
    expect(found.get(echo.port)?.reason).toMatch(/STATUS/);
    expect(found.get(silent.port)).toMatchObject({ outcome: 'open', kind: 'timeout' });
    expect(found.get(silent.port)?.reason).toMatch(/no reply within 2000ms/);
    // A banner that waits is what the peer is, not a missed deadline.
    expect(found.get(ssh.port)).toMatchObject({ outcome: 'open', kind: 'protocol' });
    expect(found.get(ssh.port)?.reason).toMatch(/SSH server/);

    expect(found.has(refusedPort)).toBe(false);
    expect(results).toHaveLength(ports.length - 1);
    expect(summary).toMatchObject({
      targets: ports.length,
      checked: ports.length,
      miners: miners.length + 1,
      open: nonMinerPorts().length,
      none: 1,
      connect_timeout_ms: 1000,
      reply_timeout_ms: 2000,
      interrupted: false,
    });
    expect(Object.values(summary.by_make).reduce((a, b) => a + b, 0)).toBe(miners.length + 1);
  });

  it('says which host names did not resolve and exits 1, with the rest of the scan intact', async () => {
    const first = miners[0] as Miner;
    // Resolved here, never by DNS: rig-ok.lan is this machine; rig-gone.lan is not found.
    const lookup = lookupOf({ 'rig-ok.lan': '127.0.0.1' });
    const ctx = memoryContext({ lookup });
    const code = await runCli(
      ['scan', 'rig-ok.lan', 'rig-gone.lan', '--port', String(first.port), '--json'],
      ctx,
    );
    expect(code).toBe(1);
    const { results, summary } = JSON.parse(ctx.out()) as { results: ScanResult[]; summary: ScanSummary };
    expect(results.map((r) => [r.host, r.outcome])).toEqual([['rig-ok.lan', 'miner']]);
    expect(summary.unresolved).toEqual(['rig-gone.lan']);
    const text = memoryContext({ lookup });
    expect(await runCli(['scan', 'rig-gone.lan', '--port', String(first.port)], text)).toBe(1);
    expect(text.err()).toMatch(/could not resolve rig-gone\.lan: not scanned/);
    const quiet = memoryContext({ lookup });
    expect(await runCli(['scan', 'rig-gone.lan', '--port', String(first.port), '--quiet'], quiet)).toBe(1);
    expect(quiet.err()).toMatch(/could not resolve rig-gone\.lan: not scanned/);
  });

  it('scans a host name and the address it resolves to once, and counts one miner', async () => {
    const first = miners[0] as Miner;
    const lookup = ((
      _hostname: string,
      options: { all?: boolean },
      callback: (...args: unknown[]) => void,
    ) => {
      if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    }) as unknown as import('node:net').LookupFunction;
    const ctx = memoryContext({ lookup });
    // The name inside the range scanned with it: two connections to one miner, "2 miners", before.
    const code = await runCli(
      ['scan', 'rig-ok.lan', '127.0.0.0/30', 'rig-alias.lan', '--port', String(first.port), '--json'],
      ctx,
    );
    expect(code).toBe(0);
    const { results, summary } = JSON.parse(ctx.out()) as { results: ScanResult[]; summary: ScanSummary };
    expect(results.map((r) => [r.target, r.outcome])).toEqual([[`127.0.0.1:${first.port}`, 'miner']]);
    expect(summary).toMatchObject({ targets: 4, checked: 4, miners: 1 });
    expect(ctx.err()).toContain(
      `rig-ok.lan:${first.port} is the miner 127.0.0.1:${first.port} already names: scanned once (and 1 more target like it)`,
    );
  });

  it('calls a port that accepts and resets at once open (kind reset), every time', async () => {
    const { createServer } = await import('node:net');
    const server = createServer((socket) => socket.resetAndDestroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('node:net').AddressInfo).port;
    try {
      const seen = new Set<string>();
      for (let round = 0; round < 20; round++) {
        const ctx = memoryContext();
        await runCli(['scan', '127.0.0.1', '--port', String(port), '--all', '--json', '--retries', '0'], ctx);
        const [result] = (JSON.parse(ctx.out()) as { results: ScanResult[] }).results;
        seen.add(`${result?.outcome} ${result?.kind}`);
      }
      expect([...seen]).toEqual(['open reset']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('says the same of a reset that came before the connect was handled as of one after', async () => {
    // The server runs in a worker so that it accepts and resets while this thread is busy: the
    // lookup below holds the thread just after the connect is issued, so the reset is already
    // there when Node first looks at the socket (ECONNRESET without 'connect'), every time.
    const { Worker } = await import('node:worker_threads');
    const worker = new Worker(
      `const { createServer } = require('node:net');
       const { parentPort } = require('node:worker_threads');
       const server = createServer((socket) => socket.resetAndDestroy());
       server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`,
      { eval: true },
    );
    const port = await new Promise<number>((resolve) => worker.once('message', resolve));
    const lookup = ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
      const until = Date.now() + 100;
      while (Date.now() < until); // the connect is on its way; the worker resets it meanwhile
    }) as unknown as import('node:net').LookupFunction;
    try {
      const reasons: Array<string | undefined> = [];
      for (const [target, ctx] of [
        ['rig-rst.lan', memoryContext({ lookup })],
        ['127.0.0.1', memoryContext()],
      ] as const) {
        await runCli(['scan', target, '--port', String(port), '--all', '--json', '--retries', '0'], ctx);
        const [result] = (JSON.parse(ctx.out()) as { results: ScanResult[] }).results;
        expect(result, target).toMatchObject({ outcome: 'open', kind: 'reset' });
        reasons.push(result?.reason);
      }
      expect(reasons[0]).toBe(reasons[1]);
    } finally {
      await worker.terminate();
    }
  });

  it("quotes what a peer sent in --json's reason in visible form, like the model", async () => {
    const { startFakeMiner } = await import('../support/fake-miner.js');
    const peer = await startFakeMiner({
      kind: 'reply',
      bytes: 'HTTP/1.1 400 Bad\u001b]0;PWNED\u0007 \u202eRequest\r\n\r\n',
      nul: false,
    });
    try {
      const ctx = memoryContext();
      await runCli(['scan', '127.0.0.1', '--port', String(peer.port), '--json'], ctx);
      const [result] = (JSON.parse(ctx.out()) as { results: ScanResult[] }).results;
      expect(result?.outcome).toBe('open');
      expect(result?.reason).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    } finally {
      await peer.close();
    }
  });

  it('takes an answer that came in time as an answer, however busy the process was when it came', async () => {
    const net = await import('node:net');
    const version =
      '{"STATUS":[{"STATUS":"S","When":1,"Code":22,"Msg":"CGMiner versions"}],"VERSION":[{"CGMiner":"4.11.1","Type":"Antminer S19"}],"id":1}';
    /** Blocks this process for `ms`, as decoding a thousand answers at once does to a sweep. */
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        // spin
      }
    };
    let first = true;
    // The miner answers at once; this process is then busy past the reply deadline before it reads
    // the answer, which waits in the socket meanwhile.
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.end(`${version}\0`);
        if (first) {
          first = false;
          busy(1200);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.121.30', resolve));
    try {
      const port = (server.address() as import('node:net').AddressInfo).port;
      const ctx = memoryContext();
      await runCli(
        ['scan', '127.0.121.30', '--port', String(port), '--json', '--reply-timeout', '300ms'],
        ctx,
      );
      const [result] = (JSON.parse(ctx.out()) as { results: ScanResult[] }).results;
      expect(result?.outcome).toBe('miner');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('clips a hostile model or JSON key as the client clips a STATUS message, in --json and --out', async () => {
    const { startFakeMiner } = await import('../support/fake-miner.js');
    const huge = 'A'.repeat(100_000);
    const miner = await startFakeMiner({
      kind: 'reply',
      bytes: `{"STATUS":[{"STATUS":"S","When":1,"Code":22,"Msg":"CGMiner versions"}],"VERSION":[{"CGMiner":"4.11.1","Type":"Antminer S19 ${huge}"}],"id":1}`,
    });
    const other = await startFakeMiner({ kind: 'reply', bytes: `{"${huge}":1}` });
    if (!dir) dir = await mkdtemp(join(tmpdir(), 'hashctl-scan-'));
    const out = join(dir, 'clipped.json');
    try {
      const ctx = memoryContext();
      const ports = `${miner.port},${other.port}`;
      await runCli(
        ['scan', '127.0.0.1', '--port', ports, '--json', '--reply-timeout', '2s', '--out', out],
        ctx,
      );
      const { results } = JSON.parse(ctx.out()) as { results: ScanResult[] };
      const found = byPort(results);
      expect(found.get(miner.port)?.model).toMatch(/^S19 A+… \(\d+ characters\)$/);
      expect(found.get(miner.port)?.model?.length).toBeLessThan(600);
      expect(found.get(other.port)?.outcome).toBe('open');
      expect(found.get(other.port)?.reason?.length).toBeLessThan(600);
      expect((await readFile(out, 'utf8')).length).toBeLessThan(2000);
    } finally {
      await Promise.all([miner.close(), other.close()]);
    }
  });

  it("quotes a STATUS that is no answer to 'version' (cgminer's BYE) rather than calling it missing", async () => {
    const { startFakeMiner } = await import('../support/fake-miner.js');
    const bye = await startFakeMiner({ kind: 'reply', bytes: '{"STATUS":"BYE"}' });
    try {
      const ctx = memoryContext();
      await runCli(['scan', '127.0.0.1', '--port', String(bye.port), '--json', '--reply-timeout', '2s'], ctx);
      const { results } = JSON.parse(ctx.out()) as { results: ScanResult[] };
      expect(byPort(results).get(bye.port)).toMatchObject({
        outcome: 'open',
        kind: 'protocol',
        reason: "STATUS 'BYE' is no CGMiner answer to 'version' (keys: STATUS)",
      });
    } finally {
      await bye.close();
    }
  });

  it('lists refused endpoints as none only with --all', async () => {
    const first = miners[0] as Miner;
    const { code, out } = await cli([
      'scan',
      '127.0.0.1',
      '--port',
      `${first.port},${refusedPort}`,
      '--all',
      '--json',
    ]);
    expect(code).toBe(0);
    const { results } = JSON.parse(out) as { results: ScanResult[] };
    expect(results.map((r) => [r.port, r.outcome])).toEqual(
      [
        [first.port, 'miner'],
        [refusedPort, 'none'],
      ].sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
    expect(byPort(results).get(refusedPort)).toMatchObject({
      kind: 'refused',
      make: null,
      model: null,
      firmware: null,
    });
  });

  it('streams --ndjson results as they are found, then a summary line', async () => {
    const lines: { text: string; silentStillOpen: boolean }[] = [];
    const stdout: OutStream = {
      isTTY: false,
      write: (text: string) => {
        lines.push({ text, silentStillOpen: silent.open > 0 });
        return true;
      },
    };
    const ports = [...miners.map((m) => m.port), silent.port];
    const { code } = await cli(
      ['scan', '127.0.0.1', '--port', ports.join(','), '--ndjson', '--reply-timeout', '3s', '-q'],
      stdout,
    );
    expect(code).toBe(0);
    const parsed = lines.map((line) => JSON.parse(line.text) as Record<string, unknown>);
    expect(
      lines.every((line) => line.text.endsWith('\n') && line.text.indexOf('\n') === line.text.length - 1),
    ).toBe(true);
    expect(parsed).toHaveLength(ports.length + 1);
    const minerLines = lines.filter((_, i) => parsed[i]?.outcome === 'miner');
    expect(minerLines).toHaveLength(miners.length);
    // Written while the silent endpoint was still being waited for: streamed, not held to the end.
    expect(minerLines.every((line) => line.silentStillOpen)).toBe(true);
    expect(parsed[ports.length - 1]).toMatchObject({ port: silent.port, outcome: 'open', kind: 'timeout' });
    expect(parsed[ports.length]).toEqual({
      summary: expect.objectContaining({ miners: miners.length, open: 1 }),
    });
  });

  it('writes an --out inventory that probe @FILE accepts', async () => {
    const file = join(dir, 'inventory.json');
    const ports = [...miners.map((m) => m.port), http.port, refusedPort];
    const { code, out, err } = await cli(['scan', '127.0.0.1', '--port', ports.join(','), '--out', file]);
    expect(code).toBe(0);
    expect(err).toContain(`wrote ${miners.length} miners to ${file}`);
    // Plain output (not a TTY): a header and one tab-separated line per miner and open endpoint.
    const rows = out.trim().split('\n');
    expect(rows[0]).toBe('host\tport\toutcome\tmake\tmodel\tfirmware\treason');
    expect(rows).toHaveLength(1 + miners.length + 1);

    const inventory = JSON.parse(await readFile(file, 'utf8')) as {
      generated_at: string;
      miners: { host: string; port: number; make: string; model: string | null }[];
    };
    expect(Number.isNaN(Date.parse(inventory.generated_at))).toBe(false);
    expect(inventory.miners.map((m) => m.port).sort()).toEqual(miners.map((m) => m.port).sort());
    for (const entry of inventory.miners) {
      expect(entry.host).toBe('127.0.0.1');
      expect(entry.make).toBe(miners.find((m) => m.port === entry.port)?.make);
    }

    const targets = await parseTargetSpecs([`@${file}`], { defaultPort: 4028 });
    expect(targets.count).toBe(miners.length);
    const probe = await cli(['--json', '--retries', '0', 'probe', `@${file}`, '--command', 'version']);
    const probed = JSON.parse(probe.out) as { results: { target: string }[] };
    expect(probed.results.map((r) => r.target).sort()).toEqual(
      miners.map((m) => `127.0.0.1:${m.port}`).sort(),
    );
  });

  it('counts one miner and one endpoint in the singular, on stderr and in the --out note', async () => {
    // It said `1 miners (1 Antminer), … of 1 endpoints` and `wrote 1 miners to …`, where audit and
    // thermal say `1 miner`.
    const file = join(dir, 'one.json');
    const one = miners[0]!;
    const { code, err } = await cli(['scan', `127.0.0.1:${one.port}`, '--out', file]);
    expect(code).toBe(0);
    expect(err).toMatch(
      new RegExp(`^hashctl: 1 miner \\(1 ${one.make}\\), 0 open, 0 silent or closed of 1 endpoint in `, 'm'),
    );
    expect(err).toContain(`hashctl: wrote 1 miner to ${file}\n`);
    const none = await cli(['scan', `127.0.0.1:${refusedPort}`]);
    expect(none.err).toMatch(/^hashctl: 0 miners, 0 open, 1 silent or closed of 1 endpoint in /m);
  });

  it('takes a /8 without materializing it, and stops cleanly when interrupted', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const targets = await buildScanTargets(['127.0.0.0/8'], [refusedPort]);
    expect(targets.count).toBe(2 ** 24); // loopback: every address is a host
    const controller = new AbortController();
    let seen = 0;
    const report = await scan(
      targets,
      {
        ports: [refusedPort],
        connectTimeoutMs: 200,
        replyTimeoutMs: 200,
        maxBytes: 1 << 20,
        concurrency: 32,
        retries: 0,
        keepNone: false,
        signal: controller.signal,
      },
      {
        onResult: () => {
          if (++seen === 300) controller.abort();
        },
      },
    );
    expect(report.summary.interrupted).toBe(true);
    expect(report.summary.checked).toBeGreaterThanOrEqual(300);
    expect(report.summary.checked).toBeLessThan(300 + 32 + 1);
    expect(report.summary.miners).toBe(0);
    expect(report.results).toEqual([]); // `none` is counted, not kept
    // A materialized /8 would be gigabytes; a lazy one is a few intervals.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('on Ctrl-C ends the exchanges in flight at once: what answered is kept, the rest not checked', async () => {
    // (An SSH banner is no longer in flight here: its first line is the answer, at once.)
    const targets = await buildScanTargets(['127.0.0.1'], [miners[0]!.port, silent.port]);
    const controller = new AbortController();
    const started = Date.now();
    const report = await scan(
      targets,
      {
        ports: [miners[0]!.port, silent.port],
        connectTimeoutMs: 1000,
        replyTimeoutMs: 60_000,
        maxBytes: 1 << 20,
        concurrency: 8,
        retries: 0,
        keepNone: false,
        signal: controller.signal,
      },
      { onResult: () => setTimeout(() => controller.abort(), 100) },
    );
    // Not the 60 s reply deadline: the silent endpoints were cut short when the signal came.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(report.summary).toMatchObject({ interrupted: true, checked: 1, miners: 1 });
    expect(report.results.map((r) => r.port)).toEqual([miners[0]!.port]);
  });

  it('on Ctrl-C says how many endpoints were not checked, the ones cut short in flight included', async () => {
    // It said `addresses not yet started were skipped`: the silent endpoint had started, was cut
    // short, and is in neither the table nor the counts.
    const controller = new AbortController();
    const ctx = memoryContext({ signal: controller.signal });
    const before = silent.accepted;
    const ports = `${miners[0]!.port},${silent.port}`;
    const running = runCli(['scan', '127.0.0.1', '--port', ports, '--reply-timeout', '60s', '--ndjson'], ctx);
    // Interrupted once the miner's result is out (streamed) and the silent endpoint is in flight.
    const ready = () => silent.accepted > before && ctx.out().includes('"outcome":"miner"');
    for (let i = 0; i < 1000 && !ready(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(ready()).toBe(true);
    controller.abort();
    expect(await running).toBe(130);
    expect(ctx.err()).toContain(
      'hashctl: interrupted: 1 of 2 endpoints not checked (cut short in flight or not yet started)\n',
    );
    expect(ctx.err()).not.toContain('not yet started were skipped');
  });

  it('on Ctrl-C leaves an existing --out inventory as it was', async () => {
    if (!dir) dir = await mkdtemp(join(tmpdir(), 'hashctl-scan-'));
    const out = join(dir, 'farm-kept.json');
    await writeFile(out, 'the full inventory of an earlier scan\n');
    const controller = new AbortController();
    controller.abort();
    const ctx = memoryContext({ signal: controller.signal });
    const code = await runCli(['scan', '127.0.0.1', '--port', String(miners[0]!.port), '--out', out], ctx);
    expect(code).toBe(130);
    expect(await readFile(out, 'utf8')).toBe('the full inventory of an earlier scan\n');
    expect(ctx.err()).toContain('left as it was: this scan was interrupted');
  });

  it('does not empty an existing --out inventory with a scan that found no miner (exit 1)', async () => {
    if (!dir) dir = await mkdtemp(join(tmpdir(), 'hashctl-scan-'));
    const out = join(dir, 'farm-nothing.json');
    await writeFile(out, 'the inventory of yesterday\n');
    const ctx = memoryContext();
    const code = await runCli(['scan', '127.0.0.1', '--port', String(refusedPort), '--out', out], ctx);
    expect(code).toBe(1);
    expect(await readFile(out, 'utf8')).toBe('the inventory of yesterday\n');
    expect(ctx.err()).toContain('left as it was: this scan found no miner');
    // Said with --json and --quiet too: it is why the exit is 1, and cron mails only stderr.
    for (const flag of ['--json', '--quiet']) {
      const quiet = memoryContext();
      const args = ['scan', '127.0.0.1', '--port', String(refusedPort), '--out', out, flag];
      expect(await runCli(args, quiet)).toBe(1);
      expect(quiet.err(), flag).toContain('left as it was: this scan found no miner');
    }
    expect(await readFile(out, 'utf8')).toBe('the inventory of yesterday\n');
    // A new file is still written, empty: there was nothing to keep.
    const fresh = join(dir, 'farm-fresh.json');
    expect(
      await runCli(['scan', '127.0.0.1', '--port', String(refusedPort), '--out', fresh], memoryContext()),
    ).toBe(0);
    expect(JSON.parse(await readFile(fresh, 'utf8'))).toMatchObject({ miners: [] });
  });

  it('draws progress on a TTY stderr only, and a table on a TTY stdout', async () => {
    const first = miners[0] as Miner;
    const ports = `${first.port},${silent.port}`;
    const tty = memoryContext({
      stdout: { isTTY: true, write: () => true },
      stderr: { isTTY: true, write: () => true },
    });
    let stderr = '';
    let stdout = '';
    tty.stderr.write = (text: string) => {
      stderr += text;
      return true;
    };
    tty.stdout.write = (text: string) => {
      stdout += text;
      return true;
    };
    // The silent endpoint keeps the scan going past a few progress ticks.
    expect(
      await runCli(['--no-color', 'scan', '127.0.0.1', '--port', ports, '--reply-timeout', '700ms'], tty),
    ).toBe(0);
    expect(stderr).toContain('hashctl scan: 1/2 checked · 1 miner · 0 open');
    expect(stderr).toContain('\r\u001b[2K'); // the line is cleared before the summary
    expect(stderr).toMatch(/1 miner \(1 \w+\), 1 open/);
    expect(stdout).toMatch(/┌|─/); // a cli-table3 box
    expect(stdout).toContain(String(silent.port));

    const json = memoryContext({ stderr: { isTTY: true, write: () => true } });
    let jsonErr = '';
    json.stderr.write = (text: string) => {
      jsonErr += text;
      return true;
    };
    expect(
      await runCli(['--json', 'scan', '127.0.0.1', '--port', ports, '--reply-timeout', '700ms'], json),
    ).toBe(0);
    expect(jsonErr).toBe('');
  });

  it('refuses bad input with exit 2 before any traffic', async () => {
    const before = empty.accepted;
    for (const args of [
      ['scan', '127.0.0.1', '--port', 'abc'],
      ['scan', '127.0.0.1', '--port', '70000'],
      ['scan', '127.0.0.0/33', '--port', String(empty.port)],
      ['--json', 'scan', '127.0.0.1', '--ndjson', '--port', String(empty.port)],
      ['scan', '127.0.0.1', '--port', String(empty.port), '--reply-timeout', 'soon'],
    ]) {
      const { code, err } = await cli(args);
      expect(code, args.join(' ')).toBe(2);
      expect(err, args.join(' ')).toMatch(/^hashctl: /);
    }
    expect(empty.accepted).toBe(before);
  });

  it('refuses an --out file it cannot write before any traffic (exit 2), not after the sweep', async () => {
    const before = empty.accepted;
    const aFile = join(dir, 'a-file');
    await writeFile(aFile, 'x');
    for (const out of [
      join(dir, 'missing', 'inventory.json'),
      dir,
      join(aFile, 'inventory.json'),
      '/proc/version',
    ]) {
      const { code, err } = await cli(['scan', '127.0.0.1', '--port', String(empty.port), '--out', out]);
      expect(code, out).toBe(2);
      expect(err, out).toMatch(
        /^hashctl: cannot write --out file '.*': [^\n]*\((ENOENT|EISDIR|ENOTDIR)\)\n$/,
      );
    }
    expect(empty.accepted).toBe(before);
  });
});
