// A flag whose value was forgotten must not take the next flag as its value: exit 2 naming both,
// before any traffic. (`thermal check --site --json A B` checked B alone with site "A": the global
// --json was taken first; `audit --out --yes A` wrote a report file named `--yes`.)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { antminerReplies, type FakeMiner, startFakeMiner } from '../thermal/fake-miner.js';

describe('a flag given without its value', () => {
  let a: FakeMiner;
  let b: FakeMiner;
  let dir: string;
  beforeAll(async () => {
    a = await startFakeMiner(antminerReplies([60, 60, 60], [70, 70, 70]), 'bmminer 1.0.0');
    b = await startFakeMiner(antminerReplies([60, 60, 60], [70, 70, 70]), 'bmminer 1.0.0');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-flag-values-'));
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string, (x: string, y: string) => string[], string][] = [
    [
      'a global flag after it',
      (x, y) => ['thermal', 'check', '--site', '--json', x, y],
      '--site needs a value, and --json is a flag (write --site=--json if that is the value)',
    ],
    [
      'a flag of another command after it',
      (x) => ['audit', '--out', '--yes', x],
      '--out needs a value, and --yes is a flag (write --out=--yes if that is the value)',
    ],
    [
      'a short flag after it',
      (x) => ['control', 'restart', '--canary', '-y', x],
      '--canary needs a value, and -y is a flag (write --canary=-y if that is the value)',
    ],
    [
      '--help after it',
      () => ['thermal', 'check', '--site', '--help'],
      '--site needs a value, and --help is a flag (write --site=--help if that is the value)',
    ],
  ];
  for (const [name, args, message] of cases) {
    it(`${name}: exit 2, one line, nothing sent, nothing written`, async () => {
      const before = a.received.length + b.received.length;
      const ctx = memoryContext({ cwd: dir });
      expect(await runCli([...args(a.target, b.target), '--timeout', '2s', '--retries', '0'], ctx)).toBe(
        EXIT.usage,
      );
      expect(ctx.err()).toBe(`hashctl: ${message}\n`);
      expect(ctx.out()).toBe('');
      expect(a.received.length + b.received.length).toBe(before);
      expect(fs.readdirSync(dir)).toEqual([]);
    });
  }

  it('--flag=VALUE still passes a value that looks like a flag, and a negative number is a value', async () => {
    const ctx = memoryContext({ cwd: dir });
    const code = await runCli(
      ['thermal', 'check', `--site=--json`, a.target, '--json', '--retries', '0'],
      ctx,
    );
    expect(code).toBe(EXIT.ok);
    expect((JSON.parse(ctx.out()) as { results: { site: string }[] }).results[0]?.site).toBe('--json');
    const sim = memoryContext();
    expect(await runCli(['simulate', '--ambient', '-5', '--list-profiles'], sim)).toBe(EXIT.ok);
  });
});
