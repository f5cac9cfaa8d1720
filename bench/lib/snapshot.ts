// A realistic S19-class snapshot for benchmarks that need rows without polling miners.
import type { Snapshot } from '../../src/miners/types.js';

export function benchSnapshot(variant: number): Snapshot {
  const wobble = (variant % 97) / 97;
  const boards = [0, 1, 2].map((index) => ({
    index,
    hashrate_hs: 33e12 + wobble * 1e12 + index * 1e10,
    chips: 76,
    chips_expected: 76,
    temp_board_c: 58 + wobble * 4,
    temp_chip_c: 73 + wobble * 5 + index,
    frequency_mhz: 525,
    status: 'ok',
  }));
  return {
    make: 'Antminer',
    model: 'S19j Pro',
    firmware: { name: 'bmminer', version: '1.0.0' },
    algorithm: 'sha256d',
    hashrate: { current_hs: 100e12 + wobble * 3e12, average_hs: 100e12, nominal_hs: 104e12 },
    uptime_s: 86_400 + variant * 60,
    accepted: 10_000 + variant,
    rejected: 12,
    hw_errors: 3,
    boards,
    fans: [0, 1, 2, 3].map((index) => ({ index, rpm: 5400 + index * 30 })),
    temp_max_chip_c: Math.max(...boards.map((board) => board.temp_chip_c)),
    temp_max_board_c: Math.max(...boards.map((board) => board.temp_board_c)),
    power_w: 3050,
    efficiency_j_per_th: 29.5,
    pools: [0, 1, 2].map((index) => ({
      index,
      url: `stratum+tcp://pool${index}.example.net:3333`,
      user: 'farm.worker1',
      status: 'Alive',
      priority: index,
      active: index === 0,
      accepted: index === 0 ? 10_000 + variant : 0,
      rejected: index === 0 ? 12 : 0,
    })),
    errors: [],
  };
}
