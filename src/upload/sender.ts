// One HTTP POST of one stored batch, and what its answer means (hashctl.md §9). undici is loaded
// lazily; the sender owns a dedicated Agent so its timeouts and CA never leak into other requests.
import { type LookupFunction, Socket } from 'node:net';
import { rootCertificates } from 'node:tls';
import { brotliDecompressSync, gunzipSync, inflateSync, constants as zlib } from 'node:zlib';
import { terminalSafe } from '../output/terminal.js';
import { continueSkippingConnector, continueSkippingFactory } from '../util/http-interim.js';
import { USER_AGENT } from '../version.js';
import { maskUrlSecrets, type UploadEndpoint } from './endpoint.js';
import { secretsRedactor } from './key.js';
import { type ProxyChoice, proxyFor } from './proxy.js';
import { parseRetryAfter } from './retry.js';

export type SendOutcome =
  /** 2xx, or 409: the collector already has this batch_id. */
  | { kind: 'delivered'; status: number }
  /** 408, 429, 5xx, network, timeout: try again later; the batch stays pending. */
  | {
      kind: 'retry';
      status: number | null;
      retryAfterMs: number | null;
      reason: string;
      /** No answer within the request's own timeout (`timeoutMs`), not a failure the collector gave. */
      timedOut?: boolean;
    }
  /** 401/403: the key is wrong; nothing else will get through either. */
  | { kind: 'key_refused'; status: number; reason: string }
  /** The endpoint itself is wrong (redirect, no such route, untrusted TLS): stop, keep every batch. */
  | { kind: 'endpoint'; status: number | null; reason: string }
  /** 413: split the batch and send the halves. */
  | { kind: 'too_large'; status: number; reason: string }
  /** Any other 4xx: this batch is refused; retrying it as-is cannot help. */
  | { kind: 'quarantine'; status: number; reason: string }
  /** Our caller's signal fired (SIGINT/SIGTERM): the batch stays pending. */
  | { kind: 'aborted'; reason: string };

export interface SenderOptions {
  endpoint: UploadEndpoint;
  key: string;
  /** Extra CA certificates (PEM) trusted on top of the system's. */
  ca?: string;
  connectTimeoutMs: number;
  now: () => number;
  /** Where HTTPS_PROXY and NO_PROXY are read (the context's environment); none: no proxy. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Resolves the collector's (or the proxy's) host name: the context's (absent: the system resolver). */
  lookup?: LookupFunction;
}

export interface SendRequest {
  batchId: string;
  body: Buffer;
  /** The whole exchange, connect to last byte of the answer. */
  timeoutMs: number;
  signal: AbortSignal;
}

export interface Sender {
  send(request: SendRequest): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** How much of an answer is read: enough for an error excerpt, never a flood into memory. */
const RESPONSE_READ_CAP = 16 * 1024;
const EXCERPT_CHARS = 200;

/**
 * 4xx answers about the URL or the way it is reached, not the batch: no route (404, 405), a route
 * retired (410), a proxy asking for its own credentials (407), a URL (its query) too long (414), a
 * request for another host (421), a protocol the server will not speak (426), headers too large (431).
 * And answers about the request's form, which is the same for every batch (always gzip JSON with a
 * length, the same Accept, no Expect): a content type or coding refused (415: a gateway that takes
 * no gzip quarantined every batch of every run), Accept refused (406), a length asked for (411), an
 * expectation or a precondition the server wants (417, 428).
 */
const ENDPOINT_STATUSES = new Set([404, 405, 406, 407, 410, 411, 414, 415, 417, 421, 426, 428, 431]);

export function classifyStatus(status: number): SendOutcome['kind'] {
  if ((status >= 200 && status < 300) || status === 409) return 'delivered';
  if (status === 401 || status === 403) return 'key_refused';
  if (status === 413) return 'too_large';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  // A redirect or a missing route means the URL is wrong, not the batch: quarantining every batch
  // for a typo would bury a day of data, so these stop the flush like a refused key. So do the
  // answers about the request's form or route that every batch would get alike (ENDPOINT_STATUSES).
  if ((status >= 300 && status < 400) || ENDPOINT_STATUSES.has(status)) return 'endpoint';
  if (status >= 400) return 'quarantine';
  return 'retry';
}

export async function createSender(options: SenderOptions): Promise<Sender> {
  const { Agent, Client, Pool, ProxyAgent, buildConnector } = await import('undici');
  const ca = options.ca === undefined ? undefined : [...rootCertificates, options.ca];
  // A collector (or proxy) named by host name is resolved as the miners are: through the context's
  // lookup when it has one (tests never reach the system resolver), else the system's.
  const connectOptions = {
    timeout: options.connectTimeoutMs,
    ...(ca ? { ca } : {}),
    ...(options.lookup ? { lookup: options.lookup } : {}),
  };
  const proxy = proxyFor(options.endpoint, options.env ?? {});
  type Connector = ReturnType<typeof buildConnector>;
  /** An agent, and the sockets its connector opened that are not closed yet. */
  const newAgent = () => {
    const sockets = new Set<Socket>();
    // undici's connector returns the socket it opened (its types say void): kept, so that a
    // handshake given up on is closed at once instead of at the connect timeout.
    const tracked =
      (connector: Connector): Connector =>
      (connectOptions, callback) => {
        const socket: unknown = (connector as (...args: Parameters<Connector>) => unknown)(
          connectOptions,
          callback,
        );
        if (socket instanceof Socket) {
          sockets.add(socket);
          socket.once('close', () => sockets.delete(socket));
        }
      };
    const timeouts = {
      // Each phase is bounded by the per-request deadline too; these catch a stall inside one.
      headersTimeout: 0,
      bodyTimeout: 0,
      connections: 1,
    };
    const dispatcher = proxy
      ? new ProxyAgent({
          uri: proxy.url,
          // A tunnel (CONNECT) through the proxy, TLS to the collector inside it: the proxy sees
          // neither the key nor the batch. The sockets to the proxy are the ones to close.
          clientFactory: (origin, clientOptions) =>
            new Pool(origin, {
              ...clientOptions,
              connect: tracked(buildConnector(connectOptions)),
            }),
          requestTls: { timeout: options.connectTimeoutMs, ...(ca ? { ca } : {}) },
          // The tunnel the request then travels: its answer may start with a 100 Continue too.
          factory: continueSkippingFactory(Client),
          ...timeouts,
        })
      : new Agent({
          connect: tracked(continueSkippingConnector(buildConnector(connectOptions))),
          ...timeouts,
        });
    return { dispatcher, sockets };
  };
  let agent = newAgent();
  const { endpoint, key } = options;
  // The query's values are secrets too: a collector echoing its request URL (a Location, an error
  // body) would otherwise print and store the `?token=…` the endpoint is shown without.
  const redact = secretsRedactor(key, [...endpoint.secrets, ...(proxy?.secrets ?? [])]);
  /** The longest secret: how much of a text cut at the read cap may hold a truncated one. */
  const longestSecret = Math.max(key.length, ...endpoint.secrets.map((secret) => secret.length));
  /**
   * undici does not act on an abort while a connection is still being set up (a TCP connect or a
   * TLS handshake that stalls runs to the connect timeout): the agent is destroyed with the sockets
   * it opened, and the next batch gets a fresh one. An open socket would hold the process (and,
   * in a long collect, a file descriptor) until the connect timeout.
   */
  const abandon = (): void => {
    const stuck = agent;
    agent = newAgent();
    stuck.dispatcher.destroy().catch(() => undefined);
    for (const socket of stuck.sockets) socket.destroy();
  };

  async function send(request: SendRequest): Promise<SendOutcome> {
    if (request.signal.aborted) return { kind: 'aborted', reason: 'interrupted before sending' };
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error('deadline')), Math.max(1, request.timeoutMs));
    const onAbort = (): void => deadline.abort(new Error('interrupted'));
    request.signal.addEventListener('abort', onAbort, { once: true });
    // Rejects when the deadline or the caller's signal fires, whatever the request is doing then.
    const cut = new Promise<never>((_, reject) => {
      deadline.signal.addEventListener('abort', () => reject(deadline.signal.reason), { once: true });
    });
    cut.catch(() => undefined);
    try {
      const pending = agent.dispatcher.request({
        origin: endpoint.origin,
        path: endpoint.path,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'x-collector-key': key,
          'idempotency-key': request.batchId,
          'user-agent': USER_AGENT,
          accept: 'application/json, text/plain;q=0.9, */*;q=0.1',
        },
        body: request.body,
        signal: deadline.signal,
        headersTimeout: request.timeoutMs,
        bodyTimeout: request.timeoutMs,
        // A connection per batch: on a kept-alive one, bytes a collector sends while no request is
        // in flight (a stray or duplicated answer) would be read as the next batch's answer, and a
        // batch nobody answered would leave the outbox as delivered.
        reset: true,
      });
      pending.catch(() => undefined);
      const response = await Promise.race([pending, cut]);
      const kind = classifyStatus(response.statusCode);
      if (kind === 'delivered') {
        // The status is the answer: a body that never ends must not hold the next batch back (the
        // connection is not reused, so nothing needs it read).
        // (undici's body reports being destroyed unread as an error: one nobody listened to would
        // end the process.)
        response.body.on('error', () => undefined);
        response.body.destroy();
        return { kind, status: response.statusCode };
      }
      // The status is the answer; the body is only an excerpt for the reason. A body that drips, is
      // cut short or breaks its chunking gives what arrived, and never holds the batch (and every
      // later one) for the rest of the request's deadline.
      const { bytes, whole } = await readExcerpt(response.body, cut);
      // Cut short (the read cap, the wait, a broken body), the text may end inside an echoed key,
      // which the redactor no longer recognises: its last characters (room for the key's longest
      // escaped form) are dropped.
      const text = bodyText(bytes, response.headers['content-encoding'], whole ? 0 : 6 * longestSecret);
      const reason = describeStatus(response.statusCode, text, response.headers.location, redact);
      switch (kind) {
        case 'retry':
          return {
            kind,
            status: response.statusCode,
            retryAfterMs: parseRetryAfter(
              response.headers['retry-after'],
              options.now(),
              response.headers.date,
            ),
            reason,
          };
        case 'key_refused':
        case 'too_large':
        case 'quarantine':
          return { kind, status: response.statusCode, reason };
        default:
          return { kind: 'endpoint', status: response.statusCode, reason };
      }
    } catch (error) {
      if (deadline.signal.aborted) abandon();
      if (request.signal.aborted) return { kind: 'aborted', reason: 'interrupted while sending' };
      if (deadline.signal.aborted) {
        return {
          kind: 'retry',
          status: null,
          retryAfterMs: null,
          reason: `no answer within ${Math.round(request.timeoutMs)} ms`,
          timedOut: true,
        };
      }
      const outcome = networkOutcome(error, options, redact, proxy);
      // undici's own headers/body timeouts are the same request timeout, fired by another timer.
      const code = (error as { code?: unknown } | null)?.code;
      if (outcome.kind === 'retry' && (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'))
        return { ...outcome, timedOut: true };
      return outcome;
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', onAbort);
    }
  }

  return {
    send,
    close: async () => {
      // destroy, not close: a hung request must not keep the process alive after the flush.
      await agent.dispatcher.destroy().catch(() => undefined);
      for (const socket of agent.sockets) socket.destroy();
    },
  };
}

/** How long an error answer's body is waited for once its status is known. */
const EXCERPT_WAIT_MS = 3_000;

/**
 * Up to RESPONSE_READ_CAP bytes of an error answer's body, for at most EXCERPT_WAIT_MS (or until
 * `cut`): what arrived by then, and whether that is the whole body.
 */
async function readExcerpt(
  body: AsyncIterable<Buffer | string> & {
    destroy(): unknown;
    on(event: 'error', listener: () => void): unknown;
  },
  cut: Promise<never>,
): Promise<{ bytes: Buffer; whole: boolean }> {
  const chunks: Buffer[] = [];
  let total = 0;
  const read = (async (): Promise<boolean> => {
    for await (const chunk of body) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(buffer.subarray(0, RESPONSE_READ_CAP - total));
      total += Math.min(buffer.length, RESPONSE_READ_CAP - total);
      if (total >= RESPONSE_READ_CAP) return false; // leaving the loop destroys the stream
    }
    return true;
  })();
  let timer: NodeJS.Timeout | undefined;
  const wait = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), EXCERPT_WAIT_MS);
  });
  const whole = await Promise.race([read, wait, cut]).catch(() => false);
  clearTimeout(timer);
  read.catch(() => undefined);
  if (!whole) {
    // Given up on: closed, not left to run into the deadline (its error has no listener otherwise).
    body.on('error', () => undefined);
    body.destroy();
  }
  return { bytes: Buffer.concat(chunks), whole };
}

/**
 * What an error body may grow to once decompressed: gzip expands at most ~1,000 times, but brotli
 * over a million (211 bytes of it asked for 256 MiB, and got 900 MB of memory).
 */
const DECOMPRESSED_CAP = 256 * 1024;

/**
 * An error body as text: decompressed when the collector (or a proxy) compressed it, even cut at the
 * read cap, up to DECOMPRESSED_CAP; a body that cannot be read says so.
 */
function bodyText(bytes: Buffer, encoding: string | string[] | undefined, dropTail: number): string {
  /** The body's text, less its last `dropTail` characters (a body cut short). */
  const decoded = (plain: Buffer): string => {
    const text = plain.toString('utf8');
    return text.slice(0, Math.max(0, text.length - dropTail));
  };
  const name = (Array.isArray(encoding) ? encoding.join(',') : (encoding ?? '')).trim().toLowerCase();
  if (name === '' || name === 'identity') return decoded(bytes);
  try {
    const cut = { finishFlush: zlib.Z_SYNC_FLUSH, maxOutputLength: DECOMPRESSED_CAP };
    if (name === 'gzip' || name === 'x-gzip') return decoded(gunzipSync(bytes, cut));
    if (name === 'deflate') return decoded(inflateSync(bytes, cut));
    if (name === 'br')
      return decoded(
        brotliDecompressSync(bytes, {
          finishFlush: zlib.BROTLI_OPERATION_FLUSH,
          maxOutputLength: DECOMPRESSED_CAP,
        }),
      );
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      return `(${name} body over ${DECOMPRESSED_CAP / 1024} KiB once decompressed: not shown)`;
    return `(${name} body not readable)`;
  }
  return `(${name} body not shown)`;
}

function describeStatus(
  status: number,
  text: string,
  location: string | string[] | undefined,
  redact: (text: string) => string,
): string {
  // The collector's words are kept in their visible form (escape sequences as \x1b…), as the
  // snapshot's strings are: the reason reaches tables, notes and the store, never a raw terminal.
  const shown = (words: string) =>
    terminalSafe(redact(words.replace(/\s+/g, ' ').trim()).slice(0, EXCERPT_CHARS), true);
  const excerpt = shown(text);
  const where =
    typeof location === 'string' && location ? ` (redirects to ${shown(maskUrlSecrets(location))})` : '';
  return `HTTP ${status}${where}${excerpt ? `: ${excerpt}` : ''}`;
}

const TLS_CODE = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_|ERR_SSL_|HOSTNAME_MISMATCH)/;
/** The certificate chains to no CA we trust: the one case --ca can fix. */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_UNTRUSTED',
]);
/** What OpenSSL says when the bytes that came back are not TLS at all (plain HTTP on that port). */
const NOT_TLS_CODES = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

/** A hint that fits the TLS failure, or '' when there is nothing better to say than the code. */
function tlsHint(code: string, options: SenderOptions, proxy: ProxyChoice | null): string {
  // Through a tunnel, the plain bytes are most often the proxy's own answer (a block page, a
  // login): http:// would not go through the proxy at all, and is refused beyond loopback.
  if (NOT_TLS_CODES.has(code) && proxy)
    return ` (plain HTTP came back through the proxy ${proxy.shown} instead of the collector's TLS: the proxy answers the tunnel itself, e.g. a block page, or the collector does not speak TLS on this port)`;
  if (NOT_TLS_CODES.has(code)) return ' (the server does not speak TLS on this port: try http://)';
  if (UNTRUSTED_CODES.has(code))
    return options.ca
      ? ' (the certificate is not signed by the --ca given either)'
      : ' (a private CA is added with --ca FILE)';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH')
    return ' (the certificate is for another name: use the host name it was issued for)';
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return " (check the certificate's dates and this host's clock)";
  return '';
}

function networkOutcome(
  error: unknown,
  options: SenderOptions,
  redact: (text: string) => string,
  proxy: ProxyChoice | null,
): SendOutcome {
  const code = errorCode(error);
  // OpenSSL ends its messages with a newline; a reason is one line on stderr and in last_error.
  const said = redact(innermostMessage(error).replace(/\s+/g, ' ').trim()).slice(0, EXCERPT_CHARS);
  // Through a proxy, every failure names it: an ECONNREFUSED of the proxy read as the collector's.
  const message = proxy ? `${said} (via proxy ${proxy.shown} from ${proxy.variable})` : said;
  const tunnel = proxy ? /Proxy response \((\d{3})\)/.exec(said) : null;
  if (proxy && tunnel) {
    const status = Number(tunnel[1]);
    const refused = `the proxy ${proxy.shown} (${proxy.variable}) answered HTTP ${status} to the tunnel to the collector`;
    // 407: it wants credentials (user:password in the proxy URL); 403 and other 4xx: it does not
    // let this host reach the collector. Only a proxy's own trouble (5xx) is worth trying again.
    if (status === 407)
      return {
        kind: 'endpoint',
        status,
        reason: proxy.secrets.length
          ? `${refused}: it refuses the credentials in ${proxy.variable}`
          : `${refused}: it asks for credentials (${proxy.variable}=http://USER:PASSWORD@host:port)`,
      };
    if (status < 500) return { kind: 'endpoint', status, reason: refused };
    return { kind: 'retry', status, retryAfterMs: null, reason: refused };
  }
  if (code && TLS_CODE.test(code)) {
    return {
      kind: 'endpoint',
      status: null,
      reason: `TLS: ${message} [${code}]${tlsHint(code, options, proxy)}`,
    };
  }
  if (isParserError(error)) {
    // Something answers on that port, but not in HTTP (an SSH or SMTP server, a miner's API): the
    // URL is wrong, as for a 404; trying every batch again against it only hides that.
    return { kind: 'endpoint', status: null, reason: `the server does not answer in HTTP: ${message}` };
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return {
      kind: 'retry',
      status: null,
      retryAfterMs: null,
      reason: `connect timeout after ${options.connectTimeoutMs} ms`,
    };
  }
  return { kind: 'retry', status: null, retryAfterMs: null, reason: code ? `${message} [${code}]` : message };
}

/** undici's llhttp failure: the bytes that came back are not an HTTP answer. */
function isParserError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; depth++) {
    if (current.name === 'HTTPParserError') return true;
    current = current.cause;
  }
  return false;
}

function errorCode(error: unknown): string | null {
  // undici wraps socket errors; the errno code is on the error or its cause.
  for (
    let current: unknown = error, depth = 0;
    current instanceof Error && depth < 4;
    current = current.cause, depth++
  ) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
  }
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

function innermostMessage(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && current.cause instanceof Error && depth < 4; depth++)
    current = current.cause;
  return current instanceof Error ? current.message : String(error);
}
