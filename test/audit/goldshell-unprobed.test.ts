// CVE-2022-24657 (Goldshell, SSH on 22): a port 22 that a Ctrl-C left unprobed is not a closed one.
// The finding said "run with --services" without --services and nothing at all once port 22 was
// unprobed: the one result that tells the operator to look went missing exactly when it was unknown.
import { describe, expect, it } from 'vitest';
import { firmwareVulnerable } from '../../src/audit/rules/index.js';
import type { AuditPolicy, ServiceProbe } from '../../src/audit/types.js';
import { input, versionReply } from './support/inputs.js';

const NO_POLICY: AuditPolicy = { allowedPools: null, workerPattern: null };
const goldshell = versionReply({ BFGMiner: 'INTCHAINS_QOMO 1.0', API: '3.7' });

function goldshellFinding(services: ServiceProbe[] | null) {
  return firmwareVulnerable
    .evaluate(input({ version: goldshell }, { services }), NO_POLICY)
    .find((item) => item.title.startsWith('CVE-2022-24657'));
}

describe('Goldshell CVE-2022-24657 and port 22', () => {
  it('port 22 not probed (interrupted) is unknown, not clean', () => {
    const unprobed = goldshellFinding([
      { port: 22, service: 'ssh', open: null },
      { port: 80, service: 'http', open: true },
    ]);
    expect(unprobed?.severity).toBe('medium');
    expect(unprobed?.evidence).toContain('22');
    expect(unprobed?.evidence).toContain('not probed');
  });

  it('open is critical, closed is no finding, no --services is medium', () => {
    expect(goldshellFinding([{ port: 22, service: 'ssh', open: true }])?.severity).toBe('critical');
    expect(goldshellFinding([{ port: 22, service: 'ssh', open: false }])).toBeUndefined();
    expect(goldshellFinding(null)?.severity).toBe('medium');
  });
});
