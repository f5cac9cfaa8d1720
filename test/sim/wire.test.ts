// The simulator's replies, byte for byte: every profile, every read command as JSON, as plain text,
// with new_api, with an awkward parameter, a 12-command join in JSON and text, and malformed or
// native requests, at a fixed seed and clock. Each profile's bytes are summed up as one SHA-256 in
// fixtures/wire-digests.json. A change to the writer, an envelope, a join, a key order or a NUL
// shows here; when replies are meant to change, check a few by hand, then update the fixture from
// the digests this test prints.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dispatch } from '../../src/sim/dispatch.js';
import { PROFILES } from '../../src/sim/profiles/index.js';
import { parseRequest } from '../../src/sim/request.js';
import { createState, minerRng } from '../../src/sim/state.js';

const WRITES = new Set([
  'restart',
  'resetminer',
  'quit',
  'addpool',
  'removepool',
  'switchpool',
  'disablepool',
  'enablepool',
  'poolpriority',
  'curtail',
  'pause',
  'softoff',
  'power_off',
  'reboot',
  'restart_btminer',
  'update_pwd',
  'logon',
  'kill',
]);
const START = 1_700_000_000_000;

function digestOf(profileIndex: number): string {
  const hash = createHash('sha256');
  for (const [deadBoardShare, failedFanShare] of [
    [0, 0],
    [1, 1],
  ] as const) {
    for (let index = 0; index < 3; index++) {
      const profile = PROFILES[profileIndex]!;
      const state = createState(profile, {
        seed: 7,
        index,
        now: START,
        ambientC: 25,
        deadBoardShare,
        failedFanShare,
      });
      state.access = 'full';
      const target = {
        profile,
        state,
        rng: minerRng(7, index),
        view: { index, host: '127.0.0.1', port: 4028 + index, key: `127.0.0.1:${4028 + index}` },
      };
      const names = Object.keys(profile.commands).filter((name) => !WRITES.has(name));
      const requests: [string, boolean][] = [];
      for (const name of names) {
        requests.push([JSON.stringify({ command: name }), true]);
        requests.push([name, false]);
        requests.push([JSON.stringify({ command: name, new_api: true }), true]);
        requests.push([JSON.stringify({ command: name, parameter: '0,"x\\é' }), true]);
      }
      requests.push([JSON.stringify({ command: names.slice(0, 12).join('+') }), true]);
      requests.push([names.slice(0, 12).join('+'), false]);
      requests.push([JSON.stringify({ command: 'nope\u00e9"\n' }), true]);
      requests.push(['{"command":', true]);
      requests.push([JSON.stringify({ cmd: 'summary' }), true]);
      requests.push([JSON.stringify({ cmd: 'get_version' }), true]);
      let now = START + 3_600_000;
      for (const [text, json] of requests) {
        now += 1234;
        const reply = dispatch(target, parseRequest(text, json), now);
        hash.update(reply.body);
        hash.update(`\n${reply.after ?? ''}\n`);
      }
    }
  }
  return hash.digest('hex');
}

describe('simulator replies on the wire', () => {
  it('are byte for byte those of the fixture, for every profile', () => {
    const expected = JSON.parse(
      readFileSync(join(import.meta.dirname, 'fixtures', 'wire-digests.json'), 'utf8'),
    ) as Record<string, string>;
    const actual = Object.fromEntries(PROFILES.map((profile, i) => [profile.name, digestOf(i)]));
    expect(actual, `new digests:\n${JSON.stringify(actual, null, 2)}`).toEqual(expected);
  });
});
