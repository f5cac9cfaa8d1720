// The hardened client every feature uses (hashctl.md §4): validated options, one queue per miner, a
// global socket cap, retries only where they are safe, and STATUS E/F turned into typed errors.
import { sleep as defaultSleep } from '../context.js';
import { MinerError, UsageError } from '../errors.js';
import type { Target } from '../targets/types.js';
import { maxReplyValues } from './budget.js';
import { isWriteCommand, JOINABLE_COMMANDS } from './commands.js';
import {
  type ExchangeOptions,
  type ExchangeResult,
  failureMessages,
  exchange as socketExchange,
} from './connection.js';
import {
  type DecodeOptions,
  decodeReply,
  decodeUnfinished,
  isNoStatusError,
  splitMultiReply,
} from './decode.js';
import { buildRequest, MAX_REQUEST_BYTES } from './escape.js';
import { REPAIR } from './lenient-json.js';
import { KeyedQueue, Semaphore } from './limiter.js';
import { connectionLimit, MAX_REPLY_BYTES } from './limits.js';
import {
  cancellableSleep,
  DEFAULT_RETRY_POLICY,
  notSentInterrupted,
  type RetryPolicy,
  withRetry,
} from './retry.js';
import type { ClientOptions, DecodedReply, ManyOptions, MinerClient, RequestOptions } from './types.js';

/** Targets remembered as refusing `a+b` joins; bounded so a /8 scan cannot grow it without end. */
const MAX_REMEMBERED_JOIN_REFUSALS = 10_000;

/**
 * Kinds after which a join is not worth retrying as single commands: the miner itself is not there,
 * or (protocol) the peer is not a CGMiner API at all (an SSH or HTTP server), and asking each member
 * alone would cost a deadline apiece.
 */
const TRANSPORT_KINDS = new Set(['timeout', 'refused', 'unreachable', 'too_large', 'protocol']);

/**
 * After one of these, a miner's remaining single commands are not asked (same error for each). A
 * connection closed with zero bytes or reset, after its retries, is the miner refusing this client
 * (api-allow) or restarting (CGMINER-API.md §1, §12 #22), not an answer to one command.
 */
const STOP_ASKING_KINDS = new Set(['timeout', 'refused', 'unreachable', 'protocol', 'empty_reply', 'reset']);

/**
 * A join that fails this way is either refused by a firmware that closes on joins (some S19s) or
 * lost with every other request of a miner that closes them all: only a member answering alone
 * tells which.
 */
const CLOSED_KINDS = new Set(['empty_reply', 'reset']);

/** E/45 (upstream `Access denied`, Whatsminer `permission denied`) means privileged access refused. */
export function isDeniedStatus(reply: DecodedReply): boolean {
  if (reply.status.code === 45) return true;
  return /access denied|permission denied/i.test(reply.status.msg ?? '');
}

/**
 * The MinerError for a decoded reply whose STATUS is not S/I: kind `denied` or `api`. Built without
 * a stack trace: it is the miner's answer, not a fault of this code, and a cold cycle builds one
 * for every join member a firmware does not know (thousands per farm; the trace cost more than
 * the rest of the error).
 */
export function errorFromStatus(reply: DecodedReply): MinerError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return statusError(reply);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function statusError(reply: DecodedReply): MinerError {
  const { status, code, msg } = reply.status;
  if (reply.status.unreadable)
    return new MinerError('parse', msg ?? "the reply's STATUS cannot be read", { requestSent: true });
  const label = code === null ? status || 'error' : `${status}/${code}`;
  const text = clipMessage(msg ?? 'no message');
  return new MinerError(isDeniedStatus(reply) ? 'denied' : 'api', `miner answered ${label}: ${text}`, {
    code,
    apiMessage: msg === null ? null : clipMessage(msg),
    requestSent: true,
  });
}

/** Real STATUS messages are a line; a hostile 600 KB one must not become a 600 KB error line. */
const MAX_MESSAGE_CHARS = 500;

export function clipMessage(text: string): string {
  return text.length > MAX_MESSAGE_CHARS
    ? `${text.slice(0, MAX_MESSAGE_CHARS)}… (${text.length} characters)`
    : text;
}

/**
 * A read of a poll that is not sent because an earlier read of it ran to the deadline (PollState):
 * that read's kind, `attempts` 0. No stack trace: a stalled poll builds one per remaining read.
 */
function notSent(stalled: MinerError): MinerError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const error = new MinerError(
      stalled.kind,
      `not sent: an earlier read of this poll ran to its deadline (${stalled.message})`,
      { requestSent: false },
    );
    error.attempts = 0;
    return error;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** setTimeout fires at once (with a warning) past 2^31-1 ms, about 24.8 days. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** A reply must fit in one V8 string (about 512 Mi characters) to be decoded; keep well under. */
export { MAX_REPLY_BYTES } from './limits.js';

function bounded(value: number, name: string, max: number, shown: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`invalid ${name} ${value}: must be more than 0`);
  if (value > max) throw new UsageError(`invalid ${name} ${value}: at most ${shown}`);
  return value;
}

/**
 * How long decoding may run past the response deadline. Decoding is linear, but a hostile reply of
 * 8 MiB can hold a million keys, and building them costs V8 seconds; past this it is a `timeout`.
 */
export const DECODE_GRACE_MS = 250;

/** Most distinct parameterless requests remembered (command names and `a+b` joins; a handful in practice). */
const MAX_CACHED_REQUESTS = 256;
const parameterlessRequests = new Map<string, Uint8Array>();

/**
 * The request bytes, built once per parameterless command: a farm sends the same few requests
 * thousands of times a cycle. Validation is buildRequest's, so a bad name still throws every time.
 * The bytes are only ever written to sockets, never changed, so one copy is shared.
 */
function requestBytes(command: string, parameter: string | undefined, sessionPrefixed: boolean): Uint8Array {
  if (parameter !== undefined) return buildRequest(command, parameter, { sessionPrefixed });
  let bytes = parameterlessRequests.get(command);
  if (bytes === undefined) {
    bytes = buildRequest(command);
    if (parameterlessRequests.size < MAX_CACHED_REQUESTS) parameterlessRequests.set(command, bytes);
  }
  return bytes;
}

/** What a reply carries besides its data: the STATUS (flat, Whatsminer's, with When/Code/Description). */
const ENVELOPE_KEY = /^(?:status|id)$/i;
const FLAT_ENVELOPE_KEY = /^(?:status|id|when|code|description)$/i;

/** Whether `value` holds one value that is not null: a list or object the cut left empty holds none. */
function holdsData(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (Array.isArray(value)) return value.some(holdsData);
  if (typeof value === 'object') return Object.values(value).some(holdsData);
  return true;
}

/**
 * A JSON reply the peer cut short (closed midway: cgminer gives up on a slow reader, §1) before any
 * of its data, so that only its STATUS, or part of it, is left (with the sections the cut opened,
 * `"SUMMARY":[`, closed empty by the repair). To a read that is no answer but a reply that could not
 * be read whole: `parse`, retried like one, never taken for a peer that is no CGMiner API. (A
 * write's STATUS is its whole answer: the caller does not ask this of a write.)
 */
function lostItsData(reply: DecodedReply): boolean {
  if (!reply.ok) return false;
  const envelope = typeof reply.body.STATUS === 'string' ? FLAT_ENVELOPE_KEY : ENVELOPE_KEY;
  for (const [key, value] of Object.entries(reply.body))
    if (!envelope.test(key) && holdsData(value)) return false;
  return true;
}

const CUT_SHORT = 'reply cut short';

/** A read's reply that the peer cut short before what was asked (see lostItsData, cutJoin). */
export function isCutShortError(error: unknown): boolean {
  return error instanceof MinerError && error.kind === 'parse' && error.message.startsWith(CUT_SHORT);
}

/**
 * The `parse` error of a read whose reply was cut before its data, or null. A join (`a+b`) cut
 * short is one whose cut took a member away or left one with its STATUS alone: a firmware that
 * refuses joins answers in full, so such a join is asked again, not remembered as refused.
 */
function cutShort(reply: DecodedReply, command: string): MinerError | null {
  if (reply.format !== 'json' || !reply.repairs.includes(REPAIR.truncated)) return null;
  const members = command.includes('+') ? splitMultiReply(reply) : null;
  let cut: string | null = null;
  if (members === null || Object.keys(members).length === 0) {
    if (lostItsData(reply)) cut = 'its data';
  } else {
    for (const name of command.split('+')) {
      const member = members[name];
      if (member !== undefined && !lostItsData(member)) continue;
      cut = `the data of '${name}'`;
      break;
    }
  }
  if (cut === null) return null;
  return new MinerError('parse', `${CUT_SHORT}: the connection closed before ${cut} ('${command}')`, {
    requestSent: true,
  });
}

/** The reply in `result`: decoded, or salvaged from bytes that never ended, or the error. */
function replyOf(result: ExchangeResult, command: string, decodeOptions: DecodeOptions): DecodedReply {
  if (result.unfinished === undefined) return decodeReply(result.bytes, command, decodeOptions);
  const salvaged = decodeUnfinished(result.bytes, command, decodeOptions);
  if (salvaged === null) throw result.unfinished;
  if (salvaged instanceof MinerError) throw salvaged;
  return salvaged;
}

export interface CreateClientOptions extends ClientOptions {
  /** Backoff shape; `retries` always comes from ClientOptions. */
  retryPolicy?: Omit<RetryPolicy, 'retries'>;
  /** Clock for the decode deadline (tests); by default a monotonic one, which a wall-clock step does not move. */
  now?: () => number;
  /** The transport: one request on one socket. Replaced only to replay recorded replies (bench/cpu-replay.ts). */
  exchange?: (options: ExchangeOptions) => Promise<ExchangeResult>;
}

export function createClient(options: CreateClientOptions): MinerClient {
  const timeoutMs = bounded(options.timeoutMs, 'timeout', MAX_TIMEOUT_MS, '24 days');
  const connectTimeoutMs = bounded(
    options.connectTimeoutMs ?? Math.min(timeoutMs, 3000),
    'connect timeout',
    MAX_TIMEOUT_MS,
    '24 days',
  );
  const maxBytes = bounded(options.maxBytes, 'max-bytes', MAX_REPLY_BYTES, '256MiB');
  const maxValues = maxReplyValues(maxBytes);
  if (!Number.isInteger(options.retries) || options.retries < 0) {
    throw new UsageError(`invalid retries ${options.retries}: must be a whole number ≥ 0`);
  }
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retryPolicy, retries: options.retries };
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? (() => performance.now());
  const exchange = options.exchange ?? socketExchange;
  const { lookup } = options;
  // Never more than the open-file limit allows, whatever --concurrency asked: past it each socket
  // fails with EMFILE, which would read as that miner being unreachable.
  const sockets = new Semaphore(Math.min(options.concurrency ?? Number.POSITIVE_INFINITY, connectionLimit()));
  const perMiner = new KeyedQueue();
  const refusesJoin = new Map<string, true>();

  const rememberRefusal = (key: string): void => {
    if (refusesJoin.size >= MAX_REMEMBERED_JOIN_REFUSALS) {
      const oldest = refusesJoin.keys().next().value;
      if (oldest !== undefined) refusesJoin.delete(oldest);
    }
    refusesJoin.set(key, true);
  };

  async function request(target: Target, command: string, opts: RequestOptions = {}): Promise<DecodedReply> {
    // UsageError before any traffic
    const payload = requestBytes(command, opts.parameter, opts.sessionPrefixed === true);
    const write = opts.write ?? isWriteCommand(command);
    const { poll } = opts;
    if (poll?.stalled) throw notSent(poll.stalled);
    let attempts = 0;
    /** The last attempt ran to its deadline (whatever came of its bytes): its poll asks no more. */
    let ranToDeadline: MinerError | null = null;
    const { cancel } = opts;
    const attempted = perMiner.run(target.key, () =>
      withRetry(
        async (attempt) => {
          if (cancel?.aborted) throw notSentInterrupted();
          attempts = attempt;
          ranToDeadline = null;
          let decodeDeadline = 0;
          let result: ExchangeResult;
          try {
            result = await sockets.run(() => {
              if (cancel?.aborted) throw notSentInterrupted();
              // From when the exchange starts, not from the wait for a free socket.
              decodeDeadline = now() + timeoutMs + DECODE_GRACE_MS;
              return exchange({
                host: target.host,
                port: target.port,
                request: payload,
                connectTimeoutMs,
                timeoutMs,
                maxBytes,
                signal: opts.signal,
                ...(cancel ? { cancel } : {}),
                onBytes: opts.onRaw,
                keepUnfinished: true,
                ...(lookup ? { lookup } : {}),
              });
            });
          } catch (error) {
            if (error instanceof MinerError && error.kind === 'timeout') ranToDeadline = error;
            throw error;
          }
          if (result.unfinished?.kind === 'timeout') ranToDeadline = result.unfinished;
          try {
            // The bytes stay on the reply only for a caller that asked for them (probe --dump).
            // At least the grace from when decoding starts: a process busy elsewhere (a thousand
            // replies at once, a collection's transaction) must not turn a reply that arrived in
            // time into a timeout. Only decoding itself is bounded here.
            const reply = replyOf(result, command, {
              deadline: Math.max(decodeDeadline, now() + DECODE_GRACE_MS),
              now,
              maxValues,
              keepRaw: opts.onRaw !== undefined,
              hold: opts.hold,
            });
            const cut = write ? null : cutShort(reply, command);
            if (cut !== null) throw cut;
            return reply;
          } catch (error) {
            // A reply came back, so the request had left: a write must not be sent again.
            if (error instanceof MinerError) {
              error.requestSent = true;
              // Decoding past the deadline, or what the bytes at the deadline turned out to be.
              if (error.kind === 'timeout' || ranToDeadline !== null) ranToDeadline = error;
            }
            throw error;
          }
        },
        {
          policy,
          // Ctrl-C during a backoff: the next attempt is not sent.
          sleep: cancel ? cancellableSleep(sleep, cancel) : sleep,
          random,
          signal: opts.signal ?? cancel,
          write,
        },
      ),
    );
    let reply: DecodedReply;
    try {
      reply = await attempted;
    } catch (error) {
      const stalled = ranToDeadline as MinerError | null;
      if (poll && stalled !== null) poll.stalled ??= stalled;
      throw error;
    }
    if (poll && (ranToDeadline as MinerError | null) !== null) {
      // A whole reply taken at the deadline (no NUL, socket left open): this read is answered,
      // but the peer would cost the poll a deadline for each read after it.
      const stalled = new MinerError(
        'timeout',
        `${failureMessages.where(target.host, target.port)} sent no end of reply within ${timeoutMs}ms`,
        { requestSent: true },
      );
      stalled.attempts = attempts;
      poll.stalled ??= stalled;
    }
    if (!reply.ok && !opts.allowErrorStatus) {
      const error = errorFromStatus(reply);
      error.attempts = attempts;
      throw error;
    }
    return reply;
  }

  async function single(
    target: Target,
    command: string,
    { signal, hold, poll }: ManyOptions,
  ): Promise<DecodedReply | MinerError> {
    try {
      return await request(target, command, { signal, write: false, hold, poll });
    } catch (error) {
      if (error instanceof MinerError) return error;
      throw error;
    }
  }

  async function requestMany(
    target: Target,
    commands: string[],
    opts: ManyOptions = {},
  ): Promise<Record<string, DecodedReply | MinerError>> {
    for (const command of commands) requestBytes(command, undefined, false); // validate every name up front
    const wanted = [...new Set(commands)];
    const optional = new Set(opts.optional ?? []);
    const joinsToo = new Set((opts.joinable ?? []).filter((c) => !isWriteCommand(c)));
    const canJoin = (c: string) => JOINABLE_COMMANDS.has(c) || joinsToo.has(c);
    const out = replyDictionary();
    const joinable = wanted.filter(canJoin);
    // Optional members are asked inside a join or not at all (ManyOptions.optional).
    const alone = wanted.filter((c) => !canJoin(c) && !optional.has(c));
    const tryJoins = opts.join ?? !refusesJoin.has(target.key);
    /** A join was closed or reset: remembered as refused only if a member then answers alone. */
    let joinClosed = false;
    if (tryJoins && joinable.length >= 2) {
      for (const group of joinGroups(joinable)) {
        if (group.length === 1) {
          alone.push(...group.filter((c) => !optional.has(c)));
          continue;
        }
        const { again, closed } = await tryJoin(target, group, optional, out, opts);
        alone.push(...again);
        if (closed) joinClosed = true;
      }
    } else {
      alone.push(...joinable.filter((c) => !optional.has(c)));
    }
    // A miner that stopped answering (a deadline passed, the port closed) is not asked the rest:
    // each would cost a deadline and its retries of its own, a minute per miner at the defaults.
    let gone: MinerError | null = null;
    let answered = false;
    for (const command of alone) {
      if (opts.signal?.aborted) break;
      if (gone !== null) {
        out[command] = gone;
        continue;
      }
      const result = await single(target, command, opts);
      out[command] = result;
      if (result instanceof MinerError && STOP_ASKING_KINDS.has(result.kind)) gone = result;
      else answered = true;
    }
    // The miner answers alone what it closed as a join: it refuses joins. One that closed every
    // request (restarting, api-allow) is offered a join again next time, not asked one command per
    // request from then on.
    if (joinClosed && answered) rememberRefusal(target.key);
    // Keep the caller's order.
    const ordered = replyDictionary();
    for (const command of wanted) {
      const result = out[command];
      if (result !== undefined) ordered[command] = result;
    }
    return ordered;
  }

  /**
   * Sends one `a+b+c`; fills `out` with the members that came back and returns the commands to ask
   * again one by one. A reply without the keyed layout, or with members missing, means the firmware
   * does not do joins: remembered per miner. A member denied (E/45) is asked again alone, since
   * cgminer refuses some commands only inside a join (§15); any other E (E/14 `Invalid command`,
   * E/10 `No ASCs`) is the answer, and asking alone would only repeat it. Optional members are
   * never asked alone; one that answered E comes back as its reply (ok false), not a MinerError.
   * `closed`: the join was closed unanswered or reset, which the caller takes for a refusal only
   * once a member answers alone.
   */
  async function tryJoin(
    target: Target,
    group: string[],
    optional: ReadonlySet<string>,
    out: Record<string, DecodedReply | MinerError>,
    { signal, hold, poll }: ManyOptions,
  ): Promise<{ again: string[]; closed: boolean }> {
    let reply: DecodedReply;
    try {
      reply = await request(target, group.join('+'), {
        signal,
        write: false,
        allowErrorStatus: true,
        hold,
        poll,
      });
    } catch (error) {
      if (error instanceof MinerError && TRANSPORT_KINDS.has(error.kind) && !isNoStatusError(error)) {
        for (const command of group) out[command] = error;
        return { again: [], closed: false };
      }
      if (!(error instanceof MinerError)) throw error;
      // Cut short (after its retries) is closed midway: refused only if a member answers alone.
      const closed = CLOSED_KINDS.has(error.kind) || isCutShortError(error);
      if (!closed) rememberRefusal(target.key);
      return { again: group.filter((c) => !optional.has(c)), closed };
    }
    const members = splitMultiReply(reply);
    const again: string[] = [];
    let missing = false;
    for (const command of group) {
      const member = members[command];
      if (member === undefined) {
        missing = true;
        if (!optional.has(command)) again.push(command);
      } else if (member.ok) {
        out[command] = member;
      } else if (optional.has(command)) {
        // A probe's E/14 is routine: handed back as the reply it is, without building an Error.
        out[command] = member;
      } else if (isDeniedStatus(member)) {
        again.push(command);
      } else {
        out[command] = errorFromStatus(member);
      }
    }
    if (missing) rememberRefusal(target.key);
    else refusesJoin.delete(target.key); // a join that worked outdates a refusal remembered before
    return { again, closed: false };
  }

  return {
    request,
    requestMany,
    refusesJoins: (target: Target) => refusesJoin.has(target.key),
    slot: <T>(target: Target, task: () => Promise<T>) => perMiner.run(target.key, () => sockets.run(task)),
  };
}

/**
 * An empty map of replies by command. Null-prototype, so V8 keeps it as a dictionary: every reply
 * map then has one shape, however many commands a firmware answered and in whatever order, and the
 * per-miner code that reads them (fetch, detect, the dialects) is not recompiled for each new set
 * of keys (with plain objects, each distinct set was another hidden class). No inherited keys
 * either: a command named `constructor` or `__proto__` is just a key.
 */
export function replyDictionary(): Record<string, DecodedReply | MinerError> {
  return Object.create(null) as Record<string, DecodedReply | MinerError>;
}

/** Splits joinable commands into `a+b+c` groups whose request stays well under the 4 KB limit. */
function joinGroups(commands: string[]): string[][] {
  const budget = MAX_REQUEST_BYTES - 64;
  const groups: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const command of commands) {
    if (current.length > 0 && length + command.length + 1 > budget) {
      groups.push(current);
      current = [];
      length = 0;
    }
    current.push(command);
    length += command.length + 1;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
