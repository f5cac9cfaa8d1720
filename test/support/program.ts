// The whole command tree, as hashctl builds it, for tests that walk it (help texts, shared manners):
// built on a memory context, never run.
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';

export function programForTests(): Command {
  const ctx = memoryContext();
  return buildProgram(ctx, {
    ctx,
    globals: () => {
      throw new Error('unused');
    },
    exit: () => {},
  });
}
