// `probe --command summary --json` of a peer whose reply, within --max-bytes, prints to more JSON
// than one string can hold: the indentation grows with the depth of every value, and 3 MB of `1,`
// nested 190 lists deep is ~600 M characters, past V8's longest string. probe used to build each
// result's text whole and die of "internal error: Invalid string length", printing nothing; the
// document is now written in pieces. Counted, not kept: the test holds no such string either.
// Replies now nest at most 64 deep and hold at most twice --max-bytes of values, so the same
// length takes 8 MB of `1,` nested 61 deep under --max-bytes 128MiB.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';

let miner: FakeMiner | null = null;
afterEach(async () => {
  await miner?.close();
  miner = null;
});

describe('probe --json of a reply that prints longer than a string', () => {
  it('writes the whole document in pieces: exit 0, no internal error', async () => {
    // As deep as a reply may nest (64 levels, the reply's own 3 included), and as many values as
    // 128 MiB allows (4,194,304): each prints indented by 132 spaces.
    const depth = 61;
    const values = 4_100_000;
    const reply = `{"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary"}],"SUMMARY":[{"x":${'['.repeat(depth)}${'1,'.repeat(values - 1)}1${']'.repeat(depth)}}],"id":1}`;
    miner = await startFakeMiner({ kind: 'reply', bytes: reply });
    let length = 0;
    let longest = 0;
    let head = '';
    let tail = '';
    const ctx = memoryContext();
    ctx.stdout = {
      write: (chunk) => {
        length += chunk.length;
        longest = Math.max(longest, chunk.length);
        if (head.length < 200) head += chunk.slice(0, 200);
        tail = (tail + chunk).slice(-200);
        return true;
      },
      isTTY: false,
    };
    const big = ['--max-bytes', '128MiB'];
    const code = await runCli(
      [
        'probe',
        miner.target.key,
        '--command',
        'summary',
        '--json',
        '--timeout',
        '60s',
        '--retries',
        '0',
        ...big,
      ],
      ctx,
    );
    expect(ctx.err()).toBe('');
    expect(code).toBe(0);
    expect(length).toBeGreaterThan(2 ** 29);
    expect(longest).toBeLessThan(2 ** 20);
    expect(head).toMatch(new RegExp(`^\\{\\n  "target": "${miner.target.key}",\\n  "host": "127.0.0.1"`));
    expect(head).toContain('"ok": true');
    expect(tail.endsWith('        }\n      ],\n      "id": 1\n    }\n  }\n}\n')).toBe(true);
  }, 120_000);
});
