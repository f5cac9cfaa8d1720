// A regular expression the operator gives (audit --worker-pattern) runs against text a miner
// controls (its pool user). A backtracking engine takes exponential time on patterns as ordinary as
// `^([a-z0-9]+[._-]?)+$` and a hostile worker name, and a regex cannot be interrupted (not even by
// SIGTERM, whose handler waits for the loop). V8's linear-time engine bounds every match by the
// text's length; it has no backreferences or lookarounds, which such patterns do not need.
import { setFlagsFromString } from 'node:v8';

let enabled = false;

/** `source` compiled for V8's linear-time engine; throws SyntaxError for what that engine cannot run. */
export function linearRegExp(source: string): RegExp {
  if (!enabled) {
    // Only makes the `l` flag available: every other regular expression keeps its engine.
    setFlagsFromString('--enable-experimental-regexp-engine');
    enabled = true;
  }
  try {
    return new RegExp(source, 'l');
  } catch (error) {
    if (/linear time/.test(String((error as Error).message)))
      throw new SyntaxError(
        `/${source}/ uses a backreference or a lookaround, which cannot be matched in bounded time against what miners report: write it without`,
      );
    // V8 names the `l` flag it was given (`/(/l: …`); the user wrote no flags.
    if (error instanceof SyntaxError) throw new SyntaxError(error.message.replace(/\/l: /, '/: '));
    throw error;
  }
}
