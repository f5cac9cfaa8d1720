import { afterEach, describe, expect, it } from 'vitest';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { ask, exchange, lenient, section, statusOf } from './support.js';

type Pool = { POOL: number; Priority: number; Status: string; URL: string; 'Stratum Active': boolean };

let farm: Farm | null = null;
afterEach(async () => {
  await farm?.stop();
  farm = null;
});

async function one(profile: string, options: Parameters<typeof startFarm>[0] = {}) {
  farm = await startFarm({ profile, count: 1, basePort: 0, ...options });
  return farm.miners[0]!;
}

describe('pool writes with write access', () => {
  it('switchpool makes the pool priority 0, the next pools reply shows it and the log records it', async () => {
    const miner = await one('antminer-s9', { writes: 'allow' });
    const reply = await ask(miner.port, 'switchpool', '1');
    expect(statusOf(reply)).toMatchObject({
      STATUS: 'S',
      Code: 27,
      Msg: "Switching to pool 1:'stratum+tcp://stratum.antpool.com:443'",
    });
    const pools = section<Pool>(await ask(miner.port, 'pools'), 'POOLS');
    expect(pools.map((p) => p.Priority)).toEqual([1, 0, 2]);
    expect(pools[1]?.['Stratum Active']).toBe(true);
    expect(miner.state.pools[1]?.priority).toBe(0);
    const logged = miner.received().find((e) => e.command === 'switchpool');
    expect(logged).toMatchObject({ target: miner.key, parameter: '1' });
    expect(logged?.remote).toMatch(/127\.0\.0\.1/);
  });

  it('enable/disable answer I/49, I/50 when already so and E/51 for the last active pool', async () => {
    const miner = await one('cgminer');
    expect(statusOf(await ask(miner.port, 'enablepool', '0'))).toMatchObject({ STATUS: 'I', Code: 49 });
    expect(statusOf(await ask(miner.port, 'disablepool', '0'))).toMatchObject({ STATUS: 'E', Code: 51 });
    expect(statusOf(await ask(miner.port, 'addpool', 'stratum+tcp://b.example:3333,w\\,1,x'))).toMatchObject({
      STATUS: 'S',
      Code: 55,
      Msg: "Added pool 1: 'stratum+tcp://b.example:3333'",
    });
    expect(miner.state.pools[1]?.user).toBe('w,1');
    expect(statusOf(await ask(miner.port, 'disablepool', '0'))).toMatchObject({ STATUS: 'S', Code: 48 });
    expect(statusOf(await ask(miner.port, 'disablepool', '0'))).toMatchObject({ STATUS: 'I', Code: 50 });
    const pools = section<Pool>(await ask(miner.port, 'pools'), 'POOLS');
    expect(pools[0]?.Status).toBe('Disabled');
    expect(statusOf(await ask(miner.port, 'enablepool', '0'))).toMatchObject({ STATUS: 'S', Code: 47 });
  });

  it('addpool refuses bad details (E/53) and removepool protects the active and the last pool', async () => {
    const miner = await one('cgminer');
    expect(statusOf(await ask(miner.port, 'addpool', 'stratum+tcp://x:1,user,'))).toMatchObject({
      STATUS: 'E',
      Code: 53,
    });
    expect(statusOf(await ask(miner.port, 'addpool'))).toMatchObject({ STATUS: 'E', Code: 52 });
    expect(statusOf(await ask(miner.port, 'removepool', '0'))).toMatchObject({ STATUS: 'E', Code: 66 });
    await ask(miner.port, 'addpool', 'stratum+tcp://b:3333,u,p');
    expect(statusOf(await ask(miner.port, 'removepool', '0'))).toMatchObject({ STATUS: 'E', Code: 67 });
    expect(statusOf(await ask(miner.port, 'removepool', '7'))).toMatchObject({
      STATUS: 'E',
      Code: 26,
      Msg: 'Invalid pool id 7 - range is 0 - 1',
    });
    expect(statusOf(await ask(miner.port, 'removepool', '1'))).toMatchObject({ STATUS: 'S', Code: 68 });
    expect(miner.state.pools).toHaveLength(1);
  });

  it('privileged and check report the access a client has', async () => {
    const miner = await one('cgminer');
    expect(statusOf(await ask(miner.port, 'privileged'))).toMatchObject({ STATUS: 'S', Code: 46 });
    expect(section(await ask(miner.port, 'check', 'addpool'), 'CHECK')[0]).toEqual({
      Exists: 'Y',
      Access: 'Y',
    });
    expect(section(await ask(miner.port, 'check', 'nosuch'), 'CHECK')[0]).toEqual({
      Exists: 'N',
      Access: 'N',
    });
    miner.state.access = 'read';
    expect(statusOf(await ask(miner.port, 'privileged'))).toMatchObject({
      STATUS: 'E',
      Code: 45,
      Msg: "Access denied to 'privileged' command",
    });
    expect(section(await ask(miner.port, 'check', 'addpool'), 'CHECK')[0]).toEqual({
      Exists: 'Y',
      Access: 'N',
    });
  });
});

describe('access control', () => {
  it('stock Antminer refuses writes and non-group-A reads with E/45', async () => {
    const miner = await one('antminer-s19');
    for (const [command, parameter] of [
      ['switchpool', '1'],
      ['restart', undefined],
      ['devdetails', undefined],
      ['privileged', undefined],
    ] as const) {
      expect(statusOf(await ask(miner.port, command, parameter))).toMatchObject({
        STATUS: 'E',
        Code: 45,
        Msg: `Access denied to '${command}' command`,
      });
    }
    expect(miner.state.pools[1]?.priority).toBe(1);
    expect(statusOf(await ask(miner.port, 'summary')).STATUS).toBe('S');
  });

  it('--writes deny refuses writes even on open firmware', async () => {
    const miner = await one('braiins-os', { writes: 'deny' });
    expect(statusOf(await ask(miner.port, 'pause'))).toMatchObject({ STATUS: 'E', Code: 45 });
    expect(miner.state.sleeping).toBe(false);
  });
});

describe('multi-commands', () => {
  it('answers each member under its own key and always refuses privileged members (§15)', async () => {
    const miner = await one('cgminer');
    const reply = await ask(miner.port, 'summary+pools+version+privileged+pools+nosuch');
    expect(Object.keys(reply)).toEqual(['summary', 'pools', 'version', 'privileged', 'nosuch', 'id']);
    const privileged = (reply.privileged as Array<Record<string, unknown>>)[0]!;
    expect(statusOf(privileged)).toMatchObject({ STATUS: 'E', Code: 45 });
    expect(statusOf((reply.nosuch as Array<Record<string, unknown>>)[0]!)).toMatchObject({
      STATUS: 'E',
      Code: 14,
    });
    expect(section((reply.version as Array<Record<string, unknown>>)[0]!, 'VERSION')[0]).toEqual({
      CGMiner: '4.11.1',
      API: '3.7',
    });
  });

  it('the stock S19 profile refuses joins so clients must fall back', async () => {
    const miner = await one('antminer-s19');
    const reply = await ask(miner.port, 'summary+pools');
    expect(statusOf(reply)).toMatchObject({ STATUS: 'E', Code: 14 });
  });
});

describe('firmware dialects', () => {
  it('LuxOS writes need the session id from logon as the first field', async () => {
    const miner = await one('luxos');
    expect(statusOf(await ask(miner.port, 'curtail', 'nosession,sleep')).STATUS).toBe('E');
    const logon = await ask(miner.port, 'logon');
    const sid = String(section<{ SessionID: string }>(logon, 'SESSION')[0]?.SessionID);
    expect(statusOf(logon).Code).toBe(316);
    expect(statusOf(await ask(miner.port, 'curtail', `${sid},sleep`))).toMatchObject({
      STATUS: 'S',
      Code: 335,
    });
    expect(miner.state.sleeping).toBe(true);
    expect(statusOf(await ask(miner.port, 'switchpool', `${sid},1`))).toMatchObject({
      STATUS: 'S',
      Code: 27,
    });
    const tempctrl = await ask(
      miner.port,
      'tempctrlset',
      `${sid},target_temp=60,hot_temp=70,dangerous_temp=75`,
    );
    expect(section(tempctrl, 'TEMPCTRL')[0]).toMatchObject({ Target: 60, Hot: 70, Dangerous: 75 });
    expect(statusOf(await ask(miner.port, 'tempctrlset', `${sid},80,70,75`)).STATUS).toBe('E');
    expect(statusOf(await ask(miner.port, 'logoff', sid)).STATUS).toBe('S');
    expect(statusOf(await ask(miner.port, 'curtail', `${sid},wakeup`)).STATUS).toBe('E');
  });

  it('Whatsminer: invalid cmd to version, flat native replies, plaintext writes always refused', async () => {
    const miner = await one('whatsminer');
    const version = await ask(miner.port, 'version');
    expect(version).toMatchObject({ STATUS: 'E', Code: 14, Msg: 'invalid cmd' });
    const raw = await exchange(miner.port, '{"cmd":"get_version"}');
    const reply = lenient(raw.bytes);
    expect(reply).toMatchObject({ STATUS: 'S', Code: 131 });
    expect((reply.Msg as Record<string, string>).fw_ver).toMatch(/REL$/);
    const token = lenient((await exchange(miner.port, '{"cmd":"get_token"}')).bytes);
    expect(token).toMatchObject({ STATUS: 'S', Code: 134 });
    const off = lenient((await exchange(miner.port, '{"cmd":"power_off","respbefore":"true"}')).bytes);
    expect(off).toMatchObject({ STATUS: 'E', Code: 45 });
    expect(miner.state.sleeping).toBe(false);
    // Writes must be encrypted (§13.1): even with the write API on, plaintext is refused.
    miner.state.access = 'full';
    expect(lenient((await exchange(miner.port, '{"cmd":"power_off"}')).bytes)).toMatchObject({ Code: 45 });
    const status = lenient((await exchange(miner.port, '{"cmd":"status"}')).bytes);
    expect((status.Msg as Record<string, string>).btmineroff).toBe('false');
  });

  it('Avalon ascset softoff/softon/workmode answer as captured', async () => {
    const miner = await one('avalon');
    const off = await ask(miner.port, 'ascset', '0,softoff,1:1753434821');
    expect(statusOf(off)).toMatchObject({
      STATUS: 'I',
      Code: 118,
      Msg: 'ASC 0 set info: success softoff:1753434821',
    });
    const stats = section<Record<string, string>>(await ask(miner.port, 'stats'), 'STATS')[0]!;
    expect(stats['MM ID0']).toContain('SYSTEMSTATU[Work: In Idle');
    expect(stats['MM ID0']).toMatch(/GHSspd\[0\.00\]/);
    expect(statusOf(await ask(miner.port, 'ascset', '0,softon,1:1753434830'))).toMatchObject({
      STATUS: 'I',
      Code: 118,
    });
    expect(statusOf(await ask(miner.port, 'ascset', '0,workmode,1'))).toMatchObject({
      STATUS: 'S',
      Code: 119,
      Msg: 'ASC 0 set OK',
    });
    expect(miner.state.workmode).toBe(1);
  });

  it('Antminer S21 answers new_api requests with the modern schema', async () => {
    const miner = await one('antminer-s21');
    const reply = await ask(miner.port, 'stats', undefined, { new_api: true });
    expect(reply.STATUS).toMatchObject({ STATUS: 'S', Msg: 'stats', api_version: '1.0.0' });
    const stats = section<{ chain: Array<{ asic_num: number }>; rate_unit: string }>(reply, 'STATS')[0]!;
    expect(stats.rate_unit).toBe('GH/s');
    expect(stats.chain.map((c) => c.asic_num)).toEqual([65, 65, 65]);
  });
});
