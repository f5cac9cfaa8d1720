// `hashctl --version` alone is answered here, before the rest of the program is even initialized:
// src/entry.ts imports this module first, and esbuild keeps that order in the bundle. Scripts and
// fleet tools ask every host for its version; building the whole command tree for one line cost
// ~10 ms, half of what hashctl adds to Node's own start. Any other argument list (`--version --json`,
// `-V extra`) goes through the program as before, so its answers do not change.
import { writeSync } from 'node:fs';
import { versionLine } from './version.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  let code = 0;
  try {
    writeSync(1, `${versionLine()}\n`);
  } catch (error) {
    // The reader gone is a normal end (`| head`); anything else lost the output (hashctl.md §3).
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    if (why !== 'EPIPE') {
      code = 1;
      try {
        writeSync(2, `hashctl: cannot write the output: ${why}\n`);
      } catch {}
    }
  }
  process.exit(code);
}

// From here on a SIGINT/SIGTERM/SIGHUP waits for main()'s handlers (src/main.ts), which get it on
// the event loop's first turn, instead of killing the process while the rest of the program
// initializes: the single binary runs this bundle without bin/hashctl, which listens from its
// first line, and a signal in its start-up ended it by the signal itself (exit 143, no line).
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(name, () => {});
