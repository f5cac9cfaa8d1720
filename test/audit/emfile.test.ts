// Audit discovery in a child process with `ulimit -n 64` and far more concurrency than that allows:
// like `hashctl scan`, it must hit EMFILE, back off, and still find every miner.
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { runBash } from '../support/shell.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./support/discover-at-limit.ts', import.meta.url));
const MINERS = 120;
/** A /24 of loopback addresses nobody else in the test suite uses. */
const SUBNET = '127.0.215';

let farm: Farm;
let port = 0;

beforeAll(async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '0.0.0.0', resolve));
  port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const addresses = Array.from({ length: MINERS }, (_, i) => `${SUBNET}.${i + 1}`);
  farm = await startFarm({ addresses, port, profile: 'mix', seed: 9 });
});

afterAll(async () => {
  await farm?.stop();
});

describe('audit discovery at a low open-file limit', () => {
  it('backs off on EMFILE and still finds every miner', async () => {
    const { code, stdout, stderr } = await runBash(
      `ulimit -n 64 && exec node --import tsx ${JSON.stringify(SCRIPT)} ${SUBNET}.0/24 ${port} 400`,
      { cwd: ROOT },
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const { outcomes, miners, exhaustionWaits } = JSON.parse(stdout) as {
      outcomes: Record<string, number>;
      miners: string[];
      exhaustionWaits: number;
    };
    expect(exhaustionWaits).toBeGreaterThan(0); // the limit really was hit
    expect(outcomes).toEqual({ miner: MINERS, none: 256 - MINERS });
    expect(miners.sort()).toEqual(farm.miners.map((miner) => miner.host).sort());
  });
});
