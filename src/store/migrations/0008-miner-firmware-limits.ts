// miners.firmware_limits: the thermal limits the miner's firmware reported at its last good poll
// (Braiins OS / LuxOS `tempctrl`, Avalon), as the JSON of FirmwareThermalLimits, or NULL when it
// reports none. Written by collect, read by `thermal check --from-db`, so that a check of the
// stored snapshots judges each miner by the same limits a live check (and collect itself) does.
import type { Db } from '../types.js';

export const version = 8;
export const name = 'miner-firmware-limits';

export function up(db: Db): void {
  db.exec('ALTER TABLE miners ADD COLUMN firmware_limits TEXT;');
}
