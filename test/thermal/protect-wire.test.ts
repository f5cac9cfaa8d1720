// `thermal check --protect` pauses a Whatsminer with the user's --timeout, --max-bytes and --retries,
// as `hashctl control pause` does: the encrypted write was on a fixed 5 s and 8 MiB, whatever was asked.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { type Context, memoryContext, sleep } from '../../src/context.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { startProxy } from '../support/proxy.js';

let dir = '';
let farm: Farm | null = null;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-protect-wire-'));
});
afterEach(async () => {
  await farm?.stop();
  farm = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A critical Whatsminer (45 °C ambient) whose writes are allowed, and its admin password file. */
async function hotWhatsminer(): Promise<{ farm: Farm; pw: string }> {
  farm = await startFarm({
    profile: 'whatsminer',
    count: 1,
    seed: 5,
    host: '127.0.0.1',
    basePort: 0,
    ambientC: 45,
    writes: 'allow',
  });
  const pw = path.join(dir, 'admin.pw');
  fs.writeFileSync(pw, `${farm.miners[0]!.state.adminPassword ?? 'admin'}\n`, { mode: 0o600 });
  return { farm, pw };
}

async function protect(target: string, pw: string, globals: string[], overrides: Partial<Context> = {}) {
  const ctx = memoryContext({ stdin: Object.assign(Readable.from([]), { isTTY: false }), ...overrides });
  const code = await runCli(
    [
      'thermal',
      'check',
      target,
      '--protect',
      '--yes',
      '--readings',
      '1',
      '--verify-timeout',
      '5s',
      '--db',
      path.join(dir, 'farm.db'),
      '--admin-password-file',
      pw,
      '--json',
      ...globals,
    ],
    ctx,
  );
  let json: { protect?: { outcomes: { result: string; error?: { kind: string } }[] } };
  try {
    json = JSON.parse(ctx.out());
  } catch {
    throw new Error(`no JSON (exit ${code}): ${ctx.err()}`);
  }
  return { code, json, err: ctx.err() };
}

describe('thermal check --protect on a Whatsminer', () => {
  it('waits --timeout for the encrypted pause, not a fixed 5 s', async () => {
    const { farm: f, pw } = await hotWhatsminer();
    // Only the encrypted write is slow: held 6 s before the miner sees it.
    const proxy = await startProxy(f.miners[0]!.port, {
      delayMs: (request) => (request.startsWith('{"enc"') ? 6000 : 0),
    });
    try {
      const run = await protect(proxy.key, pw, ['--timeout', '20s', '--retries', '0']);
      expect(run.json.protect?.outcomes, run.err).toMatchObject([{ result: 'verified' }]);
      expect(run.code).toBe(3);
      expect(f.miners[0]!.state.sleeping).toBe(true);
    } finally {
      await proxy.close();
    }
  }, 40_000);

  it('retries the encrypted pause per --retries while none of it left (refused)', async () => {
    const { farm: f, pw } = await hotWhatsminer();
    const proxy = await startProxy(f.miners[0]!.port, {
      // Once get_token has been asked, the port refuses the next connection (the write's).
      onRequest: (request, self) => {
        if (request.includes('get_token')) self.refuse();
      },
    });
    try {
      const run = await protect(proxy.key, pw, ['--timeout', '2s', '--retries', '2'], {
        // The retry's backoff opens the port again.
        sleep: async (ms, signal) => {
          await proxy.reopen();
          await sleep(Math.min(ms, 50), signal);
        },
      });
      expect(run.json.protect?.outcomes, run.err).toMatchObject([{ result: 'verified' }]);
      expect(f.miners[0]!.state.sleeping).toBe(true);
      expect(proxy.requests.filter((r) => r.startsWith('{"enc"'))).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});

describe('thermal check --protect keeps to --retries 0', () => {
  it('a refused encrypted pause is not retried: failed, refused, nothing sent', async () => {
    const { farm: f, pw } = await hotWhatsminer();
    const proxy = await startProxy(f.miners[0]!.port, {
      onRequest: (request, self) => {
        if (request.includes('get_token')) self.refuse();
      },
    });
    try {
      const run = await protect(proxy.key, pw, ['--timeout', '2s', '--retries', '0'], {
        sleep: async (ms, signal) => {
          await proxy.reopen();
          await sleep(Math.min(ms, 50), signal);
        },
      });
      expect(run.json.protect?.outcomes, run.err).toMatchObject([
        { result: 'failed', error: { kind: 'refused', attempts: 1 } },
      ]);
      expect(f.miners[0]!.state.sleeping).toBe(false);
      expect(proxy.requests.filter((r) => r.startsWith('{"enc"'))).toHaveLength(0);
    } finally {
      await proxy.close();
    }
  });
});
