// The --json contract across commands (hashctl.md §3): one JSON document on stdout, field names in
// snake_case, and a miner that could not be read carries `error: {kind, message, attempts}` under
// the same names in every command that reads miners. The same thing has the same name: `firmware`
// is the miner's firmware ({name, version}) wherever it appears, never something else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { MINER_ERROR_KINDS } from '../../src/errors.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { recordAttempt } from '../../src/store/outbox.js';
import { closedPort } from '../support/fake-miner.js';
import { enqueueCycle, reports, tempStore } from '../upload/support/fixtures.js';

let dead: string[] = [];
let farm: Farm | null = null;

beforeAll(async () => {
  dead = [`127.0.0.1:${await closedPort()}`, `127.0.0.1:${await closedPort()}`];
  farm = await startFarm({ profile: 'braiins-os', count: 1, seed: 3, host: '127.0.0.1', basePort: 0 });
});
afterAll(async () => {
  await farm?.stop();
});

async function json(args: string[]): Promise<{ code: number; doc: unknown; err: string }> {
  const ctx = memoryContext();
  const code = await runCli([...args, '--json', '--retries', '0', '--timeout', '5s'], ctx);
  return { code, doc: JSON.parse(ctx.out()), err: ctx.err() };
}

/** Every key of every object in `value`, with its path; the maps keyed by data are left out. */
function keys(value: unknown, path = '$', out: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) keys(item, `${path}[${i}]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      out.push(`${path}.${key}`);
      // Raw replies keep the miner's own names; a few maps are keyed by data (a make, an action).
      if (['responses', 'by_make', 'other_algorithms', 'actions', 'notes', 'data'].includes(key)) continue;
      keys(item, `${path}.${key}`, out);
    }
  }
  return out;
}

/** Every object in `value` that names `target`. */
function entriesOf(
  value: unknown,
  target: string,
  out: Record<string, unknown>[] = [],
): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const item of value) entriesOf(item, target, out);
  else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record.target === target) out.push(record);
    for (const item of Object.values(record)) entriesOf(item, target, out);
  }
  return out;
}

const READERS: string[][] = [
  ['probe'],
  ['control', 'capabilities'],
  ['control', 'restart', '--dry-run'],
  ['thermal', 'check'],
  ['thermal', 'posture'],
  ['thermal', 'limits'],
  ['audit'],
];

describe('--json across the commands that read miners', () => {
  for (const command of READERS) {
    it(`${command.join(' ')}: snake_case names, and a dead miner's error under the contract's names`, async () => {
      const { code, doc } = await json([...command, ...dead]);
      expect(code).toBe(1);
      const camel = keys(doc).filter((path) => !/\.[a-z0-9_]+$/.test(path));
      expect(camel).toEqual([]);
      for (const target of dead) {
        const entries = entriesOf(doc, target);
        expect(entries.length, target).toBeGreaterThan(0);
        for (const entry of entries) {
          // audit lists its failures as errors themselves ({target, kind, message}).
          const error = (command[0] === 'audit' ? entry : entry.error) as Record<string, unknown>;
          expect(error, JSON.stringify(entry)).toMatchObject({
            kind: 'refused',
            message: expect.any(String),
          });
          expect(MINER_ERROR_KINDS).toContain(error.kind);
          if (command[0] !== 'audit') expect(error.attempts, JSON.stringify(entry)).toBe(1);
        }
      }
    });
  }

  it('firmware is the miner firmware everywhere; the firmware thermal limits are firmware_limits', async () => {
    const miner = farm!.inventory()[0]!;
    const probe = (await json(['probe', miner])).doc as { snapshot: { firmware: { name: string } } };
    const name = probe.snapshot.firmware.name;
    expect(name).toMatch(/Braiins/);
    const posture = (await json(['thermal', 'posture', miner])).doc as { miners: Record<string, unknown>[] };
    const limits = (await json(['thermal', 'limits', miner])).doc as { miners: Record<string, unknown>[] };
    for (const entry of [posture.miners[0]!, limits.miners[0]!]) {
      expect(entry.firmware_limits, JSON.stringify(entry)).toMatchObject({ firmware: expect.any(String) });
      if ('firmware' in entry) expect(entry.firmware).toMatchObject({ name });
    }
    // audit showed it as one string ("Braiins OS+ 0.2.0-…"), for jq to split again.
    const audit = (await json(['audit', miner])).doc as { miners: Record<string, unknown>[] };
    expect(audit.miners[0]!.firmware).toEqual(probe.snapshot.firmware);
  });

  it('upload --status: the last error says why in reason, as the flush and the quarantined batches do', async () => {
    const temp = tempStore();
    try {
      const [batch] = enqueueCycle(temp.store, { miners: reports(2), now: Date.now() });
      temp.store.transaction((db) => recordAttempt(db, batch!.batchId, Date.now()));
      temp.store.close();
      const ctx = memoryContext();
      expect(await runCli(['upload', '--status', '--json', '--db', temp.path], ctx)).toBe(0);
      const status = JSON.parse(ctx.out()) as { last_error: Record<string, unknown> };
      // `error` is an object {kind, message, …} in every other document; here it was the text.
      expect(status.last_error).toMatchObject({ batch_id: batch!.batchId, reason: expect.any(String) });
      expect(status.last_error).not.toHaveProperty('error');
    } finally {
      temp.close();
    }
  });
});
