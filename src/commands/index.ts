// The registry of subcommands. Each file registers its flags; heavy modules load inside actions.
import type { RegisterCommand } from './shared.js';

export const COMMANDS: RegisterCommand[] = [
  // hashctl:commands (one line per subcommand, keep this marker)
];
