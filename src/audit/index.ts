// The audit library: discover the miners among the targets, read each one with the fixed read-only
// list, add the opt-in network checks, and run every rule. It never prints; it returns a report.
import { setMaxListeners } from 'node:events';
import { isIP, type LookupFunction } from 'node:net';
import { PollHold, type ReplyBudget } from '../cgminer/budget.js';
import { createClient } from '../cgminer/client.js';
import type { MinerClient, PollState, ReplyHold } from '../cgminer/types.js';
import { errorMessage, HashctlError } from '../errors.js';
import type { Target } from '../targets/types.js';
import { runPool } from '../util/pool.js';
import { describeOutcome } from './access.js';
import { CREDENTIALS_NOT_TRIED, checkDefaultCredentials, DEFAULT_CREDENTIALS } from './credentials.js';
import { type DiscoveredMiner, discover } from './discover.js';
import { identifyFirmware } from './identify.js';
import { type AuditReader, readKey, readOnlyReader } from './readonly.js';
import { serviceExposed } from './rules/exposure.js';
import { evaluateRules, RULES } from './rules/index.js';
import { probeServices, SERVICE_PORTS, type ServicePort } from './services.js';
import { snapshotFromReads } from './snapshot.js';
import type {
  AuditCoverage,
  AuditedMiner,
  AuditFailure,
  AuditInput,
  AuditPolicy,
  AuditReport,
  Dialect,
  Finding,
  OpenEndpoint,
  ReadOutcome,
} from './types.js';
import { VULNERABILITIES } from './vulnerabilities.js';

export type { AuditReport, Finding, OpenEndpoint, Severity } from './types.js';

/** The scanner stage that finds the miners (`hashctl scan`'s timeouts, retries and concurrency). */
export interface DiscoverySettings {
  connectTimeoutMs: number;
  replyTimeoutMs: number;
  retries: number;
  /** Endpoints probed at once; lowered on its own at the open-file limit. */
  concurrency: number;
}

export interface AuditOptions {
  targets: Iterable<Target> | AsyncIterable<Target>;
  /** How many targets `targets` yields (for the report and progress). */
  targetCount: number;
  /**
   * Keys of the targets named one by one (HOST[:PORT], a line of @FILE or -). Any other target came
   * from a range or network, where silence is expected and a port that is open but not a miner API
   * is only listed under "not checked"; for a named target both are failures.
   */
  named: ReadonlySet<string>;
  policy: AuditPolicy;
  /** --services: TCP connect (no payload) to the management ports. */
  services: boolean;
  /** --check-default-creds: one attempt per documented default credential. */
  checkDefaultCreds: boolean;
  timeoutMs: number;
  retries: number;
  maxBytes: number;
  /** Miners audited at once. */
  concurrency: number;
  discovery: DiscoverySettings;
  /** Overrides for tests: the ports --services probes and the web port --check-default-creds uses. */
  servicePorts?: readonly ServicePort[];
  webPort?: number;
  /** An existing client for the audit's reads (tests); by default one is built from the options above. */
  client?: MinerClient;
  /** What the decoded replies of the miners being audited may weigh together (the process's by default). */
  decodedBudget?: ReplyBudget;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /**
   * Name resolution for every connection and for the address the public-address rule judges (the
   * context's; the system's by default).
   */
  lookup?: LookupFunction;
  onProgress?: (event: { discovered: number; audited: number; tried: number }) => void;
}

/** The reads for a dialect, after `version`. Every one is on the read-only list (readonly.ts). */
export function readPlan(dialect: Dialect): [command: string, parameter?: string][] {
  if (dialect === 'whatsminer') {
    return [
      ['get_version'],
      ['status'],
      ['get_miner_info'],
      ['summary'],
      ['pools'],
      ['devdetails'],
      ['devs'],
    ];
  }
  const base: [string, string?][] = [
    ['summary'],
    ['pools'],
    ['stats'],
    ['devs'],
    ['devdetails'],
    ['config'],
    ['privileged'],
  ];
  switch (dialect) {
    case 'braiins':
      return [...base, ['check', 'pause'], ['check', 'addpool'], ['tempctrl'], ['fans'], ['temps']];
    case 'luxos':
      return [...base, ['check', 'curtail'], ['check', 'addpool'], ['tempctrl'], ['fans'], ['temps']];
    case 'avalon':
      return [...base, ['check', 'ascset'], ['check', 'addpool'], ['check', 'save']];
    default:
      return [...base, ['check', 'addpool'], ['check', 'save']];
  }
}

/**
 * A miner that answered and was audited, but left reads of its plan without an answer (a timeout, a
 * reset, a reply that could not be decoded, Ctrl-C): the checks that needed them were not done, which
 * must not read as "nothing found". An E/F status or a denial is an answer and counts as read.
 */
export function unreadChecks(input: AuditInput, interrupted: boolean): AuditFailure | null {
  const version = input.reads.version;
  // api-allow closing on `version` is the audit's answer ("no access"), not a gap in it.
  if (version !== undefined && !version.ok && version.error.kind === 'empty_reply') return null;
  const unread: string[] = [];
  let cause: ReadOutcome | null = null;
  for (const [command, parameter] of readPlan(input.identity.dialect)) {
    const key = readKey(command, parameter);
    const outcome = input.reads[key];
    if (outcome === undefined) unread.push(key);
    else if (!outcome.ok && outcome.error.kind !== 'api' && outcome.error.kind !== 'denied') {
      unread.push(key);
      cause ??= outcome;
    }
  }
  if (unread.length === 0 || (cause === null && !interrupted)) return null;
  const why =
    cause !== null && !cause.ok
      ? `${cause.error.kind}: ${cause.error.message}`
      : 'interrupted (Ctrl-C) before they were read';
  return {
    target: input.target.key,
    kind: cause !== null && !cause.ok ? cause.error.kind : 'interrupted',
    message: `audited in part: ${unread.join(', ')} not read (${why}); the checks that need them were not done`,
    fromRange: false,
    partial: true,
  };
}

/**
 * A miner whose `pools` answered without a pool list (a custom api-groups refusing it with E/45,
 * another command's reply) when the user asked for pool checks: --allowed-pools and
 * --worker-pattern had nothing to compare, which must not read as "no foreign pool". "No pools"
 * (E/8) and an empty list are a list. A read without any answer is unreadChecks' to report.
 */
export function unreadPools(input: AuditInput, policy: AuditPolicy): AuditFailure | null {
  const asked = [
    policy.allowedPools === null ? null : '--allowed-pools',
    policy.workerPattern === null ? null : '--worker-pattern',
  ].filter((flag): flag is string => flag !== null);
  if (asked.length === 0) return null;
  if (input.snapshot !== null && input.snapshot.pools.length > 0) return null;
  const outcome = input.reads.pools;
  if (outcome === undefined || !outcome.ok) return null;
  if (outcome.status === 'S' || outcome.status === 'I') {
    const section = outcome.body.POOLS ?? outcome.body.pools;
    if (section !== null && typeof section === 'object') return null;
  } else if (outcome.code === 8) return null;
  return {
    target: input.target.key,
    kind: outcome.status === 'S' || outcome.status === 'I' ? 'protocol' : 'api',
    message: `audited in part: pools answered without a pool list (${describeOutcome(outcome)}); the ${asked.join(' and ')} check${asked.length > 1 ? 's were' : ' was'} not done`,
    fromRange: false,
    partial: true,
  };
}

/**
 * A miner whose --services probes a Ctrl-C cut short: the ports not probed are not closed, and "no
 * service exposed" must not be read from them.
 */
export function unprobedServices(input: AuditInput): AuditFailure | null {
  const unprobed = (input.services ?? []).filter((service) => service.open === null);
  if (unprobed.length === 0) return null;
  return {
    target: input.target.key,
    kind: 'interrupted',
    message: `audited in part: services not probed on ${unprobed.map((s) => `${s.port} (${s.service})`).join(', ')} (interrupted (Ctrl-C) before they were); the service-exposure check was not done for them`,
    fromRange: false,
    partial: true,
  };
}

/** A read that failed because the miner went away (not because it refused the command). */
function gone(outcome: ReadOutcome): boolean {
  return !outcome.ok && ['refused', 'timeout', 'unreachable'].includes(outcome.error.kind);
}

/**
 * The address the public-address rule judges: the first the name resolves to, or null. Bounded by
 * the request timeout and Ctrl-C: Node's lookup has none, and a resolver that is down held every
 * named miner's audit (and a Ctrl-C) for as long as getaddrinfo retried.
 */
async function resolveAddress(
  host: string,
  options: { lookup?: LookupFunction; timeoutMs: number; signal?: AbortSignal },
): Promise<string | null> {
  if (isIP(host)) return host;
  const { bounded, resolvedHosts, resolverOf } = await import('../targets/resolve.js');
  const resolve = bounded(
    options.lookup ? resolverOf(options.lookup) : resolvedHosts,
    options.timeoutMs,
    options.signal,
  );
  const [first] = await resolve(host);
  return first !== undefined && isIP(first) ? first : null;
}

/** Checks made once per host in a run (--services, --check-default-creds), by what they checked. */
export type HostChecks = Map<string, Promise<unknown>>;

/** The check `key` names, made by `make` the first time it is asked for in the run. */
function once<T>(checks: HostChecks | undefined, key: string, make: () => Promise<T>): Promise<T> {
  if (checks === undefined) return make();
  let pending = checks.get(key) as Promise<T> | undefined;
  if (pending === undefined) {
    pending = make();
    checks.set(key, pending);
  }
  return pending;
}

/** Everything the rules need about one miner. Sequential: one connection at a time per miner. */
export async function readMiner(
  found: DiscoveredMiner,
  reader: AuditReader,
  options: Pick<
    AuditOptions,
    'services' | 'checkDefaultCreds' | 'timeoutMs' | 'servicePorts' | 'webPort' | 'signal' | 'lookup'
  > & {
    /** The run's checks of hosts rather than of API ports, shared by the miners of one host. */
    hostChecks?: HostChecks;
    /**
     * Where the miner's decoded replies are charged while its audit keeps them (../cgminer/budget.ts),
     * and its poll: once a read ran to its deadline, the rest are not sent.
     */
    hold?: ReplyHold & PollState;
  },
): Promise<AuditInput> {
  const { target } = found;
  const reads: Record<string, ReadOutcome> = { version: found.version };
  // A zero-byte close on `version` is api-allow refusing this host: nothing more to read.
  const refusedUs = !found.version.ok && found.version.error.kind === 'empty_reply';
  if (!refusedUs) {
    let dialect = identifyFirmware(reads).dialect;
    // Whatsminer answers `version` with E/14 "invalid cmd"; its identity comes from get_version.
    if (dialect === 'unknown' && found.version.ok && found.version.code === 14) {
      reads.get_version = await reader.read(target, 'get_version', undefined, options.hold);
      dialect = identifyFirmware(reads).dialect;
    }
    const pending = readPlan(dialect);
    for (let round = 0; round < 2; round++) {
      for (const [command, parameter] of pending) {
        const key = readKey(command, parameter);
        if (reads[key] !== undefined || options.signal?.aborted) continue;
        const outcome = await reader.read(target, command, parameter, options.hold);
        reads[key] = outcome;
        if (gone(outcome)) break;
      }
      // devdetails or stats can reveal the dialect (BOSer without a version key): read what it adds.
      const refined = identifyFirmware(reads).dialect;
      if (refined === dialect) break;
      dialect = refined;
      pending.splice(0, pending.length, ...readPlan(dialect));
    }
  }
  const identity = identifyFirmware(reads);
  const snapshot = snapshotFromReads(reads);
  const address = await resolveAddress(target.host, options);
  const probeTimeout = Math.min(options.timeoutMs, 2000);
  const { hostChecks } = options;
  // The management ports and the web UI belong to the host, not to one API port: a host with two
  // miner APIs (4028 and 4029) is probed once, and its web UI gets one attempt per credential.
  // The API port being audited is no other service exposed next to it (a miner answering on 4029,
  // or on 80, is not "unknown-4029" or "http" open).
  const services = options.services
    ? // Not even a bare connect to the API port being read (its API thread serves one at a time).
      (
        await once(hostChecks, `services ${target.host}`, () =>
          probeServices(
            target.host,
            (options.servicePorts ?? SERVICE_PORTS).filter((service) => service.port !== target.port),
            { timeoutMs: probeTimeout, signal: options.signal, lookup: options.lookup },
          ),
        )
      ).filter((service) => service.port !== target.port)
    : null;
  const credentials = options.checkDefaultCreds
    ? await once(hostChecks, `credentials ${target.host} ${identity.dialect}`, () =>
        checkDefaultCredentials(target.host, identity.dialect, {
          port: options.webPort ?? 80,
          timeoutMs: probeTimeout,
          signal: options.signal,
          lookup: options.lookup,
        }),
      )
    : null;
  return { target, address, reads, identity, snapshot, services, credentials };
}

function describeMiner(input: AuditInput): AuditedMiner {
  const { identity, snapshot } = input;
  // The normalized firmware where there is one, as probe and scan show it: the aftermarket's own
  // version (Vnish 3.8.6), not the cgminer it is built on ("vnish 4.11.1").
  const named = snapshot?.firmware.name ?? null;
  const shown = named === null ? null : { name: named, version: snapshot?.firmware.version ?? null };
  const version =
    identity.versions.LUXminer ??
    identity.versions.BOSminer ??
    identity.versions['BOSminer+'] ??
    identity.versions.BOSer ??
    identity.versions.fw_ver ??
    identity.versions.BMMiner ??
    identity.versions.CGMiner ??
    identity.versions.BFGMiner ??
    null;
  return {
    target: input.target.key,
    make: snapshot && snapshot.make !== 'unknown' ? snapshot.make : identity.make,
    model: snapshot?.model ?? identity.model,
    firmware: shown ?? (version === null ? null : { name: identity.dialect, version }),
    dialect: identity.dialect,
  };
}

/** Open endpoints named in the "not checked" line; the JSON report lists all of them. */
const OPEN_LISTED = 10;

export function coverage(
  options: Pick<AuditOptions, 'services' | 'checkDefaultCreds' | 'policy'>,
  miners: AuditInput[],
  open: readonly OpenEndpoint[] = [],
): AuditCoverage {
  const checked = [
    'API access control from this host: `privileged` (S/46 vs E/45) and `check|<write>` (Exists/Access), read-only probes',
    'Information disclosure on the API port (version, summary, pools, stats, devs, devdetails, config)',
    `Firmware versions and build dates against: ${VULNERABILITIES.map((entry) => entry.id).join(', ')}`,
    'Pool count, a backup pool getting the shares, developer-fee and factory-default pool rows',
    'Whether the API answered on a public (Internet-routable) address',
    'Thermal protection posture where the firmware reports its limits (Braiins OS, LuxOS) and fan/temperature state',
  ];
  const notChecked = [
    'No write command was sent to confirm access: write access is inferred from `privileged` and `check` answers',
    'LuxOS `logon` and Whatsminer `get_token` were never sent (state change / operator token quota)',
    'Outbound traffic (Antbleed calls to auth.minerlink.com:7000, DNS) needs network monitoring',
    'No published IOC list (pool hosts, wallets) for ASIC pool-hijack malware exists; pools are compared with your allowlist only',
  ];
  if (options.policy.allowedPools)
    checked.push(`Pools against --allowed-pools (${options.policy.allowedPools.length} entries)`);
  else notChecked.push('Pools against an allowlist (give --allowed-pools FILE)');
  if (options.policy.workerPattern)
    checked.push(`Pool workers against --worker-pattern /${options.policy.workerPattern.source}/`);
  else notChecked.push('Pool workers against the expected names (give --worker-pattern REGEX)');
  if (options.services)
    checked.push(
      `Management services by TCP connect only (no payload): ports ${SERVICE_PORTS.map((p) => p.port).join(', ')}`,
    );
  else notChecked.push('Management services (SSH, telnet, web, gRPC): give --services');
  if (options.checkDefaultCreds) {
    const tried = Object.keys(DEFAULT_CREDENTIALS).join(', ');
    checked.push(
      `Default credentials, one attempt each on the documented read-only/login web endpoint (${tried})`,
    );
    const dialects = new Set(miners.map((miner) => miner.identity.dialect));
    for (const [dialect, why] of Object.entries(CREDENTIALS_NOT_TRIED))
      if (dialects.has(dialect as Dialect)) notChecked.push(why);
    // No finding is a clean result only where a credential was judged: a web port that refused or
    // said nothing telling, or a firmware with no documented default, must not read as one.
    const unjudged = miners.flatMap((miner) => {
      const checks = miner.credentials;
      if (checks === null || CREDENTIALS_NOT_TRIED[miner.identity.dialect] !== undefined) return [];
      if (checks.length === 0)
        return [`${miner.target.key} (no documented default for its firmware, ${miner.identity.dialect})`];
      if (checks.some((check) => ['accepted', 'open', 'rejected'].includes(check.outcome))) return [];
      const why = checks.map((check) => check.detail).join('; ');
      return [`${miner.target.key} (${why})`];
    });
    if (unjudged.length > 0) {
      const more = unjudged.length > OPEN_LISTED ? `, and ${unjudged.length - OPEN_LISTED} more` : '';
      notChecked.push(
        `Default credentials could not be judged on ${unjudged.length} miner(s): ${unjudged.slice(0, OPEN_LISTED).join('; ')}${more}`,
      );
    }
  } else {
    notChecked.push('Default credentials: give --check-default-creds');
  }
  const noLimits = miners.filter(
    (miner) => miner.snapshot !== null && !['braiins', 'luxos'].includes(miner.identity.dialect),
  ).length;
  if (noLimits > 0)
    notChecked.push(
      `Thermal limits of ${noLimits} miner(s) whose firmware does not report them over the API`,
    );
  if (open.length > 0) {
    const listed = open.slice(0, OPEN_LISTED).map((item) => `${item.target} (${item.reason})`);
    const more = open.length > OPEN_LISTED ? `, and ${open.length - OPEN_LISTED} more` : '';
    notChecked.push(
      `${open.length} endpoint(s) in the ranges accept connections on the API port but do not answer as a CGMiner API, so were not audited: ${listed.join('; ')}${more}`,
    );
  }
  return { checked, notChecked };
}

/** Runs the audit. Per-miner failures become report entries; only programming errors throw. */
export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  const now = options.now ?? Date.now;
  // Every request in flight listens on the one abort signal; hundreds at once are expected here.
  if (options.signal) setMaxListeners(0, options.signal);
  const startedAt = new Date(now()).toISOString();
  const auditClient =
    options.client ??
    createClient({
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      maxBytes: options.maxBytes,
      ...(options.lookup ? { lookup: options.lookup } : {}),
    });
  const reader = readOnlyReader(auditClient, { signal: options.signal });
  const inputs: AuditInput[] = [];
  const failures: AuditFailure[] = [];
  const open: OpenEndpoint[] = [];
  let tried = 0;
  let discovered = 0;
  let audited = 0;
  /** Every miner found (the version and its charge travel to the audit through `found`). */
  const miners: { target: Target; hold: PollHold | undefined }[] = [];
  // Each miner is audited as soon as discovery finds it: one hung address must not hold back the
  // audit of every other (nor leave them unaudited when Ctrl-C comes while it times out).
  const found = new HandOff<DiscoveredMiner>();
  const seen = new Set<string>();
  // Discovery is stopped when the audit throws (a bug, a failing progress callback): it must not go
  // on probing the network, nor hold the error back until it has waited out every silent address.
  const stopDiscovery = new AbortController();
  const discoverySignal = options.signal
    ? AbortSignal.any([options.signal, stopDiscovery.signal])
    : stopDiscovery.signal;
  setMaxListeners(0, discoverySignal);
  const stopDiscovering = () => {
    stopDiscovery.abort();
    found.close();
  };
  // Handled as soon as it happens, and thrown once the audits in flight are collected: a rejection
  // left unawaited while they run crashed Node with a stack (an unhandled rejection).
  const discovery: { failed: boolean; error: unknown } = { failed: false, error: null };
  const discovering = (async () => {
    try {
      for await (const result of discover(options.targets, {
        ...options.discovery,
        maxBytes: options.maxBytes,
        signal: discoverySignal,
        sleep: options.sleep,
        random: options.random,
        lookup: options.lookup,
        ...(options.decodedBudget ? { budget: options.decodedBudget } : {}),
      })) {
        if (stopDiscovery.signal.aborted) {
          // The run has failed: what is still found is neither audited nor reported.
          if (result.outcome === 'miner') result.hold?.release();
          continue;
        }
        tried++;
        seen.add(result.target.key);
        const named = options.named.has(result.target.key);
        if (result.outcome === 'miner') {
          discovered++;
          miners.push({ target: result.target, hold: result.hold });
          found.push({ target: result.target, version: result.version, hold: result.hold });
        } else if (named && result.error.kind === 'empty_reply') {
          // A miner the user named that closes with zero bytes is api-allow refusing this host
          // (audit-facts §2.2): audited as "no access" rather than dropped.
          discovered++;
          miners.push({ target: result.target, hold: undefined });
          found.push({ target: result.target, version: { ok: false, error: result.error } });
        } else if (named) {
          failures.push({
            target: result.target.key,
            kind: result.error.kind,
            message: result.error.message,
            fromRange: false,
          });
        } else if (result.outcome === 'open') {
          open.push({ target: result.target.key, kind: result.error.kind, reason: result.error.message });
        }
        // A silent address of a range is expected and not kept: a /16 would hold 65,000 of them.
        options.onProgress?.({ discovered, audited, tried });
      }
    } finally {
      found.close();
    }
  })().catch((error: unknown) => {
    discovery.failed = true;
    discovery.error = error;
  });
  const hostChecks: HostChecks = new Map();
  type Audited =
    | { ok: true; input: AuditInput; findings: Finding[]; gap: AuditFailure | null }
    | { ok: false; target: Target; error: unknown };
  const audit = async (miner: DiscoveredMiner): Promise<Audited> => {
    const hold = miner.hold ?? new PollHold(options.decodedBudget);
    try {
      const input = await readMiner(miner, reader, { ...options, hold, hostChecks });
      // Judged as soon as it is read, so that only the findings outlive the miner's audit, not its
      // replies: a /16 of real miners kept every reply to the end, and a thousand peers answering
      // 250 KB of `{}` ran the process out of heap.
      return {
        ok: true,
        input: { ...input, reads: {} },
        findings: evaluateRules(input, options.policy),
        gap:
          unreadChecks(input, options.signal?.aborted === true) ??
          unprobedServices(input) ??
          unreadPools(input, options.policy),
      };
    } catch (error) {
      // A bug ends the run (below): no more miners are found or started while it waits its turn.
      if ((error as { kind?: string }).kind === 'internal') stopDiscovering();
      return { ok: false, target: miner.target, error };
    } finally {
      hold.release();
    }
  };
  const findingsOf = new Map<string, Finding[]>();
  const done = new Set<string>();
  const interrupted = (key: string) =>
    failures.push({
      target: key,
      kind: 'interrupted',
      message: 'interrupted (Ctrl-C) before it was audited',
      fromRange: false,
    });
  try {
    for await (const result of runPool(found, options.concurrency, audit, { signal: options.signal })) {
      audited++;
      done.add(result.ok ? result.input.target.key : result.target.key);
      options.onProgress?.({ discovered, audited, tried });
      if (result.ok) {
        inputs.push(result.input);
        findingsOf.set(result.input.target.key, result.findings);
        if (result.gap !== null) failures.push(result.gap);
        continue;
      }
      if (result.error instanceof HashctlError && result.error.kind === 'interrupted') {
        interrupted(result.target.key);
        continue;
      }
      // A ReadOnlyViolation is a bug in this library: it must surface, not hide in a report row.
      if ((result.error as { kind?: string }).kind === 'internal') throw result.error;
      failures.push({
        target: result.target.key,
        kind: 'protocol',
        message: errorMessage(result.error),
        fromRange: false,
      });
    }
  } catch (error) {
    stopDiscovering();
    for (const miner of miners) miner.hold?.release();
    throw error;
  }
  await discovering;
  if (discovery.failed) throw discovery.error;
  // A named target whose discovery a Ctrl-C cut short is said too, not left out of the report.
  for (const key of options.named) if (!seen.has(key)) interrupted(key);
  // Found but never started: a Ctrl-C came first. Said, not silently dropped.
  for (const miner of miners) {
    miner.hold?.release();
    if (!done.has(miner.target.key)) interrupted(miner.target.key);
  }
  withoutOtherApis(inputs, findingsOf, options.policy);
  const byTarget = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
  inputs.sort((a, b) => byTarget(a.target.key, b.target.key));
  open.sort((a, b) => byTarget(a.target, b.target));
  // In target order, not in the order answers (or timeouts) came: reports are compared run to run.
  failures.sort((a, b) => byTarget(a.target, b.target));
  const findings: Finding[] = inputs.flatMap((input) => findingsOf.get(input.target.key) ?? []);
  return {
    startedAt,
    finishedAt: new Date(now()).toISOString(),
    targets: options.targetCount,
    tried,
    interrupted: options.signal?.aborted === true,
    miners: inputs.map(describeMiner),
    findings,
    failures,
    open,
    coverage: coverage(options, inputs, open),
  };
}

export { RULES };

/**
 * A port of the host where this run audited another miner API (two containers, 4028 and 4029) is
 * that miner, not a service exposed next to this one: its service-exposed findings are judged again
 * without it. Done once every miner is known, so that it does not hang on which answered first.
 */
function withoutOtherApis(
  inputs: AuditInput[],
  findingsOf: Map<string, Finding[]>,
  policy: AuditPolicy,
): void {
  const apis = new Map<string, Set<number>>();
  for (const { target } of inputs) {
    const ports = apis.get(target.host) ?? new Set<number>();
    ports.add(target.port);
    apis.set(target.host, ports);
  }
  for (const input of inputs) {
    const ports = apis.get(input.target.host);
    const findings = findingsOf.get(input.target.key);
    if (input.services === null || ports === undefined || ports.size < 2 || findings === undefined) continue;
    if (!input.services.some((service) => service.open && ports.has(service.port))) continue;
    const services = input.services.filter((service) => !ports.has(service.port));
    const judged = serviceExposed.evaluate({ ...input, services }, policy);
    const at = findings.findIndex((finding) => finding.rule === serviceExposed.id);
    const kept = findings.filter((finding) => finding.rule !== serviceExposed.id);
    kept.splice(at < 0 ? kept.length : at, 0, ...judged);
    findingsOf.set(input.target.key, kept);
  }
}

/**
 * An async iterable fed while it is read: discovery pushes miners, the audit pool pulls them. Ends
 * when closed and drained.
 */
class HandOff<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private head = 0;
  private closed = false;
  private wake: (() => void) | null = null;

  push(item: T): void {
    this.items.push(item);
    this.signal();
  }

  close(): void {
    this.closed = true;
    this.signal();
  }

  private signal(): void {
    const resume = this.wake;
    this.wake = null;
    resume?.();
  }

  /**
   * Not an async generator: a generator's return() waits while it waits for the next push, so a
   * reader that stopped (the audit throwing) was held until discovery pushed again or ended.
   */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: async (): Promise<IteratorResult<T>> => {
        for (;;) {
          if (this.head < this.items.length) {
            // Not kept once handed on: a miner's `version` reply (and its budget charge, released when
            // its audit ends) was otherwise held to the end of the run, every miner's of a /16.
            const item = this.items[this.head] as T;
            this.items[this.head++] = undefined as T;
            if (this.head === this.items.length) {
              this.items.length = 0;
              this.head = 0;
            }
            return { done: false, value: item };
          }
          if (this.closed) return { done: true, value: undefined };
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
        }
      },
      return: async (): Promise<IteratorResult<T>> => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }
}
