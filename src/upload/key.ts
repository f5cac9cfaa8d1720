// The collector key: from HASHCTL_COLLECTOR_KEY or a private key file, never from a flag, never
// printed. Everything that might echo text from the outside world goes through redactKey.
import { readFileSync, statSync } from 'node:fs';
import { ConfigError, errorMessage, UsageError } from '../errors.js';

export const KEY_ENV = 'HASHCTL_COLLECTOR_KEY';
const MAX_KEY_FILE_BYTES = 4096;

export interface KeySource {
  env: Readonly<Record<string, string | undefined>>;
  /** --key-file: wins over the environment because it was asked for on this command line. */
  keyFile?: string;
  /** A key file named by the config file, used when neither of the above is set. */
  configKeyFile?: string;
  /** Where the config named it (`upload.key_file in config FILE`), for its messages. */
  configKeyFileSource?: string;
  /**
   * How this command takes a key file, for the message when no key is set (default: `pass
   * --key-file FILE (mode 0600)`); collect has no --key-file, only the config's upload.key_file.
   */
  keyFileChoice?: string;
}

export interface CollectorKey {
  value: string;
  /** Where it came from, safe to print ("HASHCTL_COLLECTOR_KEY" or the file path). */
  source: string;
}

export function loadCollectorKey(source: KeySource): CollectorKey {
  if (source.keyFile) return { value: readKeyFile(source.keyFile), source: source.keyFile };
  const fromEnv = source.env[KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '')
    return { value: checkKey(fromEnv.trim(), KEY_ENV), source: KEY_ENV };
  if (source.configKeyFile)
    return {
      value: readKeyFile(source.configKeyFile, source.configKeyFileSource),
      source: source.configKeyFile,
    };
  throw new UsageError(
    `no collector key: set ${KEY_ENV} or ${source.keyFileChoice ?? 'pass --key-file FILE (mode 0600)'}`,
  );
}

/** `named`: where the file was named, when not on the command line (the config file's key). */
function readKeyFile(file: string, named?: string): string {
  const shown = named === undefined ? file : `${file} (${named})`;
  let mode: number;
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error('not a regular file');
    mode = stat.mode;
    size = stat.size;
  } catch (error) {
    throw new ConfigError(`cannot read key file ${shown}: ${errorMessage(error)}`);
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new ConfigError(
      `key file ${shown} is readable by group or others (mode ${octal}); run: chmod 600 ${file}`,
    );
  }
  if (size > MAX_KEY_FILE_BYTES)
    throw new ConfigError(
      `key file ${shown} is larger than ${MAX_KEY_FILE_BYTES} bytes; it should hold only the key`,
    );
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read key file ${shown}: ${errorMessage(error)}`);
  }
  return checkKey(text.trim(), `key file ${shown}`);
}

function checkKey(key: string, where: string): string {
  if (key === '') throw new ConfigError(`${where} is empty`);
  // Only what an HTTP header can carry; the message never quotes the key itself.
  if (!/^[\x21-\x7e]+$/.test(key))
    throw new ConfigError(`${where} holds characters a header cannot carry (spaces, control or non-ASCII)`);
  return key;
}

/**
 * A redactor for the key and the endpoint's other secrets (its query values) at once. A value
 * shorter than MIN_SECRET_CHARS (`?v=2`) is not hunted in free text, where it would blank out
 * unrelated words; the endpoint and a Location are printed with every query value masked anyway.
 */
export function secretsRedactor(key: string, secrets: readonly string[] = []): (text: string) => string {
  const redactors = [key, ...secrets.filter((secret) => secret.length >= MIN_SECRET_CHARS)]
    .sort((a, b) => b.length - a.length)
    .map(keyRedactor);
  return (text) => redactors.reduce((done, redact) => redact(done), text);
}

const MIN_SECRET_CHARS = 6;

/** Replaces every occurrence of the key (a server may echo it back) with a marker. */
export function redactKey(text: string, key: string): string {
  return keyRedactor(key)(text);
}

/**
 * A redactor for one key, built once: it finds the key as it is and as a server may echo it, in a
 * Location (percent-encoded, either hex case, even where encodeURIComponent would not encode) or a
 * JSON body (`\"`, `\/`, `\uXXXX` escapes), any mix of those character by character, and in base64
 * or base64url, whole or inside a longer base64 text (e.g. an echoed `Basic` credential).
 */
export function keyRedactor(key: string): (text: string) => string {
  if (key.length === 0) return (text) => text;
  // Its hex too (a server may print the bytes it got), in either case.
  const hex = anyCaseHex(Buffer.from(key, 'utf8').toString('hex'));
  const pattern = new RegExp([...base64Forms(key), hex, [...key].map(charForms).join('')].join('|'), 'g');
  return (text) => text.replace(pattern, '[redacted]');
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
/** A hex number matched in either case: `2f` also as `2F`. */
const anyCaseHex = (hex: string): string =>
  [...hex]
    .map((digit) => (/[a-f]/i.test(digit) ? `[${digit.toLowerCase()}${digit.toUpperCase()}]` : digit))
    .join('');

/** One character of the key: as it is, percent-encoded, or JSON-escaped. */
function charForms(char: string): string {
  const forms = [escapeRegExp(char)];
  forms.push(
    [...new TextEncoder().encode(char)]
      .map((byte) => `%${anyCaseHex(byte.toString(16).padStart(2, '0'))}`)
      .join(''),
  );
  const units = Array.from({ length: char.length }, (_, i) => char.charCodeAt(i));
  forms.push(units.map((unit) => `\\\\u${anyCaseHex(unit.toString(16).padStart(4, '0'))}`).join(''));
  if (char === '"' || char === '\\' || char === '/') forms.push(`\\\\${escapeRegExp(char)}`);
  return `(?:${forms.join('|')})`;
}

/**
 * The key's base64 and base64url texts, whole first, then for each of the three byte alignments
 * the part that is the same wherever the key sits inside a longer encoded text (at least 12
 * characters, so a short key never turns unrelated base64 into a match).
 */
function base64Forms(key: string): string[] {
  const bytes = Buffer.from(key, 'utf8');
  const forms = new Set<string>();
  for (const encoding of ['base64', 'base64url'] as const) {
    forms.add(bytes.toString(encoding));
    forms.add(bytes.toString(encoding).replace(/=+$/, ''));
  }
  for (let skip = 0; skip < 3; skip++) {
    const whole = Math.floor((bytes.length - skip) / 3) * 3;
    if (whole < 9) continue;
    const inner = bytes.subarray(skip, skip + whole);
    forms.add(inner.toString('base64'));
    forms.add(inner.toString('base64url'));
  }
  return [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp);
}
