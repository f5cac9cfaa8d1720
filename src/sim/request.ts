// Reading one request the way cgminer's api.c does (§2): JSON iff the first byte is `{`, keys
// `command`/`parameter` (string, integer as %d, real as %f, anything else ignored); otherwise plain
// text `command|parameter` split at the first `|`.
import type { Status } from './types.js';

export interface SimRequest {
  json: boolean;
  /** The command as typed (may be a multi-command `a+b`); null for native/erroneous requests. */
  command: string | null;
  parameter: string | null;
  newApi: boolean;
  /** Whatsminer btminer-native `{"cmd":…}` (or `{"enc":…}`) request. */
  native: { cmd: string; body: Record<string, unknown> } | null;
  /** Set when the request itself is unusable: E/23, E/24 or E/14 (§2.1). */
  error: Status | null;
}

export function isJsonRequest(bytes: Buffer): boolean {
  return bytes.length > 0 && bytes[0] === 0x7b;
}

/** Tries to parse a JSON request; undefined while it may still be incomplete. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Whether a JSON request that does not parse is over all the same: its top-level object closed (junk
 * follows it, or a second request) or a NUL ended it. cgminer reads a request in one `recv` and
 * answers what it got (E/23 for both, jansson's "end of file expected"); waiting for more bytes
 * held such a client until the idle close, with no reply at all.
 */
export function jsonRequestEnded(bytes: Buffer): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === 0x00) return true;
    if (inString) {
      if (byte === 0x5c) i++;
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) depth++;
    else if ((byte === 0x7d || byte === 0x5d) && --depth === 0) return true;
  }
  return false;
}

export function parseRequest(text: string, json: boolean, parsed?: unknown): SimRequest {
  if (!json) {
    // The buffer is a C string: a NUL ends the command (`summary\0` is `summary`).
    const nul = text.indexOf('\0');
    const line = nul < 0 ? text : text.slice(0, nul);
    // Upstream does not strip a trailing newline, but `echo cmd | nc` users expect it to work.
    const bar = line.indexOf('|');
    const command = (bar < 0 ? line : line.slice(0, bar)).replace(/[\r\n]+$/, '');
    return {
      json,
      command,
      parameter: bar < 0 ? null : line.slice(bar + 1),
      newApi: false,
      native: null,
      error: null,
    };
  }
  const body = parsed === undefined ? tryParseJson(text) : parsed;
  const base: SimRequest = { json, command: null, parameter: null, newApi: false, native: null, error: null };
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ...base, error: { STATUS: 'E', Code: 23, Msg: 'Invalid JSON' } };
  }
  const record = body as Record<string, unknown>;
  const command = record.command;
  if (command === undefined) {
    if (typeof record.cmd === 'string') return { ...base, native: { cmd: record.cmd, body: record } };
    if (record.enc !== undefined) return { ...base, native: { cmd: '', body: record } };
    return { ...base, error: { STATUS: 'E', Code: 24, Msg: "Missing JSON 'command'" } };
  }
  if (typeof command !== 'string')
    return { ...base, error: { STATUS: 'E', Code: 14, Msg: 'Invalid command' } };
  return { ...base, command, parameter: formatParameter(record.parameter), newApi: record.new_api === true };
}

function formatParameter(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) {
    return Number.isInteger(value) ? String(value) : value.toFixed(6);
  }
  return null;
}
