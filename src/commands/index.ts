// The registry of subcommands. Each file registers its flags; heavy modules load inside actions.
import type { RegisterCommand } from './shared.js';
import { registerSimulate } from './simulate.js';
import { registerProbe } from './probe.js';
import { registerUpload } from './upload.js';
import { registerThermal } from './thermal.js';

export const COMMANDS: RegisterCommand[] = [
  registerProbe,
  registerUpload,
  registerSimulate,
  registerThermal,
  // hashctl:commands (one line per subcommand, keep this marker)
];
