// A simulated farm that starts healthy, so a test's own faults are the only ones.
import { type Farm, startFarm } from '../../src/sim/index.js';

/** `count` stock Antminer S19s on 127.0.0.1 (ports picked by the system): 20 °C ambient, every board and fan working. */
export function startHealthyFarm(count: number, now: () => number): Promise<Farm> {
  return startFarm({
    profile: 'antminer-s19',
    count,
    seed: 7,
    host: '127.0.0.1',
    basePort: 0,
    ambientC: 20,
    deadBoards: 0,
    failedFans: 0,
    now,
  });
}
