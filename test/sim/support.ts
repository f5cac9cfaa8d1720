// Test-only helpers: a bare TCP client and a lenient reader. Deliberately independent of
// src/cgminer, so a bug there cannot hide a bug in the simulator.
import net from 'node:net';

export interface RawReply {
  bytes: Buffer;
  /** How the exchange ended: the server closed, reset, refused, or our deadline passed. */
  end: 'closed' | 'reset' | 'refused' | 'deadline';
}

export function exchange(
  port: number,
  request: string,
  host = '127.0.0.1',
  deadlineMs = 3000,
  halfClose = false,
): Promise<RawReply> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = net.connect({ host, port });
    const finish = (end: RawReply['end']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), end });
    };
    const timer = setTimeout(() => finish('deadline'), deadlineMs);
    // halfClose: send and shut our side at once, as many clients do (`echo … | nc`).
    socket.on('connect', () => (halfClose ? socket.end(request) : socket.write(request)));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => finish('closed'));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish(error.code === 'ECONNREFUSED' ? 'refused' : 'reset'),
    );
  });
}

/** Lenient reader: strip NUL, insert the missing comma of `}{`, then JSON.parse. */
export function lenient(bytes: Buffer | string): Record<string, unknown> {
  let text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  text = text.replace(/\0+$/, '').replace(/}{/g, '},{');
  return JSON.parse(text) as Record<string, unknown>;
}

/** Repairs the §12 malformations the simulator's fault injection produces. */
export function repair(bytes: Buffer): Record<string, unknown> {
  let text = bytes.toString('utf8').replace(/\0+$/, '');
  text = text
    .replace(/}{/g, '},{')
    .replace(/,\s*([}\]])/g, '$1')
    .replace(/:\s*-?nan\b/g, ':null');
  text = text.replace(/\n/g, '\\n');
  // Cut junk after the balanced top-level object.
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) {
        text = text.slice(0, i + 1);
        break;
      }
    }
  }
  return JSON.parse(text) as Record<string, unknown>;
}

export async function ask(
  port: number,
  command: string,
  parameter?: string,
  extra: Record<string, unknown> = {},
  host = '127.0.0.1',
): Promise<Record<string, unknown>> {
  const request = JSON.stringify(
    parameter === undefined ? { command, ...extra } : { command, parameter, ...extra },
  );
  const reply = await exchange(port, request, host);
  if (reply.end !== 'closed') throw new Error(`no reply from port ${port}: ${reply.end}`);
  return lenient(reply.bytes);
}

type StatusRecord = { STATUS: string; Code: number; Msg: string };

/** The STATUS of a standard reply (array form) or a flat one. */
export function statusOf(reply: Record<string, unknown>): StatusRecord {
  const s = reply.STATUS;
  if (Array.isArray(s)) return s[0] as StatusRecord;
  return reply as unknown as StatusRecord;
}

export function section<T = Record<string, unknown>>(reply: Record<string, unknown>, name: string): T[] {
  const value = reply[name];
  if (!Array.isArray(value))
    throw new Error(`reply has no ${name} section: ${JSON.stringify(reply).slice(0, 200)}`);
  return value as T[];
}

/** Firmware family as a client would tell it from the `version` reply alone (§11). */
export function familyFromVersion(reply: Record<string, unknown>): string {
  if (
    typeof reply.STATUS === 'string' &&
    reply.Msg === 'invalid cmd' &&
    String(reply.Description).startsWith('whatsminer')
  ) {
    return 'whatsminer';
  }
  const v = section(reply, 'VERSION')[0] ?? {};
  const type = String(v.Type ?? '');
  if ('LUXminer' in v) return 'luxos';
  if ('BOSminer' in v || 'BOSminer+' in v) return 'braiins';
  if ('PROD' in v) return 'avalon';
  if (/vnish/i.test(type)) return 'vnish';
  if (/hiveon/i.test(type)) return 'hiveon';
  if (type.startsWith('Antminer')) return 'antminer';
  if ('CGMiner' in v) return 'cgminer';
  return 'unknown';
}
