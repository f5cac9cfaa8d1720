// A --verify-timeout longer than the read-back's fixed cap of checks (200, about 13 minutes at the
// 4 s backoff): the read-back stopped after ~13 minutes and said "not confirmed within 20m", while
// the README promises that the last check is made at the timeout (a slow miner's restart, a pool
// that comes alive late). Run on a virtual clock: the sleeps advance it, the reads are real.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import type { TargetControlResult } from '../../src/control/types.js';
import { perTest, plainS9 } from './support.js';

const each = perTest();

describe('control read-back with a long --verify-timeout', () => {
  it('reads back until the timeout, not until a fixed number of checks', async () => {
    // Two pools with priorities; a switchpool the miner acknowledges but never shows.
    const pools = [0, 1].map((i) => ({
      POOL: i,
      URL: `stratum+tcp://p${i}:3333`,
      User: 'w',
      Status: 'Alive',
      Priority: i,
      'Stratum Active': i === 0,
    }));
    const miner = plainS9({ pools });
    const fake = await each.fake(miner.script);
    let virtual = 0;
    const stdin = Object.assign(Readable.from([]), { isTTY: false });
    const ctx = memoryContext({
      stdin,
      monotonic: () => virtual,
      sleep: async (ms: number) => {
        virtual += ms;
      },
    });
    const code = await runCli(
      [
        'control',
        'switchpool',
        '1',
        fake.target.key,
        '--yes',
        '--json',
        '--timeout',
        '2s',
        '--retries',
        '0',
        '--verify-timeout',
        '20m',
        '--db',
        each.temp().db,
      ],
      ctx,
    );
    const result = JSON.parse(ctx.out()) as TargetControlResult;
    expect(code).toBe(1);
    expect(miner.writes).toEqual(['switchpool']);
    expect(result.result).toBe('unknown');
    expect(result.verification?.detail).toMatch(/^not confirmed within 20m/);
    // The read-back ran for the whole --verify-timeout (on the virtual clock), with its last check
    // made at the timeout: the old code stopped at 200 checks, 787.75 s in.
    expect(result.verification?.elapsed_ms).toBe(20 * 60_000);
    expect(result.verification?.checks).toBeGreaterThan(200);
  }, 60_000);
});
