// `thermal check --protect` records what it did in thermal_events. With no site named, a miner the
// store already holds in one site (collect's --site) is recorded on that row, not on a second miner
// in the default site that `live` and the site's history never show.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Farm, startFarm } from '../../src/sim/index.js';

describe('thermal check --protect without --site', () => {
  let farm: Farm | null = null;
  let dir: string | null = null;
  afterEach(async () => {
    await farm?.stop();
    farm = null;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it("records its pause on the miner's own row (the database from HASHCTL_DB)", async () => {
    farm = await startFarm({ basePort: 0, count: 1, profile: 'braiins-os', host: '127.0.0.1' });
    farm.miners[0]!.state.fans[0]!.failed = true;
    const target = farm.inventory()[0] as string;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-protect-site-'));
    const db = path.join(dir, 'farm.db');
    const run = async (args: string[]) => {
      const ctx = memoryContext({ env: { HASHCTL_DB: db } });
      const code = await runCli(
        ['--timeout', '2s', '--retries', '0', 'thermal', 'check', target, ...args],
        ctx,
      );
      return { code, err: ctx.err() };
    };
    // The miner enters the store under north, as `collect --site north` puts it there.
    expect((await run(['--db', db, '--site', 'north'])).code).toBe(3);
    const paused = await run(['--protect', '--yes', '--readings', '1']);
    expect(paused.code, paused.err).toBe(3);
    const sqlite = new Database(db, { readonly: true });
    try {
      expect(
        sqlite.prepare('SELECT s.name AS site, m.port FROM miners m JOIN sites s ON s.id = m.site_id').all(),
      ).toEqual([{ site: 'north', port: farm.miners[0]!.port }]);
      const events = sqlite
        .prepare(
          'SELECT s.name AS site, e.detail FROM thermal_events e JOIN sites s ON s.id = e.site_id ORDER BY e.id',
        )
        .all() as { site: string; detail: string }[];
      expect(events.at(-1)).toMatchObject({
        site: 'north',
        detail: expect.stringMatching(/^protect: pause /),
      });
    } finally {
      sqlite.close();
    }
  });

  it("confirms a pause by the limits of the miner's site, as its first reading was judged", async () => {
    farm = await startFarm({ basePort: 0, count: 1, profile: 'braiins-os', host: '127.0.0.1' });
    const target = farm.inventory()[0] as string;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-protect-site-'));
    const db = path.join(dir, 'farm.db');
    const config = path.join(dir, 'hashctl.json');
    // North runs its boards cool: critical at 40 °C, under any board the simulator reports.
    fs.writeFileSync(
      config,
      JSON.stringify({ thermal: { sites: { north: { board: { warn: 35, critical: 40 } } } } }),
    );
    const run = async (args: string[]) => {
      const ctx = memoryContext();
      const code = await runCli(
        [
          '--timeout',
          '2s',
          '--retries',
          '0',
          'thermal',
          'check',
          target,
          '--db',
          db,
          '--config',
          config,
          '--json',
          ...args,
        ],
        ctx,
      );
      return {
        code,
        json: JSON.parse(ctx.out()) as {
          protect?: { outcomes: { result: string; detail: string | null }[] };
        },
      };
    };
    expect((await run(['--site', 'north'])).code).toBe(3);
    // No --site: north's miner, by north's limits, on every reading.
    const { code, json } = await run([
      '--protect',
      '--dry-run',
      '--readings',
      '2',
      '--reading-interval',
      '20ms',
    ]);
    expect(code).toBe(3);
    expect(json.protect?.outcomes.map((o) => o.result)).toEqual(['planned']);
    // The same with the database named by HASHCTL_DB rather than --db.
    const ctx = memoryContext({ env: { HASHCTL_DB: db } });
    const viaEnv = await runCli(
      [
        ...['--timeout', '2s', '--retries', '0', 'thermal', 'check', target, '--config', config, '--json'],
        ...['--protect', '--dry-run', '--readings', '1'],
      ],
      ctx,
    );
    expect(viaEnv).toBe(3);
    const outcomes = (JSON.parse(ctx.out()) as { protect?: { outcomes: { result: string }[] } }).protect
      ?.outcomes;
    expect(outcomes?.map((o) => o.result)).toEqual(['planned']);
  });
});
