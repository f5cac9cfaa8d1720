// What the read-only probes say about access from this host (audit-facts §2.1–§2.2):
// `privileged` → S/46 (W access) or E/45; `check|<write>` → CHECK {Exists, Access}.
import { records } from './identify.js';
import type { AuditInput, ReadOutcome } from './types.js';

export type PrivilegedAnswer = 'granted' | 'denied' | 'unsupported' | 'no-access' | 'not-read' | 'unknown';
export type CheckAnswer = 'accessible' | 'denied' | 'absent' | 'unsupported' | 'unknown';

export interface AccessAssessment {
  privileged: PrivilegedAnswer;
  /** Per write command probed with `check|<cmd>`. */
  checks: Record<string, CheckAnswer>;
  /** 'yes' when any probe shows a write is available from this host. */
  write: 'yes' | 'no' | 'unknown';
  /** Data reads that answered S/I (pools, summary, …). */
  readable: string[];
}

const DATA_READS = [
  'summary',
  'pools',
  'stats',
  'devs',
  'edevs',
  'devdetails',
  'config',
  'version',
  'get_miner_info',
  'status',
];

export function describeOutcome(outcome: ReadOutcome | undefined): string {
  if (outcome === undefined) return 'not read';
  if (!outcome.ok)
    return `${outcome.error.kind}${outcome.error.code === null ? '' : ` ${outcome.error.code}`}`;
  return `${outcome.status}/${outcome.code ?? '-'}${outcome.msg ? ` "${outcome.msg}"` : ''}`;
}

export function classifyPrivileged(outcome: ReadOutcome | undefined): PrivilegedAnswer {
  if (outcome === undefined) return 'not-read';
  if (!outcome.ok) {
    if (outcome.error.kind === 'empty_reply') return 'no-access';
    if (outcome.error.kind === 'denied' || outcome.error.code === 45) return 'denied';
    if (outcome.error.code === 14) return 'unsupported';
    return 'unknown';
  }
  // A grant is S/46 "Privileged access OK" (CGMINER-API §7, §15); a reply without a code counts only
  // with that message. Any other S (a firmware, or a peer, that answers every command alike) is no
  // grant: called one, a reviewer would hand on a critical finding nobody can reproduce.
  if (
    outcome.status === 'S' &&
    (outcome.code === 46 || (outcome.code === null && /^privileged access ok/i.test(outcome.msg ?? '')))
  )
    return 'granted';
  if (outcome.code === 45) return 'denied';
  if (outcome.code === 14) return 'unsupported';
  // Whatsminer and others answer with their own codes; anything not S is not a grant.
  return outcome.status === 'S' ? 'unknown' : 'unsupported';
}

export function classifyCheck(outcome: ReadOutcome | undefined): CheckAnswer {
  if (outcome === undefined) return 'unknown';
  if (!outcome.ok) {
    if (outcome.error.kind === 'denied' || outcome.error.code === 45) return 'denied';
    if (outcome.error.code === 14) return 'unsupported';
    return 'unknown';
  }
  if (outcome.status === 'E' || outcome.status === 'F') {
    // E/45 on `check` itself: a restricted custom group (stock Antminer), so no write either (§2.2).
    if (outcome.code === 45) return 'denied';
    return 'unsupported';
  }
  const record = records(outcome, 'CHECK')[0];
  if (!record) return 'unknown';
  const exists = String(record.Exists ?? '').toUpperCase();
  const access = String(record.Access ?? '').toUpperCase();
  if (exists === 'N') return 'absent';
  // A grant is Exists Y and Access Y (audit-facts §1.2, §2.2): Access Y with Exists missing or
  // unreadable is no answer a reviewer could hand on as "write available".
  if (access === 'Y') return exists === 'Y' ? 'accessible' : 'unknown';
  if (access === 'N') return 'denied';
  return 'unknown';
}

export function assessAccess(input: AuditInput): AccessAssessment {
  const privileged = classifyPrivileged(input.reads.privileged);
  const checks: Record<string, CheckAnswer> = {};
  for (const [key, outcome] of Object.entries(input.reads)) {
    if (key.startsWith('check|')) checks[key.slice('check|'.length)] = classifyCheck(outcome);
  }
  const answers = Object.values(checks);
  let write: AccessAssessment['write'] = 'unknown';
  if (privileged === 'granted' || answers.includes('accessible')) write = 'yes';
  else if (
    (privileged === 'denied' || privileged === 'no-access') &&
    answers.every((answer) => answer === 'denied' || answer === 'absent')
  )
    write = 'no';
  else if (
    privileged === 'unsupported' &&
    answers.length > 0 &&
    answers.every((answer) => answer === 'denied')
  )
    write = 'no';
  const readable = DATA_READS.filter((command) => {
    const outcome = input.reads[command];
    return outcome?.ok === true && (outcome.status === 'S' || outcome.status === 'I');
  });
  return { privileged, checks, write, readable };
}
