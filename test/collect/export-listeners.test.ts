// `hashctl export` into a full pipe that never drains: Ctrl-C or a failed write ends the wait for
// 'drain', and the listener it added goes with it (one left behind per wait on a stream that lives on).
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseExportOptions, runExport } from '../../src/commands/export.js';
import { parseGlobals } from '../../src/commands/shared.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { openStore, writeCycle } from '../../src/store/index.js';
import { okOutcome, tempDir } from '../store/helpers.js';

let cleanup: () => void;
let dbPath: string;
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

beforeEach(() => {
  const temp = tempDir('hashctl-export-listeners-');
  cleanup = temp.cleanup;
  dbPath = path.join(temp.dir, 'farm.db');
  const store = openStore(dbPath);
  try {
    const outcomes = Array.from({ length: 400 }, (_, i) => okOutcome(6000 + i));
    for (let c = 0; c < 3; c++)
      writeCycle(store, { site: 'bulk', startedAt: NOW - 600_000 + c * 60_000, endedAt: NOW, outcomes });
  } finally {
    store.close();
  }
});
afterEach(() => cleanup());

/** A pipe whose reader never reads: the first write fills it, no 'drain' ever comes. */
function stalledPipe(onFull: (stream: Writable) => void): Writable & { isTTY: boolean } {
  const stream = new Writable({
    highWaterMark: 16,
    write(_chunk, _encoding, _callback) {
      // Held: the reader is away.
      setImmediate(() => onFull(stream));
    },
  });
  return Object.assign(stream, { isTTY: false });
}

async function exportInto(stdout: Writable & { isTTY: boolean }, controller: AbortController) {
  const ctx = memoryContext({ now: () => NOW, stdout, env: {}, signal: controller.signal });
  const globals = parseGlobals({}, ctx);
  return runExport(
    await parseExportOptions({ db: dbPath, site: 'bulk', since: '1h' }, globals, ctx),
    globals,
    ctx,
  );
}

describe('hashctl export waiting on a full pipe', () => {
  it('Ctrl-C: the wait ends and no drain listener is left on stdout', async () => {
    const controller = new AbortController();
    const stdout = stalledPipe(() => controller.abort());
    const code = await exportInto(stdout, controller);
    expect(code).toBe(EXIT.interrupted);
    expect(stdout.listenerCount('drain')).toBe(0);
    expect(stdout.listenerCount('error')).toBe(0);
  });

  it('a failed write: the wait ends and no drain listener is left on stdout', async () => {
    const controller = new AbortController();
    const stdout = stalledPipe((stream) => stream.destroy(new Error('ENOSPC: no space left on device')));
    const code = await exportInto(stdout, controller);
    expect(code).toBe(EXIT.failed);
    expect(stdout.listenerCount('drain')).toBe(0);
  });
});
