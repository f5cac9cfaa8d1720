// Verifying a pause on Braiins OS, which writes no sleep flag: the read-back after `pause` shows
// the current rate at 0 while the average since the start stays up for hours (as cgminer keeps
// it). The pause is verified by the current rate, not by a state that counts the average.
import { describe, expect, it } from 'vitest';
import type { DecodedReply } from '../../src/cgminer/types.js';
import { readBack } from '../../src/control/dialects.js';
import { normalize } from '../../src/miners/normalize.js';
import { loadSet } from '../fixtures/miners/samples.js';

const FILES = [
  'braiins-os-plus-bosminer-plus-0.2.0__version.json',
  'braiins-os-plus-bosminer-plus-0.2.0__summary.json',
  'braiins-os-plus-bosminer-plus-0.2.0__pools.json',
];

/** A Braiins OS snapshot whose current rates (MH/s) are `current`, its average kept; null: not written. */
function braiinsAt(current: number | null) {
  const replies = loadSet(FILES);
  const record = ((replies.summary as DecodedReply).body.SUMMARY as Record<string, unknown>[])[0]!;
  for (const key of Object.keys(record)) {
    if (!/^MHS (5s|1m|5m|15m)$/.test(key)) continue;
    if (current === null) delete record[key];
    else record[key] = current;
  }
  return normalize(replies);
}

const verify = (current: number | null) =>
  readBack({ name: 'pause' }, 'braiins', { snapshot: null, readAt: 0 }, braiinsAt(current), 1000, 2000)!;

describe('control pause on Braiins OS', () => {
  it('is verified when the current rate reads 0, though the average since the start is still up', () => {
    const paused = braiinsAt(0);
    expect(paused.hashrate.average_hs).toBeGreaterThan(0);
    expect(verify(0).confirmed).toBe(true);
  });

  it('is not verified while it hashes, nor when the current rate was not read', () => {
    expect(verify(13_000_000).confirmed).toBe(false);
    expect(verify(null).confirmed).toBe(false);
  });
});

const resumed = (current: number | null) =>
  readBack({ name: 'resume' }, 'braiins', { snapshot: null, readAt: 0 }, braiinsAt(current), 1000, 2000)!;

describe('control resume on Braiins OS', () => {
  it('is not verified while the current rate still reads 0: the average since the start is no proof', () => {
    // The miner took the resume but did not start (or answered S and ignored it): its average
    // since the start is still above 0, its state is not "mining".
    expect(braiinsAt(0).state).toBe('unknown');
    expect(resumed(0)).toMatchObject({ confirmed: false, detail: expect.stringMatching(/not hashing/) });
    expect(resumed(null).confirmed).toBe(false);
  });

  it('is verified once the current rate is back', () => {
    expect(resumed(13_000_000).confirmed).toBe(true);
  });
});
