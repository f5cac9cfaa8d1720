// Ctrl-C before a write has left cancels it: control's writes were given no signal, so a Ctrl-C
// during a Whatsminer's get_token or during a retry's backoff (the first connect refused) still
// sent the write afterwards. Nothing is sent, the miner says so, and the run exits 130.
import * as fs from 'node:fs';
import type { LookupFunction } from 'node:net';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext, sleep } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { type Farm, type FarmOptions, startFarm } from '../../src/sim/index.js';
import { type MinerProxy, startProxy } from '../support/proxy.js';
import { tempDir } from './support.js';

const PASSWORD = 'Zq9_pw77';

let farm: Farm | null = null;
let proxy: MinerProxy | null = null;
let temp: ReturnType<typeof tempDir> | null = null;
afterEach(async () => {
  await proxy?.close();
  proxy = null;
  await farm?.stop();
  farm = null;
  temp?.remove();
  temp = null;
});

async function start(options: FarmOptions): Promise<Farm> {
  farm = await startFarm({ count: 1, basePort: 0, host: '127.0.0.1', writes: 'allow', ...options });
  return farm;
}

/** control ACTION on the proxy with `controller` as its Ctrl-C and `onSleep` before each backoff. */
async function run(
  args: string[],
  controller: AbortController,
  onSleep: () => Promise<void> = async () => undefined,
): Promise<{ code: number; result: Record<string, unknown>; err: string }> {
  temp = tempDir();
  const pw = path.join(temp.dir, 'pw');
  fs.writeFileSync(pw, `${PASSWORD}\n`);
  const ctx = memoryContext({
    stdin: Object.assign(Readable.from([]), { isTTY: false }),
    signal: controller.signal,
    sleep: async (ms, signal) => {
      await onSleep();
      await sleep(Math.min(ms, 50), signal);
    },
  });
  const code = await runCli(
    [
      'control',
      ...args,
      proxy!.key,
      '--yes',
      '--admin-password-file',
      pw,
      '--db',
      temp.db,
      '--json',
      '--retries',
      '2',
    ],
    ctx,
  );
  const out = ctx.out().trim();
  return { code, result: out === '' ? {} : (JSON.parse(out) as Record<string, unknown>), err: ctx.err() };
}

describe('Ctrl-C before the write has left', () => {
  it('Whatsminer, during the retry backoff: the encrypted write is never sent', async () => {
    const f = await start({ profile: 'whatsminer' });
    f.miners[0]!.state.adminPassword = PASSWORD;
    // Once get_token has been asked, the write's connect is refused; Ctrl-C comes in the backoff.
    proxy = await startProxy(f.miners[0]!.port, {
      onRequest: (request, self) => {
        if (request.includes('get_token')) self.refuse();
      },
    });
    const controller = new AbortController();
    const result = await run(['pause'], controller, async () => {
      controller.abort();
      await proxy!.reopen();
    });
    expect(proxy.requests.filter((r) => r.startsWith('{"enc"'))).toEqual([]);
    expect(f.miners[0]!.state.sleeping).toBe(false);
    expect(result.result, result.err).toMatchObject({
      result: 'skipped',
      error: { kind: 'skipped', message: 'interrupted before power_off was sent: nothing sent' },
    });
    expect(result.code).toBe(EXIT.interrupted);
  });

  it('Whatsminer, during get_token: the encrypted write is never sent', async () => {
    const f = await start({ profile: 'whatsminer' });
    f.miners[0]!.state.adminPassword = PASSWORD;
    const controller = new AbortController();
    // Ctrl-C while get_token is on its way (held 200 ms by the proxy).
    proxy = await startProxy(f.miners[0]!.port, {
      onRequest: (request) => {
        if (request.includes('get_token')) controller.abort();
      },
      delayMs: (request) => (request.includes('get_token') ? 200 : 0),
    });
    const result = await run(['pause'], controller);
    expect(proxy.requests.filter((r) => r.startsWith('{"enc"'))).toEqual([]);
    expect(f.miners[0]!.state.sleeping).toBe(false);
    expect(result.result, result.err).toMatchObject({ result: 'skipped' });
    expect(result.code).toBe(EXIT.interrupted);
  });

  it("control's ordinary write, during the retry backoff: never sent", async () => {
    const f = await start({ profile: 'cgminer' });
    // After the read, the write's connect is refused; Ctrl-C comes in the backoff.
    proxy = await startProxy(f.miners[0]!.port, {
      onRequest: (request, self) => {
        if (request.startsWith('{"command":"version+')) self.refuse();
      },
    });
    const controller = new AbortController();
    const result = await run(['restart'], controller, async () => {
      controller.abort();
      await proxy!.reopen();
    });
    expect(proxy.requests.filter((r) => r.includes('"restart"'))).toEqual([]);
    expect(result.result, result.err).toMatchObject({
      result: 'skipped',
      error: { kind: 'skipped', message: 'interrupted before restart was sent: nothing sent' },
    });
    expect(result.code).toBe(EXIT.interrupted);
  });

  it("control's ordinary write, during its connect's name lookup: never sent", async () => {
    const f = await start({ profile: 'cgminer' });
    const port = f.miners[0]!.port;
    const controller = new AbortController();
    // The test's resolver (never the system's): once the miner has been read, the next lookup is
    // the write's connect; Ctrl-C comes while it is under way, and the name resolves after it.
    const lookup = ((
      hostname: string,
      options: { all?: boolean } | undefined,
      callback: (...a: unknown[]) => void,
    ) => {
      if (hostname !== 'rig-7.test') {
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
        return;
      }
      if (f.commandLog.length > 0) controller.abort();
      setImmediate(() => {
        if (options?.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      });
    }) as unknown as LookupFunction;
    temp = tempDir();
    const ctx = memoryContext({
      stdin: Object.assign(Readable.from([]), { isTTY: false }),
      signal: controller.signal,
      lookup,
    });
    const code = await runCli(
      ['control', 'restart', `rig-7.test:${port}`, '--yes', '--db', temp.db, '--json', '--retries', '0'],
      ctx,
    );
    expect(f.commandLog.map((e) => e.command)).not.toContain('restart');
    expect(JSON.parse(ctx.out()), ctx.err()).toMatchObject({
      result: 'skipped',
      error: { kind: 'skipped', message: 'interrupted before restart was sent: nothing sent' },
    });
    expect(code).toBe(EXIT.interrupted);
  });
});
