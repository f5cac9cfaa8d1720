// The JSON documents written piece by piece (probe's per-target document, scan's) are byte for byte
// what writeJson wrote as one string, whatever the values hold.
import { describe, expect, it } from 'vitest';
import type { OutStream } from '../../src/context.js';
import { PerTargetJsonStream, perTargetJson, writeJson, writeJsonMembers } from '../../src/output/render.js';

function sink(): OutStream & { text: string; chunks: number } {
  const out = {
    text: '',
    chunks: 0,
    write(chunk: string) {
      out.text += chunk;
      out.chunks++;
      return true;
    },
  };
  return out;
}

function whole(value: unknown): string {
  const out = sink();
  writeJson(out, value);
  return out.text;
}

const ODD = [
  {
    target: 'a',
    nested: { list: [1, [2, []], {}], empty: [], text: 'line\nbreak \u2028 \u202e \u0085 "q"' },
  },
  { target: 'b', n: -0, big: 1e21, small: 5e-324, half: '\ud800', undef: undefined, nil: null },
  { target: 'c', '10': 'integer-like key', z: 1, a: 2 },
];

describe('PerTargetJsonStream', () => {
  it('writes what perTargetJson wrote whole, in target order, whatever order results come in', () => {
    for (const order of [
      [0, 1, 2],
      [2, 0, 1],
      [1, 2, 0],
    ]) {
      const out = sink();
      const written: number[] = [];
      const document = new PerTargetJsonStream<object>(out, false);
      for (const index of order) document.put(index, ODD[index] as object, () => written.push(index));
      document.end();
      expect(out.text).toBe(whole(perTargetJson(ODD, false)));
      expect(written).toEqual([0, 1, 2]);
    }
  });

  it('leaves out the targets without a result, and prints one host as the plain object', () => {
    const out = sink();
    const document = new PerTargetJsonStream<object>(out, false);
    document.put(1, ODD[1] as object);
    document.put(0, null);
    document.put(2, null);
    document.end();
    expect(out.text).toBe(whole(perTargetJson([ODD[1] as object], false)));
    for (const results of [[], [ODD[0]], [ODD[0], ODD[1]]] as object[][]) {
      const one = sink();
      const single = new PerTargetJsonStream<object>(one, true);
      results.forEach((result, index) => {
        single.put(index, result);
      });
      single.end();
      expect(one.text).toBe(whole(perTargetJson(results, true)));
    }
  });
});

describe('writeJsonMembers', () => {
  it('writes what writeJson wrote whole, a write per element of the listed arrays', async () => {
    const values: Record<string, unknown>[] = [
      { results: ODD, summary: { count: 3, ports: [1, 2] } },
      { results: [], summary: {} },
      { gone: undefined, results: [undefined, () => 1, 1], f: () => 1, summary: 'x' },
      { results: 'not a list', summary: null },
      {},
      { gone: undefined },
    ];
    for (const value of values) {
      const out = sink();
      await writeJsonMembers(out, value, ['results']);
      expect(out.text).toBe(whole(value));
    }
    const out = sink();
    await writeJsonMembers(out, { results: ODD, summary: {} }, ['results']);
    expect(out.chunks).toBeGreaterThan(ODD.length);
  });
});
