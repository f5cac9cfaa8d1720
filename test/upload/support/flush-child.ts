// Run as a child process by kill.test.ts: flushes the outbox at argv[2] to argv[3], then exits.
// The test kills it with SIGKILL while the request is in flight.
import { processContext } from '../../../src/context.js';
import { openStore } from '../../../src/store/index.js';
import { flushOutbox } from '../../../src/upload/flush.js';

const [dbPath, endpoint] = process.argv.slice(2);
if (!dbPath || !endpoint) throw new Error('usage: flush-child DB ENDPOINT');
const store = openStore(dbPath);
const ctx = processContext(new AbortController().signal);
flushOutbox(
  store.db,
  {
    endpoint,
    key: process.env.HASHCTL_COLLECTOR_KEY ?? '',
    connectTimeoutMs: 5_000,
    totalTimeoutMs: 60_000,
    maxAttempts: 1,
    signal: ctx.signal,
  },
  ctx,
).then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    store.close();
  },
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exitCode = 1;
  },
);
