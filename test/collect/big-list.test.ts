// collect's own cap (200,000 targets) stops a list at the line that passes it, as the other
// commands' caps do: collect read a million-line list whole (hundreds of MB) before refusing it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { BAD_LAST_LINE, distinctHosts } from '../support/target-lists.js';

const CAP = 200_000;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-collect-big-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('collect with a list past its cap', () => {
  it("--targets @FILE stops at line 200,001 with collect's own words, before any file is made", async () => {
    const file = path.join(dir, 'farm.txt');
    fs.writeFileSync(file, `${distinctHosts(CAP + 50_000)}${BAD_LAST_LINE}`);
    const db = path.join(dir, 'farm.db');
    const ctx = memoryContext();
    expect(await runCli(['collect', '--targets', `@${file}`, '--db', db, '--once'], ctx)).toBe(EXIT.usage);
    expect(ctx.err()).toBe(
      `hashctl: the targets name more than 200,000 addresses (reading stopped at ${file}:${CAP + 1}); collect polls at most 200,000 per run: find the miners first (hashctl scan RANGE --out farm.json, then --targets @farm.json)\n`,
    );
    expect(fs.existsSync(db)).toBe(false);
  });

  it("a config file's list stops there too, said with the config file", async () => {
    fs.writeFileSync(path.join(dir, 'big.txt'), `${distinctHosts(CAP + 50_000)}${BAD_LAST_LINE}`);
    const config = path.join(dir, 'farm.json');
    fs.writeFileSync(config, JSON.stringify({ targets: ['@big.txt'], db: path.join(dir, 'farm.db') }));
    const ctx = memoryContext();
    expect(await runCli(['collect', '--once', '--config', config], ctx)).toBe(EXIT.usage);
    expect(ctx.err()).toContain(
      `hashctl: config ${config}: targets: the targets name more than 200,000 addresses (reading stopped at ${path.join(dir, 'big.txt')}:${CAP + 1}); collect polls at most 200,000`,
    );
  });

  it('a list of exactly 200,000 is not refused by the cap (its bad last line is)', async () => {
    const file = path.join(dir, 'farm.txt');
    fs.writeFileSync(file, `${distinctHosts(CAP)}${BAD_LAST_LINE}`);
    const ctx = memoryContext();
    expect(
      await runCli(['collect', '--targets', `@${file}`, '--db', path.join(dir, 'x.db'), '--once'], ctx),
    ).toBe(EXIT.usage);
    expect(ctx.err()).toContain(`${file}:${CAP + 1}: one target per line, found 'not a target!'`);
  });
});
