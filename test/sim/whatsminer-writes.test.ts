// The simulated Whatsminer's v2 write path (CGMINER-API.md §13.1). Keys come from recorded data
// (`openssl passwd -1` output and the foreman-apps capture), AES from node:crypto here: nothing of
// src/cgminer, and only the recorded vectors check the simulator's own md5-crypt.
import { execFileSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { cryptField, sealReply } from '../../src/sim/whatsminer-crypto.js';
import { exchange, lenient, section } from './support.js';

const SAMPLES = path.resolve(__dirname, '../../../shared/protocol/samples');
const sample = (name: string) => fs.readFileSync(path.join(SAMPLES, name), 'utf8').trim();

/** The foreman-apps capture: its password, token, and the hash fields openssl gives for them. */
const CAPTURE = {
  password: 'my-auth-password',
  time: '6915',
  newsalt: 'a5TtWui2',
  key: 'WssMFDgz6KlzbAfbu9Jph/',
  sign: '.8Wiv910uBxIJcqnY6BFC.',
  setLedAuto:
    'nMLVzjQG7hjSD+d5hwvYSn3H8OZ9zAvPCvBRa9yjzQTqCeCXdOWSDAIjiDW6DkxEp7WUCgnxLnxVg/OTpSKIbxgdXEl4gno5L17jJd20tCc=',
  updatePools:
    'R5OGMYYYx2LtfDiwrwsQbTU244uRzgVIlaFvSEbpLQ5GMvJfORE6HZyuV6jIx0kE/3kPtzw2FIa2R3Y51SrwpW4rr7h8WquXpp79sLEeOwc+ONuvSmVrsGJ8fM2lTNoAYWSZRBpwpj1oTcYGpLmQRZ/GwpSZrQFZytLIruOmjyo/Hd6if9ZBnDqTQjw/Worq+bI2JmGr86MQhP9lGfmSKLj9+tIJNBtMigKbIi5wdIYFjZfhaeVynUTncK4mLWKRA5rjURNFUGWzIB25Dl9TIG26oS9B33R9zmv4iTQc4K/k2e0UOmgceYxhccLTcXXjbLBpSgDoWem4uVZjV8T4fCsUwcMI854EfhKeeP/4wXFJItGXJgi8aay6LdjmURbTYTz5ymCL9vOBxhZpHsPruqn13MmON9ev8MzZJgiaZqsguiqWm0oSsc729ZlfXUqBXMN2TxhyfNjaUS7WA2cB3EyBsJYn9QtSTqiM2IulwJsqtzaRspkwIG0pBWfsKoIu',
};
const AES = createHash('sha256').update(CAPTURE.key).digest();

function seal(text: string): string {
  const raw = Buffer.from(text);
  const padded = Buffer.concat([raw, Buffer.alloc((16 - (raw.length % 16)) % 16)]);
  const cipher = createCipheriv('aes-256-ecb', AES, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

function open(base64: string, key = AES): Record<string, unknown> {
  const decipher = createDecipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(Buffer.from(base64, 'base64')), decipher.final()]);
  return JSON.parse(plain.toString('utf8').replace(/\0+$/, '')) as Record<string, unknown>;
}

let farm: Farm | null = null;
afterEach(async () => {
  await farm?.stop();
  farm = null;
});

/** A Whatsminer with the capture's password, holding the capture's token (issued just now). */
async function capturedMiner(options: Parameters<typeof startFarm>[0] = {}) {
  farm = await startFarm({ profile: 'whatsminer', count: 1, basePort: 0, restartDelayMs: 200, ...options });
  const miner = farm.miners[0]!;
  miner.state.adminPassword = CAPTURE.password;
  miner.state.tokens = [{ time: CAPTURE.time, newsalt: CAPTURE.newsalt, issuedAtMs: Date.now() }];
  return miner;
}

async function send(port: number, data: string): Promise<Record<string, unknown>> {
  const reply = await exchange(port, JSON.stringify({ enc: 1, data }));
  expect(reply.end).toBe('closed');
  expect(reply.bytes.includes(0)).toBe(false); // btminer sends no NUL (§8.5)
  return lenient(reply.bytes);
}

/** Sends `{"cmd":…,"token":capture sign}` encrypted; returns the decrypted reply. */
async function write(port: number, body: Record<string, string>): Promise<Record<string, unknown>> {
  const reply = await send(port, seal(JSON.stringify({ ...body, token: CAPTURE.sign })));
  expect(typeof reply.enc).toBe('string');
  return open(reply.enc as string);
}

describe('the simulator crypto', () => {
  it('md5-crypt hash fields equal openssl passwd -1 (recorded)', () => {
    expect(cryptField('admin', 'BQ5hoXV9')).toBe('RxmaDUO33TS7O26yeMHZ81');
    expect(cryptField(CAPTURE.password, 'BQ5hoXV9')).toBe(CAPTURE.key);
    expect(cryptField(CAPTURE.key + CAPTURE.time, CAPTURE.newsalt)).toBe(CAPTURE.sign);
    expect(cryptField('0123456789abcdefg', 'ab')).toBe('MwDML2WPsZ.Z4QLjBNnQZ0');
    expect(cryptField('', 'abc')).toBe('Or2rbeUYTvt12aiVzMuS/.');
  });

  it('seals the captured success reply byte for byte', () => {
    const captured = JSON.parse(sample('whatsminer-m31s__encrypted-write_reply.json')) as { enc: string };
    const text = JSON.stringify(open(captured.enc));
    expect(text).toBe('{"STATUS":"S","When":1608417125,"Code":131,"Msg":"","Description":"whatsminer v1.1"}');
    expect(sealReply(AES, text)).toBe(captured.enc);
  });
});

describe('encrypted writes', () => {
  it('write API disabled (stock default): the captured update_pools gets an encrypted E/45, nothing changes', async () => {
    const miner = await capturedMiner();
    const pools = miner.state.pools.map((p) => p.url);
    const reply = await send(miner.port, CAPTURE.updatePools);
    expect(Object.keys(reply)).toEqual(['enc']);
    expect(open(reply.enc as string)).toMatchObject({ STATUS: 'E', Code: 45, Msg: "can't access write cmd" });
    expect(miner.state.pools.map((p) => p.url)).toEqual(pools);
    expect(miner.received().map((e) => e.command)).toEqual(['']); // logged, not decrypted
  });

  it('write API enabled: the captured update_pools replaces all three pools (user and password too)', async () => {
    const miner = await capturedMiner({ writes: 'allow' });
    const reply = await send(miner.port, CAPTURE.updatePools);
    expect(open(reply.enc as string)).toMatchObject({ STATUS: 'S', Code: 131 });
    expect(miner.state.pools.map((p) => [p.url, p.user, p.password, p.priority])).toEqual(
      [1, 2, 3].map((i) => [
        `stratum+tcp://my-test-pool${i}.com:5588`,
        `my-test-username${i}`,
        `my-test-password${i}`,
        i - 1,
      ]),
    );
    const listed = section<{ URL: string; User: string }>(
      lenient((await exchange(miner.port, '{"command":"pools"}')).bytes),
      'POOLS',
    );
    expect(listed.map((p) => p.URL)).toEqual([1, 2, 3].map((i) => `stratum+tcp://my-test-pool${i}.com:5588`));
    expect(JSON.stringify(listed)).not.toContain('my-test-password');
  });

  it('power_off / power_on / set_low_power / restart_btminer act as on the miner', async () => {
    const miner = await capturedMiner({ writes: 'allow' });
    expect(await write(miner.port, { cmd: 'power_off', respbefore: 'true' })).toMatchObject({
      STATUS: 'S',
      Code: 131,
    });
    expect(miner.state.sleeping).toBe(true);
    const status = lenient((await exchange(miner.port, '{"cmd":"status"}')).bytes);
    expect(status.Msg).toMatchObject({ btmineroff: 'true' });
    await write(miner.port, { cmd: 'power_on' });
    expect(miner.state.sleeping).toBe(false);
    await write(miner.port, { cmd: 'set_low_power' });
    const summary = section<Record<string, unknown>>(
      lenient((await exchange(miner.port, '{"command":"summary"}')).bytes),
      'SUMMARY',
    )[0];
    expect(summary?.['Power Mode']).toBe('Low');
    const restarts = miner.state.restarts;
    await write(miner.port, { cmd: 'restart_btminer' });
    expect(miner.state.tokens).toEqual([]); // btminer's tokens go with the process
    expect((await exchange(miner.port, '{"cmd":"status"}')).end).toBe('refused');
    for (let i = 0; i < 50 && miner.state.restarts === restarts; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(miner.state.restarts).toBe(restarts + 1);
  });

  it('an unknown command inside the encryption is an encrypted E/14; reads work encrypted with writes off', async () => {
    const miner = await capturedMiner();
    expect(await write(miner.port, { cmd: 'fly_to_moon' })).toMatchObject({ STATUS: 'E', Code: 14 });
    const status = await write(miner.port, { cmd: 'status' });
    expect(status).toMatchObject({ STATUS: 'S', Code: 131, Msg: { btmineroff: 'false' } });
  });

  it('--writes deny keeps the write API off', async () => {
    const miner = await capturedMiner({ writes: 'deny' });
    miner.state.access = 'read';
    expect(await write(miner.port, { cmd: 'power_off', respbefore: 'true' })).toMatchObject({ Code: 45 });
    expect(miner.state.sleeping).toBe(false);
  });
});

describe('requests the miner cannot accept get a plaintext error', () => {
  it('wrong password: E/135 in plaintext, nothing changes', async () => {
    const miner = await capturedMiner({ writes: 'allow' });
    miner.state.adminPassword = 'admin';
    const reply = await send(miner.port, CAPTURE.setLedAuto);
    expect(reply).toMatchObject({ STATUS: 'E', Code: 135, Msg: 'check token error' });
    const off = await send(miner.port, seal(JSON.stringify({ cmd: 'power_off', token: CAPTURE.sign })));
    expect(off).toMatchObject({ Code: 135 });
    expect(miner.state.sleeping).toBe(false);
  });

  it('a token never issued, or older than 30 minutes: E/135', async () => {
    const miner = await capturedMiner({ writes: 'allow' });
    expect(
      await send(miner.port, seal(JSON.stringify({ cmd: 'power_off', token: 'forged.forged.forged.' }))),
    ).toMatchObject({
      Code: 135,
    });
    miner.state.tokens = [
      { time: CAPTURE.time, newsalt: CAPTURE.newsalt, issuedAtMs: Date.now() - 31 * 60_000 },
    ];
    expect(await send(miner.port, CAPTURE.setLedAuto)).toMatchObject({ Code: 135 });
    expect(miner.state.tokens).toEqual([]);
  });

  it('not base64, or not whole AES blocks: E/137', async () => {
    const miner = await capturedMiner({ writes: 'allow' });
    expect(await send(miner.port, 'not base64!')).toMatchObject({ STATUS: 'E', Code: 137 });
    expect(await send(miner.port, Buffer.alloc(20).toString('base64'))).toMatchObject({ Code: 137 });
  });
});

describe('get_token', () => {
  it('hands out time/salt/newsalt as captured, keeps them, and stops at 32 live tokens', async () => {
    farm = await startFarm({ profile: 'whatsminer', count: 1, basePort: 0 });
    const miner = farm.miners[0]!;
    const token = lenient((await exchange(miner.port, '{"cmd":"get_token"}')).bytes);
    expect(token).toMatchObject({ STATUS: 'S', Code: 134, Msg: { salt: 'BQ5hoXV9' } });
    const msg = token.Msg as Record<string, string>;
    expect(msg.time).toMatch(/^\d{4}$/);
    expect(msg.newsalt).toMatch(/^[./0-9A-Za-z]{8}$/);
    expect(miner.state.tokens).toEqual([expect.objectContaining({ time: msg.time, newsalt: msg.newsalt })]);
    for (let i = 1; i < 32; i++) await exchange(miner.port, '{"cmd":"get_token"}');
    expect(miner.state.tokens).toHaveLength(32);
    const over = lenient((await exchange(miner.port, '{"cmd":"get_token"}')).bytes);
    expect(over).toMatchObject({ STATUS: 'E', Msg: 'over max connect' });
    // Expired tokens free their slots.
    for (const t of miner.state.tokens ?? []) t.issuedAtMs -= 31 * 60_000;
    expect(lenient((await exchange(miner.port, '{"cmd":"get_token"}')).bytes)).toMatchObject({ Code: 134 });
  });

  const hasOpenssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasOpenssl)(
    'a live token signed with openssl passwd -1 and the default password works',
    async () => {
      farm = await startFarm({ profile: 'whatsminer', count: 1, basePort: 0, writes: 'allow' });
      const miner = farm.miners[0]!;
      const msg = lenient((await exchange(miner.port, '{"cmd":"get_token"}')).bytes).Msg as Record<
        string,
        string
      >;
      const field = (word: string, salt: string) =>
        execFileSync('openssl', ['passwd', '-1', '-salt', salt, word])
          .toString()
          .trim()
          .split('$')[3] as string;
      const key = field('admin', msg.salt as string);
      const sign = field(key + msg.time, msg.newsalt as string);
      const aes = createHash('sha256').update(key).digest();
      const cipher = createCipheriv('aes-256-ecb', aes, null).setAutoPadding(false);
      const text = Buffer.from(JSON.stringify({ cmd: 'power_off', respbefore: 'false', token: sign }));
      const padded = Buffer.concat([text, Buffer.alloc((16 - (text.length % 16)) % 16)]);
      const data = Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
      const reply = await send(miner.port, data);
      expect(open(reply.enc as string, aes)).toMatchObject({ STATUS: 'S', Code: 131 });
      expect(miner.state.sleeping).toBe(true);
    },
  );
});
