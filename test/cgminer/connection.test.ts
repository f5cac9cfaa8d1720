// One failure class per test, each against a real server on 127.0.0.1: what arrives in pieces,
// never arrives, never ends, or is not a cgminer reply at all.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/cgminer/client.js';
import { exchange, kindForSocketError } from '../../src/cgminer/connection.js';
import { FrameReader, firstFrame } from '../../src/cgminer/frame.js';
import { HashctlError, MinerError } from '../../src/errors.js';
import { cgminerReply, closedPort, type FakeMiner, startFakeMiner } from '../support/fake-miner.js';

const SAMPLES = new URL('../../../shared/protocol/samples/', import.meta.url);
const sample = (name: string) => readFileSync(new URL(name, SAMPLES));
const REQUEST = new TextEncoder().encode('{"command":"summary"}');

let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all(miners.map((miner) => miner.close()));
  miners = [];
});
async function miner(...args: Parameters<typeof startFakeMiner>): Promise<FakeMiner> {
  const started = await startFakeMiner(...args);
  miners.push(started);
  return started;
}

const client = (overrides: Partial<Parameters<typeof createClient>[0]> = {}) =>
  createClient({
    timeoutMs: 2000,
    maxBytes: 1 << 20,
    retries: 0,
    sleep: async () => undefined,
    ...overrides,
  });

async function failure(promise: Promise<unknown>): Promise<MinerError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MinerError);
  return error as MinerError;
}

describe('connection: replies that arrive in pieces', () => {
  it('reassembles a trickled reply', async () => {
    const bytes = sample('antminer-l3plus__stats.txt');
    const m = await miner({ kind: 'trickle', bytes, chunkSize: 7, delayMs: 1 });
    const reply = await client().request(m.target, 'stats');
    expect(reply.repairs).toEqual(['glued objects']);
    expect((reply.body.STATS as unknown[]).length).toBe(2);
    expect(m.requests).toEqual(['{"command":"stats"}']);
  });

  it('reassembles a reply split into segments, the NUL alone in the last one', async () => {
    const bytes = sample('antminer-s19pro_2022-12__summary.json');
    const m = await miner({
      kind: 'segments',
      segments: [bytes.subarray(0, 100), bytes.subarray(100, 101), bytes.subarray(101), new Uint8Array([0])],
    });
    const reply = await client().request(m.target, 'summary');
    expect(reply.body).toEqual(JSON.parse(bytes.toString('utf8')));
  });

  it('reads to EOF when no NUL comes', async () => {
    const m = await miner({
      kind: 'reply',
      bytes: sample('whatsminer-m31s_2020-12__summary.json'),
      nul: false,
    });
    const result = await exchange({
      ...m.target,
      request: REQUEST,
      connectTimeoutMs: 1000,
      timeoutMs: 2000,
      maxBytes: 1 << 20,
    });
    expect(result.terminated).toBe(false);
    expect(result.bytes.length).toBe(sample('whatsminer-m31s_2020-12__summary.json').length);
  });

  it('stops at the NUL without waiting for the peer to close', async () => {
    const reply = cgminerReply('SUMMARY', [{ Elapsed: 1 }]);
    // The reply and its NUL, then junk, and the socket is left open.
    const m = await miner({
      kind: 'segments',
      segments: [`${reply}\0{"junk"`, 'never sent in time'],
      delayMs: 60_000,
    });
    const result = await exchange({
      ...m.target,
      request: REQUEST,
      connectTimeoutMs: 1000,
      timeoutMs: 30_000,
      maxBytes: 1 << 20,
    });
    expect(result.terminated).toBe(true);
  });
});

describe('connection: what follows the end of a reply', () => {
  it('is not counted against --max-bytes when it comes in the same read (a second frame, §15)', async () => {
    const reply = cgminerReply('SUMMARY', [{ Elapsed: 1 }]);
    // One write: the reply, its NUL, then a second frame that takes the read past the cap.
    const m = await miner({ kind: 'reply', bytes: `${reply}\0${'{"STATUS":"E"}'.padEnd(3000, ' ')}` });
    const maxBytes = reply.length + 500;
    const answered = await client({ maxBytes }).request(m.target, 'summary');
    expect(answered.ok).toBe(true);
    expect(answered.body.SUMMARY).toEqual([{ Elapsed: 1 }]);
    // A reply that itself runs past the cap is still too_large, whatever follows.
    const long = await miner({ kind: 'reply', bytes: `${reply}${' '.repeat(600)}` });
    expect((await failure(client({ maxBytes }).request(long.target, 'summary'))).kind).toBe('too_large');
  });

  it('takes a reply of exactly --max-bytes bytes: its NUL frames the reply and is not part of it', async () => {
    const reply = cgminerReply('SUMMARY', [{ Elapsed: 3 }]);
    const maxBytes = Buffer.byteLength(reply);
    // As one read, and with the NUL alone in a read of its own.
    const whole = await miner({ kind: 'reply', bytes: reply });
    expect((await client({ maxBytes }).request(whole.target, 'summary')).ok).toBe(true);
    const apart = await miner({ kind: 'segments', segments: [reply, '\0'], delayMs: 20 });
    expect((await client({ maxBytes }).request(apart.target, 'summary')).ok).toBe(true);
    // One byte more is over the cap, as the same reply closed without a NUL is.
    const over = await miner({ kind: 'reply', bytes: `${reply} ` });
    expect((await failure(client({ maxBytes }).request(over.target, 'summary'))).kind).toBe('too_large');
    const closed = await miner({ kind: 'reply', bytes: reply, nul: false });
    expect((await client({ maxBytes }).request(closed.target, 'summary')).ok).toBe(true);
  });

  it('holds in UTF-16 too: the 16-bit NUL within the cap ends the reply', async () => {
    const reply = cgminerReply('SUMMARY', [{ Elapsed: 2 }]);
    const utf16 = Buffer.concat([Buffer.from(reply, 'utf16le'), Buffer.alloc(2), Buffer.alloc(3000, 0x41)]);
    const m = await miner({ kind: 'reply', bytes: utf16, nul: false });
    const answered = await client({ maxBytes: reply.length * 2 + 100 }).request(m.target, 'summary');
    expect(answered.body.SUMMARY).toEqual([{ Elapsed: 2 }]);
  });
});

describe('FrameReader under a cap', () => {
  it('is complete exactly when a terminated frame fits the cap, whatever the chunks', () => {
    const byte = fc.oneof(
      fc.constant(0),
      fc.constant(0x7b),
      fc.constant(0xff),
      fc.integer({ min: 0, max: 255 }),
    );
    fc.assert(
      fc.property(
        fc.array(byte, { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 10 }),
        // From SNIFF_BYTES up: below it the reader may still be waiting to tell UTF-16 apart.
        fc.integer({ min: 4, max: 45 }),
        (values, sizes, cap) => {
          const all = Uint8Array.from(values);
          const reader = new FrameReader(cap);
          let state = reader.push(all.subarray(0, sizes[0]));
          for (let at = sizes[0] as number, k = 1; at < all.length && state === 'reading'; k++) {
            const size = sizes[k % sizes.length] as number;
            state = reader.push(all.subarray(at, at + size));
            at += size;
          }
          const kept = reader.bytes();
          expect(kept.length).toBeLessThanOrEqual(cap);
          // A UTF-8 NUL may sit just past the cap (a reply of exactly `cap` bytes); UTF-16's may not.
          const utf8 = firstFrame(all).encoding === 'utf-8';
          const fits = firstFrame(all.subarray(0, utf8 ? cap + 1 : cap)).terminated;
          if (state === 'complete') {
            expect(Array.from(firstFrame(kept).bytes)).toEqual(Array.from(firstFrame(all).bytes));
          }
          expect(state === 'too_large').toBe(all.length > cap && !fits);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('connection: failure classes', () => {
  it('times out on silence after accept, with the request already sent', async () => {
    const m = await miner({ kind: 'silent' });
    const error = await failure(client({ timeoutMs: 300 }).request(m.target, 'summary'));
    expect(error.kind).toBe('timeout');
    expect(error.requestSent).toBe(true);
    expect(m.connections).toBe(1);
  });

  it('aborts an endless reply at the cap and keeps no more than the cap', async () => {
    const m = await miner({ kind: 'endless' });
    let kept = -1;
    const maxBytes = 256 * 1024;
    const error = await failure(
      client({ maxBytes }).request(m.target, 'stats', {
        onRaw: (bytes) => {
          kept = bytes.length;
        },
      }),
    );
    expect(error.kind).toBe('too_large');
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(maxBytes);
  });

  it('reports random bytes as protocol', async () => {
    let seed = 7;
    const noise = new Uint8Array(512).map(() => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 0x80 + (seed % 0x7f); // high bytes: never a NUL, never `{`
    });
    const m = await miner({ kind: 'reply', bytes: noise });
    expect((await failure(client().request(m.target, 'summary'))).kind).toBe('protocol');
  });

  it('reports a reset connection as reset', async () => {
    const m = await miner({ kind: 'rst' });
    expect((await failure(client().request(m.target, 'summary'))).kind).toBe('reset');
  });

  it('reports nothing listening as refused, with nothing sent', async () => {
    const port = await closedPort();
    const error = await failure(
      client().request({ host: '127.0.0.1', port, key: `127.0.0.1:${port}` }, 'summary'),
    );
    expect(error.kind).toBe('refused');
    expect(error.requestSent).toBe(false);
  });

  it('reports an HTTP server as protocol', async () => {
    const server = createHttpServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const error = await failure(
        client().request({ host: '127.0.0.1', port, key: `127.0.0.1:${port}` }, 'summary'),
      );
      expect(error.kind).toBe('protocol');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('reports a close with zero bytes as empty_reply', async () => {
    const m = await miner({ kind: 'close' });
    expect((await failure(client().request(m.target, 'summary'))).kind).toBe('empty_reply');
  });

  it('maps errno codes to kinds (no DNS or foreign address is ever contacted by tests)', () => {
    expect(kindForSocketError('ECONNREFUSED', false)).toBe('refused');
    expect(kindForSocketError('ECONNRESET', true)).toBe('reset');
    expect(kindForSocketError('EPIPE', true)).toBe('reset');
    for (const code of ['EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']) {
      expect(kindForSocketError(code, false)).toBe('unreachable');
    }
    expect(kindForSocketError('ETIMEDOUT', false)).toBe('timeout');
    expect(kindForSocketError('EWHATEVER', true)).toBe('reset');
    expect(kindForSocketError(undefined, false)).toBe('unreachable');
  });

  it('reports a decoded STATUS=E as api with code and message', async () => {
    const m = await miner({
      kind: 'reply',
      bytes: cgminerReply('X', [], { STATUS: 'E', Code: 14, Msg: 'Invalid command' }),
    });
    const error = await failure(client().request(m.target, 'summary'));
    expect(error.toJSON()).toMatchObject({ kind: 'api', code: 14, msg: 'Invalid command', attempts: 1 });
  });

  it('reports access denied (code 45) as denied', async () => {
    const m = await miner({
      kind: 'reply',
      bytes: cgminerReply('X', [], { STATUS: 'E', Code: 45, Msg: "Access denied to 'switchpool' command" }),
    });
    const error = await failure(client().request(m.target, 'switchpool', { parameter: '1' }));
    expect(error.toJSON()).toMatchObject({ kind: 'denied', code: 45 });
    expect(m.requests).toEqual(['{"command":"switchpool","parameter":"1"}']);
  });

  it('returns error replies instead with allowErrorStatus', async () => {
    const m = await miner({
      kind: 'reply',
      bytes: cgminerReply('X', [], { STATUS: 'E', Code: 45, Msg: 'Access denied' }),
    });
    const reply = await client().request(m.target, 'privileged', { allowErrorStatus: true });
    expect(reply).toMatchObject({ ok: false, status: { code: 45 } });
  });

  it('honours an abort signal', async () => {
    const m = await miner({ kind: 'silent' });
    const controller = new AbortController();
    const pending = client({ timeoutMs: 30_000 }).request(m.target, 'summary', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HashctlError);
    expect((error as HashctlError).kind).toBe('interrupted');
  });

  it('validates its options when built', () => {
    expect(() => client({ timeoutMs: 0 })).toThrow(/timeout/);
    expect(() => client({ maxBytes: -1 })).toThrow(/max-bytes/);
    expect(() => client({ retries: 1.5 })).toThrow(/retries/);
  });
});

describe('exchange reads many sockets at once', () => {
  it('keeps each reply whole and its own while chunks of many replies interleave', async () => {
    // Sockets share one read buffer: a chunk kept as a view instead of a copy would be overwritten
    // by another socket's next read. Distinct 48 KB replies in 4 KB pieces, all in flight together.
    const replies = Array.from({ length: 12 }, (_, i) =>
      JSON.stringify({
        STATUS: [{ STATUS: 'S', Code: 11, Msg: 'Summary' }],
        pad: String(i % 10).repeat(48_000),
        id: 1,
      }),
    );
    const servers = await Promise.all(
      replies.map((bytes) => miner({ kind: 'trickle', bytes, chunkSize: 4096, delayMs: 1 })),
    );
    const results = await Promise.all(
      servers.map((server) =>
        exchange({
          host: '127.0.0.1',
          port: server.target.port,
          request: REQUEST,
          connectTimeoutMs: 2000,
          timeoutMs: 10_000,
          maxBytes: 1 << 20,
        }),
      ),
    );
    results.forEach((result, i) => {
      expect(Buffer.from(result.bytes).toString('utf8').replace(/\0$/, '')).toBe(replies[i]);
    });
  });
});

describe('exchange when the process was busy past the deadline', () => {
  /** Blocks this process for `ms` (what decoding one hostile reply of megabytes does to a collect). */
  const busy = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // spin
    }
  };

  it('reads a reply that arrived in time before calling it a timeout', async () => {
    const reply = cgminerReply('SUMMARY', [{ Elapsed: 1 }]);
    // The miner answers at once; then, before this process reads the answer, it is busy for three
    // deadlines (another miner's reply being decoded). The answer waits in the socket meanwhile.
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.end(`${reply}\0`);
        busy(600);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await exchange({
        host: '127.0.0.1',
        port,
        request: REQUEST,
        connectTimeoutMs: 200,
        timeoutMs: 200,
        maxBytes: 1 << 20,
      });
      expect(new TextDecoder().decode(result.bytes)).toBe(`${reply}\0`);
      expect(result.terminated).toBe(true);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('takes a connection made in time as made, however late the process sees it', async () => {
    const reply = cgminerReply('SUMMARY', [{ Elapsed: 1 }]);
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end(`${reply}\0`));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const pending = exchange({
        host: '127.0.0.1',
        port,
        request: REQUEST,
        connectTimeoutMs: 100,
        timeoutMs: 2000,
        maxBytes: 1 << 20,
      });
      // The connection is made by the kernel while this process is busy past the connect deadline.
      busy(400);
      const result = await pending;
      expect(new TextDecoder().decode(result.bytes)).toBe(`${reply}\0`);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
