// runAudit runs discovery and the audit of what it finds side by side. Whichever of the two fails,
// the other's promise must still be handled: a rejection nobody awaits crashes Node 20 with a stack
// (an unhandled rejection), not one clear line and the right exit code.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/index.js';
import { createClient } from '../../src/cgminer/client.js';
import type { MinerClient } from '../../src/cgminer/types.js';
import { HashctlError } from '../../src/errors.js';
import type { Target } from '../../src/targets/types.js';
import { type Scripted, type ScriptedMiner, startScriptedMiner } from './support/scripted-miner.js';

const stops: (() => Promise<void>)[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
afterEach(async () => {
  process.off('unhandledRejection', onUnhandled);
  unhandled.length = 0;
  while (stops.length > 0) await stops.pop()?.();
});

async function miner(
  script: Record<string, Scripted> = {},
): Promise<{ peer: ScriptedMiner; target: Target }> {
  const peer = await startScriptedMiner(script, '127.0.0.1');
  stops.push(() => peer.stop());
  return { peer, target: { host: peer.host, port: peer.port, key: peer.target } };
}

const options = (targets: AsyncIterable<Target>, named: Target[], client?: MinerClient) => ({
  targets,
  targetCount: named.length,
  named: new Set(named.map((target) => target.key)),
  policy: { allowedPools: null, workerPattern: null },
  services: false,
  checkDefaultCreds: false,
  timeoutMs: 1500,
  retries: 0,
  maxBytes: 1 << 20,
  concurrency: 2,
  discovery: { connectTimeoutMs: 1500, replyTimeoutMs: 1500, retries: 0, concurrency: 2 },
  ...(client ? { client } : {}),
});

/** Lets every pending rejection be reported (the unhandled ones are, once the microtasks ran). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('runAudit leaves no promise unhandled', () => {
  it('an internal error of the audit while discovery runs: it rejects with it, nothing unhandled', async () => {
    process.on('unhandledRejection', onUnhandled);
    const { target } = await miner();
    // Still being discovered when the audit fails: its `version` never comes back.
    const { target: hung } = await miner({ version: 'hang' });
    const real = createClient({ timeoutMs: 1500, retries: 0, maxBytes: 1 << 20 });
    // A bug in the library (as a ReadOnlyViolation would be): the audit must surface it.
    const client: MinerClient = {
      ...real,
      request: (to, command, requestOptions) =>
        command === 'summary'
          ? Promise.reject(new HashctlError('internal', 'a bug under test'))
          : real.request(to, command, requestOptions),
    };
    // The progress display fails once, when discovery is done with the hung miner (its timeout).
    let failed = false;
    const onProgress = ({ tried }: { tried: number }) => {
      if (tried === 2 && !failed) {
        failed = true;
        throw new Error('the progress display broke');
      }
    };
    await expect(
      runAudit({ ...options(list([target, hung]), [target, hung], client), onProgress }),
    ).rejects.toMatchObject({ kind: 'internal', message: 'a bug under test' });
    await settle();
    expect(unhandled).toEqual([]);
  }, 10_000);

  it('discovery failing while miners are still being audited: the run rejects, nothing unhandled', async () => {
    process.on('unhandledRejection', onUnhandled);
    const first = await miner({ summary: 'hang' });
    const second = await miner({ summary: 'hang' });
    const targets = [first.target, second.target];
    let failed = false;
    const onProgress = ({ tried }: { tried: number }) => {
      // Thrown once, in discovery (the audit's own progress calls come after).
      if (tried === 2 && !failed) {
        failed = true;
        throw new Error('the progress display broke');
      }
    };
    await expect(runAudit({ ...options(list(targets), targets), onProgress })).rejects.toThrow(
      'the progress display broke',
    );
    await settle();
    expect(unhandled).toEqual([]);
  });
});

async function* list(targets: Target[]): AsyncGenerator<Target> {
  for (const target of targets) yield target;
}

describe('Ctrl-C before the services were probed', () => {
  it('says the miner was audited in part, not that no service is open', async () => {
    const { target } = await miner();
    // An open "ssh" next to the miner: a connect would find it.
    const ssh = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => ssh.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise<void>((resolve) => ssh.close(() => resolve())));
    const port = (ssh.address() as net.AddressInfo).port;
    const controller = new AbortController();
    const real = createClient({ timeoutMs: 1500, retries: 0, maxBytes: 1 << 20 });
    // Ctrl-C lands just as the last read of the plan has been answered.
    const client: MinerClient = {
      ...real,
      request: async (to, command, requestOptions) => {
        const reply = await real.request(to, command, requestOptions);
        if (command === 'check' && requestOptions?.parameter === 'save') controller.abort();
        return reply;
      },
    };
    const report = await runAudit({
      ...options(list([target]), [target], client),
      services: true,
      servicePorts: [{ port, service: 'ssh' }],
      signal: controller.signal,
    });
    expect(report.interrupted).toBe(true);
    expect(report.miners.map((m) => m.target)).toEqual([target.key]);
    const partial = report.failures.find((failure) => failure.target === target.key);
    expect(partial?.partial).toBe(true);
    expect(partial?.message).toMatch(new RegExp(`services not probed.*${port} \\(ssh\\)`));
  });
});
