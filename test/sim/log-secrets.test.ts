// `simulate --log FILE` is a file people hand on (to a colleague, into a bug report): the pool and
// admin passwords the farm received must not be in it, while each line still says which command
// came, to which miner, with which visible fields. The in-process log keeps the wire as it was.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { exchange, lenient } from './support.js';

const HOST = '127.0.122.20';
let farm: Farm | null = null;
let dir: string | null = null;
afterEach(async () => {
  await farm?.stop();
  farm = null;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = null;
});

interface Line {
  command: string;
  parameter: string | null;
}

/** Starts one miner of `profile` logging to a file, sends `requests` in turn, stops, reads the log. */
async function logged(profile: string, requests: (string | ((sid: string) => string))[]): Promise<Line[]> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-simlog-'));
  const logFile = path.join(dir, 'sim.ndjson');
  farm = await startFarm({ profile, host: HOST, basePort: 0, count: 1, writes: 'allow', logFile });
  const port = (farm.miners[0] as { port: number }).port;
  let sid = '';
  for (const request of requests) {
    const text = typeof request === 'string' ? request : request(sid);
    const reply = await exchange(port, text, HOST, 3000, true);
    if (text.includes('"logon"')) {
      const session = lenient(reply.bytes).SESSION as { SessionID: string }[] | undefined;
      sid = session?.[0]?.SessionID ?? sid;
    }
  }
  await farm.stop();
  farm = null;
  const content = fs.readFileSync(logFile, 'utf8');
  return content
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Line);
}

const SECRETS = ['s3cr3t-pw', 'lux-pa55', 'auth-pa55', 'worker-pa55', 'new-admin-pa55', 'pa55,with,commas'];

function expectNoSecret(lines: Line[]): void {
  const text = JSON.stringify(lines);
  for (const secret of SECRETS) for (const part of secret.split(',')) expect(text).not.toContain(part);
}

describe('simulate --log keeps no password', () => {
  it('addpool (JSON and text, escaped commas): the URL and user stay, the password is ***', async () => {
    const lines = await logged('cgminer', [
      JSON.stringify({
        command: 'addpool',
        parameter: 'stratum+tcp://pool.example:3333,acct.rig7,s3cr3t-pw',
      }),
      'addpool|stratum+tcp://pool.example:3333,ac\\,ct,pa55\\,with\\,commas',
      'addpool|stratum+tcp://pool.example:3333,acct,pa55,with,commas',
      'switchpool|1',
    ]);
    expectNoSecret(lines);
    expect(lines.map((l) => [l.command, l.parameter])).toEqual([
      ['addpool', 'stratum+tcp://pool.example:3333,acct.rig7,***'],
      ['addpool', 'stratum+tcp://pool.example:3333,ac\\,ct,***'],
      ['addpool', 'stratum+tcp://pool.example:3333,acct,***'],
      ['switchpool', '1'],
    ]);
  });

  it('LuxOS: the session id and pool fields stay, the password after them is ***', async () => {
    const lines = await logged('luxos', [
      JSON.stringify({ command: 'logon' }),
      (sid) =>
        JSON.stringify({
          command: 'addpool',
          parameter: `${sid},stratum+tcp://pool.example:3333,acct,lux-pa55`,
        }),
      // A client that forgot the session: the password is still the third field.
      JSON.stringify({ command: 'addpool', parameter: 'stratum+tcp://pool.example:3333,acct,lux-pa55' }),
      (sid) => JSON.stringify({ command: 'switchpool', parameter: `${sid},1` }),
    ]);
    expectNoSecret(lines);
    const sid = (lines[3]?.parameter ?? '').split(',')[0] as string;
    expect(sid).not.toBe('');
    expect(lines.map((l) => [l.command, l.parameter])).toEqual([
      ['logon', null],
      ['addpool', `${sid},stratum+tcp://pool.example:3333,acct,***`],
      ['addpool', 'stratum+tcp://pool.example:3333,acct,***'],
      ['switchpool', `${sid},1`],
    ]);
  });

  it('Avalon ascset setpool and password, and the commands whose whole parameter is a secret', async () => {
    const lines = await logged('avalon', [
      'ascset|0,setpool,root,auth-pa55,0,stratum+tcp://pool.example:3333,worker.1,worker-pa55',
      'ascset|0,password,auth-pa55,new-admin-pa55',
      'ascset|0,setpool,root,auth-pa55',
      JSON.stringify({ command: 'update_pwd', parameter: 'admin,new-admin-pa55' }),
      JSON.stringify({ command: 'logon', parameter: 'root,auth-pa55' }),
      'ascset|0,softoff,1:1700000000',
    ]);
    expectNoSecret(lines);
    expect(lines.map((l) => [l.command, l.parameter])).toEqual([
      ['ascset', '0,setpool,root,***,0,stratum+tcp://pool.example:3333,worker.1,***'],
      ['ascset', '0,password,***'],
      ['ascset', '0,setpool,root,***'],
      ['update_pwd', '***'],
      ['logon', '***'],
      ['ascset', '0,softoff,1:1700000000'],
    ]);
  });

  const url = 'stratum+tcp://farm:url-pa55@pool.example:3333';
  const shown = 'stratum+tcp://***@pool.example:3333';
  it.each([
    ['cgminer', [JSON.stringify({ command: 'addpool', parameter: `${url},acct,x` })], `${shown},acct,***`],
    [
      'luxos',
      [
        JSON.stringify({ command: 'logon' }),
        (sid: string) => JSON.stringify({ command: 'addpool', parameter: `${sid},${url},acct,x` }),
      ],
      `{sid},${shown},acct,***`,
    ],
    [
      'avalon',
      [`ascset|0,setpool,root,auth-pa55,0,${url},worker.1,worker-pa55`],
      `0,setpool,root,***,0,${shown},worker.1,***`,
    ],
  ] as const)(
    'credentials inside a pool URL are *** too, the host stays (%s)',
    async (profile, requests, want) => {
      const lines = await logged(profile, [...requests]);
      const last = lines[lines.length - 1]?.parameter ?? '';
      const sid = profile === 'luxos' ? last.split(',')[0] : '';
      expect(last).toBe(want.replace('{sid}', sid ?? ''));
      expect(JSON.stringify(lines)).not.toContain('url-pa55');
    },
  );

  it('a request it could not parse is not logged raw when it may carry a password', async () => {
    const lines = await logged('cgminer', [
      // Cut short: never valid JSON, logged by its text.
      '{"command":"addpool","parameter":"stratum+tcp://pool.example:3333,acct,s3cr3t-pw"',
      '{"command":"summary"',
    ]);
    expectNoSecret(lines);
    expect(lines[1]?.command).toBe('{"command":"summary"');
  });
});

describe('simulate --log is safe to read on a terminal', () => {
  it('writes bidi overrides, C1 controls and line separators from a request as \\u escapes', async () => {
    const hostile = 'pool\u202egnp.exe\u009b2J\u2028\u200b';
    const lines = await logged('cgminer', [`switchpool|${hostile}`, `summary\u009b31m`]);
    expect(lines.map((l) => [l.command, l.parameter])).toEqual([
      ['switchpool', hostile],
      ['summary\u009b31m', null],
    ]);
    const text = fs.readFileSync(path.join(dir as string, 'sim.ndjson'), 'utf8');
    expect(text).not.toMatch(/[\u007f-\u009f\u200b-\u200f\u2028-\u202e]/);
    expect(text).toContain('\\u202e');
  });
});
