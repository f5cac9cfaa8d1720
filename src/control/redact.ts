// Secrets never leave hashctl through its own outputs (stdout, stderr, command_log): requests are
// shown with the password replaced, and anything a miner echoes back (cgminer's E/53 repeats the
// whole addpool parameter) is scrubbed the same way.
import { WHATSMINER_NATIVE_COMMANDS } from '../cgminer/commands.js';
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
    return out;
  }
}

/** A redactor for `action`: the password, and the encoded addpool parameter that carries it. */
export function redactorFor(
  action: ControlAction,
  encode: (url: string, user: string, password: string) => string,
): Redactor {
  const redactor = new Redactor();
  if (action.name === 'addpool') {
    redactor.add(encode(action.url, action.user, action.password), encode(action.url, action.user, REDACTED));
    redactor.add(action.password);
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
