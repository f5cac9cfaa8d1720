// What `--log FILE` writes of a request's parameter: the passwords a farm receives (addpool,
// Avalon's ascset setpool/password, whole-parameter secrets, a pool URL's `user:pass@`) become
// `***`, the fields around them stay, so a log handed on says what came without what unlocks a
// pool or a miner. Written here from the wire formats (CGMINER-API.md §6, §8.4, §8.6, §13),
// sharing no code with the client.

export const HIDDEN = '***';

/** Commands whose whole parameter is a secret, or holds one in a layout not split here. */
const WHOLE_SECRET = new Set([
  'update_pwd',
  'update_pools',
  'set.user.change_passwd',
  'set.miner.pools',
  'logon',
]);

/** Every command name a request may carry one of these secrets under. */
const SECRET_COMMANDS = new Set([...WHOLE_SECRET, 'addpool', 'ascset', 'pgaset']);

/** A LuxOS session id, as its writes put it first (`yJN2nlj1`): no URL, no path. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The text up to (not including) the `count`-th comma that separates fields, and whether there was
 * one; `escapes`: a backslash makes the next character part of the field (addpool, §6).
 */
function fieldsBefore(text: string, count: number, escapes: boolean): string | null {
  let seen = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (escapes && ch === '\\') {
      i++;
      continue;
    }
    if (ch === ',' && ++seen === count) return text.slice(0, i);
  }
  return null;
}

/** `url,user,password`: the first two fields as sent, then `***` (none shown if it is not that). */
function addpool(parameter: string): string {
  const shown = fieldsBefore(parameter, 2, true);
  if (shown !== null) return `${shown},${HIDDEN}`;
  const first = fieldsBefore(parameter, 1, true);
  return first === null ? HIDDEN : `${first},${HIDDEN}`;
}

/** Avalon `N,option,value…`, split on every comma (no escapes). */
function ascset(parameter: string): string {
  const fields = parameter.split(',');
  const option = (fields[1] ?? '').toLowerCase();
  if (option === 'setpool') {
    // N,setpool,<auth-user>,<auth-pass>,<idx>,<url>,<worker>,<worker-pass>
    if (fields.length >= 8) return [...fields.slice(0, 3), HIDDEN, ...fields.slice(4, 7), HIDDEN].join(',');
    return fields.length > 3 ? [...fields.slice(0, 3), HIDDEN].join(',') : parameter;
  }
  if (option === 'password' && fields.length > 2) return [...fields.slice(0, 2), HIDDEN].join(',');
  return parameter;
}

/** A URL's user-info up to its last `@` (`stratum+tcp://user:pass@host`), within one field. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s'"`/,]*@/gi;

function hideIn(name: string, parameter: string): string {
  if (WHOLE_SECRET.has(name)) return HIDDEN;
  // A pool URL may carry credentials of its own: the host stays, they go.
  const shown = name === 'addpool' ? addpool(parameter) : ascset(parameter);
  return shown.replace(URL_CREDENTIALS, `$1${HIDDEN}@`);
}

/**
 * `parameter` as the log file shows it. `sessionFirst`: the miner takes a session id before the
 * fields of a write (LuxOS), kept as sent; a first field that cannot be one is read as a field.
 */
export function loggedParameter(
  command: string,
  parameter: string | null,
  sessionFirst: boolean,
): string | null {
  if (parameter === null) return null;
  const name = command
    .split('+')
    .map((part) => part.trim().toLowerCase())
    .find((part) => SECRET_COMMANDS.has(part));
  if (name === undefined) return parameter;
  if (sessionFirst && name !== 'logon') {
    const comma = parameter.indexOf(',');
    const session = comma < 0 ? parameter : parameter.slice(0, comma);
    if (comma >= 0 && SESSION_ID.test(session) && !WHOLE_SECRET.has(name))
      return `${session},${hideIn(name, parameter.slice(comma + 1))}`;
  }
  return hideIn(name, parameter);
}

/**
 * A request logged by its text (one that could not be read as a command): hidden when it names a
 * command that carries a secret, since there is no telling where its fields are.
 */
export function loggedText(text: string): string {
  const lower = text.toLowerCase();
  for (const name of SECRET_COMMANDS)
    if (lower.includes(name)) return `${HIDDEN} (${text.length} characters)`;
  return text;
}
