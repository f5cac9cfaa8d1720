// Version and build-date matching of the known-vulnerability table (audit-facts §1.2): a date or a
// version written another common way is the same date or version, not "unknown".
import { describe, expect, it } from 'vitest';
import { parseCompileDate } from '../../src/audit/identify.js';
import { firmwareVulnerable } from '../../src/audit/rules/index.js';
import type { AuditPolicy } from '../../src/audit/types.js';
import { input, versionReply } from './support/inputs.js';

const NO_POLICY: AuditPolicy = { allowedPools: null, workerPattern: null };

function antbleedOf(compileTime: string) {
  const version = versionReply({
    BMMiner: '2.0.0',
    API: '3.1',
    CompileTime: compileTime,
    Type: 'Antminer S9',
  });
  return firmwareVulnerable
    .evaluate(input({ version }), NO_POLICY)
    .find((item) => item.title.startsWith('Antbleed'));
}

describe('CompileTime written with unpadded or slashed numeric dates', () => {
  it('reads 2017-1-5 and 2017/01/05 as the date they are', () => {
    expect(parseCompileDate('2017-1-5 10:00:00')).toBe('2017-01-05');
    expect(parseCompileDate('2023-1-5')).toBe('2023-01-05');
    expect(parseCompileDate('2017/01/05 10:00:00')).toBe('2017-01-05');
    expect(parseCompileDate('build 2017/1/5')).toBe('2017-01-05');
    // Mixed separators, dotted version numbers and impossible dates are still not dates.
    expect(parseCompileDate('2017-01/05')).toBeNull();
    expect(parseCompileDate('2022.10.1')).toBeNull();
    expect(parseCompileDate('2017-13-5')).toBeNull();
  });

  it('an S9 built inside the Antbleed window is high, whichever way its date is written', () => {
    for (const compileTime of ['2017-1-5 10:00:00', '2017/01/05 10:00:00', 'Thu Jan  5 10:00:00 CST 2017']) {
      const antbleed = antbleedOf(compileTime);
      expect(antbleed?.severity, compileTime).toBe('high');
      expect(antbleed?.evidence, compileTime).toContain('(2017-01-05)');
    }
    // Built after the fix: clean, however it is written.
    expect(antbleedOf('2017-5-2 10:00:00')).toBeUndefined();
  });
});
