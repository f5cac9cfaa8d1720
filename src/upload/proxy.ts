// Which proxy, if any, carries the upload to the collector. Farm hosts often reach the internet only
// through an egress proxy named in HTTPS_PROXY: undici's Agent ignores it, and every batch failed
// (DNS or connect) for ever with no word of the proxy. Read as curl reads them: `https_proxy`, then
// `HTTPS_PROXY` (an https:// collector only: plain http goes to this machine, never to a proxy);
// `no_proxy`/`NO_PROXY` lists hosts reached directly (a collector on loopback included: name it).
import { ConfigError } from '../errors.js';
import { printableEndpoint, type UploadEndpoint } from './endpoint.js';

export interface ProxyChoice {
  /** The proxy URL as undici takes it (credentials included: they become Proxy-Authorization). */
  url: string;
  /** The proxy as messages may show it: credentials masked. */
  shown: string;
  /** Its password and user name, to redact from whatever is said back. */
  secrets: string[];
  /** The variable it came from (`HTTPS_PROXY`, `https_proxy`). */
  variable: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The proxy for `endpoint` under `env`, or null for a direct connection. */
export function proxyFor(endpoint: Pick<UploadEndpoint, 'origin' | 'secure'>, env: Env): ProxyChoice | null {
  if (!endpoint.secure) return null;
  const variable = ['https_proxy', 'HTTPS_PROXY'].find((name) => (env[name] ?? '').trim() !== '');
  if (variable === undefined) return null;
  const target = new URL(endpoint.origin);
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = Number(target.port || 443);
  // As curl reads it: an empty no_proxy is no list, and NO_PROXY is read instead.
  const noProxy = [env.no_proxy, env.NO_PROXY].find((value) => (value ?? '').trim() !== '') ?? '';
  if (bypassesProxy(host, port, noProxy)) return null;
  const text = (env[variable] ?? '').trim();
  // `proxy.lan:3128` with no scheme is an http proxy, as curl takes it.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(`${variable} is not a proxy URL: ${printableEndpoint(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(
      `${variable} ${printableEndpoint(text)}: only http:// and https:// proxies are supported for the upload`,
    );
  const secrets = [url.password, url.username]
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    })
    .filter((part) => part !== '');
  const shown = `${url.protocol}//${url.username || url.password ? '***@' : ''}${url.host}`;
  return { url: url.href, shown, secrets, variable };
}

/**
 * Whether NO_PROXY names `host`: `*` (every host), a name matching the host or a domain of it
 * (`example.com`, `.example.com` and `*.example.com` all match `cloud.example.com`), an IP
 * address, an IPv4 CIDR block; any of them with `:PORT` to match that port only.
 */
export function bypassesProxy(host: string, port: number, noProxy: string): boolean {
  // A trailing dot (an absolute name) names the same host, in the URL as in the list (curl ignores it).
  const name = host.replace(/\.$/, '');
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const withPort = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(entry);
    if (withPort) {
      if (Number(withPort[2]) !== port) continue;
      entry = withPort[1] ?? '';
    }
    entry = entry.replace(/^\[|\]$/g, '');
    const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(entry);
    if (cidr) {
      if (inCidr(host, cidr[1] ?? '', Number(cidr[2]))) return true;
      continue;
    }
    entry = entry.replace(/^\*?\./, '').replace(/\.$/, '');
    if (entry !== '' && (name === entry || name.endsWith(`.${entry}`))) return true;
  }
  return false;
}

function ipv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) < 256)) return null;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

function inCidr(host: string, network: string, bits: number): boolean {
  const address = ipv4(host);
  const base = ipv4(network);
  if (address === null || base === null || bits > 32) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(address / size) === Math.floor(base / size);
}
