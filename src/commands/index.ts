// The registry of subcommands. Each file registers its flags; heavy modules load inside actions.
import type { RegisterCommand } from './shared.js';
import { registerCollect } from './collect.js';
import { registerLive } from './live.js';
import { registerHistory } from './history.js';
import { registerExport } from './export.js';
import { registerSimulate } from './simulate.js';
import { registerProbe } from './probe.js';
import { registerUpload } from './upload.js';
import { registerThermal } from './thermal.js';
import { registerAudit } from './audit.js';
import { registerScan } from './scan.js';
import { registerSchema } from './schema.js';
import { registerControl } from './control.js';

export const COMMANDS: RegisterCommand[] = [
  registerProbe,
  registerUpload,
  registerSimulate,
  registerThermal,
  registerAudit,
  registerCollect,
  registerLive,
  registerHistory,
  registerExport,
  registerScan,
  registerSchema,
  registerControl,
  // hashctl:commands (one line per subcommand, keep this marker)
];
