// A JSON inventory edited by hand and broken (a trailing comma, a missing brace): it was read as a
// list of lines instead, and refused as "invalid target '{'" on line 1, which says nothing of the
// JSON. A first line that is `[::1]:4028` is still a target, not broken JSON.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseTargetSpecs } from '../../src/targets/index.js';

async function refusal(text: string): Promise<string> {
  try {
    await parseTargetSpecs(['@farm.json'], { defaultPort: 4028, readFile: async () => text });
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('a broken JSON inventory', () => {
  for (const [name, text] of [
    [
      'an object with a trailing comma',
      '{\n  "miners": [\n    {"host": "10.0.0.1", "port": 4028},\n  ]\n}\n',
    ],
    ['a list with a trailing comma', '[\n  "10.0.0.1:4028",\n]\n'],
    ['a list of objects cut short', '[{"host": "10.0.0.1", "port": 4028}, {"host": "10.0.0.2"'],
    [
      'an object on one line, cut short',
      '{"generated_at":"2026-11-29T00:00:00Z","miners":[{"host":"10.0.0.1"',
    ],
  ] as const) {
    it(`says the JSON is not valid: ${name}`, async () => {
      const message = await refusal(text);
      expect(message).toMatch(/^farm\.json: not valid JSON: /);
      expect(message).not.toContain('invalid target');
    });
  }

  it('reads a JSON inventory that starts with a byte-order mark left in the text', async () => {
    const set = await parseTargetSpecs(['@farm.json'], {
      defaultPort: 4028,
      readFile: async () => '\ufeff{"miners": [{"host": "10.0.0.1", "port": 4029}]}\n',
    });
    expect([...set].map((t) => t.key)).toEqual(['10.0.0.1:4029']);
  });

  it('still reads a line list whose first line is a bracketed IPv6 target', async () => {
    const set = await parseTargetSpecs(['@farm.txt'], {
      defaultPort: 4028,
      readFile: async () => '[::1]:4030\n10.0.0.1\n',
    });
    expect([...set].map((t) => t.key)).toEqual(['[::1]:4030', '10.0.0.1:4028']);
  });
});
