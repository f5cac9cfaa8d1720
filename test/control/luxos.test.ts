// `hashctl control` on LuxOS as LUXminer answers it: a session for every write, and the commands
// LUXminer has (Luxor's own command list; CGMINER-API.md §5.3, §8.4), not upstream cgminer's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { type Behaviour, cgminerReply } from '../support/fake-miner.js';
import { control, perTest, READS } from './support.js';

const each = perTest();
const HOST = '127.0.110.200';
const SESSION = 'yJN2nlj1';

/**
 * A LUXminer: reads answered singly (joined requests refused), `logon`/`logoff`, and `resetminer`
 * with the session id restarting the mining process (its Elapsed starts again). Any other command,
 * upstream `restart` included, is E/14 as LUXminer has no such command.
 */
function luxminer(sessionId = SESSION) {
  const state = { bootedAtS: 1_000, nowS: 50_000, session: null as string | null, writes: [] as string[] };
  const reply = (bytes: string): Behaviour => ({ kind: 'reply', bytes });
  const status = (STATUS: string, Code: number, Msg: string) => ({ STATUS, Code, Msg });
  const script = (request: string): Behaviour => {
    state.nowS += 1;
    const { command, parameter } = JSON.parse(request) as { command: string; parameter?: string };
    switch (command) {
      case 'version':
        return reply(
          cgminerReply(
            'VERSION',
            [
              {
                API: '3.7',
                LUXminer: '2025.4.8.220305-57b389c7',
                Miner: '2025.4.8',
                Type: 'Antminer S19k Pro',
              },
            ],
            status('S', 22, 'LUXminer versions'),
          ),
        );
      case 'summary':
        return reply(
          cgminerReply(
            'SUMMARY',
            [{ Elapsed: state.nowS - state.bootedAtS, 'GHS 5s': 120_000, 'GHS av': 120_000 }],
            status('S', 11, 'Summary'),
          ),
        );
      case 'pools':
        return reply(
          cgminerReply('POOLS', [
            { POOL: 0, URL: 'stratum+tcp://p:3333', User: 'w', Status: 'Alive', Priority: 0 },
          ]),
        );
      case 'logon':
        state.session = sessionId;
        return reply(
          cgminerReply('SESSION', [{ SessionID: sessionId }], status('S', 316, 'Session created')),
        );
      case 'logoff':
        state.session = null;
        return reply(cgminerReply('SESSION', [], status('S', 317, 'Session released')));
      case 'resetminer':
        state.writes.push(`${command}|${parameter ?? ''}`);
        if (parameter !== state.session)
          return reply(cgminerReply('X', [], status('E', 318, 'Invalid session id')));
        state.session = null;
        state.bootedAtS = state.nowS;
        return reply(cgminerReply('RESETMINER', [], status('S', 306, 'Resetting LUXminer')));
      default:
        if (!command.includes('+') && !READS.has(command)) state.writes.push(`${command}|${parameter ?? ''}`);
        return reply(cgminerReply('X', [], status('E', 14, 'Invalid command')));
    }
  };
  return { script, state };
}

describe('LuxOS restart', () => {
  it('is resetminer with the session id (LUXminer has no restart), verified by the uptime', async () => {
    const miner = luxminer();
    const fake = await each.fake(miner.script, { host: HOST });
    const run = await control([
      'restart',
      fake.target.key,
      '--yes',
      '--verify-timeout',
      '2s',
      '--db',
      each.temp().db,
    ]);
    const result = run.json.results[0];
    expect(result).toMatchObject({ dialect: 'luxos', result: 'verified', ok: true });
    expect(result?.requests).toEqual([
      '{"command":"logon"}',
      '{"command":"resetminer","parameter":"{session}"}',
      '{"command":"logoff","parameter":"{session}"}',
    ]);
    expect(miner.state.writes).toEqual([`resetminer|${SESSION}`]);
    expect(run.code).toBe(0);
  });
});

describe('a LuxOS session id that cannot be sent', () => {
  it('fails the write unsent, and the refusal quotes no part of the addpool password', async () => {
    const miner = luxminer('ab.cd');
    const fake = await each.fake(miner.script, { host: HOST });
    const { db, dir } = each.temp();
    const pw = path.join(dir, 'pw');
    const password = 'Secr3tPassw0rdThatIsLongEnough';
    fs.writeFileSync(pw, `${password}\n`);
    const run = await control([
      'addpool',
      'stratum+tcp://p.example:3333',
      'w1',
      fake.target.key,
      '--password-file',
      pw,
      '--yes',
      '--db',
      db,
    ]);
    expect(run.json.results[0]).toMatchObject({ dialect: 'luxos', result: 'failed', ok: false });
    expect(run.json.results[0]?.error?.attempts).toBe(0);
    expect(miner.state.writes).toEqual([]);
    const sqlite = new Database(db, { readonly: true });
    const logged = JSON.stringify(sqlite.prepare('SELECT * FROM command_log').all());
    sqlite.close();
    for (const text of [run.out, run.err, logged]) expect(text, text).not.toMatch(/Secr3t/);
  });
});
