// Hashrates as tables and summaries show them.
import { describe, expect, it } from 'vitest';
import { formatHashrate } from '../../src/output/render.js';

describe('formatHashrate', () => {
  it('picks the unit and decimals by the value as shown', () => {
    expect(formatHashrate(0)).toBe('0.00 H/s');
    expect(formatHashrate(null)).toBe('-');
    expect(formatHashrate(13.62e12)).toBe('13.62 TH/s');
    expect(formatHashrate(180.6e12)).toBe('180.6 TH/s');
    expect(formatHashrate(496.36e6)).toBe('496.4 MH/s');
    expect(formatHashrate(1.39e15)).toBe('1.39 PH/s');
  });

  it('never shows 1000 of a unit: a value that rounds up to it is 1.00 of the next', () => {
    expect(formatHashrate(999.96e12)).toBe('1.00 PH/s');
    expect(formatHashrate(999.95)).toBe('1.00 kH/s');
    expect(formatHashrate(999.996e9)).toBe('1.00 TH/s');
    expect(formatHashrate(999.9e12)).toBe('999.9 TH/s');
    // Three digits before the point get one decimal, also once rounding made them three.
    expect(formatHashrate(99.996e12)).toBe('100.0 TH/s');
    expect(formatHashrate(99.994e12)).toBe('99.99 TH/s');
    // The largest unit has no next one.
    expect(formatHashrate(1e21)).toBe('1000.0 EH/s');
  });
});
