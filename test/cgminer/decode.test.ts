// The repair pipeline of CGMINER-API.md §12 on synthetic replies, one malformation at a time, and
// the classification of what is not a cgminer reply at all.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeReply, splitMultiReply } from '../../src/cgminer/decode.js';
import { MinerError } from '../../src/errors.js';

const STATUS = '"STATUS":[{"STATUS":"S","When":1,"Code":11,"Msg":"Summary","Description":"cgminer 4.11.1"}]';
const bytes = (text: string | number[]): Uint8Array =>
  typeof text === 'string' ? new TextEncoder().encode(text) : new Uint8Array(text);
const decode = (text: string | number[], command = 'summary') => decodeReply(bytes(text), command);

function kindOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof MinerError) return error.kind;
    throw error;
  }
  return 'none';
}

describe('decodeReply repairs', () => {
  const cases: [string, string, string, (body: Record<string, unknown>) => void][] = [
    [
      'glued objects',
      `{${STATUS},"STATS":[{"Type":"S9"}{"STATS":0,"ID":"BC50"}],"id":1}`,
      'glued objects',
      (body) => expect(body.STATS).toEqual([{ Type: 'S9' }, { STATS: 0, ID: 'BC50' }]),
    ],
    [
      'leading comma in a list',
      `{${STATUS},"STATS":[,{"a":1}],"id":1}`,
      'leading comma',
      (body) => expect(body.STATS).toEqual([{ a: 1 }]),
    ],
    [
      'trailing comma in an object',
      `{${STATUS},"SUMMARY":[{"a":1,}],"id":1,}`,
      'trailing comma',
      (body) => expect(body.SUMMARY).toEqual([{ a: 1 }]),
    ],
    [
      'trailing comma in a list',
      `{${STATUS},"SUMMARY":[{"a":1},],"id":1}`,
      'trailing comma',
      (body) => expect(body.SUMMARY).toEqual([{ a: 1 }]),
    ],
    [
      'missing comma between string values',
      `{${STATUS},"SUMMARY":[{"Chip Data":"x""temp0":55}],"id":1}`,
      'missing comma',
      (body) => expect(body.SUMMARY).toEqual([{ 'Chip Data': 'x', temp0: 55 }]),
    ],
    [
      'missing comma after an empty string value',
      `{${STATUS},"SUMMARY":[{"Chip Data":""temp0":55}],"id":1}`,
      'missing comma',
      (body) => expect(body.SUMMARY).toEqual([{ 'Chip Data': '', temp0: 55 }]),
    ],
    [
      "the \\' escape",
      `{${STATUS},"SUMMARY":[{"Firmware Version":"\\'2020\\'"}],"id":1}`,
      'bad escape',
      (body) => expect(body.SUMMARY).toEqual([{ 'Firmware Version': "'2020'" }]),
    ],
    [
      'bare nan, -nan, inf',
      `{${STATUS},"SUMMARY":[{"a":nan,"b":-nan,"c":inf,"d":-inf,"e":1}],"id":1}`,
      'nan value',
      (body) => expect(body.SUMMARY).toEqual([{ a: null, b: null, c: null, d: null, e: 1 }]),
    ],
    [
      'quoted nan and inf',
      `{${STATUS},"SUMMARY":[{"a":"nan","b":"inf","c":"-nan","d":"infinite"}],"id":1}`,
      'nan value',
      (body) => expect(body.SUMMARY).toEqual([{ a: null, b: null, c: null, d: 'infinite' }]),
    ],
    [
      'raw control characters inside strings',
      `{${STATUS},"POOLS":[{"URL":"stratum+tcp://a\u0001b","T":"Tue\nJun"}],"id":1}`,
      'control characters',
      (body) => expect(body.POOLS).toEqual([{ URL: 'stratum+tcp://a\u0001b', T: 'Tue\nJun' }]),
    ],
    ['junk after the object', `{${STATUS},"id":1}"}`, 'trailing data', (body) => expect(body.id).toBe(1)],
    [
      'a second object after the first',
      `{${STATUS},"id":1}{"STATUS":[{"STATUS":"E"}]}`,
      'trailing data',
      (body) => expect((body.STATUS as { STATUS: string }[])[0]?.STATUS).toBe('S'),
    ],
    [
      'a reply starting with a comma',
      `,${STATUS},"id":1}`,
      'leading comma',
      (body) => expect(body).toMatchObject({ id: 1 }),
    ],
    [
      'a truncated reply',
      `{${STATUS},"SUMMARY":[{"Elapsed":12,"MHS av":123.4,"Accepted":5,"Rej`,
      'truncated',
      (body) => expect(body.SUMMARY).toEqual([{ Elapsed: 12, 'MHS av': 123.4, Accepted: 5 }]),
    ],
    [
      'a reply truncated inside a number',
      `{${STATUS},"SUMMARY":[{"Elapsed":12,"Accepted":5`,
      'truncated',
      (body) => expect(body.SUMMARY).toEqual([{ Elapsed: 12 }]),
    ],
    [
      'an object written with list brackets',
      '{"STATUS":"S","Code":131,"Msg":{"error_code":["110":"2024-01-01","218":"2024-01-02"]},"Description":""}',
      'list brackets around object',
      (body) => expect(body.Msg).toEqual({ error_code: { '110': '2024-01-01', '218': '2024-01-02' } }),
    ],
    [
      'duplicate keys',
      `{${STATUS},"STATS":[{"temp1":21,"temp1":42,"temp1":45}],"id":1}`,
      'duplicate keys',
      (body) => expect(body.STATS).toEqual([{ temp1: 21, 'temp1#2': 42, 'temp1#3': 45 }]),
    ],
    [
      "numbers printed with printf's %+d",
      `{${STATUS},"STATS":[{"offset":+5,"delta":+0.25,"freqs":[+1,-2,+3e2],"Note":"a+b","x":+nan}],"id":1}`,
      'plus sign',
      (body) =>
        expect(body.STATS).toEqual([{ offset: 5, delta: 0.25, freqs: [1, -2, 300], Note: 'a+b', x: null }]),
    ],
    [
      'pre-3.5 quit reply',
      '{"BYE","id":1}',
      'missing value',
      (body) => expect(body).toEqual({ BYE: null, id: 1 }),
    ],
  ];
  for (const [name, text, repair, check] of cases) {
    it(`repairs ${name}`, () => {
      const reply = decode(text);
      expect(reply.repairs).toContain(repair);
      check(reply.body);
    });
  }

  it('does not touch look-alikes inside strings', () => {
    const reply = decode(`{${STATUS},"POOLS":[{"URL":"a}{b,],[,{nan","User":"inf,}"}],"id":1}`);
    expect(reply.repairs).toEqual([]);
    expect(reply.body.POOLS).toEqual([{ URL: 'a}{b,],[,{nan', User: 'inf,}' }]);
  });

  it('replaces invalid UTF-8 and says so', () => {
    const head = [...bytes(`{${STATUS},"SUMMARY":[{"x":"`)];
    const reply = decode([...head, 0xff, 0xfe, 0x41, ...bytes('"}],"id":1}')]);
    expect(reply.repairs).toContain('invalid utf-8');
    expect((reply.body.SUMMARY as Record<string, string>[])[0]?.x).toBe('\ufffd\ufffdA');
  });

  it('takes only the first NUL-terminated frame (cgminer can send two)', () => {
    const first = `{"STATUS":[{"STATUS":"E","When":1,"Code":23,"Msg":"Invalid JSON"}],"id":1}`;
    const reply = decode(`${first}\0${first},"id":1}\0`);
    expect(reply.repairs).toEqual([]);
    expect(reply.status).toMatchObject({ status: 'E', code: 23 });
  });

  it('falls back to jsonrepair for damage outside the catalogue, and says so', () => {
    const reply = decode(`{${STATUS},"SUMMARY":[{"a":}],"id":1}`);
    expect(reply.repairs).toContain('jsonrepair');
    expect(reply.body.SUMMARY).toEqual([{ a: null }]);
  });

  it('keeps a key named __proto__ as data', () => {
    const reply = decode(`{${STATUS},"__proto__":{"polluted":1},"id":1}`);
    expect(Object.getPrototypeOf(reply.body)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(reply.body, '__proto__')?.value).toEqual({ polluted: 1 });
  });
});

describe('decodeReply status shapes', () => {
  it('reads quit and restart', () => {
    expect(decode('{"STATUS":"BYE","id":1}', 'quit')).toMatchObject({ ok: true, status: { status: 'BYE' } });
    expect(decode('{"STATUS":"RESTART","id":1}', 'restart')).toMatchObject({
      ok: true,
      status: { status: 'RESTART' },
    });
    expect(decode('{"BYE","id":1}', 'quit')).toMatchObject({ ok: true, status: { status: 'BYE' } });
  });

  it('treats I as success and E, F, W as failures', () => {
    for (const [letter, ok] of [
      ['I', true],
      ['S', true],
      ['E', false],
      ['F', false],
      ['W', false],
    ] as const) {
      const reply = decode(`{"STATUS":[{"STATUS":"${letter}","When":1,"Code":50,"Msg":"m"}],"id":1}`);
      expect(reply.ok).toBe(ok);
    }
  });

  it('reads the Whatsminer v3 lower-case envelope and its errors', () => {
    const reply = decode(
      '{"code":-2,"when":1,"msg":"invalid command","desc":"set.miner.pools"}',
      'set.miner.pools',
    );
    expect(reply.status).toEqual({
      status: 'E',
      code: -2,
      msg: 'invalid command',
      description: 'set.miner.pools',
      when: 1,
    });
    expect(reply.ok).toBe(false);
  });

  it('reads a Whatsminer permission error with a string STATUS', () => {
    const reply = decode('{"STATUS":"E","When":1,"Code":45,"Msg":"permission denied","Description":""}');
    expect(reply).toMatchObject({ ok: false, status: { status: 'E', code: 45, msg: 'permission denied' } });
  });
});

describe('decodeReply plain text', () => {
  it('turns text records into the JSON shape', () => {
    const reply = decode(
      'STATUS=S,When=1425919895,Code=11,Msg=Summary,Description=cgminer 4.11.1|SUMMARY,Elapsed=12,MHS av=0.49,Best Share=x|',
    );
    expect(reply.format).toBe('text');
    expect(reply.body.SUMMARY).toEqual([{ Elapsed: 12, 'MHS av': 0.49, 'Best Share': 'x' }]);
    expect(reply.status).toMatchObject({ status: 'S', code: 11, msg: 'Summary' });
  });

  it('puts unnamed list records under the section of the command and undoes text escapes', () => {
    const reply = decode(
      'STATUS=S,When=1,Code=7,Msg=2 Pool(s),Description=cgminer 4.11.1|POOL=0,URL=stratum+tcp://a\\,b\\|c:3333,Status=Alive|POOL=1,URL=x,Status=Dead|',
      'pools',
    );
    expect(reply.body.POOLS).toEqual([
      { POOL: 0, URL: 'stratum+tcp://a,b|c:3333', Status: 'Alive' },
      { POOL: 1, URL: 'x', Status: 'Dead' },
    ]);
  });

  it('keeps a driver Msg that contains | and , in one piece', () => {
    const reply = decode(
      'STATUS=I,When=1,Code=118,Msg=ASC 0 set info: help|voltage|fan-spd,Description=cgminer 4.11.1|',
      'ascset',
    );
    expect(reply.status.msg).toBe('ASC 0 set info: help|voltage|fan-spd');
    expect(reply.status.description).toBe('cgminer 4.11.1');
  });

  it('splits a text multi-command into CMD= members', () => {
    const reply = decode(
      'CMD=summary|STATUS=S,When=1,Code=11,Msg=Summary,Description=c|SUMMARY,Elapsed=5|CMD=pools|STATUS=S,When=1,Code=7,Msg=1 Pool(s),Description=c|POOL=0,URL=u|',
      'summary+pools',
    );
    const members = splitMultiReply(reply);
    expect(members.summary?.body.SUMMARY).toEqual([{ Elapsed: 5 }]);
    expect(members.pools?.body.POOLS).toEqual([{ POOL: 0, URL: 'u' }]);
    expect(members.pools?.format).toBe('text');
    expect(reply.ok).toBe(true);
  });
});

describe('decodeReply plain text with line breaks between records', () => {
  for (const [name, gap] of [
    ['\\n', '\n'],
    ['\\r\\n', '\r\n'],
    ['a space', ' '],
  ] as const) {
    it(`keeps ${name} after a | out of field and section names`, () => {
      const reply = decode(
        `STATUS=S,When=1,Code=7,Msg=2 Pool(s),Description=c|${gap}POOL=0,URL=u,Status=Alive|${gap}POOL=1,URL=v|${gap}`,
        'pools',
      );
      expect(reply.body.POOLS).toEqual([
        { POOL: 0, URL: 'u', Status: 'Alive' },
        { POOL: 1, URL: 'v' },
      ]);
      const joined = decode(
        `CMD=summary|${gap}STATUS=S,When=1,Code=11,Msg=Summary,Description=c|${gap}SUMMARY,Elapsed=5|${gap}CMD=pools|${gap}STATUS=E,When=1,Code=8,Msg=No pools,Description=c|${gap}`,
        'summary+pools',
      );
      const members = splitMultiReply(joined);
      expect(Object.keys(members)).toEqual(['summary', 'pools']);
      expect(members.summary?.body.SUMMARY).toEqual([{ Elapsed: 5 }]);
      expect(members.summary?.status).toMatchObject({ status: 'S', code: 11 });
      expect(members.pools?.status).toMatchObject({ status: 'E', code: 8, msg: 'No pools' });
      expect(joined.ok).toBe(false);
    });
  }
});

describe('splitMultiReply and members named by a hostile miner', () => {
  it('keeps a member named __proto__ as a member, and lends its fields to no other lookup', () => {
    const member = (section: string) =>
      `[{${STATUS.replace('"Msg":"Summary"', '"Msg":"x"')},"${section}":[{"A":1}],"id":1}]`;
    for (const text of [
      `{"__proto__":${member('X')},"summary":${member('SUMMARY')},"id":1}`,
      'CMD=__proto__|STATUS=S,When=1,Code=1,Msg=x,Description=c|X,A=1|CMD=summary|STATUS=S,When=1,Code=11,Msg=x,Description=c|SUMMARY,A=1|',
    ]) {
      const members = splitMultiReply(decode(text, '__proto__+summary'));
      expect(Object.keys(members), text).toEqual(['__proto__', 'summary']);
      expect(Object.hasOwn(members, '__proto__')).toBe(true);
      const proto = '__proto__';
      expect(members[proto]?.body.X).toEqual([{ A: 1 }]);
      // Names the member's own fields (`status`, `body`) are not members.
      for (const name of ['status', 'body', 'ok', 'command', 'constructor', 'toString'])
        expect(members[name], name).toBeUndefined();
    }
  });
});

describe('decodeReply multi-command', () => {
  it('splits members and reports the first failing one as the status', () => {
    const member = (section: string, status = 'S', code = 11) =>
      `[{"STATUS":[{"STATUS":"${status}","When":1,"Code":${code},"Msg":"m"}],"${section}":[{"a":1}],"id":1}]`;
    const reply = decode(
      `{"summary":${member('SUMMARY')},"devdetails":${member('X', 'E', 45)},"id":1}`,
      'summary+devdetails',
    );
    expect(reply.ok).toBe(false);
    expect(reply.status).toMatchObject({ status: 'E', code: 45 });
    const members = splitMultiReply(reply);
    expect(members.summary).toMatchObject({ ok: true, command: 'summary', body: { SUMMARY: [{ a: 1 }] } });
    expect(members.devdetails).toMatchObject({ ok: false, status: { code: 45 } });
  });
});

describe('decodeReply refusals', () => {
  it('classifies what is not a cgminer reply', () => {
    expect(kindOf(() => decode(''))).toBe('empty_reply');
    expect(kindOf(() => decode([0]))).toBe('empty_reply');
    expect(kindOf(() => decode('  \r\n'))).toBe('empty_reply');
    expect(kindOf(() => decode('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'))).toBe('protocol');
    expect(kindOf(() => decode('<html><body>hi</body></html>'))).toBe('protocol');
    expect(kindOf(() => decode('SSH-2.0-dropbear\r\n'))).toBe('protocol');
    expect(kindOf(() => decode([0x13, 0x37, 0xff, 0x01]))).toBe('protocol');
    expect(kindOf(() => decode('{:::}'))).toBe('parse');
    expect(kindOf(() => decode('{'))).toBe('parse');
    expect(kindOf(() => decode('[1,2]'))).toBe('parse');
  });

  it('names a TLS port: its alert record, cut at the first NUL, is not shown as dots', () => {
    const message = (bytes: number[]): string => {
      try {
        decode(bytes);
      } catch (error) {
        return error instanceof MinerError ? `${error.kind}: ${error.message}` : String(error);
      }
      return 'decoded';
    };
    // what OpenSSL answers a plain-text request with: an alert record (TLS 1.0 / 1.2 versions)
    expect(message([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46])).toMatch(/^protocol: .*TLS/);
    expect(message([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32])).toMatch(/^protocol: .*TLS/);
    expect(message([0x16, 0x03, 0x03, 0x00, 0x31, 0x02])).toMatch(/^protocol: .*TLS/);
  });

  it('reads "Socket connect failed" as an error reply: the API is up, the miner process is down', () => {
    const reply = decode('Socket connect failed: Connection refused\n');
    expect(reply).toMatchObject({ format: 'bare', ok: false, status: { status: 'E' } });
    expect(reply.status.msg).toBe('Socket connect failed: Connection refused');
  });

  it('reads only the bare lines firmwares are known to send as answers; any other text is protocol', () => {
    expect(decode('failed')).toMatchObject({ format: 'bare', ok: false });
    expect(decode('OK\n')).toMatchObject({ format: 'bare', ok: true });
    expect(kindOf(() => decode('hello world this is not cgminer\n'))).toBe('protocol');
    expect(kindOf(() => decode('Welcome to the console'))).toBe('protocol');
  });

  it('refuses nesting deep enough to blow the stack', () => {
    expect(kindOf(() => decode(`{"a":${'['.repeat(100_000)}`))).toBe('parse');
  });
});

describe('decodeReply is total', () => {
  const isReplyOrMinerError = (input: Uint8Array): boolean => {
    try {
      const reply = decodeReply(input, 'summary');
      return typeof reply.ok === 'boolean' && typeof reply.body === 'object' && Array.isArray(reply.repairs);
    } catch (error) {
      return error instanceof MinerError && ['empty_reply', 'parse', 'protocol'].includes(error.kind);
    }
  };

  it('returns a reply or throws MinerError for arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), isReplyOrMinerError), { numRuns: 2000 });
  });

  it('returns a reply or throws MinerError for JSON-like text with damage', () => {
    const jsonish = fc.stringMatching(/^[{}[\]",:0-9a-z\\ \n-]{0,200}$/).map((s) => `{${s}`);
    fc.assert(
      fc.property(jsonish, (text) => isReplyOrMinerError(bytes(text))),
      { numRuns: 2000 },
    );
  });

  it('decodes any valid JSON object to the same value as JSON.parse', () => {
    const object = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 6 });
    fc.assert(
      fc.property(object, (value) => {
        // With a STATUS: JSON that has none is refused (it says nothing about the command).
        const text = JSON.stringify({ ...value, STATUS: [{ STATUS: 'S' }] });
        fc.pre(!/"-?(?:nan|inf|infinity)"/i.test(text)); // quoted nan/inf become null on purpose
        const reply = decodeReply(bytes(text), 'x');
        expect(reply.body).toEqual(JSON.parse(text));
        expect(reply.repairs).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('decodes every prefix of a reply to a reply or a MinerError', () => {
    const text = `{${STATUS},"POOLS":[{"POOL":0,"URL":"stratum+tcp://p:3333","Diff":"65.5K","Active":true,"X":null,"F":-1.5e3}],"id":1}`;
    for (let end = 0; end <= text.length; end++)
      expect(isReplyOrMinerError(bytes(text.slice(0, end)))).toBe(true);
  });
});
