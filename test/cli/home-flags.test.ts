// `--flag=~/x` names the same file as `--flag ~/x`: the shell expands a tilde at the start of a
// word only, so after `=` it reached hashctl as it was typed. `--dump=~/replies` made a folder
// named `~` in the working directory, `--out=~/audit.txt` failed (or wrote there), and
// `--allowed-pools=~/pools.txt` was not found.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import type { Farm } from '../../src/sim/index.js';
import { startHealthyFarm } from '../support/farm.js';

describe('a file flag written --flag=~/…', () => {
  let farm: Farm;
  let target: string;
  let home: string;
  let cwd: string;
  beforeAll(async () => {
    farm = await startHealthyFarm(1, () => Date.now());
    target = farm.inventory()[0] as string;
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-home-flags-home-'));
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-home-flags-cwd-'));
  });
  afterAll(async () => {
    await farm.stop();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  const context = () => memoryContext({ cwd, env: { HOME: home } });

  it('probe --dump=~/dir writes under the home folder', async () => {
    const ctx = context();
    expect(await runCli(['probe', target, '--dump=~/replies', '--retries', '0'], ctx)).toBe(EXIT.ok);
    expect(fs.readdirSync(path.join(home, 'replies')).length).toBeGreaterThan(0);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('audit --allowed-pools=~/file and --out=~/file read and write under the home folder', async () => {
    fs.writeFileSync(path.join(home, 'pools.txt'), 'stratum.example.com:3333\n');
    const ctx = context();
    const code = await runCli(
      [
        'audit',
        target,
        '--allowed-pools=~/pools.txt',
        '--out=~/audit.md',
        '--format',
        'markdown',
        '--retries',
        '0',
      ],
      ctx,
    );
    expect(ctx.err()).not.toContain('cannot read');
    expect(code).not.toBe(EXIT.usage);
    expect(fs.readFileSync(path.join(home, 'audit.md'), 'utf8')).toContain(target);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('a flag whose value is not a file keeps its tilde', async () => {
    const ctx = context();
    expect(await runCli(['thermal', 'check', target, '--site=~/x', '--json', '--retries', '0'], ctx)).toBe(
      EXIT.ok,
    );
    expect((JSON.parse(ctx.out()) as { results: { site: string }[] }).results[0]?.site).toBe('~/x');
  });
});
