// One poll of a hostile peer costs one deadline, not one per read: once a read of the poll ran to its
// deadline (silent, endless, dripping, or a whole reply never ended), the poll's later reads are not
// sent. Real servers on 127.0.0.1; the outcome (kind, attempts, which requests were sent) is asserted,
// never the time taken. A slow miner that does end each reply is still read in full.
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/cgminer/client.js';
import { MinerError } from '../../src/errors.js';
import { fetchSnapshot } from '../../src/miners/fetch.js';
import { type Behaviour, cgminerReply, type FakeMiner, startFakeMiner } from '../support/fake-miner.js';

const client = (retries = 0) =>
  createClient({ timeoutMs: 400, maxBytes: 1 << 20, retries, sleep: async () => {} });

const SUMMARY = cgminerReply('SUMMARY', [{ Elapsed: 12, 'MHS av': 1000 }]);
const VERSION = cgminerReply('VERSION', [{ CGMiner: '4.11.1', API: '3.7' }]);
const REFUSED_JOIN = JSON.stringify({ STATUS: [{ STATUS: 'E', When: 1, Code: 14, Msg: 'Invalid command' }] });

/** The command each request asked, in order. */
const asked = (m: FakeMiner): string[] =>
  m.requests.map((r) => (JSON.parse(r) as { command: string }).command);

let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
});

async function poll(script: Behaviour | ((request: string, connection: number) => Behaviour), retries = 0) {
  const m = await startFakeMiner(script);
  miners.push(m);
  try {
    const { snapshot, replies } = await fetchSnapshot(client(retries), m.target);
    return { m, snapshot, replies, error: null };
  } catch (error) {
    if (!(error instanceof MinerError)) throw error;
    return { m, snapshot: null, replies: null, error };
  }
}

/** A firmware that refuses joins and answers each command alone with `answer(command)`. */
const singles =
  (answer: (command: string) => Behaviour) =>
  (request: string): Behaviour => {
    const { command } = JSON.parse(request) as { command: string };
    return command.includes('+') ? { kind: 'reply', bytes: REFUSED_JOIN } : answer(command);
  };

describe('a poll of a peer that runs reads to the deadline', () => {
  it('asks nothing more after a whole reply that never ends (no NUL, socket left open)', async () => {
    const { m, error } = await poll({ kind: 'reply', bytes: SUMMARY, nul: false, close: false });
    // The join got a plain summary (no keyed layout): refused, but its members are not asked alone.
    expect(m.connections).toBe(1);
    expect(error).toMatchObject({ kind: 'timeout', attempts: 1 });
    expect(error?.message).toMatch(/no end of reply within 400ms/);
  });

  it('keeps what was read and does not send the reads after the one left unended', async () => {
    const { m, snapshot, replies } = await poll(
      singles((command) =>
        command === 'summary'
          ? { kind: 'reply', bytes: SUMMARY, nul: false, close: false }
          : command === 'version'
            ? { kind: 'reply', bytes: VERSION }
            : { kind: 'silent' },
      ),
    );
    expect(asked(m)).toEqual([expect.stringContaining('+'), 'version', 'summary']);
    expect(snapshot).not.toBeNull();
    for (const command of ['stats', 'pools', 'devs']) {
      expect(replies?.[command]).toMatchObject({
        kind: 'timeout',
        attempts: 0,
        requestSent: false,
        message: expect.stringMatching(/^not sent: an earlier read/),
      });
    }
  });

  it.each<[string, Behaviour, string]>([
    ['silent after accepting', { kind: 'silent' }, 'timeout'],
    [
      'a partial reply, then silence',
      { kind: 'reply', bytes: SUMMARY.slice(0, 60), nul: false, close: false },
      'timeout',
    ],
    ['one byte at a time', { kind: 'trickle', bytes: SUMMARY, chunkSize: 1, delayMs: 40 }, 'timeout'],
    ['objects without end', { kind: 'endless', chunk: '{"a":1},' }, 'protocol'],
  ])('%s: one request, the kind of that read, attempts 1', async (_name, behaviour, kind) => {
    const { m, error } = await poll(behaviour);
    expect(m.connections).toBe(1);
    expect(error).toMatchObject({ kind, attempts: 1 });
  });

  it('a banner and silence, or a reset mid-reply, end the poll with their kinds', async () => {
    const banner = await poll({ kind: 'greet', bytes: 'SSH-2.0-OpenSSH_9.6\r\n' });
    expect(banner.m.connections).toBe(1);
    expect(banner.error).toMatchObject({ kind: 'protocol', attempts: 1 });
    const reset = await poll({ kind: 'rst', bytes: SUMMARY.slice(0, 60) });
    expect(reset.error).toMatchObject({ kind: 'reset', attempts: 1 });
  });

  it('a read that timed out and then answered on retry does not stop the poll', async () => {
    const { m, snapshot } = await poll(
      (request, connection) =>
        connection === 1
          ? { kind: 'silent' }
          : singles((command) => ({ kind: 'reply', bytes: command === 'version' ? VERSION : SUMMARY }))(
              request,
            ),
      1,
    );
    expect(snapshot).not.toBeNull();
    expect(asked(m).slice(2)).toEqual(['version', 'summary', 'stats', 'pools', 'devs']);
  });

  it('reads a slow miner that ends every reply in full, however long the poll takes', async () => {
    // Each reply comes in two pieces 250 ms apart (within the 400 ms deadline), six reads in all.
    const { m, snapshot } = await poll(
      singles((command) => {
        const reply = command === 'version' ? VERSION : SUMMARY;
        return { kind: 'segments', segments: [reply.slice(0, 20), `${reply.slice(20)}\0`], delayMs: 250 };
      }),
    );
    expect(snapshot).not.toBeNull();
    expect(asked(m).slice(1)).toEqual(['version', 'summary', 'stats', 'pools', 'devs']);
  });
});
