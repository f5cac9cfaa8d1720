// An audit of a peer whose `version` never ends (a whole reply, no NUL, the socket left open): each
// read after it would run to the deadline too, so none is sent, and the miner is audited in part.
// Real servers on 127.0.0.1; the requests sent and the failure's kind are asserted, never the time.
import { afterEach, describe, expect, it } from 'vitest';
import { cgminerReply, type FakeMiner, startFakeMiner } from '../support/fake-miner.js';
import { runAudit } from './support/run.js';

const VERSION = cgminerReply('VERSION', [{ CGMiner: '4.11.1', API: '3.7' }]);

let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
});

describe('an audit of a peer that never ends its replies', () => {
  it('sends nothing after the version that ran to the deadline, and says it audited in part', async () => {
    const m = await startFakeMiner({ kind: 'reply', bytes: VERSION, nul: false, close: false });
    miners.push(m);
    const { out } = await runAudit([m.target.key, '--format', 'json'], '400ms');
    const report = JSON.parse(out) as {
      failures: { target: string; kind: string; partial?: boolean; message: string }[];
    };
    expect(m.requests.map((r) => (JSON.parse(r) as { command: string }).command)).toEqual(['version']);
    expect(report.failures).toEqual([
      expect.objectContaining({ target: m.target.key, kind: 'timeout', partial: true }),
    ]);
    expect(report.failures[0]?.message).toMatch(/not sent: an earlier read of this poll ran to its deadline/);
  });

  it('still reads every command of a peer that ends its replies', async () => {
    const m = await startFakeMiner({ kind: 'reply', bytes: VERSION });
    miners.push(m);
    await runAudit([m.target.key, '--format', 'json'], '400ms');
    expect(m.requests.length).toBeGreaterThan(1);
  });
});
