// LuxOS keeps its cooling mode in `config` (Cooling / ImmersionMode), not in tempctrl's Mode. An
// air-cooled S19k Pro switched to immersion (fans off) while it mines is the hAnt pattern posture
// names (thermal-facts §6): it must be said whichever of the two the firmware reports it in.
import { describe, expect, it } from 'vitest';
import type { DecodedReply } from '../../src/cgminer/types.js';
import { normalize } from '../../src/miners/normalize.js';
import { postureReport } from '../../src/thermal/posture.js';
import { reply } from '../fixtures/miners/replies.js';
import { loadSet, luxosS19kProFiles } from '../fixtures/miners/samples.js';

const FILES = luxosS19kProFiles(true);

/** The sample S19k Pro, with its config's cooling fields and its fans replaced. */
function luxos(config: Record<string, unknown>, rpm: number | null) {
  const replies = loadSet(FILES) as Record<string, DecodedReply>;
  const body = (command: string) => (replies[command] as DecodedReply).body as Record<string, unknown>;
  const configRecord = (body('config').CONFIG as Record<string, unknown>[])[0];
  replies.config = reply('config', { ...body('config'), CONFIG: [{ ...configRecord, ...config }] });
  const fans = body('fans');
  if (rpm !== null)
    replies.fans = reply('fans', {
      ...fans,
      FANS: (fans.FANS as Record<string, unknown>[]).map((fan) => ({ ...fan, RPM: rpm, Speed: 0 })),
    });
  replies.tempctrl = reply('tempctrl', {
    TEMPCTRL: [{ Mode: 'Auto', Target: 55, Hot: 65, Dangerous: 70 }],
  });
  return { replies, snapshot: normalize(replies) };
}

describe('LuxOS immersion mode on an air-cooled model', () => {
  for (const config of [{ Cooling: 'Immersion' }, { ImmersionMode: true }]) {
    it(`is said when config reports ${JSON.stringify(config)} and the fans are stopped`, () => {
      const { replies, snapshot } = luxos(config, 0);
      expect(snapshot.cooling).toBe('immersion');
      expect(snapshot.hashrate.current_hs).toBeGreaterThan(0);
      const found = postureReport(replies, snapshot).findings.find((f) => f.id === 'immersion-on-air-model');
      expect(found).toMatchObject({ severity: 'high', data: { model: snapshot.model, model_fans: 4 } });
    });
  }

  it('is not said for the sample as it is (air, fans turning)', () => {
    const { replies, snapshot } = luxos({}, null);
    const ids = postureReport(replies, snapshot).findings.map((f) => f.id);
    expect(ids).not.toContain('immersion-on-air-model');
  });
});
