// Bytes → DecodedReply. Pure and total: returns a reply or throws MinerError with kind `empty_reply`,
// `parse` or `protocol`, nothing else (tested with fast-check on random bytes).
//
// Decisions worth knowing:
// - Only the first NUL-terminated frame counts (cgminer 4.11.1 can send two, CGMINER-API.md §15).
// - Every JSON reply goes through the lenient parser (./lenient-json.ts), which repairs the §12
//   catalogue and keeps duplicate keys as `key`, `key#2`, …; `jsonrepair` is the last resort.
// - `Socket connect failed: …` (Whatsminer with btminer down, §1) means the API answered but the miner
//   process is down: it decodes as a 'bare' reply with STATUS E, so the client reports kind `api`
//   (the peer IS a cgminer API, so `protocol` would mislead).
// - A reply with no STATUS at all (Whatsminer `{"enc":…}`, or `{"id":1}` left by a leading-comma
//   reply) decodes with status '' and ok=true: nothing in it says the command failed.
import { jsonrepair } from 'jsonrepair';
import { MinerError } from '../errors.js';
import type { DecodedReply, ReplyStatus } from './types.js';
import { decodeUtf8, firstFrame } from './frame.js';
import { LenientSyntaxError, parseLenient } from './lenient-json.js';
import { parseTextReply } from './text-format.js';

export const REPAIR_INVALID_UTF8 = 'invalid utf-8';
export const REPAIR_JSONREPAIR = 'jsonrepair';
/**
 * jsonrepair is quadratic on some hostile input (300 KB of `"` takes 30 s), so it only sees replies
 * up to this size; the largest real reply in the catalogue is ~49 KB (CGMINER-API.md §12 #23).
 */
export const JSONREPAIR_MAX_CHARS = 64 * 1024;

const OK_STATUSES = new Set(['S', 'I', 'RESTART', 'BYE']);
/** A one-line answer with no envelope, like old Avalon's `failed`. */
const BARE_WORD = /^[A-Za-z][A-Za-z0-9 _.,:'!-]{0,79}$/;
const BARE_SUCCESS = /^(?:ok|success)$/i;
/** Banners of other services that answer on a miner's port. */
const FOREIGN = /^(?:HTTP\/\d|<|SSH-|220[ -]|\+OK|-ERR)/;

/** Decodes one reply to `command` (which may be a multi-command `a+b`). */
export function decodeReply(bytes: Uint8Array, command: string): DecodedReply {
  const frame = firstFrame(bytes);
  const { text: decoded, invalid } = decodeUtf8(frame.bytes);
  const repairs: string[] = invalid ? [REPAIR_INVALID_UTF8] : [];
  const text = decoded.replace(/^[\s\uFEFF]+/, '');
  if (text.trim() === '') {
    throw new MinerError('empty_reply', 'the miner closed the connection without a reply');
  }
  const first = text[0];
  if (first === '{' || first === ',' || first === '[') return decodeJson(text, command, repairs, bytes);
  if (text.startsWith('STATUS=') || text.startsWith('CMD=')) {
    const body = parseTextReply(text, command);
    return finish(command, 'text', body, repairs, bytes);
  }
  const line = text.trim();
  if (/^Socket connect failed/i.test(line)) {
    return bareReply(command, line, 'E', repairs, bytes);
  }
  if (FOREIGN.test(line))
    throw new MinerError('protocol', `not a CGMiner API reply: ${describeForeign(line)}`);
  if (BARE_WORD.test(line))
    return bareReply(command, line, BARE_SUCCESS.test(line) ? 'S' : 'E', repairs, bytes);
  throw new MinerError('protocol', `not a CGMiner API reply: ${describeForeign(line)}`);
}

function describeForeign(text: string): string {
  if (/^HTTP\/\d/.test(text)) return `the peer speaks HTTP (${text.split(/\r?\n/)[0]?.slice(0, 60)})`;
  if (text.startsWith('<')) return 'the peer sent HTML';
  if (text.startsWith('SSH-')) return 'the peer is an SSH server';
  const printable = text.slice(0, 40).replace(/[^\x20-\x7e]/g, '.');
  return `'${printable}'${text.length > 40 ? '…' : ''}`;
}

function bareReply(
  command: string,
  line: string,
  status: 'S' | 'E',
  repairs: string[],
  raw: Uint8Array,
): DecodedReply {
  return {
    command,
    format: 'bare',
    status: { status, code: null, msg: line, description: null, when: null },
    ok: status === 'S',
    body: { STATUS: status, Msg: line },
    repairs,
    raw,
  };
}

function decodeJson(text: string, command: string, repairs: string[], raw: Uint8Array): DecodedReply {
  let result: ReturnType<typeof parseLenient>;
  try {
    result = parseLenient(text);
  } catch (error) {
    if (!(error instanceof LenientSyntaxError)) throw error;
    result = lastResort(text, error);
    repairs.push(REPAIR_JSONREPAIR);
  }
  repairs.push(...result.repairs);
  const value = result.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MinerError('parse', 'the reply is JSON but not an object');
  }
  const body = value as Record<string, unknown>;
  if (result.truncated && Object.keys(body).length === 0) {
    throw new MinerError('parse', 'the reply was cut off before any complete field');
  }
  const reply = finish(command, 'json', body, repairs, raw);
  // Cut off before its STATUS could be read: nothing says whether the command worked.
  if (result.truncated && reply.status.status === '') {
    throw new MinerError('parse', 'the reply was cut off before its STATUS');
  }
  return reply;
}

function lastResort(text: string, original: LenientSyntaxError): ReturnType<typeof parseLenient> {
  if (original.tooDeep || text.length > JSONREPAIR_MAX_CHARS) {
    throw new MinerError('parse', `reply is not valid JSON (${original.message})`, { cause: original });
  }
  let repaired: string;
  try {
    repaired = jsonrepair(text);
  } catch {
    throw new MinerError('parse', `reply is not valid JSON even after repair (${original.message})`, {
      cause: original,
    });
  }
  try {
    return parseLenient(repaired);
  } catch {
    throw new MinerError('parse', `reply is not valid JSON even after repair (${original.message})`, {
      cause: original,
    });
  }
}

function finish(
  command: string,
  format: DecodedReply['format'],
  body: Record<string, unknown>,
  repairs: string[],
  raw: Uint8Array,
): DecodedReply {
  const members = multiMembers(body);
  const status =
    members.length > 0 && findStatusKey(body) === undefined ? combinedStatus(members) : readStatus(body);
  return { command, format, status, ok: isOkStatus(status), body, repairs: unique(repairs), raw };
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

export function isOkStatus(status: ReplyStatus): boolean {
  return status.status === '' || OK_STATUSES.has(status.status.toUpperCase());
}

function findStatusKey(body: Record<string, unknown>): string | undefined {
  for (const key of ['STATUS', 'Status', 'status']) if (Object.hasOwn(body, key)) return key;
  return undefined;
}

function pick(object: Record<string, unknown>, ...keys: string[]): unknown {
  for (const key of keys) if (Object.hasOwn(object, key)) return object[key];
  return undefined;
}

function asNumber(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return null;
}

function asText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function statusFromObject(entry: Record<string, unknown>, fallbackStatus = ''): ReplyStatus {
  const letter = asText(pick(entry, 'STATUS', 'Status', 'status'));
  return {
    status: letter ?? fallbackStatus,
    code: asNumber(pick(entry, 'Code', 'code', 'CODE')),
    msg: asText(pick(entry, 'Msg', 'msg', 'MSG')),
    description: asText(pick(entry, 'Description', 'description', 'desc')),
    when: asNumber(pick(entry, 'When', 'when')),
  };
}

/** The STATUS of one reply object, whatever shape the firmware used (CGMINER-API.md §3, §12 #20). */
export function readStatus(body: Record<string, unknown>): ReplyStatus {
  const key = findStatusKey(body);
  if (key !== undefined) {
    const raw = body[key];
    const entry = Array.isArray(raw) ? raw[0] : raw;
    if (isRecord(entry)) return statusFromObject(entry); // upstream array, or new_api object
    // String STATUS: quit/restart (`BYE`/`RESTART`) and Whatsminer btminer-native (`S` + object Msg).
    const flat = statusFromObject(body);
    return { ...flat, status: asText(entry) ?? '' };
  }
  // Whatsminer v3: `{"code":0,"when":…,"desc":…,"msg":{…}}`.
  const code = asNumber(body.code);
  if (code !== null) {
    const flat = statusFromObject(body);
    return { ...flat, status: code === 0 ? 'S' : 'E' };
  }
  // Pre-3.5 cgminer answered quit/restart with `{"BYE","id":1}`.
  for (const word of ['BYE', 'RESTART']) {
    if (Object.hasOwn(body, word))
      return { status: word, code: null, msg: null, description: null, when: null };
  }
  return { status: '', code: null, msg: null, description: null, when: null };
}

/** `[name, memberObject]` for each `"name":[{…STATUS…}]` entry of a multi-command reply. */
function multiMembers(body: Record<string, unknown>): [string, Record<string, unknown>][] {
  const members: [string, Record<string, unknown>][] = [];
  for (const [key, value] of Object.entries(body)) {
    if (key === 'id') continue;
    const entry = Array.isArray(value) ? value[0] : undefined;
    // Upper-case STATUS only: a POOLS entry has a `Status` field and is not a member.
    if (isRecord(entry) && Object.hasOwn(entry, 'STATUS')) members.push([key, entry]);
  }
  return members;
}

function combinedStatus(members: [string, Record<string, unknown>][]): ReplyStatus {
  const statuses = members.map(([, member]) => readStatus(member));
  const failed = statuses.find((status) => !isOkStatus(status));
  if (failed) return failed;
  const first = statuses[0];
  return {
    status: 'S',
    code: null,
    msg: null,
    description: first?.description ?? null,
    when: first?.when ?? null,
  };
}

/**
 * The members of a multi-command reply (`{"summary":[{…}],"pools":[{…}],"id":1}`, or the text form
 * with `CMD=` sections), each as its own DecodedReply keyed by the name as requested. A member the
 * firmware left out is simply absent; a reply that is not in the keyed layout yields `{}`.
 */
export function splitMultiReply(reply: DecodedReply): Record<string, DecodedReply> {
  const out: Record<string, DecodedReply> = {};
  if (findStatusKey(reply.body) !== undefined) return out;
  for (const [name, member] of multiMembers(reply.body)) {
    const status = readStatus(member);
    out[name] = {
      command: name,
      format: reply.format,
      status,
      ok: isOkStatus(status),
      body: member,
      repairs: [...reply.repairs],
    };
  }
  return out;
}
