// Miners that take a write but answer it oddly: control reports only the success it saw, and sends
// each write once whatever the answer.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import type { TargetControlResult } from '../../src/control/types.js';
import { type Behaviour, cgminerReply } from '../support/fake-miner.js';
import { control, perTest, plainS9 } from './support.js';

const each = perTest();
const HOST = '127.0.92.4';

/** A plain cgminer (Antminer S9) that answers reads, and every other command with `write`. */
function minerAnswering(write: () => Behaviour) {
  return plainS9({ write });
}

/** `control enablepool 0 --no-verify` on a plain S9 that answers the write STATUS I with `code` and `msg`. */
async function enablepoolAnswered(code: number, msg: string) {
  const miner = minerAnswering(() => ({
    kind: 'reply',
    bytes: cgminerReply('X', [], { STATUS: 'I', Code: code, Msg: msg }),
  }));
  const fake = await each.fake(miner.script, { host: HOST });
  const run = await control([
    'enablepool',
    '0',
    fake.target.key,
    '--yes',
    '--no-verify',
    '--db',
    each.temp().db,
  ]);
  return { miner, run };
}

describe('a write answered with STATUS I', () => {
  it('is unknown, not sent: the miner did not say yes (exit 1, its words shown, sent once)', async () => {
    const miner = minerAnswering(() => ({
      kind: 'reply',
      bytes: cgminerReply('X', [], { STATUS: 'I', Code: 999, Msg: 'restart failed: watchdog busy' }),
    }));
    const fake = await each.fake(miner.script, { host: HOST });
    const run = await control(['restart', fake.target.key, '--yes', '--no-verify', '--db', each.temp().db]);
    expect(run.code).toBe(1);
    expect(run.json.results[0]).toMatchObject({
      ok: false,
      result: 'unknown',
      error: { kind: 'api', code: 999, msg: 'restart failed: watchdog busy', attempts: 1 },
    });
    expect(miner.writes).toEqual(['restart']);
  });

  it('read back: unknown while the change does not show (the I said), one send', async () => {
    const miner = minerAnswering(() => ({
      kind: 'reply',
      bytes: cgminerReply('X', [], { STATUS: 'I', Code: 999, Msg: 'restart failed' }),
    }));
    const fake = await each.fake(miner.script, { host: HOST });
    const run = await control([
      'restart',
      fake.target.key,
      '--yes',
      '--verify-timeout',
      '300ms',
      '--db',
      each.temp().db,
    ]);
    expect(run.code).toBe(1);
    expect(run.json.results[0]).toMatchObject({
      ok: false,
      result: 'unknown',
      error: { kind: 'api', code: 999 },
    });
    expect(run.json.results[0]?.verification?.confirmed).toBe(false);
    expect(miner.writes).toEqual(['restart']);
  });

  it('"already enabled" (I/49) is still a yes: the pool is as asked', async () => {
    const { miner, run } = await enablepoolAnswered(49, "Pool 0:'stratum+tcp://p:3333' already enabled");
    expect(run.code).toBe(0);
    expect(run.json.results[0]).toMatchObject({ ok: true, result: 'sent' });
    expect(miner.writes).toEqual(['enablepool']);
  });
});

describe('a write answered "already" in the other state', () => {
  it('"already disabled" (I/50) to an enablepool is not a yes: unknown, exit 1, sent once', async () => {
    const { miner, run } = await enablepoolAnswered(50, "Pool 0:'stratum+tcp://p:3333' already disabled");
    expect(run.json.results[0]).toMatchObject({
      ok: false,
      result: 'unknown',
      error: { kind: 'api', code: 50 },
    });
    expect(run.code).toBe(1);
    expect(miner.writes).toEqual(['enablepool']);
  });
});

describe('a write answered with another command’s reply', () => {
  it('POOLS to a switchpool (an API answering everything alike) is unknown, not sent; sent once', async () => {
    const miner = minerAnswering(() => ({
      kind: 'reply',
      bytes: cgminerReply('POOLS', [{ POOL: 0, URL: 'stratum+tcp://p:3333', Priority: 0 }], {
        Code: 7,
        Msg: '1 Pool(s)',
      }),
    }));
    const fake = await each.fake(miner.script, { host: HOST });
    for (const args of [
      ['switchpool', '0', fake.target.key, '--no-verify'],
      ['raw', 'restart', fake.target.key],
    ]) {
      const run = await control([...args, '--yes', '--db', each.temp().db]);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.json.results[0], args.join(' ')).toMatchObject({
        ok: false,
        result: 'unknown',
        error: { kind: 'protocol', attempts: 1 },
      });
    }
    expect(miner.writes).toEqual(['switchpool', 'restart']);
  });
});

describe('a write answered with a huge message', () => {
  it('is clipped like every miner message: not 100 KB in the table, --json or command_log', async () => {
    const huge = `set failed: ${'x'.repeat(100_000)}`;
    const miner = minerAnswering(() => ({
      kind: 'reply',
      bytes: cgminerReply('X', [], { STATUS: 'E', Code: 120, Msg: huge }),
    }));
    const fake = await each.fake(miner.script, { host: HOST });
    const run = await control(['switchpool', '0', fake.target.key, '--yes', '--db', each.temp().db]);
    expect(run.code).toBe(1);
    const error = run.json.results[0]?.error;
    expect(error).toMatchObject({ kind: 'api', code: 120 });
    expect(error?.msg?.length).toBeLessThan(1000);
    expect(error?.message.length).toBeLessThan(1000);
    expect(error?.msg).toMatch(/100012 characters/);
    expect(run.out.length).toBeLessThan(5000);
    const sqlite = new Database(each.temp().db, { readonly: true });
    try {
      const rows = sqlite.prepare('SELECT error_message FROM command_log').all() as {
        error_message: string;
      }[];
      expect(rows).toHaveLength(1);
      expect(rows[0]?.error_message.length).toBeLessThan(1000);
    } finally {
      sqlite.close();
    }
  });
});

describe('Ctrl-C while the write hangs', () => {
  it('the write is unknown and its read-back interrupted, not "the miner reports no uptime"', async () => {
    const miner = minerAnswering(() => ({ kind: 'silent' }));
    const fake = await each.fake(miner.script, { host: HOST });
    const controller = new AbortController();
    const ctx = memoryContext({
      stdin: Object.assign(Readable.from([]), { isTTY: false }),
      signal: controller.signal,
    });
    const running = runCli(
      ['control', 'restart', fake.target.key, '--yes', '--json', '--timeout', '2s', '--db', each.temp().db],
      ctx,
    );
    for (let i = 0; i < 500 && miner.writes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    expect(await running).toBe(130);
    const doc = JSON.parse(ctx.out()) as TargetControlResult;
    expect(doc).toMatchObject({ ok: false, result: 'unknown', error: { kind: 'timeout' } });
    expect(doc.verification).toMatchObject({ confirmed: false, checks: 0 });
    expect(doc.verification?.detail).toMatch(/^not confirmed: read-back interrupted after \S+$/);
    expect(miner.writes).toEqual(['restart']);
  });
});

describe('a write whose echo of the password is clipped', () => {
  it('is scrubbed before it is cut: no part of the password in --json or command_log', async () => {
    // cgminer's E/53 repeats the whole addpool parameter; with a long worker name the 500-character
    // clip falls inside the password, which then no longer matches as a whole.
    const miner = minerAnswering(() => ({ kind: 'close' }));
    const script = (request: string): Behaviour => {
      const { command, parameter } = JSON.parse(request) as { command: string; parameter?: string };
      if (command !== 'addpool') return miner.script(request);
      const Msg = `Invalid addpool details '${parameter ?? ''}'`;
      return { kind: 'reply', bytes: cgminerReply('X', [], { STATUS: 'E', Code: 53, Msg }) };
    };
    const fake = await each.fake(script, { host: '127.0.110.204' });
    const { db, dir } = each.temp();
    const pw = path.join(dir, 'pw');
    fs.writeFileSync(pw, `${'Secr3t'.repeat(10)}\n`);
    const user = `acct.${'w'.repeat(420)}`;
    const run = await control([
      'addpool',
      'stratum+tcp://p.example:3333',
      user,
      fake.target.key,
      '--password-file',
      pw,
      '--yes',
      '--db',
      db,
    ]);
    expect(run.json.results[0]).toMatchObject({ result: 'failed', error: { kind: 'api', code: 53 } });
    const sqlite = new Database(db, { readonly: true });
    const logged = JSON.stringify(sqlite.prepare('SELECT * FROM command_log').all());
    sqlite.close();
    for (const text of [run.out, run.err, logged]) expect(text).not.toMatch(/Secr3t|ecr3t/);
  });
});

describe('a removepool on a miner whose pools cannot be read', () => {
  /**
   * `removepool POOL` on a miner that says it removed the pool, while its `pools` read fails with
   * E/8 whenever `poolsFail(writes so far)` holds.
   */
  async function removeWithPoolsFailing(pool: number, host: string, poolsFail: (writes: number) => boolean) {
    const miner = minerAnswering(() => ({
      kind: 'reply',
      bytes: cgminerReply('X', [], {
        STATUS: 'S',
        Code: 68,
        Msg: `Removed pool ${pool}:'stratum+tcp://p:3333'`,
      }),
    }));
    const script = (request: string): Behaviour => {
      const { command } = JSON.parse(request) as { command: string };
      if (command === 'pools' && poolsFail(miner.writes.length))
        return { kind: 'reply', bytes: cgminerReply('X', [], { STATUS: 'E', Code: 8, Msg: 'No pools' }) };
      return miner.script(request);
    };
    const fake = await each.fake(script, { host });
    const run = await control([
      'removepool',
      String(pool),
      fake.target.key,
      '--yes',
      '--verify-timeout',
      '500ms',
      '--db',
      each.temp().db,
    ]);
    return { run, writes: miner.writes };
  }

  it('is not verified by an empty pool list: a miner never has none after a removepool', async () => {
    // The pools read fails (before and after the write) while the rest of the miner answers: the
    // read-back sees no pools at all, which is no sign that pool 1 went.
    const { run, writes } = await removeWithPoolsFailing(1, '127.0.110.205', () => true);
    expect(run.json.results[0]).toMatchObject({ ok: false, result: 'unknown' });
    expect(run.code).toBe(1);
    expect(writes).toEqual(['removepool']);
  });

  it('read before the write but not after it: unknown, not "the pool is gone"', async () => {
    const { run, writes } = await removeWithPoolsFailing(0, '127.0.110.206', (done) => done > 0);
    expect(run.json.results[0]).toMatchObject({ ok: false, result: 'unknown' });
    expect(writes).toEqual(['removepool']);
  });
});
