// One miner → one Snapshot with the fewest round trips. First contact asks one joined request that
// covers what every family reads (`version+summary+stats+pools+devs` plus the vendor reads as
// probes), detects the dialect, then asks only what that dialect still lacks (nothing, where the
// firmware joins). A DialectCache remembers per target what to ask, so later cycles go straight to
// one request with the right set and skip the static replies (Whatsminer `get_version`) until the
// miner reboots or they grow old.
import { PollHold, type ReplyBudget } from '../cgminer/budget.js';
import { errorFromStatus } from '../cgminer/client.js';
import type { DecodedReply, MinerClient, PollState, ReplyHold } from '../cgminer/types.js';
import { MinerError, type MinerErrorKind } from '../errors.js';
import type { Target } from '../targets/types.js';
import { detect, type Family, type Identity, withAlgorithm } from './detect.js';
import { MAX_PLAUSIBLE_UPTIME_S, normalize } from './normalize.js';
import { misaddressed, Replies, type ReplyMap } from './replies.js';
import type { Snapshot } from './types.js';
import { counter, records, str } from './values.js';

/** What first contact asks any miner; asked one by one where the miner refuses joins. */
export const FIRST_CONTACT = ['version', 'summary', 'stats', 'pools', 'devs'];

/**
 * Asked on first contact only inside the join (never alone): the reads some families need beyond
 * FIRST_CONTACT. A firmware without one answers that member E/14, which costs nothing; a family
 * that does not use one never sees it (it would read as a warning in the snapshot).
 */
export const FIRST_CONTACT_PROBES = [
  'devdetails',
  'edevs',
  'config',
  'coin',
  'fans',
  'temps',
  'power',
  'tempctrl',
];

/** Vendor reads outside upstream's joinable set that Braiins OS and LuxOS answer inside a join (§4). */
const VENDOR_JOINS = ['fans', 'temps', 'power', 'tempctrl'];

interface Plan {
  /** cgminer-style commands; the client joins what can be joined. */
  commands: string[];
  /** Vendor reads in `commands` this firmware answers inside a join (CGMINER-API.md §4). */
  joins?: string[];
  /** Whatsminer native commands asked every cycle (never joinable). */
  natives?: string[];
  /** Replies that do not change while the miner runs: asked on first contact and after a reboot. */
  statics?: string[];
  /** Reads in `commands` asked only inside a join: a miner that refuses joins is not asked them alone. */
  optional?: string[];
}

const PLANS: Record<Family, Plan> = {
  antminer: { commands: ['version', 'summary', 'stats', 'pools'] },
  'antminer-aftermarket': { commands: ['version', 'summary', 'stats', 'pools'] },
  // `tempctrl`: the firmware's own thermal limits, so that collect judges these miners by the
  // limits `thermal check` reads too (thermal-facts §3.1; a report, read-only).
  braiins: {
    commands: ['version', 'summary', 'pools', 'devs', 'devdetails', 'fans', 'temps', 'tempctrl'],
    joins: ['fans', 'temps', 'tempctrl'],
  },
  luxos: {
    commands: [
      'version',
      'summary',
      'stats',
      'pools',
      'devs',
      'config',
      'temps',
      'fans',
      'power',
      'tempctrl',
    ],
    joins: ['temps', 'fans', 'power', 'tempctrl'],
  },
  whatsminer: {
    commands: ['summary', 'pools', 'edevs', 'devdetails'],
    natives: ['status'],
    statics: ['get_version'],
  },
  avalon: { commands: ['version', 'summary', 'stats', 'pools', 'devs'] },
  // `coin` names the hash method, which decides the unit of Innosilicon's MHS fields.
  innosilicon: { commands: ['summary', 'stats', 'pools', 'devs', 'coin'] },
  sealminer: { commands: ['version', 'summary', 'stats', 'pools'] },
  // `devdetails` names what some of them are (Auradine's Model, Goldshell's board driver): asked every
  // poll, so the make and model do not come and go; a cgminer without it answers E/14 in the join,
  // and one that refuses joins is not asked it at the cost of a request of its own.
  generic: { commands: [...FIRST_CONTACT, 'devdetails'], optional: ['devdetails'] },
};

/**
 * A plan's read, and the upstream one that carries the same records for a firmware without it: an
 * old btminer (M20S, 2020-09) answers `devs` but E/14 to `edevs`.
 */
const STAND_INS: Record<string, string> = { edevs: 'devs' };

/** The plan's commands, each read this poll through its stand-in asked in its place. */
function withStandIns(commands: string[], replies: ReplyMap): string[] {
  return commands.map((command) => {
    const standIn = STAND_INS[command];
    if (standIn === undefined || replies[command] !== undefined) return command;
    const reply = replies[standIn];
    return reply !== undefined && isOk(reply) ? standIn : command;
  });
}

/** Every command a known miner of this family is asked (cgminer-style, native and static). */
export function planCommands(family: Family): string[] {
  const plan = PLANS[family];
  return [...plan.commands, ...(plan.natives ?? []), ...(plan.statics ?? []), 'get_error_code'];
}

/** Static replies are asked again at least this often, in case a change went unnoticed. */
const STATIC_REFRESH_CYCLES = 60;

export interface DialectEntry {
  family: Family;
  /** The miner refused `a+b` joins (at first contact, or later): ask one command per request. */
  singles: boolean;
  commands: string[];
  /** Vendor reads the client may join for this miner. */
  joins: string[];
  statics: Record<string, DecodedReply>;
  cyclesSinceStatics: number;
  lastUptime: number | null;
  /** When the statics were asked (ms), and when the miner had booted then (now − uptime): kept in the store. */
  staticsAt: number | null;
  bootedAt: number | null;
  /**
   * What the miner was read as last (make, model, firmware): a poll whose own evidence failed is
   * read as that, since the unit of some fields depends on the model (an L3+'s `GHS 5s` is MH/s).
   */
  identity?: Identity;
}

/** target key → what worked for that miner last time. */
export type DialectCache = Map<string, DialectEntry>;

export function createDialectCache(): DialectCache {
  return new Map();
}

/**
 * What the store keeps of an entry (miners.dialect): `antminer`, or `antminer singles BOOT` where
 * BOOT is when the miner had booted (Unix seconds) as the refusal was learned. A later boot time
 * means the firmware may have been updated, so the next poll tries a join again: without it a cron
 * run (a new process) could not tell a reboot for the families that store no static replies.
 */
export function dialectHint(entry: DialectEntry | undefined): string | null {
  if (entry === undefined) return null;
  const base = !entry.singles
    ? entry.family
    : entry.bootedAt === null
      ? `${entry.family} singles`
      : `${entry.family} singles ${Math.round(entry.bootedAt / 1000)}`;
  return base + standInWords(entry);
}

/**
 * ` edevs=devs` for each read of the plan this miner is asked through its stand-in: kept in the
 * hint, so that a cron run asks the stand-in alone rather than the read it lacks and then the
 * stand-in (one request more per poll, every poll).
 */
function standInWords(entry: DialectEntry): string {
  let words = '';
  for (const command of PLANS[entry.family].commands) {
    const standIn = STAND_INS[command];
    if (standIn !== undefined && !entry.commands.includes(command) && entry.commands.includes(standIn))
      words += ` ${command}=${standIn}`;
  }
  return words;
}

/** Stored static replies are asked again when older than this (a cron cycle a minute: 60 cycles). */
export const STATIC_MAX_AGE_MS = 60 * 60_000;
/** Boot times further apart than this mean the miner rebooted (uptime and clocks are read seconds apart). */
const REBOOT_SLACK_MS = 120_000;

/** What the store keeps of an entry's static replies (miners.dialect_statics), or null when it has none. */
export function dialectStatics(entry: DialectEntry | undefined): string | null {
  if (entry === undefined || entry.staticsAt === null || Object.keys(entry.statics).length === 0) return null;
  return JSON.stringify({ at: entry.staticsAt, booted_at: entry.bootedAt, replies: entry.statics });
}

function isStoredReply(value: unknown): value is DecodedReply {
  if (typeof value !== 'object' || value === null) return false;
  const reply = value as Record<string, unknown>;
  return (
    reply.ok === true &&
    typeof reply.body === 'object' &&
    reply.body !== null &&
    typeof reply.status === 'object' &&
    reply.status !== null &&
    Array.isArray(reply.repairs)
  );
}

/** The stored statics if they are whole, fresh and of this plan; anything else is asked again. */
function storedStatics(
  json: string | null | undefined,
  names: readonly string[],
  now: number,
): { statics: Record<string, DecodedReply>; at: number; bootedAt: number | null } | null {
  if (!json || names.length === 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { at, booted_at: bootedAt, replies } = parsed as Record<string, unknown>;
  if (typeof at !== 'number' || !(now - at >= 0 && now - at < STATIC_MAX_AGE_MS)) return null;
  if (bootedAt !== null && typeof bootedAt !== 'number') return null;
  if (typeof replies !== 'object' || replies === null) return null;
  const statics: Record<string, DecodedReply> = {};
  for (const name of names) {
    const reply = (replies as Record<string, unknown>)[name];
    if (!isStoredReply(reply) || reply.command !== name) return null;
    statics[name] = reply;
  }
  return { statics, at, bootedAt };
}

/**
 * Seeds the cache from a stored hint, so a cron run's first cycle asks the dialect's own commands
 * (no first-contact probe), and, with `staticsJson`, reuses static replies (Whatsminer `get_version`)
 * asked less than an hour ago unless the miner rebooted since. An unknown or damaged hint is ignored
 * (first contact); a wrong one costs one extra request, since a family that does not match what the
 * miner answers sends fetchSnapshot back to first contact.
 */
export function seedDialect(
  cache: DialectCache,
  key: string,
  hint: string,
  staticsJson: string | null = null,
  now: number = Date.now(),
  /** What the store holds of the miner from its last good poll. */
  known: Omit<Identity, 'algorithm' | 'family'> | null = null,
): boolean {
  // `FAMILY [singles [BOOT]] [READ=STAND_IN …]`
  const words = hint.split(' ');
  const family = words[0];
  if (family === undefined || !Object.hasOwn(PLANS, family)) return false;
  const plan = PLANS[family as Family];
  let at = 1;
  const singles = words[at] === 'singles';
  let boot: string | undefined;
  if (singles) {
    at++;
    if (words[at] !== undefined && /^\d{1,12}$/.test(words[at] as string)) boot = words[at++];
  }
  const standIns = new Set<string>();
  for (; at < words.length; at++) {
    const [command, standIn, ...more] = (words[at] as string).split('=');
    if (
      command === undefined ||
      more.length > 0 ||
      !plan.commands.includes(command) ||
      !Object.hasOwn(STAND_INS, command) ||
      STAND_INS[command] !== standIn
    )
      return false;
    standIns.add(command);
  }
  const stored = storedStatics(staticsJson, plan.statics ?? [], now);
  cache.set(key, {
    family: family as Family,
    singles,
    commands:
      standIns.size === 0
        ? plan.commands
        : plan.commands.map((c) => (standIns.has(c) ? (STAND_INS[c] ?? c) : c)),
    joins: plan.joins ?? [],
    statics: stored?.statics ?? {},
    cyclesSinceStatics: 0,
    lastUptime: null,
    staticsAt: stored?.at ?? null,
    bootedAt: stored?.bootedAt ?? (boot === undefined ? null : Number(boot) * 1000),
    ...(known === null ? {} : { identity: withAlgorithm({ ...known, family: family as Family }) }),
  });
  return true;
}

export interface FetchOptions {
  signal?: AbortSignal;
  cache?: DialectCache;
  /** Clock for the statics' age and boot time (tests). */
  now?: () => number;
  /** What the decoded replies of the polls in flight may weigh together (the process's by default). */
  budget?: ReplyBudget;
}

export interface FetchResult {
  snapshot: Snapshot;
  replies: ReplyMap;
}

/** Kinds that say why a miner is down, most telling first (a refusal says more than a timeout). */
const DOWN_KINDS: MinerErrorKind[] = [
  'unreachable',
  'refused',
  'reset',
  'timeout',
  'empty_reply',
  'protocol',
  'too_large',
  'parse',
  'denied',
  'api',
];

/** The error to report when no command succeeded. */
export function mostTellingError(replies: ReplyMap): MinerError | null {
  const values = Object.values(replies);
  // A first contact's optional probes come back as replies even when they are E: a miner that
  // answered E to everything (E/45 Access denied, E/14 for every command) still answered nothing.
  if (values.length === 0 || values.some((v) => !(v instanceof MinerError) && v.ok)) return null;
  const errors = values.filter((v): v is MinerError => v instanceof MinerError);
  for (const kind of DOWN_KINDS) {
    const found = errors.find((e) => e.kind === kind);
    if (found) return found;
  }
  return errors[0] ?? errorFromStatus(values[0] as DecodedReply);
}

/**
 * Reads that carry no figures (they name the machine, or list its pools): answering these and
 * nothing else is not being read.
 */
const IDENTITY_READS = new Set(['version', 'get_version', 'devdetails', 'config', 'coin', 'pools']);

/** Kinds that say the connection failed, not that the firmware refused one command. */
const GONE_KINDS = new Set<MinerErrorKind>([
  'timeout',
  'refused',
  'unreachable',
  'reset',
  'empty_reply',
  'protocol',
]);

/**
 * The error to report when the miner named itself but every telemetry read then failed for the
 * connection's sake (it stopped answering after `version`): a poll with a make and no figures is
 * a failed poll, not a miner shown online.
 */
function telemetryGone(replies: ReplyMap): MinerError | null {
  // Runs on every poll: the usual answer (a telemetry read that worked) returns at once, copying nothing.
  const telemetry: ReplyMap = {};
  let any = false;
  for (const command in replies) {
    if (IDENTITY_READS.has(command)) continue;
    const reply = replies[command];
    if (!(reply instanceof MinerError) || !GONE_KINDS.has(reply.kind)) return null;
    telemetry[command] = reply;
    any = true;
  }
  return any ? mostTellingError(telemetry) : null;
}

/** The error to report when every telemetry read failed, whatever the kind; null if one worked. */
function telemetryRefused(replies: ReplyMap): MinerError | null {
  const telemetry: ReplyMap = {};
  let any = false;
  for (const command in replies) {
    if (IDENTITY_READS.has(command)) continue;
    const reply = replies[command]!;
    if (isOk(reply)) return null;
    telemetry[command] = reply;
    any = true;
  }
  return any ? mostTellingError(telemetry) : null;
}

/**
 * The error to report when every telemetry read said success and carried nothing (`"SUMMARY":[]`,
 * `"STATS":[]` …): like a bare STATUS S, a peer giving no figure at all is not an online miner.
 * null as soon as one read carries a record (a firmware may well list no devs or no pools).
 */
function telemetryEmpty(replies: ReplyMap): MinerError | null {
  let answered = false;
  for (const command in replies) {
    if (IDENTITY_READS.has(command)) continue;
    const reply = replies[command]!;
    if (!isOk(reply)) continue;
    answered = true;
    for (const key in reply.body) {
      if (key !== 'STATUS' && records(reply.body[key]).some(hasOwnKey)) return null;
    }
  }
  return answered
    ? new MinerError('protocol', 'answered every read with an empty reply (no data)', { requestSent: true })
    : null;
}

/** A record with at least one key of its own, found without copying its hundred keys. */
function hasOwnKey(record: object): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true;
  return false;
}

/** Whatsminer API ≥ 2.0.4 moved error codes out of `summary` into `get_error_code`. */
function needsErrorCodes(replies: Replies): boolean {
  const api = str(replies.nativeMsg('get_version')?.api_ver);
  const match = api === null ? null : /(\d+)\.(\d+)\.(\d+)/.exec(api);
  if (!match) return false;
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return major > 2 || (major === 2 && (minor > 0 || patch >= 4));
}

async function ask(
  client: MinerClient,
  target: Target,
  commands: string[],
  signal: AbortSignal | undefined,
  hold: ReplyHold & PollState,
  extra: { joinable?: string[]; optional?: string[]; join?: boolean } = {},
): Promise<ReplyMap> {
  if (commands.length === 0) return {};
  try {
    const replies = await client.requestMany(target, commands, {
      ...extra,
      hold,
      poll: hold,
      ...(signal ? { signal } : {}),
    });
    for (const command in replies) replies[command] = misaddressed(command, replies[command]!);
    return replies;
  } catch (error) {
    if (!(error instanceof MinerError)) throw error;
    return Object.fromEntries(commands.map((c) => [c, error]));
  }
}

async function askNatives(
  client: MinerClient,
  target: Target,
  natives: string[],
  signal: AbortSignal | undefined,
  hold: ReplyHold & PollState,
): Promise<ReplyMap> {
  const out: ReplyMap = {};
  for (const command of natives) {
    if (signal?.aborted) break;
    try {
      out[command] = await client.request(target, command, {
        hold,
        poll: hold,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (!(error instanceof MinerError)) throw error;
      out[command] = error;
    }
  }
  return out;
}

/**
 * The uptime that dates the boot, as the snapshot reads it: a sentinel (4294967295, an unsigned -1)
 * or a negative one is none. Taken as it came, it dated the boot before 1970, and a singles hint
 * carrying that time (`antminer singles -2494967295`) could not be read back by the next cron run.
 */
function uptimeOf(replies: ReplyMap): number | null {
  const uptime = counter(new Replies(replies).section('summary', 'SUMMARY')[0]?.Elapsed);
  return uptime !== null && uptime <= MAX_PLAUSIBLE_UPTIME_S ? uptime : null;
}

function isOk(reply: DecodedReply | MinerError): reply is DecodedReply {
  return !(reply instanceof MinerError) && reply.ok;
}

/** The successful replies among `commands`, without their bytes: the cache keeps them for hours. */
function successful(replies: ReplyMap, commands: string[]): Record<string, DecodedReply> {
  const out: Record<string, DecodedReply> = {};
  for (const command of commands) {
    const reply = replies[command];
    if (reply !== undefined && isOk(reply)) {
      const { raw: _raw, ...kept } = reply;
      out[command] = kept;
    }
  }
  return out;
}

/** The firmware has no such command (E/14, btminer's `invalid cmd`): not this poll's failure. */
function noSuchCommand(reply: DecodedReply | MinerError | undefined): boolean {
  if (reply === undefined || isOk(reply)) return false;
  const error = reply instanceof MinerError ? reply : errorFromStatus(reply);
  return (
    error.kind === 'api' &&
    (error.code === 14 || /^\s*invalid\s+(cmd|command)\b/i.test(error.apiMessage ?? ''))
  );
}

/** The reads detection takes a family's evidence from (its `version` keys, `stats` records, `devdetails` Model). */
const EVIDENCE_READS = ['version', 'stats', 'devdetails'];

/**
 * A read that failed for this poll's sake (timed out, reset, answered E), not because the firmware
 * has no such command (E/14, `invalid cmd`) or refuses it (E/45): a firmware swapped in at the
 * address answers the old one's reads so.
 */
function failedThisPoll(reply: DecodedReply | MinerError | undefined): boolean {
  if (reply === undefined || isOk(reply)) return false;
  const error = reply instanceof MinerError ? reply : errorFromStatus(reply);
  if (error.kind === 'denied') return false;
  return error.code !== 14 && !/^\s*invalid\s+(cmd|command)\b/i.test(error.apiMessage ?? '');
}

/**
 * What this poll's replies say the miner is. A known miner that reads as plain cgminer only because
 * the read carrying its evidence failed this poll (an Innosilicon whose `stats` timed out or
 * answered E) has not changed firmware: read as generic, its rates would take upstream units (an
 * A9's sol/s as MH/s, a million times too much), and first contact again would only fail the same
 * read. It keeps its known family.
 */
function identityOf(
  replies: ReplyMap,
  known: DialectEntry | undefined,
): { identity: Identity; borrowed: boolean } {
  const identity = detect(new Replies(replies));
  if (known === undefined || known.family === 'generic' || identity.family !== 'generic')
    return { identity, borrowed: false };
  if (!EVIDENCE_READS.some((command) => failedThisPoll(replies[command])))
    return { identity, borrowed: false };
  // As it was last read (its model decides units), or at least as its family.
  const remembered = known.identity?.family === known.family ? known.identity : undefined;
  return { identity: remembered ?? { ...identity, family: known.family }, borrowed: true };
}

/**
 * The error a failed poll reports: a read that was not sent (attempts 0) because an earlier one ran
 * to its deadline says less than that read, with its own kind and attempts.
 */
function stalledFirst(error: MinerError, poll: PollState): MinerError {
  return error.attempts === 0 && poll.stalled !== null ? poll.stalled : error;
}

/**
 * Polls one miner. Throws the most telling MinerError when nothing answered (refused, timeout, …);
 * a member that failed alone (E/45 on stock Antminer, `invalid cmd` on Whatsminer) is not fatal.
 * Its decoded replies are charged to the budget until the snapshot is built: a reply past the
 * poll's share of it is refused (`too_large`, ../cgminer/budget.ts).
 */
export async function fetchSnapshot(
  client: MinerClient,
  target: Target,
  options: FetchOptions = {},
): Promise<FetchResult> {
  const hold = new PollHold(options.budget);
  try {
    return await fetchWith(client, target, options, hold, false);
  } finally {
    hold.release();
  }
}

/** `recontact`: first contact again because the known dialect no longer matched (firmware changed). */
async function fetchWith(
  client: MinerClient,
  target: Target,
  options: FetchOptions,
  hold: ReplyHold & PollState,
  recontact: boolean,
): Promise<FetchResult> {
  const { signal, cache } = options;
  const known = cache?.get(target.key);
  const replies: ReplyMap = known
    ? await ask(client, target, known.commands, signal, hold, {
        joinable: known.joins,
        join: !known.singles,
        optional: PLANS[known.family].optional ?? [],
      })
    : await ask(client, target, [...FIRST_CONTACT, ...FIRST_CONTACT_PROBES], signal, hold, {
        joinable: VENDOR_JOINS,
        optional: FIRST_CONTACT_PROBES,
        // The old firmware's refusal of joins, if the client remembers one, says nothing of the new.
        ...(recontact ? { join: true } : {}),
      });
  const down = mostTellingError(replies) ?? telemetryGone(replies);
  if (down) throw stalledFirst(down, hold);

  const family = known?.family ?? detect(new Replies(replies)).family;
  const plan = PLANS[family];
  // Optional probes come back (as replies, E/14 included) only from a join that worked.
  const refusedAtFirstContact = !known && !FIRST_CONTACT_PROBES.some((c) => c in replies);
  if (!known) {
    // Probes this family does not read are dropped: an E/14 from one would read as a warning.
    for (const command of FIRST_CONTACT_PROBES) {
      if (!plan.commands.includes(command)) delete replies[command];
    }
    // What the join did not cover (a miner that refuses joins, or a probe that failed there).
    const missing = plan.commands.filter((c) => {
      const reply = replies[c];
      return reply === undefined || (FIRST_CONTACT_PROBES.includes(c) && !isOk(reply));
    });
    Object.assign(
      replies,
      await ask(client, target, missing, signal, hold, {
        joinable: plan.joins ?? [],
        optional: plan.optional ?? [],
      }),
    );
  }
  // A read of the plan the firmware does not have (E/14), whose stand-in it answers: read in its
  // place (first contact asked it already) and asked instead from then on, in this process and,
  // through the stored hint (`edevs=devs`), in the next cron run. Without it the
  // boards an old btminer showed at first contact were gone from every later poll.
  for (const command of plan.commands) {
    const standIn = STAND_INS[command];
    if (standIn === undefined || !noSuchCommand(replies[command])) continue;
    if (replies[standIn] === undefined)
      Object.assign(replies, await ask(client, target, [standIn], signal, hold));
    const reply = replies[standIn];
    if (reply !== undefined && isOk(reply)) delete replies[command];
  }
  // Named itself, then refused every telemetry read (E/45 from an api-allow that lets only
  // `version` through, E/14 for each command): a failed poll of that kind, not a miner shown
  // online with no figures and no problem.
  const refused = telemetryRefused(replies) ?? telemetryEmpty(replies);
  if (refused) throw stalledFirst(refused, hold);

  const staticNames = plan.statics ?? [];
  const uptime = uptimeOf(replies);
  const now = options.now ?? Date.now;
  const bootedNow = uptime === null ? null : now() - uptime * 1000;
  const rebooted =
    known !== undefined &&
    ((known.lastUptime !== null && uptime !== null && uptime < known.lastUptime) ||
      (known.bootedAt !== null &&
        bootedNow !== null &&
        Math.abs(bootedNow - known.bootedAt) > REBOOT_SLACK_MS));
  // A known miner whose join was refused this time (a firmware of the same family that stopped
  // joining) is asked one command per request from now on, rather than a refused join first every
  // poll; one that refused joins and has rebooted since (a firmware update, perhaps) is offered a
  // join again next time: one refused request per reboot at worst.
  // The client is asked only when this poll tried a join: a singles miner's refusal, remembered by a
  // long-running client, says nothing about the firmware it has rebooted into.
  const singles = known
    ? known.singles
      ? !rebooted
      : client.refusesJoins?.(target) === true
    : refusedAtFirstContact;
  const reuseStatics =
    known !== undefined &&
    !rebooted &&
    known.cyclesSinceStatics < STATIC_REFRESH_CYCLES &&
    staticNames.every((c) => c in known.statics);
  // Stored statics would speak for whatever answers at this address now (a Whatsminer's
  // get_version naming the Antminer L3+ swapped in for it): the fresh replies must name the same
  // family on their own, or this poll starts over with first contact.
  if (reuseStatics && cache && identityOf(replies, known).identity.family !== family) {
    cache.delete(target.key);
    return fetchWith(client, target, options, hold, true);
  }
  if (reuseStatics) Object.assign(replies, known.statics);
  else Object.assign(replies, await askNatives(client, target, staticNames, signal, hold));

  const natives = [...(plan.natives ?? [])];
  if (family === 'whatsminer' && needsErrorCodes(new Replies(replies))) natives.push('get_error_code');
  Object.assign(replies, await askNatives(client, target, natives, signal, hold));

  // Detected once on the final replies: the cache check and normalize() share it.
  const { identity, borrowed } = identityOf(replies, known);
  if (cache) {
    if (identity.family !== family) {
      // A different dialect now (firmware swapped, or a stale hint): start over with first contact,
      // now, so that this poll reads the miner with the plan its firmware needs.
      cache.delete(target.key);
      if (known) return fetchWith(client, target, options, hold, true);
    } else {
      cache.set(target.key, {
        family,
        singles,
        commands: withStandIns(plan.commands, replies),
        joins: plan.joins ?? [],
        statics: reuseStatics && known ? known.statics : successful(replies, staticNames),
        cyclesSinceStatics: reuseStatics && known ? known.cyclesSinceStatics + 1 : 0,
        lastUptime: uptime ?? known?.lastUptime ?? null,
        // Only statics that all came back count as asked: a firmware that refuses them (an old
        // btminer's get_version) is asked again next poll, and its stored row is not rewritten.
        staticsAt:
          reuseStatics && known
            ? known.staticsAt
            : staticNames.length > 0 && staticNames.every((c) => replies[c] !== undefined && isOk(replies[c]))
              ? now()
              : null,
        // Kept as first seen (re-read each poll it would jitter by a second or two) until a reboot
        // or the next asking of static replies: a singles hint carries it, written only on change.
        bootedAt:
          known === undefined || rebooted || (!reuseStatics && staticNames.length > 0)
            ? bootedNow
            : (known.bootedAt ?? bootedNow),
        ...(borrowed ? (known?.identity ? { identity: known.identity } : {}) : { identity }),
      });
    }
  }
  return { snapshot: normalize(replies, identity), replies };
}
