// `scan @list --port 4028-4091` parsed the list once per port: 64 parses of a farm's inventory before
// any traffic. The list is parsed once, and its lines take every port.
import { describe, expect, it, vi } from 'vitest';
import { buildScanTargets, parsePortList } from '../../src/scan/index.js';

const calls = vi.hoisted(() => ({ parseTargetFile: 0 }));
vi.mock('../../src/targets/parse.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/targets/parse.js')>();
  return {
    ...actual,
    parseTargetFile: (...args: Parameters<typeof actual.parseTargetFile>) => {
      calls.parseTargetFile++;
      return actual.parseTargetFile(...args);
    },
  };
});

describe('scan @list on many ports', () => {
  it('parses the list once, and names each of its lines on every port', async () => {
    const ports = parsePortList('4028-4091');
    const text = '127.0.0.1\n127.0.0.8/30\n127.0.0.2:5000\n';
    calls.parseTargetFile = 0;
    const targets = await buildScanTargets(['@farm.txt'], ports, { readFile: async () => text });
    expect(calls.parseTargetFile).toBe(1);
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
