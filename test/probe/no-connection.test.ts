// `probe --command a,b,c` of a miner that takes no connection (port closed, host unreachable, no
// handshake within the timeout): the first command says so, and the rest are not sent, as a poll
// does. Each used to be asked in turn, paying the connect timeout (and its retries) again every
// time: a switched-off miner in `probe @farm --command summary,pools,stats` cost three timeouts.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { closedPort, startFakeMiner } from '../support/fake-miner.js';

describe('probe --command of a miner that takes no connection', () => {
  it('sends the first command only; the rest are failed with its kind, attempts 0', async () => {
    const port = await closedPort();
    const miner = await startFakeMiner({ kind: 'close' });
    try {
      const ctx = memoryContext();
      const code = await runCli(
        [
          'probe',
          `127.0.0.1:${port}`,
          miner.target.key,
          '--command',
          'summary,pools,stats',
          '--json',
          '--retries',
          '1',
          '--timeout',
          '2s',
        ],
        ctx,
      );
      expect(code).toBe(1);
      const [closed, open] = (JSON.parse(ctx.out()) as { results: Record<string, unknown>[] }).results as [
        { error: unknown; errors: Record<string, { kind: string; message: string; attempts: number }> },
        { errors: Record<string, { kind: string; attempts: number }> },
      ];
      expect(closed.error).toMatchObject({ kind: 'refused', attempts: 2 });
      expect(closed.errors.summary).toMatchObject({ kind: 'refused', attempts: 2 });
      for (const command of ['pools', 'stats']) {
        expect(closed.errors[command]).toMatchObject({ kind: 'refused', attempts: 0 });
        expect(closed.errors[command]?.message).toMatch(
          /^not sent: summary got no connection \(connection refused/,
        );
      }
      // A miner that took the connection (and closed it unanswered) is asked every command.
      expect(Object.values(open.errors).map((e) => [e.kind, e.attempts])).toEqual([
        ['empty_reply', 2],
        ['empty_reply', 2],
        ['empty_reply', 2],
      ]);
      expect(miner.connections).toBe(6);
    } finally {
      await miner.close();
    }
  });
});
