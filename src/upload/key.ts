// The collector key: from HASHCTL_COLLECTOR_KEY or a private key file, never from a flag, never
// printed. Everything that might echo text from the outside world goes through redactKey.
import { readFileSync, statSync } from 'node:fs';
import { ConfigError, UsageError, errorMessage } from '../errors.js';

export const KEY_ENV = 'HASHCTL_COLLECTOR_KEY';
const MAX_KEY_FILE_BYTES = 4096;

export interface KeySource {
  env: Readonly<Record<string, string | undefined>>;
  /** --key-file: wins over the environment because it was asked for on this command line. */
  keyFile?: string;
  /** A key file named by the config file, used when neither of the above is set. */
  configKeyFile?: string;
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
  if (source.configKeyFile) return { value: readKeyFile(source.configKeyFile), source: source.configKeyFile };
  throw new UsageError(`no collector key: set ${KEY_ENV} or pass --key-file FILE (mode 0600)`);
}

function readKeyFile(file: string): string {
  let mode: number;
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error('not a regular file');
    mode = stat.mode;
    size = stat.size;
  } catch (error) {
    throw new ConfigError(`cannot read key file ${file}: ${errorMessage(error)}`);
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new ConfigError(
      `key file ${file} is readable by group or others (mode ${octal}); run: chmod 600 ${file}`,
    );
  }
  if (size > MAX_KEY_FILE_BYTES)
    throw new ConfigError(
      `key file ${file} is larger than ${MAX_KEY_FILE_BYTES} bytes; it should hold only the key`,
    );
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read key file ${file}: ${errorMessage(error)}`);
  }
  return checkKey(text.trim(), `key file ${file}`);
}

function checkKey(key: string, where: string): string {
  if (key === '') throw new ConfigError(`${where} is empty`);
  // Only what an HTTP header can carry; the message never quotes the key itself.
  if (!/^[\x21-\x7e]+$/.test(key))
    throw new ConfigError(`${where} holds characters a header cannot carry (spaces, control or non-ASCII)`);
  return key;
}

/** Replaces every occurrence of the key (a server may echo it back) with a marker. */
export function redactKey(text: string, key: string): string {
  if (key.length === 0) return text;
  return text.split(key).join('[redacted]');
}
