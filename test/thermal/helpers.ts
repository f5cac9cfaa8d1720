// Snapshots built by hand for the thermal tests (not taken from the samples), and stored cycles.
import type { Board, Fan, Snapshot } from '../../src/miners/types.js';
import type { MinerOutcome } from '../../src/store/index.js';
import { identitySnapshot } from '../../src/thermal/limits.js';

export interface SnapshotSpec {
  make?: string;
  model?: string | null;
  firmware?: string | null;
  boards?: Partial<Board>[];
  fans?: (number | null)[];
  inlet?: number | null;
  state?: string;
  cooling?: string | null;
  power_mode?: string;
}

export function snapshotOf(spec: SnapshotSpec = {}): Snapshot {
  const base = identitySnapshot(
    spec.make ?? 'Antminer',
    spec.model === undefined ? 'S19j Pro' : spec.model,
    null,
  );
  const boards: Board[] = (spec.boards ?? []).map((b, index) => ({
    index,
    hashrate_hs: 30e12,
    chips: 126,
    chips_expected: 126,
    temp_board_c: null,
    temp_chip_c: null,
    frequency_mhz: 500,
    status: 'ok',
    ...b,
  }));
  const fans: Fan[] = (spec.fans ?? []).map((rpm, index) => ({ index, rpm }));
  const max = (values: (number | null | undefined)[]) => {
    const clean = values.filter((v): v is number => typeof v === 'number' && v !== 0);
    return clean.length ? Math.max(...clean) : null;
  };
  return {
    ...base,
    firmware: { name: spec.firmware ?? null, version: null },
    boards,
    fans,
    temp_max_board_c: max(boards.map((b) => b.temp_board_c)),
    temp_max_chip_c: max(boards.map((b) => b.temp_chip_c)),
    temp_inlet_c: spec.inlet ?? null,
    state: spec.state ?? 'mining',
    cooling: spec.cooling ?? null,
    ...(spec.power_mode === undefined ? {} : { power_mode: spec.power_mode }),
  };
}

/** A healthy air-cooled miner: three boards at `board` °C, chips 15 °C hotter, four fans. */
export function airMiner(board: number, overrides: SnapshotSpec = {}): Snapshot {
  return snapshotOf({
    boards: [0, 1, 2].map(() => ({ temp_board_c: board, temp_chip_c: board + 15 })),
    fans: [5400, 5460, 5520, 5580],
    inlet: 25,
    ...overrides,
  });
}

/** `10.0.0.N:4028`, the stored farms' addresses (never dialled: --from-db reads the file). */
export function storedTarget(n: number) {
  return { host: `10.0.0.${n}`, port: 4028, key: `10.0.0.${n}:4028` };
}

/** One collect cycle of `site`, a minute old, written into the database at `file` (for --from-db). */
export async function storeCycle(file: string, site: string, outcomes: MinerOutcome[]): Promise<void> {
  const { openStore, writeCycle } = await import('../../src/store/index.js');
  const store = openStore(file);
  try {
    const startedAt = Date.now() - 60_000;
    writeCycle(store, { site, startedAt, endedAt: startedAt + 1000, outcomes });
  } finally {
    store.close();
  }
}
