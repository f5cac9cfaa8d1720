// A pool URL may carry credentials (`stratum+tcp://user:password@host:port`): the user's in an
// addpool, or a pool the miner already lists and echoes back in its messages ("Cannot remove active
// pool 0:'…'"). Control never prints them: not in the table, --json, stderr, --dry-run or command_log.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Behaviour, cgminerReply } from '../support/fake-miner.js';
import { cli, control, perTest, plainS9 } from './support.js';

const each = perTest();

const SECRET = 'Hunt3rPw';
const WITH_CREDENTIALS = `stratum+tcp://farm:${SECRET}@pool.example:3333`;

/** A plain S9 whose pools change as cgminer changes them, echoing the URL in its messages as cgminer does. */
function statefulS9(initial: { URL: string; User: string }[], options: { ignoreRemove?: boolean } = {}) {
  const pools = initial.map((pool, index) => ({
    POOL: index,
    URL: pool.URL,
    User: pool.User,
    Status: 'Alive',
    Priority: index,
    'Stratum Active': index === 0,
  }));
  const base = plainS9({ pools });
  const writes: string[] = [];
  const answer = (STATUS: string, Code: number, Msg: string): Behaviour => ({
    kind: 'reply',
    bytes: cgminerReply('X', [], { STATUS, Code, Msg }),
  });
  const script = (request: string): Behaviour => {
    const { command, parameter } = JSON.parse(request) as { command: string; parameter?: string };
    if (command === 'addpool') {
      writes.push(command);
      const [url = '', user = ''] = (parameter ?? '').split(',');
      pools.push({
        POOL: pools.length,
        URL: url,
        User: user,
        Status: 'Alive',
        Priority: pools.length,
        'Stratum Active': false,
      });
      return answer('S', 55, `Added pool ${pools.length - 1}: '${url}'`);
    }
    if (command === 'removepool') {
      writes.push(command);
      const index = Number(parameter);
      const pool = pools.find((p) => p.POOL === index);
      if (!pool) return answer('E', 26, `Invalid pool id ${index}`);
      if (pool.Priority === 0) return answer('E', 67, `Cannot remove active pool ${index}:'${pool.URL}'`);
      if (!options.ignoreRemove) pools.splice(pools.indexOf(pool), 1);
      return answer('S', 68, `Removed pool ${index}:'${pool.URL}'`);
    }
    return base.script(request);
  };
  return { script, writes, pools };
}

function commandLog(db: string): string {
  const sqlite = new Database(db, { readonly: true });
  try {
    return JSON.stringify(sqlite.prepare('SELECT * FROM command_log').all());
  } finally {
    sqlite.close();
  }
}

describe('credentials in a pool URL', () => {
  it('addpool: the URL password shows nowhere (table, --json, stderr, --dry-run, command_log), and it still verifies', async () => {
    const miner = statefulS9([{ URL: 'stratum+tcp://p:3333', User: 'w' }]);
    const fake = await each.fake(miner.script);
    const { db, dir } = each.temp();
    const pw = path.join(dir, 'pw');
    fs.writeFileSync(pw, 'x\n');
    const args = ['addpool', WITH_CREDENTIALS, 'acct.rig1', fake.target.key, '--password-file', pw];
    const dry = await cli(['control', ...args, '--dry-run']);
    expect(dry.code).toBe(0);
    const json = await control([...args, '--yes', '--db', db]);
    expect(json.code).toBe(0);
    expect(json.json.results[0]).toMatchObject({ result: 'verified' });
    const table = await cli(['control', ...args, '--yes', '--db', db, '--retries', '0']);
    expect(table.code).toBe(0);
    // Sent as given (the miner needs it), twice: once per real run.
    expect(miner.writes).toEqual(['addpool', 'addpool']);
    expect(miner.pools.filter((p) => p.URL === WITH_CREDENTIALS)).toHaveLength(2);
    for (const text of [dry.out, dry.err, json.out, json.err, table.out, table.err, commandLog(db)])
      expect(text).not.toContain(SECRET);
    // What is shown still says which pool: the host, with the credentials masked.
    expect(table.out).toContain('stratum+tcp://***@pool.example:3333');
  });

  it("removepool: a listed pool's URL credentials are masked in the read-back and in the miner's own message", async () => {
    const miner = statefulS9([
      { URL: WITH_CREDENTIALS, User: 'farm.a' },
      { URL: `stratum+tcp://farm:${SECRET}@backup.example:3333`, User: 'farm.b' },
    ]);
    const fake = await each.fake(miner.script);
    const { db } = each.temp();
    const gone = await control(['removepool', '1', fake.target.key, '--yes', '--db', db]);
    expect(gone.json.results[0]).toMatchObject({ result: 'verified' });
    const active = await control(['removepool', '0', fake.target.key, '--yes', '--db', db]);
    expect(active.code).toBe(1);
    expect(active.json.results[0]).toMatchObject({ result: 'failed', error: { code: 67 } });
    expect(miner.writes).toEqual(['removepool', 'removepool']);
    for (const text of [gone.out, gone.err, active.out, active.err, commandLog(db)])
      expect(text).not.toContain(SECRET);
  });

  it('removepool answered done but the pool still listed: unknown, and its "still listed" masks the URL', async () => {
    const miner = statefulS9(
      [
        { URL: 'stratum+tcp://p:3333', User: 'w' },
        { URL: WITH_CREDENTIALS, User: 'farm.b' },
      ],
      { ignoreRemove: true },
    );
    const fake = await each.fake(miner.script);
    const { db } = each.temp();
    const run = await control([
      'removepool',
      '1',
      fake.target.key,
      '--yes',
      '--verify-timeout',
      '300ms',
      '--db',
      db,
    ]);
    expect(run.code).toBe(1);
    expect(run.json.results[0]).toMatchObject({ result: 'unknown', error: { kind: 'unverified' } });
    expect(run.json.results[0]?.error?.message).toContain('stratum+tcp://***@pool.example:3333');
    expect(miner.writes).toEqual(['removepool']);
    for (const text of [run.out, run.err, commandLog(db)]) expect(text).not.toContain(SECRET);
  });

  it('the password prompt on a terminal names the pool without its URL credentials', async () => {
    const miner = statefulS9([{ URL: 'stratum+tcp://p:3333', User: 'w' }]);
    const fake = await each.fake(miner.script);
    const stdin = Object.assign(Readable.from(['x\n', 'n\n']), { isTTY: true });
    const ctx = memoryContext({ stdin });
    const code = await runCli(
      ['control', 'addpool', WITH_CREDENTIALS, 'acct.rig1', fake.target.key, '--db', each.temp().db],
      ctx,
    );
    expect(ctx.err()).toContain('password for acct.rig1 on stratum+tcp://***@pool.example:3333: ');
    expect(code).toBe(1);
    expect(miner.writes).toEqual([]);
    expect(ctx.out() + ctx.err()).not.toContain(SECRET);
  });

  it('a URL refused for having no scheme is not quoted with its credentials (exit 2, nothing sent)', async () => {
    const miner = statefulS9([{ URL: 'stratum+tcp://p:3333', User: 'w' }]);
    const fake = await each.fake(miner.script);
    const run = await cli([
      'control',
      'addpool',
      `farm:${SECRET}@pool.example:3333`,
      'acct.rig1',
      fake.target.key,
      '--dry-run',
    ]);
    expect(run.code).toBe(2);
    expect(run.err).toContain("'***@pool.example:3333'");
    expect(run.out + run.err).not.toContain(SECRET);
    expect(fake.connections).toBe(0);
  });
});

describe('probe shows a pool URL without its credentials', () => {
  it('the table and --json mask them; --command pools still shows the reply as it came', async () => {
    const miner = statefulS9([{ URL: WITH_CREDENTIALS, User: 'farm.a' }]);
    const fake = await each.fake(miner.script);
    const table = await cli(['probe', fake.target.key, '--fields', 'target,pool', '--retries', '0']);
    const json = await cli(['probe', fake.target.key, '--json', '--retries', '0']);
    expect([table.code, json.code], table.err + json.err).toEqual([0, 0]);
    expect(table.out + table.err + json.out + json.err).not.toContain(SECRET);
    expect(table.out).toContain('***@pool.example:3333');
    const shown = JSON.parse(json.out) as { snapshot: { pools: { url: string; user: string }[] } };
    expect(shown.snapshot.pools[0]).toMatchObject({
      url: 'stratum+tcp://***@pool.example:3333',
      user: 'farm.a',
    });
    const raw = await cli(['probe', fake.target.key, '--command', 'pools', '--json', '--retries', '0']);
    expect(raw.out).toContain(SECRET);
  });
});

describe('maskUrlCredentials', () => {
  it('masks the user-info up to its last @, and nothing that is not one', async () => {
    const { maskUrlCredentials } = await import('../../src/util/url-credentials.js');
    expect(maskUrlCredentials("Removed pool 1:'stratum+tcp://u:p@ss@host:3333'")).toBe(
      "Removed pool 1:'stratum+tcp://***@host:3333'",
    );
    expect(maskUrlCredentials('{session},stratum+tcp://a:b@h:1,acct,***')).toBe(
      '{session},stratum+tcp://***@h:1,acct,***',
    );
    // An e-mail as the worker name after a URL without credentials stays as it is.
    expect(maskUrlCredentials('stratum+tcp://host:3333,me@mail.example,***')).toBe(
      'stratum+tcp://host:3333,me@mail.example,***',
    );
    expect(maskUrlCredentials('stratum+tcp://host:3333/path@x')).toBe('stratum+tcp://host:3333/path@x');
  });
});
