// A result's JSON is written in pieces, never as one string: indentation grows with the depth of
// every value, so a reply within --max-bytes can print to more than V8's longest string (~512 M
// characters). The pieces are jsonText's bytes exactly, whatever the values hold.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeReply } from '../../src/cgminer/decode.js';
import { MinerError } from '../../src/errors.js';
import { jsonText, writeJsonPieces } from '../../src/output/terminal.js';
import { commandOf, SAMPLES_DIR } from '../fixtures/miners/samples.js';

function pieces(value: unknown, margin?: string): string[] {
  const out: string[] = [];
  writeJsonPieces((piece) => out.push(piece), value, 2, margin);
  return out;
}

const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: [] });
Object.defineProperty(nullProto, '__proto__', { value: { x: 1 }, enumerable: true });

const ODD: unknown[] = [
  { nested: { list: [1, [2, []], {}], empty: [], text: 'line\nbreak \u2028 \u202e \u0085 \u009b "q"' } },
  { n: -0, big: 1e21, small: 5e-324, nan: Number.NaN, inf: -Infinity, half: '\ud800', undef: undefined },
  { '10': 'integer-like key', z: 1, a: 2, f: () => 1, s: Symbol('x') },
  [undefined, () => 1, Symbol('y'), null, true, 'x'],
  { when: new Date(0), boxed: [Object(1), Object('s'), Object(false)], gone: { a: undefined } },
  {
    error: new MinerError('timeout', 'no answer\u001b[2J'),
    own: { toJSON: () => ({ kept: [1, { k: 2 }] }) },
  },
  nullProto,
  [],
  {},
  'a bare string',
  42,
];

describe('writeJsonPieces', () => {
  it("writes jsonText's bytes, with the margin after each line break", () => {
    for (const value of ODD) {
      expect(pieces(value).join('')).toBe(jsonText(value, 2));
      expect(pieces(value, '    ').join('')).toBe(jsonText(value, 2).replace(/\n/g, '\n    '));
    }
  });

  it("writes jsonText's bytes for every real sample decoded, and for any JSON value", () => {
    for (const file of readdirSync(SAMPLES_DIR).filter((name) => name.includes('__'))) {
      let reply: unknown;
      try {
        reply = decodeReply(readFileSync(`${SAMPLES_DIR}${file}`), commandOf(file));
      } catch (error) {
        reply = (error as MinerError).toJSON();
      }
      const result = { target: '127.0.0.1:4028', ok: true, responses: { [commandOf(file)]: reply } };
      expect(pieces(result, '    ').join(''), file).toBe(jsonText(result, 2).replace(/\n/g, '\n    '));
    }
    fc.assert(
      fc.property(fc.jsonValue(), (value) => pieces(value).join('') === jsonText(value, 2)),
      { numRuns: 500 },
    );
  });

  it('never hands over one string of a deep and long list: pieces of about 64 K characters', () => {
    // 40,000 values 150 lists deep: 12 M characters of indentation, from 80 KB of reply.
    let deep: unknown = Array.from({ length: 40_000 }, (_, i) => i % 10);
    for (let i = 0; i < 150; i++) deep = [deep];
    const out = pieces({ responses: { summary: { SUMMARY: deep } } }, '    ');
    const longest = out.reduce((max, piece) => Math.max(max, piece.length), 0);
    expect(longest).toBeLessThan(70_000);
    expect(out.reduce((sum, piece) => sum + piece.length, 0)).toBeGreaterThan(12_000_000);
  });
});
