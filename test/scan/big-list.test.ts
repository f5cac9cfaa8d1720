// scan's list past its cap (2^24 endpoints) stops at the line that passes it, counting a line without
// a port of its own once per --port; a line with the scanned port is not counted twice.
import { describe, expect, it } from 'vitest';
import { buildScanTargets } from '../../src/scan/index.js';
import { BAD_LAST_LINE, distinctHosts } from '../support/target-lists.js';

const LINES = 200_000;
const CAP = 65_536;
const limit = { max: CAP, advice: 'find the miners first' };

describe("scan's list past its cap", () => {
  it('stops at the line past the cap', async () => {
    const text = `${distinctHosts(LINES)}${BAD_LAST_LINE}`;
    await expect(
      buildScanTargets(['@farm.txt'], [4028], { readFile: async () => text, limit }),
    ).rejects.toThrow(`(reading stopped at farm.txt:${CAP + 1})`);
  });

  it('a line without a port counts once per port: 64 ports stop the list 64 times sooner', async () => {
    const text = `${distinctHosts(LINES)}${BAD_LAST_LINE}`;
    const ports = Array.from({ length: 64 }, (_, i) => 4028 + i);
    await expect(
      buildScanTargets(['@farm.txt'], ports, { readFile: async () => text, limit }),
    ).rejects.toThrow(`(reading stopped at farm.txt:${CAP / 64 + 1})`);
  });

  it('a range with and without the scanned port is one range, not two past the cap', async () => {
    const text = '10.0.0.0/8\n10.0.0.0/8:4028\n';
    const targets = await buildScanTargets(['@farm.txt'], [4028], {
      readFile: async () => text,
      limit: { max: 2 ** 24, advice: 'split' },
    });
    expect(targets.count).toBe(2 ** 24 - 2);
  });
});
