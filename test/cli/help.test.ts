// `--help` of every command, nested ones included, lists every flag the command takes: its own and
// the global flags it inherits (`hashctl thermal check --json` works, so its help must say so).

import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { programForTests } from '../support/program.js';

function leafCommands(): string[][] {
  const program = programForTests();
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

describe('every argument a command takes', () => {
  it('is described in its --help (no bare `index` or `command`)', () => {
    const program = programForTests();
    const bare: string[] = [];
    const walk = (command: Command, path: string[]): void => {
      for (const argument of command.registeredArguments)
        if (argument.description.trim() === '') bare.push(`${path.join(' ')} <${argument.name()}>`);
      for (const sub of command.commands) walk(sub, [...path, sub.name()]);
    };
    walk(program, []);
    expect(bare).toEqual([]);
  });
});

describe('--help after a word that names no command', () => {
  it.each([
    [['bogus', '--help'], "unknown command 'bogus' (see hashctl --help)"],
    [['control', 'restrat', '--help'], "unknown command 'control restrat' (see hashctl control --help)"],
    [
      ['--timeout', '5s', 'thermal', 'config', 'pul', '-h'],
      "unknown command 'thermal config pul' (see hashctl thermal config --help)",
    ],
  ])('%j: exit 2 naming the word, not the parent help and exit 0', async (argv, message) => {
    const ctx = memoryContext();
    expect(await runCli(argv, ctx)).toBe(EXIT.usage);
    expect(ctx.err()).toBe(`hashctl: ${message}\n`);
    expect(ctx.out()).toBe('');
  });

  it.each([
    [['--timeout', '5s', 'thermal', 'check', '--help'], 'Usage: hashctl thermal check'],
    [['control', 'restart', '10.0.0.1', '--help'], 'Usage: hashctl control restart'],
    [['history', 'rig-7', '-h'], 'Usage: hashctl history'],
    [['control', 'help', 'restart'], 'Usage: hashctl control restart'],
  ])('%j: flag values and arguments are not command words', async (argv, usage) => {
    const ctx = memoryContext();
    expect(await runCli(argv, ctx)).toBe(EXIT.ok);
    expect(ctx.out()).toContain(usage);
  });
});

describe('--db of a command that also takes --config', () => {
  it("names the config file's db before $HASHCTL_DB, as the command resolves it", () => {
    const program = programForTests();
    const checked: string[] = [];
    const walk = (command: Command, path: string[]): void => {
      const db = command.options.find((option) => option.long === '--db');
      const config = command.options.find((option) => option.long === '--config');
      if (db && config && db.description.includes('$HASHCTL_DB')) {
        checked.push(path.join(' '));
        const text = db.description;
        expect(text, path.join(' ')).toMatch(/config/);
        expect(text.indexOf('config'), path.join(' ')).toBeLessThan(text.indexOf('$HASHCTL_DB'));
      }
      for (const sub of command.commands) walk(sub, [...path, sub.name()]);
    };
    walk(program, []);
    expect(checked).toEqual(expect.arrayContaining(['collect', 'upload', 'live', 'history', 'export']));
  });
});

describe('a command line that names no command', () => {
  // A usage error: its help goes to stderr with exit 2, as `hashctl thermal` does; stdout carries
  // data only (`hashctl $CMD > out.json` with CMD unset wrote the help into the data file).
  it.each([[[]], [['thermal']], [['control']]])(
    '%j: help on stderr, exit 2, nothing on stdout',
    async (argv) => {
      const ctx = memoryContext();
      expect(await runCli(argv, ctx)).toBe(EXIT.usage);
      expect(ctx.out()).toBe('');
      expect(ctx.err()).toContain('Usage: hashctl');
    },
  );
});
