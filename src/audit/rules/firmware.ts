// Firmware matched against the known-vulnerability table (audit-facts §1).
import { assessAccess } from '../access.js';
import type { Finding, RuleDefinition } from '../types.js';
import { VULNERABILITIES } from '../vulnerabilities.js';
import { finding, minerLabel } from './helpers.js';

export const firmwareVulnerable: RuleDefinition = {
  id: 'firmware-vulnerable',
  name: 'FirmwareVulnerable',
  defaultSeverity: 'high',
  shortDescription: 'The firmware matches a known vulnerability',
  fullDescription:
    'The versions and build date the miner reports match a published vulnerability (cgminer API overflow ' +
    'CVE-2018-10058, save path traversal CVE-2018-10057, Antminer CVE-2018-11220, Antbleed, Goldshell ' +
    'CVE-2022-24657). Severity depends on whether this host can reach the vulnerable code (write access).',
  help: 'Update the firmware to a fixed build and restrict write access on TCP 4028. Each finding names its source.',
  evaluate(input) {
    const access = assessAccess(input);
    const openPorts =
      input.services === null
        ? null
        : input.services.filter((probe) => probe.open).map((probe) => probe.port);
    const results: Finding[] = [];
    for (const vulnerability of VULNERABILITIES) {
      const match = vulnerability.match({ identity: input.identity, access, openPorts, input });
      if (!match) continue;
      const cvss = vulnerability.cvss === null ? '' : ` (CVSS ${vulnerability.cvss})`;
      results.push(
        finding(
          this,
          input,
          match.severity,
          `${vulnerability.id}: ${vulnerability.title}`,
          `${minerLabel(input)}: ${match.evidence}${cvss}; source: ${vulnerability.sources.join(' ')}`,
          vulnerability.remediation,
        ),
      );
    }
    return results;
  },
};
