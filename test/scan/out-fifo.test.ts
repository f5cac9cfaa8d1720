// scan --out into a FIFO (`mkfifo p; hashctl scan … --out p & jq . < p`) when the scan finds no
// miner: the rule that keeps an existing inventory (a network down must not empty the file cron
// collects from) is for a file. A FIFO holds nothing to keep: scan wrote nothing into it, said
// "p left as it was", exit 1, and the reader waited forever for a writer that never came.
import { constants } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { runBash } from '../support/shell.js';
import { closedPort } from './support/services.js';

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hashctl-scan-fifo-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('scan --out into a FIFO', () => {
  it('writes the (empty) inventory into it when no miner was found', async () => {
    const fifo = join(dir, 'inventory.fifo');
    expect((await runBash(`mkfifo ${JSON.stringify(fifo)}`)).code).toBe(0);
    // A reader before the writer, as `jq . < p` is: non-blocking, so opening it waits for nobody.
    const handle = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const reader = new Socket({ fd: handle.fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    reader.on('data', (chunk: Buffer) => chunks.push(chunk));
    try {
      const port = await closedPort();
      const ctx = memoryContext();
      const code = await runCli(['scan', '127.0.0.1', '--port', String(port), '--out', fifo, '--quiet'], ctx);
      expect(ctx.err()).not.toMatch(/left as it was/);
      expect(code).toBe(0);
      await new Promise<void>((resolve) => (reader.readableEnded ? resolve() : reader.once('end', resolve)));
      const inventory = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { miners: unknown[] };
      expect(inventory.miners).toEqual([]);
    } finally {
      reader.destroy();
    }
  }, 15_000);
});
