// control resolves host names first (one miner, one write). A resolver that never answers (a DNS
// server gone quiet: Node's lookup has no timeout of its own) must neither hold the run past its
// --timeout nor make Ctrl-C do nothing. Names are resolved here by the injected lookup, never by DNS.
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import type { TargetControlResult } from '../../src/control/types.js';
import { EXIT } from '../../src/errors.js';
import { perTest, writesSeen } from './support.js';

const HOST = '127.0.122.10';
const harness = perTest();

/** A lookup that never calls back, counting the names it was asked. */
function silentLookup(asked: string[] = []): LookupFunction {
  return ((hostname: string) => {
    asked.push(hostname);
  }) as unknown as LookupFunction;
}

function context(lookup: LookupFunction, signal?: AbortSignal) {
  return memoryContext({
    lookup,
    stdin: Object.assign(Readable.from([]), { isTTY: false }),
    env: { HASHCTL_DB: harness.temp().db },
    ...(signal ? { signal } : {}),
  });
}

/** One simulated miner that takes writes, in this file's block: its farm, key and port. */
async function oneMiner() {
  const farm = await harness.farm({ profile: 'cgminer', writes: 'allow', host: HOST, basePort: 0, count: 1 });
  const key = farm.inventory()[0] as string;
  return { farm, key, port: key.split(':')[1] as string };
}

/** `control restart TARGETS --yes --json --timeout T --retries 0` (and any `extra` flags). */
function restart(ctx: ReturnType<typeof context>, targets: string[], timeout: string, extra: string[] = []) {
  return runCli(
    ['control', 'restart', ...targets, '--yes', ...extra, '--json', '--timeout', timeout, '--retries', '0'],
    ctx,
  );
}

describe('control with a resolver that never answers', () => {
  it('gives each name the request deadline, then reaches the miners given as addresses', async () => {
    const { farm, key, port } = await oneMiner();
    const asked: string[] = [];
    const ctx = context(silentLookup(asked));
    const names = ['rig-1.lan', 'rig-2.lan', 'rig-3.lan'].map((name) => `${name}:${port}`);
    const code = await restart(ctx, [...names, key], '300ms', ['--no-verify']);
    expect(code).toBe(EXIT.failed);
    const { results } = JSON.parse(ctx.out()) as { results: TargetControlResult[] };
    expect(results.map((r) => [r.target, r.result])).toEqual([
      ...names.map((name) => [name, 'failed']),
      [key, 'sent'],
    ]);
    // The names were asked of the injected resolver (never of DNS), and failed as connect timeouts.
    expect(new Set(asked)).toEqual(new Set(['rig-1.lan', 'rig-2.lan', 'rig-3.lan']));
    for (const result of results.slice(0, 3)) expect(result.error?.kind).toBe('timeout');
    expect(writesSeen(farm).map((w) => w.command)).toEqual(['restart']);
  });

  it('resolves the names together, not one after another: a slow resolver costs one wait, not one each', async () => {
    const { farm, key, port } = await oneMiner();
    // Answers only once every name is being resolved: one name at a time would wait here for the
    // whole --timeout (an hour) on the first.
    const waiting: (() => void)[] = [];
    let answering = false;
    const lookup = ((
      _hostname: string,
      options: { all?: boolean },
      callback: (...args: unknown[]) => void,
    ) => {
      waiting.push(() =>
        options.all ? callback(null, [{ address: HOST, family: 4 }]) : callback(null, HOST, 4),
      );
      if (waiting.length === 3) answering = true;
      if (answering) for (const answer of waiting.splice(0)) answer();
    }) as unknown as LookupFunction;
    const ctx = context(lookup);
    const names = ['rig-1.lan', 'rig-2.lan', 'rig-3.lan'].map((name) => `${name}:${port}`);
    const code = await restart(ctx, [...names, key], '1h', ['--no-verify']);
    expect(code, ctx.out() + ctx.err()).toBe(EXIT.ok);
    // Four names of one miner: one write, to the name listed first.
    const { results } = JSON.parse(ctx.out()) as { results: TargetControlResult[] };
    expect(results.map((r) => [r.target, r.result])).toEqual([[names[0], 'sent']]);
    expect(writesSeen(farm).map((w) => w.command)).toEqual(['restart']);
  });

  it('Ctrl-C while a name is being resolved stops the run: exit 130, nothing sent', async () => {
    const { farm, key } = await oneMiner();
    const controller = new AbortController();
    // The interrupt comes while the resolver holds the name (a long --timeout: only Ctrl-C ends it).
    const lookup = ((hostname: string) => {
      if (hostname === 'rig-hung.lan') setImmediate(() => controller.abort());
    }) as unknown as LookupFunction;
    const ctx = context(lookup, controller.signal);
    const code = await restart(ctx, ['rig-hung.lan:4028', key], '1h');
    expect(code).toBe(EXIT.interrupted);
    expect(ctx.err()).toContain('hashctl: interrupted; miners not yet read or started were left out');
    expect(writesSeen(farm)).toEqual([]);
  });
});
