// An empty ranges file or stdin is exit 2, as it is for every other command: not a scan of nothing
// that exits 0 (a cron sweep over an emptied ranges file read as a success).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';

describe('scan of a list that names nothing', () => {
  it('stdin with only comments: exit 2, one line, no table', async () => {
    const ctx = memoryContext({ stdin: Object.assign(Readable.from(['# ranges\n\n']), { isTTY: false }) });
    expect(await runCli(['scan', '-'], ctx)).toBe(EXIT.usage);
    expect(ctx.err()).toBe('hashctl: no targets: - named no miner\n');
    expect(ctx.out()).toBe('');
  });

  it('an empty @FILE: exit 2, also with --json', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-scan-empty-'));
    try {
      const file = path.join(dir, 'ranges.txt');
      fs.writeFileSync(file, '');
      const ctx = memoryContext();
      expect(await runCli(['scan', `@${file}`, '--json'], ctx)).toBe(EXIT.usage);
      expect(ctx.err()).toBe(`hashctl: no targets: @${file} named no miner\n`);
      expect(ctx.out()).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
