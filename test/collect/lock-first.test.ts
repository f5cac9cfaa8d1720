// A second collect exits 75 at once (hashctl.md §8): before it resolves the names in its targets.
// A farm listed by host name, with a slow or unreachable DNS server, made a cron `--once` that
// met a running loop wait out every lookup's timeout (5 s by default) before it said so.
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { acquireLock } from '../../src/store/index.js';
import { tempDir } from '../store/helpers.js';
import { lookupOf } from '../support/lookup.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-lock-first-'));
});
afterEach(() => cleanup());

describe('collect while another run holds the lock', () => {
  it('exits 75 without looking up a single name of its targets', async () => {
    const db = path.join(dir, 'farm.db');
    const lock = acquireLock(db);
    try {
      // Resolved here, never by DNS; the poll that would follow is never reached.
      const asked: string[] = [];
      const lookup = lookupOf({ 'rig-1.lan': '127.0.0.1', 'rig-2.lan': '127.0.0.1' }, asked);
      const ctx = memoryContext({ lookup });
      const code = await runCli(
        ['collect', '--once', '--targets', 'rig-1.lan:1', 'rig-2.lan:2', '--db', db, '--retries', '0'],
        ctx,
      );
      expect(code).toBe(EXIT.locked);
      expect(ctx.err()).toMatch(/another hashctl run holds .*farm\.db\.lock/);
      expect(asked).toEqual([]);
    } finally {
      lock.release();
    }
  });
});
