// A `100 Continue` nobody asked for, ahead of the real answer. HTTP/1.1 lets a server (or a reverse
// proxy in front of the collector) send interim 1xx answers before the final one, and a client must
// read past them (RFC 9110 §15.2). undici reads past 102 and 103 but takes a 100 for a broken
// answer ("bad response") and closes the connection: every batch sent through such a server was
// retried for ever, though the collector took it, and never left the outbox (and the audit's
// default-credential check met a miner's web UI as unreachable). The 100s are skipped here, on the
// socket, before undici's parser sees them; the final answer is read as it comes. Used by upload,
// the thermal config pull and the audit's web check.
import type { Readable } from 'node:stream';
import type { buildConnector } from 'undici';

/** Interim heads read past before the answer is handed on as it is (its parser then judges it). */
const MAX_SKIPPED_BYTES = 64 * 1024;

/** What a `100` status line starts with, `x` standing for a digit. */
const CONTINUE_LINE = 'HTTP/x.x 100';

/**
 * Whether `head` (the start of what the server sent) is, or may still become, a `100` status line:
 * 'yes', 'no', or 'maybe' when too little arrived to tell.
 */
function continueLine(head: Buffer): 'yes' | 'no' | 'maybe' {
  const length = Math.min(head.length, CONTINUE_LINE.length + 1);
  for (let i = 0; i < length; i++) {
    const byte = head[i]!;
    if (i === CONTINUE_LINE.length) {
      // After `100`: its reason phrase or the line's end, not another digit (`1000` is no status).
      return byte === 0x20 || byte === 0x0d || byte === 0x0a ? 'yes' : 'no';
    }
    const model = CONTINUE_LINE.charCodeAt(i);
    const fits = model === 0x78 /* x */ ? byte >= 0x30 && byte <= 0x39 : byte === model;
    if (!fits) return 'no';
  }
  return 'maybe';
}

/** Where the head that starts `buffer` ends (after its blank line), or -1 while it has not ended. */
function headEnd(buffer: Buffer): number {
  for (let i = 0; i < buffer.length; i++) {
    if (buffer[i] !== 0x0a) continue;
    // A blank line: `\n\n` or `\n\r\n` (each line may end in CRLF or LF).
    if (buffer[i + 1] === 0x0a) return i + 2;
    if (buffer[i + 1] === 0x0d && buffer[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

/**
 * Makes `socket` drop the `100 Continue` heads that come before the server's answer. It is meant for
 * a connection that carries one request (the sender's do): only the start of what it reads is
 * looked at, and once the first other status line arrives every byte passes untouched.
 */
export function skipInterimContinue<T extends Readable>(socket: T): T {
  const read = socket.read.bind(socket);
  let held = Buffer.alloc(0);
  let skipped = 0;
  let passing = false;
  const handOn = (): Buffer | null => {
    passing = true;
    socket.read = read;
    const rest = held;
    held = Buffer.alloc(0);
    return rest.length > 0 ? rest : read();
  };
  socket.read = ((size?: number): unknown => {
    if (passing) return read(size);
    for (;;) {
      const chunk: unknown = read();
      if (chunk === null) return null; // held bytes wait for more; 'readable' comes with them
      held = Buffer.concat([
        held,
        typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : (chunk as Buffer),
      ]);
      for (;;) {
        const line = continueLine(held);
        if (line === 'no') return handOn();
        if (line === 'maybe') break;
        const end = headEnd(held);
        if (end < 0) {
          if (skipped + held.length > MAX_SKIPPED_BYTES) return handOn();
          break;
        }
        skipped += end;
        held = held.subarray(end);
        if (skipped > MAX_SKIPPED_BYTES) return handOn();
        if (held.length === 0) break;
      }
    }
  }) as T['read'];
  return socket;
}

type Connector = buildConnector.connector;
type ConnectCallback = buildConnector.Callback;

/** The callback of a connect, with the socket it yields made to skip the `100 Continue` heads. */
function readsPastContinue(callback: ConnectCallback): ConnectCallback {
  return (...args) => {
    if (args[0] === null) skipInterimContinue(args[1]);
    callback(...args);
  };
}

/** `connector`, its sockets skipping the `100 Continue` heads (what it returns is passed on). */
export function continueSkippingConnector(connector: Connector): Connector {
  return ((options, callback) =>
    (connector as (...args: Parameters<Connector>) => unknown)(
      options,
      readsPastContinue(callback),
    )) as Connector;
}

/**
 * A ProxyAgent `factory`: the clients it makes for the collector's origin carry their requests on
 * CONNECT tunnels whose sockets skip the `100 Continue` heads too (undici's default factory, with
 * the connect wrapped; a Client: one connection per origin, all the sender and the thermal pull use).
 */
export function continueSkippingFactory(
  Client: typeof import('undici').Client,
): (origin: string | URL, options: object) => import('undici').Client {
  return (origin, options) => {
    const { connect } = options as { connect?: unknown };
    return new Client(origin, {
      ...options,
      ...(typeof connect === 'function' ? { connect: continueSkippingConnector(connect as Connector) } : {}),
    });
  };
}
