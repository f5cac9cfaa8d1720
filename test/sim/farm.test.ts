import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { resetAfterRestart } from '../../src/sim/state.js';
import { ask, exchange, familyFromVersion, lenient, section, statusOf } from './support.js';

describe('a 60-miner mix farm', () => {
  let farm: Farm;
  beforeAll(async () => {
    farm = await startFarm({ profile: 'mix', count: 60, seed: 1, host: '127.0.0.1', basePort: 0 });
  });
  afterAll(async () => {
    await farm.stop();
  });

  it('lists every miner once in its inventory', () => {
    const inventory = farm.inventory();
    expect(inventory).toHaveLength(60);
    expect(new Set(inventory).size).toBe(60);
    for (const key of inventory) expect(key).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('answers version, summary, stats and pools on every miner with readable replies', async () => {
    const families = new Set<string>();
    for (const miner of farm.miners) {
      for (const command of ['version', 'summary', 'stats', 'pools']) {
        const reply = await ask(miner.port, command);
        const status = statusOf(reply);
        expect(['S', 'I', 'E'], `${miner.profile.name} ${command}`).toContain(status.STATUS);
        if (command === 'version') families.add(familyFromVersion(reply));
        if (command === 'pools') expect(section(reply, 'POOLS').length).toBeGreaterThan(0);
        if (command === 'summary') expect(section(reply, 'SUMMARY')).toHaveLength(1);
      }
    }
    families.delete('unknown');
    expect(families.size).toBeGreaterThanOrEqual(5);
  });

  it('builds the same farm from the same seed', async () => {
    const again = await startFarm({ profile: 'mix', count: 60, seed: 1, basePort: 0 });
    try {
      expect(again.miners.map((m) => m.profile.name)).toEqual(farm.miners.map((m) => m.profile.name));
    } finally {
      await again.stop();
    }
  });

  it('glues the S9 stats header to the device record, as bmminer 2.0.0 does', async () => {
    const s9 = farm.miners.find((m) => m.profile.name === 'antminer-s9');
    expect(s9).toBeDefined();
    const raw = await exchange(s9!.port, '{"command":"stats"}');
    const text = raw.bytes.toString('utf8');
    expect(text).toContain('"Type":"Antminer S9"}{"STATS":0');
    expect(text.endsWith('\0')).toBe(true);
    expect(() => JSON.parse(text.replace(/\0$/, ''))).toThrow();
    const stats = section(lenient(raw.bytes), 'STATS');
    expect(stats[1]?.ID).toBe('BC50');
    expect(Number(stats[1]?.chain_acn6)).toBe(63);
    expect(Number(stats[1]?.fan5)).toBeGreaterThan(0);
  });

  it('answers plain-text requests with a text reply', async () => {
    const miner = farm.miners.find((m) => m.profile.name === 'antminer-s19');
    const raw = await exchange(miner!.port, 'summary');
    expect(raw.bytes.toString()).toMatch(
      /^STATUS=S,When=\d+,Code=11,Msg=Summary,Description=cgminer 1\.0\.0\|SUMMARY,Elapsed=\d+,/,
    );
  });

  it('answers a JSON request that is over but does not parse with E/23 at once, as its one read does', async () => {
    const miner = farm.miners.find((m) => m.profile.name === 'antminer-s19');
    // The client keeps its side open and waits: cgminer answers what its one recv got.
    const [nulEnded, twoInOne, text] = await Promise.all([
      exchange(miner!.port, '{"command":"summary"}\0'),
      exchange(miner!.port, '{"command":"summary"} {"command":"pools"}'),
      exchange(miner!.port, 'summary\0'),
    ]);
    for (const reply of [nulEnded, twoInOne]) {
      expect(reply.end).toBe('closed');
      expect(statusOf(lenient(reply.bytes))).toMatchObject({ STATUS: 'E', Code: 23, Msg: 'Invalid JSON' });
    }
    // A text request is a C string: the NUL ends the command.
    expect(text.bytes.toString()).toMatch(/^STATUS=S,When=\d+,Code=11,Msg=Summary,/);
  });

  // cgminer's one recv takes 4095 bytes (CGMINER-API.md §1): a longer JSON request is cut and no
  // longer parses. The farm parsed all it had received and answered it as the miner never would.
  it('cuts a JSON request at 4095 bytes, as its one read does: a longer one is E/23', async () => {
    const miner = farm.miners.find((m) => m.profile.name === 'cgminer')!;
    const request = (length: number) => {
      const head = '{"command":"version","parameter":"';
      return `${head}${'x'.repeat(length - head.length - 2)}"}`;
    };
    expect(request(4095)).toHaveLength(4095);
    const [fits, over, farOver] = await Promise.all([
      exchange(miner.port, request(4095)),
      exchange(miner.port, request(4096)),
      exchange(miner.port, request(60_000)),
    ]);
    expect(statusOf(lenient(fits.bytes))).toMatchObject({ STATUS: 'S', Code: 22 });
    for (const reply of [over, farOver]) {
      expect(reply.end).toBe('closed');
      expect(statusOf(lenient(reply.bytes))).toMatchObject({ STATUS: 'E', Code: 23, Msg: 'Invalid JSON' });
    }
  });
});

describe('state that moves', () => {
  it('speeds the fans up and then heats up when the ambient rises', async () => {
    let clock = Date.now();
    const farm = await startFarm({ profile: 'antminer-s9', count: 1, basePort: 0, now: () => clock });
    try {
      const miner = farm.miners[0]!;
      const read = async () => section<Record<string, unknown>>(await ask(miner.port, 'stats'), 'STATS')[1]!;
      const before = await read();
      miner.state.ambientC = 60;
      clock += 900_000;
      const after = await read();
      expect(Number(after.fan5)).toBeGreaterThan(Number(before.fan5));
      expect(Number(after.temp2_6)).toBeGreaterThan(Number(before.temp2_6) + 5);
    } finally {
      await farm.stop();
    }
  });

  it('trips like its firmware: a board at its Dangerous limit stops hashing until a restart', async () => {
    let clock = Date.now();
    const farm = await startFarm({ profile: 'luxos', count: 1, basePort: 0, now: () => clock });
    try {
      const miner = farm.miners[0]!;
      const summary = async () =>
        section<Record<string, number>>(await ask(miner.port, 'summary'), 'SUMMARY')[0]!;
      expect((await summary())['GHS 5s']).toBeGreaterThan(1000);
      miner.state.ambientC = 75; // a failed cooling: the boards pass Dangerous
      clock += 900_000;
      expect((await summary())['GHS 5s']).toBe(0);
      expect(miner.state.tripped).toBe(true);
      clock += 900_000; // cooled down while stopped: still stopped, as real firmware stays
      miner.state.ambientC = 25;
      expect((await summary())['GHS 5s']).toBe(0);
      resetAfterRestart(miner.state, clock);
      expect(miner.state.tripped).toBe(false);
    } finally {
      await farm.stop();
    }
  });

  it('stops hashing while paused and keeps counting uptime', async () => {
    let clock = Date.now();
    const farm = await startFarm({ profile: 'braiins-os', count: 1, basePort: 0, now: () => clock });
    try {
      const miner = farm.miners[0]!;
      const summary = async () =>
        section<Record<string, number>>(await ask(miner.port, 'summary'), 'SUMMARY')[0]!;
      expect((await summary())['MHS 5s']).toBeGreaterThan(1e6);
      expect(statusOf(await ask(miner.port, 'pause')).Code).toBe(204);
      clock += 60_000;
      const paused = await summary();
      expect(paused['MHS 5s']).toBe(0);
      clock += 60_000;
      expect((await summary()).Elapsed).toBe((paused.Elapsed ?? 0) + 60);
      expect(statusOf(await ask(miner.port, 'resume')).Code).toBe(205);
      expect((await summary())['MHS 5s']).toBeGreaterThan(1e6);
    } finally {
      await farm.stop();
    }
  });

  it('marks a failed fan with 0 RPM and a dead board with fewer chips and no hashrate', async () => {
    const farm = await startFarm({
      profile: 'antminer-s19',
      count: 20,
      basePort: 0,
      deadBoards: 1,
      failedFans: 1,
      seed: 3,
    });
    try {
      for (const miner of farm.miners.slice(0, 5)) {
        const dead = miner.state.boards.find((b) => b.dead);
        expect(dead).toBeDefined();
        const stats = section<Record<string, unknown>>(await ask(miner.port, 'stats'), 'STATS')[1]!;
        const slot = miner.state.boards.indexOf(dead!) + 1;
        expect(Number(stats[`chain_acn${slot}`])).toBeLessThan(114);
        expect(Number(stats[`chain_rate${slot}`])).toBe(0);
      }
      const miner = farm.miners[0]!;
      miner.state.fans[2]!.failed = true;
      const stats = section<Record<string, unknown>>(await ask(miner.port, 'stats'), 'STATS')[1]!;
      expect(stats.fan3).toBe(0);
      expect(Number(stats.fan1)).toBeGreaterThan(0);
    } finally {
      await farm.stop();
    }
  });
});

describe('--log on a full disk', () => {
  it('stops logging with one report and keeps serving', async () => {
    const errors: NodeJS.ErrnoException[] = [];
    // /dev/full answers every write with ENOSPC.
    const farm = await startFarm({
      profile: 'antminer-s19',
      basePort: 0,
      count: 1,
      logFile: '/dev/full',
      onLogError: (error) => errors.push(error),
    });
    try {
      const port = farm.miners[0]!.port;
      for (let round = 0; round < 3; round++) {
        expect(statusOf(await ask(port, 'summary')).STATUS).toBe('S');
        await new Promise((resolve) => setTimeout(resolve, 150)); // past a flush
      }
      expect(errors.map((e) => e.code)).toEqual(['ENOSPC']);
    } finally {
      await farm.stop();
    }
  });
});
