// --check-default-creds against a web UI (or a proxy in front of it) that writes an unsolicited
// `HTTP/1.1 100 Continue` before each real answer, as HTTP/1.1 allows. undici alone took the 100 for
// a broken answer ("bad response"): the check came out `unreachable`, whatever the password was.
// A raw TCP server writes the interim heads byte for byte, and keeps its connections alive (a
// client that reused one would meet the 100 again before the second answer).
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDefaultCredentials } from '../../src/audit/credentials.js';

const HOST = '127.0.127.3';
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

interface RawRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

interface RawAnswer {
  status: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A keep-alive HTTP/1.1 server that, for every request, writes `interim` (one write each, split
 * as given) and then the answer `respond` makes. Counts the connections it was given.
 */
async function rawWeb(
  respond: (request: RawRequest) => RawAnswer,
  interim: string[] = [CONTINUE],
): Promise<{ port: number; requests: RawRequest[] }> {
  const requests: RawRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let seen = Buffer.alloc(0);
    let writing = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      for (;;) {
        const headEnd = seen.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = seen.subarray(0, headEnd).toString('latin1').split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of head.slice(1)) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (seen.length < headEnd + 4 + length) return;
        const [method = '', url = ''] = (head[0] ?? '').split(' ');
        const request = {
          method,
          url,
          headers,
          body: seen.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8'),
        };
        seen = seen.subarray(headEnd + 4 + length);
        requests.push(request);
        const answer = respond(request);
        const body = answer.body ?? '';
        const lines = Object.entries({ ...answer.headers, 'Content-Length': String(Buffer.byteLength(body)) })
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('');
        const parts = [...interim, `HTTP/1.1 ${answer.status}\r\n${lines}\r\n${body}`];
        for (const part of parts)
          writing = writing.then(
            () => new Promise<void>((resolve) => socket.write(part, () => setImmediate(resolve))),
          );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  closers.push(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, requests };
}

/** An Antminer-like web UI: digest auth on /cgi-bin/get_system_info.cgi with the given password. */
function antminerDigest(password: string) {
  const realm = 'antMiner Configuration';
  const nonce = 'n0nce';
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  return (request: RawRequest): RawAnswer => {
    const auth = request.headers.authorization ?? '';
    const params = Object.fromEntries([...auth.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1], m[2]]));
    const expected = md5(
      `${md5(`${params.username}:${realm}:${password}`)}:${nonce}:${params.nc}:${params.cnonce}:auth:${md5(`${request.method}:${params.uri}`)}`,
    );
    if (auth.startsWith('Digest ') && params.response === expected && params.uri === request.url)
      return {
        status: '200 OK',
        headers: { 'Content-Type': 'application/json' },
        body: '{"minertype":"Antminer S19"}',
      };
    return {
      status: '401 Unauthorized',
      headers: { 'WWW-Authenticate': `Digest realm="${realm}", nonce="${nonce}", qop="auth"` },
    };
  };
}

const check = (dialect: 'antminer' | 'braiins', port: number) =>
  checkDefaultCredentials(HOST, dialect, { port, timeoutMs: 2000 });

describe('default credentials behind a web UI that sends 100 Continue first', () => {
  it('Antminer digest: reads the challenge and the answer after each 100 (accepted, then rejected)', async () => {
    const open = await rawWeb(antminerDigest('root'));
    expect((await check('antminer', open.port)).map((c) => [c.outcome, c.detail])).toEqual([
      ['accepted', 'HTTP 200 with digest auth'],
    ]);
    expect(open.requests.map((r) => r.headers.authorization !== undefined)).toEqual([false, true]);
    const changed = await rawWeb(antminerDigest('s3cret'));
    expect((await check('antminer', changed.port)).map((c) => [c.outcome, c.detail])).toEqual([
      ['rejected', 'HTTP 401'],
    ]);
  });

  it('Braiins login: several 100s, with headers, split inside the status line, before each answer', async () => {
    const web = await rawWeb(
      (request) => {
        const body = JSON.parse(request.body) as { password: string };
        return body.password === 'root'
          ? { status: '200 OK', body: '{"token":"t0k","timeout_s":3600}' }
          : { status: '401 Unauthorized', body: '{"message":"bad"}' };
      },
      ['HTTP/1.1 10', '0 Continue\r\nVia: 1.1 edge\r\n\r', '\nHTTP/1.0 100\r\n\r\n'],
    );
    const checks = await check('braiins', web.port);
    expect(checks.map((c) => `${c.password || '(empty)'}:${c.outcome}`)).toEqual([
      '(empty):rejected',
      'root:accepted',
    ]);
    expect(web.requests.map((r) => JSON.parse(r.body))).toEqual([
      { username: 'root', password: '' },
      { username: 'root', password: 'root' },
    ]);
  });

  it('a 100 and then nothing is no answer: the check is not taken for a login', async () => {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(CONTINUE));
    });
    await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
    closers.push(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    const checks = await check('braiins', (server.address() as net.AddressInfo).port);
    expect(checks.map((c) => c.outcome)).toEqual(['unreachable']);
  });
});
