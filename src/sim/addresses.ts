// `--addresses 127.0.1.0/24` (also `127.0.1.10-127.0.1.50`, `127.0.1.10-50`, or a comma list):
// one miner per loopback address. Only 127.0.0.0/8 is accepted; a simulator never binds elsewhere.
import { UsageError } from '../errors.js';

/** As many miners as `--count` may start (src/commands/simulate.ts): one listener each. */
const MAX_ADDRESSES = 20_000;

function parseIpv4(text: string): number | null {
  const parts = text.trim().split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value;
}

function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

const LOOPBACK_START = 0x7f000000;
const LOOPBACK_END = 0x7fffffff;

export function parseAddresses(spec: string): string[] {
  const out: string[] = [];
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    let first: number | null;
    let last: number | null;
    const cidr = /^([\d.]+)\/(\d{1,2})$/.exec(item);
    const range = /^([\d.]+)-([\d.]+)$/.exec(item);
    if (cidr) {
      const base = parseIpv4(cidr[1] as string);
      const prefix = Number(cidr[2]);
      if (base === null || prefix > 32) throw new UsageError(`invalid --addresses entry '${item}'`);
      const size = 2 ** (32 - prefix);
      first = base - (base % size);
      last = first + size - 1;
    } else if (range) {
      first = parseIpv4(range[1] as string);
      const end = range[2] as string;
      // `127.0.1.10-300` is a typo, not 127.0.1.10 to 127.0.2.44: a last octet stays within 0-255.
      last = end.includes('.')
        ? parseIpv4(end)
        : first === null || !/^\d{1,3}$/.test(end) || Number(end) > 255
          ? null
          : first - (first % 256) + Number(end);
    } else {
      first = parseIpv4(item);
      last = first;
    }
    if (first === null || last === null) {
      throw new UsageError(`invalid --addresses entry '${item}': use a CIDR, a range or an address`);
    }
    if (last < first)
      throw new UsageError(`invalid --addresses entry '${item}': the range ends before it starts`);
    if (first < LOOPBACK_START || last > LOOPBACK_END) {
      throw new UsageError(
        `--addresses '${item}' is outside 127.0.0.0/8: the simulator only binds loopback addresses`,
      );
    }
    if (out.length + (last - first + 1) > MAX_ADDRESSES)
      throw new UsageError(`--addresses covers more than ${MAX_ADDRESSES} addresses`);
    for (let v = first; v <= last; v++) out.push(formatIpv4(v));
  }
  if (out.length === 0) throw new UsageError('--addresses is empty');
  return [...new Set(out)];
}
