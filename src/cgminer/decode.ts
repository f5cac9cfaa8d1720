// Bytes → DecodedReply. Pure and total: returns a reply or throws MinerError with kind `empty_reply`,
// `parse` or `protocol` (or `timeout`, only when given a deadline), nothing else (tested with
// fast-check on random bytes). Work is linear in the reply, whatever it holds.
//
// Decisions worth knowing:
// - Only the first NUL-terminated frame counts (cgminer 4.11.1 can send two, CGMINER-API.md §15).
// - Every JSON reply goes through the lenient parser (./lenient-json.ts), which repairs the §12
//   catalogue and keeps duplicate keys as `key`, `key#2`, …; `jsonrepair` is the last resort.
// - `Socket connect failed: …` (Whatsminer with btminer down, §1) means the API answered but the miner
//   process is down: it decodes as a 'bare' reply with STATUS E, so the client reports kind `api`
//   (the peer IS a cgminer API, so `protocol` would mislead).
// - A JSON reply with no STATUS at all is a `protocol` error (no CGMiner API answers so; nothing in
//   it says the command worked), except Whatsminer's encrypted `{"enc":…}`: status '', ok=true.
// - A STATUS that is there but unreadable (null, a number, `[]`, `[{}]`, a word that is no verdict
//   such as `X`) is a `parse` error: claiming success or an API error would be a guess.
// - Leading NULs are skipped and UTF-16 is read as such (./frame.ts); both are named as repairs.
import { createRequire } from 'node:module';
import { MinerError } from '../errors.js';
import { decodedWeight, MAX_WEIGHT_PER_CHAR } from './budget.js';
import { decodeFrameText, type Frame, firstFrame } from './frame.js';
import { excerpt, LenientSyntaxError, parseLenient, REPAIR } from './lenient-json.js';
import { parseTextReply } from './text-format.js';
import type { DecodedReply, ReplyHold, ReplyStatus } from './types.js';

export const REPAIR_INVALID_UTF8 = 'invalid utf-8';
export const REPAIR_JSONREPAIR = 'jsonrepair';
export const REPAIR_LEADING_NUL = 'leading NUL';
export const REPAIR_UTF16 = 'utf-16';
/** The peer neither sent the NUL nor closed; the bytes held a whole reply all the same. */
export const REPAIR_UNFINISHED = 'no end of reply';
/**
 * jsonrepair is quadratic on some hostile input (300 KB of `"` takes 30 s), so it only sees replies
 * up to this size; the largest real reply in the catalogue is ~49 KB (CGMINER-API.md §12 #23).
 */
export const JSONREPAIR_MAX_CHARS = 64 * 1024;

const OK_STATUSES = new Set(['S', 'I', 'RESTART', 'BYE']);
const NO_STATUS = 'JSON without a CGMiner STATUS';

/**
 * The reply was JSON but carried no STATUS at all. To a joined request this is how some firmware
 * garbles its answer rather than proof the peer is no miner: the client asks the commands singly.
 */
export function isNoStatusError(error: unknown): boolean {
  return error instanceof MinerError && error.kind === 'protocol' && error.message.startsWith(NO_STATUS);
}
/** Every verdict a STATUS may give (CGMINER-API.md §3); any other word is not one we can read. */
const VERDICTS = new Set([...OK_STATUSES, 'W', 'E', 'F']);

function isVerdict(word: string): boolean {
  return VERDICTS.has(word.toUpperCase());
}
/**
 * The one-line answers without an envelope that firmwares are known to give (CGMINER-API.md §12
 * #21): old Avalon's `failed` (or `ok`), btminer's `Socket connect failed: …` with its miner process
 * down. Any other line of text is not a CGMiner API answering (`protocol`), not an E from one.
 */
const BARE_WORD = /^(?:failed|ok|success|socket connect failed(?:: [A-Za-z0-9 _.,'-]{1,60})?)$/i;
const BARE_SUCCESS = /^(?:ok|success)$/i;
/** Words on one line, not ended yet. */
const UNFINISHED_WORDS = /^[A-Za-z][A-Za-z0-9 _.,:'!-]*$/;
/** `null`, `true`, a number: JSON, but never a reply (a string starts with `"` and is caught first). */
const JSON_SCALAR = /^(?:null|true|false|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*$/;
/** Banners of other services that answer on a miner's port. */
const FOREIGN = /^(?:HTTP\/\d|<|SSH-|220[ -]|\+OK|-ERR)/;

export interface DecodeOptions {
  /**
   * Stop with a `timeout` MinerError once `now()` passes this: linear is not instant, and a reply
   * holding a million keys costs V8 seconds to build. Without it decoding runs to the end.
   */
  deadline?: number;
  /** The clock `deadline` is on (default: performance.now(), monotonic). */
  now?: () => number;
  /**
   * Keep the received bytes on the reply as `raw`. Off by default: a collect cycle holds thousands of
   * replies, and their bytes would double what it keeps alive.
   */
  keepRaw?: boolean;
  /**
   * Charge the decoded reply here (its weight: ./budget.ts) once it is read; refused, the reply is
   * dropped at once and decoding throws `too_large`. A one-line bare reply is not charged.
   */
  hold?: ReplyHold;
  /**
   * Values the reply may decode to (maxReplyValues: ./budget.ts); past them decoding stops with
   * `too_large`, checked as the values are built. Without it any number is decoded.
   */
  maxValues?: number;
}

/** Charges a decoded reply to `hold` by its values and characters; throws `too_large` when refused. */
interface Weigh {
  (values: number, chars: number): void;
  /**
   * Before parsing `text` (JSON): refuses it unparsed when even the values its structure allows
   * cannot fit what the hold may still take. Parsing a hostile reply of 250 KB of `{}` costs 17 ms,
   * which a thousand such miners would pay every cycle; the bound is counted only for a reply long
   * enough that it could matter.
   */
  before(text: string): void;
}

function chargeTo(hold: ReplyHold): Weigh {
  const refuse = (values: number, weight: number) =>
    new MinerError(
      'too_large',
      `reply refused: it decodes to ${values} values (~${(weight / 2 ** 20).toFixed(1)} MiB), past its share of the replies held in flight`,
    );
  const weigh = (values: number, chars: number) => {
    const weight = decodedWeight(values, chars);
    if (!hold.take(weight)) throw refuse(values, weight);
  };
  weigh.before = (text: string) => {
    const room = hold.room();
    if (text.length * MAX_WEIGHT_PER_CHAR <= room) return;
    const values = jsonValuesAtMost(text);
    const weight = decodedWeight(values, text.length);
    if (weight > room) throw refuse(values, weight);
  };
  return weigh;
}

/**
 * Values well-formed JSON text can hold at most: the top-level one, one after each comma, and the
 * first of each container that is not closed at once (`{}`, `[]` hold none). Repaired text (commas
 * missing) may hold more: the charge after parsing still weighs what it did hold.
 */
function jsonValuesAtMost(text: string): number {
  let count = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2c) count++;
    else if (c === 0x7b) {
      if (text.charCodeAt(i + 1) !== 0x7d) count++;
    } else if (c === 0x5b && text.charCodeAt(i + 1) !== 0x5d) count++;
  }
  return count;
}

/** Values in a decoded reply (recursion within the parsers' depth limit). */
function countValues(value: unknown): number {
  if (value === null || typeof value !== 'object') return 1;
  let count = 1;
  if (Array.isArray(value)) for (const element of value) count += countValues(element);
  else for (const key in value) count += countValues((value as Record<string, unknown>)[key]);
  return count;
}

/** Decodes one reply to `command` (which may be a multi-command `a+b`). */
export function decodeReply(bytes: Uint8Array, command: string, options: DecodeOptions = {}): DecodedReply {
  const frame = firstFrame(bytes);
  const { deadline, now = () => performance.now(), keepRaw = false, hold, maxValues } = options;
  const checkValues =
    maxValues === undefined
      ? undefined
      : (values: number) => {
          if (values > maxValues) throw tooManyValues(maxValues);
        };
  const checkTime =
    deadline === undefined && checkValues === undefined
      ? undefined
      : (values: number) => {
          checkValues?.(values);
          if (deadline !== undefined && now() > deadline)
            throw new MinerError('timeout', 'decoding the reply ran past the deadline');
        };
  try {
    return decodeFrame(
      frame,
      command,
      keepRaw ? bytes : undefined,
      { checkTime, checkValues },
      hold === undefined ? undefined : chargeTo(hold),
    );
  } catch (error) {
    if (error instanceof MinerError) throw error;
    // Totality: whatever slipped through (a string too long for V8, say) is still a typed error.
    throw new MinerError('parse', `the reply could not be decoded (${(error as Error).message})`, {
      cause: error,
    });
  }
}

function tooManyValues(maxValues: number): MinerError {
  return new MinerError(
    'too_large',
    `reply decodes to more than ${maxValues} values (a miner's holds a few thousand; a larger --max-bytes allows more)`,
  );
}

/**
 * What stops a decode: `checkTime` is called by the parsers every few thousand values with the
 * values built so far, `checkValues` once with all of them (the parsers check only now and then).
 */
interface DecodeChecks {
  checkTime: ((values: number) => void) | undefined;
  checkValues: ((values: number) => void) | undefined;
}

function decodeFrame(
  frame: Frame,
  command: string,
  raw: Uint8Array | undefined,
  { checkTime, checkValues }: DecodeChecks,
  weigh: Weigh | undefined,
): DecodedReply {
  const { text: decoded, invalid } = decodeFrameText(frame);
  const repairs: string[] = [];
  if (frame.leadingNul) repairs.push(REPAIR_LEADING_NUL);
  if (frame.encoding !== 'utf-8') repairs.push(REPAIR_UTF16);
  if (invalid) repairs.push(REPAIR_INVALID_UTF8);
  const text = decoded.replace(/^[\s\uFEFF]+/, '');
  if (text === '') {
    throw new MinerError('empty_reply', 'the miner closed the connection without a reply');
  }
  const first = text[0];
  if (first === '{' || first === ',' || first === '[')
    return decodeJson(text, command, repairs, raw, { checkTime, checkValues }, weigh);
  if (text.startsWith('STATUS=') || text.startsWith('CMD=')) {
    const body = parseTextReply(text, command, repairs, checkTime);
    const reply = finish(command, 'text', body, repairs, raw);
    if (weigh !== undefined || checkValues !== undefined) {
      const values = countValues(body);
      checkValues?.(values);
      weigh?.(values, text.length);
    }
    return reply;
  }
  if (first === '"' || JSON_SCALAR.test(text))
    throw new MinerError('parse', 'the reply is JSON but not an object');
  // The first line is enough to classify the rest; a long reply is not copied whole.
  const line = firstLine(text);
  if (/^Socket connect failed/i.test(line)) {
    return bareReply(command, line, 'E', repairs, raw);
  }
  if (FOREIGN.test(line))
    throw new MinerError('protocol', `not a CGMiner API reply: ${describeForeign(line)}`);
  if (BARE_WORD.test(line) && line.length === text.trim().length)
    return bareReply(command, line, BARE_SUCCESS.test(line) ? 'S' : 'E', repairs, raw);
  throw new MinerError('protocol', `not a CGMiner API reply: ${describeForeign(line)}`);
}

function firstLine(text: string): string {
  const end = text.search(/[\r\n]/);
  return (end === -1 ? text.slice(0, 200) : text.slice(0, Math.min(end, 200))).trim();
}

/**
 * What the bytes of a reply that never ended are worth: the peer neither sent the NUL nor closed
 * before the deadline, or reset the connection after sending some. A reply when they hold a whole
 * one (a closed JSON object, text records up to a final `|`, a full line); the `protocol` error when
 * they show another service (an SSH or SMTP banner waits for us forever); otherwise null, and the
 * caller's own error (`timeout`, `reset`) stands.
 */
export function decodeUnfinished(
  bytes: Uint8Array,
  command: string,
  options: DecodeOptions = {},
): DecodedReply | MinerError | null {
  // Charged only once it is known to be kept (a reply still being written is dropped).
  const { hold, ...decodeOptions } = options;
  let reply: DecodedReply;
  try {
    reply = decodeReply(bytes, command, decodeOptions);
  } catch (error) {
    if (!(error instanceof MinerError) || error.kind !== 'protocol') return null;
    // Not a CGMiner API: a banner, binary, a finished line of text. Only a line of words still
    // being written may yet become `Socket connect failed: …`: for it, the deadline stands.
    const text = decodeFrameText(firstFrame(bytes)).text.trimStart();
    return UNFINISHED_WORDS.test(text) && !isForeignBanner(bytes) ? null : error;
  }
  if (reply.repairs.includes(REPAIR.truncated)) return null;
  if (reply.format !== 'json') {
    const text = decodeFrameText(firstFrame(bytes)).text;
    // Text records end at their last `|`, whatever line break follows it; a bare line at its break.
    const whole =
      reply.format === 'text' ? lastNonBlank(text, true) === '|' : /^[\r\n]$/.test(lastNonBlank(text));
    if (!whole) return null;
  }
  if (hold !== undefined && reply.format !== 'bare') {
    try {
      chargeTo(hold)(countValues(reply.body), bytes.length);
    } catch (error) {
      return error as MinerError;
    }
  }
  return { ...reply, repairs: [...reply.repairs, REPAIR_UNFINISHED] };
}

/**
 * The last character that is not a space or a tab (nor, with `lineBreaks`, a CR or LF; '' for
 * none). A loop, not `/[ \t]+$/`: that regex retries from every blank of a long run that does not
 * end the text, quadratic in the run (200 KB of spaces before a last letter took 35 s, 8 MiB would
 * take days, past any deadline).
 */
function lastNonBlank(text: string, lineBreaks = false): string {
  let end = text.length;
  for (; end > 0; end--) {
    const c = text.charCodeAt(end - 1);
    if (c !== 0x20 && c !== 0x09 && !(lineBreaks && (c === 0x0a || c === 0x0d))) break;
  }
  return end === 0 ? '' : (text[end - 1] as string);
}

/**
 * Whether bytes that never ended begin like another service's banner (SSH, SMTP, HTTP): such a peer
 * waits for us forever, so what it sent is already the answer (`protocol`), not a deadline.
 */
export function isForeignBanner(bytes: Uint8Array): boolean {
  const text = decodeFrameText(firstFrame(bytes)).text.replace(/^[\s\uFEFF]+/, '');
  return FOREIGN.test(firstLine(text));
}

function describeForeign(text: string): string {
  if (/^HTTP\/\d/.test(text)) return `the peer speaks HTTP (${text.split(/\r?\n/)[0]?.slice(0, 60)})`;
  if (text.startsWith('<')) return 'the peer sent HTML';
  if (text.startsWith('SSH-')) return 'the peer is an SSH server';
  // A TLS record header (alert 0x15, handshake 0x16, version 3.x): the port is encrypted.
  if (/^[\x15\x16]\x03[\x00-\x04]?/.test(text)) return 'the peer speaks TLS (an encrypted port)';
  const printable = text.slice(0, 40).replace(/[^\x20-\x7e]/g, '.');
  return `'${printable}'${text.length > 40 ? '…' : ''}`;
}

function bareReply(
  command: string,
  line: string,
  status: 'S' | 'E',
  repairs: string[],
  raw: Uint8Array | undefined,
): DecodedReply {
  return {
    command,
    format: 'bare',
    status: { status, code: null, msg: line, description: null, when: null },
    ok: status === 'S',
    body: { STATUS: status, Msg: line },
    repairs,
    ...(raw === undefined ? {} : { raw }),
  };
}

function decodeJson(
  text: string,
  command: string,
  repairs: string[],
  raw: Uint8Array | undefined,
  { checkTime, checkValues }: DecodeChecks,
  weigh: Weigh | undefined,
): DecodedReply {
  weigh?.before(text);
  let result: ReturnType<typeof parseLenient>;
  try {
    result = parseLenient(text, { checkTime });
  } catch (error) {
    if (!(error instanceof LenientSyntaxError)) throw error;
    result = lastResort(text, error, checkTime);
    repairs.push(REPAIR_JSONREPAIR);
  }
  checkValues?.(result.values);
  repairs.push(...result.repairs);
  const value = result.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MinerError('parse', 'the reply is JSON but not an object');
  }
  const body = value as Record<string, unknown>;
  if (result.truncated && isEmpty(body)) {
    throw new MinerError('parse', 'the reply was cut off before any complete field');
  }
  // Cut off before its STATUS could be read: nothing says whether the command worked.
  const cutBeforeStatus = () => new MinerError('parse', 'the reply was cut off before its STATUS');
  let reply: DecodedReply;
  try {
    reply = finish(command, 'json', body, repairs, raw);
  } catch (error) {
    throw result.truncated ? cutBeforeStatus() : error;
  }
  if (result.truncated && reply.status.status === '') throw cutBeforeStatus();
  weigh?.(result.values, text.length);
  return reply;
}

/** Set by esbuild (scripts/build.mjs); undefined when run from source (tests, tsx). */
declare const __HASHCTL_SEA__: boolean | undefined;

type JsonRepair = typeof import('jsonrepair').jsonrepair;
let jsonrepairFn: JsonRepair | undefined;

function loadJsonrepair(): JsonRepair {
  if (typeof __HASHCTL_SEA__ === 'boolean') {
    // Bundled: esbuild resolves this literal require (embedded in the SEA, external otherwise).
    return (require('jsonrepair') as typeof import('jsonrepair')).jsonrepair;
  }
  return (createRequire(import.meta.url)('jsonrepair') as typeof import('jsonrepair')).jsonrepair;
}

/** jsonrepair, loaded on first use: a handful of replies ever need it, every start would pay for it. */
function jsonrepair(text: string): string {
  jsonrepairFn ??= loadJsonrepair();
  return jsonrepairFn(text);
}

function lastResort(
  text: string,
  original: LenientSyntaxError,
  checkTime: ((values: number) => void) | undefined,
): ReturnType<typeof parseLenient> {
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
    return parseLenient(repaired, { checkTime });
  } catch (error) {
    if (error instanceof MinerError) throw error;
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
  raw: Uint8Array | undefined,
): DecodedReply {
  const hasStatus = findStatusKey(body) !== undefined;
  const members = hasStatus ? [] : multiMembers(body);
  const status = members.length > 0 ? combinedStatus(members) : readStatus(body);
  if (hasStatus && !isVerdict(status.status)) {
    const shown = excerpt(status.status) || describeValue(body[findStatusKey(body) as string]);
    throw new MinerError('parse', `the reply's STATUS cannot be read (${shown})`);
  }
  // JSON with no STATUS anywhere (`{}`, `{"error":"Unauthorized"}`, an echo of the request) is not
  // a CGMiner API answering, and says nothing about the command: never a success. Whatsminer's
  // encrypted envelope is the one real reply without one (its STATUS is inside the cipher text).
  if (format === 'json' && status.status === '' && members.length === 0 && !Object.hasOwn(body, 'enc')) {
    const keys = Object.keys(body)
      .slice(0, 4)
      .map((key) => excerpt(key))
      .join(', ');
    throw new MinerError('protocol', `${NO_STATUS} (keys: ${keys || 'none'})`);
  }
  const reply: DecodedReply = {
    command,
    format,
    status,
    ok: isOkStatus(status),
    body,
    repairs: unique(repairs),
  };
  if (raw !== undefined) reply.raw = raw;
  return reply;
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list without a status';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object without a status';
  return `${typeof value} ${String(value).slice(0, 20)}`;
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

function isEmpty(object: Record<string, unknown>): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return false;
  return true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A STATUS verdict is a word (`S`, `E`, `RESTART`…); a number, boolean or blank is not readable. */
function asVerdict(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

function statusFromObject(entry: Record<string, unknown>): ReplyStatus {
  return {
    status: asVerdict(pick(entry, 'STATUS', 'Status', 'status')),
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
    return { ...flat, status: asVerdict(entry) };
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
  // for…in rather than Object.entries: a hostile reply with a million keys must not be copied.
  for (const key in body) {
    if (key === 'id' || !Object.hasOwn(body, key)) continue;
    const value = body[key];
    const entry = Array.isArray(value) ? value[0] : undefined;
    // Upper-case STATUS only: a POOLS entry has a `Status` field and is not a member.
    if (isRecord(entry) && Object.hasOwn(entry, 'STATUS')) members.push([key, entry]);
  }
  return members;
}

/** A member's STATUS; one that is there but cannot be read is an error, never a silent ok. */
function memberStatus(member: Record<string, unknown>): ReplyStatus {
  const status = readStatus(member);
  if (isVerdict(status.status)) return status;
  return {
    status: 'E',
    code: null,
    msg: `the reply's STATUS cannot be read (${excerpt(status.status) || describeValue(member.STATUS)})`,
    description: null,
    when: null,
    unreadable: true,
  };
}

function combinedStatus(members: [string, Record<string, unknown>][]): ReplyStatus {
  const statuses = members.map(([, member]) => memberStatus(member));
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
 * firmware left out is simply absent; a reply that is not in the keyed layout yields none.
 */
export function splitMultiReply(reply: DecodedReply): Record<string, DecodedReply> {
  // Keyed by the miner's names: no prototype, so a member named `__proto__` is a member (on a plain
  // object it became the prototype, and lookups of `status` or `body` found its fields).
  const out = Object.create(null) as Record<string, DecodedReply>;
  if (findStatusKey(reply.body) !== undefined) return out;
  for (const [name, member] of multiMembers(reply.body)) {
    const status = memberStatus(member);
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
