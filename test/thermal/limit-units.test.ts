// A firmware's own limits written as readings are (`"110 C"`, `"100°C"`, `"89 ℃"`): read as the
// numbers they are, as the temperatures beside them are. Unread, a Braiins OS miner whose
// Dangerous limit is plainly there was reported with its protection off (critical).
import { describe, expect, it } from 'vitest';
import { postureReport } from '../../src/thermal/posture.js';
import { readFirmwareLimits } from '../../src/thermal/replies.js';
import { braiinsReplies, decodedTable as decoded } from './fake-miner.js';
import { snapshotOf } from './helpers.js';

const s9 = snapshotOf({
  model: 'S9',
  firmware: 'BOSminer+',
  boards: [{ temp_board_c: 70 }, { temp_board_c: 68 }, { temp_board_c: 66 }],
  fans: [3600, 3660],
});

describe('firmware limits with a °C unit', () => {
  for (const [target, hot, dangerous] of [
    ['89 C', '100 C', '110 C'],
    ['89°C', '100°C', '110°C'],
    ['89 ℃', '100 ℃', '110 ℃'],
  ]) {
    it(`reads ${dangerous} as 110 and finds the protection on`, () => {
      const table = braiinsReplies({ boards: [70, 68, 66] });
      table.tempctrl = {
        ...table.tempctrl,
        TEMPCTRL: [{ Mode: 'Automatic', Target: target, Hot: hot, Dangerous: dangerous }],
      };
      const replies = decoded(table);
      const firmware = readFirmwareLimits(replies, 'BOSminer+');
      expect(firmware).toMatchObject({ target_c: 89, hot_c: 100, dangerous_c: 110 });
      const report = postureReport(replies, s9);
      expect(report.findings.map((f) => f.id)).not.toContain('protection-off');
      expect(report.trip).toMatchObject({ value_c: 110, origin: 'firmware' });
    });
  }

  it('a unit that is not Celsius stays unread (never taken for °C)', () => {
    const table = braiinsReplies({ boards: [70, 68, 66] });
    table.tempctrl = {
      ...table.tempctrl,
      TEMPCTRL: [{ Mode: 'Automatic', Target: '192 F', Hot: '212 F', Dangerous: '230 F' }],
    };
    expect(readFirmwareLimits(decoded(table), 'BOSminer+')).toMatchObject({ dangerous_c: null });
  });
});
