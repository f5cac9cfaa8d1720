// `probe --json` over many targets writes its document result by result, in target order, never as
// one string: a farm of ~6,000 HonorKnights asked `--command stats` built a 580 MB string, past
// V8's limit, and died with "Invalid string length" after minutes of polling, printing nothing.
// The bytes are those of the whole document written at once (writeJson of perTargetJson). Real
// servers on 127.0.128.x: simulated miners, and peers that answer late or never.
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { type Context, memoryContext } from '../../src/context.js';
import { perTargetJson, writeJson } from '../../src/output/render.js';
import { jsonText } from '../../src/output/terminal.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';
import { recorded } from '../support/recorded-stdout.js';

const HOST = '127.0.128.41';
const root = fileURLToPath(new URL('../..', import.meta.url));

let farm: Farm;
let silent: FakeMiner;
let miners: string[] = [];

beforeAll(async () => {
  farm = await startFarm({ profile: 'mix', seed: 3, count: 12, host: HOST, basePort: 0 });
  miners = farm.inventory();
  silent = await startFakeMiner({ kind: 'silent' }, { host: HOST });
});

afterAll(async () => {
  await Promise.all([farm.stop(), silent.close()]);
});

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
}

/** One result's part of the document: its text, two levels in. */
const part = (result: unknown): string => jsonText(result, 2).replace(/\n/g, '\n    ');

/** The document written whole, as probe did before it streamed. */
function whole(results: unknown[], singleHost: boolean): string {
  let text = '';
  writeJson(
    {
      write: (chunk) => {
        text += chunk;
        return true;
      },
    },
    perTargetJson(results as object[], singleHost),
  );
  return text;
}

describe('probe --json on many targets', () => {
  it.each([
    ['raw replies', ['--command', 'stats,summary']],
    ['snapshots', []],
  ])(
    '%s: written as each target is done, in target order, the same bytes as the whole document',
    async (_, mode) => {
      const { ctx, chunks, abort } = recorded();
      // The silent peer is last: everything before it is printed while it still keeps its answer.
      const targets = [...miners, silent.target.key];
      let settled = false;
      const run = runCli(
        ['probe', ...targets, ...mode, '--json', '--timeout', '10m', '--retries', '0'],
        ctx,
      ).finally(() => {
        settled = true;
      });
      await waitFor(() => miners.every((miner) => ctx.out().includes(`"target": "${miner}"`)));
      expect(settled).toBe(false);
      for (const miner of miners) expect(ctx.out()).toContain(`"target": "${miner}"`);
      expect(silent.connections).toBeGreaterThan(0);
      expect(() => JSON.parse(ctx.out())).toThrow(); // not finished while a target is out

      abort(); // Ctrl-C: the document is closed with what was done
      expect(await run).toBe(130);
      const text = ctx.out();
      const results = (JSON.parse(text) as { results: { target: string; ok: boolean }[] }).results;
      const listed = mode.length > 0 ? targets : miners; // an interrupted snapshot has no row
      expect(results.map((result) => result.target)).toEqual(listed);
      expect(text).toBe(whole(results, false));
      // No write holds more than one target's part (and the document's few framing characters).
      const largest = Math.max(...results.map((result) => part(result).length));
      for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(largest + 24);
    },
  );

  it('one host is the plain object, no results and a closed document as before', async () => {
    for (const [targets, singleHost] of [
      [[miners[0] as string], true],
      [[miners[0] as string, miners[1] as string], false],
    ] as const) {
      const { ctx } = recorded();
      expect(await runCli(['probe', ...targets, '--command', 'summary', '--json'], ctx)).toBe(0);
      const text = ctx.out();
      const doc = JSON.parse(text) as { target?: string; results?: unknown[] };
      expect(text).toBe(whole(singleHost ? [doc] : (doc.results as unknown[]), singleHost));
      if (singleHost) expect(doc.target).toBe(targets[0]);
    }
    // Ctrl-C before any target: `{"results": []}`, as the whole document was.
    const { ctx, abort } = recorded();
    abort();
    expect(await runCli(['probe', miners[0] as string, miners[1] as string, '--json'], ctx)).toBe(130);
    expect(ctx.out()).toBe(whole([], false));
  });

  it('a run that fails half-way leaves the document unfinished, so jq cannot take it for whole', async () => {
    const { ctx } = recorded();
    let writes = 0;
    const stdout = ctx.stdout;
    ctx.stdout = {
      write: (chunk) => {
        if (++writes === 3) throw new Error('the output broke');
        return stdout.write(chunk);
      },
      isTTY: false,
    };
    const code = await runCli(['probe', ...miners, '--command', 'summary', '--json'], ctx);
    expect(code).toBe(1);
    expect(ctx.out()).toContain(`"target": "${miners[0]}"`);
    expect(() => JSON.parse(ctx.out())).toThrow();
  });
});

describe('probe --json into a slow reader', () => {
  it('waits for room in the pipe instead of queueing the document in the process', async () => {
    // A pipe that takes a write only when its reader says so (`| jq` slower than the miners).
    const taken: (() => void)[] = [];
    let text = '';
    const pipe = new Writable({
      highWaterMark: 1,
      decodeStrings: false,
      write(chunk: string, _encoding, callback) {
        text += chunk;
        taken.push(() => callback());
      },
    });
    const written = new Set<string>();
    const ctx = memoryContext({ stdout: pipe as unknown as Context['stdout'] });
    let settled = false;
    const run = runCli(
      ['probe', ...miners, '--command', 'summary', '--json', '--concurrency', '2'],
      ctx,
    ).finally(() => {
      settled = true;
    });
    // Nothing is read: without waiting for room, the run ends with its document queued.
    const stop = Date.now() + 3000;
    await waitFor(() => settled || Date.now() > stop);
    expect(settled).toBe(false);
    for (const line of text.matchAll(/"target": "([^"]+)"/g)) written.add(line[1] as string);
    expect(written.size).toBe(1); // one part written, the rest waits for the reader
    // The reader catches up: the rest follows, the same document as written whole.
    await waitFor(() => {
      for (const take of taken.splice(0)) take();
      return settled;
    });
    expect(await run).toBe(0);
    const results = (JSON.parse(text) as { results: { target: string }[] }).results;
    expect(results.map((result) => result.target)).toEqual(miners);
    expect(text).toBe(whole(results, false));
  });
});

describe('probe --json | head', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('ends when the reader has gone, not once every miner has answered', async () => {
    // A miner that answers once told to: its result is written after the reader is gone.
    let answer: () => void = () => {};
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const sockets: Socket[] = [];
    const late = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      socket.once('data', () => {
        void answered.then(() =>
          socket.end(
            '{"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary","Description":"cgminer 4.9"}],"SUMMARY":[{"Elapsed":5}],"id":1}\u0000',
          ),
        );
      });
    });
    servers.push(late);
    await new Promise<void>((resolve) => late.listen(0, HOST, resolve));
    const latePort = (late.address() as { port: number }).port;
    const child = spawn(
      process.execPath,
      [
        'bin/hashctl',
        'probe',
        miners[0] as string,
        `${HOST}:${latePort}`,
        silent.target.key,
        '--command',
        'summary',
        '--json',
        '--timeout',
        '10m',
        '--retries',
        '0',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const guard = setTimeout(() => child.kill('SIGKILL'), 25_000);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    // `head -c 1`: reads the first target's part, then closes the pipe.
    child.stdout.once('data', () => {
      child.stdout.destroy();
      answer();
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    clearTimeout(guard);
    for (const socket of sockets) socket.destroy();
    expect(code).toBe(0); // a closed pipe is a normal end (killed by the guard: null)
    expect(stderr).toBe('');
  });
});
