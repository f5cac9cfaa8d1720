// The pure parts of scan: port lists, target building, what counts as a miner reply, the adaptive
// gate, the inventory and the progress line.
import { readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeReply } from '../../src/cgminer/decode.js';
import { MinerError, UsageError } from '../../src/errors.js';
import {
  AdaptiveGate,
  buildInventory,
  buildScanTargets,
  exhaustionCode,
  formatProgress,
  isMinerReply,
  parsePortList,
  type ScanResult,
} from '../../src/scan/index.js';
import { MEMO_MAX_BYTES, ReplyMemo } from '../../src/scan/memo.js';
import { loadReply, SAMPLES_DIR } from '../fixtures/miners/samples.js';

const encode = (text: string) => new TextEncoder().encode(text);

describe('parsePortList', () => {
  it('takes a port, a list and a range, sorted and deduplicated', () => {
    expect(parsePortList('4028')).toEqual([4028]);
    expect(parsePortList('4029, 4028,4029')).toEqual([4028, 4029]);
    expect(parsePortList('4028-4030,80')).toEqual([80, 4028, 4029, 4030]);
  });

  it('refuses what is not a port list', () => {
    for (const text of ['', 'abc', '0', '65536', '4030-4028', '1-1000', '4028,,4029']) {
      expect(() => parsePortList(text), text).toThrow(UsageError);
    }
  });
});

describe('buildScanTargets', () => {
  it('crosses every spec with every port and drops repeats', async () => {
    const targets = await buildScanTargets(['127.0.0.0/30', '127.0.0.1:4029', '127.0.0.2'], [4028, 4029]);
    // A loopback /30 keeps all four addresses (every 127/8 address is a host).
    expect(targets.count).toBe(8);
    expect([...targets].map((t) => t.key).sort()).toEqual(
      [0, 1, 2, 3].flatMap((i) => [`127.0.0.${i}:4028`, `127.0.0.${i}:4029`]).sort(),
    );
  });

  it('reads @FILE once for all ports, including a scan inventory', async () => {
    let reads = 0;
    const readFile = async () => {
      reads++;
      return JSON.stringify({ miners: [{ host: '127.0.0.9', port: 4030 }, { host: '127.0.0.8' }] });
    };
    const targets = await buildScanTargets(['@inv.json'], [4028, 4029], { readFile });
    expect(reads).toBe(1);
    expect([...targets].map((t) => t.key).sort()).toEqual([
      '127.0.0.8:4028',
      '127.0.0.8:4029',
      '127.0.0.9:4030',
    ]);
  });

  it('reads a target file of 200,000 lines on two ports', async () => {
    const lines = Array.from({ length: 200_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    const readFile = async () => lines.join('\n');
    const targets = await buildScanTargets(['@farm.txt'], [4028, 4029], { readFile });
    expect(targets.count).toBe(400_000);
  });

  it('names the bad spec before anything is sent', async () => {
    await expect(buildScanTargets(['10.0.0.0/33'], [4028])).rejects.toThrow(/10\.0\.0\.0\/33/);
    await expect(buildScanTargets([], [4028])).rejects.toThrow(UsageError);
    await expect(buildScanTargets(['@'], [4028])).rejects.toThrow(UsageError);
    await expect(buildScanTargets(['@-'], [4028])).rejects.toThrow(/give '-' without '@'/);
    // An emptied target file or a broken pipe: nothing to sweep is exit 2, as probe and collect say.
    await expect(
      buildScanTargets(['@subnets.txt'], [4028], { readFile: async () => '# none\n' }),
    ).rejects.toThrow('no targets: @subnets.txt named no miner');
    await expect(
      buildScanTargets(['-'], [4028], { stdin: Readable.from([Buffer.from('')]) }),
    ).rejects.toThrow('no targets: - named no miner');
    const stdin = Readable.from([Buffer.from('# nothing here\n')]);
    await expect(buildScanTargets(['10.0.0.1', '-', '10.0.0.9'], [4028], { stdin })).rejects.toThrow(
      /for a range write 10\.0\.0\.1-10\.0\.0\.9, without spaces/,
    );
  });

  it('counts a /8 on two ports without expanding it', async () => {
    const targets = await buildScanTargets(['10.0.0.0/8'], [4028, 4029]);
    expect(targets.count).toBe(2 * (2 ** 24 - 2));
    const iterator = targets[Symbol.iterator]();
    expect(iterator.next().value?.key).toBe('10.0.0.1:4028');
  });
});

describe('isMinerReply', () => {
  it('accepts CGMiner envelopes, Whatsminer refusals and a miner whose process is down', () => {
    const version =
      '{"STATUS":[{"STATUS":"S","When":1,"Code":22,"Msg":"CGMiner versions"}],"VERSION":[{"CGMiner":"4.11.1"}],"id":1}';
    expect(isMinerReply(decodeReply(encode(version), 'version'))).toBe(true);
    const whatsminer =
      '{"STATUS":"E","When":1,"Code":14,"Msg":"invalid cmd","Description":"whatsminer v1.3"}';
    expect(isMinerReply(decodeReply(encode(whatsminer), 'version'))).toBe(true);
    expect(
      isMinerReply(
        decodeReply(encode('STATUS=S,When=1,Code=22,Msg=CGMiner versions|VERSION,CGMiner=4.9.0|'), 'version'),
      ),
    ).toBe(true);
    expect(isMinerReply(decodeReply(encode('Socket connect failed: Connection refused\n'), 'version'))).toBe(
      true,
    );
  });

  it('refuses JSON that merely parses, and bare words', () => {
    expect(() => decodeReply(encode('{"command":"version"}'), 'version')).toThrow(
      /JSON without a CGMiner STATUS/,
    );
    expect(() => decodeReply(encode('{"status":"ok"}'), 'version')).toThrow(/STATUS cannot be read \(ok\)/);
    expect(isMinerReply(decodeReply(encode('{"enc":"U2FsdGVk"}'), 'version'))).toBe(false);
    expect(isMinerReply(decodeReply(encode('failed'), 'version'))).toBe(false);
  });

  it('refuses a verdict letter with nothing of an envelope beside it; every real sample is one', () => {
    for (const weak of ['{"STATUS":"S","result":"ok"}', '{"STATUS":[{"STATUS":"S"}],"data":1}', 'STATUS=S|'])
      expect(isMinerReply(decodeReply(encode(weak), 'version')), weak).toBe(false);
    for (const file of readdirSync(SAMPLES_DIR).filter((name) => /\.(json|txt)$/.test(name))) {
      const reply = loadReply(file);
      // Only the samples with a verdict letter: a bare word ('failed' to an ascset) or an encrypted
      // Whatsminer answer carries none, and is refused by the rules above.
      if (reply instanceof MinerError || reply.format === 'bare' || !/^[SIWEF]$/i.test(reply.status.status))
        continue;
      expect(isMinerReply(reply), file).toBe(true);
    }
  });
});

describe('AdaptiveGate', () => {
  it('never runs more than its limit at once', async () => {
    const gate = new AdaptiveGate(3);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        gate.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setImmediate(resolve));
          running--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(gate.inUse).toBe(0);
  });

  it('shrinks when the system runs out and grows back after clean connections', async () => {
    const gate = new AdaptiveGate(8);
    const held: (() => void)[] = [];
    const hold = () => gate.run(() => new Promise<void>((resolve) => held.push(resolve)));
    const tasks = Array.from({ length: 8 }, hold);
    await new Promise((resolve) => setImmediate(resolve));
    expect(gate.inUse).toBe(8);
    gate.exhausted();
    expect(gate.limit).toBe(6);
    expect(gate.backoffs).toBe(1);
    for (const release of held.splice(0)) release();
    await Promise.all(tasks);
    gate.exhausted(); // nothing open: down to one
    expect(gate.limit).toBe(1);
    for (let i = 0; i < 64 * 7; i++) gate.succeeded();
    expect(gate.limit).toBe(8);
    gate.succeeded();
    expect(gate.limit).toBe(8);
  });

  it('paces starts across turns of the event loop', async () => {
    const gate = new AdaptiveGate(1000);
    let turn = 0;
    let ticking = true;
    const tick = (): void => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const turnOfStart: number[] = [];
    await Promise.all(Array.from({ length: 300 }, () => gate.run(async () => void turnOfStart.push(turn))));
    ticking = false;
    // 300 starts at 128 a turn: three turns, and the first turn starts exactly 128.
    expect(new Set(turnOfStart).size).toBe(3);
    expect(turnOfStart.filter((t) => t === turnOfStart[0])).toHaveLength(128);
  });
});

describe('exhaustionCode', () => {
  it('finds EMFILE behind a MinerError, and nothing behind a refusal', () => {
    const emfile = Object.assign(new Error('connect EMFILE'), { code: 'EMFILE' });
    expect(exhaustionCode(new MinerError('unreachable', 'x', { cause: emfile }))).toBe('EMFILE');
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(exhaustionCode(new MinerError('refused', 'x', { cause: refused }))).toBeNull();
    expect(exhaustionCode('EMFILE')).toBeNull();
  });

  it('reads EADDRNOTAVAIL to a family the machine has no address of as unreachable, not as no ports', () => {
    const notAvailable = Object.assign(new Error('connect EADDRNOTAVAIL ::1:4028'), {
      code: 'EADDRNOTAVAIL',
    });
    const error = new MinerError('unreachable', 'x', { cause: notAvailable });
    const ipv4Only = () => new Set<4 | 6>([4]);
    expect(exhaustionCode(error, '::1', ipv4Only)).toBeNull();
    // Out of local ports on IPv4: still exhaustion, to wait out.
    expect(exhaustionCode(error, '127.0.0.1', ipv4Only)).toBe('EADDRNOTAVAIL');
    expect(exhaustionCode(error, '::1', () => new Set<4 | 6>([4, 6]))).toBe('EADDRNOTAVAIL');
  });

  it('reads the family from the address a host name resolved to, as the socket error gives it', () => {
    const toV6 = Object.assign(new Error('connect EADDRNOTAVAIL ::1:4028'), {
      code: 'EADDRNOTAVAIL',
      address: '::1',
    });
    const ipv4Only = () => new Set<4 | 6>([4]);
    expect(
      exhaustionCode(new MinerError('unreachable', 'x', { cause: toV6 }), 'rig.lan', ipv4Only),
    ).toBeNull();
    const toV4 = Object.assign(new Error('connect EADDRNOTAVAIL 10.0.0.5:4028'), {
      code: 'EADDRNOTAVAIL',
      address: '10.0.0.5',
    });
    expect(exhaustionCode(new MinerError('unreachable', 'x', { cause: toV4 }), 'rig.lan', ipv4Only)).toBe(
      'EADDRNOTAVAIL',
    );
  });
});

describe('buildInventory and formatProgress', () => {
  const result = (port: number, outcome: ScanResult['outcome']): ScanResult => ({
    target: `127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    outcome,
    make: outcome === 'miner' ? 'Antminer' : null,
    model: outcome === 'miner' ? 'S19' : null,
    firmware: outcome === 'miner' ? { name: 'bmminer', version: null } : null,
    algorithm: null,
    round_trips: 1,
    elapsed_ms: 3,
  });

  it('keeps only miners, with the fields probe and collect read', () => {
    const inventory = buildInventory([result(1, 'miner'), result(2, 'open'), result(3, 'none')], new Date(0));
    expect(inventory).toEqual({
      generated_at: '1970-01-01T00:00:00.000Z',
      miners: [
        {
          host: '127.0.0.1',
          port: 1,
          make: 'Antminer',
          model: 'S19',
          firmware: { name: 'bmminer', version: null },
        },
      ],
    });
  });

  it('shows checked of total, finds, rate and time left', () => {
    expect(formatProgress({ total: 4000, checked: 1000, miners: 250, open: 3, elapsedMs: 500 })).toBe(
      '1,000/4,000 checked · 250 miners · 3 open · 2,000/s · ETA 1s',
    );
    expect(formatProgress({ total: 10, checked: 0, miners: 0, open: 0, elapsedMs: 0 })).toContain('ETA ?');
  });
});

describe('ReplyMemo', () => {
  const version = (when: number, type = 'Antminer S19 Pro') =>
    encode(
      `{"STATUS":[{"STATUS":"S","When":${when},"Code":22,"Msg":"BMMiner versions","Description":"bmminer 1.0.0"}],"VERSION":[{"BMMiner":"1.0.0","API":"3.1","Miner":"uart_trans.1.3","CompileTime":"Mon Dec 6 10:00:00 CST 2022","Type":"${type}"}],"id":1}\0`,
    );

  it('decodes a text once whatever its When, and detects each distinct reply once', () => {
    const memo = new ReplyMemo();
    const first = memo.decode(version(1_700_000_000), 'version');
    expect(memo.decode(version(1_700_000_042), 'version')).toBe(first);
    expect(memo.identify(first)).toBe(memo.identify(first));
    expect(memo.identify(first)).toMatchObject({ make: 'Antminer', model: 'S19 Pro' });
    // Anything else that differs is another text: its own decode, its own identity.
    const other = memo.decode(version(1_700_000_000, 'Antminer S21 Pro'), 'version');
    expect(other).not.toBe(first);
    expect(memo.identify(other)).toMatchObject({ make: 'Antminer', model: 'S21 Pro' });
    expect(memo.decode(version(1_700_000_000), 'stats')).not.toBe(first); // the command is in the key
    expect(memo.size).toBe(3);
    // The text format's When=… too.
    const text = (when: number) =>
      encode(`STATUS=S,When=${when},Code=22,Msg=CGMiner versions|VERSION,CGMiner=4.9.0,API=3.1|\0`);
    expect(memo.decode(text(5), 'version')).toBe(memo.decode(text(6), 'version'));
  });

  it('decodes long replies every time and throws as decodeReply does', () => {
    const memo = new ReplyMemo();
    const padding = ' '.repeat(MEMO_MAX_BYTES);
    const long = encode(`{"STATUS":[{"STATUS":"S","When":1,"Code":22,"Msg":"x"}],"id":1}${padding}\0`);
    expect(memo.decode(long, 'version')).not.toBe(memo.decode(long, 'version'));
    expect(() => memo.decode(encode('\0'), 'version')).toThrow(MinerError);
    expect(memo.size).toBe(0);
  });
});
