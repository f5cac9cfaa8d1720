// What a client reads from one simulated miner over time and across its commands: the counters a
// real miner keeps, and the places a dead board shows. Every farm here listens on 127.0.115.1.
import { describe, expect, it } from 'vitest';
import { startFarm } from '../../src/sim/index.js';
import { ask, section } from './support.js';

const HOST = '127.0.115.1';
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
      const farm = await startFarm({
        profile: name,
        count: 1,
        host: HOST,
        basePort: 0,
        deadBoards: 1,
        seed: 5,
      });
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
      const farm = await startFarm({
        profile: name,
        count: 1,
        host: HOST,
        basePort: 0,
        deadBoards: 1,
        seed: 5,
      });
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
