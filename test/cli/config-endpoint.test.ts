// One config file names the cloud for every command that talks to it: upload and collect --upload
// take upload.endpoint from it, and thermal config pull, which already took its key_file and
// ca_file from there, required --endpoint all the same ("required option '--endpoint <url>' not
// specified" with the endpoint in the file it was told to read).
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';

const KEY = 'k3y-for-config-endpoint-0123456789';

describe('the config file names the cloud endpoint', () => {
  let dir: string;
  let server: http.Server | null = null;
  const paths: string[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-config-endpoint-'));
    paths.length = 0;
  });
  afterEach(async () => {
    if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function cloud(): Promise<string> {
    server = http.createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ thermal: { margin_c: 4 } }));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('thermal config pull takes upload.endpoint from --config', async () => {
    const endpoint = await cloud();
    const file = path.join(dir, 'hashctl.json');
    fs.writeFileSync(file, JSON.stringify({ upload: { endpoint }, thermal: { margin_c: 3 } }));
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir });
    const code = await runCli(['thermal', 'config', 'pull', '--config', file, '--dry-run', '--json'], ctx);
    expect(ctx.err()).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(paths).toEqual(['/api/thermal/config']);
    expect(JSON.parse(ctx.out())).toMatchObject({
      endpoint: `${endpoint}/api/thermal/config`,
      written: false,
    });
  });

  it('without --endpoint or upload.endpoint it is one usage line naming both', async () => {
    const file = path.join(dir, 'hashctl.json');
    fs.writeFileSync(file, JSON.stringify({ thermal: { margin_c: 3 } }));
    const ctx = memoryContext({ env: { HASHCTL_COLLECTOR_KEY: KEY }, cwd: dir });
    expect(await runCli(['thermal', 'config', 'pull', '--config', file], ctx)).toBe(EXIT.usage);
    expect(ctx.err()).toMatch(/^hashctl: .*--endpoint URL \(or upload\.endpoint in the config\)\n$/);
  });
});
