// The miner's side of Whatsminer's v2 crypto (CGMINER-API.md §13.1), written apart from
// src/cgminer on purpose: a client bug must not be mirrored here and pass its own test.
// MD5-crypt as `openssl passwd -1`, SHA-256 of the key as the AES-256-ECB key, NUL padding.
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function md5(chunks: Buffer[]): Buffer {
  return createHash('md5').update(Buffer.concat(chunks)).digest();
}

/** The hash field of `openssl passwd -1 -salt SALT WORD` (the part after `$1$SALT$`). */
export function cryptField(word: string, salt: string): string {
  const w = Buffer.from(word);
  const s = Buffer.from(salt.slice(0, 8));
  const mix = md5([w, s, w]);
  const first: Buffer[] = [w, Buffer.from('$1$'), s];
  for (let n = w.length; n > 0; n -= 16) first.push(mix.subarray(0, Math.min(n, 16)));
  for (let n = w.length; n !== 0; n >>= 1) first.push(n & 1 ? Buffer.alloc(1) : w.subarray(0, 1));
  let f = md5(first);
  for (let i = 0; i < 1000; i++) {
    const odd = i % 2 === 1;
    f = md5([odd ? w : f, i % 3 ? s : Buffer.alloc(0), i % 7 ? w : Buffer.alloc(0), odd ? f : w]);
  }
  // Byte triples in md5-crypt's output order, then the lone byte 11.
  const order = [0, 6, 12, 1, 7, 13, 2, 8, 14, 3, 9, 15, 4, 10, 5];
  let out = '';
  for (let t = 0; t < order.length; t += 3) {
    let v = ((f[order[t] as number] as number) << 16) | ((f[order[t + 1] as number] as number) << 8);
    v |= f[order[t + 2] as number] as number;
    for (let k = 0; k < 4; k++, v >>= 6) out += ITOA64[v & 63];
  }
  let last = f[11] as number;
  for (let k = 0; k < 2; k++, last >>= 6) out += ITOA64[last & 63];
  return out;
}

export interface MinerKeys {
  key: string;
  aes: Buffer;
}

/** What the miner derives from its admin password and its salt. */
export function minerKeys(password: string, salt: string): MinerKeys {
  const key = cryptField(password, salt);
  return { key, aes: createHash('sha256').update(key).digest() };
}

/** The `token` a client must put in its request for this token's time and newsalt. */
export function expectedSign(key: string, time: string, newsalt: string): string {
  return cryptField(key + time, newsalt);
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** base64 → AES-256-ECB → text without trailing NULs; null when the data is not whole blocks of base64. */
export function openRequest(aes: Buffer, data: string): Buffer | null {
  if (!STRICT_BASE64.test(data)) return null;
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length === 0 || bytes.length % 16 !== 0) return null;
  const d = createDecipheriv('aes-256-ecb', aes, null).setAutoPadding(false);
  const plain = Buffer.concat([d.update(bytes), d.final()]);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  return plain.subarray(0, end);
}

/** text → NUL-padded to 16 → AES-256-ECB → base64, as btminer encrypts its replies. */
export function sealReply(aes: Buffer, text: string): string {
  const raw = Buffer.from(text);
  const padded = Buffer.concat([raw, Buffer.alloc((16 - (raw.length % 16)) % 16)]);
  const c = createCipheriv('aes-256-ecb', aes, null).setAutoPadding(false);
  return Buffer.concat([c.update(padded), c.final()]).toString('base64');
}
