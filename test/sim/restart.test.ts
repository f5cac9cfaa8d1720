import { afterEach, describe, expect, it } from 'vitest';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { ask, exchange, lenient, section, statusOf } from './support.js';

let farm: Farm | null = null;
afterEach(async () => {
  await farm?.stop();
  farm = null;
});

async function waitUntilBack(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const reply = await exchange(port, '{"command":"summary"}', '127.0.0.1', 1000);
    if (reply.end === 'closed' && reply.bytes.length > 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('miner did not come back');
}

describe('restart and quit', () => {
  it('restart answers RESTART, refuses connections for a while, then comes back with uptime reset', async () => {
    farm = await startFarm({ profile: 'cgminer', count: 1, basePort: 0, restartDelayMs: 300 });
    const miner = farm.miners[0]!;
    const before = section<{ Elapsed: number }>(await ask(miner.port, 'summary'), 'SUMMARY')[0]!.Elapsed;
    expect(before).toBeGreaterThan(3000);
    const raw = await exchange(miner.port, '{"command":"restart"}');
    expect(lenient(raw.bytes)).toEqual({ STATUS: 'RESTART', id: 1 });
    expect((await exchange(miner.port, '{"command":"summary"}')).end).toBe('refused');
    expect(miner.listening).toBe(false);
    await waitUntilBack(miner.port);
    const after = section<{ Elapsed: number }>(await ask(miner.port, 'summary'), 'SUMMARY')[0]!.Elapsed;
    expect(after).toBeLessThan(60);
    expect(miner.state.restarts).toBe(1);
  });

  it('a pool change not saved is gone after a restart, as cgminer rereads its config; a saved one stays', async () => {
    farm = await startFarm({
      profile: 'antminer-s9',
      count: 1,
      basePort: 0,
      restartDelayMs: 100,
      writes: 'allow',
    });
    const miner = farm.miners[0]!;
    const priorities = async () =>
      section<{ POOL: number; Priority: number }>(await ask(miner.port, 'pools'), 'POOLS').map(
        (p) => p.Priority,
      );
    const restart = async () => {
      await exchange(miner.port, '{"command":"restart"}');
      await waitUntilBack(miner.port);
    };
    const start = await priorities();
    await ask(miner.port, 'switchpool', '1');
    expect(await priorities()).not.toEqual(start);
    await restart();
    expect(await priorities()).toEqual(start);
    await ask(miner.port, 'switchpool', '1');
    const switched = await priorities();
    await ask(miner.port, 'save');
    await restart();
    expect(await priorities()).toEqual(switched);
  });

  // Braiins documents its pool commands as not persistent (CGMINER-API.md §5.3: reset after a
  // restart); the farm's Braiins OS kept an added pool through the restart.
  it('braiins-os: a pool added through the API is gone after a restart', async () => {
    farm = await startFarm({
      profile: 'braiins-os',
      count: 1,
      basePort: 0,
      restartDelayMs: 100,
      writes: 'allow',
    });
    const miner = farm.miners[0]!;
    const urls = async () =>
      section<{ URL: string }>(await ask(miner.port, 'pools'), 'POOLS').map((p) => p.URL);
    const start = await urls();
    expect(statusOf(await ask(miner.port, 'addpool', 'stratum+tcp://127.0.0.1:3999,w,x')).Code).toBe(55);
    expect(await urls()).toHaveLength(start.length + 1);
    await exchange(miner.port, '{"command":"restart"}');
    await waitUntilBack(miner.port);
    expect(await urls()).toEqual(start);
  });

  it('quit answers BYE and stays down until restarted through the API', async () => {
    farm = await startFarm({ profile: 'cgminer', count: 1, basePort: 0 });
    const miner = farm.miners[0]!;
    expect(lenient((await exchange(miner.port, '{"command":"quit"}')).bytes)).toEqual({
      STATUS: 'BYE',
      id: 1,
    });
    expect((await exchange(miner.port, '{"command":"version"}')).end).toBe('refused');
    await miner.restart(10);
    expect((await exchange(miner.port, '{"command":"version"}')).end).toBe('closed');
  });
  // stop() cleared the restart's timer and never settled its promise: a test or script awaiting
  // miner.restart() while the farm stopped waited forever.
  it('a restart still pending when the farm stops settles', async () => {
    farm = await startFarm({ profile: 'cgminer', count: 1, basePort: 0 });
    const restarting = farm.miners[0]!.restart(60_000).then(() => 'settled');
    await farm.stop();
    let bound: NodeJS.Timeout | undefined;
    const pending = new Promise<string>((r) => {
      bound = setTimeout(() => r('pending'), 2000);
    });
    expect(await Promise.race([restarting, pending])).toBe('settled');
    clearTimeout(bound);
    expect(farm.miners[0]!.listening).toBe(false);
  });
});
