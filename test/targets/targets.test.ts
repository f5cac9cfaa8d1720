// The targets grammar (hashctl.md §2): forms, lazy expansion, arithmetic count, dedupe, bad specs.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseTarget, parseTargetSpecs } from '../../src/targets/index.js';
import type { Target } from '../../src/targets/types.js';

const parse = (specs: string[], files: Record<string, string> = {}, stdin?: string) =>
  parseTargetSpecs(specs, {
    defaultPort: 4028,
    readFile: async (path) => {
      const content = files[path];
      if (content === undefined) throw new Error(`ENOENT: no such file '${path}'`);
      return content;
    },
    stdin: stdin === undefined ? undefined : Readable.from([Buffer.from(stdin)]),
  });

const keys = (targets: Iterable<Target>) => [...targets].map((t) => t.key);

async function usage(specs: string[], files: Record<string, string> = {}): Promise<string> {
  const error = await parse(specs, files).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UsageError);
  return (error as UsageError).message;
}

describe('parseTarget', () => {
  it('reads hosts, ports, IPv6 and names', () => {
    expect(parseTarget('10.0.0.1', 4028)).toEqual({ host: '10.0.0.1', port: 4028, key: '10.0.0.1:4028' });
    expect(parseTarget('10.0.0.1:4029', 4028).port).toBe(4029);
    expect(parseTarget('[::1]:4029', 4028)).toEqual({ host: '::1', port: 4029, key: '[::1]:4029' });
    expect(parseTarget('fe80:0:0:0:0:0:0:1', 4028)).toEqual({
      host: 'fe80::1',
      port: 4028,
      key: '[fe80::1]:4028',
    });
    expect(parseTarget('[::ffff:10.0.0.1]', 4028).host).toBe('10.0.0.1');
    expect(parseTarget('Miner-01.Farm.local', 5000)).toEqual({
      host: 'miner-01.farm.local',
      port: 5000,
      key: 'miner-01.farm.local:5000',
    });
  });

  it('refuses what is not a host', () => {
    for (const bad of [
      '',
      '10.0.0.300',
      '10.0.0',
      '010.0.0.1',
      '10.0.0.1:0',
      '10.0.0.1:65536',
      '10.0.0.1:x',
      'host:',
      '[::1',
      '[zz::1]:4028',
      'bad_host',
      '-lead.example',
      'a..b',
      // Ranges typed wrong: not names to ask a resolver about.
      '127.0.50.1-3-5',
      '10.0.0.1-2-3:4028',
      'rig.7-9',
      // A letter O for a zero: an address or range with a typo, never a DNS lookup.
      '127.0.75.1O',
      '127.0.75.10-2O',
      '10.0.0.1O:4028',
      'farm.10x',
    ]) {
      expect(() => parseTarget(bad, 4028), bad).toThrow(UsageError);
    }
    expect(() => parseTarget('127.0.75.1O', 4028)).toThrow(/not a valid IPv4 address/);
    expect(() => parseTarget('127.0.75.10-2O', 4028)).toThrow(/not a valid IPv4 range/);
    expect(() => parseTarget('127.0.0.1:4028,127.0.0.1:4029', 4028)).toThrow(
      /separated by spaces, not commas/,
    );
    // Addresses no miner has: 0.0.0.0 and :: reach this machine, broadcast and multicast take no TCP.
    for (const [spec, what] of [
      ['0.0.0.0', "the 'any' address"],
      ['0.0.0.0:4028', "the 'any' address"],
      ['[::]:4028', "the 'any' address"],
      ['255.255.255.255', 'the broadcast address'],
      ['224.0.0.1', 'a multicast address'],
      ['239.255.255.250:1900', 'a multicast address'],
      ['ff02::1', 'a multicast address'],
    ] as const) {
      expect(() => parseTarget(spec, 4028), spec).toThrow(what);
    }
    for (const host of ['223.255.255.254', '240.0.0.1', '0.0.0.1', '::1', '127.0.0.1']) {
      expect(() => parseTarget(host, 4028), host).not.toThrow();
    }
    // Real names still are names, a leading digit included.
    for (const name of ['miner-12.farm.lan', '3com-switch', 's19.xn--p1ai', 'localhost']) {
      expect(parseTarget(name, 4028).host, name).toBe(name);
    }
  });
});

describe('parseTargetSpecs', () => {
  it('expands CIDRs without network and broadcast, but keeps all of /31 and /32', async () => {
    expect(keys(await parse(['10.0.0.0/30']))).toEqual(['10.0.0.1:4028', '10.0.0.2:4028']);
    expect(keys(await parse(['10.0.0.4/31']))).toEqual(['10.0.0.4:4028', '10.0.0.5:4028']);
    expect(keys(await parse(['10.0.0.9/32:4030']))).toEqual(['10.0.0.9:4030']);
    expect(keys(await parse(['10.0.0.7/30']))).toEqual(['10.0.0.5:4028', '10.0.0.6:4028']); // host bits cleared
  });

  it('counts a /8 arithmetically and expands it lazily', async () => {
    const set = await parse(['10.0.0.0/8']);
    expect(set.count).toBe(2 ** 24 - 2);
    const iterator = set[Symbol.iterator]();
    expect(iterator.next().value).toMatchObject({ host: '10.0.0.1' });
    expect(iterator.next().value).toMatchObject({ host: '10.0.0.2' });
    const wide = await parse(['0.0.0.0/1', '128.0.0.0/1']);
    expect(wide.count).toBe(2 ** 32 - 4);
  });

  it('expands both range forms', async () => {
    expect(keys(await parse(['10.0.0.10-12']))).toEqual([
      '10.0.0.10:4028',
      '10.0.0.11:4028',
      '10.0.0.12:4028',
    ]);
    const across = await parse(['10.0.0.254-10.0.1.1:4029']);
    expect(keys(across)).toEqual(['10.0.0.254:4029', '10.0.0.255:4029', '10.0.1.0:4029', '10.0.1.1:4029']);
    expect(across.count).toBe(4);
  });

  it('deduplicates hosts, overlapping ranges and hosts inside ranges, in any order', async () => {
    const set = await parse([
      '10.0.0.5',
      '10.0.0.0/29',
      '10.0.0.4-10',
      '10.0.0.5:4028',
      '10.0.0.6',
      '10.0.0.6:4029',
      'miner.local',
      'MINER.local',
    ]);
    const listed = keys(set);
    expect(listed).toEqual([
      '10.0.0.5:4028',
      '10.0.0.1:4028',
      '10.0.0.2:4028',
      '10.0.0.3:4028',
      '10.0.0.4:4028',
      '10.0.0.6:4028',
      '10.0.0.7:4028',
      '10.0.0.8:4028',
      '10.0.0.9:4028',
      '10.0.0.10:4028',
      '10.0.0.6:4029',
      'miner.local:4028',
    ]);
    expect(set.count).toBe(listed.length);
    expect(new Set(listed).size).toBe(listed.length);
  });

  it('keeps count equal to what iteration yields for many overlapping pieces', async () => {
    const specs: string[] = [];
    for (let i = 0; i < 40; i++) specs.push(`10.1.${i % 3}.${(i * 37) % 200}-${((i * 37) % 200) + (i % 50)}`);
    specs.push('10.1.0.0/23', '10.1.1.17', '10.1.2.3', '10.1.2.3:4029');
    const set = await parse(specs);
    const listed = keys(set);
    expect(new Set(listed).size).toBe(listed.length);
    expect(set.count).toBe(listed.length);
  });

  it('reads @FILE lines with comments and blank lines', async () => {
    const set = await parse(['@farm.txt'], {
      'farm.txt': '# rack A\n10.0.0.1\n\n10.0.0.2:4029   # spare\n[::1]:4030\n10.0.1.0/30\n',
    });
    expect(keys(set)).toEqual([
      '10.0.0.1:4028',
      '10.0.0.2:4029',
      '[::1]:4030',
      '10.0.1.1:4028',
      '10.0.1.2:4028',
    ]);
    expect(set.singleHost).toBe(false);
  });

  it('reads a farm inventory of 200,000 lines, from a file or standard input', async () => {
    // Not spread into push(): that many arguments overflowed the call stack (an internal error).
    const lines = Array.from({ length: 200_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    const text = `${lines.join('\n')}\n`;
    expect((await parse(['@farm.txt'], { 'farm.txt': text })).count).toBe(200_000);
    expect((await parse(['-'], {}, text)).count).toBe(200_000);
  });

  it('reads @FILE lines ended by CRLF, LF or a lone CR, with their line numbers', async () => {
    const files = {
      'mac.txt': '10.0.0.1\r10.0.0.2\r# end\r',
      'mixed.txt': '10.0.0.1\r\n10.0.0.2\r10.0.0.999\n',
    };
    expect(keys(await parse(['@mac.txt'], files))).toEqual(['10.0.0.1:4028', '10.0.0.2:4028']);
    expect(await usage(['@mixed.txt'], files)).toContain('mixed.txt:3');
  });

  it('reads JSON inventories, keeping only miners when outcomes are given', async () => {
    const files = {
      'list.json': '["10.0.0.1:4028", {"host":"10.0.0.2","port":4029}, {"host":"::1"}]',
      'scan.json': JSON.stringify({
        results: [
          { host: '10.0.0.3', port: 4028, outcome: 'miner' },
          { host: '10.0.0.4', port: 4028, outcome: 'refused' },
          { host: '10.0.0.5', port: 4028, outcome: 'miner' },
        ],
      }),
      'miners.json': JSON.stringify({ miners: [{ host: '10.0.0.6', port: 4028 }] }),
    };
    expect(keys(await parse(['@list.json'], files))).toEqual([
      '10.0.0.1:4028',
      '10.0.0.2:4029',
      '[::1]:4028',
    ]);
    expect(keys(await parse(['@scan.json'], files))).toEqual(['10.0.0.3:4028', '10.0.0.5:4028']);
    expect(keys(await parse(['@miners.json'], files))).toEqual(['10.0.0.6:4028']);
  });

  it('reads - from standard input', async () => {
    const set = await parse(['-'], {}, '10.0.0.1\n10.0.0.2\n');
    expect(keys(set)).toEqual(['10.0.0.1:4028', '10.0.0.2:4028']);
  });

  it("refuses a '-' that read no target beside other targets: a range typed with spaces", async () => {
    // `10.0.0.1 - 10.0.0.9` checked the two ends and silently not the range, exit 0, before.
    const typo = await parse(['10.0.0.1', '-', '10.0.0.9'], {}, '').catch((e: unknown) => e);
    expect(typo).toBeInstanceOf(UsageError);
    expect((typo as Error).message).toBe(
      "'10.0.0.1 - 10.0.0.9': '-' reads targets from standard input, which named none; for a range write 10.0.0.1-10.0.0.9, without spaces",
    );
    const broken = await parse(['@farm.txt', '-'], { 'farm.txt': '10.0.0.1\n' }, '').catch((e: unknown) => e);
    expect((broken as Error).message).toBe("'-' (standard input) named no target");
    expect((await parse(['10.0.0.1', '-'], {}, '10.0.0.2\n')).count).toBe(2);
  });

  it('never yields 0.0.0.0 or 255.255.255.255 from a range, and refuses a range of no host at all', async () => {
    // Refused as a host (a connection to 0.0.0.0 reaches this machine): a /32, /31 or dash range
    // must not let it through either.
    expect(keys(await parse(['0.0.0.0/31']))).toEqual(['0.0.0.1:4028']);
    expect(keys(await parse(['0.0.0.0-2']))).toEqual(['0.0.0.1:4028', '0.0.0.2:4028']);
    expect(keys(await parse(['255.255.255.254/31']))).toEqual(['255.255.255.254:4028']);
    expect(keys(await parse(['255.255.255.253-255.255.255.255']))).toEqual([
      '255.255.255.253:4028',
      '255.255.255.254:4028',
    ]);
    expect(await usage(['0.0.0.0/32'])).toContain("the 'any' address");
    expect(await usage(['0.0.0.0-0.0.0.0'])).toContain("'0.0.0.0-0.0.0.0'");
    expect(await usage(['255.255.255.255/32'])).toContain('the broadcast address');
    expect(await usage(['224.0.0.0/24'])).toContain('multicast');
    expect(await usage(['239.255.255.250-251:1900'])).toContain('multicast');
    // A wide range only passes over them (its size is judged by each command).
    expect((await parse(['10.0.0.0/0'])).count).toBe(2 ** 32 - 2);
  });

  it('knows when the specs were one plain host', async () => {
    expect((await parse(['10.0.0.1'])).singleHost).toBe(true);
    expect((await parse(['10.0.0.1/32'])).singleHost).toBe(false);
    expect((await parse(['10.0.0.1', '10.0.0.1'])).singleHost).toBe(false);
  });

  it('refuses bad specs with a message naming them, before anything else', async () => {
    expect(await usage(['10.0.0.1', '10.0.0.0/33'])).toContain("'10.0.0.0/33'");
    expect(await usage(['10.0.0.50-10'])).toContain('ends before it starts');
    expect(await usage(['10.0.0.1-256'])).toContain("'10.0.0.1-256'");
    expect(await usage(['fe80::/64'])).toContain('IPv6');
    expect(await usage(['10.0.0.0/8:0'])).toContain('port');
    expect(await usage(['@missing.txt'])).toContain('missing.txt');
    expect(await usage(['@bad.txt'], { 'bad.txt': '10.0.0.1\n10.0.0.999\n' })).toContain('bad.txt:2');
    expect(await usage(['@nested.txt'], { 'nested.txt': '@other.txt\n' })).toContain('nested.txt:1');
    expect(await usage(['@two.txt'], { 'two.txt': '10.0.0.1 10.0.0.2\n' })).toContain('one target per line');
    // A CSV row: the command line's "separate by spaces" would be refused here too.
    expect(await usage(['@farm.csv'], { 'farm.csv': '10.0.0.1,4028\n' })).toBe(
      "farm.csv:1: one target per line (HOST or HOST:PORT), found '10.0.0.1,4028': a file takes no commas",
    );
    expect(await usage(['@inv.json'], { 'inv.json': '{"hosts":[]}' })).toContain('inv.json');
    expect(await usage(['@inv.json'], { 'inv.json': '[{"host":"10.0.0.1","port":"x"}]' })).toContain(
      'entry 1',
    );
    expect(await usage(['-'])).toContain('standard input');
    // `@-` (curl's habit) read from the file system: no file '-', and the line says what works.
    const stdinTypo = await parseTargetSpecs(['@-'], { defaultPort: 4028 }).catch((e: unknown) => e);
    expect(stdinTypo).toBeInstanceOf(UsageError);
    expect((stdinTypo as Error).message).toMatch(/'-': ENOENT.*give '-' without '@'$/);
    // What people paste or quote: said as what it is, not as a bad CIDR or host name.
    expect(await usage(['http://10.0.0.5/'])).toMatch(/'http:\/\/10\.0\.0\.5\/': a URL, not a target/);
    expect(await usage(['10.0.0.1 10.0.0.2'])).toMatch(/several targets in one argument/);
    expect(await usage(['fe80::1%eth0:4028'])).toMatch(/put it in brackets: \[fe80::1%eth0\]:4028$/);
    expect(await usage(['::ffff:10.0.0.1:4029'])).toMatch(/put it in brackets: \[::ffff:10\.0\.0\.1\]:4029$/);
  });
});
