// The upload through an egress proxy named in HTTPS_PROXY (NO_PROXY exempting hosts), as a farm
// host that reaches the internet only through one sends it: a real HTTP CONNECT proxy and a real
// HTTPS collector on loopback, the CLI run in-process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { getBatch } from '../../src/store/outbox.js';
import { parseEndpoint } from '../../src/upload/endpoint.js';
import { bypassesProxy, proxyFor } from '../../src/upload/proxy.js';
import { lookupOf } from '../support/lookup.js';
import { type Collector, startCollector } from './support/collector.js';
import { enqueueCycle, KEY, reports, type TempStore, tempStore } from './support/fixtures.js';
import { startProxy } from './support/proxy.js';

const COLLECTOR_HOST = '127.0.118.20';
const PROXY_HOST = '127.0.118.21';
const PROXY_PASSWORD = 'pr0xy-pa55w0rd';

let dir = '';
let caFile = '';
let collector: Collector;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashctl-proxy-'));
  caFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=hashctl test CA'],
      ...['-addext', `subjectAltName=IP:${COLLECTOR_HOST}`, '-keyout', join(dir, 'key.pem'), '-out', caFile],
    ],
    { stdio: 'ignore' },
  );
  const tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(caFile, 'utf8') };
  collector = await startCollector(undefined, { tls, host: COLLECTOR_HOST });
});
afterAll(async () => {
  await collector?.close();
  rmSync(dir, { recursive: true, force: true });
});

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function setup(answer?: (authorization: string | undefined) => number) {
  const proxy = await startProxy(PROXY_HOST, answer);
  const temp: TempStore = tempStore();
  cleanups.push(
    () => proxy.close(),
    () => temp.close(),
  );
  const [batch] = enqueueCycle(temp.store, { miners: reports(2), now: Date.now() });
  if (batch === undefined) throw new Error('no batch');
  const upload = async (env: Record<string, string>) => {
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY, ...env } });
    const code = await runCli(
      ['upload', '--db', temp.path, '--endpoint', collector.url, '--ca', caFile, '--attempts', '1'],
      ctx,
    );
    return { code, err: ctx.err(), out: ctx.out() };
  };
  return { proxy, temp, batch, upload };
}

const withPassword = (url: string) => url.replace('http://', `http://ops:${PROXY_PASSWORD}@`);

describe('upload through a proxy (HTTPS_PROXY, NO_PROXY)', () => {
  it('tunnels through the proxy HTTPS_PROXY names, with its credentials; the proxy sees no key', async () => {
    const { proxy, temp, batch, upload } = await setup();
    const before = collector.received.length;
    const result = await upload({ HTTPS_PROXY: withPassword(proxy.url) });
    expect(result).toMatchObject({ code: 0 });
    expect(proxy.tunnels).toEqual([
      {
        target: new URL(collector.url).host,
        authorization: `Basic ${Buffer.from(`ops:${PROXY_PASSWORD}`).toString('base64')}`,
      },
    ]);
    expect(collector.received.length).toBe(before + 1);
    expect(collector.received.at(-1)?.headers['x-collector-key']).toBe(KEY);
    // TLS end to end: neither the key nor the batch crosses the proxy readable.
    const relayed = Buffer.concat(proxy.relayed);
    expect(relayed.length).toBeGreaterThan(0);
    expect(relayed.includes(KEY)).toBe(false);
    expect(relayed.includes(batch.batchId)).toBe(false);
    expect(getBatch(temp.store.db, batch.batchId)?.state).toBe('delivered');
    expect(result.err).not.toContain(PROXY_PASSWORD);
  });

  it("resolves a proxy named by host name through the context's lookup, never the system resolver", async () => {
    const { proxy, temp, batch } = await setup();
    const asked: string[] = [];
    const lookup = lookupOf({ 'egress.farm.invalid': PROXY_HOST }, asked);
    const port = new URL(proxy.url).port;
    const ctx = memoryContext({
      env: { HASHCTL_COLLECTOR_KEY: KEY, HTTPS_PROXY: `http://egress.farm.invalid:${port}` },
      lookup,
    });
    const code = await runCli(
      ['upload', '--db', temp.path, '--endpoint', collector.url, '--ca', caFile, '--attempts', '1'],
      ctx,
    );
    expect(ctx.err()).toMatch(/^delivered 1 batch/);
    expect(code).toBe(0);
    expect(asked).toEqual(['egress.farm.invalid']);
    expect(proxy.tunnels).toHaveLength(1);
    expect(getBatch(temp.store.db, batch.batchId)?.state).toBe('delivered');
  });

  it('reads https_proxy before HTTPS_PROXY, and a proxy given without a scheme as http://', async () => {
    const { proxy, upload } = await setup();
    const hostPort = proxy.url.replace('http://', '');
    const result = await upload({ https_proxy: hostPort, HTTPS_PROXY: 'http://127.0.118.22:1' });
    expect(result).toMatchObject({ code: 0 });
    expect(proxy.tunnels).toHaveLength(1);
  });

  it('goes direct to a host NO_PROXY names, in each of its forms', async () => {
    const { proxy, temp } = await setup();
    const { port } = new URL(collector.url);
    for (const noProxy of [COLLECTOR_HOST, `example.com, ${COLLECTOR_HOST}:${port}`, '127.0.118.0/24', '*']) {
      enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
      const ctx = memoryContext({
        env: { HASHCTL_COLLECTOR_KEY: KEY, HTTPS_PROXY: proxy.url, NO_PROXY: noProxy },
      });
      const code = await runCli(
        ['upload', '--db', temp.path, '--endpoint', collector.url, '--ca', caFile],
        ctx,
      );
      expect({ noProxy, code }).toEqual({ noProxy, code: 0 });
    }
    expect(proxy.tunnels).toEqual([]);
  });

  it('a proxy refusing the tunnel (407) stops the flush naming the proxy, never its password; all kept', async () => {
    const { proxy, temp, batch, upload } = await setup(() => 407);
    const before = collector.received.length;
    const result = await upload({ HTTPS_PROXY: withPassword(proxy.url) });
    expect(result.code).toBe(1);
    expect(proxy.tunnels).toHaveLength(1);
    expect(collector.received.length).toBe(before);
    expect(result.err).toContain(`the proxy http://***@${PROXY_HOST}`);
    expect(result.err).toContain('answered HTTP 407');
    expect(result.err).not.toContain(PROXY_PASSWORD);
    const row = getBatch(temp.store.db, batch.batchId);
    expect(row).toMatchObject({ state: 'pending', lastStatus: 407 });
    expect(row?.lastError).not.toContain(PROXY_PASSWORD);
  });

  it('a proxy answering inside the tunnel in plain HTTP (a block page) is said as the proxy\'s doing, not "try http://"', async () => {
    // It grants the CONNECT, then writes its own HTTP answer where the collector's TLS should be.
    const { createServer } = await import('node:net');
    const mangler = createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
        socket.once('data', () => {
          socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 17\r\n\r\nblocked by policy');
        });
      });
    });
    await new Promise<void>((resolve) => mangler.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => mangler.close());
    const { temp, batch, upload } = await setup();
    const before = collector.received.length;
    const port = (mangler.address() as import('node:net').AddressInfo).port;
    const result = await upload({ HTTPS_PROXY: `http://127.0.0.1:${port}` });
    expect(result.code).toBe(1);
    expect(collector.received.length).toBe(before);
    expect(result.err).toContain('ERR_SSL_WRONG_VERSION_NUMBER');
    // http:// would bypass the proxy, and is refused beyond loopback: no use to suggest it.
    expect(result.err).not.toContain('try http://');
    expect(result.err).toMatch(/plain HTTP came back through the proxy http:\/\/127\.0\.0\.1:\d+/);
    expect(getBatch(temp.store.db, batch.batchId)?.state).toBe('pending');
  });

  it('a proxy that is down is named in the reason, and the batch waits for the next run', async () => {
    const { temp, batch, upload } = await setup();
    const result = await upload({ HTTPS_PROXY: 'http://127.0.118.22:1' });
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/ECONNREFUSED.*via proxy http:\/\/127\.0\.118\.22:1 from HTTPS_PROXY/);
    expect(getBatch(temp.store.db, batch.batchId)?.state).toBe('pending');
  });

  it('refuses (exit 2) a proxy it cannot use, before anything is sent', async () => {
    const { temp, batch, upload } = await setup();
    const socks = await upload({ HTTPS_PROXY: 'socks5://127.0.118.22:1080' });
    expect(socks.code).toBe(2);
    expect(socks.err).toMatch(/HTTPS_PROXY .*only http:\/\/ and https:\/\/ proxies/);
    const garbage = await upload({ HTTPS_PROXY: `http://ops:${PROXY_PASSWORD}@bad host:99999` });
    expect(garbage.code).toBe(2);
    expect(garbage.err).toMatch(/HTTPS_PROXY is not a proxy URL/);
    expect(garbage.err).not.toContain(PROXY_PASSWORD);
    expect(getBatch(temp.store.db, batch.batchId)?.attempts).toBe(0);
  });
});

describe('proxyFor', () => {
  const https = parseEndpoint('https://cloud.example:8443');
  it('applies to https:// only: plain http goes to this machine, never through a proxy', () => {
    const env = { HTTPS_PROXY: 'http://proxy.lan:3128', HTTP_PROXY: 'http://proxy.lan:3128' };
    expect(proxyFor(parseEndpoint('http://127.0.0.1:8080'), env)).toBeNull();
    expect(proxyFor(https, env)).toMatchObject({ shown: 'http://proxy.lan:3128', variable: 'HTTPS_PROXY' });
    expect(proxyFor(https, {})).toBeNull();
    expect(proxyFor(https, { HTTPS_PROXY: '  ' })).toBeNull();
  });

  it('reads NO_PROXY when no_proxy is set but empty, as curl does (an empty variable is no list)', () => {
    const env = { HTTPS_PROXY: 'http://proxy.lan:3128', no_proxy: '', NO_PROXY: 'cloud.example' };
    expect(proxyFor(https, env)).toBeNull();
    expect(proxyFor(https, { ...env, no_proxy: ' ' })).toBeNull();
    expect(proxyFor(https, { ...env, no_proxy: 'other.example' })).not.toBeNull();
  });

  it('keeps the credentials for the proxy, and out of what it shows', () => {
    const choice = proxyFor(https, { HTTPS_PROXY: 'https://ops:p%40ss@proxy.lan' });
    expect(choice).toMatchObject({ shown: 'https://***@proxy.lan', secrets: ['p@ss', 'ops'] });
  });

  it('matches NO_PROXY as curl does', () => {
    const cases: [string, number, string, boolean][] = [
      ['cloud.example.com', 443, 'example.com', true],
      ['cloud.example.com', 443, '.example.com', true],
      ['cloud.example.com', 443, '*.example.com', true],
      ['example.com', 443, '.example.com', true],
      ['notexample.com', 443, 'example.com', false],
      ['cloud.example.com', 443, 'example.com:8443', false],
      ['cloud.example.com', 8443, 'other.org example.com:8443', true],
      ['10.1.2.3', 443, '10.0.0.0/8', true],
      ['11.1.2.3', 443, '10.0.0.0/8', false],
      ['::1', 443, '[::1]', true],
      ['::1', 443, '[::1]:443', true],
      ['cloud.example.com', 443, '*', true],
      ['cloud.example.com', 443, '', false],
      ['CLOUD.example.com'.toLowerCase(), 443, 'Example.COM', true],
      // A trailing dot (the name absolute) is the same name, in the host and in the list.
      ['cloud.example.com.', 443, 'cloud.example.com', true],
      ['cloud.example.com.', 443, 'example.com', true],
      ['cloud.example.com', 443, 'example.com.', true],
      ['cloud.example.com', 443, '.example.com.', true],
      ['cloud.example.com.', 443, 'notexample.com', false],
    ];
    for (const [host, port, noProxy, expected] of cases)
      expect({ host, port, noProxy, bypass: bypassesProxy(host, port, noProxy) }).toEqual({
        host,
        port,
        noProxy,
        bypass: expected,
      });
  });
});
