// The JSON.parse fast path of parseLenient must give exactly what the hand-written parser gives,
// glued `}{` repair included: same value, same repairs (in any order), same truncation.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commaGluedObjects,
  type LenientResult,
  parseLenient,
  parseLenientByHand,
} from '../../src/cgminer/lenient-json.js';

const samples = join(import.meta.dirname, '../../../shared/protocol/samples');

function sorted(result: LenientResult): LenientResult {
  return { ...result, repairs: [...result.repairs].sort() };
}

function same(text: string): void {
  let reference: unknown;
  try {
    reference = sorted(parseLenientByHand(text));
  } catch (error) {
    reference = { threw: (error as Error).name };
  }
  let fast: unknown;
  try {
    fast = sorted(parseLenient(text));
  } catch (error) {
    fast = { threw: (error as Error).name };
  }
  expect(fast).toEqual(reference);
}

describe('commaGluedObjects', () => {
  it('commas glued objects outside strings only', () => {
    expect(commaGluedObjects('{"a":[{"b":1}{"c":"}{"} \n{}]}')).toBe(
      '{"a":[{"b":1},{"c":"}{"},{}]}'.replace('},{}', '}, \n{}'),
    );
    expect(commaGluedObjects('{"a":"}{","b":"\\"}{"}')).toBeNull();
    expect(commaGluedObjects('{"a":[1,2]}')).toBeNull();
  });
});

describe('parseLenient fast path equals the hand-written parser', () => {
  it('on every sample reply', () => {
    for (const name of readdirSync(samples)) {
      const text = readFileSync(join(samples, name), 'utf8').replace(/\0+$/, '');
      same(text);
    }
  });

  it('on glued objects in lists, objects and at the top level', () => {
    for (const text of [
      '{"STATS":[{"a":1}{"b":2}],"id":1}',
      '{"STATS":[{"a":1} {"b":2}\n{"c":"}{"}]}',
      '{"a":{"b":1}{"c":2}}',
      '{"a":1}{"b":2}',
      '{"a":[{"x":"nan"}{"y":1}]}',
      '{"a":[{"k":1,"k":2}{"y":1}]}',
      '{"a":[{"y":1}{"y":1},]}',
      '{"a":[{}{}]}',
      '{"a":"}{"}',
      // Glue outside strings and `}{` (or an earlier `},{`) inside a key or a string: the blind
      // commaing of every `}{` must not reach the parsed value.
      '{"STATS":[{"a":1}{"b":"x}{y"}]}',
      '{"STATS":[{"a}{":1}{"b":2}]}',
      '{"STATS":[{"a":"},{"}{"b":2}]}',
      '{"STATS":[{"a":["}{"]}{"b":2}]}',
      '{"STATS":[{"a":1}{"b":2} {"c":"}{"}]}',
    ])
      same(text);
  });

  it('on generated lists of objects with commas dropped', () => {
    const member = fc.dictionary(
      fc.oneof(fc.string(), fc.constantFrom('}{', '},{', 'a')),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('}{', '} {', 'nan', '\\"}{')),
      { maxKeys: 3 },
    );
    fc.assert(
      fc.property(
        fc.array(member, { maxLength: 5 }),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        (list, drops) => {
          let text = JSON.stringify({ STATS: list, id: 1 });
          let n = 0;
          text = text.replace(/\},\{/g, (found) => (drops[n++ % drops.length] ? '}{' : found));
          same(text);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
