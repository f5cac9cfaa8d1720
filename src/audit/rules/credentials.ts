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
    'firmware upload, thermal settings.',
  help: 'Change the default password on every miner (web UI, API account).',
  evaluate(input) {
    if (input.credentials === null) return [];
    return input.credentials
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
      );
  },
};
