// A restart's read-back on a miner whose uptime does not count (a placeholder 0, a figure stuck at
// a few seconds): every read of it claims a boot just now. The read-back's check for an uptime that
// "did not move between reads" needed 2 s between the first read and the read-back, and the first
// read-back comes right after the write: a miner that took the restart and did nothing (or whose
// old process still answered) was `verified` at once, on its unchanged uptime.
import { describe, expect, it } from 'vitest';
import { control, perTest, plainS9 } from './support.js';

const each = perTest();

/** Restarts a miner that takes the write and never restarts: `unknown`, exit 1; its result. */
async function restartNotVerified(miner: ReturnType<typeof plainS9>) {
  const fake = await each.fake(miner.script);
  const run = await control([
    'restart',
    fake.target.key,
    '--yes',
    '--verify-timeout',
    '3s',
    '--db',
    each.temp().db,
  ]);
  expect(miner.writes).toEqual(['restart']);
  const result = run.json.results[0];
  expect(result?.result, JSON.stringify(result)).toBe('unknown');
  expect(run.code).toBe(1);
  return result;
}

describe('restart read-back on an uptime that does not count', () => {
  for (const stuck of [0, 1]) {
    it(`is not verified by an uptime stuck at ${stuck}s`, async () => {
      // Answers the restart S, and never restarts: its uptime reads the same before and after.
      const miner = plainS9({ summary: { Elapsed: stuck } });
      const result = await restartNotVerified(miner);
      expect(result?.ok).toBe(false);
      expect(result?.verification?.detail).toMatch(/did not move/);
    });
  }
});

// A miner up a second or so when first read (it had just booted), that takes the restart and does
// not make it: its uptime counts on from the same boot, and at its next whole second that boot
// read as one "after the write" (within the 2 s allowed for whole seconds): `verified`.
describe('restart read-back on a miner that had just booted', () => {
  it('is not verified by the same boot read again a second later', async () => {
    const bootedAt = Date.now() - 1500;
    const miner = plainS9({
      summary: {
        get Elapsed() {
          return Math.floor((Date.now() - bootedAt) / 1000);
        },
      },
    });
    await restartNotVerified(miner);
  });
});
