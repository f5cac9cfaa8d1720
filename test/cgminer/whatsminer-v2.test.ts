// Whatsminer v2 writes (CGMINER-API.md §13.1): md5-crypt against `openssl passwd -1`, the key
// derivation and AES against the captured foreman-apps exchange (password `my-auth-password`), the
// sample replies, and whatsminerWrite against a scripted miner: sent once, errors mapped.
import { execFileSync } from 'node:child_process';
import { createDecipheriv, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/cgminer/client.js';
import {
  aesDecrypt,
  aesEncrypt,
  decodeEncryptedReply,
  deriveKeys,
  md5crypt,
  plaintextRequest,
  whatsminerStatusError,
  whatsminerWrite,
} from '../../src/cgminer/whatsminer-v2.js';
import { MinerError, UsageError } from '../../src/errors.js';
import { type FakeMiner, type Script, startFakeMiner } from '../support/fake-miner.js';

const SAMPLES = path.resolve(__dirname, '../../../shared/protocol/samples');
const sample = (name: string) => fs.readFileSync(path.join(SAMPLES, name), 'utf8').trim();

/** The token of the capture and the password its test used (foreman-apps WhatsminerBlinkITest). */
const TOKEN = { time: '6915', salt: 'BQ5hoXV9', newsalt: 'a5TtWui2' };
const CAPTURE_PASSWORD = 'my-auth-password';

/** Recorded from `openssl passwd -1 -salt SALT PASSWORD` (OpenSSL 3). */
const OPENSSL_VECTORS: [string, string, string][] = [
  ['admin', 'BQ5hoXV9', '$1$BQ5hoXV9$RxmaDUO33TS7O26yeMHZ81'],
  ['my-auth-password', 'BQ5hoXV9', '$1$BQ5hoXV9$WssMFDgz6KlzbAfbu9Jph/'],
  ['RxmaDUO33TS7O26yeMHZ816915', 'a5TtWui2', '$1$a5TtWui2$3p1She.3X07kIuPlnOet10'],
  ['a', 's', '$1$s$TnTS2d.76xCjLeeIhMx3L0'],
  ['0123456789abcdef', 'ab', '$1$ab$KPbsrH8h5k2KfaQeRBFJY/'],
  ['0123456789abcdefg', 'ab', '$1$ab$MwDML2WPsZ.Z4QLjBNnQZ0'],
  ['pässwörd', './Az09', '$1$./Az09$gYkHfTLZrKEdTy6GAVvsY1'],
  ['x', '12345678', '$1$12345678$7y7mHQRucjgVYVF1mZqKC1'],
  ['', 'abc', '$1$abc$Or2rbeUYTvt12aiVzMuS/.'],
];

function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('md5-crypt', () => {
  it('matches openssl passwd -1 on recorded vectors (empty, 16/17-byte, UTF-8 passwords)', () => {
    for (const [password, salt, expected] of OPENSSL_VECTORS) {
      expect(md5crypt(password, salt), `${password}/${salt}`).toBe(expected);
    }
  });

  it.skipIf(!opensslAvailable())('matches openssl passwd -1 live on random passwords and salts', () => {
    const salt = fc.stringMatching(/^[./0-9A-Za-z]{1,8}$/);
    const password = fc.stringMatching(/^[!-~]{0,40}$/).filter((p) => !p.startsWith('-'));
    fc.assert(
      fc.property(password, salt, (pw, s) => {
        const theirs = execFileSync('openssl', ['passwd', '-1', '-salt', s, pw]).toString().trim();
        expect(md5crypt(pw, s)).toBe(theirs);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses a salt md5-crypt cannot take', () => {
    for (const salt of ['', 'a$b', '123456789', 'sp ace'])
      expect(() => md5crypt('x', salt)).toThrow(UsageError);
  });
});

describe('keys and AES (the captured exchange)', () => {
  const keys = deriveKeys(CAPTURE_PASSWORD, TOKEN);

  it('derives the key and sign the capture carries', () => {
    expect(keys.key).toBe('WssMFDgz6KlzbAfbu9Jph/');
    expect(keys.sign).toBe('.8Wiv910uBxIJcqnY6BFC.');
    expect(keys.aesKey.equals(createHash('sha256').update(keys.key).digest())).toBe(true);
  });

  it('encrypts the captured requests byte for byte', () => {
    const led = plaintextRequest('set_led', { param: 'auto' }, keys.sign);
    expect(led).toBe('{"cmd":"set_led","param":"auto","token":".8Wiv910uBxIJcqnY6BFC."}');
    expect(aesEncrypt(keys.aesKey, led)).toBe(
      'nMLVzjQG7hjSD+d5hwvYSn3H8OZ9zAvPCvBRa9yjzQTqCeCXdOWSDAIjiDW6DkxEp7WUCgnxLnxVg/OTpSKIbxgdXEl4gno5L17jJd20tCc=',
    );
    const blink = plaintextRequest(
      'set_led',
      { color: 'red', period: '2000', duration: '1000', start: '0' },
      keys.sign,
    );
    expect(aesEncrypt(keys.aesKey, blink)).toBe(
      'nMLVzjQG7hjSD+d5hwvYSitXund4MPNZopw3Uu2C85ezRF2GZs/KkSfBHTqQpqLSetRMV1BGPl6CzaDx7GD7fUQaM/eiNyeJTVrNWlKIMFYNGIEd57NKcoyttCWYmhnIXpnvOdDql4mubthUjNAawg==',
    );
  });

  it('decodes the sample replies: success S/131 and write API disabled E/45 (kind denied)', () => {
    const ok = decodeEncryptedReply(
      Buffer.from(sample('whatsminer-m31s__encrypted-write_reply.json')),
      'set_led',
      keys.aesKey,
    );
    expect(ok.ok).toBe(true);
    expect(ok.status).toMatchObject({ status: 'S', code: 131, description: 'whatsminer v1.1' });
    const refused = decodeEncryptedReply(
      Buffer.from(sample('whatsminer_no-write-api__encrypted-write_reply.json')),
      'update_pools',
      keys.aesKey,
    );
    expect(refused.ok).toBe(false);
    expect(refused.status).toMatchObject({ status: 'E', code: 45, msg: "can't access write cmd" });
    const error = whatsminerStatusError(refused, 'update_pools');
    expect(error.kind).toBe('denied');
    expect(error.message).toMatch(/write API is disabled/);
  });

  it('a reply sealed with another key is a parse error, not a success', () => {
    const other = deriveKeys('admin', TOKEN);
    expect(() =>
      decodeEncryptedReply(
        Buffer.from(sample('whatsminer-m31s__encrypted-write_reply.json')),
        'set_led',
        other.aesKey,
      ),
    ).toThrow(/did not decrypt/);
  });

  it('round-trips any text; pads with NULs to whole blocks and adds no block when it fits', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 200 }).filter((t) => !t.endsWith('\0')),
        (text) => {
          const sealed = aesEncrypt(keys.aesKey, text);
          const size = Buffer.from(sealed, 'base64').length;
          expect(size).toBe(Math.ceil(Buffer.byteLength(text) / 16) * 16);
          expect(aesDecrypt(keys.aesKey, sealed).toString('utf8')).toBe(text);
          const d = createDecipheriv('aes-256-ecb', keys.aesKey, null).setAutoPadding(false);
          const raw = Buffer.concat([d.update(Buffer.from(sealed, 'base64')), d.final()]);
          expect(raw.subarray(Buffer.byteLength(text)).every((b) => b === 0)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses what is not base64 or not whole blocks', () => {
    expect(() => aesDecrypt(keys.aesKey, 'not base64!')).toThrow(MinerError);
    expect(() => aesDecrypt(keys.aesKey, Buffer.alloc(15).toString('base64'))).toThrow(/AES blocks/);
    expect(() => aesDecrypt(keys.aesKey, '')).toThrow(MinerError);
  });

  it('refuses fields that cannot be sent, and a token or cmd field', () => {
    expect(() => plaintextRequest('power_off', { respbefore: 'a\nb' }, 's')).toThrow(UsageError);
    expect(() => plaintextRequest('power_off', { token: 'x' }, 's')).toThrow(UsageError);
    expect(() => plaintextRequest('Power Off', {}, 's')).toThrow(UsageError);
  });
});

// ------------------------------------------------------------------------------------ on the wire

let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
});

const PASSWORD = 'Zq9_pw77';
const client = () =>
  createClient({ timeoutMs: 2000, maxBytes: 1 << 20, retries: 2, sleep: async () => undefined });
const wire = { timeoutMs: 1000, maxBytes: 1 << 20, retries: 2, sleep: async () => undefined };

function tokenReply(): string {
  return `{"STATUS":"S","When":1608417125,"Code":134,"Msg":${JSON.stringify(TOKEN)},"Description":"whatsminer v1.1"}`;
}

/** A miner that hands out TOKEN and answers the encrypted request with `answer(plaintext)`. */
function btminer(answer: (request: Record<string, unknown> | null) => Script | string): Script {
  const keys = deriveKeys(PASSWORD, TOKEN);
  return (request: string, connection: number) => {
    if (request === '{"cmd":"get_token"}') return { kind: 'reply', bytes: tokenReply(), nul: false };
    const outer = JSON.parse(request) as { enc: number; data: string };
    let inner: Record<string, unknown> | null = null;
    try {
      inner = JSON.parse(aesDecrypt(keys.aesKey, outer.data).toString('utf8')) as Record<string, unknown>;
    } catch {
      inner = null;
    }
    const reply = answer(inner);
    if (typeof reply !== 'string') return typeof reply === 'function' ? reply(request, connection) : reply;
    return { kind: 'reply', bytes: reply, nul: false };
  };
}

function sealed(text: string): string {
  return JSON.stringify({ enc: aesEncrypt(deriveKeys(PASSWORD, TOKEN).aesKey, text) });
}

async function miner(script: Script): Promise<FakeMiner> {
  const started = await startFakeMiner(script);
  miners.push(started);
  return started;
}

describe('whatsminerWrite', () => {
  it('get_token, then one encrypted write carrying the right token; returns the decrypted reply', async () => {
    const seen: Record<string, unknown>[] = [];
    const m = await miner(
      btminer((inner) => {
        if (inner) seen.push(inner);
        return sealed(
          '{"STATUS":"S","When":1,"Code":131,"Msg":"API command OK","Description":"whatsminer v1.3"}',
        );
      }),
    );
    const reply = await whatsminerWrite(
      client(),
      m.target,
      { cmd: 'power_off', params: { respbefore: 'true' }, password: PASSWORD },
      wire,
    );
    expect(reply.status).toMatchObject({ status: 'S', code: 131, msg: 'API command OK' });
    expect(m.connections).toBe(2);
    expect(m.requests[0]).toBe('{"cmd":"get_token"}');
    expect(m.requests[1]).toMatch(/^\{"enc":1,"data":"[A-Za-z0-9+/=]+"\}$/);
    expect(m.requests[1]).not.toContain(PASSWORD);
    expect(seen).toEqual([{ cmd: 'power_off', respbefore: 'true', token: deriveKeys(PASSWORD, TOKEN).sign }]);
  });

  it('a rejected token (plaintext E/135) is kind denied with a clear message, never retried', async () => {
    const m = await miner(
      btminer(
        () => '{"STATUS":"E","When":1,"Code":135,"Msg":"check token error","Description":"whatsminer v1.3"}',
      ),
    );
    const error = await whatsminerWrite(
      client(),
      m.target,
      { cmd: 'power_on', password: 'wrong1' },
      wire,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MinerError);
    expect(error).toMatchObject({ kind: 'denied', code: 135, requestSent: true });
    expect((error as MinerError).message).toMatch(/wrong admin password/);
    expect((error as MinerError).message).not.toContain('wrong1');
    expect(m.connections).toBe(2);
  });

  it('maps E/136 and E/137 to api, and the encrypted E/45 to denied; allowErrorStatus returns it', async () => {
    for (const [code, msg, kind] of [
      [136, 'token over max times', 'api'],
      [137, 'base64 decode error', 'api'],
    ] as const) {
      const m = await miner(btminer(() => `{"STATUS":"E","When":1,"Code":${code},"Msg":"${msg}"}`));
      await expect(
        whatsminerWrite(client(), m.target, { cmd: 'power_on', password: PASSWORD }, wire),
      ).rejects.toMatchObject({ kind, code });
    }
    const m = await miner(
      btminer(() => sealed('{"STATUS":"E","When":1,"Code":45,"Msg":"can\'t access write cmd"}')),
    );
    await expect(
      whatsminerWrite(client(), m.target, { cmd: 'power_on', password: PASSWORD }, wire),
    ).rejects.toMatchObject({ kind: 'denied', code: 45 });
    const reply = await whatsminerWrite(
      client(),
      m.target,
      { cmd: 'power_on', password: PASSWORD },
      {
        ...wire,
        allowErrorStatus: true,
      },
    );
    expect(reply.status).toMatchObject({ status: 'E', code: 45 });
  });

  it('"over max connect" from get_token is an api error and the write never leaves', async () => {
    for (const reply of [
      '{"STATUS":"S","When":1,"Code":134,"Msg":"over max connect","Description":"whatsminer v1.1"}',
      '{"STATUS":"E","When":1,"Code":136,"Msg":"over max connect","Description":"whatsminer v1.1"}',
    ]) {
      const m = await miner({ kind: 'reply', bytes: reply, nul: false });
      const error = await whatsminerWrite(
        client(),
        m.target,
        { cmd: 'power_on', password: PASSWORD },
        wire,
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'api', requestSent: false });
      expect((error as MinerError).message).toMatch(/over max connect/);
      expect(m.requests).toEqual(['{"cmd":"get_token"}']);
    }
  });

  it('a write whose reply never comes is a timeout with requestSent, sent exactly once', async () => {
    const m = await miner(btminer(() => ({ kind: 'silent' })));
    const error = await whatsminerWrite(
      client(),
      m.target,
      { cmd: 'restart_btminer', password: PASSWORD },
      {
        ...wire,
        timeoutMs: 300,
      },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'timeout', requestSent: true });
    expect(m.connections).toBe(2);
  });

  it('a decrypted reply past the value and nesting caps is too_large / too deep, not "a different key"', async () => {
    const ok = '"STATUS":"S","When":1,"Code":131,"Msg":"API command OK"';
    // 100,000 values in ~200 KB, under --max-bytes 1 MiB even as base64; the cap there is 65,536.
    const wide = await miner(btminer(() => sealed(`{${ok},"x":[${'0,'.repeat(99_999)}0]}`)));
    const tooLarge = await whatsminerWrite(
      client(),
      wide.target,
      { cmd: 'power_off', password: PASSWORD },
      wire,
    ).catch((e: unknown) => e);
    expect(tooLarge).toMatchObject({ kind: 'too_large', requestSent: true });
    expect((tooLarge as MinerError).message).toMatch(/more than 65536 values/);
    expect(wide.connections).toBe(2);

    const deep = await miner(btminer(() => sealed(`{${ok},"x":${'['.repeat(100)}${']'.repeat(100)}}`)));
    const tooDeep = await whatsminerWrite(
      client(),
      deep.target,
      { cmd: 'power_off', password: PASSWORD },
      wire,
    ).catch((e: unknown) => e);
    expect(tooDeep).toMatchObject({ kind: 'parse', requestSent: true });
    expect((tooDeep as MinerError).message).toMatch(/nesting too deep/);
    expect((tooDeep as MinerError).message).not.toMatch(/different key/);
  });

  it('refuses a bad request or an empty password before any traffic', async () => {
    const m = await miner({ kind: 'reply', bytes: tokenReply(), nul: false });
    await expect(
      whatsminerWrite(
        client(),
        m.target,
        { cmd: 'power_off', params: { respbefore: '\u0000' }, password: 'x' },
        wire,
      ),
    ).rejects.toBeInstanceOf(UsageError);
    await expect(
      whatsminerWrite(client(), m.target, { cmd: 'power_off', password: '' }, wire),
    ).rejects.toBeInstanceOf(UsageError);
    expect(m.connections).toBe(0);
  });
});

describe('whatsminerWrite: a whole encrypted reply that never ends', () => {
  const OK = '{"STATUS":"S","When":1,"Code":131,"Msg":"API command OK","Description":"whatsminer v1.3"}';

  it('is the answer when the miner sends it without a NUL and keeps the socket open, as a read is', async () => {
    const m = await miner(btminer(() => ({ kind: 'reply', bytes: sealed(OK), nul: false, close: false })));
    const reply = await whatsminerWrite(
      client(),
      m.target,
      { cmd: 'power_off', params: { respbefore: 'true' }, password: PASSWORD },
      { ...wire, timeoutMs: 300 },
    );
    expect(reply.status).toMatchObject({ status: 'S', code: 131 });
    expect(m.connections).toBe(2);
  });

  it('is the answer when the miner resets the connection after sending it', async () => {
    const m = await miner(btminer(() => ({ kind: 'rst', bytes: sealed(OK) })));
    const reply = await whatsminerWrite(client(), m.target, { cmd: 'power_off', password: PASSWORD }, wire);
    expect(reply.status).toMatchObject({ status: 'S', code: 131 });
    expect(m.connections).toBe(2);
  });

  it('half an encrypted reply at the deadline is still the timeout, sent once', async () => {
    const half = sealed(OK).slice(0, 30);
    const m = await miner(btminer(() => ({ kind: 'reply', bytes: half, nul: false, close: false })));
    const error = await whatsminerWrite(
      client(),
      m.target,
      { cmd: 'power_off', password: PASSWORD },
      { ...wire, timeoutMs: 300 },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'timeout', requestSent: true });
    expect(m.connections).toBe(2);
  });
});

describe('whatsminerWrite: a huge encrypted reply', () => {
  it('5 MB and more of base64 is a MinerError for that miner, not a RangeError that ends the whole run', async () => {
    // Checked by a regular expression, base64 this long overflowed V8's regexp stack.
    const huge = `{"enc":"${'A'.repeat(6_000_000)}"}`;
    const keys = deriveKeys(PASSWORD, TOKEN);
    expect(() => decodeEncryptedReply(Buffer.from(huge), 'power_off', keys.aesKey)).toThrow(MinerError);
    const m = await miner(btminer(() => huge));
    const error = await whatsminerWrite(
      client(),
      m.target,
      { cmd: 'power_off', password: PASSWORD },
      { ...wire, maxBytes: 8 * 2 ** 20 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MinerError);
    expect(error).toMatchObject({ kind: 'parse', requestSent: true });
    expect(m.connections).toBe(2);
  });

  it('still tells base64 from what is not', () => {
    const keys = deriveKeys(PASSWORD, TOKEN);
    for (const bad of ['A', 'AB=', 'A===', '====', 'AB=C', 'AAAA=AAA', 'AA-A', `${'A'.repeat(64)}!`])
      expect(() => aesDecrypt(keys.aesKey, bad), bad).toThrow(/not base64/);
    for (const good of [
      'AAAAAAAAAAAAAAAAAAAAAA==',
      'AAAAAAAAAAAAAAAAAAAAAAA=',
      Buffer.alloc(32).toString('base64'),
    ])
      expect(() => aesDecrypt(keys.aesKey, good), good).not.toThrow(/not base64/);
  });
});

describe('whatsminerWrite: within the client limits', () => {
  it('the encrypted write holds a socket of the client cap, as every request does (no EMFILE past the open-file limit)', async () => {
    let open = 0;
    let peak = 0;
    const track = {
      onOpen: () => {
        open++;
        peak = Math.max(peak, open);
      },
      onClose: () => {
        open--;
      },
    };
    const OK = '{"STATUS":"S","When":1,"Code":131,"Msg":"API command OK","Description":"whatsminer v1.3"}';
    const slowly = btminer(() => {
      const reply = sealed(OK);
      return { kind: 'segments', segments: [reply.slice(0, 20), reply.slice(20)], delayMs: 40 };
    });
    const group = await Promise.all([startFakeMiner(slowly, track), startFakeMiner(slowly, track)]);
    miners.push(...group);
    const capped = createClient({ timeoutMs: 2000, maxBytes: 1 << 20, retries: 0, concurrency: 1 });
    const replies = await Promise.all(
      group.map((m) => whatsminerWrite(capped, m.target, { cmd: 'power_off', password: PASSWORD }, wire)),
    );
    expect(replies.every((reply) => reply.ok)).toBe(true);
    expect(group.every((m) => m.connections === 2)).toBe(true);
    expect(peak).toBe(1);
  });
});

describe('whatsminer errors quote a miner message clipped, as the client does', () => {
  const huge = 'x'.repeat(600_000);

  it('a get_token refused with a 600 KB Msg is a one-line error', async () => {
    const m = await miner({
      kind: 'reply',
      bytes: `{"STATUS":"E","When":1,"Code":136,"Msg":"${huge}"}`,
      nul: false,
    });
    const error = (await whatsminerWrite(
      client(),
      m.target,
      { cmd: 'power_on', password: PASSWORD },
      wire,
    ).catch((e: unknown) => e)) as MinerError;
    expect(error).toMatchObject({ kind: 'api', code: 136, requestSent: false });
    expect(error.message.length).toBeLessThan(1000);
    expect(error.message).toMatch(/600000 characters/);
    expect(error.apiMessage?.length).toBeLessThan(1000);
  });

  it('"over max connect" inside a huge Msg, and an encrypted E with one', async () => {
    const over = await miner({
      kind: 'reply',
      bytes: `{"STATUS":"S","When":1,"Code":134,"Msg":"over max connect ${huge}"}`,
      nul: false,
    });
    const error = (await whatsminerWrite(
      client(),
      over.target,
      { cmd: 'power_on', password: PASSWORD },
      wire,
    ).catch((e: unknown) => e)) as MinerError;
    expect(error).toMatchObject({ kind: 'api', requestSent: false });
    expect(error.apiMessage?.length).toBeLessThan(1000);

    const m = await miner(btminer(() => sealed(`{"STATUS":"E","When":1,"Code":14,"Msg":"${huge}"}`)));
    const refused = (await whatsminerWrite(
      client(),
      m.target,
      { cmd: 'power_on', password: PASSWORD },
      { ...wire, maxBytes: 8 * 2 ** 20 },
    ).catch((e: unknown) => e)) as MinerError;
    expect(refused).toMatchObject({ kind: 'api', code: 14, requestSent: true });
    expect(refused.message.length).toBeLessThan(1000);
    expect(refused.apiMessage?.length).toBeLessThan(1000);
  });
});
