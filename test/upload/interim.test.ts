// A `100 Continue` nobody asked for before the collector's real answer, as some reverse proxies and
// servers send it (HTTP/1.1 allows it; a client reads past it). undici alone took it for a broken
// answer: a batch the collector had taken was retried for ever and never left the outbox. Raw TCP
// servers write the interim heads byte for byte; a real HTTPS collector sends one through
// writeContinue(), directly and through an HTTPS_PROXY tunnel.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { getBatch } from '../../src/store/outbox.js';
import { parseEndpoint } from '../../src/upload/endpoint.js';
import { createSender } from '../../src/upload/sender.js';
import { startCollector } from './support/collector.js';
import { enqueueCycle, KEY, reports, tempStore } from './support/fixtures.js';
import { startProxy } from './support/proxy.js';

const HOST = '127.0.124.31';
const PROXY_HOST = '127.0.124.32';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A server that reads the request, then writes `parts` one write at a time and closes. */
async function rawServer(parts: string[]): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let seen = '';
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      const head = seen.indexOf('\r\n\r\n');
      const length = Number(/content-length: *(\d+)/i.exec(seen)?.[1] ?? 0);
      if (answered || head < 0 || seen.length < head + 4 + length) return;
      answered = true;
      const write = (i: number): void => {
        if (i === parts.length) {
          socket.end();
          return;
        }
        socket.write(parts[i]!, () => setImmediate(() => write(i + 1)));
      };
      write(0);
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  closers.push(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

async function send(parts: string[]) {
  const port = await rawServer(parts);
  const sender = await createSender({
    endpoint: parseEndpoint(`http://${HOST}:${port}`),
    key: KEY,
    connectTimeoutMs: 5_000,
    now: Date.now,
  });
  try {
    return await sender.send({
      batchId: '00000000-0000-4000-8000-000000000001',
      body: Buffer.from('{}'),
      timeoutMs: 10_000,
      signal: new AbortController().signal,
    });
  } finally {
    await sender.close();
  }
}

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const answer = (status: string, body = '') =>
  `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;

describe('an unsolicited 100 Continue before the answer', () => {
  it('reads the 2xx after it: the batch is delivered, not retried for ever', async () => {
    expect(await send([CONTINUE, answer('200 OK', '{"ok":true}')])).toEqual({
      kind: 'delivered',
      status: 200,
    });
    // In one segment with the answer, too.
    expect(await send([CONTINUE + answer('202 Accepted')])).toEqual({ kind: 'delivered', status: 202 });
  });

  it('reads past several, with headers, split anywhere (even inside the status line)', async () => {
    const two = `HTTP/1.1 100 Continue\r\nVia: 1.1 edge\r\n\r\nHTTP/1.0 100\r\n\r\n`;
    expect(
      await send([
        'HTTP/1.1 10',
        `0 Continue\r\n\r`,
        `\n${two.slice(0, 30)}`,
        two.slice(30),
        answer('200 OK'),
      ]),
    ).toEqual({ kind: 'delivered', status: 200 });
  });

  it('gives every other answer after it its own meaning', async () => {
    expect(await send([CONTINUE, answer('503 Service Unavailable', 'collector busy')])).toMatchObject({
      kind: 'retry',
      status: 503,
      reason: 'HTTP 503: collector busy',
    });
    expect(await send([CONTINUE, answer('401 Unauthorized', 'bad key')])).toMatchObject({
      kind: 'key_refused',
      status: 401,
    });
    expect(await send([CONTINUE, answer('413 Payload Too Large')])).toMatchObject({
      kind: 'too_large',
      status: 413,
    });
    expect(await send([CONTINUE, answer('422 Unprocessable Entity', 'bad batch')])).toMatchObject({
      kind: 'quarantine',
      reason: 'HTTP 422: bad batch',
    });
  });

  it('never takes a 100 alone for delivery: a server that closes after it leaves the batch pending', async () => {
    expect(await send([CONTINUE])).toMatchObject({ kind: 'retry', status: null });
    // A 1000 is no 100 (and no answer): not read past.
    expect(await send([answer('1000 Odd')])).not.toMatchObject({ kind: 'delivered' });
  });
});

describe('upload to an HTTPS collector that sends 100 Continue first', () => {
  it('delivers directly and through an HTTPS_PROXY tunnel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashctl-interim-'));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const caFile = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=hashctl test CA'],
        ...['-addext', `subjectAltName=IP:${HOST}`, '-keyout', join(dir, 'key.pem'), '-out', caFile],
      ],
      { stdio: 'ignore' },
    );
    const tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(caFile, 'utf8') };
    const collector = await startCollector(undefined, { tls, host: HOST });
    closers.push(() => collector.close());
    collector.sendsContinue = true;
    const proxy = await startProxy(PROXY_HOST);
    closers.push(() => proxy.close());
    const temp = tempStore();
    closers.push(() => temp.close());
    const upload = async (env: Record<string, string>) => {
      const [batch] = enqueueCycle(temp.store, { miners: reports(2), now: Date.now() });
      const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY, ...env } });
      const code = await runCli(
        ['upload', '--db', temp.path, '--endpoint', collector.url, '--ca', caFile, '--attempts', '1'],
        ctx,
      );
      return { code, err: ctx.err(), state: getBatch(temp.store.db, batch!.batchId)?.state };
    };
    expect(await upload({})).toMatchObject({ code: 0, state: 'delivered' });
    expect(proxy.tunnels).toEqual([]);
    expect(await upload({ HTTPS_PROXY: proxy.url })).toMatchObject({ code: 0, state: 'delivered' });
    expect(proxy.tunnels).toHaveLength(1);
    expect(collector.received).toHaveLength(2);
  });
});
