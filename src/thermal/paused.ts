// Which miners hashctl itself paused (`control pause` or `thermal check --protect`), from the
// store's command_log. A paused miner is not hashing on purpose: its idle boards are not dead and
// its fans may ramp down to 0 (Braiins OS PauseMode auto, thermal-facts §2.1), so judging them would
// turn our own protective pause into "dead boards 3" and a fan alarm on the next check.
import { type CommandLogStatements, commandLogStatements } from '../store/command-log.js';
import type { Store } from '../store/open.js';
import type { CheckSource } from './check.js';
import { PROTECT_SOURCE } from './protect.js';

/** command_log sources that write pause/resume: `hashctl control` and thermal protection. */
export const PAUSE_SOURCES = ['cli', PROTECT_SOURCE] as const;

/** Why a miner counts as paused by hashctl, or null: its last pause came after its last resume. */
export function pausedBy(log: CommandLogStatements, host: string, port: number): string | null {
  // The newest pause or resume decides; a resume at the same ms as a pause wins.
  const last = log.lastSwitch(host, port, PAUSE_SOURCES);
  if (last === null || last.entries.some((entry) => entry.action === 'resume')) return null;
  // Of two pauses at the same ms, the first source listed names it.
  const source =
    PAUSE_SOURCES.find((s) => last.entries.some((entry) => entry.source === s)) ?? PAUSE_SOURCES[0];
  const by = source === PROTECT_SOURCE ? 'thermal protection' : 'hashctl control';
  return `paused by ${by} at ${new Date(last.ts).toISOString()}`;
}

/** A lookup for checkSource; asked only for miners that are not hashing, so a farm costs little. */
export function pausedLookup(store: Store): (source: CheckSource) => string | null {
  const log = store.prepared(commandLogStatements);
  return (source) => pausedBy(log, source.host, source.port);
}
