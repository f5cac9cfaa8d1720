// A peer in an audited range that is not a miner writes its own words into the report (the keys of
// its JSON reply are the reason it was not audited): in Markdown they stay text, never markup.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';

const servers: net.Server[] = [];
afterEach(async () => {
  while (servers.length > 0) {
    const server = servers.pop() as net.Server;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe('Markdown report: what a non-miner peer said', () => {
  it('an image, a link or HTML in its reply keys is escaped text in "What was not checked"', async () => {
    const hostile = '![x](http://evil.example/p.png) [update](http://evil.example/) <img src=x> | `code`';
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.on('data', () => socket.end(JSON.stringify({ [hostile]: 1 })));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.91.31', resolve));
    const { port } = server.address() as net.AddressInfo;
    const ctx = memoryContext();
    await runCli(
      [
        '--timeout',
        '2s',
        '--retries',
        '0',
        'audit',
        `127.0.91.30-127.0.91.32:${port}`,
        '--format',
        'markdown',
      ],
      ctx,
    );
    const line = ctx
      .out()
      .split('\n')
      .find((text) => text.includes('127.0.91.31'));
    expect(line).toBeDefined();
    expect(line).toContain(
      'keys: !\\[x\\](http\\://evil.example/p.png) \\[update\\](http\\://evil.example/) \\<img src=x\\> \\| \\`code\\`',
    );
    expect(line).not.toMatch(/(^|[^\\])[[<`|]/);
  });
});
