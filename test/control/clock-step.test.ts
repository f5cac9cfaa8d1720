// control's read-back when the wall clock is stepped under it (NTP on a host that booted with its
// clock off, an operator fixing the time): a restart is proven by the miner's uptime counting from
// after the write, so the write's time, the baseline's and the read-back's are taken on the
// monotonic clock. On the wall clock, a step back of an hour made a restart that happened look an
// hour old ("not confirmed", exit 1), and the elapsed times read as an hour or below zero.

import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import type { TargetControlResult } from '../../src/control/types.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { tempDir } from './support.js';

const farms: Farm[] = [];
const dirs: (() => void)[] = [];
afterEach(async () => {
  for (const farm of farms.splice(0)) await farm.stop();
  for (const remove of dirs.splice(0)) remove();
});

describe('control read-back across a wall-clock step', () => {
  for (const step of [-3_600_000, 3_600_000]) {
    it(`verifies a restart when the wall clock is stepped ${step < 0 ? 'back' : 'forward'} an hour after the write`, async () => {
      const farm = await startFarm({ profile: 'cgminer', writes: 'allow', restartDelayMs: 300, basePort: 0 });
      farms.push(farm);
      const miner = farm.miners[0]!;
      const temp = tempDir();
      dirs.push(temp.remove);
      const before = miner.state.restarts;
      // The wall clock steps once the miner has taken the restart.
      const now = () => Date.now() + (miner.state.restarts > before ? step : 0);
      const stdin = Object.assign(Readable.from([]), { isTTY: false });
      const ctx = memoryContext({ stdin, now, monotonic: () => performance.now() });
      const code = await runCli(
        [
          'control',
          'restart',
          ...farm.inventory(),
          '--yes',
          '--db',
          temp.db,
          '--json',
          '--timeout',
          '2s',
          '--retries',
          '0',
          '--verify-timeout',
          '4s',
        ],
        ctx,
      );
      const result = JSON.parse(ctx.out()) as TargetControlResult;
      expect(miner.state.restarts).toBe(before + 1);
      expect(result.result, ctx.out()).toBe('verified');
      expect(code).toBe(0);
      expect(result.elapsed_ms).toBeLessThan(60_000);
      expect(result.verification?.elapsed_ms).toBeLessThan(60_000);
      expect(result.verification?.elapsed_ms).toBeGreaterThanOrEqual(0);
    });
  }
});
