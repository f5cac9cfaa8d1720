import * as fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/cgminer/client.js';
import { addpoolParameter } from '../../src/cgminer/escape.js';
import { memoryContext } from '../../src/context.js';
import { planAction, readBack, validateAction } from '../../src/control/dialects.js';
import { Redactor, redactorFor, showRequest } from '../../src/control/redact.js';
import { runControlAction } from '../../src/control/run.js';
import type { ControlOptions } from '../../src/control/types.js';
import { UsageError } from '../../src/errors.js';
import type { Pool, Snapshot } from '../../src/miners/types.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { commandLogStatements } from '../../src/store/command-log.js';
import { openStore } from '../../src/store/open.js';
import { tempDir, writesSeen } from './support.js';

function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    make: 'Antminer',
    model: 'S19',
    firmware: { name: 'bmminer', version: null },
    algorithm: 'sha256d',
    hashrate: { current_hs: 100e12, average_hs: 100e12, nominal_hs: 100e12 },
    uptime_s: 1000,
    accepted: null,
    rejected: null,
    hw_errors: null,
    boards: [],
    fans: [],
    temp_max_chip_c: null,
    temp_max_board_c: null,
    power_w: null,
    efficiency_j_per_th: null,
    pools: [],
    errors: [],
    state: 'mining',
    ...over,
  };
}

function pool(index: number, over: Partial<Pool> = {}): Pool {
  return {
    index,
    url: `stratum+tcp://p${index}:3333`,
    user: 'w',
    status: 'Alive',
    priority: index,
    active: index === 0,
    accepted: 0,
    rejected: 0,
    ...over,
  };
}

describe('planAction', () => {
  it('maps each action to what the dialect offers', () => {
    expect(planAction({ name: 'switchpool', pool: 2 }, 'antminer', 0)).toEqual({
      requests: [{ command: 'switchpool', parameter: '2', role: 'write' }],
    });
    expect(planAction({ name: 'pause' }, 'braiins', 0)).toEqual({
      requests: [{ command: 'pause', role: 'write' }],
    });
    expect(planAction({ name: 'resume' }, 'avalon', 1_700_000_000_000)).toEqual({
      requests: [{ command: 'ascset', parameter: '0,softon,1:1700000000', role: 'write' }],
    });
    expect(planAction({ name: 'pause' }, 'luxos', 0)).toEqual({
      requests: [
        { command: 'logon', role: 'session-open' },
        { command: 'curtail', parameter: '{session},sleep', role: 'write', sessionPrefixed: true },
        { command: 'logoff', parameter: '{session}', role: 'session-close' },
      ],
    });
    // LuxOS pool writes: the upstream parameter after the session id.
    expect(planAction({ name: 'switchpool', pool: 1 }, 'luxos', 0)).toEqual({
      requests: [
        { command: 'logon', role: 'session-open' },
        { command: 'switchpool', parameter: '{session},1', role: 'write', sessionPrefixed: true },
        { command: 'logoff', parameter: '{session}', role: 'session-close' },
      ],
    });
    // LUXminer has no upstream restart: its mining process restarts with resetminer.
    expect(planAction({ name: 'restart' }, 'luxos', 0)).toEqual({
      requests: [
        { command: 'logon', role: 'session-open' },
        { command: 'resetminer', parameter: '{session}', role: 'write', sessionPrefixed: true },
        { command: 'logoff', parameter: '{session}', role: 'session-close' },
      ],
    });
    expect(planAction({ name: 'pause' }, 'whatsminer', 0)).toEqual({
      requests: [
        { command: 'get_token', role: 'token' },
        { command: 'power_off', whatsminer: { fields: { respbefore: 'true' } }, role: 'write' },
      ],
    });
    expect(planAction({ name: 'switchpool', pool: 1 }, 'whatsminer', 0)).toHaveProperty('unsupported');
    expect(planAction({ name: 'pause' }, 'antminer', 0)).toHaveProperty('unsupported');
    expect(planAction({ name: 'restart' }, 'braiins', 0)).toHaveProperty('unsupported');
    expect(planAction({ name: 'raw', command: 'summary' }, 'whatsminer', 0)).toEqual({
      requests: [{ command: 'summary', role: 'write' }],
    });
  });

  it('refuses what cannot be encoded safely, before any traffic', () => {
    expect(() =>
      validateAction({ name: 'addpool', url: 'stratum+tcp://a:1', user: 'u', password: 'a,b' }),
    ).toThrow(UsageError);
    expect(() =>
      validateAction({ name: 'addpool', url: 'stratum+tcp://a:1', user: 'u\n', password: 'x' }),
    ).toThrow(UsageError);
    expect(() => validateAction({ name: 'raw', command: 'summary', parameter: 'a\u0000' })).toThrow(
      UsageError,
    );
    expect(() =>
      validateAction({ name: 'addpool', url: 'stratum+tcp://a:1', user: 'u', password: 'x' }),
    ).not.toThrow();
  });

  it('an addpool refusal names the field and never quotes the password', () => {
    const refusal = (over: { url?: string; user?: string; password?: string }): string => {
      try {
        validateAction({ name: 'addpool', url: 'stratum+tcp://a:1', user: 'u', password: 'x', ...over });
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error('not refused');
    };
    for (const password of ['Secr3t\tPass', 'Secr3t\u0085Pass', 'Secr3t\ud800Pass']) {
      const message = refusal({ password });
      expect(message).toMatch(/the password (contains a control character|is not valid Unicode)/);
      expect(message).not.toMatch(/Secr3t/);
    }
    // A bad URL or user is named as such, and the password beside it is not quoted either.
    expect(refusal({ url: 'stratum+tcp://a\u0007b:1', password: 'Secr3tPass' })).toMatch(
      /^cannot send addpool: the pool URL contains a control character$/,
    );
    expect(refusal({ user: 'w\n', password: 'Secr3tPass' })).toMatch(/the pool user contains/);
  });
});

describe('readBack', () => {
  const baseline = { snapshot: snapshot({ pools: [pool(0), pool(1)], uptime_s: 1000 }), readAt: 10_000_000 };
  it('switchpool wants the pool at priority 0 (active only when no priority is reported)', () => {
    // Failover already on pool 1 (pool 0 dead): the miner acks switchpool 1 and changes nothing.
    const failover = snapshot({
      pools: [pool(0, { priority: 0, active: false }), pool(1, { priority: 1, active: true })],
    });
    const switchpool = { name: 'switchpool', pool: 1 } as const;
    expect(readBack(switchpool, 'antminer', baseline, failover, 0, 0)?.confirmed).toBe(false);
    const noPriority = snapshot({
      pools: [pool(0, { priority: null, active: false }), pool(1, { priority: null, active: true })],
    });
    expect(readBack(switchpool, 'antminer', baseline, noPriority, 0, 0)?.confirmed).toBe(true);
  });

  it('switchpool wants the pool at priority 0 or active', () => {
    const after = snapshot({
      pools: [pool(0, { priority: 1, active: false }), pool(1, { priority: 0, active: true })],
    });
    expect(readBack({ name: 'switchpool', pool: 1 }, 'antminer', baseline, after, 0, 0)?.confirmed).toBe(
      true,
    );
    expect(
      readBack({ name: 'switchpool', pool: 1 }, 'antminer', baseline, baseline.snapshot, 0, 0)?.confirmed,
    ).toBe(false);
  });

  it('addpool finds the pool as the miner lists it back: trimmed, without invisible characters', () => {
    const added = (user: string) => ({
      name: 'addpool' as const,
      url: 'stratum+tcp://b.example:3333 ',
      user,
      password: 'x',
    });
    const after = snapshot({
      pools: [pool(0), pool(1), pool(2, { url: 'stratum+tcp://b.example:3333', user: 'farm.w1' })],
    });
    for (const user of ['farm.w1 ', 'farm.\u200bw1', 'farm.w1']) {
      expect(readBack(added(user), 'antminer', baseline, after, 0, 0)?.confirmed, user).toBe(true);
    }
    expect(readBack(added('farm.w2'), 'antminer', baseline, after, 0, 0)?.confirmed).toBe(false);
  });

  it('removepool wants the pool that was at that index gone, even though indexes shift', () => {
    const after = snapshot({ pools: [pool(0)] });
    expect(readBack({ name: 'removepool', pool: 1 }, 'antminer', baseline, after, 0, 0)?.confirmed).toBe(
      true,
    );
    const shifted = snapshot({ pools: [pool(0), { ...pool(1) }] });
    expect(readBack({ name: 'removepool', pool: 1 }, 'antminer', baseline, shifted, 0, 0)?.confirmed).toBe(
      false,
    );
  });

  it('restart wants a boot after the baseline; the old process still answering is not enough', () => {
    const sentAt = baseline.readAt + 500;
    const now = sentAt + 5000;
    expect(
      readBack({ name: 'restart' }, 'generic', baseline, snapshot({ uptime_s: 3 }), sentAt, now)?.confirmed,
    ).toBe(true);
    expect(
      readBack({ name: 'restart' }, 'generic', baseline, snapshot({ uptime_s: 1005 }), sentAt, now)
        ?.confirmed,
    ).toBe(false);
    expect(
      readBack({ name: 'restart' }, 'generic', baseline, snapshot({ uptime_s: null }), sentAt, now)
        ?.confirmed,
    ).toBe(false);
    // An uptime frozen at the baseline's (a miner that never restarted, or lies): its "boot time"
    // moves forward with the clock, but it did not boot after the restart was sent.
    for (const later of [5_000, 60_000, 600_000])
      expect(
        readBack(
          { name: 'restart' },
          'generic',
          baseline,
          snapshot({ uptime_s: 1000 }),
          sentAt,
          sentAt + later,
        )?.confirmed,
      ).toBe(false);
    // Nor did one whose uptime fell, but to before the send (an earlier reboot of its own).
    expect(
      readBack({ name: 'restart' }, 'generic', baseline, snapshot({ uptime_s: 30 }), sentAt, sentAt + 10_000)
        ?.confirmed,
    ).toBe(false);
    // An uptime stuck at the same small figure (a placeholder 0, a counter that never moves): each
    // read claims a boot just now, so the read-back's did too. Unchanged across reads, it says nothing.
    for (const stuck of [0, 2]) {
      const stuckBaseline = { snapshot: snapshot({ uptime_s: stuck }), readAt: baseline.readAt };
      const seen = readBack(
        { name: 'restart' },
        'generic',
        stuckBaseline,
        snapshot({ uptime_s: stuck }),
        sentAt,
        sentAt + 10_000,
      );
      expect(seen?.confirmed).toBe(false);
      expect(seen?.detail).toMatch(/did not move/);
    }
    // A miner that had just booted before the baseline, then restarted: its uptime moved.
    const young = { snapshot: snapshot({ uptime_s: 1 }), readAt: baseline.readAt };
    expect(
      readBack({ name: 'restart' }, 'generic', young, snapshot({ uptime_s: 4 }), sentAt, sentAt + 5000)
        ?.confirmed,
    ).toBe(true);
  });

  it('pause on Braiins OS (no sleep flag) is a miner that stopped hashing', () => {
    const idle = snapshot({ state: 'unknown', hashrate: { current_hs: 0, average_hs: 0, nominal_hs: null } });
    expect(readBack({ name: 'pause' }, 'braiins', baseline, idle, 0, 0)?.confirmed).toBe(true);
    expect(readBack({ name: 'pause' }, 'antminer', baseline, idle, 0, 0)?.confirmed).toBe(false);
    expect(readBack({ name: 'resume' }, 'braiins', baseline, snapshot(), 0, 0)?.confirmed).toBe(true);
  });
});

describe('redaction', () => {
  it('hides the password in requests and in what a miner echoes back (cgminer E/53)', () => {
    const action = { name: 'addpool', url: 'stratum+tcp://p:3333', user: 'w', password: 'pa55word' } as const;
    const redactor = redactorFor(action, addpoolParameter);
    const parameter = addpoolParameter(action.url, action.user, action.password);
    expect(showRequest({ command: 'addpool', parameter, role: 'write' }, redactor)).toBe(
      '{"command":"addpool","parameter":"stratum+tcp://p:3333,w,***"}',
    );
    expect(redactor.text(`Invalid addpool details '${parameter}'`)).toBe(
      "Invalid addpool details 'stratum+tcp://p:3333,w,***'",
    );
    // A one-letter password is hidden where hashctl places it, not scrubbed from every word.
    const short = redactorFor({ ...action, password: 'x' }, addpoolParameter);
    expect(
      showRequest(
        { command: 'addpool', parameter: addpoolParameter(action.url, 'w', 'x'), role: 'write' },
        short,
      ),
    ).toContain(',***"');
    expect(short.text('max 10 pools')).toBe('max 10 pools');
    const plain = new Redactor();
    plain.add('sessionid1', '{session}');
    expect(plain.text('logoff sessionid1')).toBe('logoff {session}');
  });
});

describe('runControlAction (library)', () => {
  let farm: Farm | null = null;
  let temp: ReturnType<typeof tempDir> | null = null;
  afterEach(async () => {
    await farm?.stop();
    farm = null;
    temp?.remove();
    temp = null;
  });

  const options = (over: Partial<ControlOptions> = {}): ControlOptions => ({
    dryRun: false,
    yes: false,
    verify: true,
    verifyTimeoutMs: 2000,
    canary: 0,
    batch: 0,
    staggerMs: 0,
    concurrency: 4,
    client: createClient({ timeoutMs: 2000, maxBytes: 1 << 20, retries: 0 }),
    log: null,
    actor: 'tester@host',
    source: 'test',
    ...over,
  });
  const targets = (f: Farm) => f.miners.map((m) => ({ host: m.host, port: m.port, key: m.key }));

  it('without --yes and without a confirm callback it throws before any traffic', async () => {
    farm = await startFarm({ basePort: 0, count: 1, profile: 'cgminer' });
    await expect(
      runControlAction({ name: 'restart' }, targets(farm), options(), memoryContext()),
    ).rejects.toBeInstanceOf(UsageError);
    expect(farm.commandLog).toHaveLength(0);
  });

  it('a declined confirmation sends nothing and says how many miners it would have touched', async () => {
    farm = await startFarm({ basePort: 0, count: 3, profile: 'cgminer', writes: 'allow' });
    const asked: unknown[] = [];
    const run = await runControlAction(
      { name: 'enablepool', pool: 0 },
      targets(farm),
      options({
        confirm: async (summary) => {
          asked.push(summary);
          return false;
        },
      }),
      memoryContext(),
    );
    expect(asked).toEqual([
      { action: 'enablepool', miners: 3, unsupported: 0, unreachable: 0, description: 'enablepool 0' },
    ]);
    expect(run.declined).toBe(true);
    expect(run.results.map((r) => r.result)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(writesSeen(farm)).toEqual([]);
  });

  it('logs every miner to command_log, and lastTaken gives a cooldown its last pause', async () => {
    farm = await startFarm({ basePort: 0, count: 2, profile: 'braiins-os' });
    temp = tempDir();
    const store = openStore(temp.db);
    try {
      const log = store.prepared(commandLogStatements);
      const run = await runControlAction(
        { name: 'pause' },
        targets(farm),
        options({ yes: true, log }),
        memoryContext(),
      );
      expect(run.results.map((r) => r.result)).toEqual(['verified', 'verified']);
      const rows = log.run(run.runId);
      expect(rows.map((r) => [r.host, r.port, r.action, r.source, r.actor, r.result, r.request])).toEqual(
        farm.miners.map((m) => [
          m.host,
          m.port,
          'pause',
          'test',
          'tester@host',
          'verified',
          '{"command":"pause"}',
        ]),
      );
      expect(JSON.parse(rows[0]?.verification ?? '{}')).toMatchObject({ confirmed: true });
      const m = farm.miners[0]!;
      expect(log.lastTaken(m.host, m.port, 'pause', 'test', 0)).toBe(rows[0]?.ts);
      expect(log.lastTaken(m.host, m.port, 'pause', 'thermal', 0)).toBeNull();
      expect(log.lastTaken(m.host, m.port, 'resume', 'test', 0)).toBeNull();
    } finally {
      store.close();
    }
    expect(fs.existsSync(temp.db)).toBe(true);
  });
});
