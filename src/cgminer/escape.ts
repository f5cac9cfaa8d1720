// Building the request bytes: command names checked, each command's parameter encoded by its own
// rule (CGMINER-API.md §6), and anything that cannot be sent safely refused with a UsageError before
// a socket is opened.

import { UsageError } from '../errors.js';
import { quoted } from '../output/terminal.js';
import { isMultiCommand, WHATSMINER_NATIVE_COMMANDS } from './commands.js';

/** cgminer reads a request with one recv() of 4095 bytes (§1); a longer one is silently cut. */
export const MAX_REQUEST_BYTES = 4095;

const COMMAND_NAME = /^[a-z0-9_.]+(?:\+[a-z0-9_.]+)*$/;
// C0 and C1 controls and DEL: never meaningful in a parameter, and they break text-mode replies.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Throws UsageError unless `command` is a plain name or an `a+b` multi-command of such names. */
export function checkCommandName(command: string): void {
  if (!COMMAND_NAME.test(command)) {
    throw new UsageError(
      `invalid command '${printable(command)}': use lower-case letters, digits, '_' and '.', joined by '+'`,
    );
  }
  if (command.length > 512) throw new UsageError(`invalid command '${command.slice(0, 40)}…': too long`);
}

/** The text as the contract shows what it refuses: control characters as `\xHH`/`\uHHHH`. */
function printable(text: string): string {
  const shown = quoted(text.slice(0, 60));
  return text.length > 60 ? `${shown}…` : shown;
}

function refuse(command: string, parameter: string, why: string): never {
  throw new UsageError(`cannot send ${command} with parameter '${printable(parameter)}': ${why}`);
}

function checkSafeText(command: string, parameter: string): void {
  if (CONTROL.test(parameter)) refuse(command, parameter, 'it contains a control character');
  if (LONE_SURROGATE.test(parameter)) refuse(command, parameter, 'it is not valid Unicode');
}

/** Splits cgminer's addpool way: a backslash escapes the next character, an unescaped `,` ends a field. */
export function splitAddpoolFields(parameter: string): string[] | null {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < parameter.length; i++) {
    const c = parameter[i] as string;
    if (c === '\\') {
      if (i + 1 >= parameter.length) return null; // a lone trailing backslash escapes nothing
      current += parameter[++i];
    } else if (c === ',') {
      fields.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  fields.push(current);
  return fields;
}

/** Escapes one addpool field so that `,` and `\` inside it survive cgminer's splitter. */
export function escapeAddpoolField(value: string): string {
  return value.replace(/[\\,]/g, (c) => `\\${c}`);
}

/** The addpool parameter for these values; refuses what addpool cannot take. */
export function addpoolParameter(url: string, user: string, password: string): string {
  const parameter = [url, user, password].map(escapeAddpoolField).join(',');
  return encodeParameter('addpool', parameter);
}

/** The ascset/pgaset parameter `N,option[,value]`; the value is sent verbatim (no escaping exists). */
export function ascsetParameter(device: number, option: string, value?: string, command = 'ascset'): string {
  const parameter = value === undefined ? `${device},${option}` : `${device},${option},${value}`;
  return encodeParameter(command, parameter);
}

const WHOLE_NUMBER = /^\d{1,6}$/;
const NUMERIC_PARAMETER = new Set([
  'switchpool',
  'enablepool',
  'disablepool',
  'removepool',
  'asc',
  'pga',
  'ascenable',
  'ascdisable',
  'ascidentify',
  'pgaenable',
  'pgadisable',
  'pgaidentify',
]);

/**
 * Checks (and where a rule exists, normalizes) the parameter of `command`. Returns what to send.
 * Throws UsageError for anything that cannot be encoded safely.
 */
export function encodeParameter(command: string, parameter: string): string {
  checkSafeText(command, parameter);
  if (isMultiCommand(command))
    refuse(command, parameter, 'a multi-command takes no parameter (cgminer drops it)');
  if (NUMERIC_PARAMETER.has(command)) {
    if (!WHOLE_NUMBER.test(parameter)) refuse(command, parameter, 'expected a number, e.g. 0');
    return String(Number(parameter));
  }
  switch (command) {
    case 'addpool': {
      const fields = splitAddpoolFields(parameter);
      if (fields === null) refuse(command, parameter, 'it ends with a lone backslash');
      if (fields.length !== 3) {
        refuse(command, parameter, 'expected URL,USER,PASSWORD (escape a comma inside a field as \\,)');
      }
      if (fields[0] === '') refuse(command, parameter, 'the pool URL is empty');
      if (fields[2] === '') refuse(command, parameter, 'cgminer rejects an empty password; use x');
      return parameter;
    }
    case 'ascset':
    case 'pgaset': {
      // Split at the first two commas only: everything after the second is the value, verbatim (§6).
      if (!/^\d{1,4},[A-Za-z0-9_-]+(?:,.*)?$/s.test(parameter)) {
        refuse(command, parameter, 'expected DEVICE,OPTION[,VALUE], e.g. 0,led,1-1');
      }
      return parameter;
    }
    case 'poolpriority':
      if (!/^\d{1,6}(?:,\d{1,6})*$/.test(parameter))
        refuse(command, parameter, 'expected pool numbers, e.g. 2,0,1');
      return parameter;
    case 'poolquota':
      if (!/^\d{1,6},\d{1,9}$/.test(parameter)) refuse(command, parameter, 'expected POOL,QUOTA, e.g. 0,10');
      return parameter;
    case 'zero':
      if (!/^(?:all|bestshare),(?:true|false)$/i.test(parameter)) {
        refuse(command, parameter, 'expected all|bestshare,true|false');
      }
      return parameter;
    case 'hotplug':
      if (!/^\d{1,4}$/.test(parameter)) refuse(command, parameter, 'expected seconds from 0 to 9999');
      return parameter;
    case 'setconfig':
      if (!/^[a-z][a-z-]*,\d{1,9}$/i.test(parameter)) refuse(command, parameter, 'expected NAME,N');
      return parameter;
    case 'check':
      if (!/^[a-z0-9_.-]{1,64}$/.test(parameter)) refuse(command, parameter, 'expected a command name');
      return parameter;
    case 'save':
      if (parameter.includes('|')) refuse(command, parameter, "a file name with '|' cannot be sent safely");
      return parameter;
    default:
      return parameter;
  }
}

/** A LuxOS session id: what `logon` hands out (8 alphanumerics in the captures), nothing that splits. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * LuxOS writes take the session id as their first comma field (§6); the rest follows the command's
 * upstream rule. Returns the whole parameter, encoded.
 */
function encodeSessionParameter(command: string, parameter: string): string {
  checkSafeText(command, parameter);
  const comma = parameter.indexOf(',');
  const sessionId = comma < 0 ? parameter : parameter.slice(0, comma);
  if (!SESSION_ID.test(sessionId)) refuse(command, parameter, 'the session id is not a LuxOS session id');
  if (comma < 0) return sessionId;
  return `${sessionId},${encodeParameter(command, parameter.slice(comma + 1))}`;
}

const encoder = new TextEncoder();

/**
 * The request bytes for `command`: `{"command":…,"parameter":…}`, or `{"cmd":…}` for Whatsminer's
 * native commands. Validates the name and parameter and the 4 KB limit; throws UsageError.
 */
export function buildRequest(
  command: string,
  parameter?: string,
  options: { sessionPrefixed?: boolean } = {},
): Uint8Array {
  checkCommandName(command);
  let json: string;
  if (WHATSMINER_NATIVE_COMMANDS.has(command)) {
    if (parameter !== undefined) refuse(command, parameter, 'this Whatsminer command takes no parameter');
    json = JSON.stringify({ cmd: command });
  } else if (parameter === undefined) {
    json = JSON.stringify({ command });
  } else {
    const encoded = options.sessionPrefixed
      ? encodeSessionParameter(command, parameter)
      : encodeParameter(command, parameter);
    json = JSON.stringify({ command, parameter: encoded });
  }
  const bytes = encoder.encode(json);
  if (bytes.length > MAX_REQUEST_BYTES) {
    throw new UsageError(
      `request for ${command} is ${bytes.length} bytes; miners read at most ${MAX_REQUEST_BYTES}`,
    );
  }
  return bytes;
}
