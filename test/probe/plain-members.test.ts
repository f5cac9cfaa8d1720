// `probe --command` into a pipe prints one tab-separated line per value. A data record that carries
// a STATUS is shown as a multi-command member, its fields under `SECTION.`; one with 300,000 fields
// (a hostile or broken firmware) was spread into a push as 300,000 arguments and overflowed the
// stack: "internal error: Maximum call stack size exceeded", nothing printed.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';

let miner: FakeMiner | null = null;
afterEach(async () => {
  await miner?.close();
  miner = null;
});

describe('probe --command in plain text', () => {
  it('prints a member with 300,000 fields, a line each', async () => {
    const fields = Array.from({ length: 300_000 }, (_, i) => `"k${i}":${i}`).join(',');
    miner = await startFakeMiner({
      kind: 'reply',
      bytes: `{"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary"}],"SUMMARY":[{"STATUS":"S",${fields}}],"id":1}`,
    });
    const ctx = memoryContext();
    const code = await runCli(
      ['probe', miner.target.key, '--command', 'summary', '--retries', '0', '--timeout', '60s'],
      ctx,
    );
    expect(ctx.err()).toBe('');
    expect(code).toBe(0);
    const lines = ctx.out().trimEnd().split('\n');
    // The STATUS's 4 fields, then the member's STATUS and its 300,000 fields.
    expect(lines).toHaveLength(4 + 1 + 300_000);
    expect(lines[4]).toBe(`${miner.target.key}\tsummary\tSUMMARY.STATUS\t\t\tS`);
    expect(lines.at(-1)).toBe(`${miner.target.key}\tsummary\tSUMMARY.k299999\t\t\t299999`);
  }, 60_000);
});
