// The sender against collectors that stall or flood: a connect or TLS handshake that never ends,
// a 2xx whose body never ends, a compressed error body that decompresses to hundreds of MiB, an
// error body cut at the read cap in the middle of an echoed key. Raw servers on 127.0.0.1.
import * as http from 'node:http';
import * as net from 'node:net';
import { brotliCompressSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../src/upload/endpoint.js';
import { createSender, type SendRequest } from '../../src/upload/sender.js';
import { KEY } from './support/fixtures.js';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  closers.push(() => {
    (server as http.Server).closeAllConnections?.();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

const request = (timeoutMs: number, signal = new AbortController().signal): SendRequest => ({
  batchId: '00000000-0000-4000-8000-000000000001',
  body: Buffer.from('{}'),
  timeoutMs,
  signal,
});

/** A sender to 127.0.0.1:port over http (or https), with a connect timeout that never fires first. */
const senderTo = (port: number, scheme = 'http', connectTimeoutMs = 5_000) =>
  createSender({
    endpoint: parseEndpoint(`${scheme}://127.0.0.1:${port}`),
    key: KEY,
    connectTimeoutMs,
    now: Date.now,
  });

describe('sender against hostile collectors', () => {
  it('gives up on a TLS handshake that never ends at the request deadline, not the connect timeout', async () => {
    // Accepts the TCP connection and never says a word: the TLS handshake hangs.
    const sockets: net.Socket[] = [];
    const port = await listen(net.createServer((socket) => sockets.push(socket)));
    closers.push(() => {
      for (const s of sockets) s.destroy();
    });
    const sender = await senderTo(port, 'https', 120_000);
    try {
      const first = await sender.send(request(300));
      expect(first).toMatchObject({ kind: 'retry', reason: 'no answer within 300 ms' });
      // The next batch is not queued behind the stuck connection.
      const second = await sender.send(request(300));
      expect(second).toMatchObject({ kind: 'retry', reason: 'no answer within 300 ms' });
      // SIGINT/SIGTERM end it as promptly.
      const interrupt = new AbortController();
      setTimeout(() => interrupt.abort(), 100);
      expect(await sender.send(request(60_000, interrupt.signal))).toMatchObject({ kind: 'aborted' });
    } finally {
      await sender.close();
    }
  }, 20_000);

  it('closes at once a TLS handshake it gave up on (deadline or Ctrl-C), not at the connect timeout', async () => {
    // Accepts and never says a word. The connection given up on must be closed at once: left to
    // the connect timeout it holds a socket (and the process, and a long collect's file limit).
    const closed: number[] = [];
    const sockets: net.Socket[] = [];
    const port = await listen(
      net.createServer((socket) => {
        sockets.push(socket);
        socket.on('error', () => {});
        socket.on('close', () => closed.push(Date.now()));
        socket.resume(); // reads (and drops) the ClientHello, so the client's close is seen
      }),
    );
    closers.push(() => {
      for (const s of sockets) s.destroy();
    });
    // The request deadline, then SIGINT/SIGTERM (the caller's signal fires after 300 ms).
    for (const timeoutMs of [300, 60_000]) {
      const sender = await senderTo(port, 'https', 120_000);
      const interrupt = new AbortController();
      if (timeoutMs > 300) setTimeout(() => interrupt.abort(), 300);
      try {
        const before = closed.length;
        const gaveUpAt = Date.now();
        const outcome = await sender.send(request(timeoutMs, interrupt.signal));
        expect(outcome.kind).toBe(timeoutMs === 300 ? 'retry' : 'aborted');
        // Before close(): the request is cut, not only the agent torn down after the flush.
        for (let waited = 0; closed.length === before && waited < 3_000; waited += 20)
          await new Promise((resolve) => setTimeout(resolve, 20));
        expect(closed.length).toBe(before + 1);
        expect(closed.at(-1)! - gaveUpAt).toBeLessThan(2_000);
      } finally {
        await sender.close();
      }
    }
  }, 20_000);

  it('takes a 2xx as delivered without waiting for a body that never ends', async () => {
    const port = await listen(
      http.createServer((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"ok":'); // and never the rest
      }),
    );
    const sender = await senderTo(port);
    try {
      expect(await sender.send(request(60_000))).toEqual({ kind: 'delivered', status: 200 });
    } finally {
      await sender.close();
    }
  }, 20_000);

  it('takes an error status without waiting out the deadline for a body that drips', async () => {
    // 503 with Retry-After, then one byte a second: the status is the answer, the body an excerpt.
    const drips: NodeJS.Timeout[] = [];
    closers.push(() => {
      for (const drip of drips) clearInterval(drip);
    });
    const port = await listen(
      http.createServer((req, res) => {
        req.resume();
        res.writeHead(503, { 'retry-after': '7', 'content-type': 'text/plain' });
        res.write('busy ');
        drips.push(setInterval(() => res.write('.'), 1_000));
      }),
    );
    const sender = await senderTo(port);
    try {
      const outcome = await sender.send(request(60_000));
      expect(outcome).toMatchObject({ kind: 'retry', status: 503, retryAfterMs: 7_000 });
    } finally {
      await sender.close();
    }
  }, 20_000);

  it('keeps the words that arrived of an error body cut short or broken mid-way', async () => {
    const words = `batch refused: miners[0].hashrate does not match the schema ${'.'.repeat(400)}`;
    const answers = [
      // Content-Length promises more than is sent before the connection closes.
      `HTTP/1.1 422 Unprocessable\r\nContent-Length: 5000\r\n\r\n${words}`,
      // Chunked encoding that breaks after the first chunk.
      `HTTP/1.1 422 Unprocessable\r\nTransfer-Encoding: chunked\r\n\r\n${words.length.toString(16)}\r\n${words}\r\nZZ\r\n`,
    ];
    for (const answer of answers) {
      const port = await listen(
        net.createServer((socket) => {
          socket.on('error', () => {});
          socket.once('data', () => socket.end(answer));
        }),
      );
      const sender = await senderTo(port);
      try {
        const outcome = await sender.send(request(10_000));
        expect(outcome).toMatchObject({ kind: 'quarantine', status: 422 });
        expect((outcome as { reason: string }).reason).toMatch(
          /^HTTP 422: batch refused: miners\[0\]\.hashrate does not match the schema \.+$/,
        );
      } finally {
        await sender.close();
      }
    }
  });

  it('stops at a server that does not answer in HTTP (the wrong port) instead of retrying every batch', async () => {
    const port = await listen(
      net.createServer((socket) => {
        socket.on('error', () => {});
        socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.6\r\n'));
      }),
    );
    const sender = await senderTo(port);
    try {
      const outcome = await sender.send(request(10_000));
      expect(outcome).toMatchObject({ kind: 'endpoint', status: null });
      expect((outcome as { reason: string }).reason).toMatch(
        /^the server does not answer in HTTP: Response does not match the HTTP\/1\.1 protocol/,
      );
    } finally {
      await sender.close();
    }
  });

  it('does not decompress a brotli error body without bound', async () => {
    const bomb = brotliCompressSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
    const port = await listen(
      http.createServer((req, res) => {
        req.resume();
        res.writeHead(422, { 'content-encoding': 'br', 'content-length': bomb.length });
        res.end(bomb);
      }),
    );
    const sender = await senderTo(port);
    try {
      const outcome = await sender.send(request(10_000));
      expect(outcome).toMatchObject({ kind: 'quarantine', status: 422 });
      expect((outcome as { reason: string }).reason).toMatch(
        /^HTTP 422: \(br body over \d+ KiB once decompressed: not shown\)$/,
      );
    } finally {
      await sender.close();
    }
  });

  it('never shows part of an echoed key that the read cap cut in two', async () => {
    // 16 KiB is read: the key starts a few characters before the cut.
    const body = `${' '.repeat(16 * 1024 - 12)}${KEY} and more`;
    const port = await listen(
      http.createServer((req, res) => {
        req.resume();
        res.writeHead(422, { 'content-type': 'text/plain' });
        res.end(body);
      }),
    );
    const sender = await senderTo(port);
    try {
      const outcome = await sender.send(request(10_000));
      expect(outcome).toMatchObject({ kind: 'quarantine', status: 422 });
      expect((outcome as { reason: string }).reason).not.toContain(KEY.slice(0, 6));
    } finally {
      await sender.close();
    }
  });
});
