// What the client needs to know about command names: which are read-only (safe to retry and to
// join with `+`), and which Whatsminer commands use the native `{"cmd":…}` request.

/**
 * Commands that change nothing on the miner. Everything else, including every unknown command,
 * counts as a write: never re-sent once a byte of it has left (hashctl.md §4).
 */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  // upstream cgminer report commands (CGMINER-API.md §5.1)
  'version',
  'config',
  'summary',
  'pools',
  'devs',
  'edevs',
  'devdetails',
  'stats',
  'estats',
  'dbgstats',
  'coin',
  'notify',
  'lcd',
  'usbstats',
  'asccount',
  'pgacount',
  'asc',
  'pga',
  'check',
  // asks whether we have write access; changes nothing (§7)
  'privileged',
  // Avalon
  'litestats',
  // Braiins OS
  'fans',
  'temps',
  'tempctrl',
  'tunerstatus',
  // LuxOS reads (§5.3); `session` only shows the current session
  'atm',
  'events',
  'frequencyget',
  'groups',
  'healthchipget',
  'healthctrl',
  'limits',
  'power',
  'profiles',
  'session',
  'voltageget',
  // Whatsminer btminer-native reads (§8.5, §13.1)
  // (not get_token: it changes nothing, but each call spends one of the 32 tokens an IP may hold, §13.1,
  // so it is never re-sent once a byte of it left: it counts as a write for retries)
  'get_version',
  'status',
  'get_miner_info',
  'get_psu',
  'get_error_code',
]);

/** The writes a reader of this file might look for; documentation, since unknown names are writes too. */
export const KNOWN_WRITE_COMMANDS: ReadonlySet<string> = new Set([
  'switchpool',
  'enablepool',
  'disablepool',
  'addpool',
  'removepool',
  'poolpriority',
  'poolquota',
  'save',
  'quit',
  'restart',
  'zero',
  'ascenable',
  'ascdisable',
  'ascidentify',
  'ascset',
  'pgaenable',
  'pgadisable',
  'pgaidentify',
  'pgaset',
  'hotplug',
  'debug',
  'setconfig',
  'lockstats',
]);

/** Upstream's joinable set (CGMINER-API.md §4) minus `lockstats`, which is privileged. */
export const JOINABLE_COMMANDS: ReadonlySet<string> = new Set([
  'version',
  'config',
  'devs',
  'edevs',
  'pools',
  'summary',
  'pgacount',
  'notify',
  'devdetails',
  'stats',
  'dbgstats',
  'estats',
  'coin',
  'usbstats',
  'asccount',
  'lcd',
]);

/** btminer-native commands, sent as `{"cmd":…}` (CGMINER-API.md §2.1, §8.5). */
export const WHATSMINER_NATIVE_COMMANDS: ReadonlySet<string> = new Set([
  'get_version',
  'get_token',
  'status',
  'get_miner_info',
  'get_psu',
  'get_error_code',
]);

/** A multi-command is a write as soon as one member is. */
export function isWriteCommand(command: string): boolean {
  return command.split('+').some((name) => !READ_ONLY_COMMANDS.has(name));
}

export function isMultiCommand(command: string): boolean {
  return command.includes('+');
}
