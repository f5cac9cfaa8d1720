// `probe` in a child process with `ulimit -n 128` and a --concurrency far above what that allows:
// the client must keep its sockets within the open-file limit, never report a miner that answers
// as `unreachable (EMFILE)` because this host ran out of file descriptors.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { runBash } from '../support/shell.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MINERS = 150;

let farm: Farm;

beforeAll(async () => {
  // Slow enough that every connection is still open when the next ones start.
  farm = await startFarm({
    profile: 'antminer-s19',
    count: MINERS,
    host: '127.0.0.1',
    basePort: 0,
    seed: 3,
    faults: 'latency=300ms',
  });
});

afterAll(async () => {
  await farm?.stop();
});

describe('probe at a low open-file limit', () => {
  it('keeps its sockets within the limit whatever --concurrency asks, and reads every miner', async () => {
    const targets = farm.miners.map((m) => `${m.host}:${m.port}`).join(' ');
    const { code, stdout, stderr } = await runBash(
      `ulimit -n 128 && exec node --import tsx src/entry.ts probe ${targets} --json --retries 0 --timeout 10s --concurrency 1000`,
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } },
    );
    const { results } = JSON.parse(stdout) as {
      results: { target: string; ok: boolean; error?: { message: string } }[];
    };
    const failed = results.filter((r) => !r.ok).map((r) => `${r.target}: ${r.error?.message}`);
    expect(failed).toEqual([]);
    expect(results).toHaveLength(MINERS);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
