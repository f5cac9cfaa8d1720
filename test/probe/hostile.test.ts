// `hashctl probe --command summary --json` against hostile peers, as a user runs it: every run prints
// one JSON document of the contract with the right error kind, exit 0 or 1, and no stack trace; a
// reply that can be repaired is ok. Spawns bin/hashctl (support/hashctl-process.ts).
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Behaviour,
  cgminerReply,
  type FakeMiner,
  type Script,
  startFakeMiner,
} from '../support/fake-miner.js';
import { runHashctl } from '../support/hashctl-process.js';

let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
});

const GOOD =
  '{"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary","Description":"cgminer 4.11.1"}],"SUMMARY":[{"Elapsed":12}],"id":1}';

/** Runs probe against one peer; checks the manners every run must have; returns the document. */
async function probe(behaviour: Behaviour, extra: string[] = []): Promise<Record<string, unknown>> {
  const m = await startFakeMiner(behaviour);
  miners.push(m);
  const args = [
    'probe',
    m.target.key,
    '--command',
    'summary',
    '--json',
    '--timeout',
    '500ms',
    '--retries',
    '0',
  ];
  const run = await runHashctl([...args, ...extra]);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  const doc = JSON.parse(run.stdout) as Record<string, unknown>;
  expect(doc).toMatchObject({ target: m.target.key, host: '127.0.0.1', port: m.port });
  expect(typeof doc.elapsed_ms).toBe('number');
  expect(run.code).toBe(doc.ok === true ? 0 : 1);
  if (doc.ok !== true) {
    expect(doc.error).toMatchObject({ kind: expect.any(String), message: expect.any(String), attempts: 1 });
  }
  return doc;
}

const kindOf = (doc: Record<string, unknown>): string =>
  doc.ok === true ? 'ok' : (doc.error as { kind: string }).kind;

describe('probe against hostile peers', () => {
  it('is ok on replies that can be repaired: no end, leading NULs, UTF-16', async () => {
    const hang = await probe({ kind: 'reply', bytes: GOOD, nul: false, close: false });
    expect(hang).toMatchObject({ ok: true, repairs: { summary: ['no end of reply'] } });
    expect((hang.responses as Record<string, Record<string, unknown>>).summary?.SUMMARY).toEqual([
      { Elapsed: 12 },
    ]);
    const nuls = await probe({ kind: 'reply', bytes: `\0\0${GOOD}` });
    expect(nuls).toMatchObject({ ok: true, repairs: { summary: ['leading NUL'] } });
    const wide = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(GOOD, 'utf16le')]);
    expect(kindOf(await probe({ kind: 'reply', bytes: wide, nul: false }))).toBe('ok');
  });

  it('names other services, odd STATUS shapes and JSON scalars with their kinds', async () => {
    const cases: [Behaviour, string][] = [
      [{ kind: 'greet', bytes: 'SSH-2.0-OpenSSH_9.6\r\n' }, 'protocol'],
      [{ kind: 'reply', bytes: 'HTTP/1.0 200 OK\r\n\r\n<html></html>', nul: false }, 'protocol'],
      [{ kind: 'reply', bytes: '{"STATUS":null,"id":1}' }, 'parse'],
      [{ kind: 'reply', bytes: '{"STATUS":[],"id":1}' }, 'parse'],
      [{ kind: 'reply', bytes: 'null' }, 'parse'],
      [{ kind: 'reply', bytes: '{"STATUS":"E","Msg":"boom"}' }, 'api'],
      // A bare success with no data for any read: not a miner that gave its figures.
      [{ kind: 'reply', bytes: '{"STATUS":[{"STATUS":"S"}]}' }, 'protocol'],
      [{ kind: 'reply', bytes: `{"a":${'['.repeat(100_000)}` }, 'parse'],
    ];
    const kinds: string[] = [];
    for (const [behaviour] of cases) kinds.push(kindOf(await probe(behaviour)));
    expect(kinds).toEqual(cases.map(([, kind]) => kind));
  });

  it('shows what a hostile miner says without obeying it: no raw escape reaches the terminal', async () => {
    const evil = '\u001b]0;PWNED\u0007\u001b[2J\u001b[31mRED\r\nline2';
    const body = JSON.stringify({
      STATUS: [{ STATUS: 'S', Msg: evil }],
      VERSION: [{ Type: `Antminer S19${evil}`, CGMiner: '4.9.2' }],
      STATS: [{ Type: `Antminer S19${evil}` }, { STATS: 0, 'GHS 5s': 100000, fan1: 5000 }],
      id: 1,
    });
    const m = await startFakeMiner({ kind: 'reply', bytes: body });
    miners.push(m);
    // No colour is asked for (NO_COLOR): any ESC in the output would be the miner's.
    for (const [args, env] of [
      [['probe', m.target.key], {}],
      [['probe', m.target.key], { HASHCTL_FORMAT: 'table' }],
      [['probe', m.target.key, '--command', 'version'], {}],
      [['probe', m.target.key, '--command', 'version'], { HASHCTL_FORMAT: 'table' }],
    ] as const) {
      const run = await runHashctl([...args, '--timeout', '1s', '--retries', '0'], env);
      expect(run.stdout + run.stderr, args.join(' ')).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      expect(run.stdout, args.join(' ')).toContain('\\x1b]0;PWNED\\x07');
    }
    const failing = await startFakeMiner({
      kind: 'reply',
      bytes: JSON.stringify({ STATUS: [{ STATUS: 'E', Code: 14, Msg: evil }] }),
    });
    miners.push(failing);
    const run = await runHashctl([
      'probe',
      failing.target.key,
      '--command',
      'summary',
      '--timeout',
      '1s',
      '--retries',
      '0',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });

  it("shows a miner's own colour codes as text, on a TTY and in a pipe: a failure cannot paint itself green", async () => {
    const green = 'A\u001b[8mHIDDEN\u001b[28m \u001b[32mOK\u001b[0m';
    const failing = await startFakeMiner({
      kind: 'reply',
      bytes: JSON.stringify({ STATUS: [{ STATUS: 'E', Code: 14, Msg: green }] }),
    });
    const keyed = await startFakeMiner({
      kind: 'reply',
      bytes: JSON.stringify({
        STATUS: [{ STATUS: 'S', Msg: 'ok' }],
        [`VER\u001b[32mSION`]: [{ [`Ty\u001b[0mpe`]: 'S19', CGMiner: '4.9.2' }],
        id: 1,
      }),
    });
    miners.push(failing, keyed);
    for (const [args, env] of [
      [['probe', failing.target.key], {}],
      [['probe', failing.target.key], { HASHCTL_FORMAT: 'table' }],
      [['probe', keyed.target.key, '--command', 'version'], {}],
      [['probe', keyed.target.key, '--command', 'version'], { HASHCTL_FORMAT: 'table' }],
    ] as const) {
      const run = await runHashctl([...args, '--timeout', '1s', '--retries', '0'], env);
      const label = `${args.join(' ')} ${JSON.stringify(env)}`;
      // NO_COLOR: any ESC at all would be the miner's.
      expect(run.stdout + run.stderr, label).not.toMatch(/\u001b/);
      expect(run.stdout, label).toContain('\\x1b[');
    }
  });

  it('survives a reply listing 200,000 fans: a row, not a crash', async () => {
    const device: Record<string, unknown> = { STATS: 0, 'GHS 5s': 100000, fan_num: 200_000 };
    for (let i = 1; i <= 200_000; i++) device[`fan${i}`] = 5000;
    const body = JSON.stringify({
      STATUS: [{ STATUS: 'S', Msg: 'CGMiner stats' }],
      STATS: [{ Type: 'Antminer S19', BMMiner: '1.0' }, device],
      id: 1,
    });
    const m = await startFakeMiner({ kind: 'reply', bytes: body });
    miners.push(m);
    const run = await runHashctl(['probe', m.target.key, '--timeout', '2s', '--retries', '0']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.stdout).toContain(m.target.key);
  });

  it('ends an endless reply at --max-bytes with too_large', async () => {
    const doc = await probe({ kind: 'endless' }, ['--max-bytes', '1MiB']);
    expect(doc.error).toMatchObject({ kind: 'too_large' });
  });

  it('decodes a text reply with a long run of blanks inside, closed or never ended, without hanging', async () => {
    // Trimming the end with /\s+$/ or /[ \t]+$/ retried from every blank of the run: quadratic, so
    // this 1 MB reply held the process for minutes past --timeout (8 MiB: days), deaf to Ctrl-C.
    const text = `STATUS=S,When=1,Code=11,Msg=Summary|SUMMARY,Elapsed=12,Note=${' '.repeat(1_000_000)}x|`;
    const closed = await probe({ kind: 'reply', bytes: text });
    expect(closed).toMatchObject({ ok: true });
    const summary = (closed.responses as Record<string, Record<string, { Note: string }[]>>).summary;
    expect(summary?.SUMMARY?.[0]?.Note).toMatch(/^ {1000000}x$/);
    const open = await probe({ kind: 'reply', bytes: text, nul: false, close: false });
    expect(open).toMatchObject({ ok: true, repairs: { summary: ['no end of reply'] } });
  });

  it('reads a miner whose strings would make a pattern backtrack: a row, not a hang', async () => {
    // Each string below made a regex of the snapshot readers retry from every character: a number
    // (`\d+\.?\d*`), a Type ending in a marker (`(v5.1)`, `(…)`), an Avalon `Name[value]` list, a
    // message line. Quadratic: minutes to days per miner, past --timeout and deaf to Ctrl-C.
    const digits = `${'1'.repeat(200_000)}x`;
    const replies: Record<string, string> = {
      version: cgminerReply('VERSION', [
        { BMMiner: '2.0.0', API: '3.1', Type: `Antminer S9${' '.repeat(200_000)}${'('.repeat(200_000)}x` },
      ]),
      summary: cgminerReply('SUMMARY', [{ Elapsed: digits, 'GHS 5s': digits, 'GHS av': digits }]),
      pools: cgminerReply('POOLS', [{ POOL: 0, URL: 'stratum+tcp://pool.example:3333', Status: 'Alive' }]),
      stats: cgminerReply('STATS', [
        { BMMiner: '2.0.0', Type: 'Antminer S9' },
        { STATS: 0, ID: 'BC50', temp2_6: digits, fan1: digits, chain_rate6: digits, chain_acn6: 63 },
      ]),
      devs: cgminerReply('DEVS', []),
    };
    const avalon = cgminerReply('STATS', [
      { STATS: 0, ID: 'AVA100', 'MM ID0': `Ver[1566-24102401_25462b2] Temp[30] ${'a'.repeat(400_000)}` },
    ]);
    const answer =
      (table: Record<string, string>): Script =>
      (request) => {
        const { command } = JSON.parse(request) as { command: string };
        const reply = (c: string) =>
          table[c] ?? cgminerReply('X', [], { STATUS: 'E', Code: 14, Msg: 'Invalid command' });
        if (!command.includes('+')) return { kind: 'reply', bytes: reply(command) };
        const members = command.split('+').map((c) => `"${c}":[${reply(c)}]`);
        return { kind: 'reply', bytes: `{${members.join(',')},"id":1}` };
      };
    const antminer = await startFakeMiner(answer(replies));
    const avalonMiner = await startFakeMiner(answer({ stats: avalon, summary: replies.summary as string }));
    // A message of a long blank run without a line break (here a key in a reply that is no JSON).
    const garbled = await startFakeMiner({
      kind: 'reply',
      bytes: `{"STATUS":[{"STATUS":"S"}],"a${' '.repeat(200_000)}b" 1}`,
    });
    miners.push(antminer, avalonMiner, garbled);
    const run = await runHashctl([
      'probe',
      antminer.target.key,
      avalonMiner.target.key,
      '--json',
      '--timeout',
      '2s',
      '--retries',
      '0',
    ]);
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
    const results = (JSON.parse(run.stdout) as { results: { target: string; snapshot?: unknown }[] }).results;
    expect(results.map((r) => r.target)).toEqual([antminer.target.key, avalonMiner.target.key]);
    expect(JSON.stringify(results[0])).toContain('"make":"Antminer"');
    expect(JSON.stringify(results[1])).toContain('"make":"Avalon"');
    const table = await runHashctl(
      ['probe', garbled.target.key, '--command', 'summary', '--timeout', '2s', '--retries', '0'],
      { HASHCTL_FORMAT: 'table' },
    );
    expect(table.code).toBe(1);
    expect(table.stdout).toContain('parse');
  });

  it('refuses a timeout or a cap it cannot honour with exit 2 and one line, before any traffic', async () => {
    const m = await startFakeMiner({ kind: 'reply', bytes: GOOD });
    miners.push(m);
    for (const flag of [
      ['--timeout', '100000d'],
      ['--max-bytes', '1GiB'],
    ]) {
      const run = await runHashctl(['probe', m.target.key, '--command', 'summary', '--json', ...flag]);
      expect(run.code, flag.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n'), flag.join(' ')).toHaveLength(1);
      expect(run.stderr).toMatch(flag[0] === '--timeout' ? /timeout/ : /max-bytes/);
      expect(run.stdout).toBe('');
    }
    expect(m.connections).toBe(0);
  });
});
