// A host name and its address name one miner: kept once, the first listed.
import { describe, expect, it } from 'vitest';
import { distinctMiners, normalizeAddress } from '../../src/targets/resolve.js';
import type { Target } from '../../src/targets/types.js';

const t = (host: string, port = 4028): Target => ({ host, port, key: `${host}:${port}` });
const names: Record<string, string[]> = {
  'rig-1.farm': ['127.0.0.5'],
  'rig-1-alias.farm': ['127.0.0.5', '::1'],
  'dual.farm': ['::ffff:127.0.0.9'],
};
const resolve = async (host: string) => names[host] ?? [host];

describe('distinctMiners', () => {
  it('is null when every target is an address: nothing to resolve', async () => {
    let asked = 0;
    const result = await distinctMiners([t('127.0.0.1'), t('::1')], {
      resolve: async (h) => {
        asked++;
        return [h];
      },
    });
    expect(result).toBeNull();
    expect(asked).toBe(0);
  });

  it('drops a name that resolves to an address listed before it, and a second name of one address', async () => {
    const result = await distinctMiners(
      [
        t('127.0.0.5'),
        t('rig-1.farm'),
        t('rig-1-alias.farm'),
        t('rig-1.farm', 4029),
        t('dual.farm'),
        t('127.0.0.9'),
      ],
      { resolve },
    );
    expect(result?.targets.map((x) => x.key)).toEqual([
      '127.0.0.5:4028',
      'rig-1.farm:4029',
      'dual.farm:4028',
    ]);
    expect(result?.dropped.map((d) => [d.target.key, d.sameAs.key])).toEqual([
      ['rig-1.farm:4028', '127.0.0.5:4028'],
      ['rig-1-alias.farm:4028', '127.0.0.5:4028'],
      ['127.0.0.9:4028', 'dual.farm:4028'],
    ]);
  });

  it('keeps a name that does not resolve (its poll fails and says why)', async () => {
    const result = await distinctMiners([t('127.0.0.1'), t('nowhere.invalid')], {
      resolve: async (h) => [h],
    });
    expect(result?.targets.map((x) => x.key)).toEqual(['127.0.0.1:4028', 'nowhere.invalid:4028']);
    expect(result?.dropped).toEqual([]);
  });
});

describe('distinctMiners with a resolver that is down', () => {
  it('goes on after the timeout, keeping the names it could not resolve', async () => {
    const hung = () => new Promise<string[]>(() => {});
    const result = await distinctMiners([t('127.0.0.5'), t('rig-1.farm'), t('rig-2.farm')], {
      resolve: hung,
      timeoutMs: 50,
    });
    expect(result?.targets.map((x) => x.key)).toEqual([
      '127.0.0.5:4028',
      'rig-1.farm:4028',
      'rig-2.farm:4028',
    ]);
  });

  it('stops waiting at Ctrl-C, keeping the names not resolved yet', async () => {
    const hung = () => new Promise<string[]>(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const result = await distinctMiners([t('rig-1.farm'), t('rig-2.farm')], {
      resolve: hung,
      timeoutMs: 600_000,
      signal: controller.signal,
    });
    expect(result?.targets.map((x) => x.key)).toEqual(['rig-1.farm:4028', 'rig-2.farm:4028']);
  });

  it('asks nothing for a single target', async () => {
    let asked = 0;
    const one = Object.assign([t('rig-1.farm')], { count: 1 });
    const result = await distinctMiners(one, {
      resolve: async (h) => {
        asked++;
        return [h];
      },
    });
    expect(result).toBeNull();
    expect(asked).toBe(0);
  });
});

describe('normalizeAddress', () => {
  it('reads an IPv4-mapped IPv6 address as the IPv4 one', () => {
    expect(normalizeAddress('::FFFF:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('FE80::1')).toBe('fe80::1');
  });
});
