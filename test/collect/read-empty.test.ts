// The readers on a file no cycle was ever stored into: the first collect killed (SIGKILL, a reboot)
// before its first cycle, early (an empty file) or just after it made the schema. The two are the
// same state to the operator, and live, history and export each said them one way: history's
// "no miner" (exit 2) and export's bare CSV header (exit 0, a cron export that looks fine) for the
// schema made, "nothing stored yet" (exit 1) for the empty file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { openStore } from '../../src/store/index.js';
import { tempDir } from '../store/helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-read-empty-'));
});
afterEach(() => cleanup());

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const ctx = memoryContext();
  const code = await runCli(args, ctx);
  return { code, out: ctx.out(), err: ctx.err() };
}

describe('live, history and export on a file no cycle was stored into', () => {
  it('say "nothing stored yet" (exit 1) alike, whether the killed collect made the schema or not', async () => {
    const empty = path.join(dir, 'empty.db');
    fs.writeFileSync(empty, '');
    const schema = path.join(dir, 'schema.db');
    openStore(schema).close();
    for (const db of [empty, schema]) {
      const said = `hashctl: nothing stored in ${db} yet: run \`hashctl collect\` first (or pass --db)\n`;
      for (const args of [
        ['live'],
        ['history', '127.0.0.1:4028'],
        ['history', '127.0.0.1'],
        ['export'],
        ['export', '--format', 'ndjson'],
      ]) {
        const result = await cli([...args, '--db', db]);
        expect({ args, db: path.basename(db), ...result }).toEqual({
          args,
          db: path.basename(db),
          code: EXIT.failed,
          out: '',
          err: said,
        });
      }
    }
  });
});
