// What a hostile or badly broken peer can put in a reply, one class per test, at the layers without
// sockets: framing, decoding, the salvage of replies that never ended, and the work bounds (deep
// nesting, floods of one token, duplicate keys, the decode deadline). The socket side of the same
// classes is in hostile-peers.test.ts.
import { describe, expect, it } from 'vitest';
import { errorFromStatus } from '../../src/cgminer/client.js';
import { decodeReply, decodeUnfinished } from '../../src/cgminer/decode.js';
import { FrameReader, firstFrame, SNIFF_BYTES, sniffEncoding } from '../../src/cgminer/frame.js';
import { MAX_KEPT_DUPLICATES, parseLenient } from '../../src/cgminer/lenient-json.js';
import { MinerError } from '../../src/errors.js';

const STATUS_S = '{"STATUS":"S","When":1,"Code":11,"Msg":"Summary","Description":"cgminer 4.11.1"}';
const GOOD = `{"STATUS":[${STATUS_S}],"SUMMARY":[{"Elapsed":12}],"id":1}`;
const MiB = 1024 * 1024;

const bytes = (text: string | number[]): Uint8Array =>
  typeof text === 'string' ? new TextEncoder().encode(text) : new Uint8Array(text);
const join = (...parts: (string | number[])[]): Uint8Array => Buffer.concat(parts.map((p) => bytes(p)));
const decode = (input: string | Uint8Array, command = 'summary') =>
  decodeReply(typeof input === 'string' ? bytes(input) : input, command);

/** The kind of the MinerError `fn` throws, 'ok'/'failed' for a reply; anything else fails the test. */
function outcome(fn: () => { ok: boolean }): string {
  try {
    return fn().ok ? 'ok' : 'failed';
  } catch (error) {
    if (error instanceof MinerError) return error.kind;
    throw error;
  }
}

function utf16(text: string, order: 'le' | 'be', bom: boolean): Uint8Array {
  const le = Buffer.from(text, 'utf16le');
  const body = order === 'le' ? le : Buffer.from(le).swap16();
  const mark = order === 'le' ? [0xff, 0xfe] : [0xfe, 0xff];
  return Buffer.concat([Buffer.from(bom ? mark : []), body, Buffer.from([0, 0])]);
}

describe('framing of hostile byte streams', () => {
  it('skips NULs before the reply instead of reading them as an empty reply', () => {
    const reply = decode(join([0, 0], GOOD, [0]));
    expect(reply.ok).toBe(true);
    expect(reply.body.SUMMARY).toEqual([{ Elapsed: 12 }]);
    expect(reply.repairs).toContain('leading NUL');
    expect(outcome(() => decode(bytes([0])))).toBe('empty_reply');
    expect(outcome(() => decode(bytes([0, 0, 0, 0, 0])))).toBe('empty_reply');
  });

  it('does not end the read at a NUL before any content', () => {
    const reader = new FrameReader(1024);
    expect(reader.push(bytes([0, 0, 0, 0, 0]))).toBe('reading');
    expect(reader.push(bytes(GOOD))).toBe('reading');
    expect(reader.push(bytes([0]))).toBe('complete');
  });

  it('ends a reply shorter than the encoding sniff at its NUL (a peer that keeps the socket open)', () => {
    for (const short of ['ok', '{}', 'OK!']) {
      const reader = new FrameReader(1024);
      expect(reader.push(bytes(`${short}\0`)), short).toBe('complete');
    }
    // Two bytes that may begin UTF-16 ('o' then a zero byte) wait for more.
    const reader = new FrameReader(1024);
    expect(reader.push(bytes([0x6f, 0]))).toBe('reading');
    expect(reader.push(bytes([0x6b, 0, 0, 0]))).toBe('complete');
  });

  it('waits on fewer bytes than the sniff needs only while they can still begin UTF-16', () => {
    // Every head of 1-3 bytes over NUL, a letter and both byte-order-mark bytes: the reader waits
    // exactly when some next bytes would make it UTF-16, and otherwise ends it as UTF-8 does, at
    // the first NUL after content. `FF 41 00` is no byte-order mark: it ends at its NUL.
    const alphabet = [0, 0x41, 0xfe, 0xff];
    const heads: number[][] = [[]];
    for (let length = 1; length < SNIFF_BYTES; length++)
      for (const head of heads.filter((h) => h.length === length - 1))
        for (const byte of alphabet) heads.push([...head, byte]);
    const canBeUtf16 = (head: number[]): boolean => {
      const missing = SNIFF_BYTES - head.length;
      for (let tail = 0; tail < 256 ** missing; tail++) {
        const more = Array.from({ length: missing }, (_, i) => (tail >> (8 * i)) & 0xff);
        if (sniffEncoding(new Uint8Array([...head, ...more])) !== 'utf-8') return true;
      }
      return false;
    };
    const wrong: string[] = [];
    for (const head of heads.filter((h) => h.length > 0)) {
      const content = head.findIndex((b) => b !== 0);
      const utf8 = content !== -1 && head.indexOf(0, content) !== -1 ? 'complete' : 'reading';
      const expected = canBeUtf16(head) ? 'reading' : utf8;
      const got = new FrameReader(1024).push(new Uint8Array(head));
      if (got !== expected) wrong.push(`${Buffer.from(head).toString('hex')}: ${got}, not ${expected}`);
    }
    expect(wrong).toEqual([]);
  });

  it('reads UTF-16 in both byte orders, with or without a byte-order mark', () => {
    for (const order of ['le', 'be'] as const) {
      for (const bom of [true, false]) {
        const reply = decode(utf16(GOOD, order, bom));
        expect(reply.body, `${order} bom=${bom}`).toEqual(JSON.parse(GOOD));
        expect(reply.repairs).toContain('utf-16');
      }
    }
  });

  it('ends a UTF-16 read at its 16-bit NUL whatever the read sizes, never at the zero bytes of its text', () => {
    const framed = Buffer.concat([utf16(GOOD, 'le', true), Buffer.from('junk')]);
    const wrong: number[] = [];
    for (let offset = 1; offset < framed.length; offset++) {
      const reader = new FrameReader(framed.length);
      const first = reader.push(framed.subarray(0, offset));
      const second = reader.push(framed.subarray(offset));
      const end = framed.length - 'junk'.length;
      if (first !== (offset >= end ? 'complete' : 'reading') || (offset < end && second !== 'complete'))
        wrong.push(offset);
    }
    expect(wrong).toEqual([]);
    expect(firstFrame(framed)).toMatchObject({ encoding: 'utf-16le', terminated: true, extra: true });
  });

  it('takes the first of several frames and ignores stray NULs after it', () => {
    expect(decode(join(GOOD, [0, 0, 0, 0])).repairs).toEqual([]);
    expect(decode(join(GOOD, [0], '{"STATUS":[{"STATUS":"E"}]}', [0])).ok).toBe(true);
  });

  it('reads a BOM before a JSON or a text reply', () => {
    expect(decode(join([0xef, 0xbb, 0xbf], GOOD)).ok).toBe(true);
    expect(decode(join([0xef, 0xbb, 0xbf], 'STATUS=S,Code=11,Msg=Summary|SUMMARY,Elapsed=1|')).ok).toBe(true);
  });

  it('classifies other services and binary junk as protocol', () => {
    const foreign: Uint8Array[] = [
      bytes('SSH-2.0-OpenSSH_9.6\r\n'),
      bytes('220 mail.example.com ESMTP\r\n'),
      bytes('+OK POP3 ready\r\n'),
      bytes('HTTP/1.0 200 OK\r\n\r\n{"STATUS":[{"STATUS":"S"}]}'),
      bytes('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'),
      Buffer.from('160303005a0200005603036a0b1c', 'hex'), // TLS ServerHello
      Buffer.from('16030100a5010000a10303', 'hex'), // TLS ClientHello
      Buffer.from('1f8b0800000000000003', 'hex'), // gzip
      Buffer.from([0x81, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f]), // a WebSocket frame
      bytes('A'.repeat(MiB)),
    ];
    expect(foreign.map((input) => outcome(() => decode(input)))).toEqual(foreign.map(() => 'protocol'));
  });
});

describe('STATUS shapes and non-object JSON', () => {
  it('refuses a STATUS that is there but unreadable: a verdict it cannot read is not success', () => {
    const unreadable = [
      '{"STATUS":null,"SUMMARY":[{"Elapsed":1}],"id":1}',
      '{"STATUS":5,"id":1}',
      '{"STATUS":0,"id":1}',
      '{"STATUS":true,"id":1}',
      '{"STATUS":"","id":1}',
      '{"STATUS":[],"id":1}',
      '{"STATUS":[null],"id":1}',
      '{"STATUS":[{}],"id":1}',
      '{"STATUS":[{"STATUS":7}],"id":1}',
      '{"STATUS":{"Code":11},"id":1}',
    ];
    expect(unreadable.map((text) => outcome(() => decode(text)))).toEqual(unreadable.map(() => 'parse'));
  });

  it('reads the STATUS shapes that carry a verdict', () => {
    expect(decode('{"STATUS":[{"STATUS":"S"}]}')).toMatchObject({ ok: true, status: { status: 'S' } });
    expect(decode('{"STATUS":["S"],"id":1}').ok).toBe(true);
    expect(decode('{"STATUS":[{"STATUS":" s "}],"id":1}').ok).toBe(true);
    expect(decode('{"STATUS":"E","Msg":"boom"}')).toMatchObject({
      ok: false,
      status: { status: 'E', msg: 'boom' },
    });
  });

  it('gives no verdict it cannot read: no STATUS at all is protocol, a word that is none is parse', () => {
    const strangers = [
      '{}',
      '{"id":1}',
      '{"error":"Unauthorized"}',
      '{"command":"summary"}',
      '{"hello":"world","SUMMARY":[{"Elapsed":1}]}',
    ];
    expect(strangers.map((text) => outcome(() => decode(text)))).toEqual(strangers.map(() => 'protocol'));
    expect(() => decode('{"error":"Unauthorized"}')).toThrow('JSON without a CGMiner STATUS (keys: error)');
    const replies = [
      '{"STATUS":[{"STATUS":"WHATEVER"}],"id":1}',
      '{"STATUS":"garbage text"}',
      '{"STATUS":"X","Code":11,"Msg":"weird"}',
    ];
    expect(replies.map((text) => outcome(() => decode(text)))).toEqual(replies.map(() => 'parse'));
    expect(() => decode('{"STATUS":"X","Code":11}')).toThrow("the reply's STATUS cannot be read (X)");
    // In a joined reply the member says it (the client makes that a parse error for its command).
    expect(decode('{"summary":[{"STATUS":[{"STATUS":"Q"}]}],"id":1}').status).toMatchObject({
      unreadable: true,
      msg: "the reply's STATUS cannot be read (Q)",
    });
    // Every verdict of the protocol is read as one.
    for (const verdict of ['S', 'I', 'W', 'E', 'F', 'RESTART', 'BYE']) {
      expect(decode(`{"STATUS":[{"STATUS":"${verdict}"}],"id":1}`).status.status).toBe(verdict);
    }
  });

  it('treats JSON that is not an object as parse, not as a bare word', () => {
    const scalars = ['[]', 'null', 'true', 'false', '123', '-1.5e3', '"string"', '[{"STATUS":"S"}]'];
    expect(scalars.map((text) => outcome(() => decode(text)))).toEqual(scalars.map(() => 'parse'));
  });

  it('keeps hostile names as data in text replies: no prototype change, no inherited section', () => {
    const multi = decode('CMD=__proto__|STATUS=S,Code=1|X,a=1|', 'summary');
    expect(Object.getPrototypeOf(multi.body)).toBe(Object.prototype);
    expect(Object.keys(multi.body)).toEqual(['__proto__', 'id']);
    const named = decode('STATUS=S,Code=1|a=1|', 'constructor');
    expect(named.body.CONSTRUCTOR).toEqual([{ a: 1 }]);
  });

  it('keeps an error line a line: a 600 KB STATUS message is clipped, its length said', () => {
    const error = errorFromStatus(
      decode(`{"STATUS":[{"STATUS":"E","Code":14,"Msg":"${'x'.repeat(600_000)}"}]}`),
    );
    expect(error.kind).toBe('api');
    expect(error.message).toBe(`miner answered E/14: ${'x'.repeat(500)}… (600000 characters)`);
    expect(error.apiMessage?.length).toBeLessThan(600);
  });

  it("keeps an error line a line when it quotes a miner's word: a key, a STATUS, a section name", () => {
    // Each used to be quoted whole: a 300 KB key made the error (and every probe output) 300 KB wide.
    const long = 'k'.repeat(300_000);
    const replies = [
      `{"STATUS":[${STATUS_S}],"${long}" 1}`, // no ':' after a key
      `{"STATUS":[{"STATUS":"${long}"}]}`, // a verdict that is no verdict
      `{"summary":[{"STATUS":[{"STATUS":"${long}"}]}],"pools":[{"STATUS":[${STATUS_S}]}]}`, // one member's
      `{"${long}":1,"b${long}":2}`, // no STATUS at all
    ];
    for (const text of replies) {
      let message = '';
      try {
        const reply = decode(text);
        message = errorFromStatus(reply).message;
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message.length, message.slice(0, 80)).toBeLessThan(600);
      expect(message).toContain('(300000 characters)');
    }
  });

  it('says a reply cut inside its STATUS was cut, not that its STATUS is odd', () => {
    expect(() => decode('{"STATUS":[{"ST')).toThrow(/cut off before its STATUS/);
  });
});

describe('bounded work on pathological input', () => {
  // Sizes that take milliseconds when linear and minutes when quadratic: the test timeout is the bound.
  const floods: [string, string, string][] = [
    ['a list nested a million deep', '['.repeat(MiB), 'parse'],
    [
      'objects nested deep inside a reply',
      `{"STATUS":[${STATUS_S}],"X":${'{"a":'.repeat(100_000)}1`,
      'parse',
    ],
    ['lists nested deep and closed again', `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`, 'parse'],
    ['a megabyte of commas', ','.repeat(MiB), 'parse'],
    ['a megabyte of quotes', `{${'"'.repeat(MiB)}`, 'parse'],
    ['a megabyte of backslashes in a string', `{"a":"${'\\'.repeat(MiB)}`, 'parse'],
    ['a megabyte of colons', `{${':'.repeat(MiB)}`, 'parse'],
    ['a megabyte of unquoted words', `{${'a '.repeat(MiB / 2)}`, 'parse'],
    ['stray commas between members', `{"STATUS":[${STATUS_S}]${','.repeat(MiB)}}`, 'ok'],
    ['glued empty objects', `{"STATUS":[${STATUS_S}],"A":[${'{}'.repeat(MiB / 2)}]}`, 'ok'],
    ['a text reply of separators', `STATUS=S,Code=11${'|'.repeat(MiB)}`, 'ok'],
    ['a text reply of commas', `STATUS=S,Code=11${','.repeat(MiB)}|`, 'ok'],
    ['a text multi-command flood', `CMD=a|${'CMD=b|'.repeat(MiB / 6)}`, 'ok'],
  ];
  for (const [name, text, expected] of floods) {
    it(`decodes ${name} to a typed outcome`, () => {
      expect(outcome(() => decode(text))).toBe(expected);
    });
  }

  it('never overflows the stack, even where jsonrepair would recurse', () => {
    const deep = `{"STATUS":[${STATUS_S}],"X":${'['.repeat(50_000)}1${']'.repeat(50_000)}}`;
    expect(() => parseLenient(deep)).toThrow(/nesting too deep/);
    expect(() => decode(deep)).toThrow(MinerError);
  });

  it('keeps a bounded number of duplicate keys and says when it dropped the rest', () => {
    const flood = `{"STATUS":[${STATUS_S}],"SUMMARY":[{"a":0${',"a":1'.repeat(MAX_KEPT_DUPLICATES + 500)}}]}`;
    const reply = decode(flood);
    const record = (reply.body.SUMMARY as Record<string, unknown>[])[0] as Record<string, unknown>;
    expect(record.a).toBe(0);
    expect(Object.keys(record)).toHaveLength(MAX_KEPT_DUPLICATES + 1);
    expect(record[`a#${MAX_KEPT_DUPLICATES + 1}`]).toBe(1);
    expect(reply.repairs).toEqual(expect.arrayContaining(['duplicate keys', 'duplicate keys dropped']));
    const text = decode(`STATUS=S,Code=11|SUMMARY${',a=1'.repeat(MAX_KEPT_DUPLICATES + 500)}|`);
    expect(Object.keys((text.body.SUMMARY as object[])[0] as object)).toHaveLength(MAX_KEPT_DUPLICATES + 1);
    expect(text.repairs).toContain('duplicate keys dropped');
  });

  it('stops decoding at the deadline with a timeout', () => {
    const big = bytes(`{"STATUS":[${STATUS_S}],"A":[${'1,'.repeat(100_000)}1]}`);
    let clock = 0;
    // The clock passes the deadline after the first few thousand values.
    const now = () => (clock += 1_000);
    const error = (() => {
      try {
        decodeReply(big, 'summary', { deadline: 5_000, now });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(MinerError);
    expect((error as MinerError).kind).toBe('timeout');
    // The same reply with time to spare decodes whole.
    const reply = decodeReply(big, 'summary', { deadline: Number.POSITIVE_INFINITY });
    expect((reply.body.A as number[]).length).toBe(100_001);
    const text = bytes(`STATUS=S,Code=11|SUMMARY${',a=1'.repeat(40_000)}|`);
    clock = 0;
    expect(() => decodeReply(text, 'summary', { deadline: 5_000, now })).toThrow(/deadline/);
  });

  it('checks the deadline inside one long value too, not only between values', () => {
    // One value can be millions of steps: escapes in a JSON string, escapes or comma-separated
    // pieces in a text value. The clock was read only between values, so such a reply ran on for
    // seconds past --timeout (8 MiB of `\'` took 1.3 s; a text value of 2 M pieces, 4 s).
    const values: [string, string][] = [
      [
        'escapes in a JSON string',
        `{"STATUS":[${STATUS_S}],"SUMMARY":[{"Note":"${"\\'".repeat(100_000)}"}]}`,
      ],
      ['escapes in a text value', `STATUS=S,Code=11|SUMMARY,Note=${'\\,'.repeat(100_000)}|`],
      ['pieces of a text value', `STATUS=S,Code=11|SUMMARY,Note=x${',y'.repeat(100_000)}|`],
    ];
    for (const [name, text] of values) {
      let clock = 0;
      const now = () => (clock += 1_000);
      expect(() => decodeReply(bytes(text), 'summary', { deadline: 5_000, now }), name).toThrow(/deadline/);
      // With time to spare, the value is read whole.
      const reply = decodeReply(bytes(text), 'summary', { deadline: Number.POSITIVE_INFINITY });
      const note = ((reply.body.SUMMARY as Record<string, unknown>[])[0] as { Note: string }).Note;
      expect(note.length, name).toBe(name === 'pieces of a text value' ? 200_001 : 100_000);
    }
  });
});

describe('replies that never ended (deadline passed or connection reset)', () => {
  it('salvages a whole JSON reply and says the peer never ended it', () => {
    const reply = decodeUnfinished(bytes(GOOD), 'summary');
    expect(reply).not.toBeInstanceOf(MinerError);
    expect(reply).toMatchObject({ ok: true, repairs: ['no end of reply'] });
    expect(decodeUnfinished(bytes(`${GOOD}"}`), 'summary')).toMatchObject({ ok: true });
  });

  it('salvages a whole text reply or a whole line, not a prefix of one', () => {
    expect(
      decodeUnfinished(bytes('STATUS=S,Code=11,Msg=Summary|SUMMARY,Elapsed=1|'), 'summary'),
    ).toMatchObject({
      ok: true,
    });
    expect(decodeUnfinished(bytes('STATUS=S,Code=11,Msg=Summary|SUMMARY,Ela'), 'summary')).toBeNull();
    expect(decodeUnfinished(bytes('Socket connect failed: Connection refused\n'), 'summary')).toMatchObject({
      ok: false,
    });
    expect(decodeUnfinished(bytes('Socket conn'), 'summary')).toBeNull();
  });

  it('gives nothing for a prefix, so that the timeout or reset stands', () => {
    for (let end = 1; end < GOOD.length; end += 7) {
      expect(decodeUnfinished(bytes(GOOD.slice(0, end)), 'summary'), GOOD.slice(0, end)).toBeNull();
    }
    expect(decodeUnfinished(bytes([0]), 'summary')).toBeNull();
  });

  it('names another service from its banner alone', () => {
    const error = decodeUnfinished(bytes('SSH-2.0-OpenSSH_9.6\r\n'), 'summary');
    expect(error).toBeInstanceOf(MinerError);
    expect((error as MinerError).kind).toBe('protocol');
  });
});
