// The zod schema of Snapshot (./types.ts) and its JSON Schema, printed by `hashctl schema snapshot`
// and embedded by the upload schema. Units live in the field names: _hs (H/s), _c (°C), _w, _s, _mhz.
import { z } from 'zod';
import type { Board, Fan, Pool, Snapshot } from './types.js';

const temperature = z.number().nullable().describe('°C; null when absent or a sentinel (0, -273)');

export const boardSchema = z.object({
  index: z.number().int().describe("the firmware's own chain/slot number (S9: 6, 7, 8)"),
  hashrate_hs: z.number().nullable().describe('H/s'),
  chips: z.number().int().nullable(),
  chips_expected: z.number().int().nullable().describe('from the model table or the firmware'),
  temp_board_c: temperature,
  temp_chip_c: temperature,
  temp_inlet_c: temperature.optional(),
  temp_outlet_c: temperature.optional(),
  frequency_mhz: z.number().nullable(),
  status: z.string().describe("'ok' | 'dead' | 'degraded' | 'unknown'"),
});

export const fanSchema = z.object({ index: z.number().int(), rpm: z.number().nullable() });

export const poolSchema = z.object({
  index: z.number().int(),
  url: z.string(),
  user: z.string().nullable(),
  status: z.string().nullable(),
  priority: z.number().nullable(),
  active: z.boolean().describe('the alive pool with the lowest priority: exactly one when any is alive'),
  accepted: z.number().int().nullable(),
  rejected: z.number().int().nullable(),
});

export const snapshotSchema = z
  .object({
    make: z.string().describe('"Antminer" | "Whatsminer" | "Avalon" | … | "unknown"'),
    model: z.string().nullable(),
    firmware: z.object({ name: z.string().nullable(), version: z.string().nullable() }),
    algorithm: z.string().describe('"sha256d" | "scrypt" | "x11" | "ethash" | "equihash" | … | "unknown"'),
    hashrate: z
      .object({
        current_hs: z.number().nullable(),
        average_hs: z.number().nullable(),
        nominal_hs: z.number().nullable(),
      })
      .describe('hashes (or solutions) per second, whatever unit the firmware used'),
    uptime_s: z.number().nullable(),
    accepted: z.number().int().nullable(),
    rejected: z.number().int().nullable(),
    hw_errors: z.number().int().nullable(),
    boards: z.array(boardSchema),
    fans: z.array(fanSchema),
    temp_max_chip_c: temperature,
    temp_max_board_c: temperature,
    temp_inlet_c: temperature.optional(),
    power_w: z.number().nullable(),
    efficiency_j_per_th: z.number().nullable().describe('J/TH, SHA-256 only'),
    pools: z.array(poolSchema),
    errors: z
      .array(z.object({ code: z.union([z.string(), z.number(), z.null()]), message: z.string() }))
      .describe('repairs made to the replies, failed commands, vendor error codes'),
    state: z.string().optional().describe("'mining' | 'sleeping' | 'unknown'"),
    cooling: z
      .string()
      .nullable()
      .optional()
      .describe("'air' | 'hydro' | 'immersion', null when the replies do not tell"),
    power_mode: z
      .string()
      .optional()
      .describe("Whatsminer's Power Mode, lower-case: 'normal' | 'high' | 'low'"),
  })
  .meta({ title: 'hashctl snapshot', description: 'One miner, normalized (hashctl.md §5)' });

// The schema and the interface must describe the same shape; this fails to compile if they drift.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
export const SCHEMA_MATCHES_TYPES: [
  Same<z.infer<typeof snapshotSchema>, Snapshot>,
  Same<z.infer<typeof boardSchema>, Board>,
  Same<z.infer<typeof fanSchema>, Fan>,
  Same<z.infer<typeof poolSchema>, Pool>,
] = [true, true, true, true];

export function snapshotJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(snapshotSchema) as Record<string, unknown>;
}
