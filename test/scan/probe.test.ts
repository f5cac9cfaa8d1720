// The scanner's socket layer: the shared deadline FIFOs, the callback-driven probe (one connect, one
// request, one reply) against real servers on 127.0.0.1, and the gate's callback entry.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyBudget } from '../../src/cgminer/budget.js';
import { MinerError } from '../../src/errors.js';
import { DeadlineQueue } from '../../src/scan/deadlines.js';
import { AdaptiveGate, STARTS_PER_TURN } from '../../src/scan/gate.js';
import { Identifier, ScanFailure, ScanStopped } from '../../src/scan/identify.js';
import { type ProbeFailure, Prober } from '../../src/scan/probe.js';
import { startFakeMiner } from '../support/fake-miner.js';
import { closedPort, type Service, startService } from './support/services.js';

const REQUEST = new TextEncoder().encode('{"command":"version"}');
const VERSION_REPLY =
  '{"STATUS":[{"STATUS":"S","When":1,"Code":22,"Msg":"CGMiner versions"}],"VERSION":[{"CGMiner":"4.11.1"}],"id":1}';

function timeoutsActive(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('DeadlineQueue', () => {
  it('expires items in the order they were added, skips cancelled ones, and lets go of its timer', async () => {
    const expired: string[] = [];
    let clock = 0;
    const queue = new DeadlineQueue<string>(
      5,
      (item) => expired.push(item),
      () => clock,
    );
    const before = timeoutsActive();
    const tickets = ['a', 'b', 'c', 'd'].map((item) => queue.add(item));
    expect(queue.size).toBe(4);
    queue.cancel(tickets[1] as number);
    queue.cancel(tickets[1] as number); // twice is harmless
    expect(queue.size).toBe(3);
    clock = 5; // every deadline has passed by the injected clock
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        if (expired.length === 3) resolve();
        else setTimeout(poll, 1);
      };
      poll();
    });
    expect(expired).toEqual(['a', 'c', 'd']);
    expect(queue.size).toBe(0);
    queue.cancel(tickets[0] as number); // already expired: ignored
    expect(queue.size).toBe(0);
    expect(timeoutsActive()).toBe(before);
  });

  it('holds no timer once everything pending is cancelled', () => {
    const queue = new DeadlineQueue<number>(60_000, () => {
      throw new Error('nothing should expire');
    });
    const before = timeoutsActive();
    const tickets = [1, 2, 3].map((item) => queue.add(item));
    expect(timeoutsActive()).toBe(before + 1); // one timer for all three
    for (const ticket of tickets) queue.cancel(ticket);
    expect(timeoutsActive()).toBe(before);
  });

  it('takes items added while others expire, and keeps tickets valid across compaction', async () => {
    let clock = 0;
    const expired: number[] = [];
    const queue: DeadlineQueue<number> = new DeadlineQueue<number>(
      1,
      (item) => {
        expired.push(item);
        if (item === 0) queue.add(2000); // added from inside an expiry
      },
      () => clock,
    );
    const tickets = Array.from({ length: 2000 }, (_, i) => queue.add(i));
    for (let i = 1; i < 1999; i++) queue.cancel(tickets[i] as number);
    clock = 1;
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        if (expired.length === 2) resolve();
        else setTimeout(poll, 1);
      };
      poll();
    });
    expect(expired).toEqual([0, 1999]);
    const late = queue.add(3000);
    queue.cancel(tickets[0] as number); // long gone: ignored
    expect(queue.size).toBe(2); // 2000 and 3000
    clock = 2;
    await new Promise<void>((resolve) => {
      const poll = (): void => {
        if (expired.length === 4) resolve();
        else setTimeout(poll, 1);
      };
      poll();
    });
    expect(expired).toEqual([0, 1999, 2000, 3000]);
    queue.cancel(late);
    expect(queue.size).toBe(0);
  });
});

describe('Prober', () => {
  let miner: Server;
  let minerPort = 0;
  const minerSockets = new Set<Socket>();
  let empty: Service;
  let silent: Service;
  let refused = 0;

  beforeAll(async () => {
    miner = createServer((socket) => {
      minerSockets.add(socket);
      socket.on('close', () => minerSockets.delete(socket));
      socket.on('error', () => {});
      socket.once('data', () => socket.end(`${VERSION_REPLY}\0`));
    });
    await new Promise<void>((resolve) => miner.listen(0, '127.0.0.1', resolve));
    minerPort = (miner.address() as { port: number }).port;
    [empty, silent] = await Promise.all([startService('empty'), startService('silent')]);
    refused = await closedPort();
  });

  afterAll(async () => {
    for (const socket of minerSockets) socket.destroy();
    await new Promise<void>((resolve) => miner.close(() => resolve()));
    await Promise.all([empty.close(), silent.close()]);
  });

  function probe(prober: Prober, port: number, request = REQUEST) {
    return new Promise<{ error: ProbeFailure | null; text: string | null; synchronous: boolean }>(
      (resolve) => {
        let returned = false;
        prober.start('127.0.0.1', port, request, (error, bytes) =>
          resolve({
            error,
            text: bytes === null ? null : new TextDecoder().decode(bytes),
            synchronous: !returned,
          }),
        );
        returned = true;
      },
    );
  }

  const options = { connectTimeoutMs: 1000, replyTimeoutMs: 300, maxBytes: 1 << 20 };

  it('connects, sends the request at once, and reads the reply to its NUL', async () => {
    const prober = new Prober(options);
    const { error, text, synchronous } = await probe(prober, minerPort);
    expect(error).toBeNull();
    expect(text).toBe(`${VERSION_REPLY}\0`);
    expect(synchronous).toBe(false);
    expect(prober.inFlight).toBe(0);
  });

  it('takes a whole reply followed by a reset (RST instead of FIN) as the answer; half of one is a reset', async () => {
    const whole = await startFakeMiner({ kind: 'rst', bytes: VERSION_REPLY });
    const half = await startFakeMiner({ kind: 'rst', bytes: VERSION_REPLY.slice(0, 40) });
    try {
      const prober = new Prober(options);
      const got = await probe(prober, whole.port);
      expect(got.error).toBeNull();
      expect(got.text).toBe(VERSION_REPLY);
      const cut = await probe(prober, half.port);
      expect(cut.error?.error.kind).toBe('reset');
    } finally {
      await Promise.all([whole.close(), half.close()]);
    }
  });

  it('reports refusal, an empty close, silence and an oversized reply with the client kinds', async () => {
    const prober = new Prober(options);
    const before = timeoutsActive();
    const [refusal, closed, quiet] = await Promise.all([
      probe(prober, refused),
      probe(prober, empty.port),
      probe(prober, silent.port),
    ]);
    expect(refusal.synchronous).toBe(false);
    expect(refusal.error).toMatchObject({ kind: 'refused', requestSent: false });
    expect(closed.error).toMatchObject({ kind: 'empty_reply', requestSent: true });
    expect(quiet.error).toMatchObject({ kind: 'timeout', requestSent: true });
    // --reply-timeout counts from the connect: 300ms, not the connect timeout added to it.
    expect(quiet.error?.message).toMatch(/no reply from 127\.0\.0\.1:\d+ within 300ms/);
    // The client's error, with the socket error as its cause, is built when asked for.
    const error = refusal.error?.error;
    expect(error).toBeInstanceOf(MinerError);
    expect(error).toMatchObject({ kind: 'refused', requestSent: false });
    expect(error?.message).toMatch(/^connection refused by 127\.0\.0\.1:\d+$/);
    expect((error?.cause as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNREFUSED');
    expect(refusal.error?.error).toBe(error);

    const small = new Prober({ ...options, maxBytes: 16 });
    const large = await probe(small, minerPort);
    expect(large.error).toMatchObject({ kind: 'too_large', requestSent: true });
    expect(prober.inFlight + small.inFlight).toBe(0);
    expect(timeoutsActive()).toBeLessThanOrEqual(before); // every deadline timer is gone
  });

  it('takes a whole reply that never ended (no NUL, no close) at the deadline, as the client does', async () => {
    const whole = await startFakeMiner({ kind: 'reply', bytes: VERSION_REPLY, nul: false, close: false });
    const half = await startFakeMiner({
      kind: 'reply',
      bytes: VERSION_REPLY.slice(0, 60),
      nul: false,
      close: false,
    });
    try {
      const prober = new Prober(options);
      const [complete, cut] = await Promise.all([probe(prober, whole.port), probe(prober, half.port)]);
      expect(complete.error).toBeNull();
      expect(complete.text).toBe(VERSION_REPLY);
      // Half a reply is still waiting for the rest: at the deadline, a timeout.
      expect(cut.error).toMatchObject({ kind: 'timeout', requestSent: true });
    } finally {
      await Promise.all([whole.close(), half.close()]);
    }
  });

  it('hands on bytes that show a peer is no miner API at the deadline or a reset, as the client does', async () => {
    // An echo service that keeps the connection open, telnet option negotiation, a line then RST:
    // each sent what it is. A timeout or reset here said "no reply", where probe says `protocol`.
    const echo = await startFakeMiner({
      kind: 'reply',
      bytes: '{"command":"version"}',
      nul: false,
      close: false,
    });
    const telnet = await startFakeMiner({ kind: 'greet', bytes: Buffer.from([255, 253, 24, 255, 253, 32]) });
    const line = await startFakeMiner({ kind: 'rst', bytes: 'access denied\r\n' });
    try {
      const prober = new Prober(options);
      const got = await Promise.all([echo, telnet, line].map((server) => probe(prober, server.port)));
      for (const { error, text } of got) {
        expect(error).toBeNull();
        expect(text).not.toBe('');
      }
    } finally {
      await Promise.all([echo.close(), telnet.close(), line.close()]);
    }
  });

  it('takes a banner line (SSH) as the answer when it comes, not at the reply deadline', async () => {
    const ssh = await startService('ssh');
    try {
      // A deadline far past the test's own timeout: the banner must settle the probe by itself.
      const prober = new Prober({ ...options, replyTimeoutMs: 600_000 });
      const { error, text } = await probe(prober, ssh.port);
      expect(error).toBeNull();
      expect(text).toMatch(/^SSH-2\.0-/);
      expect(prober.inFlight).toBe(0);
    } finally {
      await ssh.close();
    }
  });

  it('cuts endless replies at their share of the budget of all replies in flight', async () => {
    const endless = await Promise.all([1, 2, 3, 4].map(() => startFakeMiner({ kind: 'endless' })));
    const slow = await startFakeMiner({ kind: 'trickle', bytes: VERSION_REPLY, chunkSize: 8, delayMs: 5 });
    try {
      // Each reply may hold 8 MiB alone; together, 256 KiB.
      const budget = new ReplyBudget(256 * 1024, 16 * 1024);
      const prober = new Prober({ ...options, maxBytes: 8 * 2 ** 20, budget });
      const outcomes = await Promise.all([...endless, slow].map((m) => probe(prober, m.port)));
      for (const outcome of outcomes.slice(0, 4)) {
        expect(outcome.error).toMatchObject({ kind: 'too_large', requestSent: true });
        expect(outcome.error?.message).toMatch(/cut at \d+ bytes: the replies in flight hold over/);
      }
      expect(outcomes[4]?.error).toBeNull();
      expect(outcomes[4]?.text).toBe(`${VERSION_REPLY}\0`);
      expect(budget.heldBytes).toBe(0);
    } finally {
      await Promise.all([...endless, slow].map((m) => m.close()));
    }
  });
});

describe('AdaptiveGate.enter', () => {
  it('starts at once while a slot is free, queues the rest, and hands slots over on release', async () => {
    const gate = new AdaptiveGate(2);
    const started: number[] = [];
    for (let i = 0; i < 4; i++) gate.enter(() => started.push(i));
    expect(started).toEqual([0, 1]); // synchronous for the first two
    expect(gate.inUse).toBe(2);
    gate.release();
    expect(started).toEqual([0, 1, 2]);
    gate.release();
    gate.release();
    expect(started).toEqual([0, 1, 2, 3]);
    gate.release();
    expect(gate.inUse).toBe(0);
  });

  it('lets the next connection of an endpoint under way go before endpoints not yet started', () => {
    const gate = new AdaptiveGate(1);
    const started: string[] = [];
    gate.enter(() => started.push('first'));
    gate.enter(() => started.push('new 1'));
    gate.enter(() => started.push('new 2'));
    gate.enter(() => started.push('follow-up'), true);
    expect(started).toEqual(['first']);
    gate.release();
    gate.release();
    gate.release();
    expect(started).toEqual(['first', 'follow-up', 'new 1', 'new 2']);
    gate.release();
    // With a slot free and nobody waiting, a resuming start goes at once too.
    gate.enter(() => started.push('retry'), true);
    expect(started).toHaveLength(5);
    gate.release();
  });

  it('keeps to its share of starts per turn of the event loop', async () => {
    const gate = new AdaptiveGate(10_000);
    let started = 0;
    for (let i = 0; i < STARTS_PER_TURN * 2 + 5; i++) gate.enter(() => started++);
    expect(started).toBe(STARTS_PER_TURN);
    await nextTurn();
    expect(started).toBe(STARTS_PER_TURN * 2);
    await nextTurn();
    expect(started).toBe(STARTS_PER_TURN * 2 + 5);
  });
});

/** An identifier with one connection at a time, 1 s deadlines and no retries. */
const oneAtATime = () =>
  new Identifier({
    gate: new AdaptiveGate(1),
    connectTimeoutMs: 1000,
    replyTimeoutMs: 1000,
    maxBytes: 1 << 20,
    retries: 0,
    now: Date.now,
    sleep: async () => {},
    random: () => 0.5,
  });

describe('Identifier', () => {
  it('asks no follow-up of a peer whose replies end only at the deadline (each would cost one)', async () => {
    // A whole `version` that never ends (no NUL, no close) is taken at --reply-timeout; it names no
    // model, so a follow-up would be asked and run to the deadline as well, then the next: four
    // reply timeouts for one endpoint. The audit's rule, kept here too: after a read that ran to its
    // deadline the rest are not sent.
    const endless = await startFakeMiner({ kind: 'reply', bytes: VERSION_REPLY, nul: false, close: false });
    const partly = await startFakeMiner((request) =>
      request.includes('"version"')
        ? { kind: 'reply', bytes: VERSION_REPLY }
        : {
            kind: 'reply',
            bytes: VERSION_REPLY.replace('CGMiner versions', 'Device Details'),
            nul: false,
            close: false,
          },
    );
    try {
      const identifier = oneAtATime();
      const [first, second] = await Promise.all(
        [endless.port, partly.port].map((port) =>
          identifier.identify({ host: '127.0.0.1', port, key: `127.0.0.1:${port}` }),
        ),
      );
      expect(first?.outcome).toBe('miner');
      expect(endless.connections).toBe(1);
      // `version` ended; the first follow-up ran to its deadline: no second one.
      expect(second?.outcome).toBe('miner');
      expect(partly.connections).toBe(2);
    } finally {
      await endless.close();
      await partly.close();
    }
  });

  it('stop() ends the open exchanges at once and opens no queued connection', async () => {
    const empty = await startService('empty');
    try {
      const identifier = oneAtATime();
      const target = { host: '127.0.0.1', port: empty.port, key: `127.0.0.1:${empty.port}` };
      const outcomes: string[] = [];
      await new Promise<void>((resolve) => {
        for (let i = 0; i < 5; i++) {
          identifier.identifyEach(target, (result) => {
            if (i === 0) identifier.stop(); // the first one finished: the scan gives up
            outcomes.push(result instanceof ScanStopped ? 'stopped' : 'result');
            if (outcomes.length === 5) resolve();
          });
        }
      });
      // The first one's slot went to the second before its result arrived: that exchange is cut
      // short (not checked), and the three queued ones never connect.
      expect(outcomes.sort()).toEqual(['result', 'stopped', 'stopped', 'stopped', 'stopped']);
      expect(empty.accepted).toBeLessThanOrEqual(2);
    } finally {
      await empty.close();
    }
  });

  it('says a reply was incomplete, with its bytes, where part of one came before the deadline', async () => {
    const half = await startFakeMiner({
      kind: 'reply',
      bytes: VERSION_REPLY.slice(0, 60),
      nul: false,
      close: false,
    });
    const silent = await startService('silent');
    try {
      const identifier = oneAtATime();
      const [cut, quiet] = await Promise.all(
        [half.port, silent.port].map((port) =>
          identifier.identify({ host: '127.0.0.1', port, key: `127.0.0.1:${port}` }),
        ),
      );
      expect(cut).toMatchObject({ outcome: 'open', kind: 'timeout' });
      expect(cut?.reason).toBe('connected, but the reply was incomplete after 1000ms (60 bytes)');
      expect(quiet?.reason).toBe('connected, but no reply within 1000ms');
    } finally {
      await Promise.all([half.close(), silent.close()]);
    }
  });

  it('ends an endpoint whose identification throws as a failure, not an uncaught exception', async () => {
    const server = createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.end(`${VERSION_REPLY}\0`));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const identifier = oneAtATime();
      // Stands for a bug in building the result, after the follow-up (the model is not in `version`).
      (identifier as unknown as { minerResult: () => never }).minerResult = () => {
        throw new Error('a bug in building the result');
      };
      const result = await new Promise((resolve) =>
        identifier.identifyEach({ host: '127.0.0.1', port, key: `127.0.0.1:${port}` }, resolve),
      );
      expect(result).toBeInstanceOf(ScanFailure);
      expect(((result as ScanFailure).error as Error).message).toBe('a bug in building the result');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
