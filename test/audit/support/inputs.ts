// Builders for AuditInput fixtures: rules are pure, so their tests need only data.
import { identifyFirmware } from '../../../src/audit/identify.js';
import type { AuditInput, ReadOutcome } from '../../../src/audit/types.js';
import type { MinerErrorKind } from '../../../src/errors.js';

/** A reply body as the client decodes it → the outcome the audit stores. */
export function reply(body: Record<string, unknown>): ReadOutcome {
  const raw = body.STATUS;
  const first = (Array.isArray(raw) ? raw[0] : raw) as Record<string, unknown> | string | undefined;
  if (typeof first === 'string' || first === undefined) {
    return {
      ok: true,
      status: typeof first === 'string' ? first : 'S',
      code: typeof body.Code === 'number' ? body.Code : null,
      msg: null,
      body,
    };
  }
  return {
    ok: true,
    status: String(first.STATUS),
    code: typeof first.Code === 'number' ? first.Code : null,
    msg: typeof first.Msg === 'string' ? first.Msg : null,
    body,
  };
}

export function failure(kind: MinerErrorKind, code: number | null = null): ReadOutcome {
  return { ok: false, error: { kind, message: `failed: ${kind}`, code, msg: null } };
}

export function status(
  letter: string,
  code: number,
  msg: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { STATUS: [{ STATUS: letter, When: 1, Code: code, Msg: msg }], ...extra, id: 1 };
}

export function input(reads: Record<string, ReadOutcome>, extra: Partial<AuditInput> = {}): AuditInput {
  return {
    target: { host: '10.0.0.5', port: 4028, key: '10.0.0.5:4028' },
    address: '10.0.0.5',
    reads,
    identity: identifyFirmware(reads),
    snapshot: null,
    services: null,
    credentials: null,
    ...extra,
  };
}

export function versionReply(version: Record<string, unknown>): ReadOutcome {
  return reply(status('S', 22, 'CGMiner versions', { VERSION: [version] }));
}

export function poolsReply(
  pools: { URL: string; User: string; Status?: string; Priority?: number }[],
): ReadOutcome {
  return reply(
    status('S', 7, `${pools.length} Pool(s)`, {
      POOLS: pools.map((pool, index) => ({
        POOL: index,
        URL: pool.URL,
        User: pool.User,
        Status: pool.Status ?? 'Alive',
        Priority: pool.Priority ?? index,
      })),
    }),
  );
}

export const PRIVILEGED_OK = reply(status('S', 46, 'Privileged access OK'));
export const PRIVILEGED_DENIED = reply(status('E', 45, "Access denied to 'privileged' command"));
export function checkReply(exists: 'Y' | 'N', access: 'Y' | 'N'): ReadOutcome {
  return reply(status('S', 72, 'Check command', { CHECK: [{ Exists: exists, Access: access }] }));
}
