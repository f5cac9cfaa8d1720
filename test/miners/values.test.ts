// values.ts: well-known keys read in any case, and temperatures read as a sensor can give them.
import { describe, expect, it } from 'vitest';
import { field, firstOf, num } from '../../src/miners/values.js';

describe('field', () => {
  it('prefers the exact key, then the first key equal but for ASCII case', () => {
    expect(field({ Temperature: 1, temperature: 2 }, 'temperature')).toBe(2);
    expect(field({ TEMPERATURE: 1, temperature: 2 }, 'Temperature')).toBe(1);
    expect(field({ 'mhs 5s': 13.5 }, 'MHS 5s')).toBe(13.5);
    expect(field({ 'MHS 30S': 7 }, 'MHS 30s')).toBe(7);
  });

  it('folds only ASCII letters: no other character stands for a letter or for another sign', () => {
    expect(field({ '\u212AHS 5s': 1 }, 'KHS 5s')).toBeUndefined(); // Kelvin sign
    expect(field({ 'MHS@5s': 1 }, 'MHS`5s')).toBeUndefined(); // '@' | 0x20 is '`'
    expect(field({ 'MHS[5s': 1 }, 'MHS{5s')).toBeUndefined();
    expect(field({ 'MHS 5s ': 1 }, 'MHS 5s')).toBeUndefined();
    expect(field({}, 'MHS 5s')).toBeUndefined();
  });

  it('reads only own keys, never the prototype', () => {
    const record = Object.create({ elapsed: 5 }) as Record<string, unknown>;
    expect(field(record, 'Elapsed')).toBeUndefined();
    expect(field({ toString: 3 }, 'TOSTRING')).toBe(3);
    expect(field({}, 'constructor')).toBeUndefined();
  });

  it('serves firstOf in any case', () => {
    expect(firstOf({ 'ghs av': '12.5' }, ['GHS 5s', 'GHS av'], num)).toBe(12.5);
  });
});

describe('temp', () => {
  it('reads to a hundredth of a degree: a denormal is the 0 sentinel, not a reading', async () => {
    const { temp, ambientTemp } = await import('../../src/miners/values.js');
    expect(temp(5e-324)).toBeNull();
    expect(temp(-0.001)).toBeNull();
    expect(ambientTemp('0.004')).toBeNull();
    expect(temp(65.375)).toBe(65.38);
    expect(temp('71.5')).toBe(71.5);
    expect(ambientTemp(-1)).toBe(-1);
  });
});
