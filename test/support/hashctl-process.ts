// `hashctl` as a user runs it: bin/hashctl in a child process (the bundle `npm test` builds
// first), output collected. HASHCTL_E2E_SOURCE=1 runs src/entry.ts under tsx instead, for working
// on one area while another leaves the bundle unbuildable. A hung run is killed, so the test fails
// instead of hanging.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const entry = process.env.HASHCTL_E2E_SOURCE === '1' ? ['--import', 'tsx', 'src/entry.ts'] : ['bin/hashctl'];

export interface HashctlRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts hashctl (NO_COLOR set, `env` added); `done` settles when it exits. */
export function startHashctl(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<HashctlRun> } {
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 25_000);
  const done = new Promise<HashctlRun>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done };
}

/** Runs hashctl to its end. */
export const runHashctl = (args: string[], env: Record<string, string> = {}): Promise<HashctlRun> =>
  startHashctl(args, env).done;
