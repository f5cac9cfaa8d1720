// The wire format of one upload batch (hashctl.md §9), as zod, for `hashctl schema upload` and for
// receivers' tests. The snapshot part is the normalizer's schema (src/miners/schema.ts), passed in
// so this file does not fix its shape twice.
import { z } from 'zod';

const batchId = z
  .union([z.uuid({ version: 'v4' }), z.ulid()])
  .describe('UUID v4 (or ULID); the Idempotency-Key header carries the same value');

const minerIdentity = {
  host: z.string().min(1).describe('miner API address as collected'),
  port: z.number().int().min(1).max(65_535),
  miner_id: z
    .union([z.string(), z.number().int()])
    .nullable()
    .optional()
    .describe("the collector's stable id for this miner"),
  collected_at: z.iso.datetime().describe('when this miner was read (UTC)'),
};

export const minerFailureSchema = z.object({
  kind: z
    .string()
    .describe('error kind of hashctl.md §3: timeout, refused, reset, unreachable, empty_reply, …'),
  message: z.string(),
  attempts: z.number().int().min(1).optional(),
  code: z.number().int().optional().describe('STATUS Code for api/denied'),
  msg: z.string().optional().describe('STATUS Msg for api/denied'),
});

export const collectorSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  host: z.string().min(1).describe('hostname of the machine running hashctl'),
});

/** The batch schema around a given snapshot schema (a zod object). */
export function uploadBatchSchema<Shape extends z.ZodRawShape>(snapshot: z.ZodObject<Shape>) {
  const answered = snapshot.extend({ ...minerIdentity, ok: z.literal(true) });
  const failed = z.object({ ...minerIdentity, ok: z.literal(false), error: minerFailureSchema });
  return z
    .object({
      batch_id: batchId,
      parent_batch_id: batchId
        .optional()
        .describe('set on the halves of a batch answered 413; the parent was never accepted'),
      site_id: z.string().min(1),
      collector: collectorSchema,
      sent_at: z.iso
        .datetime()
        .describe('when the batch was sealed; a resend carries the same value and the same bytes'),
      miners: z.array(z.discriminatedUnion('ok', [answered, failed])),
    })
    .describe('hashctl upload batch: POST {endpoint}/api/collector/upload, gzip JSON');
}

/** JSON Schema (draft 2020-12) of the batch, for `hashctl schema upload`. */
export function uploadBatchJsonSchema<Shape extends z.ZodRawShape>(
  snapshot: z.ZodObject<Shape>,
): Record<string, unknown> {
  return z.toJSONSchema(uploadBatchSchema(snapshot), { io: 'output', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
}
