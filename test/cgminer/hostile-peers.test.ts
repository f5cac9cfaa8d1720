// Hostile peers on real sockets (127.0.0.1), one class per test, through the client: peers that never
// end their reply, greet with another protocol's banner, reset after sending, start with NULs, speak
// UTF-16, or answer with a reply that takes long to decode. Short timeouts keep every test quick.
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { createClient, MAX_REPLY_BYTES, MAX_TIMEOUT_MS } from '../../src/cgminer/client.js';
import { exchange } from '../../src/cgminer/connection.js';
import { MinerError, UsageError } from '../../src/errors.js';
import { fakeMinersPerTest } from '../support/fake-miner.js';

const GOOD =
  '{"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary","Description":"cgminer 4.11.1"}],"SUMMARY":[{"Elapsed":12}],"id":1}';

const REQUEST = new TextEncoder().encode('{"command":"summary"}');

const miner = fakeMinersPerTest();

const client = (overrides: Partial<Parameters<typeof createClient>[0]> = {}) =>
  createClient({ timeoutMs: 400, maxBytes: 1 << 20, retries: 0, sleep: async () => undefined, ...overrides });

/** The kind of the MinerError a request fails with, or 'ok'. */
async function outcome(promise: Promise<{ ok: boolean }>): Promise<string> {
  try {
    return (await promise).ok ? 'ok' : 'failed';
  } catch (error) {
    if (error instanceof MinerError) return error.kind;
    throw error;
  }
}

describe('peers that never end their reply', () => {
  it('takes a whole reply that came without NUL or close once the deadline passes', async () => {
    const m = await miner({ kind: 'reply', bytes: GOOD, nul: false, close: false });
    const reply = await client().request(m.target, 'summary');
    expect(reply.body.SUMMARY).toEqual([{ Elapsed: 12 }]);
    expect(reply.repairs).toEqual(['no end of reply']);
  });

  it('takes a whole text reply whose last | is followed by a line break, as one without', async () => {
    const text = 'STATUS=S,When=1,Code=11,Msg=Summary,Description=cgminer 4.11.1|SUMMARY,Elapsed=12|';
    for (const end of ['', '\n', '\r\n', ' \r\n']) {
      const m = await miner({ kind: 'reply', bytes: `${text}${end}`, nul: false, close: false });
      const reply = await client().request(m.target, 'summary');
      expect(reply.body.SUMMARY, JSON.stringify(end)).toEqual([{ Elapsed: 12 }]);
      expect(reply.repairs).toEqual(['no end of reply']);
    }
    // Still a timeout when the line break follows a record not ended by its |.
    const cut = await miner({ kind: 'reply', bytes: `${text.slice(0, -1)}\n`, nul: false, close: false });
    expect(await outcome(client().request(cut.target, 'summary'))).toBe('timeout');
  });

  it('leaves exchange() rejecting such a reply unless the caller asks to keep it', async () => {
    const m = await miner({ kind: 'reply', bytes: GOOD, nul: false, close: false });
    const options = {
      ...m.target,
      request: REQUEST,
      connectTimeoutMs: 300,
      timeoutMs: 300,
      maxBytes: 1 << 20,
    };
    const error = await exchange(options).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'timeout', requestSent: true });
    const kept = await exchange({ ...options, keepUnfinished: true });
    expect(Buffer.from(kept.bytes).toString()).toBe(GOOD);
    expect(kept.unfinished).toMatchObject({ kind: 'timeout' });
  });

  it('still times out on a prefix that stops coming', async () => {
    const m = await miner({ kind: 'reply', bytes: GOOD.slice(0, 40), nul: false, close: false });
    const error = await client()
      .request(m.target, 'summary')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'timeout', requestSent: true });
  });

  it('times out on a peer that trickles forever', async () => {
    const m = await miner({
      kind: 'trickle',
      bytes: `{"STATUS":[${'{'.repeat(1000)}`,
      nul: false,
      delayMs: 100,
    });
    expect(await outcome(client({ timeoutMs: 300 }).request(m.target, 'summary'))).toBe('timeout');
  });

  it('stops reading at the NUL when the peer keeps the socket open', async () => {
    const m = await miner({ kind: 'reply', bytes: GOOD, close: false });
    // A deadline far away: only the NUL can end this read in time for the test.
    expect(await outcome(client({ timeoutMs: 60_000 }).request(m.target, 'summary'))).toBe('ok');
  });
});

describe('peers that speak something else', () => {
  it('names a service that greets first and then waits (SSH, SMTP) as protocol', async () => {
    for (const banner of ['SSH-2.0-OpenSSH_9.6\r\n', '220 mail.example.com ESMTP Postfix\r\n']) {
      const m = await miner({ kind: 'greet', bytes: banner });
      expect(await outcome(client().request(m.target, 'summary')), banner).toBe('protocol');
    }
  });

  it('names a TLS server as protocol without waiting for the deadline', async () => {
    const hello = Buffer.from('160303005a0200005603036a0b1c2d3e4f50', 'hex');
    const m = await miner({ kind: 'reply', bytes: hello, nul: false, close: false });
    expect(await outcome(client({ timeoutMs: 60_000 }).request(m.target, 'summary'))).toBe('protocol');
  });

  it('ends a 3-byte reply that starts like half a byte-order mark at its NUL', async () => {
    const m = await miner({ kind: 'reply', bytes: Buffer.from([0xff, 0x41]), close: false });
    // A deadline far away: only the NUL can end this read in time for the test.
    expect(await outcome(client({ timeoutMs: 60_000 }).request(m.target, 'summary'))).toBe('protocol');
  });

  it('reads a reply after leading NULs, and one in UTF-16', async () => {
    const nuls = await miner({ kind: 'reply', bytes: Buffer.concat([Buffer.alloc(3), Buffer.from(GOOD)]) });
    expect((await client().request(nuls.target, 'summary')).repairs).toEqual(['leading NUL']);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(GOOD, 'utf16le'), Buffer.alloc(2)]);
    const wide = await miner({ kind: 'reply', bytes: utf16, nul: false, close: false });
    // Ends at its 16-bit NUL: the far deadline is never reached.
    const reply = await client({ timeoutMs: 60_000 }).request(wide.target, 'summary');
    expect(reply.body.SUMMARY).toEqual([{ Elapsed: 12 }]);
  });
});

describe('resets', () => {
  it('keeps a whole reply that was followed by a reset, and reports a reset mid-reply', async () => {
    const whole = await miner({ kind: 'rst', bytes: GOOD });
    expect(await outcome(client().request(whole.target, 'summary'))).toBe('ok');
    // Cut before its STATUS: a reset if the RST is seen as one, a parse error if libuv saw an EOF.
    const partial = await miner({ kind: 'rst', bytes: GOOD.slice(0, 14) });
    expect(['reset', 'parse']).toContain(await outcome(client().request(partial.target, 'summary')));
  });

  it('reports a reset before any byte as reset and a close before reading as empty_reply', async () => {
    const rst = await miner({ kind: 'rst' });
    expect(await outcome(client().request(rst.target, 'summary'))).toBe('reset');
    const closed = await miner({ kind: 'close' });
    expect(await outcome(client().request(closed.target, 'summary'))).toBe('empty_reply');
  });
});

describe('limits', () => {
  it('ends a connect the peer never completes at the connect timeout, saying no connection was made', async () => {
    // A listener that never accepts: a child process that listens, then blocks its event loop, so its
    // accept queue fills and further SYNs are dropped; connect() then hangs as on a lossy network.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const s = require('node:net').createServer();
         s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
           process.stdout.write(s.address().port + '\\n');
           Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000);
         });`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const fillers: Socket[] = [];
    try {
      const port = await new Promise<number>((resolve) =>
        child.stdout?.once('data', (data) => resolve(Number(String(data).trim()))),
      );
      for (let i = 0; i < 4; i++) fillers.push(connect(port, '127.0.0.1').on('error', () => {}));
      const target = { host: '127.0.0.1', port, key: `127.0.0.1:${port}` };
      // --timeout at or under the connect timeout (3 s) has one timer for both: it said "no reply
      // from" a host that never took the connection, as if its API had hung.
      for (const options of [{ timeoutMs: 300 }, { timeoutMs: 600, connectTimeoutMs: 300 }]) {
        const error = await client(options)
          .request(target, 'summary')
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ kind: 'timeout', requestSent: false });
        expect((error as MinerError).message).toMatch(/^no connection to 127\.0\.0\.1:\d+ within 300ms$/);
      }
    } finally {
      for (const filler of fillers) filler.destroy();
      child.kill('SIGKILL');
    }
  });

  it('ends a reply that is slow to decode at the deadline plus a grace, as a timeout', async () => {
    const reply = `{"STATUS":[{"STATUS":"S"}],"A":[${'1,'.repeat(50_000)}1]}`;
    const m = await miner({ kind: 'reply', bytes: reply });
    let calls = 0;
    // A clock that jumps an hour once decoding has begun: it runs long past its grace.
    const now = () => (calls++ < 2 ? 0 : 3_600_000);
    const error = await client({ now })
      .request(m.target, 'summary')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'timeout' });
    expect(String((error as Error).message)).toMatch(/decoding/);
    expect(await outcome(client().request(m.target, 'summary'))).toBe('ok');
  });

  it('by default times the decode on a monotonic clock: a wall-clock step forward is not a timeout', async () => {
    const reply = `{"STATUS":[{"STATUS":"S"}],"A":[${'1,'.repeat(50_000)}1]}`;
    const m = await miner({ kind: 'reply', bytes: reply });
    // The wall clock is stepped an hour forward at each read (NTP, an operator) once the
    // exchange has begun: the decode deadline must not notice.
    const real = Date.now();
    let reads = 0;
    const wall = vi.spyOn(Date, 'now').mockImplementation(() => real + 3_600_000 * reads++);
    try {
      const answer = await client().request(m.target, 'summary');
      expect(answer.ok).toBe(true);
    } finally {
      wall.mockRestore();
    }
  });

  it('reads a join whose members have an unreadable STATUS as parse, as for a single reply', async () => {
    const m = await miner(() => ({
      kind: 'reply',
      bytes:
        '{"summary":[{"STATUS":null,"SUMMARY":[{"Elapsed":5}]}],"pools":[{"STATUS":null,"POOLS":[]}],"id":1}',
    }));
    const joined = await client()
      .request(m.target, 'summary+pools')
      .catch((e: unknown) => e);
    expect(joined).toMatchObject({ kind: 'parse' });
    expect(String((joined as Error).message)).toMatch(/STATUS cannot be read \(null\)/);
    const members = await client().requestMany(m.target, ['summary', 'pools']);
    expect(members.summary).toMatchObject({ kind: 'parse' });
    expect(members.pools).toMatchObject({ kind: 'parse' });
  });

  it('decodes a reply that arrived in time though the process was busy past its deadline', async () => {
    const m = await miner({
      kind: 'reply',
      bytes: '{"STATUS":[{"STATUS":"S"}],"SUMMARY":[{"Elapsed":5}],"id":1}',
    });
    let calls = 0;
    // The clock jumps an hour between the reply's arrival and its decoding (a stalled event loop).
    const now = () => (calls++ < 1 ? 0 : 3_600_000);
    const reply = await client({ now }).request(m.target, 'summary');
    expect(reply.ok).toBe(true);
  });

  it('refuses timeouts and caps it cannot honour, before any traffic', () => {
    expect(() => client({ timeoutMs: MAX_TIMEOUT_MS + 1 })).toThrow(UsageError);
    expect(() => client({ maxBytes: MAX_REPLY_BYTES + 1 })).toThrow(UsageError);
    expect(() => client({ timeoutMs: Number.NaN })).toThrow(UsageError);
    expect(() => client({ timeoutMs: MAX_TIMEOUT_MS, maxBytes: MAX_REPLY_BYTES })).not.toThrow();
  });
});
