// The client above the connection: where retries happen (counted at the server), one connection per
// miner at a time, the global socket cap, and multi-command joins with their fallback.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/cgminer/client.js';
import { KeyedQueue, Semaphore } from '../../src/cgminer/limiter.js';
import { MinerError } from '../../src/errors.js';
import {
  cgminerReply,
  type FakeMiner,
  type FakeMinerOptions,
  type Script,
  startFakeMiner,
} from '../support/fake-miner.js';

let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
});
async function miner(script: Script, options?: FakeMinerOptions): Promise<FakeMiner> {
  const started = await startFakeMiner(script, options);
  miners.push(started);
  return started;
}
const client = (overrides: Partial<Parameters<typeof createClient>[0]> = {}) =>
  createClient({
    timeoutMs: 2000,
    maxBytes: 1 << 20,
    retries: 2,
    sleep: async () => undefined,
    ...overrides,
  });

const SECTION: Record<string, string> = {
  summary: 'SUMMARY',
  pools: 'POOLS',
  version: 'VERSION',
  devs: 'DEVS',
  stats: 'STATS',
};

/** Answers like upstream cgminer, joins included; `deny` lists commands refused with E/45. */
function cgminer(deny: string[] = []): Script {
  const single = (command: string) =>
    deny.includes(command)
      ? cgminerReply('X', [], { STATUS: 'E', Code: 45, Msg: `Access denied to '${command}' command` })
      : cgminerReply(SECTION[command] ?? command.toUpperCase(), [{ name: command }], {
          Code: 11,
          Msg: command,
        });
  return (request) => {
    const { command } = JSON.parse(request) as { command: string };
    if (!command.includes('+')) return { kind: 'reply', bytes: single(command) };
    const members = command.split('+').map((name) => `"${name}":[${single(name)}]`);
    return { kind: 'reply', bytes: `{${members.join(',')},"id":1}` };
  };
}

/** Old cgminer 3.7.2: a join is an invalid command. */
function noJoins(): Script {
  const inner = cgminer();
  return (request, n) => {
    const { command } = JSON.parse(request) as { command: string };
    if (command.includes('+')) {
      return {
        kind: 'reply',
        bytes: cgminerReply('X', [], { STATUS: 'E', Code: 14, Msg: 'Invalid command' }),
      };
    }
    return (inner as (r: string, n: number) => ReturnType<Exclude<Script, { kind: string }>>)(request, n);
  };
}

describe('retries, counted at the server', () => {
  it('retries a read after an empty reply, then gives up with attempts recorded', async () => {
    const m = await miner({ kind: 'close' });
    const error = (await client({ retries: 2 })
      .request(m.target, 'summary')
      .catch((e: unknown) => e)) as MinerError;
    expect(error).toMatchObject({ kind: 'empty_reply', attempts: 3 });
    expect(m.connections).toBe(3);
  });

  it('succeeds on the retry after a reset', async () => {
    const m = await miner((_request, n) =>
      n === 1 ? { kind: 'rst' } : { kind: 'reply', bytes: cgminerReply('SUMMARY', [{ Elapsed: 5 }]) },
    );
    const reply = await client().request(m.target, 'summary');
    expect(reply.body.SUMMARY).toEqual([{ Elapsed: 5 }]);
    expect(m.connections).toBe(2);
  });

  it('never sends a write twice once it left, whatever came back', async () => {
    for (const behaviour of [
      { kind: 'close' },
      { kind: 'rst' },
      { kind: 'reply', bytes: '{"STATUS":[{"STA' },
    ] as const) {
      const m = await miner(behaviour);
      const error = (await client({ retries: 3 })
        .request(m.target, 'switchpool', { parameter: '1' })
        .catch((e: unknown) => e)) as MinerError;
      expect(error).toBeInstanceOf(MinerError);
      expect(error.requestSent).toBe(true);
      expect(m.connections).toBe(1);
    }
  });

  it('never retries a write that timed out after sending', async () => {
    const m = await miner({ kind: 'silent' });
    const error = (await client({ retries: 3, timeoutMs: 200 })
      .request(m.target, 'restart')
      .catch((e: unknown) => e)) as MinerError;
    expect(error.kind).toBe('timeout');
    expect(m.connections).toBe(1);
  });

  it('treats an unknown command as a write', async () => {
    const m = await miner({ kind: 'close' });
    await client({ retries: 3 })
      .request(m.target, 'frobnicate')
      .catch(() => undefined);
    expect(m.connections).toBe(1);
  });

  it('does not retry a reply that is not cgminer (protocol) or an error status', async () => {
    const http = await miner({ kind: 'reply', bytes: 'HTTP/1.0 400 Bad Request\r\n\r\n', nul: false });
    await client({ retries: 3 })
      .request(http.target, 'summary')
      .catch(() => undefined);
    expect(http.connections).toBe(1);
    const api = await miner({
      kind: 'reply',
      bytes: cgminerReply('X', [], { STATUS: 'E', Code: 14, Msg: 'Invalid command' }),
    });
    await client({ retries: 3 })
      .request(api.target, 'summary')
      .catch(() => undefined);
    expect(api.connections).toBe(1);
  });

  it('retries a read whose reply did not parse (a truncated read)', async () => {
    const m = await miner((_r, n) =>
      n === 1
        ? { kind: 'reply', bytes: '{"STA', nul: false }
        : { kind: 'reply', bytes: cgminerReply('SUMMARY', []) },
    );
    const reply = await client().request(m.target, 'summary');
    expect(reply.ok).toBe(true);
    expect(m.connections).toBe(2);
  });
});

describe('connection limits', () => {
  it('holds at most one connection per miner', async () => {
    const m = await miner({
      kind: 'trickle',
      bytes: cgminerReply('SUMMARY', [{ a: 1 }]),
      chunkSize: 16,
      delayMs: 2,
    });
    const c = client();
    const replies = await Promise.all(Array.from({ length: 6 }, () => c.request(m.target, 'summary')));
    expect(replies.every((r) => r.ok)).toBe(true);
    expect(m.connections).toBe(6);
    expect(m.peakConcurrent).toBe(1);
  });

  it('caps open sockets across miners at the configured concurrency', async () => {
    let open = 0;
    let peak = 0;
    const track = {
      onOpen: () => {
        open++;
        peak = Math.max(peak, open);
      },
      onClose: () => {
        open--;
      },
    };
    const group = await Promise.all(
      Array.from({ length: 5 }, () =>
        miner({ kind: 'segments', segments: [cgminerReply('SUMMARY', [])], delayMs: 20 }, track),
      ),
    );
    const c = client({ concurrency: 2 });
    await Promise.all(group.map((m) => c.request(m.target, 'summary')));
    expect(group.every((m) => m.connections === 1)).toBe(true);
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBeGreaterThanOrEqual(1);
  });

  it('queues per key in order and forgets idle keys', async () => {
    const queue = new KeyedQueue();
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        queue.run('a', async () => {
          order.push(n);
          await new Promise((resolve) => setTimeout(resolve, 5));
          order.push(-n);
        }),
      ),
    );
    expect(order).toEqual([1, -1, 2, -2, 3, -3]);
    expect(queue.size).toBe(0);
  });

  it('hands semaphore slots straight to waiters without overshoot', async () => {
    const semaphore = new Semaphore(2);
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        semaphore.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await Promise.resolve();
          active--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(semaphore.inUse).toBe(0);
  });
});

describe('requestMany', () => {
  it('joins read commands into one request and splits the members', async () => {
    const m = await miner(cgminer());
    const results = await client().requestMany(m.target, ['summary', 'pools', 'version']);
    expect(Object.keys(results)).toEqual(['summary', 'pools', 'version']);
    expect((results.pools as { body: Record<string, unknown> }).body.POOLS).toEqual([{ name: 'pools' }]);
    expect(m.requests).toEqual(['{"command":"summary+pools+version"}']);
  });

  it('falls back to single commands where joins are refused, and remembers it', async () => {
    const m = await miner(noJoins());
    const c = client();
    const first = await c.requestMany(m.target, ['summary', 'pools']);
    expect(Object.values(first).every((r) => !(r instanceof MinerError) && r.ok)).toBe(true);
    expect(m.requests.map((r) => JSON.parse(r).command)).toEqual(['summary+pools', 'summary', 'pools']);
    await c.requestMany(m.target, ['summary', 'pools']);
    expect(m.connections).toBe(5); // no second join attempt
  });

  it('asks the members singly when a join comes back as JSON without any STATUS', async () => {
    const inner = cgminer() as (r: string, n: number) => ReturnType<Exclude<Script, { kind: string }>>;
    const m = await miner((request, n) =>
      (JSON.parse(request) as { command: string }).command.includes('+')
        ? { kind: 'reply', bytes: '{"id":1}' }
        : inner(request, n),
    );
    const results = await client().requestMany(m.target, ['summary', 'pools']);
    expect(Object.values(results).every((r) => !(r instanceof MinerError) && r.ok)).toBe(true);
    expect(m.requests.map((r) => JSON.parse(r).command)).toEqual(['summary+pools', 'summary', 'pools']);
  });

  it('asks no member alone when the peer is not a CGMiner API (a banner that waits)', async () => {
    const m = await miner({ kind: 'greet', bytes: 'SSH-2.0-OpenSSH_9.6\r\n' });
    const results = await client({ timeoutMs: 300, retries: 0 }).requestMany(m.target, [
      'summary',
      'pools',
      'stats',
    ]);
    for (const result of Object.values(results)) expect((result as MinerError).kind).toBe('protocol');
    expect(m.connections).toBe(1);
  });

  it('asks a denied member again alone, without deciding the miner refuses joins', async () => {
    const m = await miner(cgminer(['devdetails']));
    const c = client();
    const results = await c.requestMany(m.target, ['summary', 'devdetails']);
    expect(results.summary).toMatchObject({ ok: true });
    expect(results.devdetails).toBeInstanceOf(MinerError);
    expect((results.devdetails as MinerError).kind).toBe('denied');
    await c.requestMany(m.target, ['summary', 'devdetails']);
    expect(m.requests.map((r) => JSON.parse(r).command)).toEqual([
      'summary+devdetails',
      'devdetails',
      'summary+devdetails',
      'devdetails',
    ]);
  });

  it('sends Whatsminer-native and non-joinable commands on their own', async () => {
    const m = await miner((request) => {
      const parsed = JSON.parse(request) as { command?: string; cmd?: string };
      if (parsed.cmd)
        return {
          kind: 'reply',
          bytes: `{"STATUS":"S","When":1,"Code":131,"Msg":{"fw_ver":"x"},"Description":""}`,
        };
      return (cgminer() as (r: string, n: number) => never)(request, 0);
    });
    const results = await client().requestMany(m.target, ['summary', 'get_version', 'pools']);
    expect(results.get_version).toMatchObject({ ok: true, body: { Msg: { fw_ver: 'x' } } });
    expect(m.requests).toContain('{"cmd":"get_version"}');
    expect(m.requests).toContain('{"command":"summary+pools"}');
  });

  it.each([
    ['closes every connection unanswered (api-allow, restarting)', { kind: 'close' } as const, 'empty_reply'],
    ['resets every connection', { kind: 'rst' } as const, 'reset'],
  ])('asks a miner that %s one command alone, not each in turn', async (_what, script, kind) => {
    const m = await miner(script);
    const c = client();
    const results = await c.requestMany(m.target, ['version', 'summary', 'stats', 'pools', 'devs']);
    for (const result of Object.values(results)) expect((result as MinerError).kind).toBe(kind);
    // The join and one member alone, each with its two retries: not 3 more for every member.
    expect(m.connections).toBe(6);
    // Nothing said it refuses joins: the next poll offers one again.
    expect(c.refusesJoins?.(m.target)).toBe(false);
  });

  it('remembers a join closed unanswered as refused once a member answers alone', async () => {
    const inner = cgminer() as (r: string, n: number) => ReturnType<Exclude<Script, { kind: string }>>;
    const m = await miner((request, n) =>
      (JSON.parse(request) as { command: string }).command.includes('+')
        ? { kind: 'close' }
        : inner(request, n),
    );
    const c = client({ retries: 0 });
    const results = await c.requestMany(m.target, ['summary', 'pools']);
    expect(Object.values(results).every((r) => !(r instanceof MinerError) && r.ok)).toBe(true);
    expect(c.refusesJoins?.(m.target)).toBe(true);
    await c.requestMany(m.target, ['summary', 'pools']);
    expect(m.requests.map((r) => JSON.parse(r).command)).toEqual([
      'summary+pools',
      'summary',
      'pools',
      'summary',
      'pools',
    ]);
  });

  it('gives every member the transport error when the miner is not there', async () => {
    const m = await miner({ kind: 'silent' });
    const results = await client({ timeoutMs: 150, retries: 0 }).requestMany(m.target, ['summary', 'pools']);
    expect((results.summary as MinerError).kind).toBe('timeout');
    expect((results.pools as MinerError).kind).toBe('timeout');
    expect(m.connections).toBe(1);
  });
});
