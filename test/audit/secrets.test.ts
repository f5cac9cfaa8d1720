// A report is handed on (a ticket, a vendor, a code-scanning upload): it must never carry a secret
// a miner disclosed. A pool URL may hold a password in its user-info or a token in its query.
import { describe, expect, it } from 'vitest';
import { parseAllowedPools } from '../../src/audit/pools.js';
import { renderJson, renderMarkdown, renderSarif, tableRows } from '../../src/audit/report.js';
import { evaluateRules } from '../../src/audit/rules/index.js';
import type { AuditReport } from '../../src/audit/types.js';
import { input, poolsReply, versionReply } from './support/inputs.js';

const SECRETS = ['S3cretPass', 'S3cretQuery', 'T0kenABC'];

const pools = poolsReply([
  { URL: 'stratum+tcp://farm.w1:S3cretPass@pool.example.com:3333', User: 'farm.w1' },
  { URL: 'stratum+tcp://other.example.net:3333?password=S3cretQuery&token=T0kenABC', User: 'farm.w1' },
  { URL: 'stratum+tcp://evil.example:4242@pool.example.com:3333', User: 'thief.1' },
  { URL: 'stratum+tcp://pool.example.com:3333', User: 'farm.w2' },
]);

function report(): AuditReport {
  const miner = input({ version: versionReply({ CGMiner: '4.11.1', API: '3.7' }), pools });
  const findings = evaluateRules(miner, {
    allowedPools: parseAllowedPools('stratum+tcp://pool.example.com:3333\n', 'allowed'),
    workerPattern: /^farm\.w1$/,
  });
  return {
    startedAt: '2026-11-27T10:00:00.000Z',
    finishedAt: '2026-11-27T10:00:05.000Z',
    targets: 1,
    tried: 1,
    interrupted: false,
    miners: [
      {
        target: miner.target.key,
        make: 'unknown',
        model: null,
        firmware: { name: 'cgminer', version: '4.11.1' },
        dialect: 'cgminer',
      },
    ],
    findings,
    failures: [],
    open: [],
    coverage: { checked: [], notChecked: [] },
  };
}

describe('secrets a miner discloses in its pool URLs', () => {
  const audited = report();
  const rendered = {
    json: renderJson(audited),
    sarif: renderSarif(audited),
    markdown: renderMarkdown(audited),
    table: tableRows(audited)
      .rows.map((row) => row.cells.join('\t'))
      .join('\n'),
  };

  it('the pools are still reported (not allowed, extra, worker mismatch)', () => {
    const rules = new Set(audited.findings.map((f) => f.rule));
    expect(rules).toEqual(new Set(['rpc-readable', 'pool-not-allowed', 'pool-extra', 'worker-mismatch']));
  });

  for (const [format, text] of Object.entries(rendered)) {
    it(`${format}: no user-info password or query value, while the hosts stay named`, () => {
      for (const secret of SECRETS) expect(text).not.toContain(secret);
      // What follows a ':' before the '@' is a password to a URL parser: said as hidden, even a number.
      expect(text).not.toMatch(/evil\\?\.example:4242/);
      // The disguised host before the '@' is the evidence of the hijack: kept.
      expect(text).toMatch(/evil\\?\.example/);
      expect(text).toMatch(/other\\?\.example\\?\.net/);
    });
  }
});
