// A host name whose resolver is slow: the name lookup is not the TCP handshake. The connect timeout
// (scan's --timeout, 1s by default: "a LAN host answers a SYN in well under 1 s") ran from before the
// lookup, so a farm whose first nameserver is down (every lookup a second or more) had each named
// miner reported as silent ('none', exit 0, listed nowhere) although it answered at once; and a
// resolver that never answered made the name 'none' too, instead of a name not resolved (exit 1).
// Names resolve only through the lookups below, never through the system resolver.
import type { LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { buildScanTargets, type ScanResult, type ScanSummary, scan } from '../../src/scan/index.js';
import { type Farm, startFarm } from '../../src/sim/index.js';

let farm: Farm;
let port = 0;

beforeAll(async () => {
  farm = await startFarm({ profile: 'antminer-s19', basePort: 0, count: 1 });
  port = farm.miners[0]?.port ?? 0;
});

afterAll(async () => {
  await farm?.stop();
});

/** Answers 127.0.0.1 for every name after `delayMs`; never answers when `delayMs` is null. */
function slowLookup(delayMs: number | null, asked: string[]): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    asked.push(hostname);
    if (delayMs === null) return;
    setTimeout(() => {
      if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    }, delayMs);
  }) as unknown as LookupFunction;
}

describe('scan of a host name on a slow resolver', () => {
  it('finds the miner when the lookup takes longer than the connect timeout', async () => {
    const asked: string[] = [];
    const ctx = memoryContext({ lookup: slowLookup(600, asked) });
    const code = await runCli(
      ['scan', 'rig-slowdns.lan', '--port', String(port), '--timeout', '200ms', '--json'],
      ctx,
    );
    expect(asked.length).toBeGreaterThan(0);
    const { results, summary } = JSON.parse(ctx.out()) as { results: ScanResult[]; summary: ScanSummary };
    expect(results.map((r) => [r.host, r.outcome, r.make])).toEqual([
      ['rig-slowdns.lan', 'miner', 'Antminer'],
    ]);
    expect(summary).toMatchObject({ checked: 1, miners: 1, none: 0 });
    expect(code).toBe(0);
  });

  it('calls a name whose lookup never answers unresolved, not silent', async () => {
    const asked: string[] = [];
    const targets = await buildScanTargets(['rig-nodns.lan'], [port]);
    const { summary } = await scan(targets, {
      ports: [port],
      connectTimeoutMs: 100,
      replyTimeoutMs: 1000,
      lookupTimeoutMs: 300,
      maxBytes: 1 << 20,
      concurrency: 4,
      retries: 0,
      keepNone: true,
      lookup: slowLookup(null, asked),
    });
    expect(asked).toEqual(['rig-nodns.lan']);
    expect(summary).toMatchObject({ checked: 1, none: 1, unresolved: ['rig-nodns.lan'] });
  });
});
