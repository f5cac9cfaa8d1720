// The targets grammar (hashctl.md §2): HOST, HOST:PORT, [IPv6]:PORT, CIDR, ranges, @FILE, `-`.
// Everything is validated before any traffic; a bad spec is a UsageError that names it.
import ipaddr from 'ipaddr.js';
import { UsageError } from '../errors.js';
import { type Target, targetKey } from './types.js';

/** One host, or an inclusive IPv4 interval (as 32-bit numbers) on one port. */
export type TargetEntry =
  | { kind: 'host'; target: Target; ipv4: number | null }
  | { kind: 'range'; start: number; end: number; port: number };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

function bad(spec: string, why: string): never {
  throw new UsageError(`invalid target '${spec.length > 80 ? `${spec.slice(0, 80)}…` : spec}': ${why}`);
}

/** Strict dotted-quad to a 32-bit number; null when `text` is not one (leading zeros refused: octal?). */
export function parseIpv4(text: string): number | null {
  const match = IPV4.exec(text);
  if (!match) return null;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = match[i] as string;
    if (octet.length > 1 && octet.startsWith('0')) return null;
    const n = Number(octet);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

function parsePort(spec: string, text: string): number {
  if (!/^\d{1,5}$/.test(text)) bad(spec, `port '${text}' is not a number`);
  const port = Number(text);
  if (port < 1 || port > 65_535) bad(spec, `port ${port} is out of range 1-65535`);
  return port;
}

function checkedHostname(spec: string, host: string): string {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === '') bad(spec, 'empty host');
  if (/^[\d.]+$/.test(name)) bad(spec, 'not a valid IPv4 address');
  if (name.length > 253) bad(spec, 'host name too long');
  const labels = name.split('.');
  // Three numbers and a fourth part: an address or range with a typo (`127.0.75.1O`, a letter O
  // for a zero; `127.0.75.10-2O`), not a name to ask the resolver about.
  if (labels.length === 4 && labels.slice(0, 3).every((label) => /^\d{1,3}$/.test(label)))
    bad(spec, /-/.test(labels[3] as string) ? 'not a valid IPv4 range' : 'not a valid IPv4 address');
  if (!labels.every((label) => LABEL.test(label))) bad(spec, 'not a valid host name or address');
  // A dotted name ends in a top-level domain, which starts with a letter (`com`, `lan`, `xn--…`):
  // `10.0.0.1-3-5` or `farm.10x` is a range or address typed wrong, not a name to look up.
  if (labels.length > 1 && !/^[a-z]/.test(labels[labels.length - 1] as string))
    bad(spec, 'not a valid address, range or host name');
  if (!/[a-z]/.test(labels[labels.length - 1] as string))
    bad(spec, 'not a valid address, range or host name');
  return name;
}

function ipv6(spec: string, text: string): string {
  if (!ipaddr.IPv6.isValid(text)) bad(spec, 'not a valid IPv6 address');
  const address = ipaddr.IPv6.parse(text);
  // An IPv4-mapped address is the IPv4 host it names.
  return address.isIPv4MappedAddress() ? address.toIPv4Address().toString() : address.toString();
}

/** One host spec: HOST, HOST:PORT, IPv6, [IPv6]:PORT. Throws UsageError naming the spec. */
export function parseTarget(spec: string, defaultPort: number): Target {
  const entry = parseHostEntry(spec, defaultPort);
  return entry.target;
}

/**
 * Addresses no miner has: a connection to 0.0.0.0 or :: reaches this machine (a typo, or a listen
 * address pasted from a config), and broadcast and multicast take no TCP connection.
 */
const NOT_A_HOST: Record<string, string | undefined> = {
  unspecified: "the 'any' address (a connection to it reaches this machine)",
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
};

/** ipaddr.js's name for the ranges NOT_A_HOST lists, from the number (no parse per line of a long file). */
function ipv4Range(value: number): string {
  if (value === 0) return 'unspecified';
  if (value === 0xffffffff) return 'broadcast';
  return Math.floor(value / 2 ** 28) === 14 ? 'multicast' : '';
}

function parseHostEntry(spec: string, defaultPort: number): Extract<TargetEntry, { kind: 'host' }> {
  const text = spec.trim();
  if (text === '') bad(spec, 'empty');
  // `a:4028,b:4028` (a CSV habit) is several targets, not one odd IPv6 address.
  if (text.includes(',')) bad(spec, 'give several targets separated by spaces, not commas');
  let host: string;
  let port = defaultPort;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = ipv6(spec, bracketed[1] as string);
    if (bracketed[2] !== undefined) port = parsePort(spec, bracketed[2]);
  } else if ((text.match(/:/g) ?? []).length >= 2) {
    // A bare IPv6 address cannot carry a port: `fe80::1%eth0:4028` is said so, with the form to use.
    const withPort = /^(.*):(\d{1,5})$/.exec(text);
    if (!ipaddr.IPv6.isValid(text) && withPort && ipaddr.IPv6.isValid(withPort[1] as string))
      bad(spec, `to give an IPv6 address a port, put it in brackets: [${withPort[1]}]:${withPort[2]}`);
    host = ipv6(spec, text);
  } else {
    const colon = text.lastIndexOf(':');
    const name = colon === -1 ? text : text.slice(0, colon);
    if (colon !== -1) port = parsePort(spec, text.slice(colon + 1));
    const v4 = parseIpv4(name);
    host = v4 === null ? checkedHostname(spec, name) : formatIpv4(v4);
  }
  const ipv4 = host.includes(':') ? null : parseIpv4(host);
  const notHost =
    NOT_A_HOST[ipv4 !== null ? ipv4Range(ipv4) : host.includes(':') ? ipaddr.parse(host).range() : ''];
  if (notHost) bad(spec, `${host} is ${notHost}, not a miner's address`);
  return { kind: 'host', target: { host, port, key: targetKey(host, port) }, ipv4 };
}

/**
 * A range's addresses without the two no miner has at its ends (0.0.0.0 reaches this machine, as a
 * host target it is refused; 255.255.255.255 is broadcast). A range of nothing but such addresses,
 * or wholly multicast, is refused as its one host would be; a wide range only passes over them.
 */
function hostsOf(spec: string, first: number, last: number, port: number): TargetEntry {
  const start = first === 0 ? 1 : first;
  const end = last === 0xffffffff ? last - 1 : last;
  if (start > end)
    bad(spec, `${formatIpv4(first)} is ${NOT_A_HOST[ipv4Range(first)]}, not a miner's address`);
  if (ipv4Range(start) === 'multicast' && ipv4Range(end) === 'multicast')
    bad(spec, "multicast addresses, not miners' addresses (they take no TCP connection)");
  return { kind: 'range', start, end, port };
}

const CIDR = /^([^/]+)\/(\d{1,3})(?::(\d+))?$/;
const RANGE = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})-(\d{1,3}(?:\.\d{1,3}\.\d{1,3}\.\d{1,3})?)(?::(\d+))?$/;

/**
 * A spec that is not @FILE or `-`: a host, a CIDR (`10.0.0.0/22`, optional `:PORT`) or a range
 * (`10.0.0.10-10.0.0.50`, `10.0.0.10-50`, optional `:PORT`).
 */
export function parseSpecEntry(spec: string, defaultPort: number): TargetEntry {
  const text = spec.trim();
  // Pasted from a browser's address bar: `http://10.0.0.5/` is not "an invalid CIDR network".
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text))
    bad(spec, "a URL, not a target: give the miner as HOST or HOST:PORT, without 'scheme://'");
  // `"$MINERS"` quoted in a script: several targets in one argument.
  if (/\s/.test(text)) bad(spec, 'several targets in one argument: give each as its own argument');
  const cidr = CIDR.exec(text);
  if (cidr) {
    const base = parseIpv4(cidr[1] as string);
    if (base === null) {
      if (ipaddr.IPv6.isValid(cidr[1] as string))
        bad(spec, 'IPv6 networks cannot be expanded; list the hosts');
      bad(spec, 'not a valid IPv4 network');
    }
    const prefix = Number(cidr[2]);
    if (prefix > 32) bad(spec, `prefix /${prefix} is more than 32`);
    const port = cidr[3] === undefined ? defaultPort : parsePort(spec, cidr[3]);
    const size = 2 ** (32 - prefix);
    const network = Math.floor(base / size) * size; // host bits cleared
    const last = network + size - 1;
    // /31 and /32 have no network/broadcast address to skip (RFC 3021); on loopback (127/8) every
    // address is a host (the simulator binds 127.0.16.0), so nothing is skipped there either.
    const loopback = Math.floor(network / 2 ** 24) === 127;
    if (prefix >= 31 || loopback) return hostsOf(spec, network, last, port);
    return hostsOf(spec, network + 1, last - 1, port);
  }
  const range = RANGE.exec(text);
  if (range) {
    const start = parseIpv4(range[1] as string);
    if (start === null) bad(spec, 'range start is not a valid IPv4 address');
    const endText = range[2] as string;
    let end: number | null;
    if (endText.includes('.')) {
      end = parseIpv4(endText);
    } else {
      const octet = Number(endText);
      end =
        octet > 255 || (endText.length > 1 && endText.startsWith('0')) ? null : start - (start % 256) + octet;
    }
    if (end === null) bad(spec, 'range end is not a valid address or last octet');
    if (end < start) bad(spec, 'range ends before it starts');
    const port = range[3] === undefined ? defaultPort : parsePort(spec, range[3]);
    return hostsOf(spec, start, end, port);
  }
  if (text.includes('/')) bad(spec, 'not a valid CIDR network');
  return parseHostEntry(spec, defaultPort);
}

export interface InventoryItem {
  host?: unknown;
  port?: unknown;
  target?: unknown;
  outcome?: unknown;
}

/** Where a target file's entries go, each with where it was read (`farm.txt:12`, `farm.json: entry 3`). */
export type EntrySink = (entry: TargetEntry, where: string) => void;

/**
 * The entries of a target file's content: a JSON inventory (`["h:p", …]`, `[{host,port}, …]`,
 * `{"miners":[…]}` or `{"results":[{host,port,outcome}, …]}`: with `outcome`, only `miner` is kept),
 * or one spec per line with `#` comments and blank lines. With `sink`, each entry goes there as it is
 * read (and none is returned): a sink that throws stops the reading at that line.
 */
export function parseTargetFile(
  content: string,
  source: string,
  defaultPort: number,
  sink?: EntrySink,
): TargetEntry[] {
  const entries: TargetEntry[] = [];
  const add: EntrySink =
    sink ??
    ((entry) => {
      entries.push(entry);
    });
  const json = tryJson(content, source);
  if (json !== undefined) {
    parseInventory(json, source, defaultPort, add);
    return entries;
  }
  // CRLF (Windows), LF, and a lone CR (a classic-Mac export, some spreadsheet CSVs) all end a line.
  // Walked one line at a time, not split: a list of a million lines was a million strings at once.
  const lineEnd = /\r\n|\r|\n/g;
  let from = 0;
  for (let i = 0; from <= content.length; i++) {
    lineEnd.lastIndex = from;
    const end = lineEnd.exec(content);
    const raw = content.slice(from, end === null ? content.length : end.index);
    from = end === null ? content.length + 1 : end.index + end[0].length;
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    if (/\s/.test(line))
      throw new UsageError(`${source}:${i + 1}: one target per line, found '${line.slice(0, 60)}'`);
    // A spreadsheet's CSV row (`10.0.0.1,4028`, `10.0.0.1,rack A`): "separate them by spaces", the
    // command line's advice, is refused in a file too.
    if (line.includes(','))
      throw new UsageError(
        `${source}:${i + 1}: one target per line (HOST or HOST:PORT), found '${line.slice(0, 60)}': a file takes no commas`,
      );
    if (line.startsWith('@') || line === '-') {
      throw new UsageError(`${source}:${i + 1}: '${line}' cannot be used inside a target file`);
    }
    let entry: TargetEntry;
    try {
      entry = parseSpecEntry(line, defaultPort);
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`${source}:${i + 1}: ${error.message}`);
      throw error;
    }
    add(entry, `${source}:${i + 1}`);
  }
  return entries;
}

/**
 * A first line no target starts like: `{`, or `[` alone or before a quote, brace or bracket (an
 * IPv6 target is `[addr]` or `[addr]:port`).
 */
const JSON_START = /^(?:\{|\[\s*(?:$|["{[]))/;

function tryJson(content: string, source: string): unknown {
  const text = content.trimStart();
  const start = text[0];
  if (start !== '[' && start !== '{') return undefined;
  try {
    return JSON.parse(text) as unknown; // without a BOM a reader left in (a string stdin)
  } catch (error) {
    // `[::1]:4028` on the first line is a target, not JSON. A hand-edited inventory with a trailing
    // comma was read as lines instead, and refused as "invalid target '{'".
    const firstLine = text.split(/\r\n|\r|\n/, 1)[0] as string;
    if (JSON_START.test(firstLine.trim()))
      throw new UsageError(`${source}: not valid JSON: ${(error as Error).message}`);
    return undefined;
  }
}

function parseInventory(json: unknown, source: string, defaultPort: number, add: EntrySink): void {
  let items: unknown;
  if (Array.isArray(json)) items = json;
  else if (json !== null && typeof json === 'object') {
    const record = json as Record<string, unknown>;
    items = Array.isArray(record.miners) ? record.miners : record.results;
  }
  if (!Array.isArray(items)) {
    throw new UsageError(
      `${source}: a JSON inventory is a list, or an object with a "miners" or "results" list`,
    );
  }
  items.forEach((item: unknown, index) => {
    const where = `${source}: entry ${index + 1}`;
    let entry: TargetEntry | null;
    try {
      entry = inventoryEntry(item, defaultPort);
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`${where}: ${error.message}`);
      throw error;
    }
    if (entry !== null) add(entry, where);
  });
}

/** One item of a JSON inventory as an entry; null for a scan result that is no miner. */
function inventoryEntry(item: unknown, defaultPort: number): TargetEntry | null {
  if (typeof item === 'string') return parseSpecEntry(item, defaultPort);
  if (item === null || typeof item !== 'object') throw new UsageError('expected "host:port" or {host, port}');
  const { host, port, target, outcome } = item as InventoryItem;
  if (outcome !== undefined && outcome !== 'miner') return null;
  if (typeof host === 'string') {
    if (port !== undefined && !(typeof port === 'number' && Number.isInteger(port))) {
      throw new UsageError(`port ${JSON.stringify(port)} is not a whole number`);
    }
    // Only a port the item gives is checked: the default is the caller's (scan's UNSET_PORT).
    if (port !== undefined && ((port as number) < 1 || (port as number) > 65_535))
      throw new UsageError(`port ${port} is out of range 1-65535`);
    const bareIpv6 = (host.match(/:/g) ?? []).length >= 2 && !host.startsWith('[');
    return parseHostEntry(bareIpv6 ? `[${host}]` : host, port === undefined ? defaultPort : (port as number));
  }
  if (typeof target === 'string') return parseSpecEntry(target, defaultPort);
  throw new UsageError('expected "host:port" or {host, port}');
}
