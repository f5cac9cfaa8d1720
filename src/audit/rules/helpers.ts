// Small pure helpers shared by the rules.
import { records } from '../identify.js';
import { shownPoolUrl } from '../pools.js';
import type { AuditInput, Finding, RuleDefinition, Severity } from '../types.js';

export interface PoolView {
  index: number;
  url: string;
  /** The URL as a report may show it: its password and query values hidden (shownPoolUrl). */
  shown: string;
  user: string | null;
  priority: number | null;
  active: boolean;
  status: string | null;
}

/** Pools from the normalized snapshot where there is one, else from the raw `pools` reply. */
export function poolsOf(input: AuditInput): PoolView[] {
  if (input.snapshot && input.snapshot.pools.length > 0) {
    return input.snapshot.pools.map((pool) => ({
      index: pool.index,
      url: pool.url,
      shown: shownPoolUrl(pool.url),
      user: pool.user,
      priority: pool.priority,
      active: pool.active,
      status: pool.status,
    }));
  }
  const raw = records(input.reads.pools, 'POOLS').map((record, position) => {
    const url = typeof record.URL === 'string' ? record.URL : '';
    return {
      index: typeof record.POOL === 'number' ? record.POOL : position,
      url,
      shown: shownPoolUrl(url),
      user: typeof record.User === 'string' && record.User !== '' ? record.User : null,
      priority: typeof record.Priority === 'number' ? record.Priority : null,
      status: typeof record.Status === 'string' ? record.Status : null,
      active: false,
    };
  });
  // The pool in use is the alive pool with the lowest priority; "Stratum Active" only means
  // connected (CGMINER-API §15).
  const alive = raw.filter((pool) => pool.url !== '' && (pool.status ?? 'Alive') === 'Alive');
  const inUse = alive.reduce<PoolView | null>(
    (best, pool) =>
      best === null || (pool.priority ?? pool.index) < (best.priority ?? best.index) ? pool : best,
    null,
  );
  return raw.map((pool) => ({ ...pool, active: pool === inUse }));
}

/** Configured pools only: firmwares pad empty slots with URL "". */
export function configuredPools(input: AuditInput): PoolView[] {
  return poolsOf(input).filter((pool) => pool.url.trim() !== '');
}

export function finding(
  rule: RuleDefinition | { id: string },
  input: AuditInput,
  severity: Severity,
  title: string,
  evidence: string,
  remediation: string,
  /** Finding.subject: set by rules that may report several alike on one miner. */
  subject?: string,
): Finding {
  const made: Finding = { rule: rule.id, severity, target: input.target.key, title, evidence, remediation };
  if (subject !== undefined) made.subject = subject;
  return made;
}

export function minerLabel(input: AuditInput): string {
  const { make, model, dialect } = input.identity;
  const prefix =
    make === 'unknown' || (model ?? '').toLowerCase().startsWith(make.toLowerCase()) ? null : make;
  const name = [prefix, model].filter(Boolean).join(' ');
  return name === '' ? dialect : `${name} (${dialect})`;
}
