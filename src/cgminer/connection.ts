// One request on one socket: connect, a single write, read until NUL or EOF. This module owns the
// socket and every timer; whatever happens, each timer is cleared and the socket destroyed exactly
// once (in `settle`). Errors are MinerError with a kind from the contract and `requestSent` set.
import { createConnection, type LookupFunction, type Socket } from 'node:net';
import { HashctlError, MinerError, type MinerErrorKind } from '../errors.js';
import { processReplyBudget, type ReplyBudget } from './budget.js';
import { FrameReader } from './frame.js';

export interface ExchangeOptions {
  host: string;
  port: number;
  request: Uint8Array;
  connectTimeoutMs: number;
  /** Total deadline from the start: connect, write, and reading to the end. */
  timeoutMs: number;
  /** Reply cap: one byte more and the socket is destroyed (`too_large`). */
  maxBytes: number;
  signal?: AbortSignal;
  /**
   * Ctrl-C for a write: ends the exchange only while none of the request has left (the name lookup,
   * the connect), as HashctlError('interrupted'); once it is written, the exchange is finished.
   */
  cancel?: AbortSignal;
  /** Called once with every byte received before the exchange ended, whatever the outcome (for --dump). */
  onBytes?: (bytes: Uint8Array) => void;
  /**
   * On the deadline or a reset after some bytes, resolve with them and `unfinished` set instead of
   * rejecting, so that the caller can look for a whole reply in them (decodeUnfinished).
   */
  keepUnfinished?: boolean;
  /** What all replies in flight may hold together (default: the process's, shared by every client). */
  budget?: ReplyBudget;
  /** Host-name resolution (absent: the system resolver); its time counts against the connect timeout. */
  lookup?: LookupFunction;
}

/** A write stopped before any of it left (as src/cgminer/retry.ts's notSentInterrupted). */
function notSentError(): HashctlError {
  return new HashctlError('interrupted', 'interrupted before the request was sent: nothing sent');
}

export interface ExchangeResult {
  bytes: Uint8Array;
  /** The reply ended with a NUL (rather than the peer closing). */
  terminated: boolean;
  /**
   * With `keepUnfinished`: set when the reply never ended (the deadline passed, or the peer reset the
   * connection, after some bytes had arrived). The error to report unless those bytes hold a whole
   * reply (the caller decides: a peer may send a complete reply and then neither send the NUL nor close).
   */
  unfinished?: MinerError;
}

const UNREACHABLE_CODES = new Set([
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EADDRNOTAVAIL',
  'ENETDOWN',
  'EHOSTDOWN',
]);

/** Maps a socket error to a contract kind. `connected`: the TCP handshake had completed. */
export function kindForSocketError(code: string | undefined, connected: boolean): MinerErrorKind {
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') return 'reset';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return 'unreachable';
  return connected ? 'reset' : 'unreachable';
}

/**
 * What one exchange's failures say, shared with scan's Prober (src/scan/probe.ts) so that a miner
 * that failed reads the same in `probe`, `collect` and `scan`.
 */
export const failureMessages = {
  /** `host:port`, or `[v6]:port`. */
  where: (host: string, port: number): string =>
    host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
  connectTimeout: (where: string, ms: number) => `no connection to ${where} within ${ms}ms`,
  replyTimeout: (where: string, ms: number, received: number) =>
    received === 0
      ? `no reply from ${where} within ${ms}ms`
      : `reply from ${where} incomplete after ${ms}ms (${received} bytes)`,
  tooLarge: (where: string, maxBytes: number) => `reply from ${where} is larger than ${maxBytes} bytes`,
  overBudget: (where: string, received: number, budgetBytes: number) =>
    `reply from ${where} cut at ${received} bytes: the replies in flight hold over ${Math.round(budgetBytes / 2 ** 20)} MiB together`,
  empty: (where: string) => `${where} closed the connection without a reply`,
  closed: (where: string) => `connection to ${where} closed unexpectedly`,
  invalid: (where: string, reason: string) => `cannot connect to ${where}: ${reason}`,
  /** A socket error, by the kind kindForSocketError gave it. */
  socket(kind: MinerErrorKind, code: string | undefined, where: string): string {
    const suffix = code ? ` (${code})` : '';
    switch (kind) {
      case 'refused':
        return `connection refused by ${where}`;
      case 'reset':
        return `connection to ${where} was reset${suffix}`;
      case 'timeout':
        return `connection to ${where} timed out${suffix}`;
      default:
        return `${where} is unreachable${suffix}`;
    }
  },
};

/**
 * One read buffer for every socket: with `onread`, Node reads straight into it and calls back
 * synchronously, so no socket's bytes can be overwritten before they are copied out.
 */
const readBuffer = new Uint8Array(64 * 1024);

/** Sends `request` and reads one reply. Rejects with MinerError, or HashctlError('interrupted') on abort. */
export function exchange(options: ExchangeOptions): Promise<ExchangeResult> {
  const {
    host,
    port,
    request,
    connectTimeoutMs,
    timeoutMs,
    maxBytes,
    signal,
    cancel,
    onBytes,
    keepUnfinished,
    lookup,
  } = options;
  const budget = options.budget ?? processReplyBudget;
  const where = failureMessages.where(host, port);
  return new Promise<ExchangeResult>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new HashctlError('interrupted', 'interrupted'));
      return;
    }
    if (cancel?.aborted) {
      reject(notSentError());
      return;
    }
    const reader = new FrameReader(maxBytes);
    budget.open();
    /** Bytes this reply took from the budget: given back when it settles. */
    let taken = 0;
    let connected = false;
    let requestSent = false;
    let settled = false;
    let socket: Socket | undefined;

    const settle = (outcome: { error: Error } | { result: ExchangeResult }): void => {
      if (settled) return;
      settled = true;
      budget.close(taken);
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cancel?.removeEventListener('abort', onCancel);
      socket?.destroy();
      if ('error' in outcome) {
        if (outcome.error instanceof MinerError) outcome.error.requestSent = requestSent;
        onBytes?.(reader.bytes());
        reject(outcome.error);
      } else {
        onBytes?.(outcome.result.bytes);
        resolve(outcome.result);
      }
      reader.clear();
    };
    const fail = (kind: MinerErrorKind, message: string, cause?: unknown): void =>
      settle({ error: new MinerError(kind, message, { cause, requestSent }) });
    /** Deadline or reset: with bytes in hand the caller may still find a whole reply in them. */
    const cutShort = (kind: MinerErrorKind, message: string, cause?: unknown): void => {
      if (!keepUnfinished || reader.length === 0 || !connected) {
        fail(kind, message, cause);
        return;
      }
      const unfinished = new MinerError(kind, message, { cause, requestSent });
      settle({ result: { bytes: reader.bytes(), terminated: false, unfinished } });
    };

    const onAbort = (): void => settle({ error: new HashctlError('interrupted', 'interrupted') });
    const onCancel = (): void => {
      if (!requestSent) settle({ error: notSentError() });
    };
    // A deadline's verdict waits for the sockets' next read: timers run before the process reads its
    // sockets, so after a busy stretch (a hostile reply's seconds of decoding, a thousand replies at
    // once) a reply or connection that came in time, still waiting in the kernel, would be called
    // missing. One turn of the event loop later it has been read, and settled, if it was there.
    const afterPendingReads = (verdict: () => void) => (): void => {
      setImmediate(() => {
        if (!settled) verdict();
      });
    };
    // With --timeout at or under the connect timeout this one timer is also the connect deadline:
    // a host that never took the connection must not read as a miner whose API hung.
    const onDeadline = (): void =>
      connected
        ? cutShort('timeout', failureMessages.replyTimeout(where, timeoutMs, reader.length))
        : fail('timeout', failureMessages.connectTimeout(where, timeoutMs));
    // One timer at a time (a farm keeps a thousand exchanges in flight): first the connect deadline,
    // then, once connected, what is left of the total one. Most exchanges end before the first fires.
    const startedAt = performance.now();
    const onConnectDeadline = (): void => {
      if (!connected) {
        fail('timeout', failureMessages.connectTimeout(where, connectTimeoutMs));
        return;
      }
      const left = timeoutMs - (performance.now() - startedAt);
      if (left > 0) timer = setTimeout(afterPendingReads(onDeadline), left);
      else onDeadline();
    };
    let timer =
      connectTimeoutMs < timeoutMs
        ? setTimeout(afterPendingReads(onConnectDeadline), connectTimeoutMs)
        : setTimeout(afterPendingReads(onDeadline), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    cancel?.addEventListener('abort', onCancel, { once: true });

    try {
      // No noDelay: the request is one write of < 4 KB, which Nagle never holds (nothing is unacked).
      socket = createConnection({
        host,
        port,
        ...(lookup ? { lookup } : {}),
        onread: {
          buffer: readBuffer,
          callback: (nread: number, buffer: Uint8Array) => {
            if (settled) return false;
            // Within the reply's own cap, the bytes must also fit the budget of all replies in flight.
            if (reader.length + nread <= maxBytes) {
              if (!budget.take(taken, nread)) {
                fail(
                  'too_large',
                  failureMessages.overBudget(where, reader.length + nread, budget.totalBytes),
                );
                return false;
              }
              taken += nread;
            }
            // The buffer is shared by every socket and refilled by the next read: keep a copy
            // (Uint8Array#slice copies; on a Buffer, slice would be a view).
            const state = reader.push(Uint8Array.prototype.slice.call(buffer, 0, nread));
            if (state === 'too_large') fail('too_large', failureMessages.tooLarge(where, maxBytes));
            else if (state === 'complete') settle({ result: { bytes: reader.bytes(), terminated: true } });
            return true;
          },
        },
      });
    } catch (error) {
      fail('unreachable', failureMessages.invalid(where, (error as Error).message), error);
      return;
    }
    socket.on('connect', () => {
      connected = true;
      // One write of the whole request: the server reads it with a single recv() (§1).
      requestSent = true;
      socket?.write(request);
    });
    socket.on('end', () => {
      if (reader.length === 0) fail('empty_reply', failureMessages.empty(where));
      else settle({ result: { bytes: reader.bytes(), terminated: false } });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const kind = kindForSocketError(error.code, connected);
      if (kind === 'reset') cutShort(kind, failureMessages.socket(kind, error.code, where), error);
      else fail(kind, failureMessages.socket(kind, error.code, where), error);
    });
    socket.on('close', () => {
      if (!settled) fail(connected ? 'reset' : 'unreachable', failureMessages.closed(where));
    });
  });
}
