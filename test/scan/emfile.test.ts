// A scan in a child process with `ulimit -n 64` and far more concurrency than that allows: it must
// hit EMFILE, back off, and still find every miner (never report a live host as absent).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanResult, ScanSummary } from '../../src/scan/index.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { runBash } from '../support/shell.js';
import { closedPort } from './support/services.js';

const BIN = fileURLToPath(new URL('../../bin/hashctl', import.meta.url));
const MINERS = 120;
/** A /24 of loopback addresses nobody else in the test suite uses. */
const SUBNET = '127.0.213';

let farm: Farm;
let port = 0;

beforeAll(async () => {
  port = await closedPort();
  const addresses = Array.from({ length: MINERS }, (_, i) => `${SUBNET}.${i + 1}`);
  farm = await startFarm({ addresses, port, profile: 'mix', seed: 7 });
});

afterAll(async () => {
  await farm?.stop();
});

describe('scan at a low open-file limit', () => {
  it('backs off on EMFILE and still identifies every miner', async () => {
    expect(existsSync(BIN)).toBe(true);
    const { code, stdout, stderr } = await runBash(
      `ulimit -n 64 && exec node ${JSON.stringify(BIN)} --json scan ${SUBNET}.0/24 --port ${port} --concurrency 400`,
      { env: { ...process.env, NO_COLOR: '1' } },
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const { results, summary } = JSON.parse(stdout) as { results: ScanResult[]; summary: ScanSummary };
    expect(summary.backoffs).toBeGreaterThan(0); // the limit really was hit
    expect(summary.final_concurrency).toBeLessThan(400);
    expect(summary).toMatchObject({
      targets: 256,
      checked: 256,
      miners: MINERS,
      open: 0,
      none: 256 - MINERS,
    });
    const expected = new Map(farm.miners.map((m) => [m.host, m.profile.make]));
    expect(results).toHaveLength(MINERS);
    for (const result of results) {
      expect(result.outcome).toBe('miner');
      expect(result.make, result.host).toBe(expected.get(result.host));
    }
  });
});
