// `thermal check --protect` goes through the control path: same safety, cooldown in command_log.
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { cli, tempDir, writesSeen } from './support.js';

interface ProtectJson {
  results: { target: string; status: string; action: string }[];
  protect?: {
    run_id: string | null;
    outcomes: {
      target: string;
      result: string;
      ok: boolean;
      request: string | null;
      detail: string | null;
    }[];
  };
}

let farms: Farm[] = [];
let temp: ReturnType<typeof tempDir> | null = null;
afterEach(async () => {
  await Promise.all(farms.map((f) => f.stop()));
  farms = [];
  temp?.remove();
  temp = null;
});

async function check(args: string[]): Promise<{ code: number; json: ProtectJson; err: string }> {
  // The confirming readings of --protect (3 by default) come quickly here.
  const quick = args.includes('--protect') ? ['--reading-interval', '20ms'] : [];
  const run = await cli([
    'thermal',
    'check',
    ...args,
    ...quick,
    '--json',
    '--timeout',
    '2s',
    '--retries',
    '0',
  ]);
  try {
    return { code: run.code, json: JSON.parse(run.out) as ProtectJson, err: run.err };
  } catch {
    throw new Error(`no JSON (exit ${run.code}): ${run.err}`);
  }
}

/** target → protect result (the check sorts its results, so compare without order). */
function pairs(json: ProtectJson): Map<string, string> {
  return new Map((json.protect?.outcomes ?? []).map((o) => [o.target, o.result]));
}

describe('thermal check --protect', () => {
  it('pauses the critical miner once (verified), leaves the cool one alone, and respects the cooldown', async () => {
    const hot = await startFarm({ basePort: 0, count: 1, profile: 'braiins-os' });
    const cool = await startFarm({ basePort: 0, count: 1, profile: 'braiins-os' });
    const stock = await startFarm({ basePort: 0, count: 1, profile: 'antminer-s19' });
    farms = [hot, cool, stock];
    hot.miners[0]!.state.fans[0]!.failed = true;
    stock.miners[0]!.state.fans[0]!.failed = true;
    temp = tempDir();
    const targets = farms.map((f) => f.inventory()[0] as string);

    // No --yes and no terminal: nothing at all is sent, not even the reads of the check.
    const refused = await cli(['thermal', 'check', ...targets, '--protect', '--db', temp.db]);
    expect(refused.code).toBe(2);
    for (const f of farms) expect(f.commandLog).toHaveLength(0);

    const dry = await check([...targets, '--protect', '--dry-run', '--db', temp.db]);
    expect(pairs(dry.json)).toEqual(
      new Map([
        [targets[0], 'planned'],
        [targets[2], 'unsupported'],
      ]),
    );
    for (const f of farms) expect(writesSeen(f)).toEqual([]);

    const readsBefore = farms.map((f) => f.commandLog.length);
    const first = await check([...targets, '--protect', '--yes', '--db', temp.db]);
    expect(first.code).toBe(3);
    // Paused on the third critical reading in a row: before the pause the hot miner was read three
    // times as often as the cool one (same firmware), and once more by control itself (its read
    // of the state before a write).
    const coolReads = cool.commandLog.length - readsBefore[1]!;
    const hotReads = hot.commandLog.findIndex((c, i) => i >= readsBefore[0]! && c.command === 'pause');
    expect(coolReads).toBeGreaterThan(0);
    expect(hotReads - readsBefore[0]!).toBe(3 * coolReads + 1);
    const byTarget = new Map(first.json.results.map((r) => [r.target, r]));
    expect(byTarget.get(targets[0]!)).toMatchObject({ status: 'critical', action: 'pause' });
    expect(byTarget.get(targets[1]!)?.action).not.toBe('pause');
    expect(pairs(first.json)).toEqual(
      new Map([
        [targets[0], 'verified'],
        [targets[2], 'unsupported'],
      ]),
    );
    expect(hot.miners[0]!.state.sleeping).toBe(true);
    expect(cool.miners[0]!.state.sleeping).toBe(false);
    expect(writesSeen(hot).map((w) => w.command)).toEqual(['pause']);
    expect(writesSeen(cool)).toEqual([]);
    expect(writesSeen(stock)).toEqual([]);

    const sqlite = new Database(temp.db, { readonly: true });
    try {
      const log = sqlite
        .prepare("SELECT source, action, result FROM command_log WHERE result = 'verified'")
        .all();
      expect(log).toEqual([{ source: 'thermal', action: 'pause', result: 'verified' }]);
      const events = sqlite
        .prepare(
          "SELECT m.port, e.detail FROM thermal_events e JOIN miners m ON m.id = e.miner_id WHERE e.detail LIKE 'protect:%'",
        )
        .all() as { port: number; detail: string }[];
      expect(events.map((e) => e.port).sort()).toEqual([hot.miners[0]!.port, stock.miners[0]!.port].sort());
      expect(events.find((e) => e.port === hot.miners[0]!.port)?.detail).toMatch(/^protect: pause verified/);
    } finally {
      sqlite.close();
    }

    // Still critical on the next run: within the cooldown nothing is sent again.
    hot.miners[0]!.state.sleeping = false;
    const second = await check([...targets, '--protect', '--yes', '--db', temp.db]);
    const again = second.json.protect?.outcomes.find((o) => o.target === targets[0]);
    expect(again?.result).toBe('cooldown');
    expect(writesSeen(hot).map((w) => w.command)).toEqual(['pause']);

    // A dry run shows what a real run would do: the cooldown too, not 'planned'.
    const preview = await check([...targets, '--protect', '--dry-run', '--db', temp.db]);
    expect(preview.json.protect?.outcomes.find((o) => o.target === targets[0])?.result).toBe('cooldown');
    expect(writesSeen(hot).map((w) => w.command)).toEqual(['pause']);
  });

  it('the protect flags need --protect, and --protect needs live targets', async () => {
    expect((await cli(['thermal', 'check', '127.0.0.1:1', '--yes'])).code).toBe(2);
    expect((await cli(['thermal', 'check', '--from-db', '--protect', '--yes'])).code).toBe(2);
  });

  it('targets typed on the terminal (`-`, then Ctrl-D) leave nobody to ask: --yes is asked for, nothing sent', async () => {
    const hot = await startFarm({ basePort: 0, count: 1, profile: 'braiins-os' });
    farms = [hot];
    hot.miners[0]!.state.fans[0]!.failed = true;
    temp = tempDir();
    const stdin = Object.assign(Readable.from([`${hot.inventory()[0]}\n`]), { isTTY: true });
    const ctx = memoryContext({ stdin });
    expect(await runCli(['thermal', 'check', '-', '--protect', '--db', temp.db], ctx)).toBe(2);
    expect(ctx.err()).toMatch(/--protect sends writes: pass --yes \(stdin held the targets\)/);
    expect(hot.commandLog).toHaveLength(0);
  });
});
