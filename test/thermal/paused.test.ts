// pausedBy: whether hashctl's own pause (control or thermal protection) is why a miner is idle,
// from command_log. It runs for every idle miner of `live` and of each collect cycle (a curtailed
// farm: all of them), on a log that grows by every nightly pause and never shrinks.
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { commandLogStatements, NEWEST_SWITCH_SQL } from '../../src/store/command-log.js';
import { openStore, type Store } from '../../src/store/index.js';
import { pausedBy } from '../../src/thermal/paused.js';
import { PROTECT_SOURCE } from '../../src/thermal/protect.js';
import { queryPlan, recordCommand, tempDir } from '../store/helpers.js';

let store: Store;
let cleanup: () => void;
beforeEach(() => {
  const temp = tempDir('hashctl-paused-');
  cleanup = temp.cleanup;
  store = openStore(path.join(temp.dir, 'farm.db'));
});
afterEach(() => {
  vi.restoreAllMocks();
  store.close();
  cleanup();
});

const T = Date.UTC(2025, 5, 1);

function logged(
  ts: number,
  action: string,
  source: string,
  result: 'verified' | 'refused' = 'verified',
  port = 4028,
) {
  recordCommand(store.db, { ts, action, port, host: '10.0.0.1', source, result });
}

const paused = (port = 4028) => pausedBy(commandLogStatements(store.db), '10.0.0.1', port);

describe('pausedBy', () => {
  it('is the newest pause unless a resume came at or after it, from control or thermal protection', () => {
    expect(paused()).toBeNull();
    logged(T, 'pause', 'cli');
    expect(paused()).toBe(`paused by hashctl control at ${new Date(T).toISOString()}`);
    logged(T + 10, 'resume', 'cli');
    expect(paused()).toBeNull();
    logged(T + 20, 'pause', PROTECT_SOURCE);
    expect(paused()).toBe(`paused by thermal protection at ${new Date(T + 20).toISOString()}`);
    // A refused resume did not take effect; another program's pause is not ours.
    logged(T + 30, 'resume', 'cli', 'refused');
    logged(T + 40, 'pause', 'script');
    logged(T + 50, 'reboot', 'cli');
    expect(paused()).toBe(`paused by thermal protection at ${new Date(T + 20).toISOString()}`);
    // A resume in the same ms as a pause wins; two pauses in one ms are control's.
    logged(T + 60, 'pause', PROTECT_SOURCE);
    logged(T + 60, 'resume', PROTECT_SOURCE);
    expect(paused()).toBeNull();
    logged(T + 70, 'pause', PROTECT_SOURCE);
    logged(T + 70, 'pause', 'cli');
    expect(paused()).toBe(`paused by hashctl control at ${new Date(T + 70).toISOString()}`);
    // Another port of the same address is another miner.
    expect(paused(4029)).toBeNull();
  });

  it("reads a miner's log newest first and stops at its newest pause or resume, once per miner", () => {
    // A month of nightly control pauses; thermal protection never paused it.
    for (let day = 0; day < 30; day++) {
      logged(T + day * 86_400_000, 'pause', 'cli');
      logged(T + day * 86_400_000 + 3_600_000, 'resume', 'cli');
    }
    logged(T + 31 * 86_400_000, 'pause', 'cli');
    const plan = queryPlan(store.db, NEWEST_SWITCH_SQL, '10.0.0.1', 4028, 'cli', 'thermal');
    expect(plan).toMatch(/SEARCH command_log USING INDEX command_log_miner_ts \(host=\? AND port=\?\)/);
    expect(plan).not.toMatch(/TEMP B-TREE/);
    // One walk down the index (and one look at the ts it found), never one per action and source:
    // asked for the thermal pause it never had, the miner's whole log was read back to its start.
    const Statement = Object.getPrototypeOf(store.db.prepare('SELECT 1'));
    const get = vi.spyOn(Statement, 'get');
    const all = vi.spyOn(Statement, 'all');
    expect(paused()).toBe(`paused by hashctl control at ${new Date(T + 31 * 86_400_000).toISOString()}`);
    expect(get.mock.calls.length + all.mock.calls.length).toBeLessThanOrEqual(2);
  });
});
