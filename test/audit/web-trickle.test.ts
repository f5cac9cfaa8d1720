// --check-default-creds against a web port that answers and then sends its body a byte at a time,
// forever (a tarpit, or a web UI stuck mid-page). undici's bodyTimeout is the silence allowed between
// two chunks, not a limit on the whole body: a byte every 20 ms kept the check (and the audit of
// that miner, and so the whole audit) waiting until 64 KB had trickled in, hours for a slower
// trickle. Each request now has one deadline, connect to last byte: the check settles while the
// server is still trickling, on what the status already says.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDefaultCredentials } from '../../src/audit/credentials.js';

const HOST = '127.0.0.1';
const MAX_WRITES = 10_000; // the server gives up after 200 s: every loop bounded

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A web server whose answers (status and head from `head`) trickle `chunk` every 20 ms. */
async function tricklingWeb(
  head: (request: http.IncomingMessage) => { status: number; headers?: Record<string, string> },
  chunk: string,
): Promise<{ port: number }> {
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((request, response) => {
    const { status, headers } = head(request);
    if (status !== 200) {
      response.writeHead(status, headers).end();
      return;
    }
    response.writeHead(200, headers);
    response.write(chunk.slice(0, 1));
    let writes = 0;
    const timer = setInterval(() => {
      if (++writes >= MAX_WRITES || response.destroyed) {
        clearInterval(timer);
        response.end();
        return;
      }
      response.write(chunk);
    }, 20);
    timers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  closers.push(() => {
    for (const timer of timers) clearInterval(timer);
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port };
}

describe('default credentials against a web port whose body never ends', () => {
  it('Antminer digest: the 200 decides (accepted) while the body is still trickling', async () => {
    const web = await tricklingWeb(
      (request) =>
        request.headers.authorization === undefined
          ? {
              status: 401,
              headers: { 'www-authenticate': 'Digest realm="antMiner Configuration", nonce="n", qop="auth"' },
            }
          : { status: 200 },
      'x',
    );
    const checks = await checkDefaultCredentials(HOST, 'antminer', { port: web.port, timeoutMs: 300 });
    expect(checks.map((check) => check.outcome)).toEqual(['accepted']);
  }, 20_000);

  it('Braiins login: a token that never finishes arriving is no login (inconclusive), in time', async () => {
    const web = await tricklingWeb(
      () => ({ status: 200, headers: { 'content-type': 'application/json' } }),
      ' ',
    );
    const checks = await checkDefaultCredentials(HOST, 'braiins', { port: web.port, timeoutMs: 300 });
    expect(checks.map((check) => check.outcome)).toEqual(['inconclusive', 'inconclusive']);
    expect(checks[0]?.detail).toMatch(/HTTP 200/);
  }, 20_000);

  it('a web port that accepts and never answers is said as the silence it is', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const { createServer } = await import('node:net');
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
    closers.push(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    const port = (server.address() as AddressInfo).port;
    const checks = await checkDefaultCredentials(HOST, 'braiins', { port, timeoutMs: 300 });
    expect(checks.map((check) => [check.outcome, check.detail])).toEqual([
      ['unreachable', 'web port: no answer within 300ms'],
    ]);
  });
});
