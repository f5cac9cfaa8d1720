import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import {
  braiinsReplies,
  braiinsWithTempctrl,
  type FakeMiner,
  startFakeMiner,
  TEMPCTRL_FAILURES,
} from './fake-miner.js';

interface PostureJson {
  miners: {
    target: string;
    firmware_limits?: {
      firmware: string;
      mode: string | null;
      target_c: number;
      hot_c: number;
      dangerous_c: number;
    } | null;
    trip?: { value_c: number } | null;
    firmware_limits_error?: { kind: string; message: string } | null;
    findings?: { id: string; severity: string; message: string; data: Record<string, unknown> }[];
    error?: { kind: string };
  }[];
  summary: { total: number; unreachable: number; flagged: number; limits_unread?: number };
}

async function posture(args: string[]): Promise<{ code: number; json: PostureJson; err: string }> {
  const ctx = memoryContext();
  const code = await runCli(
    ['thermal', 'posture', ...args, '--json', '--timeout', '2s', '--retries', '0'],
    ctx,
  );
  try {
    return { code, json: JSON.parse(ctx.out()), err: ctx.err() };
  } catch {
    throw new Error(`no JSON (exit ${code}): ${ctx.err()}`);
  }
}

/** Commands that would change a miner; posture must never send one. */
const WRITES =
  /^(tempctrlset|fanset|atmset|curtail|pause|resume|restart|quit|ascset|privilege|logon|switchpool|addpool)/;

describe('thermal posture', () => {
  let farm: Farm | null = null;
  const miners: FakeMiner[] = [];
  afterEach(async () => {
    await farm?.stop();
    farm = null;
    await Promise.all(miners.splice(0).map((m) => m.close()));
  });

  it("reads a simulated Braiins OS miner's own Target/Hot/Dangerous with read-only commands", async () => {
    farm = await startFarm({
      profile: 'braiins-os',
      count: 1,
      seed: 5,
      host: '127.0.0.1',
      basePort: 0,
      ambientC: 20,
    });
    const miner = farm.miners[0]!;
    miner.state.limits = { target: 80, hot: 95, dangerous: 104 };
    const { code, json } = await posture(farm.inventory());
    expect(json.miners[0]?.firmware_limits).toMatchObject({
      firmware: 'braiins',
      mode: 'Automatic',
      target_c: 80,
      hot_c: 95,
      dangerous_c: 104,
    });
    expect(json.miners[0]?.trip).toMatchObject({ value_c: 104, origin: 'firmware' });
    expect(json.miners[0]?.findings).toEqual([]);
    const commands = miner.received().flatMap((entry) => entry.command.split('+'));
    expect(commands).toContain('tempctrl');
    expect(commands.filter((c) => WRITES.test(c))).toEqual([]);
    expect(code).toBe(0);
  });

  it('a miner its own protection stopped (boards off past Dangerous) is not "still mining" (no critical)', async () => {
    farm = await startFarm({
      profile: 'luxos',
      count: 1,
      seed: 5,
      host: '127.0.0.1',
      basePort: 0,
      ambientC: 60,
    });
    const { code, json } = await posture(farm.inventory());
    const findings = json.miners[0]?.findings ?? [];
    expect(findings.map((f) => [f.id, f.severity])).toEqual([['at-firmware-trip', 'medium']]);
    expect(findings[0]?.message).toContain('it is not hashing');
    expect(findings[0]?.data).toMatchObject({ trip: 70, hashing: 'idle' });
    expect(code).toBe(0);
  });

  it('reports weakened protection from a fake Braiins OS miner and exits 3 at --fail-on high', async () => {
    const fake = await startFakeMiner(
      braiinsReplies({ boards: [70, 69, 71], mode: 'Manual', fanSpeed: 25, hot: 110, dangerous: 125 }),
      'BOSminer+ 0.2.0',
    );
    miners.push(fake);
    const { code, json } = await posture([fake.target, '--fail-on', 'high']);
    const ids = json.miners[0]?.findings?.map((f) => f.id).sort();
    expect(ids).toEqual(['fans-manual', 'limit-above-vendor-max']);
    expect(json.miners[0]?.firmware_limits).toMatchObject({ hot_c: 110, dangerous_c: 125 });
    expect(fake.received.filter((c) => WRITES.test(c))).toEqual([]);
    expect(json.summary).toMatchObject({ total: 1, flagged: 1 });
    expect(code).toBe(3);
    // The default threshold (critical) is not reached by these findings.
    expect((await posture([fake.target])).code).toBe(0);
  });

  it('into a pipe, one figure a column under a header naming its unit (as check and live)', async () => {
    const fake = await startFakeMiner(
      braiinsReplies({ boards: [70, 69, 71], hot: 100, dangerous: 110 }),
      'BOSminer+ 0.2.0',
    );
    miners.push(fake);
    const ctx = memoryContext();
    expect(await runCli(['thermal', 'posture', fake.target, '--timeout', '2s', '--retries', '0'], ctx)).toBe(
      0,
    );
    const [head = '', row = ''] = ctx.out().trimEnd().split('\n');
    const columns = head.split('\t');
    expect(columns).toEqual([
      'target',
      'limits',
      'mode',
      'target_c',
      'hot_c',
      'dangerous_c',
      'trip_c',
      'trip_sensor',
      'trip_origin',
      'board_c',
      'chip_c',
      'findings',
    ]);
    const cell = (name: string) => row.split('\t')[columns.indexOf(name)];
    expect(cell('limits')).toBe('firmware');
    expect([cell('hot_c'), cell('dangerous_c'), cell('trip_c'), cell('board_c')]).toEqual([
      '100',
      '110',
      '110',
      '71',
    ]);
    expect([cell('trip_sensor'), cell('trip_origin')]).toEqual(['board', 'firmware']);
  });

  it('an unreachable miner makes posture exit 1', async () => {
    const fake = await startFakeMiner({});
    const target = fake.target;
    await fake.close();
    const { code, json } = await posture([target]);
    expect(json.miners[0]).toMatchObject({ target, error: { kind: 'refused' } });
    expect(code).toBe(1);
  });

  it('a failed tempctrl read is reported with its kind, not as limits the firmware lacks (exit 1)', async () => {
    for (const [tempctrl, kind] of TEMPCTRL_FAILURES) {
      const fake = await braiinsWithTempctrl(tempctrl);
      miners.push(fake);
      const { code, json } = await posture([fake.target]);
      const [miner] = json.miners;
      expect(fake.received).toContain('tempctrl');
      expect(miner?.firmware_limits).toBeNull();
      expect(miner?.firmware_limits_error?.kind).toMatch(kind);
      const ids = miner?.findings?.map((f) => f.id);
      expect(ids).toContain('limits-read-failed');
      expect(ids).not.toContain('no-readable-limits');
      const finding = miner?.findings?.find((f) => f.id === 'limits-read-failed');
      expect(String(finding?.data.kind)).toMatch(kind);
      expect(finding?.message).not.toMatch(/reports no limits/);
      expect(json.summary).toMatchObject({ total: 1, unreachable: 0, limits_unread: 1 });
      expect(code).toBe(1);
    }
  });
});
