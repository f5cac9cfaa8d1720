// A memory context whose stdout remembers each write (to check a document is streamed in parts),
// with a Ctrl-C to press.
import { setMaxListeners } from 'node:events';
import { type Context, memoryContext } from '../../src/context.js';

export interface Recorded {
  ctx: Context & { out: () => string; err: () => string };
  chunks: string[];
  abort: () => void;
}

export function recorded(): Recorded {
  const chunks: string[] = [];
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // every request in flight listens, as on main's signal
  const ctx = memoryContext({ signal: controller.signal });
  const stdout = ctx.stdout;
  ctx.stdout = {
    write: (chunk) => {
      chunks.push(chunk);
      return stdout.write(chunk);
    },
    isTTY: false,
  };
  return { ctx, chunks, abort: () => controller.abort() };
}
