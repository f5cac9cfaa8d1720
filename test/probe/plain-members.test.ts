// `probe --command` into a pipe prints one tab-separated line per value. A data record that carries
// a STATUS is shown as a multi-command member, its fields under `SECTION.`; one with 300,000 fields
// (a hostile or broken firmware) was spread into a push as 300,000 arguments and overflowed the
// stack: "internal error: Maximum call stack size exceeded", nothing printed. On a terminal, the
// table of a section with 200,000 records (or a record of 200,000 fields) did the same inside
// cli-table3, which takes its rows as the arguments of one call.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';

/** Past the values 8 MiB allows (262,144), within twice 16 MiB of heap (src/cgminer/budget.ts). */
const BIG = ['--max-bytes', '16MiB'];

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
      ['probe', miner.target.key, '--command', 'summary', '--retries', '0', '--timeout', '60s', ...BIG],
      ctx,
    );
    expect(ctx.err()).toBe('');
    expect(code).toBe(0);
    const lines = ctx.out().trimEnd().split('\n');
    // The header, the STATUS's 4 fields, then the member's STATUS and its 300,000 fields.
    expect(lines[0]).toBe('target\tcommand\tsection\tindex\tfield\tvalue');
    expect(lines).toHaveLength(1 + 4 + 1 + 300_000);
    expect(lines[5]).toBe(`${miner.target.key}\tsummary\tSUMMARY.STATUS\t\t\tS`);
    expect(lines.at(-1)).toBe(`${miner.target.key}\tsummary\tSUMMARY.k299999\t\t\t299999`);
  }, 60_000);
});

describe('probe --command on a terminal', () => {
  it('shows the first 1000 rows of a huge section and says how many more: no stack overflow', async () => {
    const status = '"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary"}]';
    const many = Array.from({ length: 200_000 }, (_, i) => `{"a":${i}}`).join(',');
    const wide = Array.from({ length: 200_000 }, (_, i) => `"k${i}":${i}`).join(',');
    for (const [bytes, more] of [
      [`{${status},"SUMMARY":[${many}],"id":1}`, '(199000 more records; --json shows all)'],
      [`{${status},"SUMMARY":[{${wide}},{"x":1}],"id":1}`, '(199001 more fields; --json shows all)'],
    ] as const) {
      miner = await startFakeMiner({ kind: 'reply', bytes });
      const ctx = memoryContext();
      let out = '';
      ctx.stdout = {
        write: (chunk) => {
          out += chunk;
          return true;
        },
        isTTY: true,
      };
      const code = await runCli(
        ['probe', miner.target.key, '--command', 'summary', '--retries', '0', '--timeout', '60s', ...BIG],
        ctx,
      );
      expect(ctx.err()).toBe('');
      expect(code).toBe(0);
      expect(out).toContain(more);
      await miner.close();
      miner = null;
    }
  }, 60_000);
});
