// Known vulnerabilities and how to recognise an affected miner from read-only replies.
// Built from audit-facts.md §1.1 and the matching rules of §1.2; each entry keeps its source.
import type { AccessAssessment } from './access.js';
import { compareVersions } from './identify.js';
import type { AuditInput, FirmwareIdentity, Severity } from './types.js';

export interface Vulnerability {
  id: string;
  title: string;
  /** CVSS where a database record gives one. */
  cvss: number | null;
  sources: string[];
  remediation: string;
  match(context: MatchContext): VulnerabilityMatch | null;
}

export interface MatchContext {
  identity: FirmwareIdentity;
  access: AccessAssessment;
  /** Open TCP ports when --services ran, else null. */
  openPorts: number[] | null;
  input: AuditInput;
}

export interface VulnerabilityMatch {
  severity: Severity;
  evidence: string;
}

const BITMAIN_FAMILY = new Set(['antminer', 'vnish', 'hiveon']);

function exploitability(
  access: AccessAssessment,
  exploitable: Severity,
): { severity: Severity; note: string } {
  if (access.write === 'yes')
    return { severity: exploitable, note: 'this host has write access, so it is exploitable from here' };
  if (access.write === 'no')
    return {
      severity: 'info',
      note: 'vulnerable code base; not exploitable from this host (no write access)',
    };
  return { severity: 'low', note: 'write access from this host could not be determined' };
}

/** True when `model` belongs to one of the model families (`S9` matches `Antminer S9i`, `S9 Hydro`, not `S19`). */
function modelIn(model: string | null, families: string[]): boolean {
  if (model === null) return false;
  const bare = model.replace(/^antminer\s+/i, '').toUpperCase();
  return families.some((family) => new RegExp(`^${family.replace('+', '\\+')}(?![0-9+])`, 'i').test(bare));
}

function dateRule(
  identity: FirmwareIdentity,
  models: string[],
  affected: (date: string) => boolean,
  label: string,
  severity: Severity,
): VulnerabilityMatch | null {
  if (!BITMAIN_FAMILY.has(identity.dialect) || !modelIn(identity.model, models)) return null;
  if (identity.compileDate === null) {
    // A free-text CompileTime that does not parse is "unknown", never "clean" (audit-facts §1.2).
    return {
      severity: 'info',
      evidence:
        identity.compileTime === null
          ? `${identity.model}: no CompileTime reported; ${label} status unknown`
          : `${identity.model}: CompileTime ${JSON.stringify(identity.compileTime)} does not parse; ${label} status unknown`,
    };
  }
  if (!affected(identity.compileDate)) return null;
  return {
    severity,
    evidence: `${identity.model} with CompileTime ${identity.compileTime} (${identity.compileDate})`,
  };
}

export const VULNERABILITIES: readonly Vulnerability[] = [
  {
    id: 'CVE-2018-10058',
    title: 'cgminer/bfgminer API buffer overflow (RCE) in addpool, save, failover-only, poolquota',
    cvss: 8.8,
    sources: [
      'https://osv.dev/vulnerability/CVE-2018-10058',
      'https://www.openwall.com/lists/oss-security/2018/06/03/1',
    ],
    remediation:
      'Upgrade to firmware built on cgminer 4.11.0 or later (bfgminer > 5.5.0) and restrict api-allow so no untrusted host has W access.',
    match({ identity, access }) {
      const { versions } = identity;
      const reasons: string[] = [];
      const unparsed: string[] = [];
      const older = (key: 'CGMiner' | 'BFGMiner', fixed: string, inclusive: boolean) => {
        const value = versions[key];
        if (value === undefined) return;
        const order = compareVersions(value, fixed);
        // A version that does not parse is "unknown", never "clean" (audit-facts §1.2).
        if (order === null) unparsed.push(`${key} ${JSON.stringify(value)}`);
        else if (order < 0 || (inclusive && order === 0))
          reasons.push(`${key} ${value} ${inclusive ? '<=' : '<'} ${fixed}`);
      };
      older('CGMiner', '4.11.0', false);
      older('BFGMiner', '5.5.0', true);
      // Bitmain's published bmminer keeps the same unbounded sprintf in message() (audit-facts §1.1).
      if (versions.BMMiner !== undefined)
        reasons.push(`BMMiner ${versions.BMMiner} (Bitmain bmminer code base)`);
      if (reasons.length === 0) {
        if (unparsed.length === 0) return null;
        return {
          severity: 'info',
          evidence: `version: ${unparsed.join('; ')} does not parse as a version; CVE-2018-10058 status unknown`,
        };
      }
      const { severity, note } = exploitability(access, 'high');
      return { severity, evidence: `version: ${reasons.join('; ')}; ${note}` };
    },
  },
  {
    id: 'CVE-2018-10057',
    title: 'cgminer `save` writes the configuration to any path (path traversal)',
    cvss: 6.5,
    sources: ['https://osv.dev/vulnerability/CVE-2018-10057'],
    remediation: 'Remove W access for untrusted hosts (api-allow); upstream never restricted the save path.',
    match({ access }) {
      if (access.checks.save !== 'accessible') return null;
      return {
        severity: 'medium',
        evidence: 'check|save → Exists Y, Access Y: this host may write the config to any path',
      };
    },
  },
  {
    id: 'CVE-2018-11220',
    title: 'Antminer D3/L3+/S9 remote command execution via the web UI system restore',
    cvss: null,
    sources: ['https://www.cve.org/CVERecord?id=CVE-2018-11220', 'https://www.exploit-db.com/exploits/44779'],
    remediation:
      'Update to a firmware built after mid-2018 and keep the web UI (port 80) off untrusted networks.',
    match: ({ identity }) =>
      dateRule(identity, ['S9', 'L3+', 'D3'], (date) => date <= '2018-06-30', 'CVE-2018-11220', 'high'),
  },
  {
    id: 'Antbleed',
    title: 'firmware phones home to auth.minerlink.com and can be remotely stopped',
    cvss: null,
    sources: ['https://github.com/bitmaintech/bmminer/issues/7'],
    remediation:
      'Update the firmware (removed 2017-04-27); meanwhile block DNS for auth.minerlink.com and outbound TCP 7000.',
    match: ({ identity }) =>
      dateRule(
        identity,
        ['S9', 'T9', 'R4', 'L3', 'L3+'],
        (date) => date >= '2016-07-01' && date < '2017-04-27',
        'Antbleed',
        'high',
      ),
  },
  {
    id: 'CVE-2022-24657',
    title: 'Goldshell firmware 2.1.x hardcoded SSH credentials (remote root)',
    cvss: null,
    sources: ['https://www.cve.org/CVERecord?id=CVE-2022-24657'],
    remediation: 'Update the Goldshell firmware past 2.1.x and block TCP 22 from untrusted networks.',
    match({ identity, openPorts, input }) {
      if (identity.dialect !== 'goldshell') return null;
      // Port 22 left unprobed by a Ctrl-C is not closed: unknown, as without --services.
      if (input.services?.some((probe) => probe.port === 22 && probe.open === null))
        return {
          severity: 'medium',
          evidence:
            'Goldshell miner; TCP 22 was not probed (interrupted before it was), so SSH exposure is unknown',
        };
      if (openPorts === null)
        return {
          severity: 'medium',
          evidence:
            'Goldshell miner; its firmware version is not readable over 4028; run with --services to test port 22',
        };
      if (!openPorts.includes(22)) return null;
      return { severity: 'critical', evidence: 'Goldshell miner with TCP 22 (SSH) open' };
    },
  },
];
