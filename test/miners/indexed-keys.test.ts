import { describe, expect, it } from 'vitest';
import { indexedKeys } from '../../src/miners/values.js';

describe('indexedKeys', () => {
  it('finds the distinct indices after a prefix, ascending, ignoring non-digit suffixes', () => {
    const record = {
      chain_acn6: 1,
      chain_acn1: 1,
      chain_acn01: 1,
      chain_acn: 1,
      chain_acnx: 1,
      chain_acn2a: 1,
      fan3: 1,
    };
    expect(indexedKeys(record, 'chain_acn')).toEqual([1, 6]);
    expect(indexedKeys(record, 'fan')).toEqual([3]);
  });

  it('treats regex metacharacters in the prefix literally', () => {
    expect(indexedKeys({ 'a.b1': 1, axb2: 1 }, 'a.b')).toEqual([1]);
  });
});
