// A signal that arrives while hashctl is still starting (reading and compiling its bundle, before
// main() installs its handlers) is the same stop as one a moment later: SIGTERM from a supervisor or
// a timeout wrapper in the first ~100 ms ended the process by the signal itself (exit 143, no
// line), where the contract says an interrupted run exits 130 (hashctl.md §3).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeMiner } from '../support/fake-miner.js';

const root = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'hashctl-early-signal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Preloaded before bin/hashctl: the signal is sent the moment bin/hashctl reads the bundle, that
// is after its first line and before a line of the program has run. No timing involved.
const preload = join(dir, 'signal-on-bundle-read.cjs');
writeFileSync(
  preload,
  `const fs = require('node:fs');
const read = fs.readFileSync;
let sent = false;
fs.readFileSync = function (file, ...rest) {
  if (!sent && typeof file === 'string' && file.endsWith('hashctl.cjs')) {
    sent = true;
    process.kill(process.pid, process.env.EARLY_SIGNAL);
  }
  return read.call(this, file, ...rest);
};
`,
);

// The single binary runs the bundle itself, without bin/hashctl: there the signal is sent while the
// bundle's modules initialize (its first require of node:events comes after src/fast-version.ts).
const bundlePreload = join(dir, 'signal-in-bundle-init.cjs');
writeFileSync(
  bundlePreload,
  `const Module = require('node:module');
const load = Module.prototype.require;
let sent = false;
Module.prototype.require = function (id, ...rest) {
  if (!sent && id === 'node:events' && String(this.filename).endsWith('hashctl.cjs')) {
    sent = true;
    process.kill(process.pid, process.env.EARLY_SIGNAL);
  }
  return load.call(this, id, ...rest);
};
`,
);

function runWithEarlySignal(signal: NodeJS.Signals, args: string[], how: 'bin' | 'bundle' = 'bin') {
  const start =
    how === 'bin' ? ['--require', preload, 'bin/hashctl'] : ['--require', bundlePreload, 'dist/hashctl.cjs'];
  const child = spawn(process.execPath, [...start, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', EARLY_SIGNAL: signal, HASHCTL_CACHE_DIR: join(dir, 'cache') },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 25_000);
  return new Promise<{
    code: number | null;
    killedBy: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) =>
    child.on('close', (code, killedBy) => {
      clearTimeout(guard);
      resolve({ code, killedBy, stdout, stderr });
    }),
  );
}

describe('a signal while hashctl starts', () => {
  for (const [signal, how] of [
    ['SIGTERM', 'bin'],
    ['SIGINT', 'bin'],
    ['SIGTERM', 'bundle'],
  ] as const) {
    it(`${signal} (${how}): the run stops as interrupted (exit 130), not killed by the signal`, async () => {
      const silent = await startFakeMiner({ kind: 'silent' });
      try {
        const run = await runWithEarlySignal(
          signal,
          ['probe', silent.target.key, '--command', 'summary', '--timeout', '10s', '--json'],
          how,
        );
        expect(run.killedBy).toBeNull();
        expect(run.code).toBe(130);
        // Stopped before anything was sent: the command started already stopped.
        expect(silent.requests).toEqual([]);
        expect(run.stderr).toContain('interrupted');
      } finally {
        await silent.close();
      }
    });
  }
});
