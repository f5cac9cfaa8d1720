// audit --worker-pattern: the operator's regex against worker names the miners choose.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { linearRegExp } from '../../src/util/linear-regexp.js';

describe('linearRegExp', () => {
  it('matches as RegExp does', () => {
    const pattern = linearRegExp('^farm1\\.[a-z]+-\\d+$');
    expect(['farm1.rig-12', 'farm2.rig-12', 'farm1.rig-'].map((name) => pattern.test(name))).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('ends at once on a name that makes a backtracking engine run for minutes', () => {
    // With `new RegExp` this one test() takes longer than the test's own timeout.
    const name = `farm1.rig-${'a'.repeat(40)}!`;
    expect(linearRegExp('^([a-z0-9]+[._-]?)+$').test(name)).toBe(false);
    expect(linearRegExp('^(a+)+$').test(`${'a'.repeat(5000)}!`)).toBe(false);
  });

  it('refuses, as a usage error, what cannot run in bounded time', async () => {
    expect(() => linearRegExp('(a)\\1')).toThrow(/backreference or a lookaround/);
    expect(() => linearRegExp('(')).toThrow('Invalid regular expression: /(/: Unterminated group');
    const ctx = memoryContext();
    expect(await runCli(['audit', '127.0.0.1:1', '--worker-pattern', '^(?=farm)'], ctx)).toBe(EXIT.usage);
    expect(ctx.err()).toMatch(/^hashctl: invalid --worker-pattern: .*backreference or a lookaround/);
  });
});
