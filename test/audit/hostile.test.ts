// Miners that answer outside the CGMiner API's rules: the audit must neither send them anything but
// reads nor hand a reviewer a finding that the replies do not support.
import { afterEach, describe, expect, it } from 'vitest';
import { READ_COMMANDS } from '../../src/audit/readonly.js';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { runAudit } from './support/run.js';
import { type Scripted, type ScriptedMiner, startScriptedMiner } from './support/scripted-miner.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (stops.length > 0) await stops.pop()?.();
});

async function miner(script: Record<string, Scripted>, host: string): Promise<ScriptedMiner> {
  const started = await startScriptedMiner(script, host);
  stops.push(() => started.stop());
  return started;
}

const audit = runAudit;

const SAME_S = { STATUS: [{ STATUS: 'S', When: 1, Msg: 'ok', Description: 'x' }], id: 1 };

describe('a peer that answers every command with the same S', () => {
  it('is not reported as granting write access, and the undetermined access is said', async () => {
    const every: Record<string, Scripted> = {};
    for (const command of [...READ_COMMANDS, 'check']) every[command] = SAME_S;
    const peer = await miner(every, '127.0.77.20');
    const { code, out } = await audit([peer.target, '--format', 'json', '--fail-on', 'high']);
    const report = JSON.parse(out);
    const access = report.findings.filter((item: { rule: string }) => item.rule === 'rpc-write-access');
    expect(access.map((item: { severity: string }) => item.severity)).toEqual(['info']);
    expect(access[0].title).toBe('Write access from this host could not be determined');
    expect(code).toBe(0);
    for (const request of peer.received)
      expect(request.command === 'check' || READ_COMMANDS.has(request.command), request.command).toBe(true);
  });
});

describe('a report run twice on an unchanged farm', () => {
  it('has the same findings: nothing live (a hashrate) is quoted in them', async () => {
    const { startFarm } = await import('../../src/sim/index.js');
    const farm = await startFarm({ profile: 'mix', count: 6, seed: 3, host: '127.0.0.1', basePort: 0 });
    stops.push(() => farm.stop());
    const first = JSON.parse((await audit([...farm.inventory(), '--format', 'json'])).out);
    const second = JSON.parse((await audit([...farm.inventory(), '--format', 'json'])).out);
    expect(first.findings.length).toBeGreaterThan(0);
    expect(second.findings).toEqual(first.findings);
  });
});

describe('a STATUS Msg holding colour escapes', () => {
  it('is shown visible in the table on a terminal, as in the other formats, never sent to it', async () => {
    const peer = await miner(
      {
        privileged: {
          STATUS: [{ STATUS: 'S', When: 1, Code: 47, Msg: 'odd\u001b[2m\u001b[31mRED', Description: 'x' }],
          id: 1,
        },
      },
      '127.0.0.1',
    );
    const ctx = memoryContext();
    Object.assign(ctx.stdout, { isTTY: true, columns: 300 });
    // --no-color: hashctl paints nothing, so an ESC in the output could only be the miner's.
    const code = await runCli(['--timeout', '2s', '--retries', '0', '--no-color', 'audit', peer.target], ctx);
    expect(code).toBe(0);
    expect(ctx.out()).toContain('S/47 "odd\\x1b[2m\\x1b[31mRED"');
    expect(ctx.out()).not.toContain('\u001b');
  });
});
