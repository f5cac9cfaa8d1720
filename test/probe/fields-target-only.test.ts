// `probe --fields target` has no data column to carry a failure (the first one says why on a row).
// A miner that could not be read printed its address alone and exit 1: the reason was nowhere.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { startHealthyFarm } from '../support/farm.js';

describe('probe --fields target on a miner that cannot be read', () => {
  it('says why on stderr, one line per failed miner, even with --quiet; the good ones say nothing there', async () => {
    const farm = await startHealthyFarm(1, () => Date.parse('2026-11-02T12:00:00Z'));
    try {
      for (const quiet of [[], ['--quiet']]) {
        const ctx = memoryContext();
        const code = await runCli(
          ['probe', ...farm.inventory(), '127.0.0.1:1', '--fields', 'target', '--retries', '0', ...quiet],
          ctx,
        );
        expect(code).toBe(EXIT.failed);
        expect(ctx.out()).toBe(`target\n${farm.inventory()[0]}\n127.0.0.1:1\n`);
        expect(ctx.err()).toMatch(/^hashctl: 127\.0\.0\.1:1: refused: connection refused[^\n]*\n$/);
      }
    } finally {
      await farm.stop();
    }
  });
});
