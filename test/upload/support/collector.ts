// A real HTTP collector on 127.0.0.1:0 that records every request (decompressed, headers kept) and
// answers what each test tells it to. Receivers dedupe on batch_id; `accepted` does the same.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { UploadBatchBody } from '../../../src/upload/batch.js';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  body: UploadBatchBody | null;
}

export type Answer =
  | { status: number; headers?: Record<string, string>; body?: string | Buffer }
  | 'hang' // never answer
  | 'destroy'; // drop the connection without an answer

export type Handler = (request: ReceivedRequest, index: number) => Answer;

export interface Collector {
  url: string;
  port: number;
  received: ReceivedRequest[];
  /** batch_id → miners, for every batch answered 2xx (each counted once, like a real receiver). */
  accepted: Map<string, number>;
  handler: Handler;
  /** Writes an unsolicited `100 Continue` as each request arrives, before its answer. */
  sendsContinue: boolean;
  /** Resolves when `count` requests have arrived (bounded by the test timeout). */
  waitFor(count: number): Promise<void>;
  close(): Promise<void>;
}

export const ok: Handler = () => ({ status: 200, body: '{"ok":true}' });

export async function startCollector(
  handler: Handler = ok,
  options: { tls?: { key: string; cert: string }; host?: string } = {},
): Promise<Collector> {
  const sockets = new Set<Socket>();
  const waiters: { count: number; resolve: () => void }[] = [];
  const collector: Collector = {
    url: '',
    port: 0,
    received: [],
    accepted: new Map(),
    handler,
    sendsContinue: false,
    waitFor: (count) =>
      new Promise((resolve) => {
        if (collector.received.length >= count) resolve();
        else waiters.push({ count, resolve });
      }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const onRequest = (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
  ): void => {
    if (collector.sendsContinue) res.writeContinue();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: UploadBatchBody | null = null;
      try {
        body = JSON.parse(gunzipSync(raw).toString('utf8')) as UploadBatchBody;
      } catch {
        body = null;
      }
      const request: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        raw,
        body,
      };
      const index = collector.received.push(request) - 1;
      for (const waiter of waiters.splice(0)) {
        if (collector.received.length >= waiter.count) waiter.resolve();
        else waiters.push(waiter);
      }
      const answer = collector.handler(request, index);
      if (answer === 'hang') return;
      if (answer === 'destroy') {
        req.socket.destroy();
        return;
      }
      if (answer.status >= 200 && answer.status < 300 && body)
        collector.accepted.set(body.batch_id, body.miners.length);
      res.writeHead(answer.status, answer.headers ?? { 'content-type': 'application/json' });
      res.end(answer.body ?? '');
    });
  };
  let server: Server;
  if (options.tls) {
    const { createServer: createHttpsServer } = await import('node:https');
    server = createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, onRequest);
  } else {
    server = createServer(onRequest);
  }
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  collector.port = address.port;
  collector.url = `${options.tls ? 'https' : 'http'}://${host}:${address.port}`;
  return collector;
}
