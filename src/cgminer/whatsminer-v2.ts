// Whatsminer API v2 writes (CGMINER-API.md §13.1): `get_token` in plaintext, then the write as
// `{"enc":1,"data":base64(AES-256-ECB(json with "token"))}`, the reply `{"enc":…}` decrypted the
// same way. Key material: key = md5crypt(password, salt) (hash field), sign = md5crypt(key + time,
// newsalt) (hash field), aeskey = SHA-256(key). Everything with node:crypto; no other dependency.
//
// The token request goes through the client (retried as the read it is). The encrypted write opens
// its own connection through `exchange()`, because the client only builds `{"command"|"cmd":…}`
// requests; it is sent at most once after a byte of it has left, like every write (hashctl.md §4).
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { sleep as defaultSleep } from '../context.js';
import { HashctlError, MinerError, UsageError } from '../errors.js';
import type { Target } from '../targets/types.js';
import { maxReplyValues } from './budget.js';
import { clipMessage } from './client.js';
import { type ExchangeResult, exchange } from './connection.js';
import { decodeReply, decodeUnfinished } from './decode.js';
import { MAX_REQUEST_BYTES } from './escape.js';
import { LenientSyntaxError } from './lenient-json.js';
import { cancellableSleep, DEFAULT_RETRY_POLICY, notSentInterrupted, withRetry } from './retry.js';
import type { DecodedReply, MinerClient } from './types.js';

// ------------------------------------------------------------------------------------- md5-crypt

const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** What md5-crypt accepts as salt (at most 8 characters are used; `$` would end it). */
const SALT = /^[./0-9A-Za-z]{1,8}$/;

function md5(...parts: Buffer[]): Buffer {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** `v` as `count` characters of the crypt alphabet, least significant 6 bits first. */
function to64(v: number, count: number): string {
  let out = '';
  let value = v;
  for (let i = 0; i < count; i++) {
    out += CRYPT_ALPHABET[value & 0x3f];
    value >>>= 6;
  }
  return out;
}

/**
 * MD5-crypt (`$1$salt$hash`, as `openssl passwd -1 -salt SALT PASSWORD`), after Poul-Henning
 * Kamp's FreeBSD original: the password and salt are mixed, then stirred 1000 rounds.
 */
export function md5crypt(password: string, salt: string): string {
  if (!SALT.test(salt)) throw new UsageError(`invalid md5-crypt salt '${salt.slice(0, 16)}'`);
  const pw = Buffer.from(password, 'utf8');
  const saltBytes = Buffer.from(salt, 'ascii');
  const magic = Buffer.from('$1$', 'ascii');
  const alternate = md5(pw, saltBytes, pw);
  const parts: Buffer[] = [pw, magic, saltBytes];
  for (let left = pw.length; left > 0; left -= 16) parts.push(alternate.subarray(0, Math.min(16, left)));
  // The original hashes one byte per bit of the length: a NUL for a 1 bit, the first password byte for a 0.
  for (let bits = pw.length; bits > 0; bits >>>= 1) {
    parts.push(bits & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  }
  let digest = md5(...parts);
  for (let round = 0; round < 1000; round++) {
    const stir: Buffer[] = [round & 1 ? pw : digest];
    if (round % 3 !== 0) stir.push(saltBytes);
    if (round % 7 !== 0) stir.push(pw);
    stir.push(round & 1 ? digest : pw);
    digest = md5(...stir);
  }
  const d = (i: number) => digest[i] as number;
  const hash =
    to64((d(0) << 16) | (d(6) << 8) | d(12), 4) +
    to64((d(1) << 16) | (d(7) << 8) | d(13), 4) +
    to64((d(2) << 16) | (d(8) << 8) | d(14), 4) +
    to64((d(3) << 16) | (d(9) << 8) | d(15), 4) +
    to64((d(4) << 16) | (d(10) << 8) | d(5), 4) +
    to64(d(11), 2);
  return `$1$${salt}$${hash}`;
}

/** The hash field (4th `$`-separated part) of md5crypt(password, salt). */
function cryptHash(password: string, salt: string): string {
  return md5crypt(password, salt).split('$')[3] as string;
}

// ------------------------------------------------------------------------------------ key and AES

/** The token material `get_token` hands out (`Msg` of a Code 134 reply). */
export interface WhatsminerToken {
  time: string;
  salt: string;
  newsalt: string;
}

export interface WhatsminerKeys {
  /** md5crypt(password, salt) hash field; the AES key is its SHA-256. */
  key: string;
  /** md5crypt(key + time, newsalt) hash field: the `token` value of an encrypted request. */
  sign: string;
  aesKey: Buffer;
}

export function deriveKeys(password: string, token: WhatsminerToken): WhatsminerKeys {
  const key = cryptHash(password, token.salt);
  // The vendor doc's `${time:0-4}` is the last 4 characters; the reference clients and every
  // captured token use the whole (4-digit) string (§13.1).
  const sign = cryptHash(key + token.time, token.newsalt);
  return { key, sign, aesKey: createHash('sha256').update(key, 'utf8').digest() };
}

/** AES-256-ECB over `plaintext` padded with NULs to a whole block (no padding when it fits). */
export function aesEncrypt(aesKey: Buffer, plaintext: string): string {
  const bytes = Buffer.from(plaintext, 'utf8');
  const padded = Buffer.alloc(Math.ceil(bytes.length / 16) * 16);
  bytes.copy(padded);
  const cipher = createCipheriv('aes-256-ecb', aesKey, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

/** A base64 digit: A-Z, a-z, 0-9, `+`, `/`. */
function isBase64Digit(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2b ||
    c === 0x2f
  );
}

/**
 * Whole groups of four base64 digits, the last one padded with at most two `=`. A loop, not
 * `/^(?:[A-Za-z0-9+/]{4})*…$/`: V8 runs that regexp out of stack on 5 MB of base64 (within the
 * default --max-bytes), and the RangeError ended the whole control run instead of failing one miner.
 */
function isBase64(text: string): boolean {
  if (text.length % 4 !== 0) return false;
  let end = text.length;
  if (text.endsWith('==')) end -= 2;
  else if (text.endsWith('=')) end -= 1;
  for (let i = 0; i < end; i++) if (!isBase64Digit(text.charCodeAt(i))) return false;
  return true;
}

/** Decrypts a base64 AES-256-ECB blob and strips the trailing NUL padding. Throws MinerError('parse'). */
export function aesDecrypt(aesKey: Buffer, base64: string): Buffer {
  const compact = base64.replace(/\s+/g, '');
  if (!isBase64(compact)) throw new MinerError('parse', 'the encrypted reply is not base64');
  const data = Buffer.from(compact, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) {
    throw new MinerError('parse', `the encrypted reply is ${data.length} bytes, not whole AES blocks`);
  }
  const decipher = createDecipheriv('aes-256-ecb', aesKey, null);
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(data), decipher.final()]);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  return plain.subarray(0, end);
}

// -------------------------------------------------------------------------------- request and reply

const COMMAND = /^[a-z][a-z0-9_]{0,63}$/;
const FIELD = /^[a-z][a-z0-9_]{0,31}$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The plaintext JSON of an encrypted request: `{"cmd":…, …fields, "token":sign}`. Throws UsageError. */
export function plaintextRequest(
  cmd: string,
  fields: Readonly<Record<string, string>>,
  sign: string,
): string {
  if (!COMMAND.test(cmd)) throw new UsageError(`invalid Whatsminer command '${cmd.slice(0, 40)}'`);
  const body: Record<string, string> = { cmd };
  for (const [name, value] of Object.entries(fields)) {
    if (!FIELD.test(name) || name === 'cmd' || name === 'token') {
      throw new UsageError(`invalid field '${name.slice(0, 40)}' for Whatsminer ${cmd}`);
    }
    if (typeof value !== 'string' || CONTROL.test(value)) {
      throw new UsageError(`cannot send Whatsminer ${cmd}: field ${name} holds a control character`);
    }
    body[name] = value;
  }
  body.token = sign;
  return JSON.stringify(body);
}

/** `{"enc":1,"data":"<base64>"}` for `plaintext`, checked against the 4 KB request limit. */
export function encryptedRequest(aesKey: Buffer, plaintext: string): Uint8Array {
  const bytes = Buffer.from(JSON.stringify({ enc: 1, data: aesEncrypt(aesKey, plaintext) }), 'utf8');
  if (bytes.length > MAX_REQUEST_BYTES) {
    throw new UsageError(
      `the encrypted request is ${bytes.length} bytes; miners read at most ${MAX_REQUEST_BYTES}`,
    );
  }
  return bytes;
}

/**
 * The reply to an encrypted request: `{"enc":…}` decrypted and decoded, or the plaintext STATUS
 * a miner sends when it could not read the request (E/135, E/137). Throws MinerError.
 */
export function decodeEncryptedReply(
  bytes: Uint8Array,
  cmd: string,
  aesKey: Buffer,
  /**
   * Values the reply may decode to (maxReplyValues of --max-bytes, as the client's reads), outside
   * and decrypted alike: past them it is `too_large`. Without it any number is decoded.
   */
  maxValues?: number,
): DecodedReply {
  const limit = maxValues === undefined ? {} : { maxValues };
  const outer = decodeReply(bytes, cmd, limit);
  const enc = outer.body.enc;
  if (typeof enc === 'string') {
    const inner = aesDecrypt(aesKey, enc);
    try {
      const reply = decodeReply(inner, cmd, limit);
      if (reply.status.status === '') throw new MinerError('parse', 'no STATUS');
      return { ...reply, raw: outer.raw ?? bytes };
    } catch (error) {
      if (!(error instanceof MinerError)) throw error;
      // It did decrypt: what the reply holds is past the caps, not sealed with another key.
      if (error.kind === 'too_large' || (error.cause instanceof LenientSyntaxError && error.cause.tooDeep))
        throw new MinerError(error.kind, `the decrypted reply: ${error.message}`, {
          cause: error,
          requestSent: true,
        });
      throw new MinerError(
        'parse',
        'the encrypted reply did not decrypt to a miner reply (a different key?)',
        {
          requestSent: true,
        },
      );
    }
  }
  if (outer.status.status !== '') return outer;
  throw new MinerError('protocol', 'the reply to an encrypted request is neither encrypted nor a STATUS');
}

// ------------------------------------------------------------------------------------------- errors

/** A plain-words MinerError for a Whatsminer STATUS that is not S (§13.1 codes). */
export function whatsminerStatusError(reply: DecodedReply, cmd: string): MinerError {
  const { status, code } = reply.status;
  // Clipped as the client clips every miner message: a hostile 600 KB Msg is not a 600 KB line.
  const msg = reply.status.msg === null ? null : clipMessage(reply.status.msg);
  const label = code === null ? status || 'error' : `${status}/${code}`;
  const said = `${label}${msg ? ` ${msg}` : ''}`;
  let kind: 'denied' | 'api' = 'api';
  let text: string;
  switch (code) {
    case 45:
      kind = 'denied';
      text = `${cmd}: the miner refused the write (${said}): its write API is disabled (enable it in WhatsMinerTool)`;
      break;
    case 135:
      kind = 'denied';
      text = `${cmd}: the miner rejected the token (${said}): wrong admin password?`;
      break;
    case 136:
      text = `${cmd}: the miner has handed out too many tokens (${said}); they expire after 30 minutes`;
      break;
    case 137:
      text = `${cmd}: the miner could not decode the encrypted request (${said})`;
      break;
    case 14:
      text = `${cmd}: the miner does not know this command (${said})`;
      break;
    default:
      text = `${cmd}: miner answered ${said || 'an error'}`;
  }
  return new MinerError(kind, text, { code, apiMessage: msg, requestSent: true });
}

// ------------------------------------------------------------------------------------------- token

const TOKEN_TIME = /^\d{1,16}$/;

/** Asks the miner for token material. Never marks the caller's write as sent. Throws MinerError. */
export async function getToken(
  client: MinerClient,
  target: Target,
  options: { signal?: AbortSignal } = {},
): Promise<WhatsminerToken> {
  let reply: DecodedReply;
  try {
    reply = await client.request(target, 'get_token', {
      // Never re-sent once it left: every token spends the miner's per-IP quota (§13.1).
      write: true,
      allowErrorStatus: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (!(error instanceof MinerError)) throw error;
    // Whatever happened to get_token, the write itself has not left.
    const wrapped = new MinerError(error.kind, `get_token: ${error.message}`, {
      cause: error,
      code: error.code,
      apiMessage: error.apiMessage,
      requestSent: false,
    });
    wrapped.attempts = error.attempts;
    throw wrapped;
  }
  const msg = reply.body.Msg;
  if (typeof msg === 'string' && /over max connect/i.test(msg)) {
    throw new MinerError(
      'api',
      'get_token: the miner answered "over max connect": too many clients or tokens; try again later',
      { code: reply.status.code, apiMessage: clipMessage(msg), requestSent: false },
    );
  }
  if (!reply.ok) {
    const error = whatsminerStatusError(reply, 'get_token');
    error.requestSent = false;
    throw error;
  }
  const record = msg !== null && typeof msg === 'object' ? (msg as Record<string, unknown>) : {};
  const { time, salt, newsalt } = record;
  if (
    typeof time !== 'string' ||
    typeof salt !== 'string' ||
    typeof newsalt !== 'string' ||
    !TOKEN_TIME.test(time) ||
    !SALT.test(salt) ||
    !SALT.test(newsalt)
  ) {
    throw new MinerError('protocol', 'get_token: the reply holds no usable time/salt/newsalt', {
      requestSent: false,
    });
  }
  return { time, salt, newsalt };
}

// ------------------------------------------------------------------------------------------- write

export interface WhatsminerWrite {
  /** The btminer command, e.g. `power_off`. */
  cmd: string;
  /** Its fields, as strings (the vendor doc types them so), e.g. `{ respbefore: 'true' }`. */
  params?: Readonly<Record<string, string>>;
  /** The miner's admin password. Used only to derive keys; never sent, never in an error. */
  password: string;
}

export interface WhatsminerWriteOptions {
  /** Deadline of the encrypted exchange (connect, write, read), as the client's --timeout. */
  timeoutMs: number;
  /** Defaults to min(timeoutMs, 3000), as the client's. */
  connectTimeoutMs?: number;
  maxBytes: number;
  signal?: AbortSignal;
  /**
   * Ctrl-C: stops the write before it leaves (get_token is cut, a retry's backoff ends, no attempt
   * starts), as HashctlError('interrupted'); an encrypted request on the wire is finished.
   */
  cancel?: AbortSignal;
  /** Return a decrypted STATUS E reply instead of throwing. */
  allowErrorStatus?: boolean;
  /** Tries again while none of the write has left (refused, connect timeout); never once sent. */
  retries?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  onRaw?: (bytes: Uint8Array) => void;
  /** Host-name resolution for the connect (absent: the system resolver), as the client's. */
  lookup?: import('node:net').LookupFunction;
}

function replyOf(result: ExchangeResult, cmd: string, aesKey: Buffer, maxValues: number): DecodedReply {
  if (result.unfinished === undefined) return decodeEncryptedReply(result.bytes, cmd, aesKey, maxValues);
  const salvaged = decodeUnfinished(result.bytes, cmd, { maxValues });
  if (salvaged === null) throw result.unfinished;
  if (salvaged instanceof MinerError) throw salvaged;
  return decodeEncryptedReply(result.bytes, cmd, aesKey, maxValues);
}

/**
 * One Whatsminer v2 write: `get_token` through `client`, then the encrypted request on its own
 * connection, sent at most once. Returns the decrypted reply; throws MinerError (`denied` for
 * E/45 write API disabled and E/135 token rejected, `api` for the rest; `requestSent` false when
 * the write never left) or UsageError for a request that cannot be built.
 */
export async function whatsminerWrite(
  client: MinerClient,
  target: Target,
  write: WhatsminerWrite,
  options: WhatsminerWriteOptions,
): Promise<DecodedReply> {
  const fields = write.params ?? {};
  // UsageError before any traffic: the sign is always 22 characters, so the size is known now.
  encryptedRequest(Buffer.alloc(32), plaintextRequest(write.cmd, fields, 'x'.repeat(22)));
  if (write.password === '') throw new UsageError('the Whatsminer admin password is empty');
  const { cancel } = options;
  // The token request changes nothing: Ctrl-C cuts it.
  const tokenSignal = options.signal ?? cancel;
  let token: WhatsminerToken;
  try {
    token = await getToken(client, target, tokenSignal ? { signal: tokenSignal } : {});
  } catch (error) {
    if (cancel?.aborted && error instanceof HashctlError && error.kind === 'interrupted')
      throw notSentInterrupted();
    throw error;
  }
  if (cancel?.aborted) throw notSentInterrupted();
  const keys = deriveKeys(write.password, token);
  const payload = encryptedRequest(keys.aesKey, plaintextRequest(write.cmd, fields, keys.sign));
  const connectTimeoutMs = options.connectTimeoutMs ?? Math.min(options.timeoutMs, 3000);
  const reply = await withRetry(
    async () => {
      // Through the client's limits: past the open-file limit the socket would fail with EMFILE,
      // which reads as the miner being unreachable.
      if (cancel?.aborted) throw notSentInterrupted();
      const send = () => {
        if (cancel?.aborted) throw notSentInterrupted();
        return exchange({
          host: target.host,
          port: target.port,
          request: payload,
          connectTimeoutMs,
          timeoutMs: options.timeoutMs,
          maxBytes: options.maxBytes,
          // As the client's reads: a whole reply the miner neither ends nor closes (or resets after)
          // is its answer, not a timeout that leaves the user guessing whether the write took.
          keepUnfinished: true,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(cancel ? { cancel } : {}),
          ...(options.onRaw ? { onBytes: options.onRaw } : {}),
          ...(options.lookup ? { lookup: options.lookup } : {}),
        });
      };
      const result = await (client.slot ? client.slot(target, send) : send());
      try {
        return replyOf(result, write.cmd, keys.aesKey, maxReplyValues(options.maxBytes));
      } catch (error) {
        // A reply came back, so the write had left.
        if (error instanceof MinerError) error.requestSent = true;
        throw error;
      }
    },
    {
      policy: { ...DEFAULT_RETRY_POLICY, retries: options.retries ?? 0 },
      sleep: cancel
        ? cancellableSleep(options.sleep ?? defaultSleep, cancel)
        : (options.sleep ?? defaultSleep),
      random: options.random ?? Math.random,
      write: true,
      ...(options.signal || cancel ? { signal: options.signal ?? cancel } : {}),
    },
  );
  if (!reply.ok && !options.allowErrorStatus) throw whatsminerStatusError(reply, write.cmd);
  return reply;
}
