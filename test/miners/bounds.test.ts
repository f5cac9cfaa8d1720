// Hostile sizes: a reply may list far more fans, boards or pools than any miner has. Normalizing
// it must neither crash (a spread of 200,000 arguments overflows the stack) nor take seconds (the
// stopped-fan search was quadratic), and what is dropped is said in the snapshot's errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeReply } from '../../src/cgminer/decode.js';
import { MAX_BOARDS, MAX_FANS } from '../../src/miners/dialects/common.js';
import { normalize } from '../../src/miners/normalize.js';
import { snapshotSchema } from '../../src/miners/schema.js';
import { reply } from '../fixtures/miners/replies.js';
import { SAMPLES_DIR } from '../fixtures/miners/samples.js';

const status = { STATUS: [{ STATUS: 'S', Code: 70, Msg: 'CGMiner stats', Description: 'cgminer 1.0.0' }] };
const header = { BMMiner: '1.0.0', Miner: '49.0.1.3', Type: 'Antminer ZZ9' };

function statsWith(device: Record<string, unknown>) {
  return normalize({
    stats: reply('stats', {
      ...status,
      STATS: [header, { STATS: 0, ID: 'BTM_SOC0', 'GHS 5s': 100000, ...device }],
    }),
    version: reply('version', { VERSION: [{ ...header, API: '3.1' }] }),
  });
}

describe('normalize on hostile sizes', () => {
  it('keeps at most MAX_FANS of 200,000 spinning fans and says so', () => {
    const device: Record<string, unknown> = { fan_num: 200_000 };
    for (let i = 1; i <= 200_000; i++) device[`fan${i}`] = 5000 + (i % 100);
    const s = statsWith(device);
    expect(s.fans).toHaveLength(MAX_FANS);
    expect(s.errors).toContainEqual({
      code: 'implausible_count',
      message: expect.stringMatching(/^\d+ fans reported; kept the first 64$/),
    });
  });

  it('bounds the stopped-fan search: 16,000 slots, a third spinning, a claimed fan count of 32,000', () => {
    const device: Record<string, unknown> = { fan_num: 32_000 };
    for (let i = 1; i <= 16_000; i++) device[`fan${i}`] = i % 3 === 0 ? 5000 : 0;
    const s = statsWith(device);
    expect(s.fans.length).toBeLessThanOrEqual(MAX_FANS);
  });

  it('keeps at most MAX_BOARDS boards', () => {
    const device: Record<string, unknown> = {};
    for (let i = 1; i <= 1000; i++) {
      device[`chain_rate${i}`] = '100';
      device[`chain_acn${i}`] = 76;
    }
    const s = statsWith(device);
    expect(s.boards.length).toBe(MAX_BOARDS);
    expect(s.errors.map((e) => e.code)).toContain('implausible_count');
  });

  it('ignores impossible fan speeds and hashrates, and says so', () => {
    const s = statsWith({ 'GHS 5s': 1e298, 'GHS av': 1e298, fan_num: 2, fan1: 1e19, fan2: 5400 });
    expect(s.hashrate.current_hs).toBeNull();
    expect(s.hashrate.average_hs).toBeNull();
    expect(s.fans.map((f) => f.rpm)).toEqual([null, 5400]);
    const codes = s.errors.map((e) => e.code);
    expect(codes).toContain('implausible_hashrate');
    expect(codes).toContain('implausible_fan');
    // The farm's real figures pass untouched.
    const real = statsWith({ 'GHS 5s': 110_000, fan_num: 1, fan1: 6000 });
    expect(real.hashrate.current_hs).toBe(110e12);
    expect(real.fans.map((f) => f.rpm)).toEqual([6000]);
    expect(real.errors.map((e) => e.code)).not.toContain('implausible_fan');
  });

  it('keeps an alarming temperature, so it is judged; drops only what no board can be (255 = dead sensor)', () => {
    const chipTemp = (reading: number) =>
      statsWith({ chain_acn1: 76, chain_rate1: '100', temp_chip1: `${reading}-${reading}-70-70` }).boards[0]
        ?.temp_chip_c;
    expect([150, 151, 200, 250].map(chipTemp)).toEqual([150, 151, 200, 250]);
    expect([255, 65535].map(chipTemp)).toEqual([70, 70]);
  });

  it('drops a negative board hashrate instead of showing it', () => {
    const s = statsWith({ chain_rate1: '-5', chain_acn1: 76, chain_rate2: '100', chain_acn2: 76 });
    expect(s.boards[0]?.hashrate_hs).toBeNull();
    expect(s.boards[1]?.hashrate_hs).toBeGreaterThan(0);
  });
});

describe('normalize on hostile text', () => {
  it('shows control characters and escapes in names, pools and messages as visible text', () => {
    const evil = '\u001b]0;PWNED\u0007\u001b[31mRED\u202e';
    const s = normalize({
      version: reply('version', {
        VERSION: [{ Type: `Antminer S19${evil}`, BMMiner: `1.0${evil}`, API: '3.1' }],
      }),
      pools: reply('pools', {
        POOLS: [
          { POOL: 0, URL: `stratum+tcp://p${evil}:3333`, User: `w${evil}`, Status: 'Alive', Priority: 0 },
        ],
      }),
    });
    const strings: string[] = [];
    JSON.parse(JSON.stringify([s.make, s.model, s.firmware, s.pools, s.errors]), (_key, value) => {
      if (typeof value === 'string') strings.push(value);
      return value;
    });
    expect(strings.length).toBeGreaterThan(5);
    for (const text of strings) expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(s.pools[0]?.url).toBe('stratum+tcp://p\\x1b]0;PWNED\\x07\\x1b[31mRED\\u202e:3333');
  });

  it('clips a hostile 100 KB model, firmware, pool and message as the client clips a STATUS message', () => {
    const huge = 'X'.repeat(100_000);
    const s = normalize({
      version: reply('version', { VERSION: [{ Type: `Antminer S19 ${huge}`, BMMiner: huge, API: '3.1' }] }),
      pools: reply('pools', {
        POOLS: [{ POOL: 0, URL: `stratum+tcp://${huge}:3333`, User: huge, Status: 'Alive', Priority: 0 }],
      }),
    });
    const strings: string[] = [];
    JSON.parse(JSON.stringify([s.make, s.model, s.firmware, s.pools, s.errors]), (_key, value) => {
      if (typeof value === 'string') strings.push(value);
      return value;
    });
    expect(strings.some((text) => text.includes('characters)'))).toBe(true);
    for (const text of strings) expect(text.length).toBeLessThan(600);
    expect(snapshotSchema.safeParse(s).success).toBe(true);
  });

  it('keeps only whole chip counts: a 1e19 or 72.5 `Num chips` is no count, and the snapshot stays valid', () => {
    const text = readFileSync(`${SAMPLES_DIR}honorknight__stats.json`, 'latin1');
    for (const odd of ['1e19', '72.5', '-72']) {
      const bytes = Buffer.from(text.replaceAll('"Num chips":72', `"Num chips":${odd}`), 'latin1');
      const s = normalize({ stats: decodeReply(bytes, 'stats') });
      expect(s.boards.length).toBeGreaterThan(0);
      expect(s.boards.map((b) => b.chips_expected)).toEqual(s.boards.map(() => null));
      expect(snapshotSchema.safeParse(s).success).toBe(true);
    }
  });

  it("drops one chain's garbage rate without rescaling the chains that read right", () => {
    // 100,000 GH/s in total over three chains of ~33,000; chain 1 says 1e20.
    const s = statsWith({
      chain_rate1: '1e20',
      chain_rate2: '33000.5',
      chain_rate3: '33500.25',
      chain_acn1: 76,
      chain_acn2: 76,
      chain_acn3: 76,
    });
    const rates = s.boards.map((b) => b.hashrate_hs);
    expect(rates[0]).toBeNull();
    expect(rates[1]).toBeCloseTo(33000.5e9, -6);
    expect(rates[2]).toBeCloseTo(33500.25e9, -6);
    expect(s.errors).toContainEqual({
      code: 'implausible_hashrate',
      message: expect.stringMatching(/^board 1 reported .* H\/s; ignored$/),
    });
  });
});

describe('per-chain rates of a miner with a weak board', () => {
  it("keeps the chains in the total's unit when they add up to it: one board dead, one at 36 GH/s", () => {
    // S19 Pro, board 1 dead, board 2 down to a few chips (36.10 GH/s), board 3 at 37.4 TH/s: the two
    // hashing chains are a thousand times apart, and the weak one was taken for the one that read
    // right: the chains were rescaled to TH/s, board 2 shown at 36.1 TH/s "ok" and board 3 at 37 PH/s.
    const stats = readFileSync(`${SAMPLES_DIR}antminer-s19pro_2022-12__stats.json`, 'utf8')
      .replace('"chain_rate1": "37603.30"', '"chain_rate1": ""')
      .replace('"chain_acn1": 114', '"chain_acn1": 0')
      .replace('"chain_rate2": "35536.22"', '"chain_rate2": "36.10"')
      .replace('"GHS 5s": 110566.89', '"GHS 5s": 37463.48');
    expect(stats).toContain('"chain_rate2": "36.10"');
    expect(stats).toContain('"GHS 5s": 37463.48');
    const s = normalize({
      stats: decodeReply(Buffer.from(stats), 'stats'),
      version: decodeReply(readFileSync(`${SAMPLES_DIR}antminer-s19pro_2022-12__version.json`), 'version'),
    });
    expect(s.hashrate.current_hs).toBeCloseTo(37463.48e9, -6);
    expect(s.boards.map((b) => b.hashrate_hs)).toEqual([0, 36.1e9, 37427.38e9]);
  });
});

describe('normalize keeps the snapshot valid whatever the numbers in key names and counters', () => {
  it('drops a fan or board whose slot number in the key is past any integer (fan99999999999999999999)', () => {
    const huge = '99999999999999999999';
    const s = statsWith({
      fan_num: 2,
      fan1: 5000,
      [`fan${huge}`]: 5100,
      chain_rate1: '33000',
      chain_acn1: 76,
      [`chain_rate${huge}`]: '33000',
      [`chain_acn${huge}`]: 76,
    });
    const generic = normalize({
      summary: reply('summary', {
        SUMMARY: [{ Elapsed: 100, 'MHS 5s': 5000, Fan1: 3000, [`Fan${huge}`]: 2900 }],
      }),
      devs: reply('devs', { DEVS: [{ ASC: 0, 'MHS 5s': 5000, Temperature: 60 }] }),
    });
    for (const snapshot of [s, generic]) {
      expect(snapshotSchema.safeParse(snapshot).success).toBe(true);
      expect(snapshot.fans.map((f) => f.index)).toEqual([1]);
      expect(snapshot.errors).toContainEqual({
        code: 'implausible_index',
        message: expect.stringMatching(/^fan \d+ is no slot number; ignored$/),
      });
    }
    expect(s.boards.map((b) => b.index)).toEqual([1]);
  });

  it('gives no share total past 2^53: two pools of 5e15 accepted each are no count', () => {
    const pool = (n: number) => ({
      POOL: n,
      URL: `stratum+tcp://pool${n}.invalid:3333`,
      User: 'w',
      Status: 'Alive',
      Priority: n,
      Accepted: 5_000_000_000_000_000,
      Rejected: 4_600_000_000_000_000,
    });
    const s = normalize({
      summary: reply('summary', { SUMMARY: [{ Elapsed: 100, 'MHS 5s': 5000 }] }),
      pools: reply('pools', { POOLS: [pool(0), pool(1)] }),
    });
    expect(s.pools.map((p) => p.accepted)).toEqual([5e15, 5e15]);
    expect(s.accepted).toBeNull();
    expect(s.rejected).toBeNull();
    expect(s.errors).toContainEqual({
      code: 'implausible_count',
      message: expect.stringMatching(/^accepted shares total .*; ignored$/),
    });
    expect(snapshotSchema.safeParse(s).success).toBe(true);
  });
  it("never rounds a firmware's own efficiency to Infinity (Whatsminer Power Rate 1e307)", () => {
    const s = normalize({
      summary: reply('summary', {
        SUMMARY: [
          {
            Elapsed: 100,
            'HS RT': 100e6,
            'MHS av': 100e6,
            'Power Rate': 1e307,
            Power: 3000,
            'Power Mode': 'Normal',
          },
        ],
      }),
      devs: reply('devs', { DEVS: [{ Slot: 0, 'MHS 5s': 100e6, Temperature: 60, 'Effective Chips': 100 }] }),
    });
    expect(s.make).toBe('Whatsminer');
    expect(s.efficiency_j_per_th).toBe(1e307);
    expect(snapshotSchema.safeParse(s).success).toBe(true);
  });
});
