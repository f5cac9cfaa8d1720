// `collect --once -q` that exits 1 says why in one line: --quiet silences progress and notes, not
// the reason for a failure. cron runs it with -q and mails stderr; it exited 1 in silence when no
// miner answered or the collector refused the key, and the operator had to guess which.
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import type { Farm } from '../../src/sim/index.js';
import { tempDir } from '../store/helpers.js';
import { startHealthyFarm } from '../support/farm.js';

/** A loopback port nothing listens on (bound, then closed): a refused miner. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('collect --quiet that fails', () => {
  let farm: Farm;
  let collector: http.Server;
  let collectorUrl: string;
  const temp = tempDir('hashctl-collect-quiet-');
  beforeAll(async () => {
    farm = await startHealthyFarm(1, () => Date.now());
    collector = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(401).end());
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    collectorUrl = `http://127.0.0.1:${(collector.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    await farm.stop();
    await new Promise((resolve) => collector.close(resolve));
    temp.cleanup();
  });

  it('no miner answered: exit 1 with the run line', async () => {
    const ctx = memoryContext({ cwd: temp.dir });
    const target = `127.0.0.1:${await closedPort()}`;
    const db = path.join(temp.dir, 'none.db');
    expect(
      await runCli(['collect', '--once', '-q', '--retries', '0', '--targets', target, '--db', db], ctx),
    ).toBe(EXIT.failed);
    const lines = ctx.err().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^hashctl: run 1 \(site default\): 1 polled, 0 ok, 1 failed \(1 refused\)/);
    expect(ctx.out()).toBe('');
  });

  it('the collector refused the key: exit 1 with the upload line', async () => {
    const ctx = memoryContext({
      cwd: temp.dir,
      env: { HASHCTL_COLLECTOR_KEY: 'wrong-key-0123456789abcdef' },
    });
    const db = path.join(temp.dir, 'refused.db');
    const args = ['collect', '--once', '-q', '--targets', farm.inventory()[0] as string, '--db', db];
    expect(await runCli([...args, '--upload', collectorUrl], ctx)).toBe(EXIT.failed);
    const lines = ctx.err().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^hashctl: upload: .*refused the key.*401/);
  });

  it('a run that succeeds stays silent', async () => {
    const ctx = memoryContext({ cwd: temp.dir });
    const db = path.join(temp.dir, 'ok.db');
    expect(
      await runCli(['collect', '--once', '-q', '--targets', farm.inventory()[0] as string, '--db', db], ctx),
    ).toBe(EXIT.ok);
    expect(ctx.err()).toBe('');
  });
});
