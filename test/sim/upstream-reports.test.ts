// The upstream report commands (§5.1) a cgminer-derived firmware keeps: a profile that models
// nothing special for them still has them, so a stock Antminer answers E/45 (outside group A, as
// pyasic #44 shows for devdetails) and a firmware with read access answers with the section,
// never E/14 `Invalid command`, which would tell a client the firmware lacks the command.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { PROFILES } from '../../src/sim/profiles/index.js';
import { exchange, lenient } from './support.js';

const REPORTS: Array<[string, string]> = [
  ['edevs', 'DEVS'],
  ['estats', 'STATS'],
  ['coin', 'COIN'],
  ['config', 'CONFIG'],
  ['devdetails', 'DEVDETAILS'],
  ['asccount', 'ASCS'],
];
// btminer (no evidence of these) and plain cgminer without hardware (§15) keep their own answers.
const CGMINER_DERIVED = PROFILES.filter((p) => p.name !== 'whatsminer' && p.name !== 'cgminer');

function status(reply: Record<string, unknown>): Record<string, unknown> {
  const s = reply.STATUS as Array<Record<string, unknown>>;
  return s[0] as Record<string, unknown>;
}

describe.each(CGMINER_DERIVED.map((p) => p.name))('%s upstream report commands', (profile) => {
  let farm: Farm;
  beforeAll(async () => {
    farm = await startFarm({ profile, count: 2, seed: 3, host: '127.0.0.1', basePort: 0, logLimit: 0 });
    const [stock, open] = farm.miners;
    if (!stock || !open) throw new Error('two miners expected');
    stock.state.access = 'groupA';
    open.state.access = 'full';
  });
  afterAll(() => farm.stop());

  it.each(REPORTS)(
    '%s exists: E/45 outside group A, its %s section with access',
    async (command, section) => {
      const [stock, open] = farm.miners;
      const denied = lenient((await exchange(stock!.port, JSON.stringify({ command }))).bytes);
      expect(status(denied)).toMatchObject({
        STATUS: 'E',
        Code: 45,
        Msg: `Access denied to '${command}' command`,
      });
      const answered = lenient((await exchange(open!.port, JSON.stringify({ command }))).bytes);
      expect(status(answered).STATUS).toBe('S');
      expect(answered[section]).toBeInstanceOf(Array);
      const check = lenient(
        (await exchange(open!.port, JSON.stringify({ command: 'check', parameter: command }))).bytes,
      );
      expect(check.CHECK).toEqual([{ Exists: 'Y', Access: 'Y' }]);
    },
  );
});

describe('avalon config and devdetails', () => {
  it('answer as the captures do: one AVALON device', async () => {
    const farm = await startFarm({ profile: 'avalon', count: 1, seed: 3, host: '127.0.0.1', basePort: 0 });
    try {
      const port = farm.miners[0]!.port;
      const config = lenient((await exchange(port, '{"command":"config"}')).bytes);
      expect(config.CONFIG).toEqual([
        expect.objectContaining({ 'ASC Count': 1, 'Device Code': 'AVALON', Hotplug: 'None' }),
      ]);
      const details = lenient((await exchange(port, '{"command":"devdetails"}')).bytes);
      expect(details.DEVDETAILS).toEqual([
        { DEVDETAILS: 0, Name: 'AVALON', ID: 0, Driver: 'avalon', Kernel: '', Model: '', 'Device Path': '' },
      ]);
    } finally {
      await farm.stop();
    }
  });
});
