// Run as a child under `ulimit -n 64` by test/audit/emfile.test.ts: audit discovery over a /24 with
// far more concurrency than the open-file limit allows. Prints one JSON line: outcomes and how often
// discovery waited out local exhaustion (EMFILE).
import { discover } from '../../../src/audit/discover.js';
import { parseTargetSpecs } from '../../../src/targets/index.js';

async function main(): Promise<void> {
  const [range, port, concurrency] = process.argv.slice(2);
  const targets = await parseTargetSpecs([String(range)], { defaultPort: Number(port) });
  const outcomes: Record<string, number> = {};
  const miners: string[] = [];
  let exhaustionWaits = 0;
  for await (const result of discover(targets, {
    connectTimeoutMs: 1000,
    replyTimeoutMs: 3000,
    maxBytes: 1 << 20,
    retries: 1,
    concurrency: Number(concurrency),
    sleep: (ms) => {
      exhaustionWaits++;
      return new Promise((resolve) => setTimeout(resolve, ms));
    },
  })) {
    outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
    if (result.outcome === 'miner') miners.push(result.target.host);
  }
  process.stdout.write(`${JSON.stringify({ outcomes, miners, exhaustionWaits })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
