// The audit's data model: what was read from one miner (AuditInput), what a rule concludes (Finding),
// and the whole report. Everything here is plain data so rules stay pure and reports serialisable.
import type { MinerErrorKind } from '../errors.js';
import type { Snapshot } from '../miners/types.js';
import type { Target } from '../targets/types.js';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

/** A read that failed, as plain data (a MinerError is a class; rules and reports want values). */
export interface ReadFailure {
  kind: MinerErrorKind;
  message: string;
  code: number | null;
  msg: string | null;
}

/** One read-only request and what came back: the decoded reply body, or the failure. */
export type ReadOutcome =
  | { ok: true; status: string; code: number | null; msg: string | null; body: Record<string, unknown> }
  | { ok: false; error: ReadFailure };

/** Firmware family as far as the audit needs it (which write command to `check`, which CVEs apply). */
export type Dialect =
  | 'cgminer'
  | 'bfgminer'
  | 'antminer'
  | 'vnish'
  | 'hiveon'
  | 'braiins'
  | 'luxos'
  | 'whatsminer'
  | 'avalon'
  | 'goldshell'
  | 'innosilicon'
  | 'unknown';

/** What `version` (and friends) say about the software, parsed once for every rule. */
export interface FirmwareIdentity {
  dialect: Dialect;
  make: string;
  model: string | null;
  /** Raw version strings by key as the miner reported them, e.g. {CGMiner: "4.9.0", API: "3.1"}. */
  versions: Record<string, string>;
  /** `CompileTime` as reported (free text), and its parse: ISO date or null when it does not parse. */
  compileTime: string | null;
  compileDate: string | null;
}

export interface ServiceProbe {
  port: number;
  service: string;
  /** Null: not probed (a Ctrl-C came first). */
  open: boolean | null;
}

/**
 * `open`: the endpoint the default password protects answered its facts to a request with no
 * credential at all (nothing to log in to: worse than a default password).
 */
export type CredentialOutcome = 'accepted' | 'open' | 'rejected' | 'inconclusive' | 'unreachable' | 'skipped';

export interface CredentialCheck {
  /** e.g. "Antminer web UI" */
  surface: string;
  username: string;
  /** The documented default; it is a published default, never a user secret. */
  password: string;
  endpoint: string;
  outcome: CredentialOutcome;
  detail: string;
}

/** Everything read from one miner: the sole input of every rule. */
export interface AuditInput {
  target: Target;
  /** The address the API answered on (resolved when the target is a name). */
  address: string | null;
  /** Keyed by the request as sent: `version`, `privileged`, `check|addpool`, `get_version`, … */
  reads: Record<string, ReadOutcome>;
  identity: FirmwareIdentity;
  snapshot: Snapshot | null;
  /** Present only with --services. */
  services: ServiceProbe[] | null;
  /** Present only with --check-default-creds. */
  credentials: CredentialCheck[] | null;
}

/** Operator policy the pool rules compare against. */
export interface AuditPolicy {
  allowedPools: AllowedPool[] | null;
  workerPattern: RegExp | null;
}

export interface AllowedPool {
  /** As written in the file. */
  text: string;
  /** null: any scheme matches. */
  scheme: string | null;
  host: string;
  /** null: any port matches. */
  port: number | null;
}

export interface Finding {
  rule: string;
  severity: Severity;
  target: string;
  title: string;
  evidence: string;
  remediation: string;
  /**
   * What the finding is about when a rule reports several alike on one miner (a pool's URL and
   * user, a credential): it tells them apart in SARIF fingerprints, run to run. Not in the JSON.
   */
  subject?: string;
}

export interface RuleDefinition {
  id: string;
  name: string;
  /** The severity a finding of this rule usually carries (SARIF defaultConfiguration). */
  defaultSeverity: Severity;
  shortDescription: string;
  fullDescription: string;
  help: string;
  /** Pure: what was read in, findings out. */
  evaluate(input: AuditInput, policy: AuditPolicy): Finding[];
}

/** A target that was tried but could not be audited (or did not answer). */
export interface AuditFailure {
  target: string;
  /** A miner error kind, or `interrupted` when Ctrl-C came before the target was audited. */
  kind: MinerErrorKind | 'interrupted';
  message: string;
  /** True when this address came from a range or CIDR, where silence is expected. */
  fromRange: boolean;
  /**
   * True when the miner answered and was audited, but some of its reads got no answer (it hung, reset
   * or went away): the checks that needed them were not done, and its row of findings is not complete.
   */
  partial?: true;
}

/**
 * An endpoint of a range or network that accepted a connection but did not answer as a CGMiner API
 * (`hashctl scan` calls it `open`): not audited, listed under "not checked".
 */
export interface OpenEndpoint {
  target: string;
  kind: MinerErrorKind;
  /** Why it is not a miner API, in the scanner's words. */
  reason: string;
}

export interface AuditCoverage {
  checked: string[];
  notChecked: string[];
}

export interface AuditReport {
  startedAt: string;
  finishedAt: string;
  targets: number;
  /** Targets discovery got to: fewer than `targets` when the run was interrupted. */
  tried: number;
  /** Ctrl-C (or SIGTERM) stopped the run: the report covers only what was done before it. */
  interrupted: boolean;
  miners: AuditedMiner[];
  findings: Finding[];
  failures: AuditFailure[];
  /** Range endpoints with a port open but no miner API behind it, in target order. */
  open: OpenEndpoint[];
  coverage: AuditCoverage;
}

export interface AuditedMiner {
  target: string;
  make: string;
  model: string | null;
  /** As the snapshot has it (probe, scan, control): `{name, version}`, never a string to split. */
  firmware: { name: string; version: string | null } | null;
  dialect: Dialect;
}
