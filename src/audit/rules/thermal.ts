// Thermal-protection posture (protection off, limits above the vendor maximum, fans forced low, …) as
// the thermal library assesses it; the hAnt ransomware threatens exactly these settings (audit-facts §1.1).
import { assessPosture } from '../../thermal/posture.js';
import { outcomesAsReplies } from '../identify.js';
import type { RuleDefinition } from '../types.js';
import { finding } from './helpers.js';

/**
 * "The firmware reports no limits" and "its limits could not be read" are coverage, not weaknesses
 * of the miner: an audit reports what it found weak, not what it could not see.
 */
const NOT_A_FINDING = new Set(['no-readable-limits', 'limits-read-failed', 'no-temperature']);

export const thermalProtection: RuleDefinition = {
  id: 'thermal-protection',
  name: 'ThermalProtection',
  defaultSeverity: 'high',
  shortDescription: 'Thermal protection is off, weakened or already exceeded',
  fullDescription:
    "The miner's own thermal limits or fan settings leave it unprotected: protection disabled, a dangerous " +
    'limit above the vendor maximum, target < hot < dangerous broken, fans in manual mode or MinFans 0 on an ' +
    'air-cooled unit (the hAnt ransomware pattern), or temperatures past the trip point while still mining.',
  help: 'Restore the firmware thermal defaults and automatic fan control; investigate who changed them.',
  evaluate(input) {
    if (input.snapshot === null) return [];
    const posture = assessPosture(outcomesAsReplies(input.reads), input.snapshot);
    return posture
      .filter((item) => !NOT_A_FINDING.has(item.id))
      .map((item) =>
        finding(
          this,
          input,
          item.severity,
          item.title,
          `${item.id}: ${item.message}${item.evidence ? ` (${item.evidence})` : ''}`,
          item.remediation,
          item.id,
        ),
      );
  },
};
