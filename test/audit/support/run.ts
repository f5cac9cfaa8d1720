// `hashctl audit ARGS` in-process, with no retries and a short deadline, as the audit tests run it.
import { runCli } from '../../../src/cli.js';
import { memoryContext } from '../../../src/context.js';

export async function runAudit(
  args: string[],
  timeout = '2s',
): Promise<{ code: number; out: string; err: string }> {
  const ctx = memoryContext();
  const code = await runCli(['--timeout', timeout, '--retries', '0', 'audit', ...args], ctx);
  return { code, out: ctx.out(), err: ctx.err() };
}
