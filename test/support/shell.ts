// A bash command line in a child process (for `ulimit` and the like), with its output collected.
// A hung child is killed, so the test fails instead of hanging.
import { spawn } from 'node:child_process';

export interface ShellRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ShellOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** SIGKILL the child after this long. */
  killAfterMs?: number;
}

export function runBash(command: string, options: ShellOptions = {}): Promise<ShellRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}
