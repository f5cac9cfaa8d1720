// Which requests carry an action on each firmware family (CGMINER-API.md §5.2, §5.3, §8), and how
// the result is read back. A family that cannot do an action gets a reason instead of a plan: the
// action is reported `unsupported` for that miner and never attempted.
import { addpoolParameter, ascsetParameter, buildRequest } from '../cgminer/escape.js';
import { UsageError } from '../errors.js';
import type { Family } from '../miners/detect.js';
import type { Pool, Snapshot } from '../miners/types.js';
import { quoted } from '../output/terminal.js';
import type { ControlAction, DialectAction, PlannedRequest, PoolUse } from './types.js';

/** Stands for the LuxOS session id in a plan; the real one comes from `logon` at send time. */
export const SESSION_PLACEHOLDER = '{session}';
/** A syntactically plausible session id, to ask the encoder whether a session request can be built. */
const SAMPLE_SESSION = 'aB3dE5gH';

export type PlanOutcome = { requests: PlannedRequest[] } | { unsupported: string };

const UPSTREAM_FAMILIES: ReadonlySet<Family> = new Set([
  'antminer',
  'antminer-aftermarket',
  'innosilicon',
  'sealminer',
  'generic',
  'avalon',
]);

/** The upstream command and parameter of a pool action or restart (no session, no vendor twist). */
function upstreamRequest(action: ControlAction): { command: string; parameter?: string } {
  switch (action.name) {
    case 'switchpool':
    case 'enablepool':
    case 'disablepool':
    case 'removepool':
      return { command: action.name, parameter: String(action.pool) };
    case 'addpool':
      return { command: 'addpool', parameter: addpoolParameter(action.url, action.user, action.password) };
    case 'restart':
      return { command: 'restart' };
    default:
      throw new Error(`no upstream request for ${action.name}`);
  }
}

/** Throws UsageError when the request cannot be encoded safely (before any traffic). */
function checked(command: string, parameter?: string): { command: string; parameter?: string } {
  buildRequest(command, parameter);
  return parameter === undefined ? { command } : { command, parameter };
}

function write(command: string, parameter?: string): PlannedRequest {
  return parameter === undefined ? { command, role: 'write' } : { command, parameter, role: 'write' };
}

/**
 * Validates what every dialect shares before any traffic: the upstream encoding of pool actions
 * (an addpool URL with a control character is refused here, exit 2).
 */
export function validateAction(action: ControlAction): void {
  if (action.name === 'raw') {
    validateRaw(action.command, action.parameter);
    return;
  }
  if (action.name === 'restart' || action.name === 'pause' || action.name === 'resume') return;
  if (action.name === 'addpool') {
    // Each field is checked on its own first, so that a refusal names the field and never quotes
    // the encoded parameter (which carries the password).
    for (const [label, value] of [
      ['pool URL', action.url],
      ['pool user', action.user],
      ['password', action.password],
    ] as const) {
      const problem = addpoolFieldProblem(value);
      if (problem !== null) throw new UsageError(`cannot send addpool: the ${label} ${problem}`);
    }
    if (action.url === '') throw new UsageError('cannot send addpool: the pool URL is empty');
    const urlProblem = poolUrlProblem(action.url, action.user);
    if (urlProblem !== null) throw new UsageError(`cannot send addpool: ${urlProblem}`);
    if (action.password === '')
      throw new UsageError('cannot send addpool: cgminer rejects an empty password; use x');
  }
  const { command, parameter } = upstreamRequest(action);
  try {
    checked(command, parameter);
  } catch (error) {
    throw action.name === 'addpool' ? unquoted(error, command) : error;
  }
}

/** `scheme://` then the authority: credentials, host and port, up to the path. */
const POOL_URL = /^[a-z][a-z0-9+.-]*:\/\/([^/\s]*)/i;

/**
 * Whether `url` is `scheme://` and at least a host (stratum+tcp, stratum+ssl, stratum2+tcp, http
 * for GBT, …), after any `user:pass@`: `stratum+tcp://:3333` (`stratum+tcp://$POOL:3333` with POOL
 * unset) names none.
 */
function hasHost(url: string): boolean {
  const authority = POOL_URL.exec(url.trim())?.[1];
  if (authority === undefined) return false;
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  return host !== '' && !host.startsWith(':');
}

/**
 * Why an addpool URL would make a pool no miner can use, or null. cgminer takes stratum only from a
 * `stratum+tcp://` URL given to addpool (a bare `host:port` is neither stratum nor http there), and
 * a URL without `://` is most often the worker name given first: each miner would list (and the
 * read-back verify) a pool that never connects.
 */
export function poolUrlProblem(url: string, user: string): string | null {
  if (hasHost(url)) return null;
  const swapped = hasHost(user) ? ' (URL and USER swapped? the URL comes first)' : '';
  // Credentials in it (`farm:pw@host:3333`, no scheme) are not repeated: only what follows them.
  const at = url.lastIndexOf('@');
  const shown = at === -1 ? url : `***${url.slice(at)}`;
  return `the pool URL '${quoted(shown)}' is not scheme://host[:port], e.g. stratum+tcp://pool.example.com:3333${swapped}`;
}

// As src/cgminer/escape.ts refuses them: C0 and C1 controls and DEL, and lone UTF-16 surrogates.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * What is wrong with one addpool field (URL, user or password), worded to follow the field's
 * name and never quoting its value; null when it can be sent. LuxOS (and Avalon's setpool) split
 * parameters on every comma with no escape (§6): a comma or backslash in a field would shift the
 * fields that follow, so those are refused for every miner up front.
 */
export function addpoolFieldProblem(value: string): string | null {
  if (CONTROL.test(value)) return 'contains a control character';
  if (LONE_SURROGATE.test(value)) return 'is not valid Unicode';
  if (/[,\\|]/.test(value)) return "contains ',', '\\' or '|', which miners split on";
  return null;
}

/**
 * The encoder's refusals quote the parameter ("cannot send CMD with parameter '…': WHY"); where it
 * carries a password, keep only the reason (no reason contains "': ").
 */
export function unquoted(error: unknown, command: string): unknown {
  const quoted = `cannot send ${command} with parameter '`;
  if (!(error instanceof UsageError) || !error.message.startsWith(quoted)) return error;
  const why = error.message.slice(error.message.lastIndexOf("': ") + 3);
  return new UsageError(
    `cannot send ${command}: ${why} (the parameter is not shown: it may carry a password)`,
  );
}

/**
 * How to send COMMAND as a write, for a pointer in another command's refusal (probe): `control raw`,
 * except an addpool, which raw refuses (its password would come from a flag).
 */
export function controlInvocation(command: string): string {
  return command.split('+').includes('addpool')
    ? '`hashctl control addpool URL USER TARGETS --password-file FILE`'
    : `\`hashctl control raw ${command} TARGETS\``;
}

/**
 * raw sends anything the encoder accepts, except an addpool: its password would come from --param
 * (shell history, `ps`), and passwords come only from a file or an echo-off prompt. The encoder's
 * refusals quote the parameter: where it carries a password, only the reason is kept.
 */
function validateRaw(command: string, parameter: string | undefined): void {
  if (command.split('+').includes('addpool')) {
    throw new UsageError(
      `raw addpool would take the pool password from a flag: use ${controlInvocation(command)}`,
    );
  }
  try {
    buildRequest(command, parameter);
  } catch (error) {
    // Never quoted in raw: a multi-command (`update_pwd+summary`) or a command hashctl does not
    // know may carry a password in a place redactRawParameter cannot see; the user typed it anyway.
    if (parameter === undefined) throw error;
    throw unquoted(error, command);
  }
}

/** The requests that carry `action` on `family`, or why it cannot be done there. */
export function planAction(action: ControlAction, family: Family, nowMs: number): PlanOutcome {
  if (action.name === 'raw') return { requests: [write(action.command, action.parameter)] };
  if (family === 'whatsminer') return planWhatsminer(action);
  if (family === 'luxos') return planLuxos(action);
  if (family === 'braiins') {
    if (action.name === 'pause' || action.name === 'resume') return { requests: [write(action.name)] };
    if (action.name === 'restart')
      return { unsupported: 'Braiins OS documents no restart command in its API' };
    const { command, parameter } = upstreamRequest(action);
    return { requests: [write(command, parameter)] };
  }
  if (family === 'avalon' && (action.name === 'pause' || action.name === 'resume')) {
    const option = action.name === 'pause' ? 'softoff' : 'softon';
    const parameter = ascsetParameter(0, option, `1:${Math.floor(nowMs / 1000)}`);
    return { requests: [write('ascset', parameter)] };
  }
  if (UPSTREAM_FAMILIES.has(family)) {
    if (action.name === 'pause' || action.name === 'resume') {
      return { unsupported: `this firmware (${family}) has no ${action.name} in its API` };
    }
    const { command, parameter } = upstreamRequest(action);
    return { requests: [write(command, parameter)] };
  }
  return { unsupported: `no control mapping for firmware family ${family}` };
}

/** Why pool actions stay unsupported on Whatsminer. */
export const WHATSMINER_POOLS_UNSUPPORTED =
  'btminer changes pools only with update_pools, which rewrites all three pools with their passwords; its pools reply shows no passwords, so a read-modify-write would reset them';

/**
 * Whatsminer v2: `get_token`, then the encrypted write (§8.5, §13.1). `power_off` asks for the
 * reply before the boards stop (`respbefore` true, as pyasic and asic-rs send it), so the
 * acknowledgment arrives; the read-back then confirms the stop.
 */
function planWhatsminer(action: Exclude<ControlAction, { name: 'raw' }>): PlanOutcome {
  const encrypted = (command: string, fields: Record<string, string> = {}): PlanOutcome => ({
    requests: [
      { command: 'get_token', role: 'token' },
      { command, whatsminer: { fields }, role: 'write' },
    ],
  });
  switch (action.name) {
    case 'pause':
      return encrypted('power_off', { respbefore: 'true' });
    case 'resume':
      return encrypted('power_on');
    case 'restart':
      return encrypted('restart_btminer');
    default:
      return { unsupported: WHATSMINER_POOLS_UNSUPPORTED };
  }
}

/**
 * LuxOS: `logon` → session id → the write with the id as first field → `logoff` (§8.4). LUXminer
 * has no upstream `restart`: its mining process restarts with `resetminer <session>` (§5.3; what
 * Luxor's own tools, pyasic and asic-rs send), so `restart` was answered "Invalid command".
 */
function planLuxos(action: Exclude<ControlAction, { name: 'raw' }>): PlanOutcome {
  let command: string;
  let rest: string | undefined;
  if (action.name === 'pause' || action.name === 'resume') {
    command = 'curtail';
    rest = action.name === 'pause' ? 'sleep' : 'wakeup';
  } else if (action.name === 'restart') {
    command = 'resetminer';
  } else {
    const upstream = upstreamRequest(action);
    command = upstream.command;
    rest = upstream.parameter;
  }
  const parameter = rest === undefined ? SESSION_PLACEHOLDER : `${SESSION_PLACEHOLDER},${rest}`;
  // Refuses (UsageError, exit 2) what cannot be encoded, before any traffic.
  buildRequest(command, parameter.replace(SESSION_PLACEHOLDER, SAMPLE_SESSION), { sessionPrefixed: true });
  return {
    requests: [
      { command: 'logon', role: 'session-open' },
      { command, parameter, role: 'write', sessionPrefixed: true },
      { command: 'logoff', parameter: SESSION_PLACEHOLDER, role: 'session-close' },
    ],
  };
}

/** The actions `family` can do, for `control capabilities`. */
export function supportedActions(family: Family): Record<DialectAction, PlanOutcome> {
  const sample: Record<DialectAction, ControlAction> = {
    restart: { name: 'restart' },
    switchpool: { name: 'switchpool', pool: 0 },
    enablepool: { name: 'enablepool', pool: 0 },
    disablepool: { name: 'disablepool', pool: 0 },
    removepool: { name: 'removepool', pool: 0 },
    addpool: { name: 'addpool', url: 'stratum+tcp://pool.invalid:3333', user: 'worker', password: 'x' },
    pause: { name: 'pause' },
    resume: { name: 'resume' },
  };
  const out = {} as Record<DialectAction, PlanOutcome>;
  for (const [name, action] of Object.entries(sample) as [DialectAction, ControlAction][]) {
    out[name] = planAction(action, family, 0);
  }
  return out;
}

// ---------------------------------------------------------------------------------------- read-back

export interface Baseline {
  snapshot: Snapshot | null;
  /** When the baseline was read (ms). */
  readAt: number;
}

export interface ReadBack {
  confirmed: boolean;
  detail: string;
  /** Pool actions: the pool acted on and the one in use, as the read-back lists them. */
  pool?: PoolUse;
  /** The change shows, yet not what it was for (a pool switched to that is Dead, …). */
  warning?: string;
  /** Not confirmed, and no later read can confirm it as things stand: the read-back stops here. */
  final?: boolean;
}

function poolAt(pools: Pool[], index: number): Pool | undefined {
  return pools.find((pool) => pool.index === index);
}

/**
 * A pool URL or user as a miner lists it back: the snapshot trims what the miner sends, and
 * firmwares drop invisible format characters (zero-width space, bidi marks), so the text the user
 * typed is compared in that form (or a pool added with a trailing space never reads back).
 */
function listedForm(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\p{Cf}/gu, '')
    .trim();
}

function sameEndpoint(a: Pool, url: string, user: string | null): boolean {
  return (
    listedForm(a.url) === listedForm(url) &&
    (user === null || (a.user !== null && listedForm(a.user) === listedForm(user)))
  );
}

function isDisabled(pool: Pool): boolean {
  return (pool.status ?? '').toLowerCase() === 'disabled';
}

function hasStatus(pool: Pool): pool is Pool & { status: string } {
  return pool.status !== null && pool.status.trim() !== '';
}

/**
 * Where `pool` stands after a pool action: its status, whether the miner mines on it (the alive,
 * enabled pool with the lowest priority, CGMINER-API.md §15) and which pool it mines on. Null when
 * no listed pool has a status: nothing then tells which pool is in use.
 */
function poolUse(pool: Pool | null, pools: Pool[]): PoolUse | null {
  if (!pools.some(hasStatus)) return null;
  const active = pools.find((p) => p.active) ?? null;
  return {
    index: pool?.index ?? null,
    status: pool?.status ?? null,
    in_use: pool?.active === true,
    active: active?.index ?? null,
  };
}

/** What the miner mines on, for a warning: "the miner mines on pool 0", or that it mines on none. */
function minesOn(use: PoolUse): string {
  return use.active === null
    ? 'no pool is in use (no enabled pool is alive)'
    : `the miner mines on pool ${use.active}`;
}

/**
 * The warning a confirmed pool action carries when its aim is not met: switchpool to a pool the
 * miner does not mine on (Dead: it moves there only once the pool is alive), an enabled or added
 * pool that reads Dead (or Rejecting), any pool action that leaves no pool in use.
 */
function poolWarning(action: ControlAction, use: PoolUse | null): string | undefined {
  if (use === null) return undefined;
  const state = use.status === null ? '' : `${use.status.trim()} `;
  if (action.name === 'switchpool' && use.index !== null && !use.in_use)
    return `pool ${use.index} is ${state}and not in use: ${minesOn(use)}${use.status !== null && use.status.trim().toLowerCase() !== 'alive' ? ` (it moves to pool ${use.index} once that pool is alive)` : ''}`;
  const unusable = use.status !== null && !['alive', 'disabled'].includes(use.status.trim().toLowerCase());
  if ((action.name === 'enablepool' || action.name === 'addpool') && use.index !== null && unusable)
    return `pool ${use.index} is ${use.status?.trim()}: unusable until it is alive; ${minesOn(use)}`;
  if (use.active === null) return minesOn(use);
  return undefined;
}

/** A confirmed pool action's read-back, with where the pool stands and the warning if any. */
function withPoolUse(action: ControlAction, result: ReadBack, pool: Pool | null, pools: Pool[]): ReadBack {
  if (!result.confirmed) return result;
  const use = poolUse(pool, pools);
  if (use === null) return result;
  const warning = poolWarning(action, use);
  return { ...result, pool: use, ...(warning === undefined ? {} : { warning }) };
}

/**
 * Whether `after` shows the action done. `sentAt` is when the write left (a restart must have
 * booted after it). Returns null when the action has no read-back (raw).
 */
export function readBack(
  action: ControlAction,
  family: Family | null,
  baseline: Baseline,
  after: Snapshot,
  sentAt: number,
  now: number,
): ReadBack | null {
  switch (action.name) {
    case 'raw':
      return null;
    case 'switchpool': {
      const pool = poolAt(after.pools, action.pool);
      if (!pool) return { confirmed: false, detail: `pool ${action.pool} is not listed` };
      // Priority 0 is what switchpool sets. "Active" alone may be failover (the first pool down),
      // which the miner shows whatever it did with the command: only a miner without priorities
      // is judged by it.
      const confirmed = pool.priority === null ? pool.active : pool.priority === 0;
      // Without priorities only the pool in use shows a switch, and only an alive pool is in use:
      // one that reads Dead or Disabled (or with no status) cannot show it however long the
      // read-back waits, which held a field engineer for the whole --verify-timeout to say `unknown`.
      const state = hasStatus(pool) ? pool.status.trim() : null;
      if (
        !confirmed &&
        pool.priority === null &&
        (state === null || ['dead', 'disabled'].includes(state.toLowerCase()))
      ) {
        const use = poolUse(pool, after.pools);
        const warning = use === null ? undefined : poolWarning(action, use);
        return {
          confirmed: false,
          final: true,
          detail: `pool ${action.pool} reads ${state ?? 'with no status'} and the miner lists no priorities: only the alive pool in use could show the switch, so it cannot show`,
          ...(use === null ? {} : { pool: use }),
          ...(warning === undefined ? {} : { warning }),
        };
      }
      return withPoolUse(
        action,
        {
          confirmed,
          detail: `pool ${action.pool} priority ${pool.priority ?? '?'}${pool.active ? ', active' : ''}`,
        },
        pool,
        after.pools,
      );
    }
    case 'enablepool':
    case 'disablepool': {
      const pool = poolAt(after.pools, action.pool);
      if (!pool) return { confirmed: false, detail: `pool ${action.pool} is not listed` };
      // A pool listed without a status says nothing either way: read as "not disabled", it
      // verified every enablepool that the miner answered S, done or not.
      if (pool.status === null || pool.status.trim() === '')
        return { confirmed: false, detail: `pool ${action.pool} is listed with no status` };
      const wantDisabled = action.name === 'disablepool';
      return withPoolUse(
        action,
        {
          confirmed: isDisabled(pool) === wantDisabled,
          detail: `pool ${action.pool} status ${pool.status ?? '?'}`,
        },
        pool,
        after.pools,
      );
    }
    case 'addpool': {
      const before = (baseline.snapshot?.pools ?? []).filter((p) =>
        sameEndpoint(p, action.url, action.user),
      ).length;
      const found = after.pools.filter((p) => sameEndpoint(p, action.url, action.user));
      const confirmed = found.length > before;
      const where = found.map((p) => p.index).join(',');
      // The newest of those listed (the highest index) is the one added.
      const added = found.reduce<Pool | null>((a, p) => (a === null || p.index > a.index ? p : a), null);
      return withPoolUse(
        action,
        { confirmed, detail: confirmed ? `pool listed as ${where}` : 'the new pool is not listed' },
        added,
        after.pools,
      );
    }
    case 'removepool': {
      const was = baseline.snapshot ? poolAt(baseline.snapshot.pools, action.pool) : undefined;
      if (!was || !baseline.snapshot) {
        // Nothing says which pool went.
        return {
          confirmed: false,
          detail: `pool ${action.pool} was not listed before the write: which pool went cannot be told`,
        };
      }
      // No pool listed after it is a pools read that failed (a miner keeps its last pool), not
      // the pool gone: it was verified whenever the read-back's pools read failed.
      if (after.pools.length === 0)
        return { confirmed: false, detail: 'no pools listed (a removepool leaves at least one): not read' };
      const count = (pools: Pool[]) => pools.filter((p) => sameEndpoint(p, was.url, was.user)).length;
      const confirmed = count(after.pools) < count(baseline.snapshot.pools);
      return withPoolUse(
        action,
        { confirmed, detail: confirmed ? `pool '${was.url}' is gone` : `pool '${was.url}' is still listed` },
        null,
        after.pools,
      );
    }
    case 'restart': {
      if (after.uptime_s === null) return { confirmed: false, detail: 'the miner reports no uptime' };
      const bootedAt = now - after.uptime_s * 1000;
      const before = baseline.snapshot?.uptime_s;
      // A restart happens after it is sent: the uptime must count from then (2 s for the rounding
      // of whole seconds). Comparing with the boot time read before was not enough: an uptime
      // frozen at 50474 s moves that "boot" forward with the clock, and read as a restart.
      // An uptime that read the same before and after is a counter that does not count (a
      // placeholder 0, a stuck figure), or the old process still answering: every read of it claims
      // a boot just now, so the read-back's proves nothing. However little time went by: the first
      // read-back comes right after the write, and waiting for 2 s between the reads before saying
      // so `verified` a restart the miner never made, on "uptime 0s (was 0s)". A miner that did
      // restart shows a different figure at a later read.
      if (before === after.uptime_s) {
        return {
          confirmed: false,
          detail: `uptime ${before}s did not move between reads: it cannot show a restart`,
        };
      }
      // And the boot must be another than the one the first read showed: two reads of one boot put
      // it at most a second or so apart (whole seconds), so a miner up a second when first read,
      // which never restarted, showed a boot "after the write" at its next whole second.
      const bootedBefore = before === null || before === undefined ? null : baseline.readAt - before * 1000;
      const confirmed = bootedAt > sentAt - 2000 && (bootedBefore === null || bootedAt - bootedBefore > 2000);
      return {
        confirmed,
        detail: `uptime ${after.uptime_s}s${before !== null && before !== undefined ? ` (was ${before}s)` : ''}`,
      };
    }
    case 'pause':
    case 'resume': {
      const state = after.state ?? 'unknown';
      const hashing = (after.hashrate.current_hs ?? 0) > 0;
      if (action.name === 'pause') {
        // Braiins OS reports no sleep flag: a paused miner is one whose current rate reads 0. Not
        // its state: that counts the average since the start, which a paused miner keeps for
        // hours, as cgminer does (a rate not read is no proof either).
        const confirmed = state === 'sleeping' || (family === 'braiins' && after.hashrate.current_hs === 0);
        return { confirmed, detail: `state ${state}${hashing ? ', hashing' : ', not hashing'}` };
      }
      // Hashing again is the proof. Not the state: "mining" is read from the average since the
      // start as well, which a paused miner keeps for hours (Braiins OS, which writes no sleep flag,
      // read as resumed while its current rate still said 0).
      const confirmed = state !== 'sleeping' && hashing;
      return { confirmed, detail: `state ${state}${hashing ? ', hashing' : ', not hashing'}` };
    }
  }
}
