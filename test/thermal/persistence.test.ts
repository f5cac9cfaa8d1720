// --protect pauses only a miner that stays critical over several readings (thermal-facts §4): one
// glitching sensor must not cost a miner its hashing.
import { describe, expect, it } from 'vitest';
import type { MinerClient } from '../../src/cgminer/types.js';
import { memoryContext } from '../../src/context.js';
import { type CheckResult, checkSource } from '../../src/thermal/check.js';
import { type ProtectOptions, protectMiners } from '../../src/thermal/protect.js';
import { airMiner } from './helpers.js';

/** One Antminer judged at `board` °C (stock S19j Pro: critical from 80 °C). */
function judged(board: number, port = 4028): CheckResult {
  return checkSource(
    { target: `127.0.0.1:${port}`, host: '127.0.0.1', port, site: null, snapshot: airMiner(board) },
    { config: {}, site: null },
  );
}

/** A client that fails the test if protection gets as far as sending anything. */
const noTraffic = new Proxy({} as MinerClient, {
  get: () => () => {
    throw new Error('nothing may be sent');
  },
});

function options(readings: number, boardsSeen: number[][] = []): ProtectOptions {
  let call = 0;
  return {
    dryRun: false,
    yes: true,
    cooldownMs: 0,
    verifyTimeoutMs: 1000,
    concurrency: 4,
    client: noTraffic,
    store: null,
    site: null,
    actor: 'test',
    persistence: {
      readings,
      intervalMs: 250,
      // Reading `call + 2`: the temperature each miner reads now, by port.
      reread: async (miners) => {
        const temps = boardsSeen[call++] ?? [];
        return miners.map((m, i) => judged(temps[i] ?? 0, m.port));
      },
    },
  };
}

describe('thermal protection waits for consecutive critical readings', () => {
  it('lets a miner off when a later reading is no longer critical, and says which reading', async () => {
    const sleeps: number[] = [];
    const ctx = memoryContext({
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const first = judged(95);
    expect(first.action).toBe('pause');
    // Reading 2 still critical, reading 3 back to a normal 60 °C: a glitch, not a fire.
    const report = await protectMiners([first], options(3, [[96], [60]]), ctx);
    expect(report.outcomes).toHaveLength(1);
    expect(report.outcomes[0]).toMatchObject({
      target: '127.0.0.1:4028',
      result: 'unconfirmed',
      request: null,
      reading: { index: 3, of: 3, status: 'ok' },
    });
    expect(report.outcomes[0]?.detail).toMatch(/^not paused: reading 3 of 3 was ok/);
    expect(report.run_id).toBeNull();
    expect(sleeps).toEqual([250, 250]);
  });

  it('re-reads only the miners still in question, and names the reason of a warn reading', async () => {
    const asked: number[][] = [];
    const ctx = memoryContext({ sleep: async () => {} });
    const opts = options(3);
    opts.persistence = {
      readings: 3,
      intervalMs: 0,
      reread: async (miners) => {
        asked.push(miners.map((m) => m.port));
        // Port 1 cools to a warn reading at once; port 2 stays hot and is not paused only
        // because this test stops before any send (its client throws).
        return miners.map((m) => judged(m.port === 1 ? 77 : 97, m.port));
      },
    };
    await expect(protectMiners([judged(95, 1), judged(95, 2)], opts, ctx)).rejects.toThrow(
      'nothing may be sent',
    );
    expect(asked).toEqual([[1, 2], [2]]);
  });

  it('an unreadable miner on a later reading is not paused blind', async () => {
    const ctx = memoryContext({ sleep: async () => {} });
    const opts = options(2);
    opts.persistence = {
      readings: 2,
      intervalMs: 0,
      reread: async (miners) =>
        miners.map((m) =>
          checkSource(
            {
              target: m.target,
              host: m.host,
              port: m.port,
              site: null,
              snapshot: null,
              error: { kind: 'timeout', message: 'no reply within 2000ms' },
            },
            { config: {}, site: null },
          ),
        ),
    };
    const report = await protectMiners([judged(95)], opts, ctx);
    expect(report.outcomes[0]).toMatchObject({
      result: 'unconfirmed',
      reading: { index: 2, status: 'unknown' },
    });
    expect(report.outcomes[0]?.detail).toContain('no reply within 2000ms');
  });

  it('one reading (--readings 1) acts on the check alone: no re-read', async () => {
    const ctx = memoryContext({ sleep: async () => {} });
    const opts = options(1);
    let reread = 0;
    opts.persistence = {
      readings: 1,
      intervalMs: 0,
      reread: async () => {
        reread++;
        return [];
      },
    };
    await expect(protectMiners([judged(95)], opts, ctx)).rejects.toThrow('nothing may be sent');
    expect(reread).toBe(0);
  });

  it('an interrupt between readings sends nothing and says it was interrupted', async () => {
    const abort = new AbortController();
    const ctx = memoryContext({
      signal: abort.signal,
      sleep: async () => {
        abort.abort();
      },
    });
    const report = await protectMiners([judged(95)], options(3, [[95], [95]]), ctx);
    expect(report).toMatchObject({ interrupted: true, run_id: null, outcomes: [] });
  });
});
