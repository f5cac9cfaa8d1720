// A target list far past the run's cap stops at the line that passes it: every line was an object in
// memory first (1,000,000 lines: 457 MB; a 64 MiB list ~2.3 GB) and only then was the count checked.
// What is kept while reading is what names a new target: repeats cost nothing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT, UsageError } from '../../src/errors.js';
import { formatIpv4, parseTargetSpecs } from '../../src/targets/index.js';
import { BAD_LAST_LINE, distinctHosts } from '../support/target-lists.js';

const LINES = 200_000;
const CAP = 65_536;
const limit = { max: CAP, advice: 'find the miners first' };

describe('a list past the cap', () => {
  it('stops at the line past the cap, not at the end of the list', async () => {
    // A bad last line: reached only if every line before it was parsed.
    const text = `${distinctHosts(LINES)}${BAD_LAST_LINE}`;
    const reading = parseTargetSpecs(['@farm.txt'], { defaultPort: 4028, readFile: async () => text, limit });
    await expect(reading).rejects.toThrow(UsageError);
    await expect(reading).rejects.toThrow(
      `the targets name more than 65,536 addresses (reading stopped at farm.txt:${CAP + 1}); at most 65,536 per run: find the miners first`,
    );
  });

  it('ranges count their addresses: a list of small ranges stops where they pass the cap', async () => {
    const lines: string[] = [];
    for (let i = 0; i < LINES; i++) lines.push(`${formatIpv4(0x7f010000 + i * 4)}-${(i * 4 + 3) % 256}`);
    const text = `${lines.join('\n')}\n${BAD_LAST_LINE}`;
    await expect(
      parseTargetSpecs(['@ranges.txt'], { defaultPort: 4028, readFile: async () => text, limit }),
    ).rejects.toThrow(`(reading stopped at ranges.txt:${CAP / 4 + 1})`);
  });

  it('repeats and covered ranges do not count: a long list of one miner is one target', async () => {
    const text = '127.0.0.5\n127.0.0.0/30\n127.0.0.1-2\n127.0.0.5:4028\n'.repeat(LINES / 4);
    const targets = await parseTargetSpecs(['@farm.txt'], {
      defaultPort: 4028,
      readFile: async () => text,
      limit,
    });
    expect(targets.count).toBe(5);
    expect([...targets].map((t) => t.key)).toEqual([
      '127.0.0.5:4028',
      '127.0.0.0:4028',
      '127.0.0.1:4028',
      '127.0.0.2:4028',
      '127.0.0.3:4028',
    ]);
  });

  it('a hand-typed /8 keeps its exact count in the refusal', async () => {
    const ctx = memoryContext();
    expect(await runCli(['probe', '127.0.0.0/8'], ctx)).toBe(EXIT.usage);
    expect(ctx.err()).toMatch(/the targets name 16,777,216 addresses; at most 65,536 per run/);
  });

  it('probe @FILE of 200,000 miners: exit 2 at line 65,537, before any traffic', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-big-list-'));
    try {
      const file = path.join(dir, 'farm.txt');
      fs.writeFileSync(file, distinctHosts(LINES));
      const ctx = memoryContext();
      expect(await runCli(['probe', `@${file}`], ctx)).toBe(EXIT.usage);
      expect(ctx.err()).toBe(
        `hashctl: the targets name more than 65,536 addresses (reading stopped at ${file}:65537); at most 65,536 per run: find the miners first (hashctl scan RANGE --out farm.json, then @farm.json)\n`,
      );
      expect(ctx.out()).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
