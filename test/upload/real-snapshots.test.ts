// The batch schema that `hashctl schema upload` prints must accept batches of real normalized
// snapshots (from the captured replies), not only the synthetic ones the other upload tests use.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../src/miners/normalize.js';
import { snapshotSchema } from '../../src/miners/schema.js';
import { buildBatches, decodeBatchBody } from '../../src/upload/batch.js';
import { uploadBatchSchema } from '../../src/upload/payload.js';
import { loadSet, SAMPLES_DIR } from '../fixtures/miners/samples.js';

describe('upload batches of real snapshots', () => {
  it('validate against the published schema', () => {
    const files = readdirSync(SAMPLES_DIR).filter((f) =>
      /__(summary|stats|pools|version)\.(json|txt)$/.test(f),
    );
    const byMiner = new Map<string, string[]>();
    for (const file of files) {
      const miner = file.split('__')[0]!;
      byMiner.set(miner, [...(byMiner.get(miner) ?? []), file]);
    }
    const miners = [...byMiner.values()].map((set, i) => ({
      host: `10.0.0.${i + 1}`,
      port: 4028,
      minerId: i + 1,
      collectedAt: 1_700_000_000_000,
      snapshot: normalize(loadSet(set)),
    }));
    expect(miners.length).toBeGreaterThan(40);
    const schema = uploadBatchSchema(snapshotSchema);
    for (const batch of buildBatches({ siteId: 'farm-a', runId: 1, miners, now: Date.now() })) {
      const result = schema.safeParse(decodeBatchBody(batch.body));
      expect(result.success, result.success ? '' : JSON.stringify(result.error.issues.slice(0, 3))).toBe(
        true,
      );
    }
  });
});
