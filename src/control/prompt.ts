// Terminal questions for `hashctl control`: the confirmation (stderr prompt, stdin answer) and the
// pool password (echo off). Called by the command only when stdin is a TTY.
import * as os from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { Context, OutStream } from '../context.js';
import { HashctlError } from '../errors.js';

type TtyInput = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };

/** Reads one line from `input`; with `hidden`, in raw mode so that nothing typed is echoed. */
export function readLine(
  input: TtyInput,
  output: OutStream,
  question: string,
  hidden: boolean,
  signal?: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new HashctlError('interrupted', 'interrupted'));
      return;
    }
    output.write(question);
    let answer = '';
    // An input that has already ended (a terminal's Ctrl-D, read to its end for `-` targets) will
    // never answer: end of input, as if Ctrl-D were typed now. Waiting would end the process with
    // nothing left to run, exit 0 and nothing said.
    const ended = input as { readableEnded?: boolean; destroyed?: boolean };
    if (ended.readableEnded === true || ended.destroyed === true) {
      output.write('\n');
      resolve('');
      return;
    }
    const raw = hidden && typeof input.setRawMode === 'function';
    if (raw) input.setRawMode?.(true);
    const done = (error: Error | null) => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      signal?.removeEventListener('abort', onAbort);
      if (raw) input.setRawMode?.(false);
      input.pause();
      if (hidden) output.write('\n');
      if (error) reject(error);
      else resolve(answer);
    };
    const onEnd = () => done(null);
    // Ctrl-C out of raw mode is SIGINT, not a byte on stdin: the process's signal ends the question.
    const onAbort = () => {
      if (!hidden) output.write('\n');
      done(new HashctlError('interrupted', 'interrupted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    // A character typed in several bytes can arrive split across two chunks (a paste, a slow
    // link): the decoder keeps the first part until the rest comes, rather than making two U+FFFDs.
    const decoder = new StringDecoder('utf8');
    const onData = (chunk: Buffer | string) => {
      for (const ch of typeof chunk === 'string' ? chunk : decoder.write(chunk)) {
        if (ch === '\r' || ch === '\n') return done(null);
        if (ch === '\u0003') return done(new HashctlError('interrupted', 'interrupted'));
        if (ch === '\u0004') return done(null);
        // Backspace takes back one character, not half of one outside the BMP.
        if (ch === '\u007f' || ch === '\b') answer = Array.from(answer).slice(0, -1).join('');
        else answer += ch;
      }
    };
    input.on('data', onData);
    input.once('end', onEnd);
    input.resume();
  });
}

/** `y`/`yes` (any case) confirms; anything else, or end of input, declines. */
export async function confirmOnTty(ctx: Context, question: string): Promise<boolean> {
  const answer = await readLine(ctx.stdin as TtyInput, ctx.stderr, `${question} [y/N] `, false, ctx.signal);
  return /^\s*y(es)?\s*$/i.test(answer);
}

export async function askPassword(ctx: Context, question: string): Promise<string> {
  return readLine(ctx.stdin as TtyInput, ctx.stderr, question, true, ctx.signal);
}

/** Who runs this, for command_log: user@host (HASHCTL_ACTOR overrides, e.g. a queue job id). */
export function actorName(env: Readonly<Record<string, string | undefined>>): string {
  if (env.HASHCTL_ACTOR) return env.HASHCTL_ACTOR;
  let user = env.USER ?? env.LOGNAME ?? null;
  if (user === null) {
    try {
      user = os.userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${os.hostname()}`;
}
