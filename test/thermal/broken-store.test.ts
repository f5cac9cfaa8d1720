// thermal check --db with live targets: the miners are read first, so a damaged database costs the
// hysteresis and the record, never the verdict (a critical miner is still exit 3, --json still
// prints its document).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { antminerReplies, type FakeMiner, startFakeMiner } from './fake-miner.js';

let dir: string;
let miners: FakeMiner[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-broken-store-'));
});
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

async function miner(pcb: number[], chip: number[]): Promise<FakeMiner> {
  const started = await startFakeMiner(antminerReplies(pcb, chip), 'bmminer 1.0.0');
  miners.push(started);
  return started;
}

function damagedDb(): string {
  const file = path.join(dir, 'hashctl.db');
  fs.writeFileSync(file, 'this is not a database, it is a text file someone wrote over it\n'.repeat(100));
  return file;
}

async function check(args: string[]) {
  const ctx = memoryContext();
  const code = await runCli(
    ['thermal', 'check', ...args, '--json', '--timeout', '2s', '--retries', '0'],
    ctx,
  );
  return { code, out: ctx.out(), err: ctx.err() };
}

describe('thermal check --db on a damaged database', () => {
  it('a critical miner is still judged critical: exit 3, the JSON document, and one line about the store', async () => {
    const hot = await miner([91, 93, 92], [111, 114, 112]);
    const run = await check(['--db', damagedDb(), hot.target]);
    expect(run.code).toBe(EXIT.findings);
    const doc = JSON.parse(run.out) as {
      results: { status: string }[];
      store_error: { kind: string; message: string };
    };
    expect(doc.results.map((r) => r.status)).toEqual(['critical']);
    expect(doc.store_error.kind).toBe('store');
    expect(run.err).toMatch(
      /^hashctl: .*hashctl\.db is not a hashctl database or is damaged.*checked without the store/,
    );
    expect(run.err.trim().split('\n')).toHaveLength(1);
  });

  it('a cool farm is not a pass when its store failed: exit 1, with the results', async () => {
    const cool = await miner([45, 44, 45], [60, 59, 58]);
    const run = await check(['--db', damagedDb(), cool.target]);
    expect(run.code).toBe(EXIT.failed);
    expect((JSON.parse(run.out) as { results: { status: string }[] }).results[0]?.status).toBe('ok');
  });

  it('--from-db has nothing to judge without the store: the store error stands (exit 1, no document)', async () => {
    const run = await check(['--from-db', '--db', damagedDb()]);
    expect(run.code).toBe(EXIT.failed);
    expect(run.out).toBe('');
  });
});
