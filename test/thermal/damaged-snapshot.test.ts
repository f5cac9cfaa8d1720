// thermal check --from-db over a stored snapshot whose boards or fans are damaged (a hand-edited row,
// another tool's row): only that miner is `unknown`, the rest of the farm is still judged.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { airMiner, storeCycle, storedTarget } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-damaged-snapshot-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const DAMAGE: [string, (s: Record<string, unknown>) => void][] = [
  ['boards [null]', (s) => (s.boards = [null])],
  ['fans [null]', (s) => (s.fans = [null])],
  ['boards [5]', (s) => (s.boards = [5])],
  ['fans ["x"]', (s) => (s.fans = ['x'])],
];

describe('thermal check --from-db with a damaged stored snapshot', () => {
  it.each(DAMAGE)('%s: that miner is unknown (parse), the others are judged', async (_name, damage) => {
    const db = path.join(dir, 'farm.db');
    await storeCycle(
      db,
      'A',
      [1, 2].map((n) => ({
        target: storedTarget(n),
        ok: true,
        snapshot: airMiner(n === 1 ? 96 : 50),
        elapsedMs: 20,
      })),
    );
    const sqlite = new Database(db);
    const row = sqlite
      .prepare(
        "SELECT l.miner_id AS id, l.snapshot FROM telemetry_live l JOIN miners m ON m.id = l.miner_id WHERE m.host = '10.0.0.2'",
      )
      .get() as { id: number; snapshot: string };
    const snapshot = JSON.parse(row.snapshot) as Record<string, unknown>;
    damage(snapshot);
    sqlite
      .prepare('UPDATE telemetry_live SET snapshot = ? WHERE miner_id = ?')
      .run(JSON.stringify(snapshot), row.id);
    sqlite.close();
    const ctx = memoryContext();
    const code = await runCli(['thermal', 'check', '--from-db', '--db', db, '--json'], ctx);
    expect(ctx.err()).not.toMatch(/internal/i);
    const json = JSON.parse(ctx.out()) as {
      results: { target: string; status: string; error?: { kind: string } }[];
    };
    expect(json.results.map((r) => [r.target, r.status, r.error?.kind ?? null])).toEqual([
      ['10.0.0.1:4028', 'critical', null],
      ['10.0.0.2:4028', 'unknown', 'parse'],
    ]);
    expect(code).toBe(3);
  });
});
