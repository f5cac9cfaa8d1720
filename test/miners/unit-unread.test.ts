// A miner whose hashrate unit is decided by a read that failed this poll (Innosilicon: `stats` says
// the family, `coin` the hash method; an A9 counts sol/s under its `MHS` labels). Served by real
// miners on 127.0.123.x: the snapshot must show the right figure or say the unit is unknown, never
// the summary read in upstream MH/s (51 GH/s for a 51 ksol/s A9).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/cgminer/client.js';
import { storedDialects } from '../../src/collect/dialects.js';
import { createDialectCache, type DialectCache, fetchSnapshot, seedDialect } from '../../src/miners/fetch.js';
import type { Snapshot } from '../../src/miners/types.js';
import { minerStatements, openStore, writeCycle } from '../../src/store/index.js';
import { SAMPLES_DIR } from '../fixtures/miners/samples.js';
import { okOutcome, tempDir } from '../store/helpers.js';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';

const sample = (file: string) => readFileSync(`${SAMPLES_DIR}${file}`, 'utf8');
const error = (code: number, msg: string) =>
  JSON.stringify({
    STATUS: [{ STATUS: 'E', When: 1, Code: code, Msg: msg, Description: 'innominer a9-1.1.0' }],
    id: 1,
  });
const coin = JSON.stringify({
  STATUS: [{ STATUS: 'S', When: 1, Code: 78, Msg: 'CGMiner coin', Description: 'innominer a9-1.1.0' }],
  COIN: [{ 'Hash Method': 'Equihash', 'Current Block Time': 1, 'Network Difficulty': 1 }],
  id: 1,
});

let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
});

interface A9 {
  miner: FakeMiner;
  /** What the next polls see: `stats` (and `coin`) answering, failing with E, or hanging. */
  stats: 'ok' | 'error' | 'hang';
  coin: 'ok' | 'error';
}

/** An Innosilicon A9 (the samples) on 127.0.123.`n`, joining cgminer-style unless `singles`. */
async function startA9(
  n: number,
  singles = false,
  build = 'innominer a9-1.1.0',
  host = `127.0.123.${n}`,
): Promise<A9> {
  const a9: A9 = { miner: undefined as unknown as FakeMiner, stats: 'ok', coin: 'ok' };
  // The older build says `sgminer 4.4.2` where the newer says `innominer a9-1.1.0`.
  const as = (text: string) => text.replaceAll('innominer a9-1.1.0', build);
  const answer = (command: string): string => {
    if (command === 'summary') return as(sample('innosilicon-a9__summary.json'));
    if (command === 'pools') return as(sample('innosilicon-a9__pools.json'));
    if (command === 'stats')
      return as(a9.stats === 'ok' ? sample('innosilicon-a9__stats.json') : error(22, 'Stats read failed'));
    if (command === 'coin') return as(a9.coin === 'ok' ? coin : error(14, 'Invalid command'));
    return as(error(14, 'Invalid command'));
  };
  a9.miner = await startFakeMiner(
    (request) => {
      const command = (JSON.parse(request) as { command: string }).command;
      if (command === 'stats' && a9.stats === 'hang') return { kind: 'silent' };
      if (!command.includes('+')) return { kind: 'reply', bytes: answer(command) };
      if (singles) return { kind: 'reply', bytes: error(14, 'Invalid command') };
      const members = command.split('+').map((name) => `"${name}":[${answer(name)}]`);
      return { kind: 'reply', bytes: `{${members.join(',')},"id":1}` };
    },
    { host },
  );
  miners.push(a9.miner);
  return a9;
}

const client = () => createClient({ timeoutMs: 1000, maxBytes: 1 << 20, retries: 0 });

async function poll(a9: A9, cache: DialectCache = createDialectCache()): Promise<Snapshot> {
  return (await fetchSnapshot(client(), a9.miner.target, { cache })).snapshot;
}

describe('a hashrate whose unit a failed read decides', () => {
  it('a known A9 whose stats fails keeps its unit from coin, not upstream MH/s', async () => {
    for (const [n, singles, build] of [
      [11, false, 'innominer a9-1.1.0'],
      [12, true, 'innominer a9-1.1.0'],
      [16, false, 'sgminer 4.4.2'],
      [17, true, 'sgminer 4.4.2'],
    ] as const) {
      const a9 = await startA9(n, singles, build);
      const cache = createDialectCache();
      const first = await poll(a9, cache);
      expect(first.hashrate.current_hs).toBe(51_452);
      a9.stats = 'error';
      const second = await poll(a9, cache);
      expect(second.hashrate.current_hs).toBe(51_452);
      expect(second.hashrate.average_hs).toBe(51_275);
      expect(second.errors.some((e) => /^stats:/.test(e.message))).toBe(true);
      // And with coin gone too, the unit is unknown: said, not guessed.
      a9.coin = 'error';
      const third = await poll(a9, cache);
      expect(third.hashrate).toEqual({ current_hs: null, average_hs: null, nominal_hs: null });
      expect(third.errors.some((e) => e.code === 'unit_unknown')).toBe(true);
      expect(third.accepted).toBe(5128);
    }
  });

  it('an A9 whose coin names Equihash is an Equihash miner in the snapshot, so its sol/s are shown as sol/s', async () => {
    // The rate was read in sol/s from coin's Hash Method, but the snapshot said algorithm "unknown":
    // probe printed 51.45 ksol/s as "51.45 kH/s", and live kept the miner out of the Equihash total.
    const a9 = await startA9(0, false, 'innominer a9-1.1.0', '127.0.0.1');
    const snapshot = await poll(a9);
    expect(snapshot.hashrate.current_hs).toBe(51_452);
    expect(snapshot.algorithm).toBe('equihash');
    a9.coin = 'error';
    expect((await poll(a9)).algorithm).toBe('unknown');
  });

  it('a known A9 whose stats times out (the reads after it lost too): the unit is unknown', async () => {
    const a9 = await startA9(13, true);
    const cache = createDialectCache();
    expect((await poll(a9, cache)).hashrate.current_hs).toBe(51_452);
    a9.stats = 'hang';
    const snapshot = await poll(a9, cache);
    expect(snapshot.hashrate.current_hs).toBeNull();
    expect(snapshot.errors.some((e) => e.code === 'unit_unknown')).toBe(true);
    expect(snapshot.errors.some((e) => e.code === 'timeout' && /^stats:/.test(e.message))).toBe(true);
  });

  it('a cron run (cache seeded from the stored hint) reads a failing-stats A9 the same way', async () => {
    const a9 = await startA9(14);
    a9.stats = 'error';
    const cache = createDialectCache();
    expect(seedDialect(cache, a9.miner.target.key, 'innosilicon')).toBe(true);
    expect((await poll(a9, cache)).hashrate.current_hs).toBe(51_452);
    a9.coin = 'error';
    const snapshot = await poll(a9, cache);
    expect(snapshot.hashrate.current_hs).toBeNull();
    expect(snapshot.errors.some((e) => e.code === 'unit_unknown')).toBe(true);
  });

  it('first contact with an A9 whose stats fails: the unit from coin, or unknown without it', async () => {
    const a9 = await startA9(15);
    a9.stats = 'error';
    expect((await poll(a9)).hashrate.current_hs).toBe(51_452);
    a9.coin = 'error';
    const snapshot = await poll(a9);
    expect(snapshot.hashrate.current_hs).toBeNull();
    expect(snapshot.errors.some((e) => e.code === 'unit_unknown')).toBe(true);
  });

  it('a known Antminer L3+ whose version and stats fail keeps its model, and so the MH/s of its GHS fields', async () => {
    // The L3+ (scrypt) writes MH/s under `GHS 5s`: only its model says so.
    let failing = false;
    const summary = JSON.stringify({
      STATUS: [{ STATUS: 'S', When: 1, Code: 11, Msg: 'Summary', Description: 'cgminer 4.9.0' }],
      SUMMARY: [{ Elapsed: 393983, 'GHS 5s': '504.56', 'GHS av': 500.28, Accepted: 9000, Rejected: 12 }],
      id: 1,
    });
    const answer = (command: string): string => {
      if (command === 'summary') return summary;
      if (command === 'pools') return sample('antminer-l3plus__pools.json');
      if (failing && (command === 'version' || command === 'stats')) return error(22, 'Read failed');
      if (command === 'version') return sample('antminer-l3plus__version.json');
      if (command === 'stats') return sample('antminer-l3plus__stats.txt');
      return error(14, 'Invalid command');
    };
    const miner = await startFakeMiner(
      (request) => {
        const command = (JSON.parse(request) as { command: string }).command;
        if (!command.includes('+')) return { kind: 'reply', bytes: answer(command) };
        const members = command.split('+').map((name) => `"${name}":[${answer(name)}]`);
        return { kind: 'reply', bytes: `{${members.join(',')},"id":1}` };
      },
      { host: '127.0.123.18' },
    );
    miners.push(miner);
    const cache = createDialectCache();
    const read = async (c: DialectCache) =>
      (await fetchSnapshot(client(), miner.target, { cache: c })).snapshot;
    const first = await read(cache);
    expect([first.make, first.model, first.hashrate.current_hs]).toEqual(['Antminer', 'L3+', 504_560_000]);
    failing = true;
    const second = await read(cache);
    expect([second.make, second.model, second.algorithm, second.hashrate.current_hs]).toEqual([
      'Antminer',
      'L3+',
      'scrypt',
      504_560_000,
    ]);
    // A cron run: the cache seeded from what the store keeps of the miner (its hint, make and model).
    const seeded = createDialectCache();
    seedDialect(seeded, miner.target.key, 'antminer', null, Date.now(), {
      make: 'Antminer',
      model: 'L3+',
      firmware: { name: 'cgminer', version: null },
    });
    const third = await read(seeded);
    expect([third.make, third.model, third.hashrate.current_hs]).toEqual(['Antminer', 'L3+', 504_560_000]);
  });
});

describe('what a cron run knows of a miner', () => {
  it('seeds the cache with the make and model the store kept, not only the dialect', () => {
    const { dir, cleanup } = tempDir();
    const store = openStore(path.join(dir, 'hashctl.db'));
    try {
      const outcome = okOutcome(4028, { make: 'Antminer', model: 'L3+', algorithm: 'scrypt' });
      writeCycle(store, { site: 'default', startedAt: 1_000, endedAt: 2_000, outcomes: [outcome] });
      const miners = store.prepared(minerStatements);
      const [row] = miners.find('127.0.0.1', 4028);
      miners.setDialect(row!.id, 'antminer', null);
      const cache = createDialectCache();
      expect(storedDialects(store, 'default', cache, 3_000).seeded).toBe(1);
      expect(cache.get('127.0.0.1:4028')?.identity).toEqual({
        make: 'Antminer',
        model: 'L3+',
        firmware: { name: 'bmminer', version: '1.0.0' },
        algorithm: 'scrypt',
        family: 'antminer',
      });
    } finally {
      store.close();
      cleanup();
    }
  });
});
