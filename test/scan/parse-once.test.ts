// `scan @list --port 4028-4091` parsed the list once per port: 64 parses of a farm's inventory before
// any traffic. The list is parsed once (with a placeholder port), and its lines then take every port;
// big-list.test.ts shows the once (the cap is met 64 times sooner), this what each line becomes.
import { describe, expect, it } from 'vitest';
import { buildScanTargets, parsePortList } from '../../src/scan/index.js';

describe('scan @list on many ports', () => {
  it('names each of its lines on every port, and a line with its own port once', async () => {
    const ports = parsePortList('4028-4091');
    const text = '127.0.0.1\n127.0.0.8/30\n127.0.0.2:5000\n';
    const targets = await buildScanTargets(['@farm.txt'], ports, { readFile: async () => text });
    // 1 + 4 addresses on each of the 64 ports, and the host with its own port once.
    expect(targets.count).toBe(5 * 64 + 1);
    const keys = [...targets].map((t) => t.key);
    expect(keys.slice(0, 6)).toEqual([
      '127.0.0.1:4028',
      '127.0.0.8:4028',
      '127.0.0.9:4028',
      '127.0.0.10:4028',
      '127.0.0.11:4028',
      '127.0.0.2:5000',
    ]);
    expect(keys).toContain('127.0.0.11:4091');
    expect(keys.filter((key) => key.endsWith(':5000'))).toEqual(['127.0.0.2:5000']);
  });
});
