import { describe, expect, it } from 'vitest';
import { parseTargetSpecs } from '../../src/targets/index.js';

const keys = async (spec: string) => [...(await parseTargetSpecs([spec], { defaultPort: 4028 }))].map((t) => t.key);

describe('CIDR edges', () => {
  it('skips network and broadcast addresses on a LAN prefix', async () => {
    const list = await keys('10.1.2.0/30');
    expect(list).toEqual(['10.1.2.1:4028', '10.1.2.2:4028']);
  });

  it('keeps every address on loopback, where each one is a host', async () => {
    const set = await parseTargetSpecs(['127.0.16.0/22'], { defaultPort: 4028 });
    const list = [...set].map((t) => t.key);
    expect(set.count).toBe(1024);
    expect(list[0]).toBe('127.0.16.0:4028');
    expect(list.at(-1)).toBe('127.0.19.255:4028');
  });
});
