// Real replies from public test data (test/fixtures/miners/public, sources in its SOURCES.md):
// firmwares the shared samples do not cover, decoded with the real decoder and normalized.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeReply } from '../../src/cgminer/decode.js';
import type { DecodedReply } from '../../src/cgminer/types.js';
import { normalize } from '../../src/miners/normalize.js';

const DIR = fileURLToPath(new URL('../fixtures/miners/public/', import.meta.url));

function repliesOf(folder: string): Record<string, DecodedReply> {
  const replies: Record<string, DecodedReply> = {};
  for (const file of readdirSync(`${DIR}${folder}`)) {
    const command = file.replace(/\.txt$/, '');
    replies[command] = decodeReply(readFileSync(`${DIR}${folder}/${file}`), command);
  }
  return replies;
}

function miner(folder: string) {
  return normalize(repliesOf(folder));
}

/** The same replies with every key inside the data sections' records re-cased. */
function recased(replies: Record<string, DecodedReply>, recase: (key: string) => string) {
  const out: Record<string, DecodedReply> = {};
  for (const [command, reply] of Object.entries(replies)) {
    const body: Record<string, unknown> = {};
    for (const [section, value] of Object.entries(reply.body)) {
      body[section] =
        section === 'STATUS' || !Array.isArray(value)
          ? value
          : value.map((rec: Record<string, unknown>) =>
              Object.fromEntries(Object.entries(rec).map(([key, v]) => [recase(key), v])),
            );
    }
    out[command] = { ...reply, body };
  }
  return out;
}

describe('public replies', () => {
  it('bfgminer (Moonlander 2): "MHS 20s" is its current rate, and its one board hashes', () => {
    const snapshot = miner('moonlander2');
    expect(snapshot.hashrate.current_hs).toBeGreaterThan(1e6);
    expect(snapshot.boards).toHaveLength(1);
    expect(snapshot.boards[0]?.status).toBe('ok');
  });

  it('a rate named after the log interval the miner runs with ("MHS 10s" for --log 10) is its current rate', () => {
    const replies = repliesOf('moonlander2');
    const devs = replies.devs as DecodedReply;
    const [dev] = devs.body.DEVS as Record<string, unknown>[];
    const { 'MHS 20s': rate, 'MHS rolling': _rolling, ...rest } = dev as Record<string, unknown>;
    replies.devs = { ...devs, body: { ...devs.body, DEVS: [{ ...rest, 'MHS 60s': 1, 'MHS 10s': rate }] } };
    const snapshot = normalize(replies);
    expect(snapshot.hashrate.current_hs).toBe(2_962_000);
    expect(snapshot.boards[0]?.status).toBe('ok');
  });

  it('BW L21: a lower-case "temperature" is the board temperature', () => {
    const snapshot = miner('bw-l21-cg410');
    expect(snapshot.boards.length).toBe(4);
    for (const board of snapshot.boards) expect(board.temp_board_c).toBe(32);
  });

  it("BW L21's cpuminer 2.3.2 build: a summary at 0 next to hashing boards gives way to the boards", () => {
    const snapshot = miner('bw-l21-cpuminer');
    expect(snapshot.hashrate.current_hs).toBe(513_680_000);
    expect(snapshot.hashrate.average_hs).toBe(545_250_000);
    expect(snapshot.state).toBe('mining');
    // Its summary's Accepted (1655589633532138, with Getworks 0) is not the boards' 8402.
    expect(snapshot.accepted).toBe(8402);
  });

  it('Auradine builds SHA-256 machines only', () => {
    const snapshot = miner('auradine');
    expect(snapshot.make).toBe('Auradine');
    expect(snapshot.algorithm).toBe('sha256d');
  });

  it('Avalon 921 behind an AUC: each hashing module is a board that is ok', () => {
    const snapshot = miner('avalon-921');
    expect(snapshot.boards.length).toBe(5);
    expect(snapshot.boards.map((b) => b.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    for (const board of snapshot.boards) expect(board.hashrate_hs).toBeGreaterThan(1e12);
  });

  it("Avalon 921: a module's rate is its own work (WU), not a share of every AUC's total", () => {
    // The reply lists one AUC's 5 modules (GHSmm ≈ 22 TH/s each); the summary (473.7 TH/s now,
    // 420.7 on average) counts about 20: each module did ≈ 20.6 TH/s on average, ≈ 23.2 now.
    const snapshot = miner('avalon-921');
    for (const board of snapshot.boards) {
      expect(board.hashrate_hs).toBeGreaterThan(20e12);
      expect(board.hashrate_hs).toBeLessThan(25e12);
    }
  });

  it('Antminer S7: two fans in slots 1 and 3 of six are its two fans, not four stopped ones', () => {
    const snapshot = miner('antminer-s7');
    expect(snapshot.fans.filter((f) => (f.rpm ?? 0) > 0)).toHaveLength(2);
    expect(snapshot.fans.filter((f) => f.rpm === 0)).toHaveLength(0);
  });

  it('sgminer (Equihash) keeps its sol/s to the hundredth: 13.25 sol/s is not 13', () => {
    const snapshot = miner('sgminer-gm');
    expect(snapshot.hashrate.current_hs).toBeCloseTo(13.25, 2);
  });

  it('reads the well-known cgminer keys of devs, summary and pools in whatever case a build writes them', () => {
    for (const folder of ['moonlander2', 'bw-l21-cg410', 'bw-l21-cpuminer', 'sgminer-gm']) {
      const original = normalize(repliesOf(folder));
      expect(original.hashrate.current_hs).not.toBeNull();
      for (const recase of [(k: string) => k.toLowerCase(), (k: string) => k.toUpperCase()]) {
        expect(normalize(recased(repliesOf(folder), recase)), folder).toEqual(original);
      }
    }
  });
});
