// Target lists for the tests of lists past a command's cap (targets, scan, collect).
import { formatIpv4 } from '../../src/targets/index.js';

/** `count` distinct loopback addresses, one per line, from 127.1.0.0 (parsed only, never dialled). */
export function distinctHosts(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(formatIpv4(0x7f010000 + i));
  return `${lines.join('\n')}\n`;
}

/** A line no parser takes: put last, it is reached only if every line before it was parsed. */
export const BAD_LAST_LINE = 'not a target!\n';
