// `hashctl audit` resolves host names through the context's lookup, as scan, probe and control do:
// every connection (discovery, reads, --services) and the address the public-address rule judges.
// The system resolver is stubbed to fail for the whole file, so no name here can reach real DNS,
// whatever the code under test does.
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import net, { type LookupFunction } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readMiner } from '../../src/audit/index.js';
import type { AuditReader } from '../../src/audit/readonly.js';
import { probeServices } from '../../src/audit/services.js';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { lookupOf } from '../support/lookup.js';
import { type FakeMiner, startFakeMiner } from './support/fake-miner.js';
import { failure, versionReply } from './support/inputs.js';

const systemAsked: string[] = [];
const original = { lookup: dns.lookup, promisesLookup: dns.promises.lookup };

beforeAll(() => {
  const refuse = (hostname: string) => {
    systemAsked.push(hostname);
    return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  };
  // Address literals (a server's listen('127.0.0.1')) never reach a resolver: passed through.
  (dns as { lookup: unknown }).lookup = (hostname: string, ...rest: unknown[]) => {
    if (net.isIP(hostname)) return (original.lookup as (...args: unknown[]) => void)(hostname, ...rest);
    const callback = rest[rest.length - 1] as (error: Error) => void;
    process.nextTick(callback, refuse(hostname));
  };
  (dns.promises as { lookup: unknown }).lookup = async (hostname: string, ...rest: unknown[]) => {
    if (net.isIP(hostname))
      return (original.promisesLookup as (...args: unknown[]) => unknown)(hostname, ...rest);
    throw refuse(hostname);
  };
  syncBuiltinESMExports();
});

afterAll(() => {
  (dns as { lookup: unknown }).lookup = original.lookup;
  (dns.promises as { lookup: unknown }).lookup = original.promisesLookup;
  syncBuiltinESMExports();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe('audit host names', () => {
  it('audits a miner named by host name through the context lookup, never the system resolver', async () => {
    const miner: FakeMiner = await startFakeMiner({ write: false });
    cleanups.push(() => miner.stop());
    const asked: string[] = [];
    const ctx = memoryContext({ lookup: lookupOf({ 'rig-1.farm': '127.0.0.1' }, asked) });
    const code = await runCli(
      ['--timeout', '2s', '--retries', '0', 'audit', `rig-1.farm:${miner.port}`, '--format', 'json'],
      ctx,
    );
    const report = JSON.parse(ctx.out()) as { miners: { target: string }[]; failures: unknown[] };
    expect(report.failures).toEqual([]);
    expect(report.miners.map((item) => item.target)).toEqual([`rig-1.farm:${miner.port}`]);
    expect(code).toBe(0);
    expect(asked).toContain('rig-1.farm');
    expect(miner.received.map((request) => request.command)).toContain('pools');
    expect(systemAsked).toEqual([]);
  });

  it('audits a host name and the address it resolves to once, as scan and probe do', async () => {
    const miner: FakeMiner = await startFakeMiner({ write: true });
    cleanups.push(() => miner.stop());
    const ctx = memoryContext({ lookup: lookupOf({ 'rig-1.farm': '127.0.0.1' }, []) });
    const code = await runCli(
      [
        '--timeout',
        '2s',
        '--retries',
        '0',
        'audit',
        miner.target,
        `rig-1.farm:${miner.port}`,
        '--format',
        'json',
      ],
      ctx,
    );
    const report = JSON.parse(ctx.out()) as {
      miners: { target: string }[];
      findings: { target: string; rule: string }[];
      failures: unknown[];
    };
    // One miner: its critical write access is one finding, not two, and nothing is "interrupted".
    expect(report.miners.map((item) => item.target)).toEqual([miner.target]);
    expect(report.findings.filter((item) => item.rule === 'rpc-write-access')).toHaveLength(1);
    expect(report.failures).toEqual([]);
    expect(code).toBe(0);
    expect(ctx.err()).toContain(
      `rig-1.farm:${miner.port} is the miner ${miner.target} already names: audited once`,
    );
    expect(miner.received.filter((request) => request.command === 'privileged')).toHaveLength(1);
  });

  it('asks no resolver before the usage checks are done', async () => {
    const asked: string[] = [];
    const ctx = memoryContext({ lookup: lookupOf({ 'rig-1.farm': '127.0.0.1' }, asked) });
    const code = await runCli(
      ['audit', 'rig-1.farm', '127.0.0.1', '--out', '/nonexistent-folder-hashctl/report.json'],
      ctx,
    );
    expect(code).toBe(2);
    expect(asked).toEqual([]);
  });

  it('gives up on a resolver that never answers after the request timeout, not never', async () => {
    // Reads answered from memory: only the address the public-address rule judges needs a lookup.
    const reader: AuditReader = {
      sent: [],
      read: async () => failure('api', 14),
    };
    const asked: string[] = [];
    const silent = ((hostname: string) => {
      asked.push(hostname);
    }) as unknown as LookupFunction;
    const target = { host: 'rig-1.farm', port: 4028, key: 'rig-1.farm:4028' };
    const input = await readMiner(
      { target, version: versionReply({ CGMiner: '4.11.1', API: '3.7' }) },
      reader,
      { services: false, checkDefaultCreds: false, timeoutMs: 50, lookup: silent },
    );
    expect(asked).toEqual(['rig-1.farm']);
    expect(input.address).toBeNull();
  });

  it('probes --services of a named miner through the same lookup', async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as net.AddressInfo;
    const asked: string[] = [];
    const probes = await probeServices('rig-1.farm', [{ port, service: 'ssh' }], {
      timeoutMs: 2000,
      lookup: lookupOf({ 'rig-1.farm': '127.0.0.1' }, asked),
    });
    expect(probes).toEqual([{ port, service: 'ssh', open: true }]);
    expect(asked).toEqual(['rig-1.farm']);
    expect(systemAsked).toEqual([]);
  });
});
