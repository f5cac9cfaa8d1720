// A fake miner API for tests: a real `net` server on 127.0.0.1:0 that answers each connection with a
// scripted behaviour, counts connections (to prove where retries happen) and records requests.
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach } from 'vitest';
import { MinerError } from '../../src/errors.js';
import type { Target } from '../../src/targets/types.js';

export type Bytes = Uint8Array | string;

export type Behaviour =
  /**
   * Reply after reading the request, then close. `nul` (default true) appends the terminator;
   * `close: false` leaves the socket open after the reply (until the client goes away).
   */
  | { kind: 'reply'; bytes: Bytes; nul?: boolean; close?: boolean }
  /** Send `bytes` as soon as the connection opens (an SSH or SMTP banner), then never close. */
  | { kind: 'greet'; bytes: Bytes }
  /** The reply in pieces of `chunkSize` bytes, `delayMs` apart. */
  | { kind: 'trickle'; bytes: Bytes; nul?: boolean; chunkSize?: number; delayMs?: number }
  /** The reply as the given segments, `delayMs` apart, then close. */
  | { kind: 'segments'; segments: Bytes[]; delayMs?: number }
  /** Read the request and never answer (the socket stays open until the client gives up). */
  | { kind: 'silent' }
  /** Stream `chunk` forever, honouring backpressure, until the client goes away. */
  | { kind: 'endless'; chunk?: Bytes }
  /** Read the request, send `bytes` if given, then reset the connection (RST). */
  | { kind: 'rst'; bytes?: Bytes }
  /** Close without sending a byte (how api-allow rejects a client). */
  | { kind: 'close' };

export type Script = Behaviour | ((request: string, connection: number) => Behaviour);

export interface FakeMiner {
  host: string;
  port: number;
  target: Target;
  /** Connections accepted so far. */
  readonly connections: number;
  /**
   * Most connections being served at the same time: from accept until the server wrote the last byte
   * of its reply (not until the close, which the server may see after the client's next connect).
   */
  readonly peakConcurrent: number;
  /** Request text of each connection that sent one, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

function toBuffer(bytes: Bytes): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
}

function withNul(bytes: Bytes, nul = true): Buffer {
  const buffer = toBuffer(bytes);
  return nul ? Buffer.concat([buffer, Buffer.from([0])]) : buffer;
}

/** Waits `ms`, or less if the socket closes first (so no timer outlives a test). */
function wait(ms: number, socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    socket.once('close', done);
  });
}

async function writeSlowly(
  socket: Socket,
  pieces: Buffer[],
  delayMs: number,
  answered: () => void,
): Promise<void> {
  for (let i = 0; i < pieces.length; i++) {
    if (socket.destroyed) return;
    // The last piece completes the reply: from here on the client may rightly open the next connection.
    if (i === pieces.length - 1) answered();
    socket.write(pieces[i] as Buffer);
    if (i < pieces.length - 1) await wait(delayMs, socket);
  }
  if (!socket.destroyed) socket.end();
}

function endless(socket: Socket, chunk: Buffer): void {
  const pump = (): void => {
    while (!socket.destroyed && socket.write(chunk)) {
      // keep writing until the kernel buffer is full
    }
    if (!socket.destroyed) socket.once('drain', pump);
  };
  pump();
}

/** `answered` is called just before the last byte of the reply is written. */
function act(socket: Socket, behaviour: Behaviour, answered: () => void): void {
  switch (behaviour.kind) {
    case 'reply':
      answered();
      if (behaviour.close === false) socket.write(withNul(behaviour.bytes, behaviour.nul));
      else socket.end(withNul(behaviour.bytes, behaviour.nul));
      return;
    case 'greet':
      answered();
      socket.write(toBuffer(behaviour.bytes));
      return;
    case 'trickle': {
      const all = withNul(behaviour.bytes, behaviour.nul);
      const size = behaviour.chunkSize ?? 1;
      const pieces: Buffer[] = [];
      for (let i = 0; i < all.length; i += size) pieces.push(all.subarray(i, i + size));
      void writeSlowly(socket, pieces, behaviour.delayMs ?? 1, answered);
      return;
    }
    case 'segments':
      void writeSlowly(socket, behaviour.segments.map(toBuffer), behaviour.delayMs ?? 20, answered);
      return;
    case 'silent':
      return;
    case 'endless':
      endless(socket, toBuffer(behaviour.chunk ?? '{"STATS":[{"x":"'.padEnd(16 * 1024, 'a')));
      return;
    case 'rst':
      answered();
      // A pause between the bytes and the reset: arriving together, libuv reports the reset as a
      // plain EOF after the data (it reads EOF on POLLHUP), and the client could not tell the two apart.
      if (behaviour.bytes !== undefined) {
        socket.write(toBuffer(behaviour.bytes));
        void wait(30, socket).then(() => socket.resetAndDestroy());
      } else {
        socket.resetAndDestroy();
      }
      return;
    case 'close':
      answered();
      socket.end();
      return;
  }
}

export interface FakeMinerOptions {
  /** Called as each connection opens and as its reply is complete (to count across several miners). */
  onOpen?: () => void;
  onClose?: () => void;
  /** The loopback address to listen on (default 127.0.0.1). */
  host?: string;
}

export async function startFakeMiner(script: Script, options: FakeMinerOptions = {}): Promise<FakeMiner> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  let connections = 0;
  let open = 0;
  let peakConcurrent = 0;
  const server: Server = createServer((socket) => {
    connections++;
    const connection = connections;
    open++;
    peakConcurrent = Math.max(peakConcurrent, open);
    options.onOpen?.();
    let serving = true;
    const answered = (): void => {
      if (!serving) return;
      serving = false;
      open--;
      options.onClose?.();
    };
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      answered();
      sockets.delete(socket);
    });
    const first = typeof script === 'function' ? null : script;
    if (first?.kind === 'close' || first?.kind === 'greet') {
      act(socket, first, answered);
      return;
    }
    // cgminer reads the request with a single recv(); so does this server.
    socket.once('data', (data) => {
      const request = data.toString('utf8');
      requests.push(request);
      act(socket, typeof script === 'function' ? script(request, connection) : script, answered);
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    target: { host, port, key: `${host}:${port}` },
    get connections() {
      return connections;
    },
    get peakConcurrent() {
      return peakConcurrent;
    },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A cgminer-style JSON reply with one data section. */
export function cgminerReply(
  section: string,
  records: Record<string, unknown>[],
  status: { STATUS?: string; Code?: number; Msg?: string } = {},
): string {
  return JSON.stringify({
    STATUS: [
      {
        STATUS: status.STATUS ?? 'S',
        When: 1700000000,
        Code: status.Code ?? 11,
        Msg: status.Msg ?? section,
        Description: 'cgminer 4.11.1',
      },
    ],
    [section]: records,
    id: 1,
  });
}

/** A port on 127.0.0.1 with nothing listening (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `startFakeMiner` for one test file: every miner a test started is closed after it. */
export function fakeMinersPerTest(): (script: Script, options?: FakeMinerOptions) => Promise<FakeMiner> {
  let started: FakeMiner[] = [];
  afterEach(async () => {
    await Promise.all(started.map((m) => m.close()));
    started = [];
  });
  return async (script, options) => {
    const miner = await startFakeMiner(script, options);
    started.push(miner);
    return miner;
  };
}

/** What a request came to: 'ok', or the MinerError it failed with (anything else is thrown). */
export async function minerOutcome(promise: Promise<unknown>): Promise<MinerError | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof MinerError) return error;
    throw error;
  }
}
