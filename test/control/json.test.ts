// `control --json` keeps the per-target contract (README, Per-target JSON and Control): one single
// host prints its per-target object (control adds its run fields after the target's own), anything
// else `{"results":[…]}` (control's run fields beside it); every failed target's error has kind,
// message and attempts, with the miner's code and msg when it gave them; one JSON document always,
// for failures, dry runs and Ctrl-C too.
import * as fs from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import type { TargetControlResult } from '../../src/control/types.js';
import { checkPerTarget, cli, control, perTest, RUN_FIELDS } from './support.js';

const each = perTest();

/** A loopback port nothing listens on: connections to it are refused. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

/** Every control subcommand, as its arguments before the targets. */
function subcommands(): string[][] {
  const pw = path.join(each.temp().dir, 'pw');
  fs.writeFileSync(pw, 'x\n');
  return [
    ['restart'],
    ['pause'],
    ['resume'],
    ['switchpool', '1'],
    ['enablepool', '1'],
    ['disablepool', '1'],
    ['removepool', '1'],
    ['addpool', 'stratum+tcp://pool.example:3333', 'w1', '--password-file', pw],
    ['raw', 'summary'],
  ];
}

const WIRE = ['--json', '--timeout', '2s', '--retries', '1'];

function parsed(out: string): Record<string, unknown> {
  return JSON.parse(out) as Record<string, unknown>;
}

describe('one single host: its per-target object', () => {
  it('every write subcommand on a refused miner prints that object with the run fields; error kind, message, attempts', async () => {
    const key = await closedPort();
    const [host, port] = key.split(':');
    for (const args of subcommands()) {
      const label = args[0] as string;
      const run = await cli([
        'control',
        ...args,
        key,
        '--yes',
        ...WIRE,
        '--db',
        path.join(each.temp().dir, 'db'),
      ]);
      expect(run.code, label).toBe(1);
      const doc = parsed(run.out);
      expect(doc, label).not.toHaveProperty('results');
      expect(Object.keys(doc).slice(0, 5), label).toEqual(['target', 'host', 'port', 'ok', 'elapsed_ms']);
      expect(doc, label).toMatchObject({
        target: key,
        host,
        port: Number(port),
        ok: false,
        result: 'failed',
      });
      for (const field of RUN_FIELDS) expect(doc, `${label} ${field}`).toHaveProperty(field);
      expect(doc.dry_run, label).toBe(false);
      expect(doc.action, label).toMatch(new RegExp(`^${label === 'raw' ? 'raw summary' : label}`));
      // --retries 1: a refused read is tried twice; so is a write none of whose bytes left.
      expect(doc.error, label).toEqual({ kind: 'refused', message: expect.any(String), attempts: 2 });
      // Its own time, the failed read included: the retry waited at least 50 ms.
      expect(doc.elapsed_ms, label).toBeGreaterThanOrEqual(45);
    }
  });

  it('capabilities of a refused miner: the object itself, error with attempts', async () => {
    const key = await closedPort();
    const run = await cli(['control', 'capabilities', key, ...WIRE]);
    expect(run.code).toBe(1);
    const doc = parsed(run.out);
    expect(doc).not.toHaveProperty('results');
    checkPerTarget(doc);
    expect(doc).toMatchObject({ target: key, ok: false });
    expect(doc.error).toEqual({ kind: 'refused', message: expect.any(String), attempts: 2 });
  });

  it('a dry run on a miner that answers: the planned object with dry_run true; on a refused one, its error', async () => {
    // LuxOS maps every action (through a session), so each plans something.
    const farm = await each.farm({ basePort: 0, count: 1, profile: 'luxos', writes: 'allow' });
    const key = farm.inventory()[0] as string;
    const refused = await closedPort();
    for (const args of subcommands()) {
      const label = args[0] as string;
      const planned = await control([...args, key, '--dry-run']);
      expect(planned.code, label).toBe(0);
      expect(planned.doc, label).toMatchObject({ target: key, ok: true, result: 'planned', dry_run: true });
      expect(planned.doc, label).not.toHaveProperty('error');
      const failed = await cli(['control', ...args, refused, '--dry-run', ...WIRE]);
      const doc = parsed(failed.out);
      if (label === 'raw') {
        // raw reads nothing first: the plan alone, nothing sent.
        expect(doc, label).toMatchObject({ target: refused, ok: true, result: 'planned', dry_run: true });
        continue;
      }
      expect(failed.code, label).toBe(1);
      expect(doc, label).toMatchObject({ target: refused, ok: false, dry_run: true });
      expect(doc.error, label).toEqual({ kind: 'refused', message: expect.any(String), attempts: 2 });
    }
  });

  it("a miner that answers STATUS E: the error carries the miner's code and msg beside attempts", async () => {
    const denied = JSON.stringify({
      STATUS: [
        { STATUS: 'E', When: 1700000000, Code: 45, Msg: 'Access denied to the API', Description: 'cgminer' },
      ],
      id: 1,
    });
    const fake = await each.fake({ kind: 'reply', bytes: denied });
    const key = `${fake.host}:${fake.port}`;
    for (const args of [['capabilities'], ['restart', '--yes', '--db', path.join(each.temp().dir, 'db')]]) {
      const run = await cli(['control', ...args.slice(0, 1), key, ...args.slice(1), ...WIRE]);
      const doc = parsed(run.out);
      expect(run.code, args[0]).toBe(1);
      expect(doc, args[0]).not.toHaveProperty('results');
      expect(doc.error, args[0]).toMatchObject({
        kind: expect.stringMatching(/^(denied|api)$/),
        message: expect.any(String),
        attempts: 1,
        code: 45,
        msg: 'Access denied to the API',
      });
    }
  });

  it('a write answered with an encrypted envelope it cannot read is unknown, not done', async () => {
    // What a Whatsminer sends to a plain write when its STATUS (here possibly E/45) is sealed.
    const fake = await each.fake({ kind: 'reply', bytes: JSON.stringify({ enc: 'q2VsbG8gd29ybGQhIQ==' }) });
    const key = `${fake.host}:${fake.port}`;
    const run = await cli([
      'control',
      'raw',
      'switchpool',
      key,
      '--param',
      '1',
      '--yes',
      '--db',
      path.join(each.temp().dir, 'db'),
      ...WIRE,
    ]);
    expect(run.code).toBe(1);
    expect(parsed(run.out)).toMatchObject({
      ok: false,
      result: 'unknown',
      error: { kind: 'protocol', attempts: 1 },
    });
  });

  it('nothing sent says attempts 0: an action the dialect cannot do is unsupported', async () => {
    const farm = await each.farm({ basePort: 0, count: 1, profile: 'antminer-s9' });
    const run = await control([
      'pause',
      farm.inventory()[0] as string,
      '--yes',
      '--db',
      path.join(each.temp().dir, 'db'),
    ]);
    expect(run.code).toBe(1);
    expect(run.doc).toMatchObject({ result: 'unsupported', error: { kind: 'unsupported', attempts: 0 } });
  });
});

describe('anything else: {"results":[…]}', () => {
  it('two hosts, or one host named by @FILE: results, with the run fields beside them', async () => {
    const farm = await each.farm({ basePort: 0, count: 2, profile: 'cgminer', writes: 'allow' });
    const keys = farm.inventory();
    const file = path.join(each.temp().dir, 'one.txt');
    fs.writeFileSync(file, `${keys[0]}\n`);
    for (const targets of [keys, [`@${file}`]]) {
      const run = await cli(['control', 'switchpool', '0', ...targets, '--dry-run', ...WIRE]);
      const doc = parsed(run.out);
      expect(Object.keys(doc)).toEqual([...RUN_FIELDS, 'results']);
      expect(doc).toMatchObject({ action: 'switchpool 0', dry_run: true });
      const results = doc.results as Record<string, unknown>[];
      expect(results.map((r) => r.target)).toEqual(targets.length === 2 ? keys : [keys[0]]);
      for (const result of results) checkPerTarget(result);
      const caps = parsed((await cli(['control', 'capabilities', ...targets, ...WIRE])).out);
      expect(Object.keys(caps)).toEqual(['results']);
    }
  });
});

describe('Ctrl-C', () => {
  /** The CLI in-process with a signal aborted after `ms`. */
  async function interrupted(args: string[], ms: number): Promise<{ code: number; out: string }> {
    const controller = new AbortController();
    const ctx = memoryContext({
      stdin: Object.assign(Readable.from([]), { isTTY: false }),
      signal: controller.signal,
    });
    const timer = setTimeout(() => controller.abort(), ms);
    try {
      const code = await runCli(args, ctx);
      return { code, out: ctx.out() };
    } finally {
      clearTimeout(timer);
    }
  }

  it('during the reads still prints one JSON document and exits 130', async () => {
    const fake = await each.fake({ kind: 'silent' });
    const key = `${fake.host}:${fake.port}`;
    const caps = await interrupted(['control', 'capabilities', key, '--json', '--timeout', '10s'], 200);
    expect(caps.code).toBe(130);
    expect(parsed(caps.out)).toEqual({ results: [] });
    const restart = await interrupted(
      [
        'control',
        'restart',
        key,
        '--yes',
        '--json',
        '--timeout',
        '10s',
        '--db',
        path.join(each.temp().dir, 'db'),
      ],
      200,
    );
    expect(restart.code).toBe(130);
    expect(parsed(restart.out)).toMatchObject({ action: 'restart', dry_run: false, results: [] });
  });

  it('during the writes starts no further miner: the rest are skipped, never written', async () => {
    const controller = new AbortController();
    const farm = await each.farm({
      basePort: 0,
      count: 8,
      profile: 'cgminer',
      writes: 'allow',
      faults: 'latency=100ms',
      // Ctrl-C as the first write reaches a miner: at most the other one in flight is written too.
      onCommand: (entry) => {
        if (entry.command === 'restart') controller.abort();
      },
    });
    const ctx = memoryContext({
      stdin: Object.assign(Readable.from([]), { isTTY: false }),
      signal: controller.signal,
    });
    const dbFile = path.join(each.temp().dir, 'db');
    const args = ['control', 'restart', ...farm.inventory(), '--yes', '--json', '--no-verify'];
    const code = await runCli([...args, '--concurrency', '2', '--db', dbFile], ctx);
    expect(code).toBe(130);
    const written = farm.commandLog.filter((entry) => entry.command === 'restart').length;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThanOrEqual(2);
    const { results } = parsed(ctx.out()) as { results: TargetControlResult[] };
    expect(results).toHaveLength(8);
    const skipped = results.filter((r) => r.result === 'skipped');
    expect(skipped).toHaveLength(8 - written);
    for (const r of skipped) expect(r.error?.message).toBe('interrupted before this miner was started');
  });

  it('during the read-back: the write stands, reported unknown with kind unverified, one document', async () => {
    const farm = await each.farm({
      basePort: 0,
      count: 1,
      profile: 'cgminer',
      writes: 'allow',
      restartDelayMs: 60_000,
    });
    const key = farm.inventory()[0] as string;
    const run = await interrupted(
      [
        'control',
        'restart',
        key,
        '--yes',
        '--json',
        '--verify-timeout',
        '20s',
        '--db',
        path.join(each.temp().dir, 'db'),
      ],
      600,
    );
    expect(run.code).toBe(130);
    const doc = parsed(run.out);
    checkPerTarget(doc);
    expect(doc).toMatchObject({ target: key, ok: false, result: 'unknown', error: { kind: 'unverified' } });
    // The time the read-back had before Ctrl-C, not the whole --verify-timeout.
    expect((doc as { error: { message: string } }).error.message).toMatch(
      /^not confirmed: read-back interrupted after \d+(ms|s)( \(last check: .+\))?$/,
    );
    expect((doc as { error: { message: string } }).error.message).not.toContain('within 20s');
  });
});
