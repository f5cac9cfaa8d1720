// A miner that answers `version` and then leaves reads unanswered (a reset, a hang, bytes that are not
// a reply) was audited only in part: the report and the exit code must say so, not read as clean.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { runAudit } from './support/run.js';
import { sarifProblems } from './support/sarif.js';
import { type Scripted, type ScriptedMiner, startScriptedMiner } from './support/scripted-miner.js';

let dir = '';
const stops: (() => Promise<void>)[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hashctl-audit-partial-'));
});
afterEach(async () => {
  while (stops.length > 0) await stops.pop()?.();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function miner(script: Record<string, Scripted>): Promise<ScriptedMiner> {
  const started = await startScriptedMiner(script);
  stops.push(() => started.stop());
  return started;
}

const audit = runAudit;

describe('a miner audited in part', () => {
  it('pools and privileged without an answer: said in every report, exit 1, not 0', async () => {
    const allowed = join(dir, 'allowed.txt');
    await writeFile(allowed, 'stratum+tcp://pool.example.com:3333\n');
    const target = (await miner({ pools: 'close', privileged: { raw: '<html>' } })).target;
    const args = [target, '--allowed-pools', allowed, '--fail-on', 'high'];

    const json = await audit([...args, '--format', 'json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out);
    expect(report.miners.map((item: { target: string }) => item.target)).toEqual([target]);
    expect(report.summary).toMatchObject({ miners: 1, not_audited: 0, audited_in_part: 1 });
    expect(report.failures).toEqual([
      expect.objectContaining({ target, kind: 'empty_reply', partial: true }),
    ]);
    expect(report.failures[0].message).toMatch(/pools, .*privileged/);
    expect(json.err).toContain(`${target}: audited in part`);

    const markdown = await audit([...args, '--format', 'markdown']);
    expect(markdown.code).toBe(1);
    expect(markdown.out).toContain('## Targets not audited, or audited in part');
    expect(markdown.out).toContain('(1 in part only');

    const table = await audit(args);
    expect(table.code).toBe(1);
    expect(table.err).toContain('1 miner audited in part');
  });

  it('--allowed-pools and --worker-pattern on a miner whose pools could not be read: not clean', async () => {
    const allowed = join(dir, 'allowed-pools.txt');
    await writeFile(allowed, 'stratum+tcp://pool.example.com:3333\n');
    const policy = ['--allowed-pools', allowed, '--worker-pattern', '^farm\\.', '--format', 'json'];
    // A custom api-groups without `pools` (E/45), and a peer that answers `pools` with another
    // command's reply: neither lists a pool, so neither pool check was done.
    const denied = (
      await miner({
        pools: {
          STATUS: [
            { STATUS: 'E', When: 1, Code: 45, Msg: "Access denied to 'pools' command\u001b]0;pwned\u0007" },
          ],
        },
      })
    ).target;
    const wrong = await startScriptedMiner(
      {
        pools: {
          STATUS: [{ STATUS: 'S', When: 1, Code: 22, Msg: 'CGMiner versions' }],
          VERSION: [{ CGMiner: '4.11.1' }],
        },
      },
      '127.0.91.12',
    );
    stops.push(() => wrong.stop());
    for (const target of [denied, wrong.target]) {
      const { code, out, err } = await audit([target, ...policy]);
      const report = JSON.parse(out);
      expect(err).toContain(`${target}: audited in part`);
      expect(err).not.toContain('\u001b');
      expect(report.summary, target).toMatchObject({ miners: 1, audited_in_part: 1 });
      expect(report.failures, target).toEqual([expect.objectContaining({ target, partial: true })]);
      expect(report.failures[0].message).toMatch(/--allowed-pools.*--worker-pattern.*not done/);
      expect(code, target).toBe(1);
    }
    // A miner with no pool configured (E/8 "No pools", or an empty list) was checked: nothing to find.
    const none = await startScriptedMiner(
      { pools: { STATUS: [{ STATUS: 'E', When: 1, Code: 8, Msg: 'No pools' }] } },
      '127.0.91.13',
    );
    stops.push(() => none.stop());
    const empty = await startScriptedMiner(
      { pools: { STATUS: [{ STATUS: 'S', When: 1, Code: 7, Msg: '0 Pool(s)' }], POOLS: [] } },
      '127.0.91.14',
    );
    stops.push(() => empty.stop());
    for (const target of [none.target, empty.target]) {
      const { code, out } = await audit([target, ...policy]);
      expect(JSON.parse(out).failures, target).toEqual([]);
      expect(code, target).toBe(0);
    }
    // Without a pool policy nothing was asked of the list: a denied `pools` is an answer.
    expect((await audit([denied, '--format', 'json'])).code).toBe(0);
  });

  it('a miner that answered every read, with E statuses, is audited in full', async () => {
    const target = (await miner({ stats: { STATUS: [{ STATUS: 'E', Code: 45, Msg: 'Access denied' }] } }))
      .target;
    const { code, out } = await audit([target, '--format', 'json']);
    expect(code).toBe(0);
    expect(JSON.parse(out).failures).toEqual([]);
  });
});

describe('SARIF of a run where miners could not be audited', () => {
  it('names each one in the run, so no results never reads as clean', async () => {
    const partly = (await miner({ pools: 'close' })).target;
    const gone = await startScriptedMiner({}, '127.0.91.11');
    const refused = gone.target;
    await gone.stop(); // nothing listens there now: refused
    const { code, out } = await audit([refused, partly, '--format', 'sarif']);
    expect(code).toBe(1);
    const sarif = JSON.parse(out);
    expect(sarifProblems(sarif)).toEqual([]);
    const [invocation] = sarif.runs[0].invocations;
    const notes = invocation.toolExecutionNotifications as {
      level: string;
      descriptor: { id: string };
      properties: { target: string; kind: string };
    }[];
    expect(notes.map((note) => [note.descriptor.id, note.level, note.properties.target])).toEqual([
      ['not-audited', 'error', refused],
      ['audited-in-part', 'warning', partly],
    ]);
  });
});

describe('order', () => {
  it('targets not audited are listed in target order, not in the order their failures came', async () => {
    // .20 fails late (its pools read waits for the deadline), .21 at once (refused).
    const late = await startScriptedMiner({ pools: 'hang' }, '127.0.91.20');
    stops.push(() => late.stop());
    const gone = await startScriptedMiner({}, '127.0.91.21');
    await gone.stop();
    const ctx = memoryContext();
    const code = await runCli(
      ['--timeout', '1s', '--retries', '0', 'audit', gone.target, late.target, '--format', 'json'],
      ctx,
    );
    expect(code).toBe(1);
    const failures = JSON.parse(ctx.out()).failures as { target: string }[];
    expect(failures.map((item) => item.target)).toEqual([late.target, gone.target]);
  });
});
