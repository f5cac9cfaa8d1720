// rpc-write-access: a firmware that answers `privileged` and `check|<write>` with E/14 (it has
// neither command) gave no answer for or against write access. The report said nothing, which reads
// as "no write access from this host", the verdict an audit must not give from an ambiguous reply.
import { describe, expect, it } from 'vitest';
import { firmwareVulnerable, rpcWriteAccess } from '../../src/audit/rules/index.js';
import type { AuditPolicy } from '../../src/audit/types.js';
import { checkReply, input, PRIVILEGED_DENIED, reply, status, versionReply } from './support/inputs.js';

const NO_POLICY: AuditPolicy = { allowedPools: null, workerPattern: null };
const UPSTREAM = versionReply({ CGMiner: '4.11.1', API: '3.7' });
const INVALID = reply(status('E', 14, 'Invalid command'));

describe('write access nobody answered for or against', () => {
  it('privileged and check both E/14 is "could not be determined", not silence', () => {
    const findings = rpcWriteAccess.evaluate(
      input({ version: UPSTREAM, privileged: INVALID, 'check|addpool': INVALID, 'check|save': INVALID }),
      NO_POLICY,
    );
    expect(findings.map((item) => [item.severity, item.title])).toEqual([
      ['info', 'Write access from this host could not be determined'],
    ]);
    expect(findings[0]?.evidence).toContain('privileged → E/14');
    expect(findings[0]?.evidence).toContain('no probe answered for or against write access');
  });

  it('a refusal still settles it: E/14 on privileged with check Access N, or E/45 on privileged', () => {
    expect(
      rpcWriteAccess.evaluate(
        input({ version: UPSTREAM, privileged: INVALID, 'check|addpool': checkReply('Y', 'N') }),
        NO_POLICY,
      ),
    ).toEqual([]);
    expect(
      rpcWriteAccess.evaluate(
        input({ version: UPSTREAM, privileged: PRIVILEGED_DENIED, 'check|addpool': INVALID }),
        NO_POLICY,
      ),
    ).toEqual([]);
  });
});

describe('check|<write> grants only with Exists Y and Access Y (audit-facts §1.2, §2.2)', () => {
  const partial = (record: Record<string, unknown>) =>
    reply(status('S', 72, 'Check command', { CHECK: [record] }));

  it('Access Y without Exists Y is not "write available"', () => {
    for (const record of [{ Access: 'Y' }, { Exists: '', Access: 'Y' }, { Exists: 'maybe', Access: 'Y' }]) {
      const reads = {
        version: UPSTREAM,
        privileged: PRIVILEGED_DENIED,
        'check|addpool': partial(record),
        'check|save': partial(record),
      };
      const findings = rpcWriteAccess.evaluate(input(reads), NO_POLICY);
      expect(
        findings.map((item) => item.severity),
        JSON.stringify(record),
      ).toEqual([]);
      const cve = firmwareVulnerable
        .evaluate(input(reads), NO_POLICY)
        .filter((item) => item.title.startsWith('CVE-2018-10057'));
      expect(cve, JSON.stringify(record)).toEqual([]);
    }
  });

  it('Exists Y, Access Y still is', () => {
    const findings = rpcWriteAccess.evaluate(
      input({ version: UPSTREAM, privileged: PRIVILEGED_DENIED, 'check|save': checkReply('Y', 'Y') }),
      NO_POLICY,
    );
    expect(findings.map((item) => item.severity)).toEqual(['high']);
  });
});
