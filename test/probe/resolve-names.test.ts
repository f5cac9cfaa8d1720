// probe and collect tell a host name and its address apart by resolving the names first: through
// the context's lookup (never the system resolver in tests), and no longer than a Ctrl-C allows.

import { mkdtemp, rm } from 'node:fs/promises';
import type { LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { lookupOf } from '../support/lookup.js';

let farm: Farm | null = null;
let dir: string | null = null;
afterEach(async () => {
  await farm?.stop();
  farm = null;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
});

describe('names resolved through the context', () => {
  it('probe asks the injected lookup, and polls a name and its address once', async () => {
    farm = await startFarm({ profile: 'antminer-s9', count: 1, host: '127.0.0.1', basePort: 0 });
    const key = farm.inventory()[0] as string;
    const port = key.split(':')[1];
    const asked: string[] = [];
    const ctx = memoryContext({ lookup: lookupOf({ 'rig-1.farm': '127.0.0.1' }, asked) });
    const code = await runCli(['probe', key, `rig-1.farm:${port}`, '--json', '--retries', '0'], ctx);
    expect(code).toBe(0);
    expect(asked).toContain('rig-1.farm');
    expect(ctx.err()).toMatch(/rig-1\.farm:\d+ is the miner 127\.0\.0\.1:\d+ already names: probed once/);
  });

  it('collect stops waiting for a resolver that never answers at Ctrl-C', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hashctl-resolve-'));
    const asked: string[] = [];
    const controller = new AbortController();
    // Ctrl-C while the resolver is being waited for.
    const silent = ((hostname: string) => {
      asked.push(hostname);
      setTimeout(() => controller.abort(), 50);
    }) as unknown as LookupFunction;
    const ctx = memoryContext({ lookup: silent, signal: controller.signal });
    // --timeout 10m: without the signal, the names would be waited for ten minutes.
    const code = await runCli(
      [
        'collect',
        '--once',
        '--db',
        join(dir, 'farm.db'),
        '--targets',
        'rig-1.farm:9',
        'rig-2.farm:9',
        '--timeout',
        '10m',
        '--retries',
        '0',
      ],
      ctx,
    );
    expect(asked).toEqual(expect.arrayContaining(['rig-1.farm', 'rig-2.farm']));
    expect([0, 1, 130]).toContain(code);
  });
});
