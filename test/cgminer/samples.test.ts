// Every captured reply in protocol/samples decodes, with and without the NUL cgminer puts on the wire,
// and framing gives the same bytes however the reply is split into two reads.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeReply, splitMultiReply } from '../../src/cgminer/decode.js';
import { FrameReader } from '../../src/cgminer/frame.js';

const SAMPLES = new URL('../../../shared/protocol/samples/', import.meta.url);
const files = readdirSync(SAMPLES)
  .filter((name) => name.endsWith('.json') || name.endsWith('.txt'))
  .sort();

function commandOf(file: string): string {
  return file.replace(/^.*__/, '').replace(/\.(json|txt)$/, '');
}
// Buffers, as the socket delivers them.
function load(file: string): Buffer {
  return readFileSync(new URL(file, SAMPLES));
}
function withNul(bytes: Buffer): Buffer {
  return Buffer.concat([bytes, Buffer.from([0])]);
}

/** Samples whose STATUS is an error on purpose. */
const ERROR_SAMPLES = new Set([
  'avalon-1047_old__ascset_0_setpool.txt',
  'whatsminer-m31s__cmd-key-multicommand_error.json',
]);

describe('protocol samples', () => {
  it('finds the sample set', () => {
    expect(files.length).toBeGreaterThanOrEqual(160);
  });

  for (const file of files) {
    it(`decodes ${file} with and without a trailing NUL`, () => {
      const bytes = load(file);
      const plain = decodeReply(bytes, commandOf(file));
      const framed = decodeReply(withNul(bytes), commandOf(file));
      expect(framed.body).toEqual(plain.body);
      expect(framed.repairs).toEqual(plain.repairs);
      expect(plain.ok).toBe(!ERROR_SAMPLES.has(file));
      expect(Object.keys(plain.body).length).toBeGreaterThan(0);
      if (file.endsWith('.json')) {
        // Strict JSON needs no repair except to keep duplicate keys.
        expect(plain.repairs.filter((r) => r !== 'duplicate keys')).toEqual([]);
        if (!plain.repairs.includes('duplicate keys')) {
          expect(plain.body).toEqual(JSON.parse(Buffer.from(bytes).toString('utf8')));
        }
      } else {
        expect(plain.repairs.length + (plain.format === 'json' ? 0 : 1)).toBeGreaterThan(0);
      }
    });
  }

  it('splits into two reads at every byte offset and reassembles the same frame', () => {
    // Plain comparisons in the loop: an expect() per offset would make this slow.
    let checked = 0;
    const wrong: string[] = [];
    for (const file of files) {
      const framed = withNul(load(file));
      for (let offset = 1; offset < framed.length; offset++) {
        const reader = new FrameReader(framed.length);
        const first = reader.push(framed.subarray(0, offset));
        const second = reader.push(framed.subarray(offset));
        if (first !== 'reading' || second !== 'complete' || reader.length !== framed.length) {
          wrong.push(`${file}@${offset}`);
        }
        checked++;
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(checked).toBeGreaterThan(100_000);
  });

  it('decodes the malformed samples identically after any two-read split', () => {
    const wrong: string[] = [];
    for (const file of files.filter((name) => name.endsWith('.txt') && load(name).length < 5000)) {
      const framed = withNul(load(file));
      const whole = decodeReply(framed, commandOf(file));
      for (let offset = 1; offset < framed.length; offset++) {
        const reader = new FrameReader(1 << 20);
        reader.push(framed.subarray(0, offset));
        reader.push(framed.subarray(offset));
        const bytes = reader.bytes();
        if (bytes.length !== framed.length || bytes[offset] !== framed[offset])
          wrong.push(`${file}@${offset}`);
        if (offset % 97 === 0) expect(decodeReply(bytes, commandOf(file)).body).toEqual(whole.body);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('repairs the glued STATS header of old bmminer by inserting the comma', () => {
    const reply = decodeReply(load('antminer-s9_bad-temps__stats.txt'), 'stats');
    expect(reply.repairs).toContain('glued objects');
    const stats = reply.body.STATS as Record<string, unknown>[];
    expect(stats).toHaveLength(2);
    expect(stats[0]).toHaveProperty('Type');
    expect(stats[1]).toMatchObject({ STATS: 0, ID: 'BC50' });
  });

  it('keeps every duplicate key of the Hammer D10 stats', () => {
    const reply = decodeReply(load('hammer-d10_2023-05-28__stats.json'), 'stats');
    expect(reply.repairs).toEqual(['duplicate keys']);
    const record = (reply.body.STATS as Record<string, unknown>[]).find((r) => 'temp1' in r) as Record<
      string,
      unknown
    >;
    expect(
      [record.temp1, record['temp1#2'], record['temp1#3'], record['temp1#4']].every((v) => v !== undefined),
    ).toBe(true);
  });

  it("turns the Whatsminer \\' escape into a quote", () => {
    const reply = decodeReply(load('whatsminer-m20s_2020-09__summary.txt'), 'summary');
    expect(reply.repairs).toEqual(['bad escape']);
    expect((reply.body.SUMMARY as Record<string, unknown>[])[0]?.['Firmware Version']).toBe(
      "'20200917.22.REL'",
    );
  });

  it('keeps the raw newline inside a StrongU string', () => {
    const reply = decodeReply(load('strongu-stu-u6__pools.txt'), 'pools');
    expect(reply.repairs).toEqual(['control characters']);
    const pools = reply.body.POOLS as Record<string, unknown>[];
    expect(pools.some((pool) => String(pool['Last Share Time']).endsWith('\n'))).toBe(true);
  });

  it('ignores what follows the object (S9k version, StrongU summary)', () => {
    for (const file of ['antminer-s9k__version.txt', 'strongu-stu-u2__summary.txt']) {
      const reply = decodeReply(load(file), commandOf(file));
      expect(reply.repairs).toEqual(['trailing data']);
      expect(reply.body.id).toBe(1);
    }
  });

  it('maps the bare nan of the Avalon multi-command to null and splits its members', () => {
    const reply = decodeReply(load('avalon-10xx__pools+summary+stats.txt'), 'pools+summary+stats');
    expect(reply.repairs).toContain('nan value');
    const members = splitMultiReply(reply);
    expect(Object.keys(members).sort()).toEqual(['pools', 'stats', 'summary']);
    const summary = members.summary?.body.SUMMARY as Record<string, unknown>[];
    expect(summary[0]?.['MHS av']).toBeNull();
    expect(members.pools?.status).toMatchObject({ status: 'S', code: 7 });
  });

  it('reads the plain-text Avalon replies, raw newlines in Msg included', () => {
    const led = decodeReply(load('avalon-1047__ascset_0_led.txt'), 'ascset');
    expect(led.format).toBe('text');
    expect(led.status).toEqual({
      status: 'S',
      code: 119,
      msg: 'ASC 0 set OK',
      description: 'cgminer 4.11.1',
      when: 18984,
    });
    const setpool = decodeReply(load('avalon-1047_new__ascset_0_setpool.txt'), 'ascset');
    expect(setpool.status.status).toBe('I');
    expect(setpool.status.msg).toContain('\nworker is cctrix.001\n');
    expect(setpool.status.description).toBe('cgminer 4.11.1');
    expect(setpool.ok).toBe(true);
  });

  it('reads the bare word `failed` as an error status', () => {
    const reply = decodeReply(load('avalon-1047_old__ascset_0_setpool.txt'), 'ascset');
    expect(reply.format).toBe('bare');
    expect(reply.ok).toBe(false);
    expect(reply.status.msg).toBe('failed');
  });

  it('reads every STATUS shape', () => {
    const flat = decodeReply(load('whatsminer-m31s_sleeping__status.json'), 'status');
    expect(flat.status).toMatchObject({ status: 'S', code: 131, msg: null, description: 'whatsminer v1.3' });
    expect(flat.body.Msg).toMatchObject({ btmineroff: 'true' });
    const newApi = decodeReply(load('antminer-s21proplus_2026__stats_new-api.json'), 'stats');
    expect(newApi.status).toMatchObject({ status: 'S', msg: 'stats', when: 1791471264 });
    const v3 = decodeReply(load('whatsminer-m60s-vk40_api-v3__get.device.info.json'), 'get.device.info');
    expect(v3.status).toMatchObject({ status: 'S', code: 0, description: 'get.device.info' });
    const encrypted = decodeReply(load('whatsminer-m31s__encrypted-write_reply.json'), 'update_pools');
    expect(encrypted.status.status).toBe('');
    expect(encrypted.ok).toBe(true);
    const error = decodeReply(load('whatsminer-m31s__cmd-key-multicommand_error.json'), 'summary+pools');
    expect(error.status).toMatchObject({ status: 'E', code: 24 });
    expect(splitMultiReply(error)).toEqual({});
  });
});
