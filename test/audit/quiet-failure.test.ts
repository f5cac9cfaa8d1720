// `audit -q` that exits 1 names the targets it could not audit: --quiet silences notes, not the
// reason for a failure. The TSV report lists findings only, so `audit -q A B` with B refused
// exited 1 with nothing anywhere that said B was never audited.
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import type { Farm } from '../../src/sim/index.js';
import { startHealthyFarm } from '../support/farm.js';

/** A loopback port nothing listens on (bound, then closed): a refused miner. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('audit --quiet with a target not audited', () => {
  let farm: Farm;
  let refused: string;
  beforeAll(async () => {
    farm = await startHealthyFarm(1, () => Date.now());
    refused = `127.0.0.1:${await closedPort()}`;
  });
  afterAll(async () => {
    await farm.stop();
  });

  it('exit 1, and stderr names the target and why', async () => {
    const ctx = memoryContext();
    const miner = farm.inventory()[0] as string;
    expect(await runCli(['audit', '-q', '--retries', '0', miner, refused], ctx)).toBe(EXIT.failed);
    expect(ctx.err()).toBe(`hashctl: ${refused}: not audited (refused): connection refused\n`);
    expect(ctx.out()).toContain(miner);
  });

  it('no miner answered: exit 1, said in one line per target and one for the run', async () => {
    const ctx = memoryContext();
    expect(await runCli(['audit', '-q', '--retries', '0', refused], ctx)).toBe(EXIT.failed);
    expect(ctx.err().trim().split('\n')).toEqual([
      `hashctl: ${refused}: not audited (refused): connection refused`,
      'hashctl: no miner answered on 1 target(s)',
    ]);
  });

  it('a clean audit stays silent', async () => {
    const ctx = memoryContext();
    expect(await runCli(['audit', '-q', '--retries', '0', farm.inventory()[0] as string], ctx)).toBe(EXIT.ok);
    expect(ctx.err()).toBe('');
  });
});
