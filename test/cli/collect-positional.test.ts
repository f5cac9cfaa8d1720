// Every other command takes its miners as arguments; collect takes them with --targets. Miners given
// as arguments were refused with commander's "Expected 0 arguments but got 1", which does not say
// where they go.
import { expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';

it('collect with miners as arguments says to give them with --targets, in one line, exit 2', async () => {
  const ctx = memoryContext();
  const code = await runCli(['collect', '--once', '--db', '/nonexistent/never.db', '127.0.0.1:1'], ctx);
  expect(code).toBe(EXIT.usage);
  expect(ctx.err()).toMatch(/^hashctl: [^\n]*--targets[^\n]*\n$/);
  expect(ctx.err()).toContain("'127.0.0.1:1'");
});
