// `--help` of every command, nested ones included, lists every flag the command takes: its own and
// the global flags it inherits (`hashctl thermal check --json` works, so its help must say so).

import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';

function leafCommands(): string[][] {
  const ctx = memoryContext();
  const program = buildProgram(ctx, {
    ctx,
    globals: () => {
      throw new Error('unused');
    },
    exit: () => {},
  });
  const out: string[][] = [];
  const walk = (command: Command, path: string[]): void => {
    const subs = command.commands.filter((c) => c.name() !== 'help');
    if (subs.length === 0 && path.length > 0) out.push(path);
    for (const sub of subs) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return out;
}

describe('--help of every command', () => {
  const leaves = leafCommands();
  it('finds the nested commands too', () => {
    expect(leaves).toContainEqual(['thermal', 'check']);
    expect(leaves).toContainEqual(['control', 'restart']);
    expect(leaves).toContainEqual(['thermal', 'config', 'pull']);
  });
  for (const path of leaves) {
    it(`${path.join(' ')} --help lists the global flags it takes`, async () => {
      const ctx = memoryContext();
      expect(await runCli([...path, '--help'], ctx)).toBe(EXIT.ok);
      const help = ctx.out();
      expect(help).toContain(`Usage: hashctl ${path.join(' ')}`);
      expect(help).toContain('Global Options:');
      for (const flag of [
        '--json',
        '--quiet',
        '--debug',
        '--no-color',
        '--timeout <duration>',
        '--port <port>',
      ])
        expect(help).toContain(flag);
    });
  }
});
