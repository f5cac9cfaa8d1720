// A reply within --max-bytes can still decode to millions of values (`0,` is two bytes and a value;
// `a=0,` four in the text format), and building, holding and printing them is what costs: 7 MB of
// text-format fields took `probe --command summary --json --timeout 2s` 3.5-4.5 s and 385 MB on a
// busy host, past the timeout plus one second, and 3 MB of `1,` nested 190 deep printed 589 MB of
// JSON (1.3 GB of memory into a pipe). A reply may decode to as many values as twice --max-bytes of
// heap holds (64 bytes a value), never fewer than 65,536 (23 times the 2,829 values of the heaviest
// real reply, HonorKnight's stats): past that it is `too_large`, stopped while it is being parsed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createClient } from '../../src/cgminer/client.js';
import { MinerError } from '../../src/errors.js';
import { SAMPLES_DIR } from '../fixtures/miners/samples.js';
import { fakeMinersPerTest, minerOutcome } from '../support/fake-miner.js';

const miner = fakeMinersPerTest();
const MiB = 1024 * 1024;
const client = (maxBytes: number) =>
  createClient({ timeoutMs: 60_000, maxBytes, retries: 2, sleep: async () => undefined });

const STATUS = '"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary"}]';
/** 300,000 values in 600 KB: a list of zeros. */
const JSON_REPLY = `{${STATUS},"SUMMARY":[{"Elapsed":1,"a":[${'0,'.repeat(299_999)}0]}],"id":1}`;
/** 300,000 fields in about 3 MB of the text format. */
const TEXT_REPLY = `STATUS=S,When=1,Code=11,Msg=Summary|SUMMARY,${Array.from({ length: 300_000 }, (_, i) => `k${i}=0`).join(',')}|`;

const outcome = minerOutcome;

describe('a reply that decodes to more values than --max-bytes allows', () => {
  for (const [format, bytes] of [
    ['JSON', JSON_REPLY],
    ['text', TEXT_REPLY],
  ] as const) {
    it(`is too_large at the default 8 MiB, and not asked again (${format})`, async () => {
      const m = await miner({ kind: 'reply', bytes });
      const error = await outcome(client(8 * MiB).request(m.target, 'summary'));
      expect(error).toBeInstanceOf(MinerError);
      expect(error).toMatchObject({ kind: 'too_large', requestSent: true, attempts: 1 });
      expect((error as MinerError).message).toMatch(/more than 262144 values/);
      expect(m.connections).toBe(1);
    });

    it(`decodes under a --max-bytes whose twice holds its values (${format})`, async () => {
      const m = await miner({ kind: 'reply', bytes });
      const reply = await client(16 * MiB).request(m.target, 'summary');
      expect(reply.ok).toBe(true);
    });
  }

  it('never refuses a real reply, whatever --max-bytes: the heaviest sample under a 64 KiB cap', async () => {
    const bytes = readFileSync(`${SAMPLES_DIR}honorknight__stats.json`);
    expect(bytes.length).toBeLessThan(64 * 1024);
    const m = await miner({ kind: 'reply', bytes });
    const reply = await client(64 * 1024).request(m.target, 'stats');
    expect(reply.ok).toBe(true);
  });

  it('counts a join as one reply: its members together', async () => {
    const half = `[{${STATUS},"SUMMARY":[{"a":[${'0,'.repeat(39_999)}0]}],"id":1}]`;
    const m = await miner({ kind: 'reply', bytes: `{"summary":${half},"pools":${half},"id":1}` });
    const error = await outcome(client(1 * MiB).request(m.target, 'summary+pools'));
    expect(error).toMatchObject({ kind: 'too_large' });
    expect((error as MinerError).message).toMatch(/more than 65536 values/);
  });
});

describe('a reply nested deeper than any firmware nests', () => {
  // Within the values allowed, depth still multiplies what a reply prints: every value of --json is
  // indented by its depth, so 261,000 values nested 190 lists deep (520 KB) printed 102 MB of JSON,
  // 294 MB of memory into a pipe. Real replies nest 6 deep (S21+ new_api stats), 8 in a join.
  const nested = (depth: number) =>
    `{${STATUS},"SUMMARY":[{"a":${'['.repeat(depth)}1${']'.repeat(depth)}}],"id":1}`;

  it('is parse past 64 levels, the reply included', async () => {
    const m = await miner({ kind: 'reply', bytes: nested(62) });
    const error = await outcome(client(8 * MiB).request(m.target, 'summary'));
    expect(error).toMatchObject({ kind: 'parse' });
    expect((error as MinerError).message).toMatch(/nesting too deep/);
  });

  it('is read up to 64 levels', async () => {
    const m = await miner({ kind: 'reply', bytes: nested(61) });
    const reply = await client(8 * MiB).request(m.target, 'summary');
    expect(reply.ok).toBe(true);
  });
});
