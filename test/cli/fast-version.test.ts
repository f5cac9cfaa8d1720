// `hashctl --version` alone is answered before the program initializes (src/fast-version.ts): the
// same line as the program's own --version, the same exit, and nothing else changes.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';

const root = join(__dirname, '..', '..');
const bin = join(root, 'bin', 'hashctl');

function run(args: string[], shell?: string) {
  return shell === undefined
    ? spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 })
    : spawnSync('sh', ['-c', shell], { encoding: 'utf8', timeout: 20_000 });
}

describe('--version before the program loads', () => {
  it('prints the line the program prints, for --version and -V', async () => {
    const ctx = memoryContext();
    expect(await runCli(['--version'], ctx)).toBe(EXIT.ok);
    // The bundle is built from this checkout; its commit may be marked -dirty where the source's is not.
    const expected = ctx.out().replace(/\(commit [^)]*\)/, '(commit X)');
    for (const flag of ['--version', '-V']) {
      const result = run([flag]);
      expect(result.status).toBe(0);
      expect(result.stderr).toBe('');
      expect(
        result.stdout.replace(/\(commit [^)]*\)/, '(commit X)').replace(/^hashctl \S+/, 'hashctl V'),
      ).toBe(expected.replace(/^hashctl \S+/, 'hashctl V'));
      expect(result.stdout).toMatch(/^hashctl \S+ \(commit [0-9a-f]{12}(-dirty)?\)\n$/);
    }
  });

  it('runs ahead of every other module of the bundle', () => {
    const bundle = readFileSync(join(root, 'dist', 'hashctl.cjs'), 'utf8');
    const fast = bundle.indexOf('\n// src/fast-version.ts\n');
    expect(fast).toBeGreaterThan(0);
    // Module code esbuild runs at load time sits at the start of a line under its `// path` mark;
    // the fast path must come before main.ts, cli.ts and commander, or it saves nothing.
    // (A node_modules reached through a symlink is labelled by its real path: `../x/node_modules/…`.)
    for (const later of [
      /\n\/\/ src\/main\.ts\n/,
      /\n\/\/ src\/cli\.ts\n/,
      /\n\/\/ \S*node_modules\/commander\/esm\.mjs\n/,
    ]) {
      const at = bundle.search(later);
      expect(at, String(later)).toBeGreaterThan(fast);
    }
  });

  it('a reader that went away is a normal end; other arguments still reach the program', () => {
    const closed = run([], `"${process.execPath}" "${bin}" --version | (exec 0<&-; true); echo "rc=$?"`);
    expect(closed.stderr).toBe('');
    const json = run(['--version', '--json']);
    expect(json.status).toBe(0);
    expect(json.stdout).toMatch(/^hashctl \S+ \(commit /);
    const unknown = run(['--versio']);
    expect(unknown.status).toBe(EXIT.usage);
    expect(unknown.stderr).toMatch(/^hashctl: unknown option '--versio'/);
  });
});
