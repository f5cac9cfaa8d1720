// `thermal config pull`: fetch the farm's thermal limits from the cloud, validate them with the same
// schema as the local file, show what changes, and write them into the config file atomically.
// The collector key travels only in the X-Collector-Key header and is never echoed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, errorMessage, HashctlError, UsageError } from '../errors.js';
import { printableEndpoint, refusePlainHttp } from '../upload/endpoint.js';
import { secretsRedactor } from '../upload/key.js';
import { makeDirectories } from '../util/mkdir.js';
import { USER_AGENT } from '../version.js';
import { parseThermalConfig, type ThermalConfig } from './config.js';

export const THERMAL_CONFIG_PATH = '/api/thermal/config';
const MAX_RESPONSE_BYTES = 1 << 20;

/** `https://cloud.example[/base]` → its thermal config URL; credentials in the URL are refused. */
export function thermalConfigUrl(
  endpoint: string,
  /** Where the URL came from, for the messages: `--endpoint`, or the config's `upload.endpoint in config FILE`. */
  source = '--endpoint',
): URL {
  // Quoted without its userinfo: a URL refused for its scheme or port may still carry a password.
  const shown = printableEndpoint(endpoint);
  let url: URL;
  try {
    url = new URL(endpoint.trim());
  } catch {
    throw new UsageError(`invalid ${source} '${shown}': expected an http:// or https:// URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`invalid ${source} '${shown}': only http:// and https:// are supported`);
  }
  if (url.username || url.password) {
    throw new UsageError(
      `invalid ${source}: credentials in the URL are refused; the key comes from HASHCTL_COLLECTOR_KEY or --key-file`,
    );
  }
  refusePlainHttp(url, source === '--endpoint' ? undefined : source);
  const base = url.pathname.replace(/\/+$/, '');
  url.pathname = base.endsWith(THERMAL_CONFIG_PATH) ? base : `${base}${THERMAL_CONFIG_PATH}`;
  url.hash = '';
  return url;
}

export interface FetchOptions {
  url: URL;
  key: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** PEM of a private CA, trusted on top of the system's roots. */
  ca?: string;
  /** Where HTTPS_PROXY and NO_PROXY are read (the context's environment), as the upload reads them. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Resolves the cloud's (or the proxy's) host name: the context's (absent: the system resolver). */
  lookup?: import('node:net').LookupFunction;
}

/** GETs and validates the remote thermal section (a bare section or `{"thermal": {...}}`). */
export async function fetchThermalConfig(options: FetchOptions): Promise<ThermalConfig> {
  const { Agent, Client, ProxyAgent, buildConnector, request } = await import('undici');
  const { continueSkippingConnector, continueSkippingFactory } = await import('../util/http-interim.js');
  const { rootCertificates } = await import('node:tls');
  const { proxyFor } = await import('../upload/proxy.js');
  // The egress proxy the upload takes (a farm host that reaches the cloud only through one): a
  // CONNECT tunnel, TLS to the cloud inside it. Plain http (loopback) never goes to a proxy.
  const proxy = proxyFor(
    { origin: options.url.origin, secure: options.url.protocol === 'https:' },
    options.env ?? {},
  );
  const where = `${options.url.origin}${options.url.pathname}${proxy ? ` (via proxy ${proxy.shown} from ${proxy.variable})` : ''}`;
  // The query's values (`?token=…`) are secrets as much as the key: never echoed back either.
  const redact = secretsRedactor(options.key, [
    ...new Set(options.url.searchParams.values()),
    ...(proxy?.secrets ?? []),
  ]);
  // A private CA is added to the system's roots, for this request only (as upload's sender does).
  const tls = options.ca === undefined ? undefined : { ca: [...rootCertificates, options.ca] };
  // Its own agent always: the connection reads past a `100 Continue` a cloud (or a reverse proxy
  // before it) may send ahead of the answer, which undici alone takes for a broken answer.
  // A host name is resolved as the upload resolves it: the context's lookup when it has one.
  const lookup = options.lookup ? { lookup: options.lookup } : {};
  const dispatcher = proxy
    ? new ProxyAgent({
        uri: proxy.url,
        ...(tls ? { requestTls: tls } : {}),
        ...(options.lookup ? { proxyTls: lookup } : {}),
        factory: continueSkippingFactory(Client),
      })
    : new Agent({ connect: continueSkippingConnector(buildConnector({ ...tls, ...lookup })) });
  let status: number;
  let text: string;
  // One deadline for the whole answer, connect to last byte: undici's own timeouts are the silence
  // allowed before the head and between two chunks, so a body sent a byte at a time (a tarpit, a
  // proxy stuck half-way) held the pull for as long as it trickled.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  try {
    const response = await request(options.url, {
      dispatcher,
      method: 'GET',
      headers: { 'x-collector-key': options.key, accept: 'application/json', 'user-agent': USER_AGENT },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      maxRedirections: 0,
      signal,
    } as Parameters<typeof request>[1]);
    status = response.statusCode;
    text = await readCapped(response.body, MAX_RESPONSE_BYTES);
  } catch (error) {
    if (error instanceof HashctlError) throw error;
    const why =
      deadline.signal.aborted && !options.signal?.aborted
        ? `no complete answer within ${options.timeoutMs}ms`
        : redact(errorMessage(error));
    throw new HashctlError('upload', `cannot fetch ${where}: ${why}`, { cause: error });
  } finally {
    clearTimeout(timer);
    await dispatcher.destroy();
  }
  if (status === 401 || status === 403) {
    throw new HashctlError('upload', `${where} refused the collector key (HTTP ${status})`);
  }
  if (status < 200 || status >= 300) {
    const excerpt = redact(text).slice(0, 200).replace(/\s+/g, ' ').trim();
    throw new HashctlError('upload', `${where} answered HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ConfigError(`${where} did not answer JSON`);
  }
  const section =
    typeof body === 'object' && body !== null && 'thermal' in body
      ? (body as { thermal: unknown }).thermal
      : body;
  return parseThermalConfig(section, 'remote thermal');
}

async function readCapped(
  body: AsyncIterable<Uint8Array> & { destroy?: () => void },
  cap: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > cap) {
      body.destroy?.();
      throw new HashctlError('upload', `thermal config answer is larger than ${cap} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface DiffLine {
  path: string;
  before: unknown;
  after: unknown;
}

function flatten(value: unknown, prefix: string, out: Map<string, unknown>): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) flatten(child, prefix ? `${prefix}.${key}` : key, out);
    return;
  }
  if (prefix) out.set(prefix, value);
}

/** Leaf-by-leaf difference of two thermal sections, paths like `sites.A.board.warn`. */
export function diffThermal(before: ThermalConfig, after: ThermalConfig): DiffLine[] {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten(before, '', a);
  flatten(after, '', b);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths
    .filter((p) => JSON.stringify(a.get(p)) !== JSON.stringify(b.get(p)))
    .map((p) => ({ path: p, before: a.get(p), after: b.get(p) }));
}

export interface LocalConfig {
  file: string;
  exists: boolean;
  /** The whole document (other sections are kept as they are). */
  document: Record<string, unknown>;
  thermal: ThermalConfig;
}

export function readLocalConfig(file: string): LocalConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { file, exists: false, document: {}, thermal: {} };
    throw new ConfigError(`cannot read config ${file}: ${errorMessage(error)}`);
  }
  let document: unknown;
  try {
    document = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config ${file} is not valid JSON: ${errorMessage(error)}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ConfigError(`config ${file} must hold a JSON object`);
  }
  const record = document as Record<string, unknown>;
  return {
    file,
    exists: true,
    document: record,
    thermal: parseThermalConfig(record.thermal, `${path.basename(file)}: thermal`),
  };
}

/**
 * The file a write to `file` must replace: a symlinked config (`~/.config/hashctl.json` pointing
 * into a dotfiles or provisioning checkout) is updated where it lives and stays a link; a rename
 * over the link itself would turn it into a private copy and leave the real file unchanged.
 */
function realTarget(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    // Not there yet: a link to a file still to be made is followed; anything else is made as named.
    try {
      if (fs.lstatSync(file).isSymbolicLink()) return path.resolve(path.dirname(file), fs.readlinkSync(file));
    } catch {
      // No such file: it is created.
    }
    return file;
  }
}

/**
 * Replaces the `thermal` section, keeping every other section. Written to a temporary file in the
 * same directory, flushed, then renamed over the original: a reader sees the old or the new file.
 * A symlink is followed: the file it names is replaced, and the link stays.
 */
export function writeThermalSection(local: LocalConfig, thermal: ThermalConfig): void {
  const document = { ...local.document, thermal };
  const target = realTarget(local.file);
  const dir = path.dirname(target);
  const temporary = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  let mode = 0o600;
  try {
    if (local.exists) mode = fs.statSync(target).mode & 0o777;
  } catch {
    // Keep the private default.
  }
  try {
    makeDirectories(dir);
    const fd = fs.openSync(temporary, 'wx', mode);
    try {
      fs.writeSync(fd, `${JSON.stringify(document, null, 2)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw new HashctlError('io', `cannot write config ${local.file}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
