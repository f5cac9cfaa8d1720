// control writes its command_log to the farm's database: without --db, the `db` of $HASHCTL_CONFIG,
// as collect, live and thermal check find it (a `control pause` logged elsewhere was unseen by the
// thermal check that then judged the paused miner's idle boards as dead).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import type { Farm } from '../../src/sim/index.js';
import { startHealthyFarm } from '../support/farm.js';

let dir: string;
let farm: Farm;
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-control-config-db-'));
  farm = await startHealthyFarm(1, () => Date.parse('2026-11-02T12:00:00Z'));
});
afterEach(async () => {
  await farm.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function restart(env: Record<string, string>, extra: string[] = []) {
  const ctx = memoryContext({ env, stdin: Object.assign(Readable.from([]), { isTTY: false }) });
  const code = await runCli(
    ['control', 'restart', ...farm.inventory(), '--yes', '--no-verify', '--retries', '0', ...extra],
    ctx,
  );
  return { code, err: ctx.err() };
}

function loggedActions(db: string): string[] {
  const sqlite = new Database(db, { readonly: true });
  try {
    return sqlite.prepare('SELECT action FROM command_log').pluck().all() as string[];
  } finally {
    sqlite.close();
  }
}

describe('control and the config file', () => {
  it("logs to the config's db, not to $HASHCTL_DB's default place", async () => {
    const farmDb = path.join(dir, 'farm.db');
    const config = path.join(dir, 'hashctl.json');
    fs.writeFileSync(config, JSON.stringify({ db: farmDb }));
    const run = await restart({ HASHCTL_CONFIG: config, HOME: dir });
    expect(run.err).not.toContain('command log unavailable');
    expect(loggedActions(farmDb)).toEqual(['restart']);
    expect(fs.existsSync(path.join(dir, '.local', 'share', 'hashctl', 'hashctl.db'))).toBe(false);
  });

  it('--db still wins over the config', async () => {
    const config = path.join(dir, 'hashctl.json');
    fs.writeFileSync(config, JSON.stringify({ db: path.join(dir, 'farm.db') }));
    const named = path.join(dir, 'named.db');
    await restart({ HASHCTL_CONFIG: config, HOME: dir }, ['--db', named]);
    expect(loggedActions(named)).toEqual(['restart']);
    expect(fs.existsSync(path.join(dir, 'farm.db'))).toBe(false);
  });

  it('a broken config costs the audit trail, not the restart', async () => {
    const config = path.join(dir, 'hashctl.json');
    fs.writeFileSync(config, '{ not json');
    const run = await restart({ HASHCTL_CONFIG: config, HOME: dir });
    expect(run.err).toMatch(
      /^hashctl: command log unavailable \(config .*hashctl\.json\S*: .*\); continuing without an audit trail$/m,
    );
    expect(farm.commandLog.some((entry) => entry.command === 'restart')).toBe(true);
  });
});
