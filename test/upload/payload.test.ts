import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildBatches, decodeBatchBody, splitBatchBody } from '../../src/upload/batch.js';
import { uploadBatchJsonSchema, uploadBatchSchema } from '../../src/upload/payload.js';
import { reports } from './support/fixtures.js';

// The batch's own fields are what this tests; the snapshot part is the normalizer's schema, stood
// in for by the fields collect's rows always carry.
const snapshotStandIn = z
  .object({
    make: z.string(),
    model: z.string().nullable(),
    hashrate: z.object({ current_hs: z.number().nullable() }).loose(),
    boards: z.array(z.unknown()),
  })
  .loose();
const schema = uploadBatchSchema(snapshotStandIn);

describe('upload batch schema', () => {
  it('accepts every batch buildBatches makes, answered and failed miners alike, and split halves', () => {
    const batches = buildBatches({
      siteId: 'farm-a',
      runId: 1,
      miners: reports(30),
      now: Date.now(),
      limits: { maxMiners: 10 },
    });
    for (const batch of batches) {
      const parsed = schema.parse(decodeBatchBody(batch.body));
      expect(parsed.miners.some((m) => m.ok === false)).toBe(true);
    }
    for (const half of splitBatchBody(batches[0]!.body, 0, 1))
      expect(schema.safeParse(decodeBatchBody(half.body)).success).toBe(true);
  });

  it('rejects what a receiver must not take', () => {
    const body = decodeBatchBody(buildBatches({ siteId: 's', miners: reports(7), now: Date.now() })[0]!.body);
    const failedIndex = body.miners.findIndex((m) => !m.ok);
    const broken = [
      { ...body, batch_id: 'batch-1' },
      { ...body, site_id: '' },
      { ...body, sent_at: 'yesterday' },
      { ...body, miners: [{ ...body.miners[0], port: '4028' }] },
      { ...body, miners: [{ ...body.miners[failedIndex], error: undefined }] },
      { ...body, miners: [{ ...body.miners[0], make: undefined }] },
    ];
    for (const candidate of broken) expect(schema.safeParse(candidate).success).toBe(false);
  });

  it('prints as JSON Schema with the contract fields required', () => {
    const json = uploadBatchJsonSchema(snapshotStandIn) as {
      required: string[];
      properties: Record<string, unknown>;
    };
    expect(json.required).toEqual(
      expect.arrayContaining(['batch_id', 'site_id', 'collector', 'sent_at', 'miners']),
    );
    expect(Object.keys(json.properties)).toContain('parent_batch_id');
    expect(JSON.stringify(json)).toContain('"collected_at"');
  });
});
