// thermal_state.machine: which machine the hysteresis memory was learnt on (JSON {make, model,
// algorithm} as its polls named them; NULL: not known yet, a row from before this step). Another
// machine at the same address (an L3+ swapped for an S19) must not inherit the old one's levels: an
// S19 at 79 °C was held critical after a hot L3+, by collect and `thermal check --protect` alike.
import type { Db } from '../types.js';

export const version = 12;
export const name = 'thermal-machine';

export function up(db: Db): void {
  db.exec('ALTER TABLE thermal_state ADD COLUMN machine TEXT');
}
