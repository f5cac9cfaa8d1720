// Another machine at the same address (an L3+ swapped for an S19): the hysteresis memory the store
// keeps for that miner was learnt on the old machine, and must not judge the new one.
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { trackCycleThermal } from '../../src/collect/thermal.js';
import type { Snapshot } from '../../src/miners/types.js';
import { openStore, type Store, writeCycle } from '../../src/store/index.js';
import { checkSource } from '../../src/thermal/check.js';
import type { ThermalConfig } from '../../src/thermal/config.js';
import { storeMemory } from '../../src/thermal/memory.js';
import { makeSnapshot, target, tempDir } from '../store/helpers.js';

// Chips warn at 75 and are critical at 80 (left below 77 by the 3 °C margin).
const config: ThermalConfig = { classes: { air: { chip: { warn: 75, critical: 80 } } } };

function miner(model: string, algorithm: string, chip: number): Snapshot {
  const base = makeSnapshot({ model, algorithm });
  return {
    ...base,
    boards: base.boards.map((board) => ({ ...board, temp_chip_c: chip, temp_board_c: 60 })),
    temp_max_chip_c: chip,
    temp_max_board_c: 60,
  };
}

const HOT_L3 = miner('L3+', 'scrypt', 85);
const S19_AT_79 = miner('S19j Pro', 'sha256d', 79);
const T0 = Date.UTC(2026, 10, 2, 12);

let dir: string;
let cleanup: () => void;
let store: Store;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  store = openStore(path.join(dir, 'hashctl.db'));
});
afterEach(() => {
  store.close();
  cleanup();
});

function collectCycle(at: number, snapshot: Snapshot): string | null | undefined {
  return store.transaction(() => {
    const outcomes = [{ target: target(4028), ok: true as const, snapshot, elapsedMs: 10 }];
    const tracked = trackCycleThermal(store, config, 'north', outcomes, at);
    writeCycle(
      store,
      { site: 'north', startedAt: at, endedAt: at, outcomes: tracked.outcomes },
      { extraInTransaction: tracked.hook },
    );
    return tracked.outcomes[0]!.thermalStatus;
  });
}

function check(at: number, snapshot: Snapshot) {
  return store.transaction(() =>
    checkSource(
      { target: '127.0.0.1:4028', host: '127.0.0.1', port: 4028, site: 'north', snapshot },
      { config, site: 'north', memory: storeMemory(store, at, 'north') },
    ),
  );
}

const events = () =>
  store.db.prepare('SELECT from_state, to_state, detail FROM thermal_events ORDER BY id').all() as {
    from_state: string;
    to_state: string;
    detail: string;
  }[];

describe('a machine swapped at the same address', () => {
  it('is judged afresh by collect, not held at the old machine critical level', () => {
    expect(collectCycle(T0, HOT_L3)).toBe('critical');
    // The same machine at 79 °C stays critical (hysteresis: not yet 3 °C below 80).
    expect(collectCycle(T0 + 60_000, { ...HOT_L3, temp_max_chip_c: 79 })).toBe('critical');
    // An S19 at 79 °C in its place: warn, as a first reading of it is.
    expect(collectCycle(T0 + 120_000, S19_AT_79)).toBe('warn');
    const last = events().at(-1)!;
    expect([last.from_state, last.to_state]).toEqual(['critical', 'warn']);
    expect(last.detail).toMatch(/another machine answers here now; it was Antminer L3\+, scrypt/);
    // And from then on it keeps its own hysteresis: 79 °C on the S19 stays warn.
    expect(collectCycle(T0 + 180_000, S19_AT_79)).toBe('warn');
  });

  it('is judged afresh by thermal check --db (and --protect, which acts on its result)', () => {
    expect(check(T0, HOT_L3).status).toBe('critical');
    const swapped = check(T0 + 60_000, S19_AT_79);
    expect(swapped.status).toBe('warn');
    expect(swapped.action).not.toBe('pause');
    expect(swapped.transition).toMatchObject({ from: 'critical', to: 'warn' });
  });

  it('is judged afresh by thermal check after collect stored the old machine memory', () => {
    expect(collectCycle(T0, HOT_L3)).toBe('critical');
    expect(check(T0 + 60_000, S19_AT_79).status).toBe('warn');
    // collect, next, sees the memory thermal check learnt on the S19: no second reset, no event.
    const before = events().length;
    expect(collectCycle(T0 + 120_000, S19_AT_79)).toBe('warn');
    expect(events()).toHaveLength(before);
  });

  it('a poll that does not name the model is no swap: the hysteresis holds', () => {
    expect(collectCycle(T0, HOT_L3)).toBe('critical');
    expect(collectCycle(T0 + 60_000, { ...miner('L3+', 'scrypt', 79), model: null })).toBe('critical');
  });
});
