// Report formats: the JSON contract, SARIF 2.1.0 structure, Markdown sections, table rows.
import { describe, expect, it } from 'vitest';
import { parseAllowedPools } from '../../src/audit/pools.js';
import {
  countBySeverity,
  renderJson,
  renderMarkdown,
  renderSarif,
  sarifArtifactUri,
  sortFindings,
  summaryLine,
  tableRows,
} from '../../src/audit/report.js';
import { RULES } from '../../src/audit/rules/index.js';
import { poolNotAllowed, workerMismatch } from '../../src/audit/rules/pools.js';
import type { AuditReport, Finding } from '../../src/audit/types.js';
import { input, poolsReply, versionReply } from './support/inputs.js';
import { isUriReference, sarifProblems } from './support/sarif.js';

function finding(
  rule: string,
  severity: Finding['severity'],
  target: string,
  title = `${rule} title`,
): Finding {
  return { rule, severity, target, title, evidence: `evidence | for ${rule}`, remediation: `fix ${rule}` };
}

const REPORT: AuditReport = {
  startedAt: '2026-11-27T10:00:00.000Z',
  finishedAt: '2026-11-27T10:00:05.000Z',
  targets: 4,
  tried: 4,
  interrupted: false,
  miners: [
    {
      target: '10.0.0.5:4028',
      make: 'Antminer',
      model: 'L3+',
      firmware: { name: 'antminer', version: '4.9.0' },
      dialect: 'antminer',
    },
    {
      target: '[fd00::7]:4028',
      make: 'unknown',
      model: null,
      firmware: { name: 'cgminer', version: '4.11.1' },
      dialect: 'cgminer',
    },
  ],
  findings: [
    finding('rpc-readable', 'medium', '10.0.0.5:4028'),
    finding('rpc-write-access', 'critical', '10.0.0.5:4028'),
    finding('pool-not-allowed', 'info', '[fd00::7]:4028', 'Firmware developer-fee pool (not a hijack)'),
    finding('firmware-vulnerable', 'high', '10.0.0.5:4028'),
  ],
  failures: [
    { target: '10.0.0.9:4028', kind: 'timeout', message: 'no answer in 5s', fromRange: false },
    { target: '10.0.0.10:4028', kind: 'refused', message: 'refused', fromRange: true },
  ],
  open: [
    { target: '10.0.0.11:4028', kind: 'protocol', reason: 'JSON without a CGMiner STATUS (keys: error)' },
  ],
  coverage: {
    checked: ['API access control'],
    notChecked: ['Default credentials: give --check-default-creds'],
  },
};

describe('JSON report', () => {
  it('has the contract shape, most severe first', () => {
    const document = JSON.parse(renderJson(REPORT));
    expect(document.summary).toMatchObject({
      targets: 4,
      miners: 2,
      findings: 4,
      by_severity: { info: 1, low: 0, medium: 1, high: 1, critical: 1 },
      not_audited: 1,
      open: 1,
    });
    expect(document.findings.map((item: Finding) => item.severity)).toEqual([
      'critical',
      'high',
      'medium',
      'info',
    ]);
    expect(Object.keys(document.findings[0]).sort()).toEqual([
      'evidence',
      'remediation',
      'rule',
      'severity',
      'target',
      'title',
    ]);
    expect(document.failures.map((item: { target: string }) => item.target)).toEqual(['10.0.0.9:4028']);
    expect(document.open).toEqual([
      { target: '10.0.0.11:4028', kind: 'protocol', reason: 'JSON without a CGMiner STATUS (keys: error)' },
    ]);
  });

  it('summary line and counts', () => {
    expect(countBySeverity(REPORT.findings)).toEqual({ info: 1, low: 0, medium: 1, high: 1, critical: 1 });
    expect(summaryLine(REPORT)).toBe(
      '4 findings (1 critical, 1 high, 1 medium, 1 info) on 2 miners of 4 targets; 1 target not audited',
    );
  });
});

describe('SARIF report', () => {
  const log = JSON.parse(renderSarif(REPORT));

  it('a run that audited no miner is not a clean run: no results there means nothing was checked', () => {
    // A range where nothing answered as a miner (a switch down, the wrong VLAN) exits 1; uploaded
    // anyway, an empty successful log would close every open alert as fixed.
    const empty = JSON.parse(
      renderSarif({ ...REPORT, miners: [], findings: [], failures: [], targets: 256, tried: 256 }),
    );
    expect(sarifProblems(empty)).toEqual([]);
    const invocation = empty.runs[0].invocations[0];
    expect(invocation.executionSuccessful).toBe(false);
    expect(invocation.toolExecutionNotifications).toEqual([
      expect.objectContaining({ descriptor: { id: 'no-miner' }, level: 'error' }),
    ]);
    expect(invocation.toolExecutionNotifications[0].message.text).toMatch(/no miner answered on 256 target/);
    // A run with miners stays successful.
    expect(log.runs[0].invocations[0].executionSuccessful).toBe(true);
  });

  it('is a structurally valid SARIF 2.1.0 log for code scanning', () => {
    expect(sarifProblems(log)).toEqual([]);
    expect(log.runs[0].tool.driver.name).toBe('hashctl');
    expect(log.runs[0].tool.driver.rules.map((rule: { id: string }) => rule.id)).toEqual(
      RULES.map((rule) => rule.id),
    );
    expect(log.runs[0].results).toHaveLength(4);
  });

  it('maps severities to levels and miners to stable locations', () => {
    const results = log.runs[0].results;
    expect(results.map((result: { level: string }) => result.level)).toEqual([
      'error',
      'error',
      'warning',
      'note',
    ]);
    expect(results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('miners/10.0.0.5_4028');
    expect(results[0].locations[0].logicalLocations[0].fullyQualifiedName).toBe('miner://10.0.0.5:4028');
    expect(sarifArtifactUri('[fd00::7]:4028')).toBe('miners/fd00--7_4028');
    const again = JSON.parse(renderSarif(REPORT)).runs[0].results;
    expect(again.map((result: { partialFingerprints: object }) => result.partialFingerprints)).toEqual(
      results.map((result: { partialFingerprints: object }) => result.partialFingerprints),
    );
  });

  it('a link-local IPv6 target with a zone (`%eth0`) is a valid URI in the log (parse only, no traffic)', () => {
    const zoned = '[fe80::1%eth0]:4028';
    const withZone: AuditReport = {
      ...REPORT,
      findings: [finding('rpc-readable', 'medium', zoned)],
      failures: [{ target: '[fe80::2%eth0]:4028', kind: 'timeout', message: 'no answer', fromRange: false }],
    };
    const zonedLog = JSON.parse(renderSarif(withZone));
    expect(sarifProblems(zonedLog)).toEqual([]);
    const notification = zonedLog.runs[0].invocations[0].toolExecutionNotifications[0];
    const uri = notification.locations[0].physicalLocation.artifactLocation.uri;
    expect(isUriReference(uri)).toBe(true);
    // The zone is still told apart, and addresses without one keep the locations they had.
    expect(sarifArtifactUri(zoned)).not.toBe(sarifArtifactUri('[fe80::1%eth1]:4028'));
    expect(sarifArtifactUri('[fd00::7]:4028')).toBe('miners/fd00--7_4028');
    expect(sarifArtifactUri('rig-1.farm:4028')).toBe('miners/rig-1.farm_4028');
  });

  it('gives each result its own fingerprint, kept when another pool comes or goes', () => {
    // Two hijacked pools on one miner are two alerts: with one fingerprint, code scanning merges
    // them and the second hijack is never shown.
    const policy = {
      allowedPools: parseAllowedPools('stratum+tcp://pool.example.com:3333\n', 'pools.txt'),
      workerPattern: /^farm\./,
    };
    const pools = (urls: string[]) =>
      input({
        version: versionReply({ CGMiner: '4.11.1', API: '3.7' }),
        pools: poolsReply(urls.map((URL) => ({ URL, User: 'thief.1', Status: 'Dead', Priority: 5 }))),
      });
    const fingerprints = (miner: ReturnType<typeof pools>) => {
      const findings = [...poolNotAllowed.evaluate(miner, policy), ...workerMismatch.evaluate(miner, policy)];
      const sarif = JSON.parse(renderSarif({ ...REPORT, findings }));
      expect(sarifProblems(sarif)).toEqual([]);
      return sarif.runs[0].results.map(
        (result: { partialFingerprints: Record<string, string> }) =>
          result.partialFingerprints['hashctlFinding/v1'],
      ) as string[];
    };
    const both = fingerprints(
      pools(['stratum+tcp://evil-a.example:3333', 'stratum+tcp://evil-b.example:3333']),
    );
    expect(both).toHaveLength(4);
    expect(new Set(both).size).toBe(4);
    // evil-a gone: evil-b's alerts keep the fingerprints they had.
    const one = fingerprints(pools(['stratum+tcp://evil-b.example:3333']));
    expect(one).toHaveLength(2);
    for (const fingerprint of one) expect(both).toContain(fingerprint);
    // Findings alike in everything a rule says: still one result each.
    const twins = JSON.parse(
      renderSarif({ ...REPORT, findings: [REPORT.findings[0] as Finding, REPORT.findings[0] as Finding] }),
    ).runs[0].results.map((result: { partialFingerprints: object }) => result.partialFingerprints);
    expect(new Set(twins.map((item: object) => JSON.stringify(item))).size).toBe(2);
  });

  it('the checker itself catches broken logs', () => {
    const broken = JSON.parse(renderSarif(REPORT));
    broken.version = '2.0.0';
    broken.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri = 'miner://10.0.0.5:4028';
    delete broken.runs[0].results[1].message;
    broken.runs[0].results[2].ruleId = 'no-such-rule';
    expect(sarifProblems(broken)).toEqual([
      'version must be "2.1.0"',
      'results[0] artifact uri must be repository-relative, got miner://10.0.0.5:4028',
      'results[1].message.text is required',
      'results[2].ruleId must name a driver rule',
      'results[2].ruleIndex must point at its rule',
    ]);
  });
});

describe('Markdown and table', () => {
  it('a URL a miner reports is not made a link by the viewer (autolink)', () => {
    const text = renderMarkdown({
      ...REPORT,
      findings: [
        {
          ...finding('pool-not-allowed', 'critical', '10.0.0.5:4028'),
          evidence: 'pool 0 http://phish.example/update and www.phish.example (user a)',
        },
      ],
    });
    expect(text).toContain('pool 0 http\\://phish.example/update and www\\.phish.example (user a)');
    expect(text).not.toMatch(/http:\/\/phish|www\.phish/);
  });

  it('Markdown has summary, findings by severity, remediation and coverage', () => {
    const text = renderMarkdown(REPORT);
    for (const heading of [
      '## Summary',
      '### Critical (1)',
      '### High (1)',
      '### Info (1)',
      '## Remediation by rule',
      '## What was checked',
      '## What was not checked',
      '## Targets not audited',
    ]) {
      expect(text).toContain(heading);
    }
    expect(text.indexOf('### Critical')).toBeLessThan(text.indexOf('### High'));
    expect(text).toContain('| 10.0.0.9:4028 | timeout |');
    expect(text).not.toContain('10.0.0.10:4028');
  });

  it('Markdown shows what miners said without a raw control character, each cell one line', () => {
    const evil = 'S9\u001b]0;PWNED\u0007\u001b[2J\u001b[31mRED\r\nFAKE\tROW\u202e';
    const text = renderMarkdown({
      ...REPORT,
      miners: [{ ...REPORT.miners[0]!, model: evil }],
      findings: [{ ...finding('rpc-readable', 'medium', '10.0.0.5:4028'), evidence: `pool ${evil}` }],
    });
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    // terminalSafe's `\x1b` notation, its backslash and brackets escaped: rendered, it reads as written.
    expect(text).toContain('| S9\\\\x1b\\]0;PWNED\\\\x07\\\\x1b\\[2J\\\\x1b\\[31mRED FAKE ROW\\\\u202e |');
    expect(text).toContain('- Evidence: pool S9\\\\x1b\\]0;PWNED');
  });

  it('JSON and SARIF carry what miners said in visible form: no ESC for jq -r, no raw bidi', () => {
    const evil = 'S9\u001b]8;;http://evil.invalid\u0007CLICK\u001b]8;;\u0007\u001b[2J\u202e';
    const report = {
      ...REPORT,
      findings: [{ ...finding('rpc-readable', 'medium', '10.0.0.5:4028'), evidence: `model ${evil}` }],
    };
    for (const text of [renderJson(report), renderSarif(report)]) {
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
      const decoded = JSON.stringify(JSON.parse(text));
      // Decoded (what `jq -r` prints), the evidence holds no control character either.
      expect(decoded).not.toMatch(/\\u001b|\\u0007|\u202e/);
      expect(decoded).toContain('model S9\\\\x1b]8;;http://evil.invalid');
    }
  });

  it('Markdown shows what miners said as text, never as a link, an image or HTML', () => {
    const url =
      'stratum+tcp://p.example:3333/![x](https://evil.example/t.png)<img src=x onerror=alert(1)>[update](http://evil.example)';
    const text = renderMarkdown({
      ...REPORT,
      miners: [{ ...REPORT.miners[0]!, model: '*S19* | <b>XP</b>' }],
      findings: [
        {
          ...finding('pool-not-allowed', 'high', '10.0.0.5:4028'),
          evidence: `pool 0 ${url} is not in --allowed-pools`,
        },
      ],
    });
    const evidence = text.split('\n').find((line) => line.startsWith('- Evidence: '))!;
    // Every character that would open markup is escaped, so renderers show it as written.
    expect(evidence).not.toMatch(/(?<!\\)[[\]<>`*_|]/);
    expect(evidence).toContain('!\\[x\\](https\\://evil.example/t.png)\\<img src=x onerror=alert(1)\\>');
    expect(text).toContain('| \\*S19\\* \\| \\<b\\>XP\\</b\\> |');
  });

  it('Markdown shows an HTML entity or a math span a miner sent as written, not as what it stands for', () => {
    const text = renderMarkdown({
      ...REPORT,
      miners: [{ ...REPORT.miners[0]!, model: 'S19 &#x202e;XP' }],
      findings: [
        {
          ...finding('worker-mismatch', 'high', '10.0.0.5:4028'),
          evidence: 'pool 0: user "&lt;b&gt;admin&lt;/b&gt; $\\text{ok}$"',
        },
      ],
    });
    expect(text).toContain('| S19 \\&#x202e;XP |');
    const evidence = text.split('\n').find((line) => line.startsWith('- Evidence: '))!;
    expect(evidence).toContain('\\&lt;b\\&gt;admin\\&lt;/b\\&gt; \\$\\\\text{ok}\\$');
    expect(evidence).not.toMatch(/(?<!\\)[&$]/);
  });

  it('table rows are grouped by severity', () => {
    const { head, rows } = tableRows(REPORT);
    expect(head).toEqual(['severity', 'target', 'rule', 'title', 'evidence']);
    expect(rows.map((row) => row.severity)).toEqual(['critical', 'high', 'medium', 'info']);
    expect(sortFindings([...REPORT.findings].reverse()).map((item) => item.rule)).toEqual(
      rows.map((row) => row.cells[2]),
    );
  });
});
