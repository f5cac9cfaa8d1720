// runControlAction: one action on many miners, safely. The order of a run:
//   1. validate the action (UsageError before any traffic), refuse to go on unconfirmed;
//   2. read each miner (read-only) to learn its dialect and a baseline for the read-back;
//   3. --dry-run stops here with the exact requests; otherwise the user confirms (or --yes);
//   4. canary miners first, then the rest in batches with a stagger; each write is sent at most
//      once (the client never retries a write once a byte left, and nothing here re-sends);
//   5. read back until the miner shows the change or --verify-timeout passes;
//   6. every miner's outcome goes to command_log (a 'pending' row before the write leaves).
// Whatsminer writes take the admin password (asked once, after the reads) and go through
// whatsminerWrite (token + AES, src/cgminer/whatsminer-v2.ts).

import { randomUUID } from 'node:crypto';
import { clipMessage } from '../cgminer/client.js';
import { addpoolParameter } from '../cgminer/escape.js';
import type { DecodedReply } from '../cgminer/types.js';
import { whatsminerStatusError, whatsminerWrite } from '../cgminer/whatsminer-v2.js';
import type { Context } from '../context.js';
import { HashctlError, MinerError, UsageError } from '../errors.js';
import { detect, type Family } from '../miners/detect.js';
import { fetchSnapshot } from '../miners/fetch.js';
import { foreignReadSection, Replies } from '../miners/replies.js';
import type { Snapshot } from '../miners/types.js';
import type { CommandLogStatements } from '../store/command-log.js';
import { bounded, DEFAULT_RESOLVE_MS, resolvedHosts, resolverOf } from '../targets/resolve.js';
import type { Target } from '../targets/types.js';
import { formatDuration } from '../util/duration.js';
import { runPool } from '../util/pool.js';
import { maskUrlCredentials } from '../util/url-credentials.js';
import {
  type Baseline,
  planAction,
  type ReadBack,
  readBack,
  SESSION_PLACEHOLDER,
  unquoted,
  validateAction,
} from './dialects.js';
import { type Redactor, redactorFor, redactRawParameter, showRequest } from './redact.js';
import type {
  ActionName,
  ControlAction,
  ControlError,
  ControlOptions,
  ControlResult,
  ControlRun,
  PlannedRequest,
  TargetControlResult,
  Verification,
} from './types.js';

/** First pause between read-backs, and the longest one (backoff doubles in between). */
const FIRST_READ_BACK_DELAY_MS = 250;
const MAX_READ_BACK_DELAY_MS = 4000;
/**
 * A hard stop for the read-back loop, whatever the clock does: what --verify-timeout holds at the
 * longest pause, and a few more (a fixed 200 ended a `--verify-timeout 20m` 13 minutes in, saying
 * "not confirmed within 20m").
 */
function maxReadBacks(verifyTimeoutMs: number): number {
  const needed = Math.ceil(verifyTimeoutMs / MAX_READ_BACK_DELAY_MS) + 10;
  return Number.isFinite(needed) ? Math.max(200, needed) : 200;
}

/** One line that names the action, for the confirmation and the table. */
export function describeAction(action: ControlAction): string {
  // The addpool URL (or a raw parameter) may carry credentials: `stratum+tcp://***@host`.
  return maskUrlCredentials(actionText(action));
}

function actionText(action: ControlAction): string {
  switch (action.name) {
    case 'switchpool':
    case 'enablepool':
    case 'disablepool':
    case 'removepool':
      return `${action.name} ${action.pool}`;
    case 'addpool':
      return `addpool ${action.url} ${action.user}`;
    case 'raw': {
      if (action.parameter === undefined) return `raw ${action.command}`;
      const hidden = redactRawParameter(action.command, action.parameter);
      return `raw ${action.command} ${hidden === null ? action.parameter : hidden.shown}`;
    }
    default:
      return action.name;
  }
}

/**
 * What the first read (before any write) says of the pool a switchpool or enablepool names, when
 * it reads Dead on some of the miners to write (for switchpool, or Disabled: an enablepool is
 * what a Disabled pool wants): one line for the question and the dry run; null otherwise.
 */
function deadPoolNote(action: ControlAction, toWrite: Prepared[]): string | null {
  if (action.name !== 'switchpool' && action.name !== 'enablepool') return null;
  const notable = action.name === 'switchpool' ? ['Dead', 'Disabled'] : ['Dead'];
  const counts = new Map<string, number>();
  for (const p of toWrite) {
    const pool = p.baseline.snapshot?.pools.find((candidate) => candidate.index === action.pool);
    const status = notable.find((s) => s.toLowerCase() === (pool?.status ?? '').trim().toLowerCase());
    if (status !== undefined) counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  if (counts.size === 0) return null;
  const parts = [...counts.entries()].map(([status, n]) => `${status} on ${n}`);
  const noun = toWrite.length === 1 ? 'miner' : 'miners';
  return `pool ${action.pool} already reads ${parts.join(', ')} of ${toWrite.length} ${noun} (the miner mines on it only once it is alive)`;
}

/** Results that count as done: read back, or acknowledged when nothing can (or should) be read back. */
export function isSuccess(result: ControlResult, action: ControlAction, verify: boolean): boolean {
  if (result === 'verified' || result === 'planned') return true;
  return result === 'sent' && (!verify || action.name === 'raw');
}

interface Prepared {
  index: number;
  target: Target;
  family: Family | null;
  baseline: Baseline;
  requests: PlannedRequest[] | null;
  /** Set when the miner will not be written to: unreachable, unsupported. */
  outcome: { result: ControlResult; error: ControlError } | null;
  /** Time spent reading it first: part of its elapsed_ms. */
  readMs: number;
}

interface Outcome {
  result: ControlResult;
  error?: ControlError;
  verification?: Verification;
}

function minerErrorJson(error: MinerError, redactor: Redactor): ControlError {
  const out: ControlError = {
    kind: error.kind,
    message: redactor.text(error.message),
    attempts: error.attempts,
  };
  if (error.code !== null) out.code = error.code;
  if (error.apiMessage !== null) out.msg = redactor.text(error.apiMessage);
  return out;
}

/** Nothing was sent to this miner: `unsupported`, `skipped` (attempts 0). */
function notSent(kind: 'unsupported' | 'skipped', message: string): ControlError {
  return { kind, message, attempts: 0 };
}

/**
 * STATUS E/F of a write: `refused` when access was denied (E/45), else `failed` with code and
 * message. The miner answered, so one attempt (a write is retried only when none of it left).
 */
function statusOutcome(reply: DecodedReply, command: string, redactor: Redactor): Outcome {
  const { status, code, msg } = reply.status;
  const denied = code === 45 || /access denied|permission denied/i.test(msg ?? '');
  const label = code === null ? status || 'error' : `${status}/${code}`;
  const error: ControlError = {
    kind: denied ? 'denied' : 'api',
    message: redactor.text(`${command}: miner answered ${label}: ${msg ?? 'no message'}`),
    attempts: 1,
  };
  if (code !== null) error.code = code;
  if (msg !== null) error.msg = redactor.text(msg);
  return { result: denied ? 'refused' : 'failed', error };
}

/**
 * A Whatsminer write answered E: `refused` when its write API is off (E/45); `failed` otherwise,
 * with kind `denied` for a rejected token (E/135: wrong admin password) and `api` for the rest.
 */
function whatsminerOutcome(reply: DecodedReply, command: string, redactor: Redactor): Outcome {
  // Only what the miner said is scrubbed: our own words ("admin password") would be mangled by a
  // password such as the default `admin`.
  const msg = reply.status.msg === null ? null : redactor.text(reply.status.msg);
  const error = whatsminerStatusError({ ...reply, status: { ...reply.status, msg } }, command);
  const out: ControlError = { kind: error.kind, message: error.message, attempts: 1 };
  if (error.code !== null) out.code = error.code;
  if (msg !== null) out.msg = msg;
  return { result: error.code === 45 ? 'refused' : 'failed', error: out };
}

/**
 * The LuxOS session id in place of the placeholder that starts a session request's parameter. Only
 * there: the same text elsewhere (a worker named `acct.{session}rig7`) is the user's and is sent as is.
 */
function withSession(parameter: string, sessionId: string): string {
  return parameter.startsWith(SESSION_PLACEHOLDER)
    ? sessionId + parameter.slice(SESSION_PLACEHOLDER.length)
    : parameter;
}

/** A confirmed read-back's pool standing and warning, for its Verification (none when absent). */
function poolFields(seen: ReadBack): Pick<Verification, 'pool' | 'warning'> {
  return {
    ...(seen.pool === undefined ? {} : { pool: seen.pool }),
    ...(seen.warning === undefined ? {} : { warning: seen.warning }),
  };
}

function isInterrupted(error: unknown): boolean {
  return error instanceof HashctlError && error.kind === 'interrupted';
}

/** Default limits of the encrypted Whatsminer exchange when the caller gives none (hashctl.md §4). */
const DEFAULT_WIRE = { timeoutMs: 5000, maxBytes: 8 * 1024 * 1024, retries: 2 };

/** Avalon's ascset answers I/118 for help and for success alike; only "success" means done (§8.6). */
function acknowledged(reply: DecodedReply, request: PlannedRequest): boolean {
  if (!reply.ok) return false;
  if (request.command === 'ascset' && reply.status.status === 'I')
    return /success/i.test(reply.status.msg ?? '');
  return true;
}

/**
 * A write answered I (informational) that is still a yes: upstream cgminer's I codes are "already
 * enabled/disabled" (49/50 and the device kinds: the state is as asked) and help texts (nothing was
 * done). Any other I is a note, not a yes: the write may or may not have been taken.
 */
function informationalYes(reply: DecodedReply, command: string): boolean {
  // The state named must be the one asked for: "already disabled" to an enablepool is a no.
  const state =
    command === 'enablepool' ? 'enabled' : command === 'disablepool' ? 'disabled' : '(?:enabled|disabled)';
  return new RegExp(`\\balready ${state}\\b`, 'i').test(reply.status.msg ?? '');
}

function sessionIdOf(reply: DecodedReply): string | null {
  const records = reply.body.SESSION;
  const first = Array.isArray(records) ? (records[0] as Record<string, unknown> | undefined) : undefined;
  const id = first?.SessionID;
  return typeof id === 'string' && id !== '' ? id : null;
}

export async function runControlAction(
  action: ControlAction,
  targets: Iterable<Target> | AsyncIterable<Target>,
  options: ControlOptions,
  ctx: Context,
): Promise<ControlRun> {
  validateAction(action);
  const description = describeAction(action);
  if (!options.dryRun && !options.yes && !options.confirm) {
    throw new UsageError(
      `refusing to ${description} without confirmation: pass --yes (no terminal to ask on)`,
    );
  }
  const runId = randomUUID();
  // How long things took, the read-back's deadline and a restart's proof (uptime counting from
  // after the write) are on the monotonic clock: NTP stepping the wall clock back an hour during a
  // read-back kept --verify-timeout 4s reading for 13 minutes, and "not confirmed" a restart done.
  const clock = ctx.monotonic;
  const redactor = redactorFor(action, addpoolParameter);
  const { client } = options;
  let log: CommandLogStatements | null = options.log;
  const logSafely = <T>(write: (statements: CommandLogStatements) => T): T | null => {
    if (log === null) return null;
    try {
      return write(log);
    } catch (error) {
      // The audit trail must not stop an emergency restart: report once, go on without it.
      log = null;
      options.onLogError?.(error);
      return null;
    }
  };

  // ---- 2. read every miner (read-only): dialect, baseline, plan
  // One miner named two ways (`127.0.0.1:4028` and `localhost:4028`) is one miner: names are
  // resolved first, so that each write reaches each miner at most once (a double restart is not
  // what anyone asked for).
  // Each name within the request deadline, and none past a Ctrl-C: Node's lookup has no timeout,
  // and a resolver gone quiet held the run (and the interrupt) for good. Names are resolved a
  // window ahead, together, so a farm of names on a dead resolver costs one deadline, not one each.
  const resolve = bounded(
    ctx.lookup ? resolverOf(ctx.lookup) : resolvedHosts,
    options.resolveTimeoutMs ?? DEFAULT_RESOLVE_MS,
    ctx.signal,
  );
  const endpoints = new Set<string>();
  const indexed = async function* (): AsyncGenerator<[number, Target]> {
    let index = 0;
    const ahead: { target: Target; hosts: Promise<string[]> }[] = [];
    const next = function* (hosts: string[], target: Target): Generator<[number, Target]> {
      const named = hosts.map((address) => `${address}:${target.port}`);
      if (named.some((endpoint) => endpoints.has(endpoint))) return;
      for (const endpoint of named) endpoints.add(endpoint);
      yield [index++, target];
    };
    for await (const target of targets as AsyncIterable<Target>) {
      ahead.push({ target, hosts: resolve(target.host) });
      if (ahead.length < options.concurrency) continue;
      const first = ahead.shift() as (typeof ahead)[number];
      yield* next(await first.hosts, first.target);
    }
    for (const { target, hosts } of ahead) yield* next(await hosts, target);
  };
  const prepare = async ([index, target]: [number, Target]): Promise<Prepared | null> => {
    const readStarted = clock();
    const prepared = await readAndPlan(index, target);
    return prepared === null ? null : { ...prepared, readMs: Math.max(0, clock() - readStarted) };
  };
  const readAndPlan = async (index: number, target: Target): Promise<Omit<Prepared, 'readMs'> | null> => {
    const base = {
      index,
      target,
      family: null,
      baseline: { snapshot: null, readAt: clock() },
      requests: null,
    };
    if (action.name === 'raw') {
      // Sent verbatim to any firmware: no dialect to learn, nothing to read back.
      const plan = planAction(action, 'generic', ctx.now());
      return { ...base, requests: 'requests' in plan ? plan.requests : null, outcome: null };
    }
    let snapshot: Snapshot;
    let family: Family;
    try {
      const read = await fetchSnapshot(client, target, { signal: ctx.signal });
      snapshot = read.snapshot;
      family = detect(new Replies(read.replies)).family;
    } catch (error) {
      // Ctrl-C cut this read short: the miner was not reached, like those never started.
      if (isInterrupted(error)) return null;
      if (!(error instanceof MinerError)) throw error;
      return { ...base, outcome: { result: 'failed', error: minerErrorJson(error, redactor) } };
    }
    const baseline = { snapshot, readAt: clock() };
    const plan = planAction(action, family, ctx.now());
    if ('unsupported' in plan) {
      return {
        ...base,
        family,
        baseline,
        outcome: { result: 'unsupported', error: notSent('unsupported', plan.unsupported) },
      };
    }
    return { ...base, family, baseline, requests: plan.requests, outcome: null };
  };
  const prepared: Prepared[] = [];
  for await (const item of runPool(indexed(), options.concurrency, prepare, { signal: ctx.signal }))
    if (item !== null) prepared.push(item);
  prepared.sort((a, b) => a.index - b.index);

  const results = new Map<number, TargetControlResult>();
  const shown = (p: Prepared): Pick<TargetControlResult, 'request' | 'requests'> => {
    if (p.requests === null) return { request: null };
    const main = p.requests.find((r) => r.role === 'write') ?? p.requests[0];
    const request = main ? showRequest(main, redactor) : null;
    return p.requests.length > 1
      ? { request, requests: p.requests.map((r) => showRequest(r, redactor)) }
      : { request };
  };
  const finish = (p: Prepared, outcome: Outcome, startedAt: number): TargetControlResult => {
    const result: TargetControlResult = {
      target: p.target.key,
      host: p.target.host,
      port: p.target.port,
      ok: isSuccess(outcome.result, action, options.verify),
      // The miner's own time: its read, then (when sent) its write and read-back.
      elapsed_ms: p.readMs + Math.max(0, clock() - startedAt),
      result: outcome.result,
      dialect: p.family,
      ...shown(p),
      // A read-back names pools by URL ("pool '…' is gone"), and so does an unverified write's
      // error (its read-back's detail): the URL may carry credentials. Only those are masked here:
      // the secrets of the run were scrubbed from the miner's words, and our own words are kept
      // (a Whatsminer admin password `admin` would mangle "wrong admin password").
      ...(outcome.error
        ? { error: { ...outcome.error, message: maskUrlCredentials(outcome.error.message) } }
        : {}),
      ...(outcome.verification
        ? {
            verification: {
              ...outcome.verification,
              detail: maskUrlCredentials(outcome.verification.detail),
              ...(outcome.verification.warning === undefined
                ? {}
                : { warning: maskUrlCredentials(outcome.verification.warning) }),
            },
          }
        : {}),
    };
    results.set(p.index, result);
    options.onResult?.(result);
    return result;
  };
  const record = (result: TargetControlResult, id: number | null): void => {
    logSafely((statements) => {
      const row = {
        result: result.result === 'planned' ? 'skipped' : result.result,
        finished_at: ctx.now(),
        dialect: result.dialect,
        request: result.request,
        error_kind: result.error?.kind ?? null,
        error_code: result.error?.code ?? null,
        error_message: result.error?.message ?? null,
        verification: result.verification ? { ...result.verification } : null,
      } as const;
      const rowId = id ?? begin(statements, result.host, result.port, result.dialect, result.request);
      statements.finish(rowId, row);
    });
  };
  const begin = (
    statements: CommandLogStatements,
    host: string,
    port: number,
    dialect: string | null,
    request: string | null,
  ) =>
    statements.begin({
      run_id: runId,
      ts: ctx.now(),
      actor: options.actor,
      source: options.source,
      action: action.name,
      host,
      port,
      dialect,
      request,
    });

  let note: string | null = null;
  const run = (declined: boolean, interrupted: boolean): ControlRun => ({
    runId,
    action: action.name as ActionName,
    description,
    dryRun: options.dryRun,
    results: [...results.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r),
    declined,
    interrupted,
    ...(note === null ? {} : { note }),
  });

  // ---- 3. dry run: the exact requests, nothing sent, nothing logged
  if (options.dryRun) {
    note = deadPoolNote(
      action,
      prepared.filter((p) => p.outcome === null),
    );
    for (const p of prepared) finish(p, p.outcome ?? { result: 'planned' }, clock());
    return run(false, ctx.signal.aborted);
  }

  // Whatsminer writes need the admin password: asked once, only now that one is to be written.
  let adminPassword: string | null = null;
  const whatsminers = prepared.filter((p) => p.outcome === null && p.requests?.some((r) => r.whatsminer));
  if (whatsminers.length > 0) {
    adminPassword = (await options.adminPassword?.()) ?? null;
    if (adminPassword === null || adminPassword === '') {
      for (const p of whatsminers) {
        p.outcome = {
          result: 'skipped',
          error: notSent(
            'skipped',
            'Whatsminer writes need the admin password: give --admin-password-file FILE (or run on a terminal)',
          ),
        };
      }
    } else {
      redactor.add(adminPassword);
    }
  }

  const eligible = prepared.filter((p) => p.outcome === null);
  const settleIneligible = () => {
    for (const p of prepared) if (p.outcome !== null) record(finish(p, p.outcome, clock()), null);
  };

  // Nothing to write (every miner unsupported, unreachable or skipped): there is no question to
  // ask, and a run that then said "not confirmed" spoke of an answer nobody was asked for.
  note = deadPoolNote(action, eligible);
  if (!options.yes && options.confirm && eligible.length > 0) {
    const ok = await options.confirm({
      ...(note === null ? {} : { note }),
      action: action.name,
      miners: eligible.length,
      unsupported: prepared.filter((p) => p.outcome?.result === 'unsupported').length,
      unreachable: prepared.filter((p) => p.outcome?.result === 'failed').length,
      description,
    });
    if (!ok) {
      for (const p of eligible)
        finish(p, { result: 'skipped', error: notSent('skipped', 'not confirmed: nothing sent') }, clock());
      settleIneligible();
      return run(true, false);
    }
  }

  // ---- 4/5. send (at most once) and read back
  const executeOne = async (p: Prepared): Promise<TargetControlResult> => {
    const startedAt = clock();
    const { request } = shown(p);
    const logId = logSafely((s) => begin(s, p.target.host, p.target.port, p.family, request));
    const outcome = await sendAndVerify(p, redactor);
    const result = finish(p, outcome, startedAt);
    record(result, logId);
    return result;
  };

  const sendAndVerify = async (p: Prepared, secrets: Redactor): Promise<Outcome> => {
    const requests = p.requests ?? [];
    let sessionId: string | null = null;
    let outcome: Outcome | null = null;
    let sentAt = clock();
    let applied = false;
    /** The write itself was answered with an error (not denied): the miner's word, not yet its state. */
    let answeredError = false;
    for (const request of requests) {
      // whatsminerWrite asks for its own token right before the encrypted write.
      if (request.role === 'token') continue;
      if (request.role === 'session-close') {
        // A restart ends the session with the process; otherwise release it so the next tool can log on.
        if (sessionId !== null && !(action.name === 'restart' && applied))
          await closeSession(p.target, request, sessionId);
        continue;
      }
      const parameter =
        request.parameter === undefined
          ? undefined
          : request.sessionPrefixed
            ? withSession(request.parameter, sessionId ?? '')
            : request.parameter;
      if (request.role === 'write') sentAt = clock();
      let reply: DecodedReply;
      try {
        reply = request.whatsminer
          ? await whatsminerWrite(
              client,
              p.target,
              { cmd: request.command, params: request.whatsminer.fields, password: adminPassword ?? '' },
              {
                ...(options.wire ?? DEFAULT_WIRE),
                // Backoff on the context's clock and randomness, as the client's retries.
                sleep: ctx.sleep,
                random: ctx.random,
                allowErrorStatus: true,
                ...(ctx.lookup ? { lookup: ctx.lookup } : {}),
                // Ctrl-C before the write left (get_token, a backoff): not sent at all.
                cancel: ctx.signal,
              },
            )
          : await client.request(p.target, request.command, {
              ...(parameter === undefined ? {} : { parameter }),
              ...(request.sessionPrefixed ? { sessionPrefixed: true } : {}),
              write: true,
              allowErrorStatus: true,
              // Ctrl-C during a backoff or the wait for a socket: the write is not sent after it.
              cancel: ctx.signal,
            });
      } catch (error) {
        if (isInterrupted(error)) {
          // Stopped before it left: nothing was sent (a request on the wire is finished instead).
          outcome = {
            result: 'skipped',
            error: notSent('skipped', `interrupted before ${request.command} was sent: nothing sent`),
          };
          break;
        }
        if (error instanceof MinerError) {
          const kind = request.role === 'write' && error.requestSent ? 'unknown' : 'failed';
          outcome = { result: kind, error: minerErrorJson(error, secrets) };
          if (request.role !== 'write')
            outcome.error = { ...outcome.error!, message: `${request.command}: ${outcome.error!.message}` };
          break;
        }
        if (error instanceof HashctlError && error.kind === 'usage') {
          // Refused by the encoder before sending (hashctl.md §4): nothing left. Its message quotes
          // the parameter cut at 60 characters, which no redaction can find whole (a LuxOS session
          // id the encoder refuses left the first part of an addpool password): the reason only.
          const reason = unquoted(error, request.command) as Error;
          outcome = {
            result: 'failed',
            error: { kind: 'api', message: secrets.text(reason.message), attempts: 0 },
          };
          break;
        }
        throw error;
      }
      if (!request.whatsminer && Object.hasOwn(reply.body, 'enc') && reply.status.status === '') {
        // A Whatsminer's encrypted envelope to a plain request: its STATUS is inside the cipher
        // text, so whether the write was taken (or refused, E/45) cannot be read.
        const error: ControlError = {
          kind: 'protocol',
          message: `${request.command}: the miner answered with an encrypted reply that says nothing readable`,
          attempts: 1,
        };
        outcome = { result: request.role === 'write' ? 'unknown' : 'failed', error };
        break;
      }
      // What the miner said, as long as a message can be: a hostile 600 KB Msg is not a 600 KB
      // line in the table, --json and command_log (the client clips its own errors alike). Secrets
      // are scrubbed first: a clip through an echoed password leaves a part no redaction finds.
      if (reply.status.msg !== null && reply.status.msg.length > 0)
        reply = {
          ...reply,
          status: { ...reply.status, msg: clipMessage(secrets.text(reply.status.msg)) },
        };
      const foreign =
        request.role === 'write' && !request.whatsminer && reply.ok
          ? foreignReadSection(request.command, reply)
          : null;
      if (foreign !== null) {
        // Another request's answer (POOLS to a switchpool): nothing says whether the write was taken.
        const error: ControlError = {
          kind: 'protocol',
          message: `${request.command}: the miner answered ${secrets.text(foreign)} (another command's reply), not this write`,
          attempts: 1,
        };
        applied = true;
        outcome = { result: 'unknown', error };
        continue;
      }
      if (!acknowledged(reply, request)) {
        outcome = request.whatsminer
          ? whatsminerOutcome(reply, request.command, secrets)
          : statusOutcome(reply, request.command, secrets);
        answeredError = request.role === 'write' && outcome.result === 'failed';
        break;
      }
      if (request.role === 'session-open') {
        sessionId = sessionIdOf(reply);
        if (sessionId === null) {
          outcome = {
            result: 'failed',
            error: { kind: 'api', message: 'logon: no session id in the reply', attempts: 1 },
          };
          break;
        }
        secrets.add(sessionId, SESSION_PLACEHOLDER);
      }
      if (request.role === 'write') {
        applied = true;
        outcome = { result: 'sent' };
        if (
          reply.status.status === 'I' &&
          request.command !== 'ascset' &&
          !informationalYes(reply, request.command)
        ) {
          // Taken or not, the miner did not say: `unknown` (never `sent`), settled by the read-back.
          const { code, msg } = reply.status;
          const error: ControlError = {
            kind: 'api',
            message: secrets.text(
              `${request.command}: miner answered I${code === null ? '' : `/${code}`} (informational, not a yes): ${msg ?? 'no message'}`,
            ),
            attempts: 1,
          };
          if (code !== null) error.code = code;
          if (msg !== null) error.msg = secrets.text(msg);
          outcome = { result: 'unknown', error };
        }
      }
    }
    // A session opened but the write failed: still release it.
    if (sessionId !== null && !applied) {
      const close = requests.find((r) => r.role === 'session-close');
      if (close) await closeSession(p.target, close, sessionId);
    }
    outcome ??= { result: 'failed', error: { kind: 'api', message: 'nothing was sent', attempts: 0 } };
    if (answeredError && options.verify && action.name !== 'raw' && outcome.error) {
      // An error answer is not proof that nothing changed: a miner that makes the change and then
      // says E was reported `failed`, and a retried `removepool 1` removed another pool (cgminer
      // renumbers them). One read, no waiting: when the change shows, the answer and the state
      // disagree, and the result is `unknown` with both.
      const seen = await readBackOnce(p, sentAt);
      if (seen?.confirmed === true) {
        const error = outcome.error;
        return {
          result: 'unknown',
          // The read-back's detail is in `verification` (the table adds it after the message).
          error: { ...error, message: `${error.message}; yet the read-back shows the change` },
          verification: seen,
        };
      }
    }
    if (
      (outcome.result === 'sent' || outcome.result === 'unknown') &&
      options.verify &&
      action.name !== 'raw'
    ) {
      const verification = await verifyByReadBack(p, sentAt);
      outcome = {
        ...outcome,
        result: verification.confirmed ? 'verified' : 'unknown',
        verification,
      };
      if (verification.confirmed) delete outcome.error;
      // A failed target always says why (the per-target contract): a write whose send went well
      // but whose change never showed is `unverified`.
      else
        outcome.error ??= { kind: 'unverified', message: verification.detail, attempts: verification.checks };
    }
    return outcome;
  };

  const closeSession = async (target: Target, request: PlannedRequest, sessionId: string): Promise<void> => {
    const parameter = withSession(request.parameter ?? SESSION_PLACEHOLDER, sessionId);
    try {
      await client.request(target, request.command, { parameter, write: true, allowErrorStatus: true });
    } catch {
      // The session expires on its own after 60 s idle (§8.4); the action's outcome stands.
    }
  };

  /**
   * One read-back, for a write the miner answered with an error: confirmed only when the change
   * shows and the baseline did not already show it (a switchpool to the pool on top proves nothing).
   */
  const readBackOnce = async (p: Prepared, sentAt: number): Promise<Verification | null> => {
    if (ctx.signal.aborted) return null;
    const started = clock();
    try {
      const { snapshot } = await fetchSnapshot(client, p.target, { signal: ctx.signal });
      const seen = readBack(action, p.family, p.baseline, snapshot, sentAt, clock());
      if (seen === null || !seen.confirmed || ctx.signal.aborted) return null;
      const before = p.baseline.snapshot;
      const already =
        before === null ? null : readBack(action, p.family, p.baseline, before, sentAt, p.baseline.readAt);
      if (already?.confirmed) return null;
      return {
        confirmed: true,
        detail: seen.detail,
        checks: 1,
        elapsed_ms: clock() - started,
        ...poolFields(seen),
      };
    } catch (error) {
      if (error instanceof MinerError || isInterrupted(error)) return null;
      throw error;
    }
  };

  const verifyByReadBack = async (p: Prepared, sentAt: number): Promise<Verification> => {
    const started = clock();
    const deadline = started + options.verifyTimeoutMs;
    let delay = FIRST_READ_BACK_DELAY_MS;
    let checks = 0;
    let detail = 'no read-back yet';
    const rounds = maxReadBacks(options.verifyTimeoutMs);
    for (let round = 0; round < rounds; round++) {
      // Ctrl-C came first (during the write): no read-back, not one whose reads were all cut and
      // then said what "the miner reports" (no uptime, no pools) when the miner said nothing.
      if (ctx.signal.aborted) {
        detail = 'read-back interrupted';
        break;
      }
      try {
        const { snapshot } = await fetchSnapshot(client, p.target, { signal: ctx.signal });
        const seen = readBack(action, p.family, p.baseline, snapshot, sentAt, clock());
        if (ctx.signal.aborted && seen?.confirmed !== true) {
          // Cut while reading: what it lacks may be what was cut, not what the miner shows.
          detail = 'read-back interrupted';
          break;
        }
        checks++;
        if (seen === null) break;
        detail = seen.detail;
        if (seen.confirmed)
          return { confirmed: true, detail, checks, elapsed_ms: clock() - started, ...poolFields(seen) };
        // Nothing a later read shows can confirm it (a switch to a Dead pool on a miner without
        // priorities): said now, not after --verify-timeout.
        if (seen.final)
          return {
            confirmed: false,
            detail: `not confirmed: ${detail}`,
            checks,
            elapsed_ms: clock() - started,
            ...poolFields(seen),
          };
      } catch (error) {
        // Ctrl-C during the read-back: the write stands; its outcome is reported as not confirmed.
        if (isInterrupted(error)) {
          detail = 'read-back interrupted';
          break;
        }
        if (!(error instanceof MinerError)) throw error;
        checks++;
        detail = `read-back failed: ${error.kind}`;
      }
      // The pause that would pass the deadline is cut to end at it, for one last check there:
      // a miner back just before --verify-timeout is seen, and none is read after it.
      const left = deadline - clock();
      if (ctx.signal.aborted || left <= 0) break;
      await ctx.sleep(Math.min(delay, left), ctx.signal);
      delay = Math.min(delay * 2, MAX_READ_BACK_DELAY_MS);
    }
    const elapsed = clock() - started;
    return {
      confirmed: false,
      // Cut short by Ctrl-C: the time it had, not the whole --verify-timeout, and why it stopped
      // ("not confirmed within 1ms" read as a miner that failed the check).
      detail: ctx.signal.aborted
        ? `not confirmed: read-back interrupted after ${formatDuration(elapsed)}${['read-back interrupted', 'no read-back yet'].includes(detail) ? '' : ` (last check: ${detail})`}`
        : `not confirmed within ${formatDuration(options.verifyTimeoutMs)}: ${detail}`,
      checks,
      elapsed_ms: elapsed,
    };
  };

  const skip = (group: Prepared[], why: string): void => {
    for (const p of group)
      record(finish(p, { result: 'skipped', error: notSent('skipped', why) }, clock()), null);
  };
  const notStarted = 'interrupted before this miner was started';
  const runGroup = async (group: Prepared[]): Promise<TargetControlResult[]> => {
    const out: TargetControlResult[] = [];
    const started = new Set<Prepared>();
    const start = (p: Prepared): Promise<TargetControlResult> => {
      started.add(p);
      return executeOne(p);
    };
    // Ctrl-C starts no further miner, even within a batch; a write already in flight is finished
    // and read back (cutting it would leave its outcome unknown).
    const pool = runPool(group, Math.max(1, options.concurrency), start, { signal: ctx.signal });
    for await (const result of pool) out.push(result);
    skip(
      group.filter((p) => !started.has(p)),
      notStarted,
    );
    return out;
  };

  settleIneligible();
  const canary = eligible.slice(0, options.canary);
  let rest = eligible.slice(canary.length);
  if (canary.length > 0) {
    const done = await runGroup(canary);
    const bad = done.find((r) => !r.ok);
    if (bad) {
      skip(rest, `canary ${bad.target} was ${bad.result}: rollout stopped`);
      rest = [];
    }
  }
  const batchSize = options.batch > 0 ? options.batch : Math.max(1, rest.length);
  let first = canary.length === 0;
  while (rest.length > 0) {
    if (ctx.signal.aborted) break;
    if (!first && options.staggerMs > 0) await ctx.sleep(options.staggerMs, ctx.signal);
    if (ctx.signal.aborted) break;
    first = false;
    const batch = rest.slice(0, batchSize);
    rest = rest.slice(batch.length);
    await runGroup(batch);
  }
  const interrupted = ctx.signal.aborted;
  if (rest.length > 0) skip(rest, notStarted);
  // Miners never reached because the read phase was interrupted are not in `prepared` at all.
  return run(false, interrupted);
}
