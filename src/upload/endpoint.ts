// The collector endpoint as the user gives it (`https://cloud.example/` or the full upload URL),
// checked before any key is read or any byte is sent.
import { UsageError } from '../errors.js';
import { quoted } from '../output/terminal.js';

export const UPLOAD_PATH = '/api/collector/upload';

export interface UploadEndpoint {
  /** scheme://host[:port], what undici dispatches to. */
  origin: string;
  /** Path (and query) of the upload route on that origin. */
  path: string;
  /** The full URL, safe to print (credentials are refused, query values masked). */
  url: string;
  secure: boolean;
  /** Only loopback hosts may use plain http (the key never crosses a network in clear). */
  loopback: boolean;
  /**
   * The query's values (a `?token=…` is a secret as much as the key): redacted, with the key, from
   * whatever the collector says back, as `url` masks them.
   */
  secrets: string[];
}

/** `flag` names where the URL came from in messages (`--upload`, the config's `upload.endpoint`). */
export function parseEndpoint(text: string, flag = '--endpoint'): UploadEndpoint {
  // Every message quotes the text only through `shown`: a URL rejected for its scheme or port may
  // still carry a password, and a pasted one may carry newlines that would forge a second line.
  const shown = printableEndpoint(text);
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    const port = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/i.exec(text.trim())?.[1];
    if (port !== undefined && Number(port) > 65535)
      throw new UsageError(`invalid ${flag} '${shown}': port ${port} is out of range (1-65535)`);
    throw new UsageError(`invalid ${flag} '${shown}': expected an http:// or https:// URL`);
  }
  if (url.port === '0')
    throw new UsageError(`invalid ${flag} '${shown}': port 0 is not a port to connect to`);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`invalid ${flag} '${shown}': only http:// and https:// are supported`);
  }
  if (url.username || url.password) {
    // A secret in the URL would end up in logs and status output; the key has its own channel.
    throw new UsageError(
      `invalid ${flag}: credentials in the URL are refused; the key comes from HASHCTL_COLLECTOR_KEY or a key file`,
    );
  }
  if (url.hash) throw new UsageError(`invalid ${flag} '${shown}': a #fragment has no meaning here`);
  // Join without losing a base path (`https://host/tenant/`) and without doubling the route.
  const base = url.pathname.replace(/\/+$/, '');
  const path = (base.endsWith(UPLOAD_PATH) ? base : `${base}${UPLOAD_PATH}`) + url.search;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // Printed in reports and notes: a query may carry a token (`?token=…`), so its values are masked.
  const query = [...url.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=***`).join('&');
  const loopback = isLoopbackHost(host);
  refusePlainHttp(url, flag);
  return {
    origin: url.origin,
    path,
    url: `${url.origin}${path.slice(0, path.length - url.search.length)}${query ? `?${query}` : ''}`,
    secure: url.protocol === 'https:',
    loopback,
    secrets: [...new Set(url.searchParams.values())].filter((value) => value !== ''),
  };
}

/**
 * A URL the collector named (a redirect's Location) as a message may show it: userinfo and query
 * values masked, as the endpoint itself is printed (a Location often echoes the request's query).
 */
export function maskUrlSecrets(text: string): string {
  return text
    .replace(/^((?:[a-z][a-z0-9+.-]*:)?\/\/)[^/?#]*@/i, '$1***@')
    .replace(/([?&][^=&#]*=)[^&#]*/g, '$1***');
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The collector key goes in a header: over plain http it would cross the network readable by
 * anyone on it. Plain http is for a collector on this machine only.
 */
export function refusePlainHttp(url: URL, flag?: string): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol === 'http:' && !isLoopbackHost(host)) {
    throw new UsageError(
      `refusing to send the collector key over plain http to ${quoted(host)}${flag === undefined ? '' : ` (${flag})`}: use https:// (a private CA: --ca FILE or upload.ca_file)`,
    );
  }
}

/** Longest quote of a rejected endpoint in a message; the rest is elided. */
const SHOWN_CHARS = 200;

/**
 * The endpoint text as a message may quote it: userinfo replaced by `***` and control characters
 * escaped. Text-based, so it also covers what `new URL` refuses (`http://u:pw@host:99999/`): the
 * userinfo is taken as everything from after `scheme://` up to the last `@`, which
 * over-redacts a path holding an `@` (harmless) but never shows a password, even one holding `/`.
 */
export function printableEndpoint(text: string): string {
  let shown = text.trim();
  const at = shown.lastIndexOf('@');
  if (at >= 0) {
    // The URL parser drops tabs and newlines anywhere, so they may sit inside the scheme or the
    // slashes. Without slashes (`user:pw@host`) the "scheme" may be the user name: hide it too.
    const scheme = /^[A-Za-z][A-Za-z0-9+.\-\t\n\r]*:[\t\n\r]*[/\\][/\\\t\n\r]*/.exec(shown);
    const start = scheme === null ? 0 : scheme[0].length;
    if (start <= at) shown = `${shown.slice(0, start)}***${shown.slice(at)}`;
  }
  if (shown.length > SHOWN_CHARS) shown = `${shown.slice(0, SHOWN_CHARS)}…`;
  return quoted(shown);
}
