import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { startProxy } from '../upload/support/proxy.js';

const KEY = 'k3y-for-thermal-tests-0123456789';

interface Served {
  url: string;
  requests: { path: string; key: string | undefined }[];
  close(): Promise<void>;
}

/** A self-signed certificate for `host`, written to `caFile` (its key beside it): the server's TLS options. */
function selfSigned(dir: string, caFile: string, host: string): { key: Buffer; cert: Buffer } {
  const keyFile = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=hashctl test CA'],
      ...['-addext', `subjectAltName=IP:${host}`, '-keyout', keyFile, '-out', caFile],
    ],
    { stdio: 'ignore' },
  );
  return { key: fs.readFileSync(keyFile), cert: fs.readFileSync(caFile) };
}

async function serve(status: number, body: unknown, host = '127.0.0.1'): Promise<Served> {
  const requests: Served['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', key: req.headers['x-collector-key'] as string | undefined });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('thermal config pull', () => {
  let dir: string;
  let server: Served | null = null;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-thermal-pull-'));
  });
  afterEach(async () => {
    await server?.close();
    server = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const remote = {
    thermal: {
      margin_c: 4,
      sites: { A: { board: { warn: 72, critical: 78 } } },
      classes: { air: { inlet: { critical: 38 } } },
    },
  };

  it('fetches with the key header, shows the difference and writes the thermal section only', async () => {
    server = await serve(200, remote);
    const file = path.join(dir, 'hashctl.json');
    fs.writeFileSync(file, JSON.stringify({ site: 'A', db: 'farm.db', thermal: { margin_c: 3 } }, null, 2));
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir });
    const code = await runCli(
      ['thermal', 'config', 'pull', '--endpoint', `${server.url}/base/`, '--config', file],
      ctx,
    );
    expect(ctx.err()).toContain('wrote 4 change(s)');
    expect(code).toBe(0);
    expect(server.requests).toEqual([{ path: '/base/api/thermal/config', key: KEY }]);
    expect(ctx.out()).toContain('margin_c: 3 -> 4');
    expect(ctx.out()).toContain('sites.A.board.critical: (unset) -> 78');
    expect(ctx.out() + ctx.err()).not.toContain(KEY);
    const written = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(written).toEqual({ site: 'A', db: 'farm.db', thermal: remote.thermal });
    // Atomic replace leaves no temporary file behind.
    expect(fs.readdirSync(dir)).toEqual(['hashctl.json']);

    const again = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir });
    expect(
      await runCli(
        ['thermal', 'config', 'pull', '--endpoint', server.url, '--config', file, '--json'],
        again,
      ),
    ).toBe(0);
    expect(JSON.parse(again.out())).toMatchObject({ changes: [], written: false });
  });

  it('updates a symlinked config where it lives, and the link stays a link', async () => {
    server = await serve(200, remote, '127.0.111.201');
    const real = path.join(dir, 'provisioned', 'hashctl.json');
    fs.mkdirSync(path.dirname(real));
    fs.writeFileSync(real, JSON.stringify({ site: 'A', thermal: { margin_c: 3 } }), { mode: 0o640 });
    fs.chmodSync(real, 0o640);
    const link = path.join(dir, 'hashctl.json');
    fs.symlinkSync(path.join('provisioned', 'hashctl.json'), link);
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir });
    const args = ['thermal', 'config', 'pull', '--endpoint', server.url, '--config', link];
    expect(await runCli(args, ctx)).toBe(0);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(JSON.parse(fs.readFileSync(real, 'utf8'))).toEqual({ site: 'A', thermal: remote.thermal });
    expect(fs.statSync(real).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(path.dirname(real))).toEqual(['hashctl.json']);
    expect(fs.readdirSync(dir).sort()).toEqual(['hashctl.json', 'provisioned']);
  });

  it('--dry-run shows the changes and writes nothing', async () => {
    server = await serve(200, remote.thermal);
    const file = path.join(dir, 'hashctl.json');
    fs.writeFileSync(file, '{}\n');
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir });
    const code = await runCli(
      ['thermal', 'config', 'pull', '--endpoint', server.url, '--config', file, '--dry-run', '--json'],
      ctx,
    );
    expect(code).toBe(0);
    const out = JSON.parse(ctx.out());
    expect(out.written).toBe(false);
    expect(out.changes.map((c: { path: string }) => c.path)).toEqual([
      'classes.air.inlet.critical',
      'margin_c',
      'sites.A.board.critical',
      'sites.A.board.warn',
    ]);
    expect(fs.readFileSync(file, 'utf8')).toBe('{}\n');
  });

  it('refuses an invalid remote config, naming the key, and leaves the file alone', async () => {
    server = await serve(200, { thermal: { sites: { A: { board: { warn: 'hot' } } } } });
    const file = path.join(dir, 'hashctl.json');
    fs.writeFileSync(file, '{"thermal":{}}\n');
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir });
    expect(await runCli(['thermal', 'config', 'pull', '--endpoint', server.url, '--config', file], ctx)).toBe(
      2,
    );
    expect(ctx.err()).toMatch(/remote thermal\.sites\.A\.board\.warn: /);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"thermal":{}}\n');
  });

  it('says the key was refused on 401 without printing it, and exits 1', async () => {
    server = await serve(401, { error: `bad key ${KEY}` });
    const file = path.join(dir, 'hashctl.json');
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir });
    expect(await runCli(['thermal', 'config', 'pull', '--endpoint', server.url, '--config', file], ctx)).toBe(
      1,
    );
    expect(ctx.err()).toMatch(/refused the collector key \(HTTP 401\)/);
    expect(ctx.err()).not.toContain(KEY);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('never shows a password in the URL or a token from its query, even in a refused URL or an echoed error', async () => {
    for (const endpoint of ['ftp://farm:pa55w0rd@127.0.0.1/', 'https://farm:pa55w0rd@127.0.0.1:99999/']) {
      const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir });
      expect(await runCli(['thermal', 'config', 'pull', '--endpoint', endpoint, '--dry-run'], ctx)).toBe(2);
      expect(ctx.err()).toMatch(
        /^hashctl: invalid --endpoint 'ftp:\/\/\*\*\*@|^hashctl: invalid --endpoint 'https:\/\/\*\*\*@/,
      );
      expect(ctx.err()).not.toContain('pa55w0rd');
    }
    const token = 'qt0k3n-s3cr3t-v4lue';
    server = await serve(400, { error: `unknown tenant for token ${token}` });
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir });
    const args = ['thermal', 'config', 'pull', '--endpoint', `${server.url}/?token=${token}`, '--dry-run'];
    expect(await runCli(args, ctx)).toBe(1);
    expect(ctx.err()).toContain('HTTP 400: {"error":"unknown tenant for token [redacted]"}');
    expect(ctx.err()).not.toContain(token);
  });

  it('refuses plain http beyond loopback before any request: the key would cross the network in clear', async () => {
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir });
    const args = ['thermal', 'config', 'pull', '--endpoint', 'http://collector.farm.lan:8080', '--dry-run'];
    expect(await runCli(args, ctx)).toBe(2);
    expect(ctx.err()).toMatch(/refusing to send the collector key over plain http to collector\.farm\.lan:/);
  });

  it("names the config's upload section, not --endpoint or a bare path, for values taken from it", async () => {
    const file = path.join(dir, 'hashctl.json');
    fs.writeFileSync(file, JSON.stringify({ upload: { endpoint: 'http://farm:pa55w0rd@127.0.0.1:9/' } }));
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir });
    expect(await runCli(['thermal', 'config', 'pull', '--config', file, '--dry-run'], ctx)).toBe(2);
    expect(ctx.err()).toMatch(
      new RegExp(
        `^hashctl: invalid upload\\.endpoint in config ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: credentials`,
      ),
    );
    expect(ctx.err()).not.toContain('pa55w0rd');

    server = await serve(200, remote);
    const keyFile = path.join(dir, 'collector.key');
    fs.writeFileSync(keyFile, `${KEY}\n`, { mode: 0o644 });
    fs.chmodSync(keyFile, 0o644);
    fs.writeFileSync(file, JSON.stringify({ upload: { endpoint: server.url, key_file: 'collector.key' } }));
    const keyCtx = memoryContext({ env: {}, cwd: dir });
    expect(await runCli(['thermal', 'config', 'pull', '--config', file, '--dry-run'], keyCtx)).toBe(2);
    expect(keyCtx.err()).toContain(
      `key file ${keyFile} (upload.key_file in config ${file}) is readable by group`,
    );
    expect(server.requests).toEqual([]);
  });

  it('refuses a key file readable by group or others before any request', async () => {
    server = await serve(200, remote);
    const keyFile = path.join(dir, 'collector.key');
    fs.writeFileSync(keyFile, `${KEY}\n`, { mode: 0o644 });
    fs.chmodSync(keyFile, 0o644);
    const file = path.join(dir, 'hashctl.json');
    const ctx = memoryContext({ env: {}, cwd: dir });
    const code = await runCli(
      ['thermal', 'config', 'pull', '--endpoint', server.url, '--config', file, '--key-file', keyFile],
      ctx,
    );
    expect(code).toBe(2);
    expect(ctx.err()).toMatch(/readable by group or others/);
    expect(server.requests).toEqual([]);
    fs.chmodSync(keyFile, 0o600);
    const ok = memoryContext({ env: {}, cwd: dir });
    expect(
      await runCli(
        ['thermal', 'config', 'pull', '--endpoint', server.url, '--config', file, '--key-file', keyFile],
        ok,
      ),
    ).toBe(0);
    expect(server.requests).toEqual([{ path: '/api/thermal/config', key: KEY }]);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).thermal.margin_c).toBe(4);
  });
});

describe('thermal config pull through an egress proxy (HTTPS_PROXY, NO_PROXY)', () => {
  const HOST = '127.0.121.20';
  const PROXY_HOST = '127.0.121.21';
  let dir = '';
  let caFile = '';
  let cloud: https.Server;
  let cloudUrl = '';
  const requests: string[] = [];
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-thermal-proxy-'));
    caFile = path.join(dir, 'cert.pem');
    cloud = https.createServer(selfSigned(dir, caFile, HOST), (req, res) => {
      requests.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ thermal: { margin_c: 6 } }));
    });
    await new Promise<void>((resolve) => cloud.listen(0, HOST, resolve));
    cloudUrl = `https://${HOST}:${(cloud.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => cloud.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const pull = async (env: Record<string, string>) => {
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY, ...env }, cwd: dir });
    const args = ['thermal', 'config', 'pull', '--endpoint', cloudUrl, '--ca', caFile, '--dry-run', '--json'];
    return { code: await runCli(args, ctx), err: ctx.err(), out: ctx.out() };
  };

  it('goes through the proxy the upload takes, the key inside the tunnel; NO_PROXY goes direct', async () => {
    const proxy = await startProxy(PROXY_HOST);
    try {
      const through = await pull({ HTTPS_PROXY: proxy.url });
      expect(through.code).toBe(0);
      expect(JSON.parse(through.out).changes.length).toBeGreaterThan(0);
      expect(proxy.tunnels.map((t) => t.target)).toEqual([cloudUrl.replace('https://', '')]);
      // TLS inside the tunnel: the proxy relayed bytes, never the key in them.
      expect(Buffer.concat(proxy.relayed).includes(KEY)).toBe(false);
      const direct = await pull({ HTTPS_PROXY: proxy.url, NO_PROXY: HOST });
      expect(direct.code).toBe(0);
      expect(proxy.tunnels).toHaveLength(1);
      expect(requests).toHaveLength(2);
    } finally {
      proxy.close();
    }
  });

  it('a proxy refusing the tunnel is named in the one line, its password never shown', async () => {
    const proxy = await startProxy(PROXY_HOST, () => 407);
    try {
      const refused = await pull({ HTTPS_PROXY: proxy.url.replace('http://', 'http://ops:pr0xy-s3cret@') });
      expect(refused.code).toBe(1);
      expect(refused.err).toContain(`via proxy http://***@${PROXY_HOST}`);
      expect(refused.err).not.toContain('pr0xy-s3cret');
    } finally {
      proxy.close();
    }
  });
});

describe('thermal config pull from a cloud that sends 100 Continue first', () => {
  // A cloud (or a reverse proxy in front of it) may write an unsolicited `100 Continue` before its
  // answer; undici alone took it for a broken answer: "cannot fetch …: bad response", exit 1.
  const HOST = '127.0.124.41';
  const PROXY_HOST = '127.0.124.42';
  let dir = '';
  let cloud: https.Server;
  const pull = async (url: string, env: Record<string, string>, ca?: string) => {
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY, ...env }, cwd: dir });
    const args = ['thermal', 'config', 'pull', '--endpoint', url, '--dry-run', '--json'];
    return { code: await runCli(ca ? [...args, '--ca', ca] : args, ctx), err: ctx.err(), out: ctx.out() };
  };
  const answer = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeContinue();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ thermal: { margin_c: 6 } }));
  };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-thermal-continue-'));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => (cloud ? cloud.close(() => resolve()) : resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads past it over http on this machine', async () => {
    const plain = http.createServer(answer);
    await new Promise<void>((resolve) => plain.listen(0, HOST, resolve));
    try {
      const result = await pull(`http://${HOST}:${(plain.address() as AddressInfo).port}`, {});
      expect(result).toMatchObject({ code: 0, err: '' });
      expect(JSON.parse(result.out).changes.length).toBeGreaterThan(0);
    } finally {
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });

  it('reads past it over https, directly and through an HTTPS_PROXY tunnel', async () => {
    const caFile = path.join(dir, 'cert.pem');
    cloud = https.createServer(selfSigned(dir, caFile, HOST), answer);
    await new Promise<void>((resolve) => cloud.listen(0, HOST, resolve));
    const url = `https://${HOST}:${(cloud.address() as AddressInfo).port}`;
    const proxy = await startProxy(PROXY_HOST);
    try {
      expect(await pull(url, {}, caFile)).toMatchObject({ code: 0, err: '' });
      expect(await pull(url, { HTTPS_PROXY: proxy.url }, caFile)).toMatchObject({ code: 0, err: '' });
      expect(proxy.tunnels).toHaveLength(1);
    } finally {
      proxy.close();
    }
  });
});
