// The order thermal check lists miners in: worst first, then by address as a person reads one
// (127.0.0.9 before 127.0.0.10, port 9999 before 10000), the same on every host whatever its locale
// (a Danish LANG put `rig-aa` after `rig-z`, a Lithuanian one `rig-y` among the `i`s), as audit orders them.
import { describe, expect, it } from 'vitest';
import { compareTargets } from '../../src/targets/types.js';
import { type CheckResult, sortResults } from '../../src/thermal/check.js';

const result = (target: string, status: CheckResult['status'] = 'ok') =>
  ({ target, status, reasons: [] }) as unknown as CheckResult;

describe('thermal check order', () => {
  it('sorts addresses and ports by their numbers, worst status first', () => {
    const sorted = sortResults(
      ['127.0.0.10:4028', '127.0.0.9:4028', '127.0.0.9:10000', '127.0.0.9:9999', '127.0.0.2:4028']
        .map((t) => result(t))
        .concat(result('127.0.0.200:4028', 'critical')),
    );
    expect(sorted.map((r) => r.target)).toEqual([
      '127.0.0.200:4028',
      '127.0.0.2:4028',
      '127.0.0.9:4028',
      '127.0.0.9:9999',
      '127.0.0.9:10000',
      '127.0.0.10:4028',
    ]);
  });

  it('compares names by the English alphabet, whatever the locale of the process', () => {
    const names = ['rig-z:4028', 'rig-aa:4028', 'rig-y2:4028', 'rig-i:4028', 'rig-ch:4028', 'rig-h:4028'];
    expect([...names].sort(compareTargets)).toEqual([
      'rig-aa:4028',
      'rig-ch:4028',
      'rig-h:4028',
      'rig-i:4028',
      'rig-y2:4028',
      'rig-z:4028',
    ]);
    // The comparison names its locale: the same answer as a Danish or Lithuanian one would not give.
    expect(compareTargets('rig-aa:4028', 'rig-z:4028')).toBeLessThan(0);
    expect('rig-aa'.localeCompare('rig-z', 'da')).toBeGreaterThan(0);
  });
});
