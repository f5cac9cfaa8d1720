// `hashctl probe - < somedir`: Node gives a directory on standard input as a stream that ends at
// once, so the run said "no targets: - named no miner", as if the list were empty: the mistake
// (a folder where a file was meant) was never named.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-stdin-dir-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function runWithStdinFrom(from: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const script = `"$0" bin/hashctl "$@" < "${from}"`;
  return new Promise((resolve) =>
    execFile(
      'sh',
      ['-c', script, process.execPath, ...args],
      { cwd: path.join(import.meta.dirname, '../..'), env: { ...process.env, NO_COLOR: '1' } },
      (error, _out, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }),
    ),
  );
}

describe('a directory on standard input', () => {
  for (const command of [
    ['probe', '-'],
    ['scan', '-'],
  ]) {
    it(`${command[0]} says standard input is a directory (exit 2), not that the list is empty`, async () => {
      const run = await runWithStdinFrom(dir, [...command, '--retries', '0']);
      expect(run.stderr).toBe(
        "hashctl: '-' reads targets from standard input, which is a directory here: redirect a file (< farm.txt)\n",
      );
      expect(run.code).toBe(2);
    });
  }

  it('an empty file is still the empty list it was', async () => {
    const empty = path.join(dir, 'empty.txt');
    fs.writeFileSync(empty, '');
    const run = await runWithStdinFrom(empty, ['probe', '-', '--retries', '0']);
    expect(run.stderr).toContain('- named no miner');
    expect(run.code).toBe(2);
  });
});
