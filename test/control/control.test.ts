import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Farm, type FarmOptions, startFarm } from '../../src/sim/index.js';
import { cli, control, tempDir, writesSeen } from './support.js';

let farm: Farm | null = null;
let temp: ReturnType<typeof tempDir> | null = null;
afterEach(async () => {
  await farm?.stop();
  farm = null;
  temp?.remove();
  temp = null;
});

async function start(options: FarmOptions): Promise<Farm> {
  farm = await startFarm({ basePort: 0, count: 1, ...options });
  return farm;
}

function db(): string {
  temp ??= tempDir();
  return temp.db;
}

describe('safety before any traffic', () => {
  it('without --yes and without a terminal: exit 2, one line, nothing at all sent', async () => {
    const f = await start({ profile: 'cgminer', count: 2 });
    const run = await cli(['control', 'restart', ...f.inventory(), '--db', db()]);
    expect(run.code).toBe(2);
    expect(run.err.trim().split('\n')).toHaveLength(1);
    expect(run.err).toMatch(/--yes/);
    expect(f.commandLog).toHaveLength(0);
  });

  it('usage problems are exit 2 with nothing sent: bad index, control character in a URL, --stagger alone', async () => {
    const f = await start({ profile: 'cgminer' });
    const key = f.inventory()[0] as string;
    temp ??= tempDir();
    const pw = path.join(temp.dir, 'pw');
    fs.writeFileSync(pw, 'x\n');
    for (const args of [
      ['switchpool', 'one', key, '--yes'],
      ['addpool', 'stratum+tcp://a\u0007b:3333', 'w', key, '--yes', '--password-file', pw],
      ['addpool', 'stratum+tcp://a:3333', 'w,x', key, '--yes', '--password-file', pw],
      ['addpool', 'stratum+tcp://a:3333', 'w', key, '--yes'],
      ['restart', key, '--yes', '--stagger', '10s'],
      ['raw', 'Bad|cmd', key, '--yes'],
      // A canary without read-back could never be judged.
      ['restart', key, '--yes', '--canary', '1', '--no-verify'],
      // Nor can a raw command's (nothing of it is read back).
      ['raw', 'restart', key, '--yes', '--canary', '1'],
    ]) {
      const run = await cli(['control', ...args, '--db', db()]);
      expect(run.code, args.join(' ')).toBe(2);
    }
    expect(f.commandLog).toHaveLength(0);
  });

  it('an addpool URL without scheme://host (the user given first, a bare host:port) is exit 2, nothing sent', async () => {
    const f = await start({ profile: 'cgminer', writes: 'allow', host: '127.0.110.202' });
    const key = f.inventory()[0] as string;
    temp ??= tempDir();
    const pw = path.join(temp.dir, 'pw');
    fs.writeFileSync(pw, 'x\n');
    const cases = [
      // URL and user swapped: the "URL" is the worker name.
      [['acct.rig7', 'stratum+tcp://pool.example:3333'], /pool URL 'acct\.rig7'.*URL and USER swapped/],
      [['pool.example:3333', 'acct.rig7'], /pool URL 'pool\.example:3333' is not scheme:\/\/host/],
      [['stratum+tcp://', 'acct.rig7'], /pool URL 'stratum\+tcp:\/\/' is not scheme:\/\/host/],
      // No host before the port (`stratum+tcp://$POOL:3333` with POOL unset), with credentials or not.
      [['stratum+tcp://:3333', 'acct.rig7'], /pool URL 'stratum\+tcp:\/\/:3333' is not scheme:\/\/host/],
      [['stratum+tcp://farm:pw@:3333', 'acct.rig7'], /pool URL '\*\*\*@:3333' is not scheme:\/\/host/],
    ] as const;
    for (const [[url, user], why] of cases) {
      for (const mode of ['--dry-run', '--yes']) {
        const run = await cli([
          'control',
          'addpool',
          url,
          user,
          key,
          '--password-file',
          pw,
          mode,
          '--db',
          db(),
        ]);
        expect(run.code, `${url} ${mode}`).toBe(2);
        expect(run.err.trim().split('\n'), url).toHaveLength(1);
        expect(run.err, url).toMatch(why);
      }
    }
    expect(f.commandLog).toHaveLength(0);
    // What pools are given as: stratum, its V2 and TLS forms, GBT over http(s), an IPv6 host.
    for (const url of [
      'stratum+tcp://pool.example:3333',
      'stratum2+tcp://v2.pool.example/9awtMD5KQgvRUh2yFbjVeT7b6hjipWcAsQHd6wEhgtDT9soosna',
      'stratum+ssl://pool.example:443',
      'http://127.0.0.1:8332',
      'stratum+tcp://[2001:db8::1]:3333',
      'stratum+tcp://farm.acct:s3cret@pool.example:3333',
    ]) {
      const run = await cli(['control', 'addpool', url, 'w', key, '--password-file', pw, '--dry-run']);
      expect(run.code, `${url}: ${run.err}`).toBe(0);
    }
  });

  /** `control addpool stratum+tcp://p.example:3333 w1 TARGETS --password-file FILE MODE` on this test's db. */
  const addpoolWithPasswordFile = (targets: string[], file: string, mode: string) =>
    cli([
      'control',
      'addpool',
      'stratum+tcp://p.example:3333',
      'w1',
      ...targets,
      '--password-file',
      file,
      mode,
      '--db',
      db(),
    ]);

  it('a password file saved with a byte-order mark (Windows editors) sends the password, not the mark', async () => {
    const f = await start({ profile: 'cgminer', writes: 'allow', host: '127.0.110.203' });
    temp ??= tempDir();
    const pw = path.join(temp.dir, 'pw-bom');
    fs.writeFileSync(pw, '\ufeffs3cret-pw\r\n');
    const run = await addpoolWithPasswordFile(f.inventory(), pw, '--yes');
    expect(run.code, run.err).toBe(0);
    expect(writesSeen(f).map((w) => w.parameter)).toEqual(['stratum+tcp://p.example:3333,w1,s3cret-pw']);
  });

  it('an addpool password that cannot be sent is refused naming its file, never echoed', async () => {
    const f = await start({ profile: 'cgminer', writes: 'allow' });
    temp ??= tempDir();
    const cases = [
      ['tab', 'Secr3t\tPass', 'contains a control character'],
      ['del', 'Secr3t\u007fPass', 'contains a control character'],
      ['comma', 'Secr3t,Pass', "contains ',', '\\' or '|', which miners split on"],
    ] as const;
    for (const [name, password, why] of cases) {
      const pw = path.join(temp.dir, `pw-${name}.txt`);
      fs.writeFileSync(pw, `${password}\n`);
      for (const mode of ['--dry-run', '--yes']) {
        const run = await addpoolWithPasswordFile(f.inventory(), pw, mode);
        expect(run.code, `${name} ${mode}`).toBe(2);
        expect(run.err.trim().split('\n')).toHaveLength(1);
        expect(run.err).toContain(`the password from ${pw} ${why}`);
        expect(run.out + run.err).not.toMatch(/Secr3t/);
      }
    }
    expect(f.commandLog).toHaveLength(0);
  });

  it('--dry-run prints the exact request per miner and sends no write', async () => {
    const f = await start({ profile: 'cgminer', count: 2, writes: 'allow' });
    const run = await control(['switchpool', '0', ...f.inventory(), '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.json.dry_run).toBe(true);
    expect(run.json.results.map((r) => [r.target, r.result, r.request])).toEqual(
      f.inventory().map((key) => [key, 'planned', '{"command":"switchpool","parameter":"0"}']),
    );
    expect(writesSeen(f)).toEqual([]);
    expect(f.commandLog.length).toBeGreaterThan(0); // it did read the miners
    // addpool's dry run needs no password (none is sent; it shows as *** anyway), even from cron.
    const addpool = await control([
      'addpool',
      'stratum+tcp://p.example:3333',
      'w1',
      ...f.inventory(),
      '--dry-run',
    ]);
    expect(addpool.code).toBe(0);
    expect(addpool.json.results.map((r) => r.request)).toEqual(
      f.inventory().map(() => '{"command":"addpool","parameter":"stratum+tcp://p.example:3333,w1,***"}'),
    );
    expect(writesSeen(f)).toEqual([]);
  });
});

describe('one miner named twice', () => {
  it('gets its write once, whatever names it was given (an address, localhost, a mapped address)', async () => {
    const f = await start({ profile: 'cgminer', writes: 'allow' });
    const port = (f.inventory()[0] as string).split(':')[1];
    const run = await cli([
      'control',
      'switchpool',
      '0',
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::ffff:127.0.0.1]:${port}`,
      '--yes',
      '--json',
      '--db',
      db(),
    ]);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.out) as { results: unknown[] }).results).toHaveLength(1);
    expect(writesSeen(f).map((w) => w.command)).toEqual(['switchpool']);
  });
});

describe('on a terminal', () => {
  const tty = (chunks: string[]) =>
    memoryContext({ stdin: Object.assign(Readable.from(chunks), { isTTY: true }) });

  it('asks on stderr, naming the action and the number of miners; "n" sends nothing', async () => {
    const f = await start({ profile: 'cgminer', count: 2, writes: 'allow' });
    const ctx = tty(['n\n']);
    const code = await runCli(['control', 'enablepool', '0', ...f.inventory(), '--db', db()], ctx);
    expect(ctx.err()).toMatch(/enablepool 0 on 2 miners\? \[y\/N\]/);
    expect(code).toBe(1);
    expect(writesSeen(f)).toEqual([]);
  });

  it('no miner to write (all unsupported): no question, and no "not confirmed" that nobody was asked', async () => {
    const f = await start({ profile: 'cgminer', count: 2, writes: 'allow', host: '127.0.110.201' });
    const ctx = tty(['y\n']);
    const code = await runCli(['control', 'pause', ...f.inventory(), '--db', db()], ctx);
    expect(code).toBe(1);
    expect(ctx.err()).not.toContain('[y/N]');
    expect(ctx.err()).not.toMatch(/not confirmed/);
    expect(ctx.err()).toMatch(/^pause: 2 unsupported$/m);
    expect(writesSeen(f)).toEqual([]);
  });

  it('Ctrl-C at the question (SIGINT, nothing on stdin) ends it at once: nothing sent, exit 130', async () => {
    const f = await start({ profile: 'cgminer', count: 2, writes: 'allow' });
    const controller = new AbortController();
    // A terminal nobody types on: only the signal can end the question.
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const ctx = memoryContext({ stdin, signal: controller.signal });
    const asked = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (ctx.err().includes('[y/N]')) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    const running = runCli(['control', 'enablepool', '0', ...f.inventory(), '--db', db()], ctx);
    await asked;
    controller.abort();
    expect(await running).toBe(130);
    expect(writesSeen(f)).toEqual([]);
    stdin.destroy();
  });

  it('targets typed on the terminal (`-`, then Ctrl-D): no question on the ended input, --yes asked for, exit 2, nothing sent', async () => {
    const f = await start({ profile: 'cgminer', count: 2, writes: 'allow', host: '127.0.92.3' });
    const typed = () => [`${f.inventory().join('\n')}\n`];
    for (const args of [
      ['restart', '-'],
      ['addpool', 'stratum+tcp://p.example:3333', 'w1', '-'],
    ]) {
      const ctx = tty(typed());
      const code = await runCli(['control', ...args, '--db', db()], ctx);
      expect(code, args.join(' ')).toBe(2);
      expect(ctx.err(), args.join(' ')).toMatch(/--(yes|password-file).*stdin held the targets/);
    }
    expect(f.commandLog).toHaveLength(0);
    // With --yes the same run goes ahead, and a dry run needs no answer at all.
    const dry = tty(typed());
    expect(await runCli(['control', 'restart', '-', '--dry-run', '--db', db()], dry)).toBe(0);
    expect(writesSeen(f)).toEqual([]);
  });

  it('a question on an input that has already ended is declined at once, not waited on', async () => {
    const { confirmOnTty, askPassword } = await import('../../src/control/prompt.js');
    const stdin = Object.assign(Readable.from([]), { isTTY: true });
    for await (const _ of stdin) {
      // read to its end, as `-` does
    }
    const ctx = memoryContext({ stdin });
    expect(await confirmOnTty(ctx, 'restart on 1 miner?')).toBe(false);
    expect(await askPassword(ctx, 'password: ')).toBe('');
  });

  it('a password typed in several-byte characters is read whole, even split across chunks', async () => {
    const { askPassword } = await import('../../src/control/prompt.js');
    const bytes = Buffer.from('pä€🔑x\u007f\n', 'utf8');
    // Every character of more than one byte cut in two, as a slow link or a paste delivers it.
    const chunks = [
      bytes.subarray(0, 2),
      bytes.subarray(2, 4),
      bytes.subarray(4, 7),
      bytes.subarray(7, 9),
      bytes.subarray(9),
    ];
    const stdin = Object.assign(Readable.from(chunks, { objectMode: false }), { isTTY: true });
    const ctx = memoryContext({ stdin });
    expect(await askPassword(ctx, 'password: ')).toBe('pä€🔑');
  });

  it('asks for the addpool password with the prompt, then the confirmation; "y" sends', async () => {
    const f = await start({ profile: 'cgminer' });
    const ctx = tty(['s3cret-pw\n', 'y\n']);
    const code = await runCli(
      ['control', 'addpool', 'stratum+tcp://p.example:3333', 'w1', ...f.inventory(), '--db', db()],
      ctx,
    );
    expect(ctx.err()).toMatch(/password for w1 on stratum\+tcp:\/\/p\.example:3333: /);
    expect(code).toBe(0);
    expect(writesSeen(f).map((w) => w.parameter)).toEqual(['stratum+tcp://p.example:3333,w1,s3cret-pw']);
    expect(ctx.out() + ctx.err()).not.toContain('s3cret-pw');
  });
});

describe('pool actions verified by read-back', () => {
  it('addpool then switchpool to it, each verified by the pools reply, each sent once; password never shown', async () => {
    const f = await start({ profile: 'cgminer' });
    const key = f.inventory()[0] as string;
    const password = 'hunter2-secret';
    temp ??= tempDir();
    const pw = path.join(temp.dir, 'pw');
    fs.writeFileSync(pw, `${password}\n`);
    const added = await control([
      'addpool',
      'stratum+tcp://pool.example:3333',
      'farm.w1',
      key,
      '--yes',
      '--password-file',
      pw,
      '--db',
      db(),
    ]);
    expect(added.code).toBe(0);
    expect(added.json.results[0]).toMatchObject({
      result: 'verified',
      ok: true,
      request: '{"command":"addpool","parameter":"stratum+tcp://pool.example:3333,farm.w1,***"}',
    });
    const miner = f.miners[0]!;
    expect(miner.state.pools.map((p) => p.url)).toEqual([
      'stratum+tcp://127.0.0.1:3333',
      'stratum+tcp://pool.example:3333',
    ]);

    const switched = await control(['switchpool', '1', key, '--yes', '--db', db()]);
    expect(switched.code).toBe(0);
    expect(switched.json.results[0]?.result).toBe('verified');
    expect(switched.json.results[0]?.verification?.detail).toMatch(/pool 1 priority 0/);
    expect(miner.state.pools[1]?.priority).toBe(0);

    expect(writesSeen(f).map((w) => w.command)).toEqual(['addpool', 'switchpool']);
    // The miner side logs the parameter (that is the miner's business); hashctl's outputs must not.
    expect(writesSeen(f)[0]?.parameter).toContain(password);
    for (const text of [added.out, added.err, switched.out, switched.err])
      expect(text).not.toContain(password);
    const sqlite = new Database(db(), { readonly: true });
    try {
      const rows = sqlite.prepare('SELECT * FROM command_log ORDER BY id').all() as Record<string, unknown>[];
      expect(rows.map((r) => [r.action, r.result])).toEqual([
        ['addpool', 'verified'],
        ['switchpool', 'verified'],
      ]);
      expect(JSON.stringify(rows)).not.toContain(password);
      expect(rows[0]?.actor).toMatch(/@/);
    } finally {
      sqlite.close();
    }
    for (const file of fs.readdirSync(temp.dir).filter((name) => name.startsWith('hashctl.db'))) {
      expect(fs.readFileSync(path.join(temp.dir, file)).includes(password), file).toBe(false);
    }
  });

  it('disablepool of an idle pool is verified by its Disabled status', async () => {
    const f = await start({ profile: 'antminer-s19', writes: 'allow' });
    const run = await control(['disablepool', '2', ...f.inventory(), '--yes', '--db', db()]);
    expect(run.code).toBe(0);
    expect(run.json.results[0]).toMatchObject({
      result: 'verified',
      verification: { confirmed: true, detail: 'pool 2 status Disabled' },
    });
    expect(f.miners[0]!.state.pools[2]?.enabled).toBe(false);
  });

  it('removepool of the active pool fails with the miner’s own code and message, exit 1', async () => {
    const f = await start({ profile: 'antminer-s19', writes: 'allow' });
    const run = await control(['removepool', '0', ...f.inventory(), '--yes', '--db', db()]);
    expect(run.code).toBe(1);
    expect(run.json.results[0]).toMatchObject({
      result: 'failed',
      ok: false,
      error: { kind: 'api', code: 67 },
    });
    expect(run.json.results[0]?.error?.msg).toMatch(/^Cannot remove active pool 0:/);
    expect(f.miners[0]!.state.pools).toHaveLength(3);
    expect(writesSeen(f)).toHaveLength(1);
  });

  it('read-only access: refused (kind denied), exit 1, recorded as refused', async () => {
    const f = await start({ profile: 'cgminer', count: 2, writes: 'deny' });
    const run = await control(['switchpool', '0', ...f.inventory(), '--yes', '--db', db()]);
    expect(run.code).toBe(1);
    expect(run.json.results.map((r) => [r.result, r.error?.kind, r.error?.code])).toEqual([
      ['refused', 'denied', 45],
      ['refused', 'denied', 45],
    ]);
    const sqlite = new Database(db(), { readonly: true });
    try {
      expect(sqlite.prepare('SELECT result, error_code FROM command_log').all()).toEqual([
        { result: 'refused', error_code: 45 },
        { result: 'refused', error_code: 45 },
      ]);
    } finally {
      sqlite.close();
    }
  });
});

describe('at most once', () => {
  it('a write whose reply never comes is unknown and is not sent again', async () => {
    let armed = true;
    const f = await start({
      profile: 'antminer-s19',
      writes: 'allow',
      // The switchpool is swallowed (the miner never answers nor applies it); later reads answer.
      onCommand: (entry) => {
        if (entry.command !== 'switchpool' || !armed) return;
        armed = false;
        const miner = farm!.miners[0]!;
        miner.faults = { ...miner.faults, timeout: 1 };
        setTimeout(() => {
          miner.faults = { ...miner.faults, timeout: 0 };
        }, 0);
      },
    });
    const run = await cli([
      'control',
      'switchpool',
      '1',
      ...f.inventory(),
      '--yes',
      '--json',
      '--timeout',
      '300ms',
      '--retries',
      '3',
      '--verify-timeout',
      '600ms',
      '--db',
      db(),
    ]);
    const json = JSON.parse(run.out);
    expect(run.code).toBe(1);
    expect(json).toMatchObject({ result: 'unknown', error: { kind: 'timeout', attempts: 1 } });
    expect(writesSeen(f).filter((w) => w.command === 'switchpool')).toHaveLength(1);
    expect(f.miners[0]!.state.pools[1]?.priority).toBe(1);
  });

  it('a write applied but answered too late is settled by read-back as verified, sent once', async () => {
    const f = await start({
      profile: 'antminer-s19',
      writes: 'allow',
      onCommand: (entry) => {
        if (entry.command !== 'switchpool') return;
        const miner = farm!.miners[0]!;
        miner.faults = { ...miner.faults, latencyMs: 1500 };
        setTimeout(() => {
          miner.faults = { ...miner.faults, latencyMs: 0 };
        }, 0);
      },
    });
    const run = await control([
      'switchpool',
      '1',
      ...f.inventory(),
      '--yes',
      '--timeout',
      '300ms',
      '--db',
      db(),
    ]);
    expect(run.json.results[0]).toMatchObject({ result: 'verified', ok: true });
    expect(run.code).toBe(0);
    expect(writesSeen(f).filter((w) => w.command === 'switchpool')).toHaveLength(1);
  });
});

describe('rollout', () => {
  it('a canary that is not verified stops the rollout: the rest are skipped and get nothing', async () => {
    const f = await start({ profile: 'cgminer', count: 4, writes: 'allow' });
    f.miners[0]!.state.access = 'read';
    const run = await control(['switchpool', '0', ...f.inventory(), '--yes', '--canary', '1', '--db', db()]);
    expect(run.code).toBe(1);
    expect(run.json.results.map((r) => r.result)).toEqual(['refused', 'skipped', 'skipped', 'skipped']);
    expect(run.json.results[1]?.error?.message).toMatch(/canary/);
    expect(writesSeen(f).map((w) => w.target)).toEqual([f.miners[0]!.key]);
  });

  it('a good canary lets the batches through, each miner once', async () => {
    const f = await start({ profile: 'cgminer', count: 5, writes: 'allow' });
    const run = await control([
      'enablepool',
      '0',
      ...f.inventory(),
      '--yes',
      '--canary',
      '1',
      '--batch',
      '2',
      '--stagger',
      '10ms',
      '--db',
      db(),
    ]);
    expect(run.code).toBe(0);
    expect(run.json.results.map((r) => r.result)).toEqual(Array(5).fill('verified'));
    expect(
      writesSeen(f)
        .map((w) => w.target)
        .sort(),
    ).toEqual([...f.inventory()].sort());
  });

  it('--no-verify reports sent and exits 0', async () => {
    const f = await start({ profile: 'cgminer', writes: 'allow' });
    const run = await control(['enablepool', '0', ...f.inventory(), '--yes', '--no-verify', '--db', db()]);
    expect(run.code).toBe(0);
    expect(run.json.results[0]).toMatchObject({ result: 'sent', ok: true });
    expect(run.json.results[0]?.verification).toBeUndefined();
  });
});

describe('dialects', () => {
  it('restart is verified by the API coming back with uptime reset', async () => {
    const f = await start({ profile: 'cgminer', writes: 'allow', restartDelayMs: 300 });
    const before = f.miners[0]!.state.restarts;
    const run = await control(['restart', ...f.inventory(), '--yes', '--db', db()]);
    expect(run.json.results[0]).toMatchObject({ result: 'verified', request: '{"command":"restart"}' });
    expect(run.code).toBe(0);
    expect(f.miners[0]!.state.restarts).toBe(before + 1);
    expect(writesSeen(f)).toHaveLength(1);
  });

  it('read-back makes a last check at --verify-timeout: a miner back just before it is verified', async () => {
    // Backoff checks at about 0, 0.25 and 0.75 s; the next pause (1 s) would pass the 1.6 s
    // deadline, so it is cut to end there and the miner, back at 1.2 s, is seen.
    const f = await start({ profile: 'cgminer', writes: 'allow', restartDelayMs: 1200 });
    const run = await control([
      'restart',
      ...f.inventory(),
      '--yes',
      '--verify-timeout',
      '1.6s',
      '--db',
      db(),
    ]);
    expect(run.json.results[0]?.result).toBe('verified');
    expect(run.json.results[0]?.verification?.elapsed_ms).toBeGreaterThanOrEqual(1200);
    expect(run.code).toBe(0);
    expect(writesSeen(f)).toHaveLength(1);
  });

  it('read-back of a miner that stays down ends with a check at --verify-timeout, not before, not long after', async () => {
    const f = await start({ profile: 'cgminer', writes: 'allow', restartDelayMs: 60_000 });
    const run = await control([
      'restart',
      ...f.inventory(),
      '--yes',
      '--verify-timeout',
      '1.6s',
      '--db',
      db(),
    ]);
    const result = run.json.results[0];
    expect(result?.result).toBe('unknown');
    // A failed target says why: the write went out, the change never showed.
    expect(result?.error).toMatchObject({ kind: 'unverified', attempts: 4 });
    expect(result?.error?.message).toMatch(/^not confirmed within .*: read-back failed: refused$/);
    expect(run.code).toBe(1);
    // Checks at 0, 0.25, 0.75 and the last one at 1.6 s (connection refused answers at once).
    expect(result?.verification?.checks).toBe(4);
    expect(result?.verification?.elapsed_ms).toBeGreaterThanOrEqual(1600);
    expect(result?.verification?.elapsed_ms).toBeLessThan(2500);
    expect(writesSeen(f)).toHaveLength(1);
  });

  it('pause and resume map to each dialect and are verified by state; stock Antminer is unsupported, Whatsminer without its admin password skipped', async () => {
    farm = await startFarm({ basePort: 0, count: 1, profile: 'braiins-os' });
    const braiins = farm;
    const lux = await startFarm({ basePort: 0, count: 1, profile: 'luxos' });
    const avalon = await startFarm({ basePort: 0, count: 1, profile: 'avalon' });
    const wm = await startFarm({ basePort: 0, count: 1, profile: 'whatsminer', writes: 'allow' });
    const s19 = await startFarm({ basePort: 0, count: 1, profile: 'antminer-s19', writes: 'allow' });
    try {
      const targets = [braiins, lux, avalon, wm, s19].map((x) => x.inventory()[0] as string);
      const paused = await control(['pause', ...targets, '--yes', '--db', db()]);
      expect(paused.code).toBe(1);
      expect(paused.json.results.map((r) => [r.dialect, r.result])).toEqual([
        ['braiins', 'verified'],
        ['luxos', 'verified'],
        ['avalon', 'verified'],
        ['whatsminer', 'skipped'],
        ['antminer', 'unsupported'],
      ]);
      expect(paused.json.results[1]?.requests).toEqual([
        '{"command":"logon"}',
        '{"command":"curtail","parameter":"{session},sleep"}',
        '{"command":"logoff","parameter":"{session}"}',
      ]);
      expect(paused.json.results[2]?.request).toMatch(
        /^\{"command":"ascset","parameter":"0,softoff,1:\d+"\}$/,
      );
      expect([braiins, lux, avalon].map((x) => x.miners[0]!.state.sleeping)).toEqual([true, true, true]);
      // LuxOS: the session was released and its id never printed.
      expect(lux.miners[0]!.state.session).toBeNull();
      const sid = lux.commandLog.find((e) => e.command === 'curtail')?.parameter?.split(',')[0];
      expect(sid).toBeTruthy();
      expect(paused.out).not.toContain(sid as string);
      expect(writesSeen(wm)).toEqual([]);
      expect(writesSeen(s19)).toEqual([]);

      const resumed = await control(['resume', ...targets.slice(0, 3), '--yes', '--db', db()]);
      expect(resumed.code).toBe(0);
      expect([braiins, lux, avalon].map((x) => x.miners[0]!.state.sleeping)).toEqual([false, false, false]);
    } finally {
      await Promise.all([lux, avalon, wm, s19].map((x) => x.stop()));
    }
  });

  it('LuxOS pool writes go through a session, with the upstream parameter after the id, verified', async () => {
    const f = await start({ profile: 'luxos' });
    const pools = f.miners[0]!.state.pools;
    expect(pools.length).toBeGreaterThan(1);
    const run = await control(['switchpool', '1', ...f.inventory(), '--yes', '--db', db()]);
    expect(run.json.results[0]).toMatchObject({ dialect: 'luxos', result: 'verified' });
    expect(run.code).toBe(0);
    const sent = f.commandLog.filter((e) => e.command === 'switchpool');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.parameter).toMatch(/^[A-Za-z0-9_-]+,1$/);
    expect(f.miners[0]!.state.session).toBeNull();
  });

  it('the text {session} in a user parameter is sent as written, on LuxOS and elsewhere', async () => {
    temp ??= tempDir();
    const pw = path.join(temp.dir, 'pw-session');
    fs.writeFileSync(pw, 'x\n');
    const lux = await start({ profile: 'luxos' });
    const added = await control([
      'addpool',
      'stratum+tcp://s.example:3333',
      'acct.{session}rig7',
      ...lux.inventory(),
      '--yes',
      '--password-file',
      pw,
      '--db',
      db(),
    ]);
    expect(added.json.results[0]?.result).toBe('verified');
    const sent = lux.commandLog.filter((e) => e.command === 'addpool');
    expect(sent).toHaveLength(1);
    // Only the leading placeholder is the session id.
    expect(sent[0]!.parameter).toMatch(
      /^[A-Za-z0-9_-]+,stratum\+tcp:\/\/s\.example:3333,acct\.\{session\}rig7,x$/,
    );

    const plain = await start({ profile: 'cgminer', writes: 'allow' });
    const raw = await control([
      'raw',
      'ascset',
      ...plain.inventory(),
      '--param',
      '0,led,{session}1-1',
      '--yes',
      '--db',
      db(),
    ]);
    expect(raw.json.results[0]?.request).toBe('{"command":"ascset","parameter":"0,led,{session}1-1"}');
    expect(plain.commandLog.find((e) => e.command === 'ascset')?.parameter).toBe('0,led,{session}1-1');
  });

  it('raw sends the command verbatim once, reported sent', async () => {
    const f = await start({ profile: 'cgminer', writes: 'allow' });
    const run = await control(['raw', 'enablepool', ...f.inventory(), '--param', '0', '--yes', '--db', db()]);
    expect(run.code).toBe(0);
    expect(run.json.results[0]).toMatchObject({
      result: 'sent',
      request: '{"command":"enablepool","parameter":"0"}',
    });
    expect(f.commandLog).toEqual([expect.objectContaining({ command: 'enablepool', parameter: '0' })]);
  });
});

describe('audit trail', () => {
  it('a database that cannot be opened is reported on stderr and the restart still goes out', async () => {
    const f = await start({ profile: 'cgminer', writes: 'allow', restartDelayMs: 100 });
    temp ??= tempDir();
    const notADb = path.join(temp.dir, 'not-a-db');
    fs.writeFileSync(notADb, 'this is not sqlite, and it is long enough to have a header'.repeat(20));
    const run = await control(['restart', ...f.inventory(), '--yes', '--db', notADb]);
    expect(run.code).toBe(0);
    expect(run.err).toMatch(/command log unavailable/);
    expect(run.json.results[0]?.result).toBe('verified');
  });
});

describe('capabilities', () => {
  it('reports the dialect, write access and actions with read-only probes only', async () => {
    farm = await startFarm({ basePort: 0, count: 1, profile: 'cgminer' });
    const s9 = await startFarm({ basePort: 0, count: 1, profile: 'antminer-s9' });
    const bos = await startFarm({ basePort: 0, count: 1, profile: 'braiins-os' });
    try {
      const run = await cli([
        'control',
        'capabilities',
        farm.inventory()[0]!,
        s9.inventory()[0]!,
        bos.inventory()[0]!,
        '--json',
      ]);
      expect(run.code).toBe(0);
      const results = JSON.parse(run.out).results;
      expect(
        results.map((r: { dialect: string; write_access: boolean }) => [r.dialect, r.write_access]),
      ).toEqual([
        ['generic', true],
        ['antminer', false],
        ['braiins', true],
      ]);
      expect(results[0].actions).toMatchObject({ restart: 'yes', addpool: 'yes', pause: 'unsupported' });
      expect(results[1].actions).toMatchObject({
        restart: 'denied',
        switchpool: 'denied',
        pause: 'unsupported',
      });
      expect(results[2].actions).toMatchObject({ restart: 'unsupported', pause: 'yes', switchpool: 'yes' });
      for (const x of [farm, s9, bos]) expect(writesSeen(x)).toEqual([]);
    } finally {
      await Promise.all([s9.stop(), bos.stop()]);
    }
  });
});

describe('targets typed on a terminal', () => {
  it('`-` on a terminal says it is reading targets there (the run does not look hung)', async () => {
    const f = await start({ profile: 'cgminer', host: '127.0.92.3' });
    const ctx = memoryContext({
      stdin: Object.assign(Readable.from([`${f.inventory()[0]}\n`]), { isTTY: true }),
    });
    expect(await runCli(['control', 'restart', '-', '--dry-run', '--db', db()], ctx)).toBe(0);
    expect(ctx.err()).toMatch(/reading targets from the terminal.*Ctrl-D/);
    const quiet = memoryContext({
      stdin: Object.assign(Readable.from([`${f.inventory()[0]}\n`]), { isTTY: true }),
    });
    expect(await runCli(['control', 'restart', '-', '--dry-run', '--quiet', '--db', db()], quiet)).toBe(0);
    expect(quiet.err()).not.toMatch(/reading targets/);
  });
});
