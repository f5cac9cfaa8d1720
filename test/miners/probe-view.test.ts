// `hashctl probe TARGETS` (snapshot view) and `hashctl schema snapshot`, against real servers.
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { clientFromGlobals } from '../../src/commands/miners.js';
import { runSchema } from '../../src/commands/schema.js';
import type { GlobalOptions } from '../../src/commands/shared.js';
import { memoryContext } from '../../src/context.js';
import { UsageError } from '../../src/errors.js';
import { FIELD_NAMES, runSnapshotProbe } from '../../src/miners/probe-view.js';
import { parseTargetSpecs } from '../../src/targets/index.js';
import { SAMPLES_DIR } from '../fixtures/miners/samples.js';
import { closedPort, type FakeMiner, startFakeMiner } from '../support/fake-miner.js';

const globals = (overrides: Partial<GlobalOptions> = {}): GlobalOptions => ({
  timeoutMs: 3000,
  retries: 0,
  maxBytes: 1 << 20,
  concurrency: 4,
  port: 4028,
  json: false,
  quiet: true,
  debug: false,
  color: false,
  ...overrides,
});

let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
});

/** A stock S19 Pro answering from the samples (joins included, as bmminer does). */
async function s19pro(edit: (reply: string) => string = (reply) => reply): Promise<FakeMiner> {
  // A command it has no capture of gets upstream's E/14 (CGMINER-API.md §15), as first contact's probes do.
  const body = (command: string) =>
    existsSync(`${SAMPLES_DIR}antminer-s19pro_2022-12__${command}.json`)
      ? edit(readFileSync(`${SAMPLES_DIR}antminer-s19pro_2022-12__${command}.json`, 'utf8'))
      : '{"STATUS":[{"STATUS":"E","When":1,"Code":14,"Msg":"Invalid command"}],"id":1}';
  const miner = await startFakeMiner((request) => {
    const command = (JSON.parse(request) as { command: string }).command;
    const names = command.split('+');
    if (names.length === 1) return { kind: 'reply', bytes: body(command) };
    return { kind: 'reply', bytes: `{${names.map((n) => `"${n}":[${body(n)}]`).join(',')},"id":1}` };
  });
  miners.push(miner);
  return miner;
}

async function targetsOf(...specs: string[]) {
  return parseTargetSpecs(specs, { defaultPort: 4028 });
}

/** runSnapshotProbe with the client `probe` gives it. */
type Args = Parameters<typeof runSnapshotProbe>;
const snapshotProbe = (targets: Args[0], opts: Args[1], given: Args[2], ctx: Args[3]) =>
  runSnapshotProbe(targets, opts, given, ctx, () => clientFromGlobals(given, ctx));

describe('probe: snapshot view', () => {
  it('prints one object for one host in --json, with the snapshot', async () => {
    const miner = await s19pro();
    const ctx = memoryContext();
    const code = await snapshotProbe(
      await targetsOf(miner.target.key),
      { wide: false, fields: null },
      globals({ json: true }),
      ctx,
    );
    expect(code).toBe(0);
    const doc = JSON.parse(ctx.out()) as {
      target: string;
      ok: boolean;
      elapsed_ms: number;
      snapshot: { model: string };
    };
    expect([doc.target, doc.ok, doc.snapshot.model]).toEqual([miner.target.key, true, 'S19 Pro']);
    expect(doc.elapsed_ms).toBeGreaterThanOrEqual(0);
    expect(miner.connections).toBe(1); // version+summary+stats+pools+devs in one join
  });

  it('lists results with failures and exits 1 when a miner is down', async () => {
    const miner = await s19pro();
    const port = await closedPort();
    const ctx = memoryContext();
    const code = await snapshotProbe(
      await targetsOf(miner.target.key, `127.0.0.1:${port}`),
      { wide: false, fields: null },
      globals({ json: true }),
      ctx,
    );
    expect(code).toBe(1);
    const doc = JSON.parse(ctx.out()) as { results: { ok: boolean; error?: { kind: string } }[] };
    expect(doc.results.map((r) => r.ok)).toEqual([true, false]);
    expect(doc.results[1]?.error?.kind).toBe('refused');
  });

  it('prints a tab-separated table off a TTY, failures with their kind', async () => {
    const miner = await s19pro();
    const port = await closedPort();
    const ctx = memoryContext();
    await snapshotProbe(
      await targetsOf(miner.target.key, `127.0.0.1:${port}`),
      { wide: false, fields: null },
      globals(),
      ctx,
    );
    const [head, ok, down] = ctx.out().trimEnd().split('\n');
    // Figures as bare numbers in base units, the unit in the header (as --json and `live` name them).
    expect(head?.split('\t')).toEqual([
      'target',
      'miner',
      'firmware',
      'hashrate_hs',
      'boards',
      'chips',
      'temp_max_chip_c',
      'fan_min_rpm',
      'pool',
      'uptime_s',
    ]);
    expect(ok?.split('\t')).toEqual([
      miner.target.key,
      'Antminer S19 Pro',
      'bmminer 2022-12-06',
      '110566890000000',
      '3/3',
      '342/342',
      '78',
      '5040',
      'btc.global.luxor.tech:700',
      '50474',
    ]);
    expect(down).toMatch(/refused/);
  });

  it('chooses columns with --fields and adds power and efficiency with --wide', async () => {
    const miner = await s19pro();
    const ctx = memoryContext();
    await snapshotProbe(
      await targetsOf(miner.target.key),
      { wide: false, fields: ['target', 'average', 'pool'] },
      globals(),
      ctx,
    );
    expect(ctx.out().split('\n')[1]?.split('\t')).toEqual([
      miner.target.key,
      '111834630000000',
      'btc.global.luxor.tech:700',
    ]);

    const wide = memoryContext();
    await snapshotProbe(await targetsOf(miner.target.key), { wide: true, fields: null }, globals(), wide);
    expect(wide.out().split('\n')[0]?.split('\t')).toEqual(
      expect.arrayContaining([
        'average_hs',
        'nominal_hs',
        'power_w',
        'efficiency_j_per_th',
        'temp_max_board_c',
        'errors',
      ]),
    );
  });

  it('shows the uptime of a miner that has just started in seconds, not as 0ms', async () => {
    const miner = await s19pro((reply) => reply.replace(/"Elapsed": *50474/g, '"Elapsed":0'));
    const ctx = memoryContext();
    Object.assign(ctx.stdout, { isTTY: true, columns: 80 });
    await snapshotProbe(
      await targetsOf(miner.target.key),
      { wide: false, fields: ['uptime'] },
      globals(),
      ctx,
    );
    expect(ctx.out()).toMatch(/ 0s /);
    expect(ctx.out()).not.toMatch(/0ms/);
    // In a pipe: the bare number of seconds, its unit in the header.
    const piped = memoryContext();
    await snapshotProbe(
      await targetsOf(miner.target.key),
      { wide: false, fields: ['uptime'] },
      globals(),
      piped,
    );
    expect(piped.out().trimEnd().split('\n')).toEqual(['uptime_s', '0']);
  });

  it('sets the chips a board has against what that board should have: an unread count is no missing chips', async () => {
    // Chain 2's count unreadable ("nan"): 228 chips read on the two boards that say, of 228 expected
    // there, not 228 of 342 (114 chips reported missing that no board said were).
    const miner = await s19pro((reply) => reply.replace(/"chain_acn2": *114/, '"chain_acn2":"nan"'));
    const ctx = memoryContext();
    await snapshotProbe(
      await targetsOf(miner.target.key),
      { wide: false, fields: ['chips'] },
      globals(),
      ctx,
    );
    expect(ctx.out().trimEnd().split('\n')).toEqual(['chips', '228/228']);
  });

  it('refuses an unknown field before any traffic, naming the valid ones', async () => {
    const port = await closedPort();
    const error = await snapshotProbe(
      await targetsOf(`127.0.0.1:${port}`),
      { wide: false, fields: ['hashrate', 'colour'] },
      globals(),
      memoryContext(),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toContain('colour');
    expect((error as UsageError).message).toContain(FIELD_NAMES.join(', '));
  });
});

describe('schema command', () => {
  it('prints the JSON Schema of a snapshot', async () => {
    const ctx = memoryContext();
    expect(await runSchema('snapshot', globals(), ctx)).toBe(0);
    const schema = JSON.parse(ctx.out()) as {
      type: string;
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(schema.type).toBe('object');
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['make', 'hashrate', 'boards', 'pools', 'errors']),
    );
    expect(schema.required).toContain('efficiency_j_per_th');
  });

  it('names the valid schemas for an unknown one', async () => {
    await expect(runSchema('nope', globals(), memoryContext())).rejects.toThrow(/valid: .*snapshot/);
  });
});
