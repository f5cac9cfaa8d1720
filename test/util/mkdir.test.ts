// mkdir -p that ends: Node 20's recursive mkdirSync loops for ever under /proc.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { makeDirectories } from '../../src/util/mkdir.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('makeDirectories', () => {
  it('makes the missing directories, and leaves existing ones alone', () => {
    dir = mkdtempSync(join(tmpdir(), 'hashctl-mkdir-'));
    makeDirectories(join(dir, 'a', 'b', 'c'));
    expect(statSync(join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true);
    makeDirectories(join(dir, 'a', 'b'));
    makeDirectories(dir);
  });

  it('says ENOTDIR when a file is in the way', () => {
    dir = mkdtempSync(join(tmpdir(), 'hashctl-mkdir-'));
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => makeDirectories(join(dir, 'file', 'sub'))).toThrow(
      expect.objectContaining({ code: 'ENOTDIR' }),
    );
  });

  it.runIf(process.platform === 'linux')(
    'fails at once under /proc, where recursive mkdirSync never returns',
    () => {
      expect(() => makeDirectories('/proc/hashctl-nope/deeper')).toThrow(
        expect.objectContaining({ code: 'ENOENT' }),
      );
    },
  );

  it.runIf(process.platform === 'linux')(
    'collect with --db under /proc: one line, not a hung process',
    async () => {
      const ctx = memoryContext();
      const code = await runCli(
        ['collect', '--once', '--targets', '127.0.0.1:1', '--db', '/proc/hashctl-nope/x.db'],
        ctx,
      );
      expect(code).not.toBe(0);
      expect(ctx.err().trimEnd().split('\n')).toHaveLength(1);
      expect(ctx.err()).toMatch(/cannot create the directory for \/proc\/hashctl-nope\/x\.db/);
    },
  );

  it.runIf(process.platform === 'linux')('probe --dump under /proc: one line, not a hung process', async () => {
    const ctx = memoryContext();
    const code = await runCli(
      ['probe', '127.0.0.1:1', '--command', 'version', '--dump', '/proc/hashctl-nope/dump'],
      ctx,
    );
    expect(code).not.toBe(0);
    expect(ctx.err().trimEnd().split('\n')).toHaveLength(1);
    expect(ctx.err()).toMatch(/cannot create --dump directory '\/proc\/hashctl-nope\/dump'/);
  });
});

