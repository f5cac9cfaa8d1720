import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { flushOutbox } from '../../src/upload/flush.js';
import { lookupOf } from '../support/lookup.js';
import { type Collector, startCollector } from './support/collector.js';
import { enqueueCycle, KEY, reports, tempStore } from './support/fixtures.js';

// A private CA for 127.0.0.1, made with the system's openssl (no network, no fixtures to expire).
let dir = '';
let cert = '';
let key = '';
let collector: Collector;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashctl-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=hashctl test CA',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:collector.farm.invalid',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  key = readFileSync(join(dir, 'key.pem'), 'utf8');
  collector = await startCollector(undefined, { tls: { key, cert } });
});
afterAll(async () => {
  await collector?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS to the collector', () => {
  it('verifies by default: an unknown CA stops the flush and keeps the batch', async () => {
    const temp = tempStore();
    try {
      enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
      const base = {
        endpoint: collector.url,
        key: KEY,
        connectTimeoutMs: 2_000,
        totalTimeoutMs: 5_000,
        maxAttempts: 3,
        signal: new AbortController().signal,
      };
      const refused = await flushOutbox(temp.store.db, base, memoryContext());
      expect(refused).toMatchObject({ stop: 'endpoint', pending: 1, attempts: 1 });
      expect(refused.reason).toMatch(/TLS: .*SELF_SIGNED.*--ca FILE/);
      expect(collector.received).toHaveLength(0);

      const trusted = await flushOutbox(temp.store.db, { ...base, ca: cert }, memoryContext());
      expect(trusted).toMatchObject({ stop: 'done', delivered: 1, pending: 0 });
      expect(collector.received).toHaveLength(1);
    } finally {
      temp.close();
    }
  });

  it('collect --upload trusts a private CA from --ca or the config, and says which flag when it does not', async () => {
    const farm: Farm = await startFarm({ profile: 'antminer-s9', count: 1, basePort: 0 });
    const env = { HASHCTL_COLLECTOR_KEY: KEY };
    const collect = async (db: string, ...extra: string[]) => {
      const ctx = memoryContext({ env });
      const code = await runCli(
        ['collect', '--targets', ...farm.inventory(), '--db', join(dir, db), '--once', ...extra],
        ctx,
      );
      return { code, err: ctx.err() };
    };
    try {
      const before = collector.received.length;
      const untrusted = await collect('a.db', '--upload', collector.url);
      expect(untrusted.code).toBe(1);
      expect(untrusted.err).toMatch(/SELF_SIGNED.*a private CA is added with --ca FILE/);
      expect(collector.received.length).toBe(before);

      const caFile = join(dir, 'cert.pem');
      const flag = await collect('b.db', '--upload', collector.url, '--ca', caFile);
      expect(flag).toMatchObject({ code: 0 });
      expect(collector.received.length).toBe(before + 1);

      const config = join(dir, 'collect.json');
      writeFileSync(config, JSON.stringify({ upload: { endpoint: collector.url, ca_file: 'cert.pem' } }));
      const fromConfig = await collect('c.db', '--config', config);
      expect(fromConfig).toMatchObject({ code: 0 });
      expect(collector.received.length).toBe(before + 2);

      // --ca without anything to upload is a mistake worth a line.
      const alone = await collect('d.db', '--ca', caFile);
      expect(alone.code).toBe(2);
      expect(alone.err).toMatch(/--ca .* needs --upload/);
    } finally {
      await farm.stop();
    }
  });

  it('hashctl upload trusts a private CA from upload.ca_file in the config, as collect does', async () => {
    const temp = tempStore();
    try {
      enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
      const config = join(temp.dir, 'upload.json');
      writeFileSync(
        config,
        JSON.stringify({
          db: temp.path,
          upload: { endpoint: collector.url, ca_file: join(dir, 'cert.pem') },
        }),
      );
      const before = collector.received.length;
      const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY } });
      expect(await runCli(['upload', '--config', config], ctx)).toBe(0);
      expect(ctx.err()).toMatch(/^delivered 1 batch \(1 miner\), 0 pending/);
      expect(collector.received.length).toBe(before + 1);
      // A CA file the config names that is not there is said before anything is sent.
      writeFileSync(
        config,
        JSON.stringify({ db: temp.path, upload: { endpoint: collector.url, ca_file: 'no.pem' } }),
      );
      const missing = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY } });
      expect(await runCli(['upload', '--config', config], missing)).toBe(2);
      expect(missing.err()).toContain(
        `cannot read the collector's CA file ${join(temp.dir, 'no.pem')} (upload.ca_file in config ${config}):`,
      );
    } finally {
      temp.close();
    }
  });

  it('a --ca file of more than a few MiB is refused naming it, before the database or a byte is sent', async () => {
    const temp = tempStore();
    try {
      enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
      // A certificate, then megabytes of something else (a disk image or log named by mistake): read
      // whole, --ca /dev/zero grew memory without bound.
      const huge = join(temp.dir, 'huge.pem');
      writeFileSync(huge, Buffer.concat([Buffer.from(cert), Buffer.alloc(5 * 1_048_576, 0x41)]));
      const before = collector.received.length;
      const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY } });
      expect(
        await runCli(['upload', '--db', temp.path, '--endpoint', collector.url, '--ca', huge], ctx),
      ).toBe(2);
      expect(ctx.err()).toContain(`the collector's CA file ${huge} (--ca) is larger than 4 MiB`);
      expect(collector.received.length).toBe(before);
      // A bundle under the cap is read as before.
      const bundle = join(temp.dir, 'bundle.pem');
      writeFileSync(bundle, Buffer.concat([Buffer.from(cert), Buffer.alloc(1_048_576, 0x0a)]));
      const ok = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY } });
      expect(
        await runCli(['upload', '--db', temp.path, '--endpoint', collector.url, '--ca', bundle], ok),
      ).toBe(0);
      expect(collector.received.length).toBe(before + 1);
    } finally {
      temp.close();
    }
  });

  it('a --ca FIFO nobody writes to is refused at once, not waited on for ever', async () => {
    const temp = tempStore();
    const fifo = join(temp.dir, 'ca.fifo');
    execFileSync('mkfifo', [fifo]);
    // Only a safety net for the old code, which blocked in open() until a writer came: this one
    // comes after 5 s (then the old code read nothing and said so in other words).
    const writer = spawn(
      process.execPath,
      [
        '-e',
        'setTimeout(() => require("fs").closeSync(require("fs").openSync(process.argv[1], "w")), 5000)',
        fifo,
      ],
      { stdio: 'ignore' },
    );
    try {
      enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
      const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY } });
      expect(
        await runCli(['upload', '--db', temp.path, '--endpoint', collector.url, '--ca', fifo], ctx),
      ).toBe(2);
      expect(ctx.err()).toContain(
        `cannot read the collector's CA file ${fifo} (--ca): a FIFO with no writer (nothing to read)`,
      );
    } finally {
      writer.kill();
      temp.close();
    }
  });

  it('thermal config pull trusts a private CA from --ca or the config, as upload does', async () => {
    const https = await import('node:https');
    const server = https.createServer({ key, cert }, (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ thermal: { classes: { air: { board: { warn: 70, critical: 78 } } } } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `https://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    const pull = async (...args: string[]) => {
      const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir });
      const code = await runCli(
        ['thermal', 'config', 'pull', '--endpoint', endpoint, '--dry-run', ...args],
        ctx,
      );
      return { code, err: ctx.err() };
    };
    try {
      const untrusted = await pull();
      expect(untrusted.code).toBe(1);
      expect(untrusted.err).toMatch(/cannot fetch .*(self-signed|SELF_SIGNED)/i);
      expect(await pull('--ca', join(dir, 'cert.pem'))).toMatchObject({ code: 0 });
      const config = join(dir, 'pull.json');
      writeFileSync(config, JSON.stringify({ upload: { endpoint, ca_file: 'cert.pem' } }));
      expect(await pull('--config', config)).toMatchObject({ code: 0 });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("resolves a collector named by host name through the context's lookup, never the system resolver", async () => {
    // The name is answered by this lookup only (a .invalid name no resolver knows): the flush, the
    // upload command and collect --upload reach the collector on 127.0.0.1 through it.
    const asked: string[] = [];
    const lookup = lookupOf({ 'collector.farm.invalid': '127.0.0.1' }, asked);
    const endpoint = `https://collector.farm.invalid:${collector.port}`;
    const before = collector.received.length;
    const temp = tempStore();
    try {
      enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
      const report = await flushOutbox(
        temp.store.db,
        {
          endpoint,
          key: KEY,
          ca: cert,
          connectTimeoutMs: 2_000,
          totalTimeoutMs: 5_000,
          maxAttempts: 1,
          signal: new AbortController().signal,
        },
        memoryContext({ lookup }),
      );
      expect(report.reason).toBeNull();
      expect(report).toMatchObject({ stop: 'done', delivered: 1, pending: 0 });
      expect(asked).toEqual(['collector.farm.invalid']);

      enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
      const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir, lookup });
      const code = await runCli(
        [
          'upload',
          '--endpoint',
          endpoint,
          '--ca',
          join(dir, 'cert.pem'),
          '--attempts',
          '1',
          '--db',
          temp.path,
        ],
        ctx,
      );
      expect(ctx.err()).toMatch(/^delivered 1 batch \(1 miner\), 0 pending/);
      expect(code).toBe(0);
      expect(asked).toEqual(['collector.farm.invalid', 'collector.farm.invalid']);
      expect(collector.received.length - before).toBe(2);
    } finally {
      temp.close();
    }
  });

  it("thermal config pull resolves the collector's host name through the context's lookup too", async () => {
    const https = await import('node:https');
    const server = https.createServer({ key, cert }, (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ thermal: { classes: { air: { board: { warn: 70, critical: 78 } } } } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const asked: string[] = [];
    const lookup = lookupOf({ 'collector.farm.invalid': '127.0.0.1' }, asked);
    try {
      const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir, lookup });
      const code = await runCli(
        [
          ...['thermal', 'config', 'pull', '--dry-run', '--ca', join(dir, 'cert.pem')],
          ...['--endpoint', `https://collector.farm.invalid:${port}`],
        ],
        ctx,
      );
      expect(ctx.err()).not.toMatch(/cannot fetch/);
      expect(code).toBe(0);
      expect(asked).toEqual(['collector.farm.invalid']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('https:// to a plain-HTTP server: one line that says the server does not speak TLS, no --ca hint', async () => {
    const plain = await startCollector();
    const temp = tempStore();
    try {
      enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
      const endpoint = plain.url.replace(/^http:/, 'https:');
      const report = await flushOutbox(
        temp.store.db,
        {
          endpoint,
          key: KEY,
          connectTimeoutMs: 2_000,
          totalTimeoutMs: 5_000,
          maxAttempts: 3,
          signal: new AbortController().signal,
        },
        memoryContext(),
      );
      expect(report).toMatchObject({ stop: 'endpoint', pending: 1, attempts: 1 });
      expect(report.reason).toMatch(
        /^[^\n]*ERR_SSL_WRONG_VERSION_NUMBER[^\n]*does not speak TLS.*try http:\/\/\)$/,
      );
      expect(report.reason).not.toContain('--ca');

      const env = { HASHCTL_COLLECTOR_KEY: KEY };
      const ctx = memoryContext({ env });
      expect(await runCli(['upload', '--endpoint', endpoint, '--db', temp.path], ctx)).toBe(1);
      const lines = ctx.err().trimEnd().split('\n');
      expect(lines).toHaveLength(2); // the summary, then the one-line reason
      expect(lines[1]).toMatch(/^hashctl: 1 batch\(es\) still pending: .*does not speak TLS/);
      const status = memoryContext({ env });
      expect(await runCli(['upload', '--status', '--json', '--db', temp.path], status)).toBe(0);
      const stored = (JSON.parse(status.out()) as { last_error: { reason: string } }).last_error.reason;
      expect(stored).toContain('ERR_SSL_WRONG_VERSION_NUMBER');
      expect(stored).not.toMatch(/[\r\n]/);
      expect(plain.received).toHaveLength(0);
    } finally {
      temp.close();
      await plain.close();
    }
  });
});
