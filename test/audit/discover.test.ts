// Discovery runs the scanner's TCP + identification stage behind the read-only guard: on the same
// range `hashctl audit` finds exactly the miners `hashctl scan` finds, lists the scanner's `open`
// endpoints under "not checked", and sends nothing that is not on the read list.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISCOVERY_COMMAND, type Discovered, discover } from '../../src/audit/discover.js';
import {
  assertReadOnly,
  CHECKABLE_WRITES,
  READ_COMMANDS,
  ReadOnlyViolation,
  readOnlyRequest,
} from '../../src/audit/readonly.js';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { AdaptiveGate, Identifier, type ScanResult } from '../../src/scan/index.js';
import { type Farm, PROFILES, startFarm } from '../../src/sim/index.js';
import type { CommandLogEntry } from '../../src/sim/types.js';
import { type NonMiner, type NonMinerKind, startNonMiner } from './support/non-miners.js';

/** A /27 of loopback addresses no other test uses; every 127/8 address is a host (32 targets). */
const SUBNET = '127.0.31';
const RANGE = `${SUBNET}.0/27`;
const NON_MINERS: [NonMinerKind, string][] = [
  ['http', `${SUBNET}.20`],
  ['empty', `${SUBNET}.21`],
  ['garbage', `${SUBNET}.22`],
  ['echo', `${SUBNET}.23`],
  ['silent', `${SUBNET}.24`],
];

interface AuditJson {
  summary: { targets: number; miners: number; open: number; not_audited: number };
  miners: { target: string; make: string; dialect: string }[];
  failures: { target: string; kind: string; message: string }[];
  open: { target: string; kind: string; reason: string }[];
  not_checked: string[];
}

let port = 0;
const farms: Farm[] = [];
const others: NonMiner[] = [];

/** A port free on every local address right now (a wildcard listener would answer on the range). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '0.0.0.0', resolve));
  const { port: free } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return free;
}

beforeAll(async () => {
  port = await freePort();
  for (const [index, profile] of PROFILES.entries()) {
    const address = `${SUBNET}.${index + 1}`;
    farms.push(await startFarm({ profile: profile.name, addresses: [address], port, seed: 21 + index }));
  }
  for (const [kind, address] of NON_MINERS) others.push(await startNonMiner(kind, address, port));
});

afterAll(async () => {
  await Promise.all([...farms.map((farm) => farm.stop()), ...others.map((other) => other.stop())]);
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const ctx = memoryContext();
  const code = await runCli(args, ctx);
  return { code, out: ctx.out(), err: ctx.err() };
}

/** Where each farm's command log stands now, to read what a run added with `commandsSince`. */
function logMarks(): number[] {
  return farms.map((farm) => farm.commandLog.length);
}

function commandsSince(marks: number[]): CommandLogEntry[] {
  return farms.flatMap((farm, index) => farm.commandLog.slice(marks[index]));
}

function requestKey(entry: { command: string; parameter: string | null }): string {
  return entry.parameter === null ? entry.command : `${entry.command}|${entry.parameter}`;
}

function onReadList(entry: { command: string; parameter: string | null }): boolean {
  return entry.command === 'check'
    ? entry.parameter !== null && CHECKABLE_WRITES.has(entry.parameter)
    : entry.parameter === null && READ_COMMANDS.has(entry.command);
}

describe('range discovery through the scanner stage', () => {
  it('finds the miners hashctl scan finds, notes its open endpoints, and sends only reads', async () => {
    const beforeScan = logMarks();
    // Scan's own defaults (1 s connect, 1 retry) with the reply deadline the audit derives from --timeout 2s.
    const scanned = await cli(['--json', 'scan', RANGE, '--port', String(port), '--reply-timeout', '2s']);
    expect(scanned.code).toBe(0);
    const { results } = JSON.parse(scanned.out) as { results: ScanResult[] };
    const scanMiners = results.filter((r) => r.outcome === 'miner').map((r) => r.target);
    const scanOpen = results.filter((r) => r.outcome === 'open');
    const scanSent = commandsSince(beforeScan);

    const beforeAudit = logMarks();
    const received = others.map((other) => other.received.length);
    const audited = await cli([
      '--timeout',
      '2s',
      '--retries',
      '0',
      'audit',
      RANGE,
      '--port',
      String(port),
      '--format',
      'json',
    ]);
    const report = JSON.parse(audited.out) as AuditJson;
    const auditSent = commandsSince(beforeAudit);

    // Both commands agree: every simulated profile is a miner, nothing else is.
    const expectedMiners = farms.flatMap((farm) => farm.inventory());
    expect(scanMiners.sort()).toEqual([...expectedMiners].sort());
    expect(report.miners.map((miner) => miner.target).sort()).toEqual([...expectedMiners].sort());
    expect(report.summary).toMatchObject({ targets: 32, miners: PROFILES.length, not_audited: 0 });
    expect(audited.code).toBe(0);

    // The scanner's `open` endpoints are the audit's "not checked" ones, with the same kind.
    const openOf = (items: { target: string; kind?: string }[]) =>
      items.map((item) => `${item.target} ${item.kind}`).sort();
    expect(openOf(report.open)).toEqual(openOf(scanOpen));
    expect(report.open.map((item) => item.target).sort()).toEqual(others.map((other) => other.target).sort());
    expect(report.summary.open).toBe(NON_MINERS.length);
    expect(report.failures).toEqual([]);
    const note = report.not_checked.find((line) => line.includes('do not answer as a CGMiner API'));
    expect(note).toContain(`${SUBNET}.23:${port} (JSON without a CGMiner STATUS`);
    expect(audited.err).toContain(
      `${NON_MINERS.length} endpoint(s) in the ranges are open but not a miner API`,
    );

    // Read-only: every miner saw reads from the list only; `version` reached each one.
    expect(auditSent.length).toBeGreaterThan(PROFILES.length * 5);
    expect(auditSent.filter((entry) => !onReadList(entry)).map(requestKey)).toEqual([]);
    for (const target of expectedMiners)
      expect(
        auditSent.some((entry) => entry.target === target && entry.command === 'version'),
        target,
      ).toBe(true);
    // What the non-miners received from the audit: `version` and nothing else.
    const toOthers = others.flatMap((other, index) => other.received.slice(received[index]));
    expect(toOthers.length).toBeGreaterThan(0);
    for (const text of toOthers) expect(JSON.parse(text.replace(/\0$/, ''))).toEqual({ command: 'version' });

    // What the scanner sends: singles are all on the read list; the rest are joins, which the guard
    // refuses (so discovery does not delegate them) and which the audit never sent.
    const scanKeys = [...new Set(scanSent.map(requestKey))];
    expect(scanKeys).toContain('version');
    const refused = scanKeys.filter((key) => {
      const [command, parameter] = key.split('|') as [string, string | undefined];
      try {
        assertReadOnly(command, parameter);
        return false;
      } catch (error) {
        expect(error).toBeInstanceOf(ReadOnlyViolation);
        return true;
      }
    });
    for (const key of refused) expect(key, key).toContain('+');
    const auditKeys = new Set(auditSent.map(requestKey));
    for (const key of refused) expect(auditKeys.has(key), key).toBe(false);
  });

  it('named endpoints: a non-miner is not audited (exit 1), an empty close is api-allow refusing us', async () => {
    const [http, empty] = [others[0] as NonMiner, others[1] as NonMiner];
    const acceptedBefore = empty.accepted;
    const { code, out, err } = await cli([
      '--timeout',
      '2s',
      '--retries',
      '0',
      'audit',
      http.target,
      empty.target,
      '--format',
      'json',
    ]);
    const report = JSON.parse(out) as AuditJson;
    expect(code).toBe(1);
    expect(report.failures).toEqual([
      { target: http.target, kind: 'protocol', message: expect.stringMatching(/HTTP/) },
    ]);
    expect(err).toContain(`${http.target}: not audited (protocol)`);
    expect(report.open).toEqual([]);
    // The empty close is kept as a miner with no access: nothing more is asked of it.
    expect(report.miners).toEqual([expect.objectContaining({ target: empty.target, dialect: 'unknown' })]);
    expect(empty.accepted - acceptedBefore).toBe(1);
  });
});

describe('targets from @FILE', () => {
  it('a host line is named (a non-miner fails), a CIDR line is a range (a non-miner is noted)', async () => {
    const [http, , garbage] = [others[0] as NonMiner, others[1] as NonMiner, others[2] as NonMiner];
    const dir = await mkdtemp(join(tmpdir(), 'hashctl-audit-discover-'));
    try {
      const file = join(dir, 'targets.txt');
      await writeFile(file, `# mixed\n${http.target}\n${garbage.target.replace(':', '/32:')}\n`);
      const { code, out } = await cli([
        '--timeout',
        '2s',
        '--retries',
        '0',
        'audit',
        `@${file}`,
        '--format',
        'json',
      ]);
      const report = JSON.parse(out) as AuditJson;
      expect(code).toBe(1);
      expect(report.failures.map((failure) => failure.target)).toEqual([http.target]);
      expect(report.open.map((item) => item.target)).toEqual([garbage.target]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('discover()', () => {
  it('yields one scanner outcome per target and sends only the discovery command', async () => {
    const [, , , echo] = others as [NonMiner, NonMiner, NonMiner, NonMiner];
    const miner = farms[0]?.miners[0];
    if (!miner) throw new Error('farm without a miner');
    const closed = await freePort();
    const targets = [
      { host: miner.host, port: miner.port, key: miner.key },
      { host: echo.target.split(':')[0] as string, port, key: echo.target },
      { host: '127.0.0.1', port: closed, key: `127.0.0.1:${closed}` },
    ];
    const echoed = echo.received.length;
    const seen: Discovered[] = [];
    for await (const result of discover(targets, {
      connectTimeoutMs: 1000,
      replyTimeoutMs: 2000,
      maxBytes: 1 << 20,
      retries: 1,
      concurrency: 2,
    }))
      seen.push(result);
    const byKey = new Map(seen.map((result) => [result.target.key, result]));
    expect(seen).toHaveLength(3);
    expect(byKey.get(miner.key)).toMatchObject({ outcome: 'miner', version: { ok: true } });
    expect(byKey.get(echo.target)).toMatchObject({ outcome: 'open', error: { kind: 'protocol' } });
    expect(byKey.get(`127.0.0.1:${closed}`)).toMatchObject({
      outcome: 'none',
      error: { kind: 'refused', message: 'connection refused' },
    });
    expect(echo.received.slice(echoed)).toEqual([`{"command":"${DISCOVERY_COMMAND}"}`]);
  });

  it("the scanner's request hook keeps the guard: a follow-up join throws before it is sent", async () => {
    const farm = await startFarm({ profile: 'cgminer', count: 1, host: '127.0.0.1', basePort: 0 });
    try {
      const miner = farm.miners[0];
      if (!miner) throw new Error('farm without a miner');
      const identifier = new Identifier({
        gate: new AdaptiveGate(1),
        connectTimeoutMs: 1000,
        replyTimeoutMs: 2000,
        maxBytes: 1 << 20,
        retries: 0,
        now: Date.now,
        sleep: async () => {},
        random: () => 0.5,
        requestBytes: (command) => readOnlyRequest(command),
      });
      expect(await identifier.firstStage(miner)).toMatchObject({ outcome: 'miner', roundTrips: 1 });
      // Plain cgminer does not name its model, so the scanner would go on with `devdetails+stats`.
      await expect(identifier.identify(miner)).rejects.toBeInstanceOf(ReadOnlyViolation);
      expect(miner.received().map((entry) => entry.command)).toEqual([DISCOVERY_COMMAND, DISCOVERY_COMMAND]);
    } finally {
      await farm.stop();
    }
  });

  it('gets its request bytes only through the guard, which refuses the scanner joins', () => {
    expect(new TextDecoder().decode(readOnlyRequest(DISCOVERY_COMMAND))).toBe('{"command":"version"}');
    for (const join of ['devdetails+summary', 'devdetails+stats', 'get_token', 'logon'])
      expect(() => readOnlyRequest(join), join).toThrow(ReadOnlyViolation);
  });
});
