// --check-default-creds: a login counts as accepted only when the answer holds a token (a non-empty
// string). A 200 whose token field says false, 0 or {} is a refusal written as JSON, not a login:
// taken for one, a reviewer hands on "accepts the default credentials" for a miner that refused them.
import { afterEach, describe, expect, it } from 'vitest';
import { checkDefaultCredentials } from '../../src/audit/credentials.js';
import { evaluateRules } from '../../src/audit/rules/index.js';
import { input, versionReply } from './support/inputs.js';
import { startWebUi } from './support/web.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A web API on 127.0.0.1:0 that answers every request 200 with `body`. */
async function webAnswering(body: string) {
  return startWebUi((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  }, cleanups);
}

const vnish = versionReply({ BMMiner: '3.8.6', API: '3.1', Type: 'Antminer S19 (vnish 1.2.0)' });

describe('a login answer without a real token', () => {
  for (const body of [
    '{"token":false,"error":"wrong password"}',
    '{"token":0}',
    '{"token":{}}',
    '{"token":"   "}',
  ]) {
    it(`${body} is inconclusive, not accepted`, async () => {
      const port = await webAnswering(body);
      const checks = await checkDefaultCredentials('127.0.0.1', 'vnish', { port, timeoutMs: 2000 });
      expect(checks.map((check) => check.outcome)).toEqual(['inconclusive']);
      const findings = evaluateRules(input({ version: vnish }, { credentials: checks }), {
        allowedPools: null,
        workerPattern: null,
      }).filter((f) => f.rule === 'default-credentials');
      expect(findings).toEqual([]);
    });
  }

  it('a token string is still a login', async () => {
    const port = await webAnswering('{"token":"eyJhbGciOi.x.y"}');
    const checks = await checkDefaultCredentials('127.0.0.1', 'vnish', { port, timeoutMs: 2000 });
    expect(checks.map((check) => check.outcome)).toEqual(['accepted']);
  });
});

describe('a digest endpoint answering 200 without a credential', () => {
  const antminer = versionReply({ BMMiner: '1.0.0', API: '3.1', Type: 'Antminer S19' });
  for (const body of ['{}', '{"code":401,"msg":"please log in"}', '{"error":"unauthorized"}']) {
    it(`${body} is no system facts: inconclusive, not "answers with no credential"`, async () => {
      const port = await webAnswering(body);
      const checks = await checkDefaultCredentials('127.0.0.1', 'antminer', { port, timeoutMs: 2000 });
      expect(checks.map((check) => check.outcome)).toEqual(['inconclusive']);
      const findings = evaluateRules(input({ version: antminer }, { credentials: checks }), {
        allowedPools: null,
        workerPattern: null,
      }).filter((f) => f.rule === 'default-credentials');
      expect(findings).toEqual([]);
    });
  }

  it('the system facts themselves are "open"', async () => {
    const port = await webAnswering('{"minertype":"Antminer S19","macaddr":"00:11:22:33:44:55"}');
    const checks = await checkDefaultCredentials('127.0.0.1', 'antminer', { port, timeoutMs: 2000 });
    expect(checks.map((check) => check.outcome)).toEqual(['open']);
  });
});
