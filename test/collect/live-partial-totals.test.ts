// live's summary line: a nominal or a power draw known for some miners only is said as such, not
// set beside the whole farm's hashrate as if it were the farm's.
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseLiveOptions, runLive } from '../../src/commands/live.js';
import { parseGlobals } from '../../src/commands/shared.js';
import { memoryContext } from '../../src/context.js';
import { openStore, writeCycle } from '../../src/store/index.js';
import { okOutcome, tempDir } from '../store/helpers.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
let dir: string;
let cleanup: () => void;
let dbPath: string;

beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-totals-'));
  dbPath = path.join(dir, 'farm.db');
});
afterEach(() => cleanup());

function store(outcomes: ReturnType<typeof okOutcome>[]): void {
  const s = openStore(dbPath);
  try {
    writeCycle(s, { site: 'north', startedAt: NOW - 60_000, endedAt: NOW - 59_000, outcomes });
  } finally {
    s.close();
  }
}

async function live(json: boolean): Promise<string> {
  let shown = '';
  const ctx = memoryContext({
    now: () => NOW,
    env: {},
    stdout: {
      write: (s) => {
        shown += s;
        return true;
      },
      isTTY: !json,
    },
  });
  expect(await runLive(await parseLiveOptions({ db: dbPath }, ctx), parseGlobals({ json }, ctx), ctx)).toBe(
    0,
  );
  return shown;
}

describe('live summary totals', () => {
  it('says the nominal and power cover some miners only, instead of "227 TH/s of 104 TH/s nominal"', async () => {
    store([
      okOutcome(4001, {
        hashrate: { current_hs: 100e12, average_hs: null, nominal_hs: 104e12 },
        power_w: 3000,
      }),
      // A model hashctl knows no rating for, and no power reading.
      okOutcome(4002, {
        model: 'S19 custom',
        hashrate: { current_hs: 127e12, average_hs: null, nominal_hs: null },
        power_w: null,
      }),
    ]);
    const summary = JSON.parse(await live(true)).summary;
    expect(summary).toMatchObject({
      hashrate_hs: 227e12,
      nominal_hs: 104e12,
      nominal_unknown: 1,
      power_w: 3000,
      power_unknown: 1,
    });
    const line = (await live(false)).split('\n')[0]!;
    expect(line).not.toMatch(/of 104\.0+ TH\/s nominal/);
    expect(line).toMatch(/nominal 104(\.0+)? TH\/s for 1 of 2 miners/);
    expect(line).toMatch(/3\.0 kW \(1 of 2 miners report power\)/);
  });

  it('keeps "X of Y nominal" when every miner has a nominal and a power reading', async () => {
    store([
      okOutcome(4001, {
        hashrate: { current_hs: 100e12, average_hs: null, nominal_hs: 104e12 },
        power_w: 3000,
      }),
      okOutcome(4002, {
        hashrate: { current_hs: 100e12, average_hs: null, nominal_hs: 104e12 },
        power_w: 3000,
      }),
    ]);
    const line = (await live(false)).split('\n')[0]!;
    expect(line).toMatch(/total 200(\.0+)? TH\/s of 208(\.0+)? TH\/s nominal, 6\.0 kW$/);
  });

  it('says a miner answering without a readable hashrate is left out of the total, and lists it as a problem', async () => {
    store([
      okOutcome(4001, {
        hashrate: { current_hs: 100e12, average_hs: null, nominal_hs: 104e12 },
        power_w: 3000,
      }),
      okOutcome(4002, {
        hashrate: { current_hs: null, average_hs: null, nominal_hs: 104e12 },
        power_w: 3000,
      }),
    ]);
    const out = JSON.parse(await live(true));
    expect(out.summary).toMatchObject({ hashrate_hs: 100e12, hashrate_unknown: 1 });
    expect(out.miners.find((m: { port: number }) => m.port === 4002).problems).toEqual([
      'no hashrate reading',
    ]);
    const line = (await live(false)).split('\n')[0]!;
    expect(line).toMatch(/total 100(\.0+)? TH\/s \(1 miner without a hashrate reading\)/);
  });
});
