// The per-device and status reports upstream cgminer has (§5.1): `asc N`, `lcd`, `notify`,
// `usbstats`, `pgacount`. `probe --help` gives `--command asc --param 0` as its --param example, and
// every simulated miner answered it E/14 "Invalid command", which tells a client the firmware lacks
// a command it has. Each profile answers what its firmware does, and `check CMD` says so truthfully.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { PROFILES } from '../../src/sim/profiles/index.js';
import { exchange, lenient } from './support.js';

type Json = Record<string, unknown>;

function status(reply: Json): Json {
  const s = reply.STATUS as Json[] | undefined;
  return (Array.isArray(s) ? s[0] : reply) as Json;
}

async function ask(port: number, command: string, parameter?: string): Promise<Json> {
  const request = parameter === undefined ? { command } : { command, parameter };
  return lenient((await exchange(port, JSON.stringify(request))).bytes);
}

const invalid = (reply: Json) => status(reply).STATUS === 'E' && status(reply).Code === 14;

// What each firmware has of them (CGMINER-API.md §5.1, §5.3): Braiins documents asc and lcd only;
// btminer has no evidence of any; upstream without hardware has no ASC to show.
const HAS: Record<string, string[]> = {
  'braiins-os': ['asc', 'lcd'],
  whatsminer: [],
};
const ALL = ['asc', 'lcd', 'notify', 'usbstats', 'pgacount'];

describe.each(PROFILES.map((p) => p.name))('%s', (profile) => {
  let farm: Farm;
  let port = 0;
  beforeAll(async () => {
    farm = await startFarm({ profile, count: 1, seed: 5, host: '127.0.0.1', basePort: 0, logLimit: 0 });
    const miner = farm.miners[0];
    if (!miner) throw new Error('one miner expected');
    miner.state.access = 'full';
    port = miner.port;
  });
  afterAll(() => farm.stop());

  it('answers the upstream device reports its firmware has, and E/14 only for the others', async () => {
    const has = HAS[profile] ?? ALL;
    for (const command of ALL) {
      const reply = await ask(port, command, command === 'asc' ? '0' : undefined);
      expect(invalid(reply), `${command}: ${JSON.stringify(status(reply))}`).toBe(!has.includes(command));
    }
  });

  it('asc N is device N of its devs, keyed ASC; no N is E/15, one out of range E/107', async () => {
    if (!(HAS[profile] ?? ALL).includes('asc')) return;
    const devs = await ask(port, 'devs');
    const devices = (status(devs).STATUS === 'S' ? devs.DEVS : []) as Json[];
    const asc = await ask(port, 'asc', '0');
    if (devices.length === 0) {
      // Upstream without hardware (§15): no ASCs.
      expect(status(asc)).toMatchObject({ STATUS: 'E', Code: 105, Msg: 'No ASCs' });
      return;
    }
    expect(status(asc)).toMatchObject({ STATUS: 'S', Code: 106, Msg: 'ASC0' });
    // Device 0 of devs, its live figures read a moment later: the same device and fields.
    const [record] = asc.ASC as Json[];
    const device = devices[0] as Json;
    expect(Object.keys(record ?? {})).toEqual(Object.keys(device));
    for (const key of ['ASC', 'ID', 'Name', 'Enabled', 'DEVS', 'Index'])
      if (key in device) expect(record?.[key], key).toEqual(device[key]);
    const last = devices.length - 1;
    expect(status(await ask(port, 'asc', String(last)))).toMatchObject({ Code: 106, Msg: `ASC${last}` });
    expect(status(await ask(port, 'asc'))).toMatchObject({
      STATUS: 'E',
      Code: 15,
      Msg: 'Missing device id parameter',
    });
    expect(status(await ask(port, 'asc', String(devices.length)))).toMatchObject({
      STATUS: 'E',
      Code: 107,
      Msg: `Invalid ASC id ${devices.length} - range is 0 - ${last}`,
    });
  });

  it('check CMD says Exists as the firmware answers CMD, for every upstream report', async () => {
    const probe = await ask(port, 'check', 'summary');
    if (status(probe).Code !== 72) {
      // btminer has no `check`.
      expect(profile).toBe('whatsminer');
      return;
    }
    const reads = [
      'version',
      'config',
      'summary',
      'pools',
      'devs',
      'edevs',
      'devdetails',
      'stats',
      'estats',
      'dbgstats',
      'coin',
      'notify',
      'lcd',
      'usbstats',
      'asccount',
      'pgacount',
      'asc',
      'pga',
      'lockstats',
    ];
    for (const command of reads) {
      const answered = !invalid(await ask(port, command, command === 'asc' ? '0' : undefined));
      const check = await ask(port, 'check', command);
      expect(check.CHECK, command).toEqual([{ Exists: answered ? 'Y' : 'N', Access: answered ? 'Y' : 'N' }]);
    }
  });
});
