// The opt-in network checks against real servers on 127.0.0.1: TCP connect only for --services, and
// exactly one attempt per documented credential for --check-default-creds.
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkDefaultCredentials,
  digestAuthorization,
  parseDigestChallenge,
} from '../../src/audit/credentials.js';
import { readMiner } from '../../src/audit/index.js';
import type { AuditReader } from '../../src/audit/readonly.js';
import { probeServices, tcpConnects } from '../../src/audit/services.js';
import { failure, versionReply } from './support/inputs.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        (server as http.Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

/** A port nothing listens on: bind, note it, close. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('service probes', () => {
  it('connects without sending a byte, and reports closed ports', async () => {
    let bytes = 0;
    let connections = 0;
    let markClosed: () => void = () => {};
    const closedSeen = new Promise<void>((resolve) => {
      markClosed = resolve;
    });
    const server = net.createServer((socket) => {
      connections++;
      socket.on('data', (chunk) => {
        bytes += chunk.length;
      });
      socket.on('close', () => markClosed());
      socket.on('error', () => {});
    });
    const port = await listen(server);
    const closed = await closedPort();
    const probes = await probeServices(
      '127.0.0.1',
      [
        { port, service: 'telnet' },
        { port: closed, service: 'ssh' },
      ],
      { timeoutMs: 2000 },
    );
    expect(probes).toEqual([
      { port, service: 'telnet', open: true },
      { port: closed, service: 'ssh', open: false },
    ]);
    await closedSeen;
    expect(connections).toBe(1);
    expect(bytes).toBe(0);
    expect(await tcpConnects('127.0.0.1', closed, 2000)).toBe(false);
  });
});

describe('service probes of an audited miner', () => {
  it('do not report the miner API port being audited as another exposed service', async () => {
    // A miner whose API listens on 4029 (or 80, 8080) is audited there: that port is the API,
    // not "unknown-4029 open" next to it.
    const api = await listen(net.createServer((socket) => socket.destroy()));
    const ssh = await listen(net.createServer((socket) => socket.destroy()));
    const reader: AuditReader = { sent: [], read: async () => failure('api', 14) };
    const target = { host: '127.0.0.1', port: api, key: `127.0.0.1:${api}` };
    const input = await readMiner(
      { target, version: versionReply({ CGMiner: '4.11.1', API: '3.7' }) },
      reader,
      {
        services: true,
        checkDefaultCreds: false,
        timeoutMs: 2000,
        servicePorts: [
          { port: api, service: 'unknown-4029' },
          { port: ssh, service: 'ssh' },
        ],
      },
    );
    expect(input.services).toEqual([{ port: ssh, service: 'ssh', open: true }]);
  });
});

describe('digest auth', () => {
  it('parses a challenge and computes the RFC 7616 response', () => {
    const challenge = parseDigestChallenge(
      'Digest realm="antMiner Configuration", nonce="abc123", qop="auth", opaque="xyz"',
    );
    expect(challenge).toEqual({
      realm: 'antMiner Configuration',
      nonce: 'abc123',
      qop: 'auth',
      opaque: 'xyz',
    });
    const header = digestAuthorization(
      challenge ?? {},
      { username: 'root', password: 'root', method: 'GET', uri: '/x' },
      'c0ffee',
    );
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    const expected = md5(
      `${md5('root:antMiner Configuration:root')}:abc123:00000001:c0ffee:auth:${md5('GET:/x')}`,
    );
    expect(header).toContain(`response="${expected}"`);
    expect(parseDigestChallenge('Basic realm="x"')).toBeNull();
  });
});

/** An Antminer-like web UI: digest auth on /cgi-bin/get_system_info.cgi with the given password. */
async function antminerWeb(
  password: string,
): Promise<{ port: number; requests: { url: string; authorized: boolean }[] }> {
  const realm = 'antMiner Configuration';
  const nonce = 'n0nce';
  const md5 = (text: string) => createHash('md5').update(text).digest('hex');
  const requests: { url: string; authorized: boolean }[] = [];
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const params = Object.fromEntries([...auth.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1], m[2]]));
    const expected = md5(
      `${md5(`${params.username}:${realm}:${password}`)}:${nonce}:${params.nc}:${params.cnonce}:auth:${md5(`${req.method}:${params.uri}`)}`,
    );
    const authorized = auth.startsWith('Digest ') && params.response === expected && params.uri === req.url;
    requests.push({ url: req.url ?? '', authorized });
    if (authorized) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"minertype":"Antminer S19"}');
    } else {
      res
        .writeHead(401, { 'www-authenticate': `Digest realm="${realm}", nonce="${nonce}", qop="auth"` })
        .end();
    }
  });
  return { port: await listen(server), requests };
}

describe('default credentials', () => {
  it('Antminer root/root is accepted with exactly one authenticated attempt', async () => {
    const web = await antminerWeb('root');
    const checks = await checkDefaultCredentials('127.0.0.1', 'antminer', {
      port: web.port,
      timeoutMs: 2000,
    });
    expect(checks.map((check) => check.outcome)).toEqual(['accepted']);
    expect(web.requests).toEqual([
      { url: '/cgi-bin/get_system_info.cgi', authorized: false },
      { url: '/cgi-bin/get_system_info.cgi', authorized: true },
    ]);
  });

  it('a changed password is reported rejected, still one attempt', async () => {
    const web = await antminerWeb('s3cret');
    const checks = await checkDefaultCredentials('127.0.0.1', 'antminer', {
      port: web.port,
      timeoutMs: 2000,
    });
    expect(checks.map((check) => check.outcome)).toEqual(['rejected']);
    expect(web.requests).toHaveLength(2);
  });

  it('Braiins OS: one login per documented default, stopping at the first that works', async () => {
    const bodies: unknown[] = [];
    const server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (chunk) => {
        text += chunk;
      });
      req.on('end', () => {
        const body = JSON.parse(text) as { username: string; password: string };
        bodies.push(body);
        if (req.url === '/api/v1/auth/login' && body.password === 'root')
          res.writeHead(200).end('{"token":"t0k","timeout_s":3600}');
        else res.writeHead(401).end('{"message":"bad"}');
      });
    });
    const port = await listen(server);
    const checks = await checkDefaultCredentials('127.0.0.1', 'braiins', { port, timeoutMs: 2000 });
    expect(checks.map((check) => `${check.password || '(empty)'}:${check.outcome}`)).toEqual([
      '(empty):rejected',
      'root:accepted',
    ]);
    expect(bodies).toEqual([
      { username: 'root', password: '' },
      { username: 'root', password: 'root' },
    ]);
  });

  it('never tries Whatsminer or LuxOS, and reports an unreachable web port once', async () => {
    expect(await checkDefaultCredentials('127.0.0.1', 'whatsminer', { port: 1, timeoutMs: 500 })).toEqual([]);
    expect(await checkDefaultCredentials('127.0.0.1', 'luxos', { port: 1, timeoutMs: 500 })).toEqual([]);
    const port = await closedPort();
    const checks = await checkDefaultCredentials('127.0.0.1', 'braiins', { port, timeoutMs: 1000 });
    expect(checks.map((check) => check.outcome)).toEqual(['unreachable']);
  });
});

describe('two miner APIs on one address (a host with 4028 and 4029, two containers, a proxy)', () => {
  /** Two simulated S9s on 127.0.0.1, audited together with `options` added to a plain audit's. */
  async function auditTwoApis(
    options: (targets: { host: string; port: number; key: string }[]) => Record<string, unknown>,
  ) {
    const { runAudit } = await import('../../src/audit/index.js');
    const { startFarm } = await import('../../src/sim/index.js');
    const farm = await startFarm({
      profile: 'antminer-s9',
      count: 2,
      seed: 2,
      host: '127.0.0.1',
      basePort: 0,
    });
    cleanups.push(() => farm.stop());
    const targets = farm.inventory().map((key) => {
      const at = key.lastIndexOf(':');
      return { host: key.slice(0, at), port: Number(key.slice(at + 1)), key };
    });
    const report = await runAudit({
      targets,
      targetCount: targets.length,
      named: new Set(targets.map((t) => t.key)),
      policy: { allowedPools: null, workerPattern: null },
      services: false,
      checkDefaultCreds: false,
      timeoutMs: 2000,
      retries: 0,
      maxBytes: 1 << 20,
      concurrency: 4,
      discovery: { connectTimeoutMs: 2000, replyTimeoutMs: 2000, retries: 0, concurrency: 4 },
      ...options(targets),
    });
    return { report, targets };
  }

  it('each documented credential is tried once against the web UI of the host, not once per API port', async () => {
    const web = await antminerWeb('root');
    const { report, targets } = await auditTwoApis(() => ({ checkDefaultCreds: true, webPort: web.port }));
    expect(report.miners).toHaveLength(2);
    // One challenge and one authenticated attempt in all: a lockout policy counts the host's logins.
    expect(web.requests.filter((request) => request.authorized)).toHaveLength(1);
    expect(web.requests).toHaveLength(2);
    // Both API ports are on the host whose web UI takes root/root: both carry the finding.
    const onTargets = report.findings.filter((f) => f.rule === 'default-credentials').map((f) => f.target);
    expect(onTargets.sort()).toEqual(targets.map((t) => t.key).sort());
  });

  it('the other miner API of the host is audited as a miner, not reported as an exposed service', async () => {
    const ssh = await listen(net.createServer((socket) => socket.destroy()));
    const { report, targets } = await auditTwoApis((targets) => ({
      services: true,
      // As if the two APIs were on 4028 and 4029: 4029 is in the list --services probes.
      servicePorts: [
        ...targets.map((target) => ({ port: target.port, service: 'unknown-4029' })),
        { port: ssh, service: 'ssh' },
      ],
    }));
    expect(report.miners).toHaveLength(2);
    const exposed = report.findings
      .filter((f) => f.rule === 'service-exposed')
      .map((f) => `${f.target} ${f.title}`)
      .sort();
    expect(exposed).toEqual(targets.map((t) => `${t.key} ssh open on TCP ${ssh}`).sort());
  });
});
