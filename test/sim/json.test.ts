// The simulator's JSON writer writes bytes directly; these are the bytes of the string writer it
// replaced (kept here as the reference), for any value a profile can build.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fixed, formatNumber, fx, JsonWriter, type Rec, toJson, type Value } from '../../src/sim/json.js';

/** The former src/sim/json.ts toJson: JSON.stringify for strings and keys, String() for numbers. */
function reference(value: Value, sortKeys = false): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null) return 'null';
  if (value instanceof Fixed) {
    return Number.isFinite(value.value) ? value.value.toFixed(value.digits) : formatNumber(value.value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => reference(v, sortKeys)).join(',')}]`;
  const keys = sortKeys ? Object.keys(value).sort() : Object.keys(value);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(value[k] as Value, sortKeys)}`).join(',')}}`;
}

function written(value: Value, sortKeys = false, nul = false): Buffer {
  const writer = new JsonWriter(8);
  writer.value(value, sortKeys);
  return writer.finish(nul);
}

const numbers = fc.oneof(
  fc.integer(),
  fc.integer({ min: -1000, max: 1000 }),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    2147483647,
    -2147483648,
    2147483648,
    2 ** 53,
    -(2 ** 53),
    2 ** 53 + 2,
    1e21,
    0.1,
    1e-7,
  ),
);
const fixed = fc
  .tuple(fc.oneof(numbers, fc.integer({ min: -99999999, max: 99999999 })), fc.integer({ min: 0, max: 12 }))
  .map(([value, digits]) => fx(value, digits));
// Every UTF-16 unit (lone surrogates and controls included), and plain ASCII more often.
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
  fc.string({ unit: 'binary' }),
);
const { value } = fc.letrec<{ value: Value; record: Rec }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    numbers,
    fixed,
    text,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('record'),
  ),
  record: fc.dictionary(
    fc.oneof(text, fc.constantFrom('0', '7', 'STATUS', 'GHS 5s', 'temp2_3')),
    tie('value'),
    {
      maxKeys: 6,
    },
  ),
}));

describe('JsonWriter', () => {
  it('writes the bytes of the string writer it replaced, in insertion and in sorted key order', () => {
    fc.assert(
      fc.property(value, fc.boolean(), (v, sortKeys) => {
        expect(written(v, sortKeys)).toEqual(Buffer.from(reference(v, sortKeys), 'utf8'));
        expect(toJson(v, sortKeys)).toBe(reference(v, sortKeys));
      }),
      { numRuns: 2000 },
    );
  });

  it('prints numbers as String() and fixed decimals as toFixed(), firmware spellings for the rest', () => {
    const cases: Array<[Value, string]> = [
      [0, '0'],
      [-0, '0'],
      [-1, '-1'],
      [2147483647, '2147483647'],
      [-2147483648, '-2147483648'],
      [2 ** 53, '9007199254740992'],
      [1e21, '1e+21'],
      [0.1, '0.1'],
      [Number.NaN, 'nan'],
      [Number.POSITIVE_INFINITY, 'inf'],
      [fx(-0, 2), '0.00'],
      [fx(99999999, 6), '99999999.000000'],
      [fx(-5, 1), '-5.0'],
      [fx(7, 0), '7'],
      [fx(1.005, 2), (1.005).toFixed(2)],
      [fx(2 ** 53 + 2, 2), (2 ** 53 + 2).toFixed(2)],
      [fx(Number.NaN, 2), 'nan'],
      [fx(Number.NEGATIVE_INFINITY, 2), '-inf'],
    ];
    for (const [v, expected] of cases) expect(written(v).toString('latin1'), String(expected)).toBe(expected);
  });

  it('keeps BOSminer key order whether or not the record was built sorted', () => {
    const built = { b: 1, a: fx(2, 1), C: 'x' };
    expect(written(built, true).toString()).toBe('{"C":"x","a":2.0,"b":1}');
    expect(written({ C: 'x', a: fx(2, 1), b: 1 }, true).toString()).toBe('{"C":"x","a":2.0,"b":1}');
  });

  it('appends the NUL terminator on request and reuses its scratch buffer between documents', () => {
    const writer = new JsonWriter(4);
    writer.value({ STATUS: 'S', Msg: 'a long enough message to grow the buffer' }, false);
    const first = writer.finish(true);
    expect(first.at(-1)).toBe(0);
    expect(first.subarray(0, -1).toString()).toBe(
      '{"STATUS":"S","Msg":"a long enough message to grow the buffer"}',
    );
    writer.reset();
    writer.value([1, 'é'], false);
    expect(writer.finish()).toEqual(Buffer.from('[1,"é"]'));
    expect(first.subarray(0, -1).toString()).toContain('grow the buffer');
  });
});
