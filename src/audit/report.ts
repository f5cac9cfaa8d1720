// Report formats: JSON (the contract), SARIF 2.1.0 for code-scanning tools, Markdown for people, and a
// table (TTY) / TSV (pipe). Renderers are pure: report in, string out.
import { createHash } from 'node:crypto';
import { jsonText, oneLine, terminalSafe } from '../output/terminal.js';
import { VERSION } from '../version.js';
import { RULES } from './rules/index.js';
import {
  type AuditFailure,
  type AuditReport,
  type Finding,
  SEVERITIES,
  type Severity,
  severityRank,
} from './types.js';

export const REPORT_FORMATS = ['table', 'json', 'sarif', 'markdown'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const DESCENDING: readonly Severity[] = [...SEVERITIES].reverse();

/** Most severe first, then by target and rule, so reports are stable run to run. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.target.localeCompare(b.target, 'en', { numeric: true }) ||
      a.rule.localeCompare(b.rule) ||
      a.title.localeCompare(b.title),
  );
}

export function countBySeverity(findings: readonly Finding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
  for (const item of findings) counts[item.severity]++;
  return counts;
}

/** `3 findings (1 critical, 2 high) on 2 miners of 5 targets` */
export function summaryLine(report: AuditReport): string {
  const counts = countBySeverity(report.findings);
  const parts = DESCENDING.filter((severity) => counts[severity] > 0).map(
    (severity) => `${counts[severity]} ${severity}`,
  );
  const findings = `${report.findings.length} finding${report.findings.length === 1 ? '' : 's'}`;
  const failed = notAudited(report).length;
  const partial = auditedInPart(report).length;
  return (
    `${findings}${parts.length ? ` (${parts.join(', ')})` : ''} on ${report.miners.length} miner${report.miners.length === 1 ? '' : 's'} ` +
    `of ${report.targets} target${report.targets === 1 ? '' : 's'}${failed ? `; ${failed} target${failed === 1 ? '' : 's'} not audited` : ''}` +
    `${partial ? `; ${partial} miner${partial === 1 ? '' : 's'} audited in part` : ''}` +
    `${report.interrupted ? `; INTERRUPTED after ${report.tried} of ${report.targets} target${report.targets === 1 ? '' : 's'} tried: partial report` : ''}`
  );
}

/** What a partial report says first, in every format that is handed on. */
export function interruptedNotice(report: AuditReport): string {
  return (
    `Interrupted (Ctrl-C): this report is partial. ${report.tried} of ${report.targets} target(s) were tried ` +
    'before the interrupt; targets not tried and miners not audited have no findings here.'
  );
}

/** Named targets (or miners) that could not be audited at all. */
export function notAudited(report: AuditReport): AuditFailure[] {
  return report.failures.filter((failure) => !failure.fromRange && failure.partial !== true);
}

/** Miners audited, but with reads that got no answer: their findings are not complete. */
export function auditedInPart(report: AuditReport): AuditFailure[] {
  return report.failures.filter((failure) => failure.partial === true);
}

/** The counts of a report, as its JSON form and `audit --json --out` print them. */
export function summaryJson(report: AuditReport) {
  return {
    interrupted: report.interrupted,
    targets: report.targets,
    tried: report.tried,
    miners: report.miners.length,
    findings: report.findings.length,
    by_severity: countBySeverity(report.findings),
    not_audited: notAudited(report).length,
    audited_in_part: auditedInPart(report).length,
    open: report.open.length,
    started_at: report.startedAt,
    finished_at: report.finishedAt,
  };
}

export function renderJson(report: AuditReport): string {
  const document = {
    summary: summaryJson(report),
    findings: sortFindings(report.findings.map(visibleFinding)).map((item) => ({
      rule: item.rule,
      severity: item.severity,
      target: item.target,
      title: item.title,
      evidence: item.evidence,
      remediation: item.remediation,
    })),
    miners: report.miners,
    // `fromRange` only chooses what is listed (a silent address of a range is expected): it is not
    // part of the document, whose names are snake_case as everywhere else.
    failures: report.failures
      .filter((failure) => !failure.fromRange)
      .map(({ fromRange: _, ...failure }) => failure),
    open: report.open,
    checked: report.coverage.checked,
    not_checked: report.coverage.notChecked,
  };
  return `${jsonText(document, 2)}\n`;
}

/**
 * A finding whose words (which quote what the miner said: its model, a pool URL) are in their
 * visible form, as the report's miner fields are: `jq -r '.findings[].evidence'` must not hand a
 * terminal a miner's escape sequences.
 */
function visibleFinding(item: Finding): Finding {
  return {
    ...item,
    title: terminalSafe(item.title, true),
    target: terminalSafe(item.target, true),
    evidence: terminalSafe(item.evidence, true),
  };
}

/** SARIF `level` for a severity: GitHub shows error/warning/note. */
export function sarifLevel(severity: Severity): 'error' | 'warning' | 'note' {
  if (severity === 'critical' || severity === 'high') return 'error';
  if (severity === 'medium') return 'warning';
  return 'note';
}

/** GitHub's security-severity scale: critical > 9.0, high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9. */
export const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

/**
 * Code scanning accepts only repository-relative paths as artifact URIs, so a miner becomes
 * `miners/10.0.0.5_4028`; the real address sits in logicalLocations and properties. What a URI
 * may not hold is percent-encoded (SARIF §3.4.3): the `%` of a link-local address's zone
 * (`fe80::1%eth0` → `fe80--1%25eth0`) made the log invalid.
 */
export function sarifArtifactUri(target: string): string {
  const path = target
    .replace(/[[\]]/g, '')
    .replace(/:(\d+)$/, '_$1')
    .replace(/:/g, '-');
  return `miners/${path.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=@]/g, (char) => encodeURIComponent(char))}`;
}

export function renderSarif(report: AuditReport): string {
  // One fingerprint per result: code scanning merges results that share one, so two findings alike
  // in rule, target and title (two foreign pools) are told apart by their subject, and findings
  // alike in everything by their order.
  const seen = new Map<string, number>();
  const fingerprint = (item: Finding): string => {
    const base = `${item.rule}\n${item.target}\n${item.title}${item.subject === undefined ? '' : `\n${item.subject}`}`;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return createHash('sha256')
      .update(count === 1 ? base : `${base}\n#${count}`)
      .digest('hex');
  };
  const ruleIndex = new Map(RULES.map((rule, index) => [rule.id, index]));
  // A miner that could not be audited has no results: said here, so "no results" never reads as clean.
  // Nothing answered as a miner (a switch down, the wrong VLAN): the run exits 1, and an empty log
  // that read as successful would close every open alert as fixed when uploaded anyway.
  const noMiner = !report.interrupted && report.miners.length === 0;
  const notifications = [
    ...(report.interrupted
      ? [{ descriptor: { id: 'interrupted' }, level: 'error', message: { text: interruptedNotice(report) } }]
      : []),
    ...(noMiner
      ? [
          {
            descriptor: { id: 'no-miner' },
            level: 'error',
            message: {
              text: `no miner answered on ${report.targets} target(s): nothing was audited, so no results does not mean clean`,
            },
          },
        ]
      : []),
    ...[...notAudited(report), ...auditedInPart(report)].map((failure) => ({
      descriptor: { id: failure.partial ? 'audited-in-part' : 'not-audited' },
      level: failure.partial ? 'warning' : 'error',
      message: {
        text: terminalSafe(
          failure.partial
            ? `${failure.target}: ${failure.message}`
            : `${failure.target}: not audited (${failure.kind}): ${failure.message}`,
          true,
        ),
      },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: sarifArtifactUri(failure.target) } },
          logicalLocations: [{ fullyQualifiedName: `miner://${failure.target}`, kind: 'resource' }],
        },
      ],
      properties: { target: failure.target, kind: failure.kind },
    })),
  ];
  const document = {
    $schema: 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'hashctl',
            version: VERSION,
            semanticVersion: /^\d+\.\d+\.\d+/.test(VERSION) ? VERSION : undefined,
            rules: RULES.map((rule) => ({
              id: rule.id,
              name: rule.name,
              shortDescription: { text: rule.shortDescription },
              fullDescription: { text: rule.fullDescription },
              help: { text: rule.help, markdown: rule.help },
              defaultConfiguration: { level: sarifLevel(rule.defaultSeverity) },
              properties: {
                'security-severity': SECURITY_SEVERITY[rule.defaultSeverity],
                tags: ['security', 'mining', 'network'],
              },
            })),
          },
        },
        invocations: [
          {
            // Interrupted: the tool did not run to completion, and a viewer must not read "no results" as clean.
            executionSuccessful: !report.interrupted && !noMiner,
            startTimeUtc: report.startedAt,
            endTimeUtc: report.finishedAt,
            ...(notifications.length > 0 ? { toolExecutionNotifications: notifications } : {}),
          },
        ],
        results: sortFindings(report.findings.map(visibleFinding)).map((item) => ({
          ruleId: item.rule,
          ...(ruleIndex.has(item.rule) ? { ruleIndex: ruleIndex.get(item.rule) } : {}),
          level: sarifLevel(item.severity),
          message: { text: `${item.title} on ${item.target}: ${item.evidence}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: sarifArtifactUri(item.target) },
                region: { startLine: 1 },
              },
              logicalLocations: [{ fullyQualifiedName: `miner://${item.target}`, kind: 'resource' }],
            },
          ],
          partialFingerprints: { 'hashctlFinding/v1': fingerprint(item) },
          properties: {
            severity: item.severity,
            target: item.target,
            evidence: item.evidence,
            remediation: item.remediation,
          },
        })),
      },
    ],
  };
  return `${jsonText(document, 2)}\n`;
}

/**
 * Miner-reported text in Markdown (a table cell, evidence): one line, nothing a terminal would obey,
 * and shown as written, never as markup. A report is handed on and rendered: a pool URL holding
 * `![x](https://…)` would load an image from its author's server when the report is opened, `<a …>`
 * or `[update](…)` would put a link there that hashctl never wrote, and `|` would break the table.
 */
/** `Vnish 3.8.6`: the firmware's name and version, else the dialect the audit spoke. */
function firmwareText(miner: AuditReport['miners'][number]): string {
  if (miner.firmware === null) return miner.dialect;
  return [miner.firmware.name, miner.firmware.version].filter((part) => part !== null).join(' ');
}

function markdownText(text: string): string {
  return (
    oneLine(text)
      // `&` too: an entity is markup as well (`&lt;b&gt;` would read as `<b>`, `&#x202e;` would put
      // back the bidi override terminalSafe took out); `$` opens math on GitHub.
      .replace(/[\\`*_[\]<>|~&$]/g, '\\$&')
      // GitHub and most viewers turn a bare `http://…` or `www.…` into a link by themselves: a pool
      // URL `http://phish.example/update` must stay text. The escaped `:` or `.` reads the same.
      .replace(/:\/\//g, '\\://')
      .replace(/\bwww\./gi, (match) => `${match.slice(0, 3)}\\.`)
  );
}

const TITLE_CASE: Record<Severity, string> = {
  critical: 'Critical',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
  info: 'Info',
};

export function renderMarkdown(report: AuditReport): string {
  const counts = countBySeverity(report.findings);
  const sorted = sortFindings(report.findings);
  const lines: string[] = [];
  lines.push('# Mining farm security audit (hashctl)', '');
  if (report.interrupted) lines.push(`> **${interruptedNotice(report)}**`, '');
  lines.push(`- Generated by hashctl ${VERSION}, ${report.finishedAt} (started ${report.startedAt})`);
  const partial = auditedInPart(report).length;
  lines.push(
    `- Targets tried: ${report.interrupted ? `${report.tried} of ${report.targets}` : report.targets}; miners audited: ${report.miners.length}${partial ? ` (${partial} in part only: see "Targets not audited, or audited in part")` : ''}`,
  );
  lines.push(`- Findings: ${report.findings.length}`);
  lines.push('- Method: read-only. No write command, no `logon`, no `get_token` was sent to any miner.', '');
  lines.push('## Summary', '', '| Severity | Findings |', '|---|---|');
  for (const severity of DESCENDING) lines.push(`| ${TITLE_CASE[severity]} | ${counts[severity]} |`);
  lines.push('');
  if (report.miners.length > 0) {
    lines.push('## Miners', '', '| Target | Make | Model | Firmware |', '|---|---|---|---|');
    for (const miner of report.miners)
      lines.push(
        `| ${markdownText(miner.target)} | ${markdownText(miner.make)} | ${markdownText(miner.model ?? '-')} | ${markdownText(firmwareText(miner))} |`,
      );
    lines.push('');
  }
  lines.push('## Findings', '');
  if (sorted.length === 0) lines.push('No findings.', '');
  for (const severity of DESCENDING) {
    const group = sorted.filter((item) => item.severity === severity);
    if (group.length === 0) continue;
    lines.push(`### ${TITLE_CASE[severity]} (${group.length})`, '');
    for (const item of group) {
      lines.push(`#### ${markdownText(item.title)} — \`${item.target}\``, '');
      lines.push(`- Rule: \`${item.rule}\``);
      lines.push(`- Evidence: ${markdownText(item.evidence)}`);
      lines.push(`- Remediation: ${item.remediation}`, '');
    }
  }
  const rules = [...new Set(sorted.map((item) => item.rule))];
  if (rules.length > 0) {
    lines.push('## Remediation by rule', '');
    for (const id of rules) {
      const rule = RULES.find((candidate) => candidate.id === id);
      const targets = [...new Set(sorted.filter((item) => item.rule === id).map((item) => item.target))];
      lines.push(
        `- **${id}** (${targets.length} miner${targets.length === 1 ? '' : 's'}): ${rule?.help ?? ''}`,
      );
    }
    lines.push('');
  }
  // Plain text, escaped like the rest: these lines quote what the user gave (--worker-pattern) and
  // what a peer of a range said (the keys of a JSON reply that is not a miner's).
  lines.push('## What was checked', '');
  for (const item of report.coverage.checked) lines.push(`- ${markdownText(item)}`);
  lines.push('', '## What was not checked', '');
  for (const item of report.coverage.notChecked) lines.push(`- ${markdownText(item)}`);
  const failures = report.failures.filter((failure) => !failure.fromRange);
  if (failures.length > 0) {
    lines.push(
      '',
      partial ? '## Targets not audited, or audited in part' : '## Targets not audited',
      '',
      '| Target | Error | Detail |',
      '|---|---|---|',
    );
    for (const failure of failures)
      lines.push(`| ${markdownText(failure.target)} | ${failure.kind} | ${markdownText(failure.message)} |`);
  }
  return `${lines.join('\n')}\n`;
}

export interface TableRow {
  severity: Severity;
  cells: string[];
}

/**
 * Rows for the table/TSV view: most severe first (grouped by severity). The words in their visible
 * form, as in the other formats: a table on a terminal keeps hashctl's own colour codes, so a STATUS
 * Msg holding ESC[2m (quoted by the access rules) reached the reviewer's terminal through it.
 */
export function tableRows(report: AuditReport): { head: string[]; rows: TableRow[] } {
  return {
    head: ['severity', 'target', 'rule', 'title', 'evidence'],
    rows: sortFindings(report.findings.map(visibleFinding)).map((item) => ({
      severity: item.severity,
      cells: [item.severity, item.target, item.rule, item.title, item.evidence],
    })),
  };
}
