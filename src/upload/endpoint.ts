// The collector endpoint as the user gives it (`https://cloud.example/` or the full upload URL),
// checked before any key is read or any byte is sent.
import { UsageError } from '../errors.js';

export const UPLOAD_PATH = '/api/collector/upload';

export interface UploadEndpoint {
  /** scheme://host[:port], what undici dispatches to. */
  origin: string;
  /** Path (and query) of the upload route on that origin. */
  path: string;
  /** The full URL, safe to print (credentials are refused). */
  url: string;
  secure: boolean;
  /** Loopback hosts may use plain http without a warning. */
  loopback: boolean;
}

export function parseEndpoint(text: string): UploadEndpoint {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new UsageError(`invalid --endpoint '${text}': expected an http:// or https:// URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`invalid --endpoint '${text}': only http:// and https:// are supported`);
  }
  if (url.username || url.password) {
    // A secret in the URL would end up in logs and status output; the key has its own channel.
    throw new UsageError(
      'invalid --endpoint: credentials in the URL are refused; the key comes from HASHCTL_COLLECTOR_KEY or --key-file',
    );
  }
  if (url.hash) throw new UsageError(`invalid --endpoint '${text}': a #fragment has no meaning here`);
  // Join without losing a base path (`https://host/tenant/`) and without doubling the route.
  const base = url.pathname.replace(/\/+$/, '');
  const path = (base.endsWith(UPLOAD_PATH) ? base : `${base}${UPLOAD_PATH}`) + url.search;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    origin: url.origin,
    path,
    url: `${url.origin}${path}`,
    secure: url.protocol === 'https:',
    loopback: host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host),
  };
}
