// The small readers and the identification rules, on their own.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinerError } from '../../src/errors.js';
import { avalonModel, compileDate, detect, parseType, unquoteVersion } from '../../src/miners/detect.js';
import { parseMmString } from '../../src/miners/dialects/avalon.js';
import { fansFromSlots } from '../../src/miners/dialects/common.js';
import { normalize } from '../../src/miners/normalize.js';
import { markActive, parsePools } from '../../src/miners/pools.js';
import { Replies } from '../../src/miners/replies.js';
import { snapshotSchema } from '../../src/miners/schema.js';
import { dashList, leadingNumber, num, temp } from '../../src/miners/values.js';
import { reply } from '../fixtures/miners/replies.js';
import { SAMPLES_DIR } from '../fixtures/miners/samples.js';

describe('value readers', () => {
  it('reads numbers from numbers and padded numeric strings only', () => {
    expect(num(' 69.2461')).toBe(69.2461);
    expect(num('156.0000')).toBe(156);
    expect(num('')).toBeNull();
    expect(num('nan')).toBeNull();
    expect(num('65.5K')).toBeNull();
    expect(num(Number.NaN)).toBeNull();
    expect(num(true)).toBeNull();
    expect(leadingNumber('967.50 (AB)')).toBe(967.5);
    expect(leadingNumber('1600M')).toBe(1600);
  });

  it('turns temperature sentinels into null', () => {
    expect(temp(0)).toBeNull();
    expect(temp(-273)).toBeNull();
    expect(temp(-83)).toBeNull();
    expect(temp('71.5')).toBe(71.5);
    expect(temp(-12)).toBe(-12);
  });

  it('splits dash strings with negative members', () => {
    expect(dashList('22-53-21-50')).toEqual([22, 53, 21, 50]);
    expect(dashList('2--1-20-22')).toEqual([2, -1, 20, 22]);
    expect(dashList('-8--11-10-12')).toEqual([-8, -11, 10, 12]);
    expect(dashList('-')).toEqual([]);
    expect(dashList([48, 66, 68, 68])).toEqual([48, 66, 68, 68]);
  });

  it('reads Avalon tokens that are not space-separated', () => {
    const tokens = parseMmString(
      'Ver[1047-x] Elapsed[103840]BOOTBY[1] SYSTEMSTATU[Work: In Work, Hash Board: 2 ] MGHS[1 2]',
    );
    expect(tokens.get('Elapsed')).toBe('103840');
    expect(tokens.get('BOOTBY')).toBe('1');
    expect(tokens.get('SYSTEMSTATU')).toBe('Work: In Work, Hash Board: 2 ');
    expect(tokens.get('MGHS')).toBe('1 2');
  });
});

describe('identification', () => {
  it('parses Type strings with their aftermarket markers', () => {
    expect(parseType('Antminer S21 Hydro (Vnish 1.2.6)', 'x')).toEqual({
      make: 'Antminer',
      model: 'S21 Hydro',
      aftermarket: { name: 'Vnish', version: '1.2.6' },
    });
    expect(parseType('Antminer T21 (7Miners 1.2.6-rc1)', null).aftermarket).toEqual({
      name: '7Miners',
      version: '1.2.6-rc1',
    });
    expect(parseType('Antminer S9\nV1.3.58', '2.0.0').model).toBe('S9');
    expect(parseType('S19-88 v.2.6.0.39 ', '4.11.1 rwglr')).toEqual({
      make: 'Antminer',
      model: 'S19-88',
      aftermarket: { name: 'MSKminer', version: '2.6.0.39' },
    });
    expect(parseType('braiins-am1-s9', null).model).toBe('S9');
    // A Bitmain model written without its make is the model, not a make and a model.
    expect(parseType('S19j Pro', null)).toMatchObject({ make: 'Antminer', model: 'S19j Pro' });
    // A bare Elphapex model, and one that belongs to no make hashctl can vouch for.
    expect(parseType('DG1+', null)).toMatchObject({ make: 'Elphapex', model: 'DG1+' });
    expect(parseType('HX9', null)).toMatchObject({ make: 'unknown', model: 'HX9' });
  });

  it('reads compile dates in every format seen', () => {
    expect(compileDate('Tue Dec  6 16:12:30 CST 2022')).toBe('2022-12-06');
    expect(compileDate('10 Dec 2024 14:34:31 GMT')).toBe('2024-12-10');
    expect(compileDate('2018-11-19 20-59-09 CST')).toBe('2018-11-19');
    expect(compileDate('Thu Jan 8 15:44:15 CST 20266')).toBeNull();
    expect(unquoteVersion("\\'20200917.22.REL\\'")).toBe('20200917.22.REL');
  });

  it('names Avalon models from PROD, MODEL or the module Ver', () => {
    expect(avalonModel('AvalonMiner 15-194', '15-194', null)).toBe('A1566');
    expect(avalonModel(null, null, '1366-88-22031501_abc_def')).toBe('1366');
    expect(avalonModel(null, null, '7411706-3162860')).toBe('741');
    expect(avalonModel('Avalon Nano3', null, null)).toBe('Nano3');
  });

  it('identifies a Whatsminer by its invalid-cmd answer to version, whatever Description says', () => {
    const replies = new Replies({
      version: new MinerError('api', 'miner answered E/14: invalid cmd', {
        code: 14,
        apiMessage: 'invalid cmd',
      }),
      summary: reply('summary', {
        SUMMARY: [{ 'MHS 5s': 1 }],
        STATUS: [{ STATUS: 'S', Description: 'cgminer 4.9.2' }],
      }),
    });
    expect(detect(replies).make).toBe('Whatsminer');
    expect(normalize({ version: replies.failure('version') as MinerError }).errors).toEqual([]);
  });

  it('never reads STATUS Description', () => {
    const body = {
      STATUS: [{ STATUS: 'S', Description: 'LUXminer 2025.4.8 BOSminer+ innominer a9-1.1.0' }],
      SUMMARY: [{ 'MHS 5s': 1000 }],
    };
    const snapshot = normalize({ summary: reply('summary', body) });
    expect(snapshot.make).toBe('unknown');
    expect(snapshot.firmware).toEqual({ name: null, version: null });
  });
});

describe('pools: the one in use', () => {
  const pool = (POOL: number, Priority: number, Status: string, active = true) => ({
    POOL,
    URL: `stratum+tcp://p${POOL}:3333`,
    Status,
    Priority,
    'Stratum Active': active,
  });

  it('is the alive pool with the lowest priority, not the one whose stratum is connected', () => {
    // after switchpool 1 on cgminer 4.11.1 both keep Stratum Active (CGMINER-API.md §15)
    const pools = parsePools([pool(0, 1, 'Alive'), pool(1, 0, 'Alive')]);
    expect(pools.filter((p) => p.active).map((p) => p.index)).toEqual([1]);
  });

  it('skips dead and disabled pools and marks none when none is alive', () => {
    expect(
      parsePools([pool(0, 0, 'Disabled'), pool(1, 1, 'Dead'), pool(2, 2, 'Alive', false)]).find(
        (p) => p.active,
      )?.index,
    ).toBe(2);
    expect(parsePools([pool(0, 0, 'Dead'), pool(1, 1, 'Disabled')]).some((p) => p.active)).toBe(false);
    expect(markActive([])).toEqual([]);
  });
});

describe('fans: zeros are not fans, unless a known fan stopped', () => {
  it('drops the empty slots of an S9', () => {
    expect(
      fansFromSlots(
        [
          [1, 0],
          [2, 0],
          [3, 0],
          [4, 0],
          [5, 3720],
          [6, 2400],
        ],
        2,
      ).map((f) => f.index),
    ).toEqual([5, 6]);
  });
  it('reports a stopped fan next to the running ones when the model has more', () => {
    expect(
      fansFromSlots(
        [
          [1, 0],
          [2, 0],
          [3, 0],
          [4, 0],
          [5, 0],
          [6, 5280],
          [7, 0],
        ],
        2,
      ),
    ).toEqual([
      { index: 5, rpm: 0 },
      { index: 6, rpm: 5280 },
    ]);
  });
  it('reports nothing when no fan turns (hydro, immersion, asleep)', () => {
    expect(
      fansFromSlots(
        [
          [1, 0],
          [2, 0],
          [3, 0],
          [4, 0],
        ],
        4,
      ),
    ).toEqual([]);
  });
});

describe('normalize is total', () => {
  it('never throws and always satisfies the schema, whatever the bodies hold', () => {
    const value = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.string(),
      fc.constant(null),
      fc.boolean(),
      fc.constant('nan'),
    );
    const rec = fc.dictionary(
      fc.constantFrom(
        'Type',
        'GHS 5s',
        'MHS av',
        'chain_acn1',
        'chain_rate1',
        'temp1',
        'fan1',
        'MM ID0',
        'URL',
        'Status',
        'Priority',
        'POOL',
        'Msg',
        'STATUS',
        'chain',
        'BOSminer',
        'LUXminer',
        'PROD',
      ),
      value,
    );
    const body = fc.dictionary(
      fc.constantFrom('STATS', 'SUMMARY', 'POOLS', 'DEVS', 'VERSION', 'Msg', 'STATUS', 'TEMPS', 'FANS'),
      fc.oneof(fc.array(rec), rec, value),
    );
    const command = fc.constantFrom(
      'version',
      'summary',
      'stats',
      'pools',
      'devs',
      'status',
      'get_version',
      'temps',
      'fans',
    );
    fc.assert(
      fc.property(fc.dictionary(command, body), (bodies) => {
        const replies = Object.fromEntries(Object.entries(bodies).map(([c, b]) => [c, reply(c, b)]));
        const snapshot = normalize(replies);
        snapshotSchema.parse(snapshot);
        expect(snapshot.errors.some((e) => e.code === 'internal')).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('treats a missing section as no data', () => {
    const snapshot = normalize({ stats: reply('stats', {}), pools: new MinerError('timeout', 'no answer') });
    expect(snapshot.boards).toEqual([]);
    expect(snapshot.errors).toEqual([{ code: 'timeout', message: 'pools: no answer' }]);
  });
});

describe('an S21 new_api stats reply without its chain list', () => {
  const sample = JSON.parse(
    readFileSync(`${SAMPLES_DIR}antminer-s21proplus_2026__stats_new-api.json`, 'utf8'),
  ) as { STATS: Record<string, unknown>[] };
  const withChain = (chain: unknown, rates?: number) => {
    const body = structuredClone(sample);
    const stats = body.STATS[0] as Record<string, unknown>;
    if (chain === undefined) delete stats.chain;
    else stats.chain = chain;
    if (rates !== undefined) {
      stats.rate_5s = rates;
      stats.rate_avg = rates;
    }
    return normalize({ stats: reply('stats', body) });
  };

  it('reads the hashrate, fans, power and uptime that are there, and says the chains were not', () => {
    // Read as all-null before (the record's chain_num sent it to the classic reader).
    for (const chain of [undefined, null]) {
      const snapshot = withChain(chain);
      expect(snapshot.model, String(chain)).toBe('S21 Pro+');
      expect(snapshot.hashrate.current_hs).toBeCloseTo(249994.18e9, -3);
      expect(snapshot.hashrate.average_hs).toBeCloseTo(246852.1e9, -3);
      expect(snapshot.uptime_s).toBe(1800211);
      expect(snapshot.fans.map((f) => f.rpm)).toEqual([4020, 4020, 3960, 3960]);
      expect(snapshot.power_w).toBe(3499);
      expect(snapshot.state).toBe('mining');
      // No chains read is no board dead: none is invented from the model's three.
      expect(snapshot.boards).toEqual([]);
      expect(snapshot.errors).toContainEqual({
        code: 'no_chains',
        message: 'stats: no chain list (missing or null); boards not read',
      });
      snapshotSchema.parse(snapshot);
    }
  });

  it('an empty chain list at 0 H/s flags no dead board and says the list is empty', () => {
    for (const rates of [0, 249994.18]) {
      const snapshot = withChain([], rates);
      expect(snapshot.boards, String(rates)).toEqual([]);
      expect(snapshot.errors).toContainEqual({
        code: 'no_chains',
        message: 'stats: the chain list is empty; no boards read',
      });
    }
  });
});
