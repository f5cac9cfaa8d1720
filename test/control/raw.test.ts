// `control raw` and passwords: raw addpool is refused (its password would come from a flag), and the
// password positions of the other commands known to carry one are `***` in every output and log.
import * as fs from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { validateAction } from '../../src/control/dialects.js';
import { type FakeMiner, cgminerReply } from '../support/fake-miner.js';
import { cli, control, perTest } from './support.js';

const each = perTest();

/** Every byte hashctl left behind in its database files. */
function databaseBytes(): string {
  const { dir } = each.temp();
  return fs
    .readdirSync(dir)
    .filter((name) => name.startsWith('hashctl.db'))
    .map((name) => fs.readFileSync(`${dir}/${name}`).toString('latin1'))
    .join('');
}

/** A miner that answers every write E/120 quoting the parameter it got, as firmwares echo pool strings. */
async function echoingMiner(): Promise<FakeMiner> {
  return each.fake((request) => {
    const { parameter } = JSON.parse(request) as { parameter?: string };
    return {
      kind: 'reply',
      bytes: cgminerReply('ASCSET', [], {
        STATUS: 'E',
        Code: 120,
        Msg: `ASC 0 set failed: ${parameter ?? ''}`,
      }),
    };
  });
}

describe('control raw and passwords', () => {
  it('raw addpool is a usage error pointing to control addpool --password-file; the password is not echoed, nothing sent', async () => {
    const farm = await each.farm({ basePort: 0, count: 1, profile: 'cgminer', writes: 'allow' });
    const secret = 'RawSecret77';
    for (const extra of [[], ['--json'], ['--dry-run']]) {
      const run = await cli([
        'control',
        'raw',
        'addpool',
        farm.inventory()[0]!,
        '--param',
        `stratum+tcp://r.example:3333,wr,${secret}`,
        '--yes',
        '--db',
        each.temp().db,
        ...extra,
      ]);
      expect(run.code, extra.join(' ')).toBe(2);
      expect(run.err.trim().split('\n')).toHaveLength(1);
      expect(run.err).toMatch(/control addpool .*--password-file/);
      expect(run.out + run.err).not.toContain(secret);
    }
    expect(farm.commandLog).toHaveLength(0);
    expect(databaseBytes()).not.toContain(secret);
  });

  it('Avalon ascset setpool: both passwords are *** in the table, the summary, the JSON and command_log, and scrubbed from the echo', async () => {
    const miner = await echoingMiner();
    const [authSecret, poolSecret] = ['AuthSecret9', 'PoolSecret8'];
    const parameter = `0,setpool,root,${authSecret},0,stratum+tcp://p.example:3333,w1,${poolSecret}`;
    const shown = '0,setpool,root,***,0,stratum+tcp://p.example:3333,w1,***';
    const args = ['raw', 'ascset', miner.target.key, '--param', parameter, '--yes', '--db', each.temp().db];

    const table = await cli(['control', ...args, '--timeout', '2s', '--retries', '0']);
    const json = await control(args);
    for (const run of [table, json]) {
      expect(run.code).toBe(1);
      expect(run.out + run.err).not.toContain(authSecret);
      expect(run.out + run.err).not.toContain(poolSecret);
    }
    expect(table.out).toContain(shown);
    expect(table.err).toContain(`raw ascset ${shown}: 1 failed`);
    expect(json.json.action).toBe(`raw ascset ${shown}`);
    expect(json.json.results[0]).toMatchObject({
      result: 'failed',
      request: JSON.stringify({ command: 'ascset', parameter: shown }),
      error: { kind: 'api', code: 120, msg: `ASC 0 set failed: ${shown}` },
    });
    // The miner got the real parameter, once per run.
    expect(miner.requests.map((r) => JSON.parse(r).parameter)).toEqual([parameter, parameter]);

    const sqlite = new Database(each.temp().db, { readonly: true });
    try {
      const rows = sqlite.prepare('SELECT request, error_message FROM command_log').all();
      expect(rows).toHaveLength(2);
      expect(JSON.stringify(rows)).toContain(shown);
    } finally {
      sqlite.close();
    }
    expect(databaseBytes()).not.toContain(authSecret);
    expect(databaseBytes()).not.toContain(poolSecret);
  });

  it('other commands that carry a password are hidden too (dry run: nothing sent)', async () => {
    const miner = await echoingMiner();
    for (const [command, parameter, shown] of [
      ['ascset', '0,password,OldPass1,NewPass2', '0,password,***'],
      ['update_pwd', 'OldPass1,NewPass2', '***'],
      ['logon', 'admin,OldPass1', '***'],
    ] as const) {
      const run = await control(['raw', command, miner.target.key, '--param', parameter, '--dry-run']);
      expect(run.code, command).toBe(0);
      expect(run.json.action).toBe(`raw ${command} ${shown}`);
      expect(run.json.results[0]?.request).toBe(JSON.stringify({ command, parameter: shown }));
      expect(run.out + run.err).not.toMatch(/OldPass1|NewPass2/);
    }
    expect(miner.requests).toEqual([]);
  });

  it('a raw parameter refused by the encoder is not quoted when it carries a password', () => {
    const secret = 'Auth\tSecret9';
    let error: unknown;
    try {
      validateAction({
        name: 'raw',
        command: 'ascset',
        parameter: `0,setpool,root,${secret},0,stratum+tcp://p:3333,w1,x`,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/control character/);
    expect((error as Error).message).not.toMatch(/Auth.Secret9/);
  });

  it('a multi-command is never quoted either, and one holding addpool is refused like addpool', () => {
    const refusal = (command: string, parameter: string) => {
      try {
        validateAction({ name: 'raw', command, parameter });
      } catch (caught) {
        return (caught as Error).message;
      }
      return 'accepted';
    };
    expect(refusal('update_pwd+summary', 'OLDPW77,NEWPW77')).toBe(
      'cannot send update_pwd+summary: a multi-command takes no parameter (cgminer drops it) (the parameter is not shown: it may carry a password)',
    );
    expect(refusal('ascset+pools', '0,password,ADMINPW77')).not.toMatch(/ADMINPW77/);
    for (const command of ['addpool+pools', 'pools+addpool'])
      expect(refusal(command, 'stratum+tcp://x:1,u,SECRETPW1')).toMatch(
        /^raw addpool would take the pool password/,
      );
  });
});
