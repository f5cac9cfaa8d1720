// What a decoded reply weighs, charged to the poll that keeps it (src/cgminer/budget.ts): every
// real reply is charged once for the values it holds, and a hostile one is refused, unparsed where
// its length alone says it cannot fit.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodedWeight, PollHold, ReplyBudget } from '../../src/cgminer/budget.js';
import { decodeReply, decodeUnfinished } from '../../src/cgminer/decode.js';
import type { ReplyHold } from '../../src/cgminer/types.js';
import { MinerError } from '../../src/errors.js';
import { commandOf, SAMPLES_DIR } from '../fixtures/miners/samples.js';

const STATUS = '"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary","Description":"cgminer 4.11.1"}]';
const bytes = (text: string) => new TextEncoder().encode(text);

/** Values in a decoded body, counted independently of the parsers. */
function walk(value: unknown): number {
  if (value === null || typeof value !== 'object') return 1;
  let count = 1;
  for (const child of Object.values(value)) count += walk(child);
  return count;
}

/** A hold that records what it was charged and grants up to `room`. */
function recordingHold(room = Number.POSITIVE_INFINITY): ReplyHold & { taken: number[]; asked: number } {
  const hold = {
    taken: [] as number[],
    asked: 0,
    take(weight: number) {
      hold.asked++;
      if (weight > room) return false;
      hold.taken.push(weight);
      return true;
    },
    room: () => room,
  };
  return hold;
}

function errorOf(fn: () => unknown): MinerError {
  try {
    fn();
  } catch (error) {
    if (error instanceof MinerError) return error;
    throw error;
  }
  throw new Error('expected a MinerError');
}

/** `count` empty objects in one SUMMARY: 3 bytes each, a 64-byte object each once parsed. */
const emptyObjects = (count: number, separator = ',') =>
  `{${STATUS},"SUMMARY":[${Array.from({ length: count }, () => '{}').join(separator)}],"id":1}`;

describe('the weight of a decoded reply', () => {
  const files = readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.json') || f.endsWith('.txt'));

  it('charges every sample that decodes once, for the values it holds and its characters', () => {
    let charged = 0;
    for (const file of files) {
      const raw = readFileSync(`${SAMPLES_DIR}${file}`);
      const hold = recordingHold();
      let reply: ReturnType<typeof decodeReply>;
      try {
        reply = decodeReply(raw, commandOf(file), { hold });
      } catch (error) {
        if (!(error instanceof MinerError)) throw error;
        expect(hold.taken, file).toEqual([]);
        continue;
      }
      if (reply.format === 'bare') {
        expect(hold.taken, file).toEqual([]);
        continue;
      }
      expect(hold.taken, file).toHaveLength(1);
      const values = walk(reply.body);
      // The values the parser counted, no more and no fewer (a text reply is counted after it is read).
      expect(hold.taken[0], file).toBeGreaterThanOrEqual(decodedWeight(values, 0) + raw.length / 4);
      expect(hold.taken[0], file).toBeLessThanOrEqual(decodedWeight(values, raw.length));
      charged++;
    }
    expect(charged).toBeGreaterThan(140);
  });

  it('weighs the largest real reply (HonorKnight stats, 49 KB) far under the share of a poll', () => {
    const raw = readFileSync(`${SAMPLES_DIR}honorknight__stats.json`);
    const hold = recordingHold();
    decodeReply(raw, 'stats', { hold });
    expect(hold.taken[0]).toBeGreaterThan(150 * 1024);
    expect(hold.taken[0]).toBeLessThan(300 * 1024);
  });

  it('counts the values the same on the fast path and on the repairing parser', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 8 }),
        fc.boolean(),
        (records, glued) => {
          const inner = records.map((r) => JSON.stringify({ r }));
          // Glued objects (`}{`) and a trailing comma send the text through the repairs.
          const text = `{${STATUS},"SUMMARY":[${inner.join(glued ? '' : ',')}${glued ? ',' : ''}],"id":1}`;
          const hold = recordingHold();
          const reply = decodeReply(bytes(text), 'summary', { hold });
          expect(hold.taken).toEqual([decodedWeight(walk(reply.body), text.length)]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a reply that cannot fit without parsing it', () => {
    const text = emptyObjects(30_000);
    const hold = recordingHold(256 * 1024);
    const error = errorOf(() => decodeReply(bytes(text), 'summary', { hold }));
    expect(error.kind).toBe('too_large');
    expect(error.message).toMatch(
      /^reply refused: it decodes to \d+ values \(~[\d.]+ MiB\), past its share/,
    );
    expect(hold.asked).toBe(0);
  });

  it('refuses after parsing what its structure did not show (objects without commas between)', () => {
    const text = emptyObjects(30_000, ' ');
    const hold = recordingHold(256 * 1024);
    const error = errorOf(() => decodeReply(bytes(text), 'summary', { hold }));
    expect(error.kind).toBe('too_large');
    expect(hold.asked).toBe(1);
    expect(hold.taken).toEqual([]);
  });

  it('reads a reply that fits the room left, and charges it', () => {
    const text = emptyObjects(3000);
    const hold = recordingHold(256 * 1024);
    const reply = decodeReply(bytes(text), 'summary', { hold });
    expect(reply.ok).toBe(true);
    expect(hold.taken).toEqual([decodedWeight(3000 + 6 + 1 + 1 + 2, text.length)]);
  });

  it('charges a reply that never ended only when it is kept', () => {
    const whole = bytes(emptyObjects(10));
    const hold = recordingHold();
    const kept = decodeUnfinished(whole, 'summary', { hold });
    expect(kept).not.toBeNull();
    expect(hold.taken).toHaveLength(1);
    // Cut off: not a reply (the caller's timeout stands), and nothing charged.
    const cut = bytes(emptyObjects(10).slice(0, -20));
    const none = recordingHold();
    expect(decodeUnfinished(cut, 'summary', { hold: none })).toBeNull();
    expect(none.asked).toBe(0);
    // Kept but refused: the refusal is the answer.
    const full = recordingHold(10);
    const refused = decodeUnfinished(whole, 'summary', { hold: full });
    expect(refused).toBeInstanceOf(MinerError);
    expect((refused as MinerError).kind).toBe('too_large');
  });
});

describe('PollHold', () => {
  it('charges a poll while it runs and gives everything back once', () => {
    const budget = new ReplyBudget(1000, 100);
    const first = new PollHold(budget);
    const second = new PollHold(budget);
    expect(first.take(600)).toBe(true);
    expect(second.take(300)).toBe(true);
    expect(budget.heldBytes).toBe(900);
    // Past the budget: the first holds more than its share (max(100, 1000 / 2)), refused.
    expect(first.take(200)).toBe(false);
    expect(first.heldBytes).toBe(600);
    // The second is within its share: granted, overdrawing the budget.
    expect(second.take(150)).toBe(true);
    first.release();
    first.release();
    expect(budget.heldBytes).toBe(450);
    second.release();
    expect(budget.heldBytes).toBe(0);
  });

  it('tells the room left: unlimited alone, then the larger of the budget left and the share left', () => {
    const budget = new ReplyBudget(1000, 100);
    const alone = new PollHold(budget);
    expect(alone.room()).toBe(Number.POSITIVE_INFINITY);
    const other = new PollHold(budget);
    expect(alone.take(900)).toBe(true);
    expect(other.room()).toBe(500);
    expect(alone.room()).toBe(100);
    expect(other.take(501)).toBe(false);
    expect(other.take(500)).toBe(true);
    other.release();
    alone.release();
    expect(alone.room()).toBe(Number.POSITIVE_INFINITY);
  });
});
