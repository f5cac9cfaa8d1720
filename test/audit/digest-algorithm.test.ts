// --check-default-creds on a digest web UI: the response is computed with the algorithm the
// challenge names (RFC 7616: MD5, MD5-sess, SHA-256, SHA-256-sess). An MD5 answer to a SHA-256
// challenge was refused by the miner and reported "rejected", i.e. the default password judged
// changed, on a miner that still has it; an algorithm hashctl cannot answer is inconclusive.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDefaultCredentials } from '../../src/audit/credentials.js';
import { startWebUi } from './support/web.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A digest web UI on 127.0.0.1:0 whose challenge names `algorithm`, verifying with it. */
async function digestWeb(algorithm: string, password: string) {
  const realm = 'antMiner Configuration';
  const nonce = 'n0nce';
  const name = algorithm.replace(/-sess$/i, '').toLowerCase() === 'sha-256' ? 'sha256' : 'md5';
  const hash = (text: string) => createHash(name).update(text).digest('hex');
  const requests: { authorized: boolean }[] = [];
  const port = await startWebUi((req, res) => {
    const auth = req.headers.authorization ?? '';
    const params = Object.fromEntries([...auth.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1], m[2]]));
    let ha1 = hash(`${params.username}:${realm}:${password}`);
    if (/-sess$/i.test(algorithm)) ha1 = hash(`${ha1}:${nonce}:${params.cnonce}`);
    const expected = hash(
      `${ha1}:${nonce}:${params.nc}:${params.cnonce}:auth:${hash(`${req.method}:${params.uri}`)}`,
    );
    const authorized =
      auth.startsWith('Digest ') &&
      params.response === expected &&
      (params.algorithm ?? 'MD5').toLowerCase() === algorithm.toLowerCase();
    requests.push({ authorized });
    if (authorized)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"minertype":"Antminer S19"}');
    else
      res
        .writeHead(401, {
          'www-authenticate': `Digest realm="${realm}", nonce="${nonce}", qop="auth", algorithm=${algorithm}`,
        })
        .end();
  }, cleanups);
  return { port, requests };
}

describe('digest challenges with another algorithm', () => {
  for (const algorithm of ['SHA-256', 'MD5-sess', 'SHA-256-sess', 'MD5']) {
    it(`${algorithm}: the default password is accepted, a changed one rejected`, async () => {
      const open = await digestWeb(algorithm, 'root');
      const accepted = await checkDefaultCredentials('127.0.0.1', 'antminer', {
        port: open.port,
        timeoutMs: 2000,
      });
      expect(accepted.map((check) => check.outcome)).toEqual(['accepted']);
      const changed = await digestWeb(algorithm, 's3cret');
      const rejected = await checkDefaultCredentials('127.0.0.1', 'antminer', {
        port: changed.port,
        timeoutMs: 2000,
      });
      expect(rejected.map((check) => check.outcome)).toEqual(['rejected']);
    });
  }

  it('an algorithm hashctl cannot answer is inconclusive, and no credential is sent', async () => {
    const web = await digestWeb('SHA-512-256', 'root');
    const checks = await checkDefaultCredentials('127.0.0.1', 'antminer', {
      port: web.port,
      timeoutMs: 2000,
    });
    expect(checks.map((check) => check.outcome)).toEqual(['inconclusive']);
    expect(checks[0]?.detail).toContain('SHA-512-256');
    expect(web.requests).toHaveLength(1);
  });
});

describe('several challenges', () => {
  it('a Basic challenge ahead of the Digest one does not hide it', async () => {
    const realm = 'antMiner Configuration';
    const nonce = 'n0nce';
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const port = await startWebUi((req, res) => {
      const auth = req.headers.authorization ?? '';
      const params = Object.fromEntries([...auth.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1], m[2]]));
      const expected = md5(
        `${md5(`${params.username}:${realm}:root`)}:${nonce}:${params.nc}:${params.cnonce}:auth:${md5(`${req.method}:${params.uri}`)}`,
      );
      if (auth.startsWith('Digest ') && params.response === expected)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"minertype":"Antminer S19"}');
      else
        res
          .writeHead(401, [
            ['WWW-Authenticate', `Basic realm="${realm}"`],
            ['WWW-Authenticate', `Digest realm="${realm}", nonce="${nonce}", qop="auth"`],
          ])
          .end();
    }, cleanups);
    const checks = await checkDefaultCredentials('127.0.0.1', 'antminer', { port, timeoutMs: 2000 });
    expect(checks.map((check) => check.outcome)).toEqual(['accepted']);
  });
});
