// Replies no sample shows: every real sample set, mutated (values swapped for other types, huge or
// negative numbers, lists doubled or cut, keys dropped or repeated, bytes cut, inserted or removed),
// through what collect runs: decode, normalize, the snapshot schema, the firmware limits, and one
// cycle into a real store with thermal tracking. Whatever a miner sends, the only failure allowed is
// a MinerError for that miner; nothing may throw anything else or make the cycle's write fail.
// Seeded (the simulator's Rng): a failure names its seed and files, and reruns the same way.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeReply, splitMultiReply } from '../../src/cgminer/decode.js';
import { parseLenient } from '../../src/cgminer/lenient-json.js';
import type { DecodedReply } from '../../src/cgminer/types.js';
import { runCycle } from '../../src/collect/index.js';
import { MinerError } from '../../src/errors.js';
import { normalize } from '../../src/miners/normalize.js';
import { snapshotSchema } from '../../src/miners/schema.js';
import type { Snapshot } from '../../src/miners/types.js';
import { Rng } from '../../src/sim/rng.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { Target } from '../../src/targets/types.js';
import { pollFirmwareLimits } from '../../src/thermal/replies.js';
import { GOLDENS } from '../fixtures/miners/expected.js';
import { commandOf, SAMPLES_DIR } from '../fixtures/miners/samples.js';
import { tempDir } from '../store/helpers.js';

/** One element of `list`, drawn from the seeded stream. */
function pick<T>(random: Rng, list: readonly T[]): T {
  return list[random.int(list.length)] as T;
}

const ODD_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  -0,
  0.5,
  1e19,
  1e308,
  -1e308,
  2 ** 53 + 1,
  4294967296,
  '',
  ' ',
  'nan',
  '-inf',
  'abc',
  '1e400',
  '12,345',
  '0x10',
  '99999999999999999999',
  '-5',
  '1.5.3',
  'null',
  '-1',
  'x'.repeat(300),
  '\u0000\u001b[31m',
  'Mon Jan  1 00:00:00 1970',
  [],
  {},
  [1, 2],
  { a: 1 },
  // Sensor sentinels: a 16-bit "no reading", a signed byte's top, Avalon's none, a unit in the text.
  65535,
  32767,
  127,
  -273,
  '65 C',
];

function mutateValue(value: unknown, random: Rng, rate: number, depth = 0): unknown {
  if (depth > 0 && random.next() < rate) return pick(random, ODD_VALUES);
  if (Array.isArray(value)) {
    let out = value.map((item) => mutateValue(item, random, rate, depth + 1));
    if (random.next() < rate) out = out.concat(out);
    if (random.next() < rate && out.length > 0) out.splice(random.int(out.length), 1);
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (random.next() < rate / 2) continue;
      out[key] = mutateValue(item, random, rate, depth + 1);
      // A sibling numbered slot (`fan7`, `chain_rate12`) holding something odd.
      if (random.next() < rate / 2)
        out[`${key.replace(/\d+$/, '')}${random.int(200)}`] = pick(random, ODD_VALUES);
    }
    return out;
  }
  if (typeof value === 'number' && random.next() < rate)
    return pick(random, [value * 1000, value * 1e18, value + 0.5, -value, String(value), Number.NaN]);
  if (typeof value === 'string' && random.next() < rate)
    return pick(random, [`${value}x`, value.slice(0, 2), `-${value}`, `${value},${value}`]);
  return value;
}

function mutateText(text: string, random: Rng): string {
  const at = random.int(text.length);
  const roll = random.next();
  if (roll < 0.25) return text.slice(0, at);
  if (roll < 0.55)
    return (
      text.slice(0, at) +
      pick(random, ['}', '{', ',', '"', ':', '\\', '\u0000', ']', '}{', 'nan']) +
      text.slice(at)
    );
  if (roll < 0.75) return text.slice(0, at) + text.slice(at + 1 + random.int(20));
  // printf's %+d (`"a":+5`), which some firmwares print in places.
  if (roll < 0.85) return text.replace(/":(\d)/g, '":+$1');
  return text.replace(/"([A-Za-z ]+)":([^,{}[\]]+),/, (member) => member + member);
}

/** One mutated reply set of a golden sample set, keyed by command as the client returns it. */
function mutatedSet(files: string[], random: Rng, rate: number, problems: string[]) {
  const replies: Record<string, DecodedReply | MinerError> = {};
  for (const file of files) {
    const command = commandOf(file);
    let text = readFileSync(`${SAMPLES_DIR}${file}`, 'latin1');
    if (file.endsWith('.json') && random.next() < 0.6) {
      try {
        text = JSON.stringify(mutateValue(parseLenient(text.replace(/\u0000+$/, '')).value, random, rate));
      } catch {
        // A sample the lenient parser cannot read stays as it is.
      }
    }
    if (random.next() < 0.3) text = mutateText(text, random);
    // Text-format records one per line (`…|\nPOOL=0,…`): the line break is no part of a name.
    if (/^(?:STATUS|CMD)=/.test(text) && random.next() < 0.3) text = text.replace(/\|(?=[^\r\n])/g, '|\r\n');
    let reply: DecodedReply | MinerError;
    try {
      reply = decodeReply(Buffer.from(text, 'latin1'), command);
    } catch (error) {
      if (!(error instanceof MinerError)) problems.push(`decode ${file}: ${String(error)}`);
      continue;
    }
    if (command.includes('+')) {
      try {
        Object.assign(replies, splitMultiReply(reply));
      } catch (error) {
        if (!(error instanceof MinerError)) problems.push(`split ${file}: ${String(error)}`);
      }
    } else replies[command] = reply;
  }
  return replies;
}

let dir: string;
let cleanup: () => void;
let store: Store;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-mutations-'));
  store = openStore(path.join(dir, 'farm.db'));
});
afterEach(() => {
  store.close();
  cleanup();
});

describe('mutated real samples through decode, normalize and the store', () => {
  for (const [seed, rate] of [
    [1, 0.02],
    [2, 0.1],
    [3, 0.3],
    [4, 0.05],
    [5, 0.2],
    [6, 0.5],
  ] as const) {
    it(`seed ${seed}, ${rate * 100}% of values changed: only MinerErrors, every snapshot valid and stored`, async () => {
      const random = new Rng(seed);
      const problems: string[] = [];
      let now = Date.UTC(2026, 10, 1);
      let stored = 0;
      for (let round = 0; round < 150; round++) {
        const golden = pick(random, GOLDENS);
        const where = `round ${round} [${golden.files.join(' ')}]`;
        const replies = mutatedSet(golden.files, random, rate, problems);
        let snapshot: Snapshot;
        try {
          snapshot = normalize(replies);
        } catch (error) {
          if (!(error instanceof MinerError)) problems.push(`normalize ${where}: ${String(error)}`);
          continue;
        }
        const checked = snapshotSchema.safeParse(snapshot);
        if (!checked.success) problems.push(`schema ${where}: ${checked.error.message}`);
        let limits: ReturnType<typeof pollFirmwareLimits> = null;
        try {
          limits = pollFirmwareLimits(replies, snapshot.make, snapshot.firmware.name);
        } catch (error) {
          problems.push(`firmware limits ${where}: ${String(error)}`);
        }
        now += 60_000;
        const target: Target = { host: '127.0.0.1', port: 4028, key: '127.0.0.1:4028' };
        try {
          const report = await runCycle(
            {
              site: 'mutations',
              intervalMs: null,
              retainMs: 30 * 86_400_000,
              thermal: {},
              firmwareLimits: () => limits,
            },
            {
              store,
              pollAll: async function* (fetch) {
                yield await fetch(target);
              },
              fetchSnapshot: async () => snapshot,
              now: () => now,
              sleep: async () => {},
              signal: new AbortController().signal,
              onCycle: () => {},
              onNote: (note) => problems.push(`note ${where}: ${note}`),
            },
          );
          if (report.ok !== 1) problems.push(`cycle ${where}: the snapshot was not stored as ok`);
          else stored++;
        } catch (error) {
          problems.push(`store ${where}: ${String(error)}`);
        }
      }
      expect(problems).toEqual([]);
      // The mutations must leave most sets readable, or this would test nothing but refusals.
      expect(stored).toBeGreaterThan(75);
    });
  }
});
