// A reply the miner cut short (its API gives up on a slow reader and closes, CGMINER-API.md §1; a
// restart midway) is a cgminer reply that could not be read whole: `parse`, retried like any read,
// never `protocol` ("not a CGMiner API", which is not retried and stops asking the miner). A write
// cut after its STATUS still counts as answered and is never sent twice.
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/cgminer/client.js';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { MinerError } from '../../src/errors.js';
import { type FakeMiner, type Script, startFakeMiner } from '../support/fake-miner.js';

const HOST = '127.0.122.40';
const STATUS_S =
  '{"STATUS":[{"STATUS":"S","When":1700000000,"Code":11,"Msg":"Summary","Description":"cgminer 4.11.1"}]';
const WHOLE = `${STATUS_S},"SUMMARY":[{"Elapsed":12,"MHS av":13500000.0}],"id":1}`;
/** Where a miner may cut a reply before any of its data: after the STATUS, inside it. */
const CUTS = [`${STATUS_S},`, STATUS_S, STATUS_S.slice(0, 60), `${STATUS_S},"SUMMARY":[`];

let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
});
async function miner(script: Script): Promise<FakeMiner> {
  const started = await startFakeMiner(script, { host: HOST });
  miners.push(started);
  return started;
}

const client = (retries: number) =>
  createClient({ timeoutMs: 2000, maxBytes: 1 << 20, retries, sleep: async () => undefined });

async function failure(promise: Promise<unknown>): Promise<MinerError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof MinerError)) throw new Error(`expected a MinerError, got ${String(error)}`);
  return error;
}

describe('a read whose reply was cut before its data', () => {
  it('is parse, retried: a cut then a whole reply gives the whole reply', async () => {
    for (const cut of CUTS) {
      const m = await miner((_request, connection) =>
        connection === 1 ? { kind: 'segments', segments: [cut] } : { kind: 'reply', bytes: WHOLE },
      );
      const reply = await client(1).request(m.target, 'summary');
      expect(reply.body.SUMMARY, cut).toEqual([{ Elapsed: 12, 'MHS av': 13500000 }]);
      expect(m.connections).toBe(2);
    }
  });

  it('cut every time: parse after every attempt, with a message that says it was cut', async () => {
    for (const cut of CUTS) {
      const m = await miner({ kind: 'segments', segments: [cut] });
      const error = await failure(client(2).request(m.target, 'summary'));
      expect({ cut, kind: error.kind, attempts: error.attempts }).toEqual({
        cut,
        kind: 'parse',
        attempts: 3,
      });
      expect(error.message).toMatch(/cut short/);
      expect(m.connections).toBe(3);
    }
  });

  it('probe: the miner fails as parse, not as "not a CGMiner API"', async () => {
    const m = await miner({ kind: 'segments', segments: [`${STATUS_S},`] });
    for (const args of [
      ['probe', m.target.key, '--command', 'summary'],
      ['probe', m.target.key],
    ]) {
      const ctx = memoryContext({ stdin: Object.assign(Readable.from([]), { isTTY: false }) });
      const code = await runCli([...args, '--json', '--retries', '0', '--timeout', '2s'], ctx);
      expect(code).toBe(1);
      const result = JSON.parse(ctx.out()) as { ok: boolean; error: { kind: string } };
      expect({ args, kind: result.error.kind }).toEqual({ args, kind: 'parse' });
    }
  });

  it('a whole reply with a STATUS and no data is still protocol (not cut: nothing to retry)', async () => {
    const m = await miner({ kind: 'reply', bytes: `${STATUS_S},"id":1}` });
    const ctx = memoryContext({ stdin: Object.assign(Readable.from([]), { isTTY: false }) });
    const code = await runCli(
      ['probe', m.target.key, '--command', 'summary', '--json', '--retries', '2'],
      ctx,
    );
    expect(code).toBe(1);
    expect((JSON.parse(ctx.out()) as { error: { kind: string } }).error.kind).toBe('protocol');
    expect(m.connections).toBe(1);
  });
});

describe('a write whose reply was cut after its STATUS', () => {
  it('is the answer: taken once, never sent again', async () => {
    const m = await miner({
      kind: 'segments',
      segments: ['{"STATUS":[{"STATUS":"S","When":1700000000,"Code":27,"Msg":"Switching to pool 1"}],'],
    });
    const reply = await client(2).request(m.target, 'switchpool', { parameter: '1' });
    expect(reply.ok).toBe(true);
    expect(m.connections).toBe(1);
    const cutInside = await miner({ kind: 'segments', segments: ['{"STATUS":[{"STATUS":"S","When":17000'] });
    await client(2)
      .request(cutInside.target, 'switchpool', { parameter: '1' })
      .catch(() => undefined);
    expect(cutInside.connections).toBe(1);
  });
});

function statusOf(code: number, msg: string): string {
  return `"STATUS":[{"STATUS":"S","When":1700000000,"Code":${code},"Msg":"${msg}","Description":"cgminer 4.11.1"}]`;
}
const SINGLES: Record<string, string> = {
  version: `{${statusOf(22, 'CGMiner versions')},"VERSION":[{"CGMiner":"4.11.1","API":"3.7"}],"id":1}`,
  summary: `{${statusOf(11, 'Summary')},"SUMMARY":[{"Elapsed":12,"MHS av":13500000.0}],"id":1}`,
  pools: `{${statusOf(7, '1 Pool(s)')},"POOLS":[{"POOL":0,"URL":"stratum+tcp://pool.example:3333"}],"id":1}`,
};
const JOIN = ['version', 'summary', 'pools'];
const WHOLE_JOIN = `{${JOIN.map((c) => `"${c}":[${(SINGLES[c] as string).replace(/,"id":1}$/, ',"id":1}')}]`).join(',')},"id":1}`;
/** The join cut where a slow reader meets cgminer's give-up: after a member, or inside one. */
const JOIN_CUTS = [
  WHOLE_JOIN.slice(0, WHOLE_JOIN.indexOf('"summary"')),
  WHOLE_JOIN.slice(0, WHOLE_JOIN.indexOf('"SUMMARY"')),
  WHOLE_JOIN.slice(0, WHOLE_JOIN.indexOf('"pools"') - 3),
];

function farmScript(cutJoin: (connection: number) => string | null): Script {
  return (request, connection) => {
    const command = (JSON.parse(request) as { command: string }).command;
    if (command.includes('+')) {
      const cut = cutJoin(connection);
      return cut === null ? { kind: 'reply', bytes: WHOLE_JOIN } : { kind: 'segments', segments: [cut] };
    }
    return { kind: 'reply', bytes: SINGLES[command] ?? '' };
  };
}

describe('a join whose reply was cut short', () => {
  it('is asked again as a join: a miner that cut one reply is not taken for one that refuses joins', async () => {
    for (const cut of JOIN_CUTS) {
      const m = await miner(farmScript((connection) => (connection === 1 ? cut : null)));
      const c = client(1);
      const replies = await c.requestMany(m.target, JOIN);
      for (const command of JOIN) {
        const reply = replies[command];
        expect(
          reply instanceof MinerError ? reply.kind : Object.keys(reply?.body ?? {}),
          `${cut} → ${command}`,
        ).toEqual(['STATUS', command.toUpperCase(), 'id']);
      }
      expect(c.refusesJoins?.(m.target)).toBe(false);
      expect(m.requests.every((r) => r.includes('+'))).toBe(true);
    }
  });

  it('cut every time: each command is asked alone and answers', async () => {
    for (const cut of JOIN_CUTS) {
      const m = await miner(farmScript(() => cut));
      const replies = await client(1).requestMany(m.target, JOIN);
      for (const command of JOIN) {
        const reply = replies[command];
        expect(
          reply instanceof MinerError ? reply.kind : reply?.body[command.toUpperCase()],
          command,
        ).toEqual((JSON.parse(SINGLES[command] as string) as Record<string, unknown>)[command.toUpperCase()]);
      }
    }
  });
});
