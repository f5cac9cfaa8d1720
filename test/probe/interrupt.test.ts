// Ctrl-C during `hashctl probe`, as a user presses it: no request is sent after the signal (the
// next one may be a write), the one in flight is cut short, what finished is printed, exit 130.
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeMiner, startFakeMiner } from '../support/fake-miner.js';
import { startHashctl } from '../support/hashctl-process.js';

const GOOD =
  '{"STATUS":[{"STATUS":"S","Msg":"Summary","Description":"cgminer 4.11.1"}],"SUMMARY":[{"Elapsed":12,"GHS 5s":100}],"id":1}';

let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
});

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
}

/** Runs hashctl, sends SIGINT once `ready()` holds, and returns what it printed. */
function interrupted(args: string[], ready: () => boolean) {
  const { child, done } = startHashctl(args);
  void waitFor(ready).then(() => setTimeout(() => child.kill('SIGINT'), 100));
  return done;
}

describe('probe on Ctrl-C', () => {
  it('raw commands: sends nothing after the signal and exits 130 at once, not after the timeout', async () => {
    const silent = await startFakeMiner({ kind: 'silent' });
    miners.push(silent);
    const started = Date.now();
    const run = await interrupted(
      ['probe', silent.target.key, '--command', 'summary,stats', '--timeout', '10s', '--json'],
      () => silent.connections > 0,
    );
    expect(run.code).toBe(130);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(silent.requests.map((r) => JSON.parse(r).command)).toEqual(['summary']);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, error: { kind: 'interrupted' } });
  });

  it('snapshots: the miners that answered are still printed', async () => {
    const good = await startFakeMiner({ kind: 'reply', bytes: GOOD });
    const silent = await startFakeMiner({ kind: 'silent' });
    miners.push(good, silent);
    const run = await interrupted(
      ['probe', good.target.key, silent.target.key, '--timeout', '10s', '--retries', '0', '--json'],
      () => silent.connections > 0 && good.connections > 0,
    );
    expect(run.code).toBe(130);
    const doc = JSON.parse(run.stdout) as { results: { target: string }[] };
    expect(doc.results.map((r) => r.target)).toEqual([good.target.key]);
    expect(run.stderr).toContain('interrupted; 1 target not finished or not started were skipped');
  });
});
