// --check-default-creds against web UIs that ask for no credential at all: the endpoint the default
// password protects (Antminer get_system_info.cgi) answering system facts to anyone is worse than a
// default password, and must be a finding, never "inconclusive" and left out of the report.
import { afterEach, describe, expect, it } from 'vitest';
import { checkDefaultCredentials } from '../../src/audit/credentials.js';
import { evaluateRules } from '../../src/audit/rules/index.js';
import { input, versionReply } from './support/inputs.js';
import { startWebUi } from './support/web.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A web UI on 127.0.0.1:0 that answers every request with `status` and `body`, recording each. */
async function webAnswering(status: number, body: string, type: string) {
  const requests: { method: string; url: string; authorization: string | null }[] = [];
  const port = await startWebUi((req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization ?? null,
    });
    res.writeHead(status, { 'content-type': type }).end(body);
  }, cleanups);
  return { port, requests };
}

const antminer = versionReply({ BMMiner: '1.0.0', API: '3.1', Type: 'Antminer S19' });

describe('a web UI that needs no credential', () => {
  it('Antminer get_system_info.cgi answering its facts unauthenticated is a high finding, no password sent', async () => {
    const web = await webAnswering(
      200,
      '{"minertype":"Antminer S19","hostname":"rig-7","macaddr":"00:11:22:33:44:55"}',
      'application/json',
    );
    const checks = await checkDefaultCredentials('127.0.0.1', 'antminer', {
      port: web.port,
      timeoutMs: 2000,
    });
    // One request, and no credential in it: there was nothing to log in to.
    expect(web.requests).toEqual([
      { method: 'GET', url: '/cgi-bin/get_system_info.cgi', authorization: null },
    ]);
    const findings = evaluateRules(input({ version: antminer }, { credentials: checks }), {
      allowedPools: null,
      workerPattern: null,
    }).filter((f) => f.rule === 'default-credentials');
    expect(findings).toHaveLength(1);
    expect(findings[0]?.severity).toBe('high');
    expect(findings[0]?.title).toMatch(/no credential/i);
    expect(findings[0]?.evidence).toMatch(/HTTP 200 without any credential/);
  });

  it('a page that is not the endpoint’s answer (an HTML catch-all) is no finding', async () => {
    const web = await webAnswering(200, '<html><body>Welcome</body></html>', 'text/html');
    const checks = await checkDefaultCredentials('127.0.0.1', 'antminer', {
      port: web.port,
      timeoutMs: 2000,
    });
    expect(checks.map((check) => check.outcome)).toEqual(['inconclusive']);
    const findings = evaluateRules(input({ version: antminer }, { credentials: checks }), {
      allowedPools: null,
      workerPattern: null,
    }).filter((f) => f.rule === 'default-credentials');
    expect(findings).toEqual([]);
  });
});

describe('default credentials that could not be judged', () => {
  const policy = { allowedPools: null, workerPattern: null };
  const options = { services: false, checkDefaultCreds: true, policy };

  it('a web port that does not answer, or answers nothing telling, is said under "not checked"', async () => {
    const { coverage } = await import('../../src/audit/index.js');
    const unreachable = input(
      { version: antminer },
      {
        target: { host: '10.0.0.7', port: 4028, key: '10.0.0.7:4028' },
        credentials: [
          {
            surface: 'Antminer web UI',
            username: 'root',
            password: 'root',
            endpoint: 'GET http://10.0.0.7:80/cgi-bin/get_system_info.cgi',
            outcome: 'unreachable',
            detail: 'web port not reachable (ECONNREFUSED)',
          },
        ],
      },
    );
    const html = input(
      { version: antminer },
      {
        target: { host: '10.0.0.8', port: 4028, key: '10.0.0.8:4028' },
        credentials: [
          {
            surface: 'Antminer web UI',
            username: 'root',
            password: 'root',
            endpoint: 'GET http://10.0.0.8:80/cgi-bin/get_system_info.cgi',
            outcome: 'inconclusive',
            detail: 'HTTP 200 without any credential',
          },
        ],
      },
    );
    const judged = input(
      { version: antminer },
      {
        credentials: [
          {
            surface: 'Antminer web UI',
            username: 'root',
            password: 'root',
            endpoint: 'GET http://10.0.0.5:80/cgi-bin/get_system_info.cgi',
            outcome: 'rejected',
            detail: 'HTTP 401',
          },
        ],
      },
    );
    // A miner of a firmware with no documented default: nothing was tried on it.
    const cgminer = input(
      { version: versionReply({ CGMiner: '4.11.1', API: '3.7' }) },
      { target: { host: '10.0.0.9', port: 4028, key: '10.0.0.9:4028' }, credentials: [] },
    );
    const { notChecked } = coverage(options, [unreachable, html, judged, cgminer]);
    const lines = notChecked.filter((line) => /credential/i.test(line)).join('\n');
    expect(lines).toMatch(/10\.0\.0\.7:4028 \(web port not reachable \(ECONNREFUSED\)\)/);
    expect(lines).toMatch(/10\.0\.0\.8:4028 \(HTTP 200 without any credential\)/);
    expect(lines).toMatch(/10\.0\.0\.9:4028/);
    expect(lines).not.toMatch(/10\.0\.0\.5/);
  });
});
