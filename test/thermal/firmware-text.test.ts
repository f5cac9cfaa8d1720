// What a firmware writes in its thermal replies (a tempctrl Mode, a STATUS Msg) reaches tables on
// a terminal through limits, posture and check: shown visible there, never a sequence the
// terminal obeys. With --no-color hashctl paints nothing, so any ESC in the output is the miner's.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { braiinsWithTempctrl, type FakeMiner, startFakeMiner } from './fake-miner.js';

const ESCAPES = '\u001b[2m\u001b[31m';

async function onTerminal(args: string[]): Promise<{ code: number; out: string }> {
  const ctx = memoryContext();
  Object.assign(ctx.stdout, { isTTY: true, columns: 400 });
  const code = await runCli(['--no-color', '--timeout', '2s', '--retries', '0', 'thermal', ...args], ctx);
  return { code, out: ctx.out() };
}

describe('firmware text in thermal tables on a terminal', () => {
  const miners: FakeMiner[] = [];
  afterEach(async () => {
    await Promise.all(miners.splice(0).map((m) => m.close()));
  });

  it("a tempctrl Mode's escape sequences are shown, not sent (posture, limits)", async () => {
    const miner = await braiinsWithTempctrl({
      STATUS: [{ STATUS: 'S', When: 1, Code: 200, Msg: 'Temp ctrl', Description: 'BOSminer+ 0.2.0' }],
      TEMPCTRL: [{ Mode: `Automatic${ESCAPES} hydro`, Target: 89, Hot: 100, Dangerous: 110 }],
      id: 1,
    });
    miners.push(miner);
    for (const command of ['posture', 'limits']) {
      const { out } = await onTerminal([command, miner.target]);
      expect(out, command).toContain('Automatic\\x1b[2m\\x1b[31m hydro');
      expect(out, command).not.toContain('\u001b');
    }
  });

  it("a refused tempctrl's STATUS Msg is shown, not sent (posture, limits, check)", async () => {
    const miner = await braiinsWithTempctrl({
      STATUS: [
        { STATUS: 'E', When: 1, Code: 45, Msg: `Access denied${ESCAPES}`, Description: 'BOSminer+ 0.2.0' },
      ],
      id: 1,
    });
    miners.push(miner);
    for (const command of ['posture', 'limits', 'check']) {
      const { out } = await onTerminal([command, miner.target]);
      expect(out, command).toContain('Access denied\\x1b[2m\\x1b[31m');
      expect(out, command).not.toContain('\u001b');
    }
  });

  it("an unreadable miner's STATUS Msg in the check's reasons is shown, not sent", async () => {
    const deny = {
      STATUS: [
        { STATUS: 'E', When: 1, Code: 45, Msg: `Access denied${ESCAPES}`, Description: 'cgminer 4.11.1' },
      ],
      id: 1,
    };
    const miner = await startFakeMiner({
      version: deny,
      summary: deny,
      stats: deny,
      devs: deny,
      pools: deny,
    });
    miners.push(miner);
    const { code, out } = await onTerminal(['check', miner.target]);
    expect(code).toBe(1);
    expect(out).toContain('miner answered E/45: Access denied\\x1b[2m\\x1b[31m');
    expect(out).not.toContain('\u001b');
  });
});
