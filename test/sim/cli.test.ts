// End to end through src/cli.ts: run under tsx so that this area's test does not depend on the
// whole bundle building while other areas are mid-work (bin/hashctl runs the same code bundled).
import { type ChildProcess, spawn } from 'node:child_process';
import { linkSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exchange, lenient, statusOf } from './support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function hashctl(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/entry.ts', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

describe('hashctl simulate', () => {
  it('prints the inventory once listening, serves it, and stops cleanly on SIGTERM', async () => {
    const child = hashctl([
      'simulate',
      '--count',
      '3',
      '--base-port',
      '0',
      '--profile',
      'mix',
      '--seed',
      '4',
    ]);
    const exited = exitOf(child);
    try {
      let out = '';
      child.stdout?.on('data', (d) => {
        out += d;
      });
      for (let i = 0; i < 300 && out.split('\n').length < 4; i++) await new Promise((r) => setTimeout(r, 50));
      const lines = out.trim().split('\n');
      expect(lines).toHaveLength(3);
      for (const line of lines) {
        expect(line).toMatch(/^127\.0\.0\.1:\d+$/);
        const reply = await exchange(Number(line.split(':')[1]), '{"command":"pools"}');
        expect(statusOf(lenient(reply.bytes)).Code).toBe(7);
      }
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect((await exchange(Number(lines[0]?.split(':')[1]), '{"command":"pools"}')).end).toBe('refused');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('on SIGHUP (a closed terminal) stops as cleanly as on SIGTERM: its --log is flushed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashctl-sim-hup-'));
    try {
      const log = join(dir, 'log.ndjson');
      const child = hashctl(['simulate', '--count', '1', '--base-port', '0', '--log', log]);
      const exited = exitOf(child);
      let out = '';
      let err = '';
      child.stdout?.on('data', (d) => {
        out += d;
      });
      child.stderr?.on('data', (d) => {
        err += d;
      });
      for (let i = 0; i < 300 && !out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 50));
      await exchange(Number(out.trim().split(':')[1]), '{"command":"summary"}');
      child.kill('SIGHUP');
      expect(await exited).toBe(0);
      expect(err).toMatch(/^hashctl: simulating 1 miner \(1 \S+\); stop with Ctrl-C\n/);
      expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replaces an --inventory file whole (a new file renamed over it), never rewrites it in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashctl-sim-inv-'));
    try {
      const inventory = join(dir, 'farm.txt');
      const stale = join(dir, 'yesterday.txt');
      writeFileSync(inventory, '127.0.0.1:1\n');
      linkSync(inventory, stale); // a second name of the old file: what a reader already opened
      const child = hashctl(['simulate', '--count', '2', '--base-port', '0', '--inventory', inventory]);
      const exited = exitOf(child);
      try {
        let text = '';
        for (let i = 0; i < 300 && text.split('\n').length < 3; i++) {
          await new Promise((r) => setTimeout(r, 50));
          text = readFileSync(inventory, 'utf8');
        }
        expect(text).toMatch(/^127\.0\.0\.1:\d+\n127\.0\.0\.1:\d+\n$/);
        // Written in place (truncated, then written), the old file's other name would show the new
        // text too, and a reader between the two steps an empty or half inventory.
        expect(readFileSync(stale, 'utf8')).toBe('127.0.0.1:1\n');
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      } finally {
        child.kill('SIGKILL');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 with one clear line when the port is taken', async () => {
    const holder = net.createServer();
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve((holder.address() as net.AddressInfo).port)),
    );
    try {
      const child = hashctl(['simulate', '--base-port', String(port)]);
      let err = '';
      child.stderr?.on('data', (d) => {
        err += d;
      });
      expect(await exitOf(child)).toBe(2);
      expect(err.trim().split('\n')).toEqual([
        `hashctl: cannot listen on 127.0.0.1:${port}: the port is already in use`,
      ]);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('rejects a bad flag value with exit 2 before listening', async () => {
    const cases: [string[], string][] = [
      [['--faults', 'latency=soon'], '--faults latency'],
      // Past a Node timer's range the delay would fire at once.
      [['--faults', 'latency=30d'], "invalid --faults latency '30d': at most 24d"],
      [['--restart-delay', '25d'], "invalid --restart-delay '25d': at most 24d"],
      // Never where the LAN could reach it.
      [['--host', '0.0.0.0'], "invalid --host '0.0.0.0': the simulator listens on loopback only"],
      [['--host', '192.0.2.2'], "invalid --host '192.0.2.2'"],
      [['--host', '127.0.0.256'], "invalid --host '127.0.0.256'"],
      [['--addresses', '127.0.1.0/30', '--count', '5'], '--addresses starts one miner per address'],
      // (--base-port 0 is added to every case: with --addresses it would be silently ignored.)
      [['--addresses', '127.0.1.0/30'], 'it takes no --count, --host or --base-port'],
      [['--inventory', ''], '--inventory is empty: give a file name'],
      [['--log', ''], '--log is empty: give a file name'],
      [['--inventory', join(tmpdir(), 'hashctl-no-such-dir', 'farm.txt')], 'cannot write --inventory file'],
      // The reason in words, as for --out and --inventory, not a bare ENOENT.
      [
        ['--log', join(tmpdir(), 'hashctl-no-such-dir', 'log.ndjson')],
        "log.ndjson': no such folder (ENOENT)",
      ],
    ];
    for (const [flags, message] of cases) {
      const child = hashctl(['simulate', ...flags, '--base-port', '0']);
      let err = '';
      child.stderr?.on('data', (d) => {
        err += d;
      });
      expect(await exitOf(child), flags.join(' ')).toBe(2);
      expect(err.trim().split('\n'), flags.join(' ')).toHaveLength(1);
      expect(err, flags.join(' ')).toContain(message);
    }
  });
});
