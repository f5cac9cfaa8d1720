// Default-credential check (opt-in: --check-default-creds). One attempt per documented credential, on
// the read-only or login endpoint audit-facts §3 names, over HTTP with undici (loaded lazily).
// Never Whatsminer (a token costs the operator's quota) and never LuxOS `logon` (audit-facts §2.4).
import { createHash, randomBytes } from 'node:crypto';
import type { CredentialCheck, CredentialOutcome, Dialect } from './types.js';

export interface CredentialSpec {
  surface: string;
  username: string;
  password: string;
  method: 'GET' | 'POST';
  /** Path (and query) on the web port. */
  path: string;
  auth: 'digest' | 'json-login' | 'query-login';
  /** JSON body for json-login. */
  body?: Record<string, string>;
  /** JSON keys whose presence in a 2xx reply means the login worked. */
  tokenKeys?: string[];
}

/** Documented defaults with a read-only or login endpoint (audit-facts §3), by dialect. */
export const DEFAULT_CREDENTIALS: Partial<Record<Dialect, CredentialSpec[]>> = {
  antminer: [
    {
      surface: 'Antminer web UI',
      username: 'root',
      password: 'root',
      method: 'GET',
      path: '/cgi-bin/get_system_info.cgi',
      auth: 'digest',
    },
  ],
  hiveon: [
    {
      surface: 'Hiveon web UI',
      username: 'root',
      password: 'root',
      method: 'GET',
      path: '/cgi-bin/get_system_info.cgi',
      auth: 'digest',
    },
  ],
  braiins: [
    {
      surface: 'Braiins OS web/REST (≤ 25.05 default)',
      username: 'root',
      password: '',
      method: 'POST',
      path: '/api/v1/auth/login',
      auth: 'json-login',
      body: { username: 'root', password: '' },
      tokenKeys: ['token'],
    },
    {
      surface: 'Braiins OS web/REST (≥ 25.07 default)',
      username: 'root',
      password: 'root',
      method: 'POST',
      path: '/api/v1/auth/login',
      auth: 'json-login',
      body: { username: 'root', password: 'root' },
      tokenKeys: ['token'],
    },
  ],
  vnish: [
    {
      surface: 'VNish web REST',
      username: '',
      password: 'admin',
      method: 'POST',
      path: '/api/v1/unlock',
      auth: 'json-login',
      body: { pw: 'admin' },
      tokenKeys: ['token'],
    },
  ],
  goldshell: [
    {
      surface: 'Goldshell web UI',
      username: 'admin',
      password: '123456789',
      method: 'GET',
      path: '/user/login?username=admin&password=123456789&cipher=false',
      auth: 'query-login',
      tokenKeys: ['JWT Token', 'token'],
    },
  ],
  innosilicon: [
    {
      surface: 'Innosilicon web UI',
      username: 'admin',
      password: 'admin',
      method: 'POST',
      path: '/api/auth',
      auth: 'json-login',
      body: { username: 'admin', password: 'admin' },
      tokenKeys: ['jwt', 'token'],
    },
  ],
};

/** Why a dialect gets no attempt: said in the report's "not checked" list. */
export const CREDENTIALS_NOT_TRIED: Partial<Record<Dialect, string>> = {
  whatsminer:
    'Whatsminer: verifying the API password needs get_token, which spends the operator’s token quota',
  luxos: 'LuxOS: the API has no credential (sessions via logon, never called)',
  avalon: 'Avalon: the web login flow (cookie) has no read-only verification endpoint documented',
};

export interface CredentialOptions {
  /** Web port (80 on every firmware above; tests use their own server). */
  port: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Name resolution for the web port (the system's by default). */
  lookup?: import('node:net').LookupFunction;
}

const BODY_LIMIT = 64 * 1024;

const INTERRUPTED = 'not checked: interrupted (Ctrl-C) before an answer';

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

type Requester = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<HttpAnswer>;

async function makeRequester(
  options: CredentialOptions,
): Promise<{ send: Requester; close: () => Promise<void> }> {
  const { Agent, buildConnector, request } = await import('undici');
  const { continueSkippingConnector } = await import('../util/http-interim.js');
  // Its own agent: a web UI (or a proxy in front of it) may send an unsolicited `100 Continue`
  // before its answer, which undici alone takes for a broken answer (the port was then reported
  // unreachable). Those heads are skipped at the start of a connection only, so each request has
  // its own connection (`reset`): the digest's second request meets its 100 on a fresh socket too.
  const dispatcher = new Agent({
    connect: continueSkippingConnector(buildConnector(options.lookup ? { lookup: options.lookup } : {})),
  });
  // undici 7 follows no redirect unless asked, so a 307 to HTTPS is reported, not followed.
  // One deadline per request, connect to last byte: undici's own timeouts are the silence allowed
  // before the head and between two chunks, so a body that trickles a byte at a time (a tarpit, a
  // page stuck half-written) never trips them. At the deadline the answer is what came: the status
  // and the body read so far.
  const send: Requester = async (url, init) => {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
    try {
      const response = await request(url, {
        dispatcher,
        reset: true,
        method: init.method as 'GET' | 'POST',
        headers: init.headers,
        body: init.body,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        signal,
      }).catch((error: unknown) => {
        // Said as the silence it was, not as undici's abort (a DOMException whose code is 20).
        if (deadline.signal.aborted && !options.signal?.aborted)
          throw Object.assign(new Error(`no answer within ${options.timeoutMs}ms`), { code: 'ETIMEDOUT' });
        throw error;
      });
      let text = '';
      try {
        for await (const chunk of response.body) {
          text += Buffer.from(chunk as Uint8Array).toString('utf8');
          if (text.length > BODY_LIMIT) break;
        }
      } catch (error) {
        // The deadline fell inside the body: the status stands, the body is cut (a token cut short
        // does not parse, so a login is not taken for one). A Ctrl-C still ends the check.
        if (!deadline.signal.aborted || options.signal?.aborted) throw error;
      } finally {
        response.body.destroy();
      }
      return { status: response.statusCode, headers: response.headers, text };
    } finally {
      clearTimeout(timer);
    }
  };
  return { send, close: () => dispatcher.destroy() };
}

/** The RFC 7616 algorithms a digest answer can be computed with, by the name a challenge gives. */
const DIGEST_ALGORITHMS: Record<string, { name: string; hash: 'md5' | 'sha256'; session: boolean }> = {
  md5: { name: 'MD5', hash: 'md5', session: false },
  'md5-sess': { name: 'MD5-sess', hash: 'md5', session: true },
  'sha-256': { name: 'SHA-256', hash: 'sha256', session: false },
  'sha-256-sess': { name: 'SHA-256-sess', hash: 'sha256', session: true },
};

/**
 * The algorithm a challenge asks for (MD5 when it names none), or null when hashctl cannot answer it:
 * an MD5 answer to a SHA-256 challenge is refused, and that refusal is no "default password changed".
 */
export function digestAlgorithm(
  challenge: Record<string, string>,
): (typeof DIGEST_ALGORITHMS)[string] | null {
  return DIGEST_ALGORITHMS[(challenge.algorithm ?? 'MD5').trim().toLowerCase()] ?? null;
}

/** Parses `Digest realm="x", nonce="y", qop="auth"` into its parameters. */
export function parseDigestChallenge(header: string): Record<string, string> | null {
  if (!/^\s*digest\s/i.test(header)) return null;
  const params: Record<string, string> = {};
  for (const match of header
    .replace(/^\s*digest\s+/i, '')
    .matchAll(/([a-z0-9_-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/gi)) {
    params[(match[1] ?? '').toLowerCase()] = match[2] ?? match[3] ?? '';
  }
  return params.nonce === undefined ? null : params;
}

/** RFC 7616 (MD5) Authorization header for one request. */
export function digestAuthorization(
  challenge: Record<string, string>,
  credentials: { username: string; password: string; method: string; uri: string },
  cnonce = randomBytes(8).toString('hex'),
): string {
  const realm = challenge.realm ?? '';
  const nonce = challenge.nonce ?? '';
  const algorithm =
    digestAlgorithm(challenge) ?? (DIGEST_ALGORITHMS.md5 as (typeof DIGEST_ALGORITHMS)[string]);
  const hash = (text: string) => createHash(algorithm.hash).update(text).digest('hex');
  const qop = (challenge.qop ?? '')
    .split(',')
    .map((value) => value.trim())
    .includes('auth')
    ? 'auth'
    : null;
  const secret = hash(`${credentials.username}:${realm}:${credentials.password}`);
  const ha1 = algorithm.session ? hash(`${secret}:${nonce}:${cnonce}`) : secret;
  const ha2 = hash(`${credentials.method}:${credentials.uri}`);
  const nc = '00000001';
  const response = qop
    ? hash(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`)
    : hash(`${ha1}:${nonce}:${ha2}`);
  const parts = [
    `username="${credentials.username}"`,
    `realm="${realm}"`,
    `nonce="${nonce}"`,
    `uri="${credentials.uri}"`,
    `response="${response}"`,
    `algorithm=${algorithm.name}`,
  ];
  if (challenge.opaque !== undefined) parts.push(`opaque="${challenge.opaque}"`);
  // A -sess algorithm hashes the cnonce into HA1, so it is sent without qop too.
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  else if (algorithm.session) parts.push(`cnonce="${cnonce}"`);
  return `Digest ${parts.join(', ')}`;
}

/**
 * Keys of get_system_info.cgi's answer (the facts the digest protects: model, MAC, host name, network,
 * firmware). An object without any of them (`{}`, `{"code":401,"msg":"please log in"}`) is no such
 * answer: a web UI that says "log in" in JSON with HTTP 200 is not one that needs no credential.
 */
const SYSTEM_INFO_KEYS = [
  'minertype',
  'macaddr',
  'hostname',
  'ipaddress',
  'nettype',
  'system_mode',
  'system_kernel_version',
  'system_filesystem_version',
  'firmware_type',
];

function isSystemInfo(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return false;
    return SYSTEM_INFO_KEYS.some((key) => key in (parsed as Record<string, unknown>));
  } catch {
    return false;
  }
}

function hasToken(text: string, keys: readonly string[]): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object') return false;
    const record = parsed as Record<string, unknown>;
    // A token is a string (Braiins, VNish, Goldshell, Innosilicon all send one): `false`, `0` or `{}`
    // under the key is a refusal written as JSON, not a login.
    return keys.some((key) => {
      const value = record[key];
      return typeof value === 'string' && value.trim() !== '';
    });
  } catch {
    return false;
  }
}

function result(
  spec: CredentialSpec,
  url: string,
  outcome: CredentialOutcome,
  detail: string,
): CredentialCheck {
  return {
    surface: spec.surface,
    username: spec.username,
    password: spec.password,
    endpoint: `${spec.method} ${url}`,
    outcome,
    detail,
  };
}

async function attempt(
  spec: CredentialSpec,
  base: string,
  send: Requester,
  signal?: AbortSignal,
): Promise<CredentialCheck> {
  const url = `${base}${spec.path}`;
  try {
    if (spec.auth === 'digest') {
      // The unauthenticated request only fetches the challenge; the credential is sent once.
      const challengeReply = await send(url, { method: spec.method, headers: {} });
      if (challengeReply.status >= 200 && challengeReply.status < 300) {
        // The protected endpoint's own answer (a JSON object of system facts) to a request that
        // carried no credential: the web UI asks for none. A page of another kind (an HTML
        // catch-all, a captive portal) says nothing either way.
        return isSystemInfo(challengeReply.text)
          ? result(spec, url, 'open', `HTTP ${challengeReply.status} without any credential`)
          : result(spec, url, 'inconclusive', `HTTP ${challengeReply.status} without any credential`);
      }
      // A server may offer several challenges, one header each (Basic and Digest, SHA-256 then MD5):
      // the first Digest one hashctl can answer, else the first Digest one (said unsupported below).
      const header = challengeReply.headers['www-authenticate'];
      const challenges = (Array.isArray(header) ? header : [header ?? ''])
        .slice(0, 8)
        .map((value) => parseDigestChallenge(value))
        .filter((value): value is Record<string, string> => value !== null);
      const challenge = challenges.find((value) => digestAlgorithm(value) !== null) ?? challenges[0] ?? null;
      if (challengeReply.status !== 401 || challenge === null)
        return result(spec, url, 'inconclusive', `HTTP ${challengeReply.status}, no digest challenge`);
      if (digestAlgorithm(challenge) === null)
        return result(
          spec,
          url,
          'inconclusive',
          `HTTP 401, digest algorithm ${JSON.stringify(String(challenge.algorithm).slice(0, 40))} not supported: no credential sent`,
        );
      const authorization = digestAuthorization(challenge, {
        username: spec.username,
        password: spec.password,
        method: spec.method,
        uri: spec.path,
      });
      const answer = await send(url, { method: spec.method, headers: { authorization } });
      if (answer.status >= 200 && answer.status < 300)
        return result(spec, url, 'accepted', `HTTP ${answer.status} with digest auth`);
      if (answer.status === 401 || answer.status === 403)
        return result(spec, url, 'rejected', `HTTP ${answer.status}`);
      return result(spec, url, 'inconclusive', `HTTP ${answer.status}`);
    }
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (spec.auth === 'json-login') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.body ?? {});
    }
    const answer = await send(url, { method: spec.method, headers, body });
    if (answer.status >= 200 && answer.status < 300) {
      return hasToken(answer.text, spec.tokenKeys ?? ['token'])
        ? result(spec, url, 'accepted', `HTTP ${answer.status} returned a session token`)
        : result(spec, url, 'inconclusive', `HTTP ${answer.status} without a token`);
    }
    if (answer.status === 401 || answer.status === 403)
      return result(spec, url, 'rejected', `HTTP ${answer.status}`);
    return result(spec, url, 'inconclusive', `HTTP ${answer.status}`);
  } catch (error) {
    // Cut short by Ctrl-C: nothing was learnt about the web port (undici's AbortError is no
    // unreachable port).
    if (signal?.aborted) return result(spec, url, 'skipped', INTERRUPTED);
    const code = (error as { code?: string }).code ?? (error as Error).name;
    const detail =
      code === 'ETIMEDOUT' ? `web port: ${(error as Error).message}` : `web port not reachable (${code})`;
    return result(spec, url, 'unreachable', detail);
  }
}

/** Tries each documented default credential of the dialect once. Empty when none is documented. */
export async function checkDefaultCredentials(
  host: string,
  dialect: Dialect,
  options: CredentialOptions,
): Promise<CredentialCheck[]> {
  const specs = DEFAULT_CREDENTIALS[dialect] ?? [];
  if (specs.length === 0) return [];
  const { send, close } = await makeRequester(options);
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${options.port}`;
  const checks: CredentialCheck[] = [];
  try {
    for (const spec of specs) {
      // Ctrl-C before this attempt: none is made, and the check says why.
      const check = options.signal?.aborted
        ? result(spec, `${base}${spec.path}`, 'skipped', INTERRUPTED)
        : await attempt(spec, base, send, options.signal);
      checks.push(check);
      if (check.outcome === 'skipped') break;
      // A login that worked (or a web UI open to anyone) needs no second guess, and an unreachable
      // web port will not answer the next.
      if (check.outcome === 'accepted' || check.outcome === 'open' || check.outcome === 'unreachable') break;
    }
  } finally {
    await close();
  }
  return checks;
}
