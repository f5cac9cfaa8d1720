// What a client reads from one simulated miner over time and across its commands: the counters a
// real miner keeps, and the places a dead board shows. Every farm here listens on 127.0.115.1.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FarmOptions, startFarm } from '../../src/sim/index.js';
import { ask, exchange, lenient, section } from './support.js';

const SAMPLES = join(import.meta.dirname, '../../../shared/protocol/samples');

const HOST = '127.0.115.1';

/** A farm of one miner of `profile` on this file's loopback address. */
const oneMiner = (profile: string, options: Partial<FarmOptions> = {}) =>
  startFarm({ profile, count: 1, host: HOST, basePort: 0, ...options });
type Row = Record<string, unknown>;

function read(port: number, command: string): Promise<Row> {
  return ask(port, command, undefined, {}, HOST);
}

describe('a dead board', () => {
  // Profiles whose devs list one device per hashboard.
  const PER_BOARD = [
    'antminer-s9',
    'vnish',
    'hiveon',
    'antminer-l3plus',
    'braiins-os',
    'luxos',
    'whatsminer',
  ];

  it.each(PER_BOARD)(
    '%s: its devs row found no share and the working boards carry the total',
    async (name) => {
      const farm = await oneMiner(name, { deadBoards: 1, seed: 5 });
      try {
        const miner = farm.miners[0]!;
        miner.state.access = 'full';
        const deadIndex = miner.state.boards.findIndex((b) => b.dead);
        expect(deadIndex).toBeGreaterThanOrEqual(0);
        const devs = section<Row>(await read(miner.port, 'devs'), 'DEVS');
        const summary = section<Row>(await read(miner.port, 'summary'), 'SUMMARY')[0]!;
        const dead = devs[deadIndex]!;
        expect(dead.Status).toBe('Dead');
        expect(dead.Accepted).toBe(0);
        expect(Number(dead['Last Share Time'] ?? 0)).toBe(0);
        if ('Hardware Errors' in dead) expect(dead['Hardware Errors']).toBe(0);
        const total = devs.reduce((n, d) => n + Number(d.Accepted), 0);
        expect(Number(summary.Accepted)).toBeGreaterThan(100);
        // Each row is floored: the rows add up to the summary within one share per board.
        expect(Number(summary.Accepted) - total).toBeGreaterThanOrEqual(0);
        expect(Number(summary.Accepted) - total).toBeLessThan(devs.length);
      } finally {
        await farm.stop();
      }
    },
  );

  it.each(['antminer-s9', 'antminer-l3plus', 'antminer-s19'])(
    '%s: its stats chain counts no hardware errors',
    async (name) => {
      const farm = await oneMiner(name, { deadBoards: 1, seed: 5 });
      try {
        const miner = farm.miners[0]!;
        const stats = section<Row>(await read(miner.port, 'stats'), 'STATS')[1]!;
        const boards = miner.state.boards;
        const hw = boards.map((b, i) => Number(stats[`chain_hw${name === 'antminer-s9' ? b.chain : i + 1}`]));
        boards.forEach((b, i) => {
          if (b.dead) expect(hw[i]).toBe(0);
          else expect(hw[i]).toBeGreaterThan(0);
        });
      } finally {
        await farm.stop();
      }
    },
  );
});

describe('counters over time', () => {
  // Profiles whose summary carries a cumulative Total MH (the LuxOS one is a rate, as captured).
  const PAUSABLE: [string, string, string | undefined, string][] = [
    ['braiins-os', 'pause', undefined, 'MHS av'],
    ['avalon', 'ascset', '0,softoff,1:0', 'MHS av'],
  ];

  it.each(PAUSABLE)('%s: Total MH only grows, through a pause too', async (name, pause, parameter, av) => {
    let clock = Date.now();
    const farm = await oneMiner(name, { seed: 2, now: () => clock });
    try {
      const miner = farm.miners[0]!;
      miner.state.access = 'full';
      const summary = async () => section<Row>(await read(miner.port, 'summary'), 'SUMMARY')[0]!;
      const first = await summary();
      // A miner up for hours: its Total MH is its average over its uptime (within 1 %).
      const perSecond = Number(first['Total MH']) / Number(first.Elapsed);
      expect(Math.abs(perSecond / Number(first[av]) - 1)).toBeLessThan(0.01);
      clock += 60_000;
      const running = await summary();
      expect(Number(running['Total MH'])).toBeGreaterThan(Number(first['Total MH']));
      await ask(miner.port, pause, parameter, {}, HOST);
      clock += 60_000;
      const paused = await summary();
      expect(Number(paused['MHS 5s'])).toBe(0);
      expect(Number(paused['Total MH'])).toBeGreaterThanOrEqual(Number(running['Total MH']));
      expect(Number(paused.Accepted)).toBeGreaterThanOrEqual(Number(running.Accepted));
    } finally {
      await farm.stop();
    }
  });

  it.each(['antminer-s9', 'whatsminer', 'braiins-os', 'avalon', 'antminer-s19'])(
    '%s: after a restart Total MH counts the ramp-up, and grows with Elapsed',
    async (name) => {
      let clock = Date.now();
      const farm = await oneMiner(name, { seed: 4, now: () => clock });
      try {
        const miner = farm.miners[0]!;
        const { resetAfterRestart } = await import('../../src/sim/state.js');
        resetAfterRestart(miner.state, clock);
        let last = -1;
        for (let i = 0; i < 6; i++) {
          clock += 30_000;
          const s = section<Row>(await read(miner.port, 'summary'), 'SUMMARY')[0]!;
          const total = Number(s['Total MH']);
          expect(total).toBeGreaterThan(last);
          last = total;
        }
        // 180 s of uptime, 120 s of ramp: 120 s worth of full-rate hashes.
        const full =
          (miner.state.nominalHs / miner.state.boards.length) *
          miner.state.boards.reduce((n, b) => n + (b.dead ? 0 : b.hashFactor), 0);
        expect(last * 1e6).toBeCloseTo(full * 120, -10);
      } finally {
        await farm.stop();
      }
    },
  );
});

describe('temperatures with a dead board', () => {
  it.each(['antminer-s9', 'antminer-s19', 'whatsminer', 'avalon', 'luxos'])(
    '%s: the working boards run as hot, and the fans as fast, as on a healthy miner',
    async (name) => {
      // Miner 0 of each farm: the same miner (its seed and index), with and without a dead board.
      const healthy = await oneMiner(name, { seed: 9 });
      const broken = await oneMiner(name, { seed: 9, deadBoards: 1 });
      try {
        const { readings } = await import('../../src/sim/state.js');
        const { Rng } = await import('../../src/sim/rng.js');
        const now = Date.now();
        const a = healthy.miners[0]!;
        const b = broken.miners[0]!;
        const ra = readings(a.state, a.profile, now, new Rng(1));
        const rb = readings(b.state, b.profile, now, new Rng(1));
        expect(rb.fanPct).toBe(ra.fanPct);
        rb.boards.forEach((board, i) => {
          if (board.board.dead) expect(board.chipC).toBeLessThan(ra.boards[i]!.chipC - 10);
          else expect(board.chipC).toBeCloseTo(ra.boards[i]!.chipC, 6);
        });
        // What a client reads: the hottest chip is that of the hottest working board.
        const working = ra.boards.filter((_, i) => !rb.boards[i]!.board.dead).map((x) => x.chipC);
        expect(rb.chipMaxC).toBeCloseTo(Math.max(...working), 6);
      } finally {
        await healthy.stop();
        await broken.stop();
      }
    },
  );
});

describe('Whatsminer: cgminer commands under the btminer key', () => {
  it('answer E/24 as the captured M31S does; an unknown native cmd stays invalid cmd', async () => {
    const captured = JSON.parse(
      readFileSync(join(SAMPLES, 'whatsminer-m31s__cmd-key-multicommand_error.json'), 'utf8'),
    ) as { STATUS: Row[] };
    const farm = await oneMiner('whatsminer');
    try {
      const port = farm.miners[0]!.port;
      const native = async (cmd: string) =>
        lenient((await exchange(port, JSON.stringify({ cmd }), HOST)).bytes);
      for (const cmd of ['pools+summary+edevs', 'summary']) {
        const got = (await native(cmd)) as { STATUS: Row[] };
        const [status, want] = [got.STATUS[0]!, captured.STATUS[0]!];
        expect([status.STATUS, status.Code, status.Msg]).toEqual([want.STATUS, want.Code, want.Msg]);
        expect(Object.keys(got).sort()).toEqual(Object.keys(captured).sort());
      }
      const unknown = await native('constructor');
      expect([unknown.STATUS, unknown.Code, unknown.Msg]).toEqual(['E', 14, 'invalid cmd']);
    } finally {
      await farm.stop();
    }
  });
});

describe('chip readings against the air', () => {
  it.each([-20, 25])(
    'no chip minimum or average reads below an ambient of %d °C, asleep or on a dead board',
    async (ambientC) => {
      let clock = Date.now();
      const farm = await oneMiner('whatsminer', { deadBoards: 1, ambientC, now: () => clock });
      const avalon = await oneMiner('avalon', { deadBoards: 1, ambientC, now: () => clock });
      try {
        const check = async () => {
          for (const d of section<Row>(await read(farm.miners[0]!.port, 'devs'), 'DEVS')) {
            expect(Number(d['Chip Temp Min'])).toBeGreaterThanOrEqual(ambientC);
            expect(Number(d['Chip Temp Avg'])).toBeGreaterThanOrEqual(Number(d['Chip Temp Min']));
            expect(Number(d['Chip Temp Max'])).toBeGreaterThanOrEqual(Number(d['Chip Temp Avg']));
          }
          // The summary's figures are over the same chips.
          const s = section<Row>(await read(farm.miners[0]!.port, 'summary'), 'SUMMARY')[0]!;
          expect(Number(s['Chip Temp Min'])).toBeGreaterThanOrEqual(ambientC);
          expect(Number(s['Chip Temp Avg'])).toBeGreaterThanOrEqual(Number(s['Chip Temp Min']));
          expect(Number(s['Chip Temp Max'])).toBeGreaterThanOrEqual(Number(s['Chip Temp Avg']));
          const stats = section<Row>(await read(avalon.miners[0]!.port, 'stats'), 'STATS')[0]!;
          const mm = String(stats['MM ID0']);
          const avg = /MTavg\[([^\]]*)\]/.exec(mm)![1]!.split(' ').map(Number);
          for (const t of avg) expect(t).toBeGreaterThanOrEqual(ambientC);
        };
        await check();
        farm.miners[0]!.state.sleeping = true;
        avalon.miners[0]!.state.sleeping = true;
        clock += 3_600_000;
        await check();
      } finally {
        await farm.stop();
        await avalon.stop();
      }
    },
  );
});

describe('the hottest reading below 0 °C', () => {
  // readings() started its maxima at 0: a miner asleep at -20 °C reported 0 °C as its hottest
  // chip and board, hotter than every sensor it has (and than the air).
  it('a miner colder than 0 °C reports its hottest sensor, not 0', async () => {
    let clock = Date.now();
    const whatsminer = await oneMiner('whatsminer', { ambientC: -20, now: () => clock });
    const s9 = await oneMiner('antminer-s9', { ambientC: -20, now: () => clock });
    try {
      whatsminer.miners[0]!.state.sleeping = true;
      s9.miners[0]!.state.sleeping = true;
      clock += 3_600_000;
      const devs = section<Row>(await read(whatsminer.miners[0]!.port, 'devs'), 'DEVS');
      const s = section<Row>(await read(whatsminer.miners[0]!.port, 'summary'), 'SUMMARY')[0]!;
      const hottest = Math.max(...devs.map((d) => Number(d['Chip Temp Max'])));
      expect(hottest).toBeLessThan(0);
      expect(Number(s['Chip Temp Max'])).toBe(hottest);
      expect(Number(s.Temperature)).toBeLessThan(0);
      const stats = section<Row>(await read(s9.miners[0]!.port, 'stats'), 'STATS')[1]!;
      const pcb = [6, 7, 8].map((chain) => Number(stats[`temp${chain}`]));
      expect(Math.max(...pcb)).toBeLessThan(0);
      expect(stats.temp_max).toBe(Math.max(...pcb));
    } finally {
      await whatsminer.stop();
      await s9.stop();
    }
  });
});

describe('Work Utility', () => {
  // bmminer's Work Utility is diff-1 work per minute: the S19 Pro capture's 1,554,353.85 at
  // 111,834.85 GH/s is (Difficulty Accepted + Rejected) × 60 / Elapsed. The Antminer profiles
  // divided it by 1000 more: 1,573 at 112 TH/s, a miner doing a thousandth of its hashrate's work.
  it.each(['antminer-s9', 'antminer-s19', 'vnish', 'hiveon'])(
    '%s: Work Utility is the diff-1 work per minute its hashrate does, as in the capture',
    async (name) => {
      const farm = await oneMiner(name, { seed: 3 });
      try {
        const s = section<Row>(await read(farm.miners[0]!.port, 'summary'), 'SUMMARY')[0]!;
        const diff1 =
          ((Number(s['Difficulty Accepted']) + Number(s['Difficulty Rejected'])) * 60) / Number(s.Elapsed);
        expect(Number(s['Work Utility'])).toBeCloseTo(diff1, 0);
        const fromRate = (Number(s['GHS av']) * 1e9 * 60) / 2 ** 32;
        expect(Number(s['Work Utility']) / fromRate).toBeGreaterThan(0.9);
        expect(Number(s['Work Utility']) / fromRate).toBeLessThan(1.1);
      } finally {
        await farm.stop();
      }
    },
  );

  it('the capture it is modelled on agrees', () => {
    const s = (
      JSON.parse(readFileSync(join(SAMPLES, 'antminer-s19pro_2022-12__summary.json'), 'utf8')) as {
        SUMMARY: Row[];
      }
    ).SUMMARY[0]!;
    const diff1 =
      ((Number(s['Difficulty Accepted']) + Number(s['Difficulty Rejected'])) * 60) / Number(s.Elapsed);
    expect(Math.abs(Number(s['Work Utility']) / diff1 - 1)).toBeLessThan(0.001);
  });
});

describe('LuxOS Total MH', () => {
  // LUXminer's Total MH is not upstream's counter: in every record of both captures it is the MHS
  // av figure itself (summary 56,917,916.07 at GHS av 56,917.91). The profile printed a counter
  // of hashes since the start, 54 million million at 122 TH/s.
  it('is the average since the start in MH/s, as both captures print it', async () => {
    const sample = JSON.parse(
      readFileSync(join(SAMPLES, 'luxos-s19kpro_2025.4.8__summary.json'), 'utf8'),
    ) as { SUMMARY: Row[] };
    const captured = sample.SUMMARY[0]!;
    expect(Math.abs(Number(captured['Total MH']) / 1000 - Number(captured['GHS av']))).toBeLessThan(0.01);
    const farm = await oneMiner('luxos', { seed: 6 });
    try {
      const s = section<Row>(await read(farm.miners[0]!.port, 'summary'), 'SUMMARY')[0]!;
      expect(Math.abs(Number(s['Total MH']) / 1000 - Number(s['GHS av']))).toBeLessThan(0.01);
    } finally {
      await farm.stop();
    }
  });
});
