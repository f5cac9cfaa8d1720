// `hashctl control` on a simulated Whatsminer: pause/resume/restart over the v2 write path (token +
// AES), verified by read-back, sent once; a wrong password, a disabled write API and a missing
// password each end clearly; the admin password never appears in output or command_log.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext, sleep } from '../../src/context.js';
import { type Farm, type FarmOptions, startFarm } from '../../src/sim/index.js';
import { startProxy } from '../support/proxy.js';
import { cli, control, tempDir } from './support.js';

const PASSWORD = 'Zq9_pw77';

let farm: Farm | null = null;
let temp: ReturnType<typeof tempDir> | null = null;
afterEach(async () => {
  await farm?.stop();
  farm = null;
  temp?.remove();
  temp = null;
});

async function whatsminer(options: FarmOptions = {}): Promise<{ farm: Farm; key: string }> {
  farm = await startFarm({ profile: 'whatsminer', count: 1, basePort: 0, restartDelayMs: 300, ...options });
  farm.miners[0]!.state.adminPassword = PASSWORD;
  return { farm, key: farm.inventory()[0] as string };
}

function files(password = PASSWORD): { db: string; pw: string } {
  temp ??= tempDir();
  const pw = path.join(temp.dir, `pw-${password.length}-${Math.floor(Math.random() * 1e9)}`);
  fs.writeFileSync(pw, `${password}\n`);
  return { db: temp.db, pw };
}

/** What the miner got beyond reads: get_token and the encrypted requests ('' in its log). */
function tokenAndEncrypted(f: Farm): string[] {
  return f.commandLog
    .map((e) => e.command)
    .filter((c) => c === 'get_token' || c === '')
    .map((c) => (c === '' ? 'enc' : c));
}

function commandLogText(db: string): string {
  const sqlite = new Database(db, { readonly: true });
  try {
    return JSON.stringify(sqlite.prepare('SELECT * FROM command_log ORDER BY id').all());
  } finally {
    sqlite.close();
  }
}

describe('Whatsminer pause / resume / restart', () => {
  it('each is get_token then one encrypted write, verified by read-back; the password is never shown or stored', async () => {
    const { farm: f, key } = await whatsminer({ writes: 'allow' });
    const { db, pw } = files();
    const miner = f.miners[0]!;

    const paused = await control(['pause', key, '--yes', '--admin-password-file', pw, '--db', db]);
    expect(paused.code).toBe(0);
    expect(paused.json.results[0]).toMatchObject({
      dialect: 'whatsminer',
      result: 'verified',
      request: '{"enc":1,"data":{"cmd":"power_off","respbefore":"true","token":"***"}}',
      requests: [
        '{"cmd":"get_token"}',
        '{"enc":1,"data":{"cmd":"power_off","respbefore":"true","token":"***"}}',
      ],
      verification: { confirmed: true, detail: 'state sleeping, not hashing' },
    });
    expect(miner.state.sleeping).toBe(true);
    expect(tokenAndEncrypted(f)).toEqual(['get_token', 'enc']);

    const resumed = await control(['resume', key, '--yes', '--admin-password-file', pw, '--db', db]);
    expect(resumed.json.results[0]).toMatchObject({ result: 'verified' });
    expect(miner.state.sleeping).toBe(false);

    const restarts = miner.state.restarts;
    const restarted = await control(['restart', key, '--yes', '--admin-password-file', pw, '--db', db]);
    expect(restarted.code).toBe(0);
    expect(restarted.json.results[0]).toMatchObject({
      result: 'verified',
      request: '{"enc":1,"data":{"cmd":"restart_btminer","token":"***"}}',
    });
    expect(restarted.json.results[0]?.verification?.detail).toMatch(/^uptime \d+s \(was \d+s\)$/);
    expect(miner.state.restarts).toBe(restarts + 1);
    expect(tokenAndEncrypted(f)).toEqual(['get_token', 'enc', 'get_token', 'enc', 'get_token', 'enc']);

    for (const run of [paused, resumed, restarted]) expect(run.out + run.err).not.toContain(PASSWORD);
    const logged = commandLogText(db);
    expect(logged).toContain('power_off');
    expect(logged).not.toContain(PASSWORD);
  });

  it('a wrong password: failed, kind denied, E/135 named, the write sent once and nothing changed', async () => {
    const { farm: f, key } = await whatsminer({ writes: 'allow' });
    const { db, pw } = files('admin');
    const run = await control(['pause', key, '--yes', '--admin-password-file', pw, '--db', db]);
    expect(run.code).toBe(1);
    expect(run.json.results[0]).toMatchObject({
      result: 'failed',
      ok: false,
      error: { kind: 'denied', code: 135, msg: 'check token error' },
    });
    expect(run.json.results[0]?.error?.message).toMatch(/rejected the token .*wrong admin password/);
    expect(run.json.results[0]?.verification).toBeUndefined();
    expect(tokenAndEncrypted(f)).toEqual(['get_token', 'enc']);
    expect(f.miners[0]!.state.sleeping).toBe(false);
    expect(commandLogText(db)).toContain('"error_code":135');
  });

  it('write API disabled (the stock default): refused, E/45 from the encrypted reply, sent once', async () => {
    const { farm: f, key } = await whatsminer();
    const { db, pw } = files();
    const run = await control(['resume', key, '--yes', '--admin-password-file', pw, '--db', db]);
    expect(run.code).toBe(1);
    expect(run.json.results[0]).toMatchObject({
      result: 'refused',
      error: { kind: 'denied', code: 45, msg: "can't access write cmd" },
    });
    expect(run.json.results[0]?.error?.message).toMatch(/write API is disabled/);
    expect(tokenAndEncrypted(f)).toEqual(['get_token', 'enc']);
  });

  it('no password and no terminal: skipped with the reason, not even a token asked', async () => {
    const { farm: f, key } = await whatsminer({ writes: 'allow' });
    const { db } = files();
    const run = await control(['pause', key, '--yes', '--db', db]);
    expect(run.code).toBe(1);
    expect(run.json.results[0]).toMatchObject({ result: 'skipped', error: { kind: 'skipped' } });
    expect(run.json.results[0]?.error?.message).toMatch(/--admin-password-file/);
    expect(tokenAndEncrypted(f)).toEqual([]);
  });

  it('on a terminal the password is asked with echo off, then the confirmation', async () => {
    const { farm: f, key } = await whatsminer({ writes: 'allow' });
    const { db } = files();
    const ctx = memoryContext({
      stdin: Object.assign(Readable.from([`${PASSWORD}\n`, 'y\n']), { isTTY: true }),
    });
    const code = await runCli(['control', 'pause', key, '--db', db], ctx);
    expect(ctx.err()).toMatch(/Whatsminer admin password: \n.*pause on 1 miner\? \[y\/N\]/s);
    expect(code).toBe(0);
    expect(f.miners[0]!.state.sleeping).toBe(true);
    expect(ctx.out() + ctx.err()).not.toContain(PASSWORD);
  });

  it('--dry-run shows the plan and sends neither token nor write; pool actions stay unsupported', async () => {
    const { farm: f, key } = await whatsminer({ writes: 'allow' });
    const { pw } = files();
    const dry = await control(['restart', key, '--dry-run', '--admin-password-file', pw]);
    expect(dry.json.results[0]).toMatchObject({
      result: 'planned',
      requests: ['{"cmd":"get_token"}', '{"enc":1,"data":{"cmd":"restart_btminer","token":"***"}}'],
    });
    const pool = await control(['switchpool', '1', key, '--yes', '--db', files().db]);
    expect(pool.json.results[0]).toMatchObject({ result: 'unsupported' });
    expect(pool.json.results[0]?.error?.message).toMatch(/update_pools.*passwords/);
    expect(tokenAndEncrypted(f)).toEqual([]);
  });

  it('--admin-password-file is refused for actions that do not take it, and when unreadable, before traffic', async () => {
    const { farm: f, key } = await whatsminer({ writes: 'allow' });
    const { pw } = files();
    for (const args of [
      ['switchpool', '1', key, '--yes', '--admin-password-file', pw],
      ['pause', key, '--yes', '--admin-password-file', `${pw}.missing`],
    ]) {
      const run = await cli(['control', ...args]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.err.split('\n')[0]).toMatch(/admin-password-file/);
    }
    expect(f.commandLog).toHaveLength(0);
  });
});

describe('Whatsminer capabilities', () => {
  it('maps pause/resume/restart as unknown (needs the admin password) and asks no token', async () => {
    const { farm: f, key } = await whatsminer({ writes: 'allow' });
    const run = await cli(['control', 'capabilities', key, '--json']);
    expect(run.code).toBe(0);
    // One single host: its per-target object itself, no `results` around it.
    const result = JSON.parse(run.out) as Record<string, unknown>;
    expect(result).not.toHaveProperty('results');
    expect(result).toMatchObject({
      target: key,
      dialect: 'whatsminer',
      write_access: null,
      actions: {
        pause: 'unknown',
        resume: 'unknown',
        restart: 'unknown',
        switchpool: 'unsupported',
        addpool: 'unsupported',
      },
    });
    expect(result?.write_access_note).toMatch(/^unknown — needs the admin password/);
    expect(f.commandLog.map((e) => e.command)).not.toContain('get_token');
    expect(f.commandLog.map((e) => e.command)).not.toContain('privileged');
    expect(f.commandLog.map((e) => e.command)).not.toContain('');
  });
});

describe('Whatsminer writes and --retries', () => {
  it('the encrypted write is retried per --retries while nothing of it left (refused), and sent once', async () => {
    const { farm: f } = await whatsminer({ writes: 'allow' });
    const { db, pw } = files();
    // In front of the miner: once get_token has been asked, the port refuses the next connection
    // (the encrypted write's); the retry's backoff opens it again.
    const proxy = await startProxy(f.miners[0]!.port, {
      onRequest: (request, self) => {
        if (request.includes('get_token')) self.refuse();
      },
    });
    try {
      const ctx = memoryContext({
        stdin: Object.assign(Readable.from([]), { isTTY: false }),
        sleep: async (ms, signal) => {
          await proxy.reopen();
          await sleep(Math.min(ms, 50), signal);
        },
      });
      const code = await runCli(
        ['control', 'pause', proxy.key, '--yes', '--admin-password-file', pw, '--db', db, '--json'],
        ctx,
      );
      const result = JSON.parse(ctx.out()) as Record<string, unknown>;
      expect(result, ctx.err()).toMatchObject({ result: 'verified', ok: true });
      expect(code).toBe(0);
      expect(f.miners[0]!.state.sleeping).toBe(true);
      // The write reached the miner once, after one refused connection.
      expect(tokenAndEncrypted(f)).toEqual(['get_token', 'enc']);
      expect(proxy.requests.filter((r) => r.startsWith('{"enc"'))).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('with --retries 0 the refused write fails as refused, nothing sent', async () => {
    const { farm: f } = await whatsminer({ writes: 'allow' });
    const { db, pw } = files();
    const proxy = await startProxy(f.miners[0]!.port, {
      onRequest: (request, self) => {
        if (request.includes('get_token')) self.refuse();
      },
    });
    try {
      const run = await control(['pause', proxy.key, '--yes', '--admin-password-file', pw, '--db', db]);
      expect(run.code).toBe(1);
      expect(run.json.results[0]).toMatchObject({
        result: 'failed',
        error: { kind: 'refused', attempts: 1 },
      });
      expect(tokenAndEncrypted(f)).toEqual(['get_token']);
      expect(f.miners[0]!.state.sleeping).toBe(false);
    } finally {
      await proxy.close();
    }
  });
});
