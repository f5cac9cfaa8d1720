// Ctrl-C during --check-default-creds: the attempt cut short (or never made) is said as interrupted,
// not checked — never as "web port not reachable (AbortError)", a finding about the miner it is not.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDefaultCredentials } from '../../src/audit/credentials.js';
import { coverage } from '../../src/audit/index.js';
import type { AuditInput } from '../../src/audit/types.js';

const HOST = '127.0.0.1';

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A web port that takes each request and never answers; `onRequest` runs as one arrives. */
async function silentWeb(onRequest: () => void): Promise<{ port: number }> {
  const server = http.createServer(() => onRequest());
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, resolve));
  closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port };
}

describe('default credentials cut short by Ctrl-C', () => {
  it('an attempt in flight: skipped (interrupted), and the coverage says so', async () => {
    const controller = new AbortController();
    const web = await silentWeb(() => controller.abort());
    const checks = await checkDefaultCredentials(HOST, 'braiins', {
      port: web.port,
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    expect(checks.map((check) => check.outcome)).toEqual(['skipped']);
    expect(checks[0]?.detail).toMatch(/interrupted/);
    expect(checks[0]?.detail).not.toMatch(/AbortError|not reachable/);
    const input = {
      target: { host: HOST, port: 4028, key: `${HOST}:4028` },
      identity: { dialect: 'braiins' },
      credentials: checks,
      snapshot: null,
    } as unknown as AuditInput;
    const said = coverage({ services: false, checkDefaultCreds: true, policy: {} as never }, [
      input,
    ]).notChecked.join('\n');
    expect(said).toMatch(/interrupted/);
    expect(said).not.toMatch(/AbortError|not reachable/);
  });

  it('a check begun after the Ctrl-C: skipped (interrupted), nothing sent', async () => {
    let requests = 0;
    const web = await silentWeb(() => requests++);
    const checks = await checkDefaultCredentials(HOST, 'antminer', {
      port: web.port,
      timeoutMs: 60_000,
      signal: AbortSignal.abort(),
    });
    expect(checks.map((check) => [check.outcome, /interrupted/.test(check.detail)])).toEqual([
      ['skipped', true],
    ]);
    expect(requests).toBe(0);
  });
});
