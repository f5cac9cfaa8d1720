// `collect --interval` stopped by each signal it handles, sent to a real child process: the note it
// prints names what happened (a service's SIGTERM, a SIGHUP, the user's Ctrl-C) and what a second
// signal does, and the second signal's line names both.
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { tempDir } from '../store/helpers.js';
import { startHashctl } from '../support/hashctl-process.js';

let farm: Farm;
let dir: string;
let cleanup: () => void;

beforeAll(async () => {
  farm = await startFarm({ profile: 'antminer-s19', count: 2, seed: 5, host: '127.0.127.2', basePort: 0 });
});
afterAll(async () => {
  await farm?.stop();
});
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-stop-signals-'));
});
afterEach(async () => {
  for (const miner of farm.miners) await miner.setFaults({ hang: false });
  cleanup();
});

/** A collect loop that has stored its first cycle, its stderr read as it comes. */
async function collecting(...extra: string[]) {
  const run = startHashctl([
    'collect',
    '--targets',
    ...farm.inventory(),
    '--db',
    path.join(dir, 'farm.db'),
    '--interval',
    '1s',
    '--json',
    ...extra,
  ]);
  let stderr = '';
  run.child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    run.child.stdout!.once('data', () => resolve());
    run.child.once('exit', (code) => reject(new Error(`collect exited early (${code}): ${stderr}`)));
  });
  const said = async (text: string) => {
    for (let i = 0; i < 500 && !stderr.includes(text); i++) await new Promise((r) => setTimeout(r, 20));
  };
  return { ...run, said };
}

describe('collect --interval stopped by a signal', () => {
  it.each([
    [
      'SIGINT',
      /hashctl: interrupted: stopping after the cycle in flight, if any, is stored \(Ctrl-C again stops at once/,
    ],
    [
      'SIGTERM',
      /hashctl: SIGTERM: stopping after the cycle in flight, if any, is stored \(a second SIGTERM or Ctrl-C stops at once/,
    ],
    [
      'SIGHUP',
      /hashctl: SIGHUP \(hangup[^\n]*\): collect does not reload its config; stopping after the cycle in flight, if any, is stored \(a second signal stops at once/,
    ],
  ] as const)('%s: the note names it and what a second signal does', async (signal, note) => {
    const { child, done } = await collecting();
    child.kill(signal);
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(note);
    if (signal !== 'SIGINT') expect(result.stderr).not.toContain('Ctrl-C again');
  });

  it('a second, different signal stops at once and its line names both', async () => {
    const { child, done, said } = await collecting('--timeout', '20s');
    // The next cycle hangs on one miner for its whole timeout: the first signal waits for it.
    await farm.miners[0]!.setFaults({ hang: true });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.kill('SIGHUP');
    await said('SIGHUP (hangup');
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain(
      'hashctl: SIGTERM after SIGHUP: stopped at once, the work in flight is dropped',
    );
    expect(result.stderr).not.toMatch(/interrupted again|Ctrl-C again/);
  });
});
