// `control capabilities`: what each miner's dialect can do and whether this host may write to it.
// Read-only throughout (CGMINER-API.md §7, §14): `privileged` for write access, `check|<command>`
// for each command an action would send. Nothing is ever tried by sending the write itself.
// Whatsminer has no such probe: its writes need the admin password (token + AES, §13.1), and even
// `get_token` spends one of the 32 tokens an address may hold, so it is not asked at all.
import type { DecodedReply, MinerClient } from '../cgminer/types.js';
import type { Context } from '../context.js';
import { HashctlError, MinerError } from '../errors.js';
import { detect, type Family } from '../miners/detect.js';
import { fetchSnapshot } from '../miners/fetch.js';
import { Replies } from '../miners/replies.js';
import type { Target } from '../targets/types.js';
import { runPool } from '../util/pool.js';
import { supportedActions } from './dialects.js';
import { DIALECT_ACTIONS, type DialectAction } from './types.js';

/**
 * yes: the dialect has it and `check` says this host may run it; denied: exists but not for this
 * host; missing: the miner says the command does not exist; unsupported: the dialect cannot do it;
 * unknown: the miner would not answer `check` (stock Antminer refuses it too).
 */
export type CapabilityStatus = 'yes' | 'denied' | 'missing' | 'unsupported' | 'unknown';

export interface CapabilityResult {
  target: string;
  host: string;
  port: number;
  ok: boolean;
  elapsed_ms: number;
  dialect: Family | null;
  make: string | null;
  model: string | null;
  firmware: { name: string | null; version: string | null } | null;
  /** `privileged`: true (S/46), false (E/45), null (no clear answer). */
  write_access: boolean | null;
  /** Why write access is null where no read-only probe exists (Whatsminer). */
  write_access_note?: string;
  actions: Partial<Record<DialectAction, CapabilityStatus>>;
  /** Why an action is unsupported (or, on Whatsminer, unknown), per action. */
  notes?: Partial<Record<DialectAction, string>>;
  /** The per-target error of hashctl.md §3: kind, message, attempts, and the miner's code and msg. */
  error?: ReturnType<MinerError['toJSON']>;
}

type CheckAnswer = 'yes' | 'denied' | 'missing' | 'unknown';

function isDenied(reply: DecodedReply): boolean {
  return reply.status.code === 45 || /access denied|permission denied/i.test(reply.status.msg ?? '');
}

async function askCheck(
  client: MinerClient,
  target: Target,
  command: string,
  signal: AbortSignal,
): Promise<CheckAnswer> {
  try {
    const reply = await client.request(target, 'check', {
      parameter: command,
      allowErrorStatus: true,
      signal,
    });
    if (!reply.ok) return 'unknown';
    const records = reply.body.CHECK;
    const record = Array.isArray(records) ? (records[0] as Record<string, unknown> | undefined) : undefined;
    if (record?.Exists === 'N') return 'missing';
    if (record?.Access === 'Y') return 'yes';
    if (record?.Access === 'N') return 'denied';
    return 'unknown';
  } catch (error) {
    if (error instanceof MinerError) return 'unknown';
    throw error;
  }
}

async function askPrivileged(
  client: MinerClient,
  target: Target,
  signal: AbortSignal,
): Promise<boolean | null> {
  try {
    const reply = await client.request(target, 'privileged', { allowErrorStatus: true, signal });
    if (reply.ok) return true;
    return isDenied(reply) ? false : null;
  } catch (error) {
    if (error instanceof MinerError) return null;
    throw error;
  }
}

export async function probeCapabilities(
  client: MinerClient,
  target: Target,
  ctx: Pick<Context, 'now' | 'monotonic' | 'signal'>,
): Promise<CapabilityResult> {
  // elapsed_ms on the monotonic clock: a wall clock stepped meanwhile made it an hour, or negative.
  const clock = ctx.monotonic;
  const started = clock();
  const base = { target: target.key, host: target.host, port: target.port };
  let family: Family;
  let snapshot: Awaited<ReturnType<typeof fetchSnapshot>>['snapshot'];
  try {
    const read = await fetchSnapshot(client, target, { signal: ctx.signal });
    snapshot = read.snapshot;
    family = detect(new Replies(read.replies)).family;
  } catch (error) {
    if (!(error instanceof MinerError)) throw error;
    return {
      ...base,
      ok: false,
      elapsed_ms: clock() - started,
      dialect: null,
      make: null,
      model: null,
      firmware: null,
      write_access: null,
      actions: {},
      error: error.toJSON(),
    };
  }
  const plans = supportedActions(family);
  if (family === 'whatsminer') return whatsminerCapabilities(base, started, snapshot, plans, ctx);
  const writeAccess = await askPrivileged(client, target, ctx.signal);
  const answers = new Map<string, CheckAnswer>();
  const actions: Partial<Record<DialectAction, CapabilityStatus>> = {};
  const notes: Partial<Record<DialectAction, string>> = {};
  for (const name of DIALECT_ACTIONS) {
    const plan = plans[name];
    if ('unsupported' in plan) {
      actions[name] = 'unsupported';
      notes[name] = plan.unsupported;
      continue;
    }
    let status: CapabilityStatus = 'yes';
    for (const request of plan.requests) {
      let answer = answers.get(request.command);
      if (answer === undefined) {
        answer = await askCheck(client, target, request.command, ctx.signal);
        answers.set(request.command, answer);
      }
      // The weakest answer of the commands an action needs decides it.
      if (answer === 'missing') status = 'missing';
      else if (answer === 'denied' && status !== 'missing') status = 'denied';
      else if (answer === 'unknown' && status === 'yes')
        status = writeAccess === false ? 'denied' : 'unknown';
    }
    actions[name] = status;
  }
  return {
    ...base,
    ok: true,
    elapsed_ms: clock() - started,
    dialect: family,
    make: snapshot.make,
    model: snapshot.model,
    firmware: snapshot.firmware,
    write_access: writeAccess,
    actions,
    ...(Object.keys(notes).length > 0 ? { notes } : {}),
  };
}

export const WHATSMINER_ACCESS_UNKNOWN =
  'unknown — needs the admin password: Whatsminer takes writes only with a token and AES (and only with its write API enabled); no read-only probe shows either';

/** Whatsminer: what the dialect maps, nothing asked of the miner (see the top of this file). */
function whatsminerCapabilities(
  base: Pick<CapabilityResult, 'target' | 'host' | 'port'>,
  started: number,
  snapshot: Awaited<ReturnType<typeof fetchSnapshot>>['snapshot'],
  plans: ReturnType<typeof supportedActions>,
  ctx: Pick<Context, 'now' | 'monotonic'>,
): CapabilityResult {
  const clock = ctx.monotonic;
  const actions: Partial<Record<DialectAction, CapabilityStatus>> = {};
  const notes: Partial<Record<DialectAction, string>> = {};
  for (const name of DIALECT_ACTIONS) {
    const plan = plans[name];
    if ('unsupported' in plan) {
      actions[name] = 'unsupported';
      notes[name] = plan.unsupported;
    } else {
      actions[name] = 'unknown';
      notes[name] = 'needs the admin password (--admin-password-file); the write API must be enabled';
    }
  }
  return {
    ...base,
    ok: true,
    elapsed_ms: clock() - started,
    dialect: 'whatsminer',
    make: snapshot.make,
    model: snapshot.model,
    firmware: snapshot.firmware,
    write_access: null,
    write_access_note: WHATSMINER_ACCESS_UNKNOWN,
    actions,
    notes,
  };
}

/**
 * Capabilities of every target, in target order. After Ctrl-C, the targets finished are returned
 * and the one cut short is left out, as are those never started.
 */
export async function probeAllCapabilities(
  client: MinerClient,
  targets: Iterable<Target> | AsyncIterable<Target>,
  concurrency: number,
  ctx: Pick<Context, 'now' | 'monotonic' | 'signal'>,
): Promise<CapabilityResult[]> {
  const indexed = async function* (): AsyncGenerator<[number, Target]> {
    let index = 0;
    for await (const target of targets as AsyncIterable<Target>) yield [index++, target];
  };
  const probeOne = async ([index, target]: [number, Target]): Promise<[number, CapabilityResult] | null> => {
    try {
      return [index, await probeCapabilities(client, target, ctx)];
    } catch (error) {
      if (error instanceof HashctlError && error.kind === 'interrupted') return null;
      throw error;
    }
  };
  const out: [number, CapabilityResult][] = [];
  for await (const item of runPool(indexed(), concurrency, probeOne, { signal: ctx.signal }))
    if (item !== null) out.push(item);
  return out.sort((a, b) => a[0] - b[0]).map(([, result]) => result);
}
