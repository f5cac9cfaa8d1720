// Default credentials, tried only with --check-default-creds (audit-facts §3).
import type { RuleDefinition } from '../types.js';
import { finding } from './helpers.js';

export const defaultCredentials: RuleDefinition = {
  id: 'default-credentials',
  name: 'DefaultCredentials',
  defaultSeverity: 'high',
  shortDescription: 'The miner accepts its documented default credentials',
  fullDescription:
    'With --check-default-creds the audit makes one attempt per documented default credential against a ' +
    'read-only (or login) endpoint of the firmware. Default web or API passwords give full control: pools, ' +
    'firmware upload, thermal settings. A web UI whose protected endpoint answers a request that carries no ' +
    'credential at all is reported too.',
  help: 'Change the default password on every miner (web UI, API account).',
  evaluate(input) {
    if (input.credentials === null) return [];
    const open = input.credentials
      .filter((check) => check.outcome === 'open')
      .map((check) =>
        finding(
          this,
          input,
          'high',
          `${check.surface} answers with no credential at all`,
          `${check.endpoint}: ${check.detail}: the endpoint the default password protects answered to anyone`,
          `Set a password on the ${check.surface} (and allow its port only from the management host).`,
          `${check.endpoint}\nno credential`,
        ),
      );
    return open.concat(
      input.credentials
        .filter((check) => check.outcome === 'accepted')
        .map((check) =>
          finding(
            this,
            input,
            'high',
            `${check.surface} accepts the default credentials`,
            `${check.endpoint}: ${check.username || '(empty user)'} / ${check.password === '' ? '(empty password)' : check.password} accepted (${check.detail})`,
            `Change the ${check.surface} password from the vendor default.`,
            `${check.endpoint}\n${check.username}\n${check.password}`,
          ),
        ),
    );
  },
};
