// Many ranges in one target list. Walking the set kept what earlier ranges covered as a list that was
// copied and sorted again after every range: a file of single-address ranges (`10.0.0.1/32` per line,
// `10.0.0.1-1`) was quadratic, 20,000 lines took 16 s and the run cap of 65,536 several minutes
// before any traffic. And whatever the walk keeps, it must yield each target once, in target order.
import { describe, expect, it } from 'vitest';
import { parseTargetSpecs } from '../../src/targets/index.js';
import { formatIpv4, parseIpv4 } from '../../src/targets/parse.js';

async function fromFile(text: string) {
  return parseTargetSpecs(['@farm.txt'], { defaultPort: 4028, readFile: async () => text });
}

/** What the specs name, the slow obvious way: each address of each spec, first mention wins. */
function reference(specs: string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    const [addresses, portText] = spec.split(':') as [string, string | undefined];
    const port = portText ?? '4028';
    const [from, to] = addresses.includes('-') ? addresses.split('-') : [addresses, addresses];
    const first = parseIpv4(from as string) as number;
    const last = parseIpv4(to as string) as number;
    for (let a = first; a <= last; a++) {
      const key = `${formatIpv4(a)}:${port}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(key);
      }
    }
  }
  return out;
}

describe('a target list of many ranges', () => {
  it('walks 65,536 single-address ranges that share no address, in any order', async () => {
    const lines = Array.from(
      { length: 65_536 },
      (_, i) => `10.${i >> 15}.${(i >> 7) & 255}.${(i & 127) * 2 + 1}/32`,
    );
    // Reversed too: a list sorted the other way round is no slower.
    for (const text of [lines.join('\n'), [...lines].reverse().join('\n')]) {
      const set = await fromFile(text);
      let yielded = 0;
      for (const _ of set) yielded++;
      expect(set.count).toBe(65_536);
      expect(yielded).toBe(65_536);
    }
  });

  it('walks 40,000 lines that name 20,000 addresses twice, each once', async () => {
    const lines = Array.from(
      { length: 20_000 },
      (_, i) => `10.9.${i >> 7}.${(i & 127) * 2 + 1}-${(i & 127) * 2 + 1}`,
    );
    const set = await fromFile([...lines, ...lines].join('\n'));
    const keys = new Set<string>();
    let yielded = 0;
    for (const target of set) {
      keys.add(target.key);
      yielded++;
    }
    expect(set.count).toBe(20_000);
    expect(yielded).toBe(20_000);
    expect(keys.size).toBe(20_000);
  });

  it('yields what the specs name, each once, first mention first, for ranges that overlap or not', async () => {
    // A small seeded generator: the same lists every run.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let round = 0; round < 400; round++) {
      const specs: string[] = [];
      const pieces = 1 + random(25);
      for (let i = 0; i < pieces; i++) {
        const start = 1 + random(120);
        const length = random(4) === 0 ? random(40) : random(3);
        const port = random(4) === 0 ? ':4029' : '';
        const end = Math.min(254, start + length);
        specs.push(random(3) === 0 ? `10.3.0.${start}${port}` : `10.3.0.${start}-10.3.0.${end}${port}`);
      }
      const set = await parseTargetSpecs(specs, { defaultPort: 4028 });
      const listed = [...set].map((t) => t.key);
      const expected = reference(specs);
      expect(listed, specs.join(' ')).toEqual(expected);
      expect(set.count, specs.join(' ')).toBe(expected.length);
    }
  });
});
