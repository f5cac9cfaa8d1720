// Every audit rule, in report order. Rules are pure: AuditInput (+ policy) in, findings out.
import type { AuditInput, AuditPolicy, Finding, RuleDefinition } from '../types.js';
import { rpcReadable, rpcWriteAccess } from './access.js';
import { defaultCredentials } from './credentials.js';
import { publicAddress, serviceExposed } from './exposure.js';
import { firmwareVulnerable } from './firmware.js';
import { poolExtra, poolNotAllowed, workerMismatch } from './pools.js';
import { thermalProtection } from './thermal.js';

export const RULES: readonly RuleDefinition[] = [
  rpcWriteAccess,
  rpcReadable,
  publicAddress,
  firmwareVulnerable,
  poolNotAllowed,
  poolExtra,
  workerMismatch,
  serviceExposed,
  defaultCredentials,
  thermalProtection,
];

export function evaluateRules(input: AuditInput, policy: AuditPolicy): Finding[] {
  return RULES.flatMap((rule) => rule.evaluate(input, policy));
}

export {
  defaultCredentials,
  firmwareVulnerable,
  poolExtra,
  poolNotAllowed,
  publicAddress,
  rpcReadable,
  rpcWriteAccess,
  serviceExposed,
  thermalProtection,
  workerMismatch,
};
