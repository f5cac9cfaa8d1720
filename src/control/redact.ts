// Secrets never leave hashctl through its own outputs (stdout, stderr, command_log): requests are
// shown with the password replaced, and anything a miner echoes back (cgminer's E/53 repeats the
// whole addpool parameter) is scrubbed the same way.
import { WHATSMINER_NATIVE_COMMANDS } from '../cgminer/commands.js';
import { escapeAddpoolField, splitAddpoolFields } from '../cgminer/escape.js';
import { maskUrlCredentials } from '../util/url-credentials.js';
import type { ControlAction, PlannedRequest } from './types.js';

export const REDACTED = '***';

/** Below this length a "secret" (the conventional pool password `x`) is only hidden where we place it. */
const MIN_SCRUB_LENGTH = 3;

export class Redactor {
  /** [secret, replacement], longest first so a whole parameter is replaced before its parts. */
  #pairs: [string, string][] = [];

  add(secret: string, replacement = REDACTED): void {
    if (secret.length < MIN_SCRUB_LENGTH || secret === replacement) return;
    this.#pairs.push([secret, replacement]);
    this.#pairs.sort((a, b) => b[0].length - a[0].length);
  }

  text(value: string): string {
    let out = value;
    for (const [secret, replacement] of this.#pairs) out = out.split(secret).join(replacement);
    return maskUrlCredentials(out);
  }
}

/**
 * Commands whose parameter carries a password in a layout we do not split (Whatsminer v2
 * `update_pwd`/`update_pools`, v3 `set.user.change_passwd`/`set.miner.pools`, a `logon` given
 * credentials): the whole parameter is hidden.
 */
const SECRET_PARAMETER_COMMANDS: ReadonlySet<string> = new Set([
  'update_pwd',
  'update_pools',
  'set.user.change_passwd',
  'set.miner.pools',
  'logon',
]);

/**
 * A raw request's parameter as hashctl may show it, with the password positions of the commands
 * known to carry one (CGMINER-API.md §5.2, §6, §8.6, §13) replaced; null when it carries none.
 * `secrets` are the hidden values, to scrub from what the miner echoes back.
 */
export function redactRawParameter(
  command: string,
  parameter: string,
): { shown: string; secrets: string[] } | null {
  if (SECRET_PARAMETER_COMMANDS.has(command)) return { shown: REDACTED, secrets: [parameter] };
  if (command === 'addpool') {
    // URL,USER,PASSWORD with cgminer's backslash escapes; anything else: no telling where it is.
    const fields = splitAddpoolFields(parameter);
    if (fields === null || fields.length !== 3) return { shown: REDACTED, secrets: [parameter] };
    const [url, user, password] = fields as [string, string, string];
    return {
      shown: [escapeAddpoolField(url), escapeAddpoolField(user), REDACTED].join(','),
      secrets: [password],
    };
  }
  if (command === 'ascset' || command === 'pgaset') {
    // Split on every comma, as Avalon does (no escapes): N,option,value…
    const fields = parameter.split(',');
    const option = (fields[1] ?? '').toLowerCase();
    if (option === 'setpool') {
      // N,setpool,<auth-user>,<auth-pass>,<idx>,<url>,<worker>,<worker-pass> (§8.6); when the fields
      // do not line up, everything after the auth user is hidden.
      if (fields.length < 8) {
        return fields.length > 3
          ? { shown: [...fields.slice(0, 3), REDACTED].join(','), secrets: [fields.slice(3).join(',')] }
          : null;
      }
      return {
        shown: [...fields.slice(0, 3), REDACTED, ...fields.slice(4, 7), REDACTED].join(','),
        secrets: [fields[3] as string, fields.slice(7).join(',')],
      };
    }
    if (option === 'password' && fields.length > 2) {
      return { shown: [...fields.slice(0, 2), REDACTED].join(','), secrets: [fields.slice(2).join(',')] };
    }
  }
  return null;
}

/** A redactor for `action`: the password, and the encoded parameter that carries it. */
export function redactorFor(
  action: ControlAction,
  encode: (url: string, user: string, password: string) => string,
): Redactor {
  const redactor = new Redactor();
  if (action.name === 'addpool') {
    redactor.add(encode(action.url, action.user, action.password), encode(action.url, action.user, REDACTED));
    redactor.add(action.password);
  }
  if (action.name === 'raw' && action.parameter !== undefined) {
    const hidden = redactRawParameter(action.command, action.parameter);
    if (hidden !== null) {
      redactor.add(action.parameter, hidden.shown);
      for (const secret of hidden.secrets) redactor.add(secret);
    }
  }
  return redactor;
}

/** The request exactly as it goes on the wire, as JSON, with secrets replaced. */
export function showRequest(request: PlannedRequest, redactor: Redactor): string {
  if (request.whatsminer) {
    // What is encrypted into `data` (the token is derived from the admin password: never shown).
    const fields: Record<string, string> = { cmd: request.command };
    for (const [name, value] of Object.entries(request.whatsminer.fields))
      fields[name] = redactor.text(value);
    return JSON.stringify({ enc: 1, data: { ...fields, token: REDACTED } });
  }
  // Whatsminer's native commands go out as {"cmd":…} (src/cgminer/escape.ts buildRequest).
  if (WHATSMINER_NATIVE_COMMANDS.has(request.command)) return JSON.stringify({ cmd: request.command });
  const body: Record<string, string> = { command: request.command };
  if (request.parameter !== undefined) body.parameter = redactor.text(request.parameter);
  return JSON.stringify(body);
}
