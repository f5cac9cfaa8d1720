// `thermal config pull` against a cloud (or a proxy, a captive portal) that sends its head, then
// its body a byte at a time, each byte inside undici's between-chunks allowance: --timeout bounds
// the whole answer, as the audit's web checks bound theirs, never only the silence between bytes.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';

const KEY = 'k3y-for-thermal-tests-0123456789';

describe('thermal config pull from a trickling cloud', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (closers.length > 0) await closers.pop()?.();
  });

  it('gives up at --timeout with a message that says so (exit 1), not after the whole trickle', async () => {
    const timers = new Set<NodeJS.Timeout>();
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      // A space every 100 ms, at most 3,000 of them (5 minutes): each inside the 400 ms allowed.
      let left = 3000;
      const timer = setInterval(() => {
        if (--left <= 0 || res.destroyed) {
          clearInterval(timer);
          timers.delete(timer);
          res.end('}');
          return;
        }
        res.write(' ');
      }, 100);
      timers.add(timer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      for (const timer of timers) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = server.address() as AddressInfo;
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY } });
    const code = await runCli(
      [
        '--timeout',
        '400ms',
        'thermal',
        'config',
        'pull',
        '--endpoint',
        `http://127.0.0.1:${port}`,
        '--dry-run',
      ],
      ctx,
    );
    expect(code).toBe(1);
    expect(ctx.err()).toMatch(
      /cannot fetch http:\/\/127\.0\.0\.1:\d+\/api\/thermal\/config: no complete answer within 400ms/,
    );
  });
});
