// The ordered list of schema steps. To add one: write NNNN-name.ts exporting `up(db)`, import it
// here and append ONE line below. Versions must be strictly increasing (asserted at open).
import type { Migration } from '../types.js';
import { up as core } from './0001-core.js';
import { up as uploadOutbox } from './0002-upload-outbox.js';
import { up as thermal } from './0003-thermal.js';
import { up as commandLog } from './0004-command-log.js';
import { up as minerDialect } from './0005-miner-dialect.js';
import { up as liveAlgorithm } from './0006-live-algorithm.js';
import { up as historySeriesIndex } from './0007-history-series-index.js';
import { up as minerFirmwareLimits } from './0008-miner-firmware-limits.js';
import { up as hourlyAverages } from './0009-hourly-averages.js';
import { up as outboxCovering } from './0010-outbox-covering.js';
import { up as algorithmChanges } from './0011-algorithm-changes.js';
import { up as thermalMachine } from './0012-thermal-machine.js';
import { up as algorithmChangeTime } from './0013-algorithm-change-time.js';

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'core', up: core },
  { version: 2, name: 'upload-outbox', up: uploadOutbox },
  { version: 3, name: 'thermal', up: thermal },
  { version: 4, name: 'command-log', up: commandLog },
  { version: 5, name: 'miner-dialect', up: minerDialect },
  { version: 6, name: 'live-algorithm', up: liveAlgorithm },
  { version: 7, name: 'history-series-index', up: historySeriesIndex },
  { version: 8, name: 'miner-firmware-limits', up: minerFirmwareLimits },
  { version: 9, name: 'hourly-averages', up: hourlyAverages },
  { version: 10, name: 'outbox-covering', up: outboxCovering },
  { version: 11, name: 'algorithm-changes', up: algorithmChanges },
  { version: 12, name: 'thermal-machine', up: thermalMachine },
  { version: 13, name: 'algorithm-change-time', up: algorithmChangeTime },
  // hashctl:migrations (append one line per migration, keep this marker)
];
