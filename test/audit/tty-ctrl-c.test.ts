// Ctrl-C while the audit's spinner turns on a terminal. ora's default (discardStdin) put the
// terminal in raw mode, so Ctrl-C was a byte instead of SIGINT, and the byte was never read (its
// listener was added without resuming stdin): the audit ignored Ctrl-C and ran to its timeouts.
import { spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const bin = join(__dirname, '..', '..', 'bin', 'hashctl');
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

let server: net.Server | null = null;
const sockets = new Set<net.Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

/** A miner that accepts and never answers. */
async function silentMiner(): Promise<string> {
  server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return `127.0.0.1:${port}`;
}

describe('audit on a terminal', () => {
  it.skipIf(!hasScript || process.platform !== 'linux')(
    'Ctrl-C while the spinner turns stops the audit (exit 130), not the timeout',
    async () => {
      const target = await silentMiner();
      const command = `stty cols 100; "${process.execPath}" "${bin}" audit ${target} --timeout 60s --retries 0`;
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let output = '';
      let pressed = false;
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        // The spinner is up: press Ctrl-C on the terminal.
        if (!pressed && output.includes('auditing')) {
          pressed = true;
          child.stdin.write('\u0003');
        }
      });
      // Bounded: a run that ignores Ctrl-C would wait for the 60 s timeout; stop it well before.
      const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearTimeout(killer);
      child.stdin.destroy();
      expect(pressed).toBe(true);
      expect(output).not.toMatch(/no reply within/);
      expect(code, output.slice(-400)).toBe(130);
    },
    40_000,
  );
});
