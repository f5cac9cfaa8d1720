// `hashctl audit` end to end, in-process, against fake miners and the simulator on 127.0.0.0/8.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHECKABLE_WRITES, READ_COMMANDS } from '../../src/audit/readonly.js';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { type Farm, PROFILES, startFarm } from '../../src/sim/index.js';
import { type FakeMiner, startFakeMiner } from './support/fake-miner.js';
import { runAudit } from './support/run.js';
import { sarifProblems } from './support/sarif.js';

interface JsonReport {
  summary: {
    targets: number;
    miners: number;
    findings: number;
    by_severity: Record<string, number>;
    not_audited?: number;
  };
  findings: {
    rule: string;
    severity: string;
    target: string;
    title: string;
    evidence: string;
    remediation: string;
  }[];
  miners: { target: string; dialect: string; firmware: { name: string; version: string | null } | null }[];
  failures: { target: string; kind: string; message: string }[];
}

const SEVERITY = ['info', 'low', 'medium', 'high', 'critical'];
const atLeast = (severity: string, floor: string) => SEVERITY.indexOf(severity) >= SEVERITY.indexOf(floor);

const audit = (args: string[]) => runAudit(args, '3s');

async function auditJson(args: string[]): Promise<{ code: number; report: JsonReport; err: string }> {
  const { code, out, err } = await audit([...args, '--format', 'json']);
  return { code, report: JSON.parse(out) as JsonReport, err };
}

let dir = '';
const stops: (() => Promise<void>)[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hashctl-audit-'));
});
afterEach(async () => {
  while (stops.length > 0) await stops.pop()?.();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fake(options: Parameters<typeof startFakeMiner>[0]): Promise<FakeMiner> {
  const miner = await startFakeMiner(options);
  stops.push(() => miner.stop());
  return miner;
}

async function farm(options: Parameters<typeof startFarm>[0]): Promise<Farm> {
  const started = await startFarm(options);
  stops.push(() => started.stop());
  return started;
}

/** Every request a miner received must be on the audit's read list. */
function offList(commands: { command: string; parameter: string | null }[]): string[] {
  return commands
    .filter(({ command, parameter }) =>
      command === 'check'
        ? parameter === null || !CHECKABLE_WRITES.has(parameter)
        : parameter !== null || !READ_COMMANDS.has(command),
    )
    .map(({ command, parameter }) => (parameter === null ? command : `${command}|${parameter}`));
}

describe('access control', () => {
  it('write access granted → rpc-write-access at high or above, and --fail-on high exits 3', async () => {
    const miner = await fake({ write: true });
    const { code, report } = await auditJson([miner.target, '--fail-on', 'high']);
    expect(code).toBe(3);
    const write = report.findings.filter((item) => item.rule === 'rpc-write-access');
    expect(write).toHaveLength(1);
    expect(atLeast(write[0]?.severity ?? 'info', 'high')).toBe(true);
    expect(write[0]?.target).toBe(miner.target);
    expect(offList(miner.received)).toEqual([]);
    expect(miner.received.map((request) => request.command)).toContain('privileged');
  });

  it('read-only access → rpc-readable, no rpc-write-access, and --fail-on high exits 0', async () => {
    const miner = await fake({ write: false });
    const { code, report } = await auditJson([miner.target, '--fail-on', 'high']);
    expect(code).toBe(0);
    const rules = report.findings.map((item) => item.rule);
    expect(rules).toContain('rpc-readable');
    expect(rules).not.toContain('rpc-write-access');
    expect(report.summary).toMatchObject({ targets: 1, miners: 1 });
  });

  it('the default (no --fail-on) exits 0 even with critical findings, 1 when a named target is down', async () => {
    const miner = await fake({ write: true });
    expect((await audit([miner.target])).code).toBe(0);
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { code, err } = await audit([miner.target, `127.0.0.1:${port}`]);
    expect(code).toBe(1);
    expect(err).toContain(`127.0.0.1:${port}: not audited (refused)`);
  });
});

describe('pools', () => {
  it('a pool outside --allowed-pools is reported; allowed ones are not', async () => {
    const miner = await fake({
      write: false,
      pools: [
        { URL: 'stratum+tcp://POOL.example.com:3333', User: 'farm.w1' },
        { URL: 'stratum+tcp://hijack.example.biz:3333', User: 'farm.w1' },
      ],
    });
    const file = join(dir, 'pools.txt');
    await writeFile(file, '# ours\nstratum+tcp://pool.example.com:3333\n');
    const { report } = await auditJson([
      miner.target,
      '--allowed-pools',
      file,
      '--worker-pattern',
      '^farm\\.',
    ]);
    const pools = report.findings.filter((item) => item.rule === 'pool-not-allowed');
    expect(pools).toHaveLength(1);
    expect(pools[0]?.evidence).toContain('hijack.example.biz');
    expect(atLeast(pools[0]?.severity ?? 'info', 'high')).toBe(true);
    expect(report.findings.filter((item) => item.rule === 'worker-mismatch')).toEqual([]);
  });

  it('a vendor dev-fee pool (VNish DevFee row) is labelled "dev fee", not reported as a hijack', async () => {
    const vnish = await farm({ profile: 'vnish', count: 1, seed: 3, host: '127.0.0.1', basePort: 0 });
    const target = vnish.inventory()[0] as string;
    const configured =
      vnish.miners[0]?.state.pools.filter((pool) => pool.url !== 'DevFee').map((pool) => pool.url) ?? [];
    expect(configured.length).toBeGreaterThan(0);
    const file = join(dir, 'vnish-pools.txt');
    await writeFile(file, `${configured.join('\n')}\n`);
    const { report } = await auditJson([target, '--allowed-pools', file]);
    const poolFindings = report.findings.filter(
      (item) => item.rule.startsWith('pool-') || item.rule === 'worker-mismatch',
    );
    const devFee = poolFindings.filter((item) => item.evidence.includes('dev fee'));
    expect(devFee.length).toBeGreaterThan(0);
    expect(devFee.every((item) => item.severity === 'info')).toBe(true);
    expect(poolFindings.filter((item) => item.severity !== 'info')).toEqual([]);
  });
});

describe('report formats and output', () => {
  it('--format sarif prints a valid SARIF 2.1.0 log with one result per finding', async () => {
    const miner = await fake({ write: true });
    const { code, out } = await audit([miner.target, '--format', 'sarif']);
    expect(code).toBe(0);
    const log = JSON.parse(out);
    expect(sarifProblems(log)).toEqual([]);
    const json = (await auditJson([miner.target])).report;
    expect(log.runs[0].results).toHaveLength(json.findings.length);
    expect(log.runs[0].results.map((result: { ruleId: string }) => result.ruleId)).toContain(
      'rpc-write-access',
    );
  });

  it('--out writes the report and prints a one-line summary; --json equals --format json', async () => {
    const miner = await fake({ write: false });
    const file = join(dir, 'report.md');
    const { code, out } = await audit([miner.target, '--format', 'markdown', '--out', file]);
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(1);
    expect(out).toContain(`markdown report written to ${file}`);
    const markdown = await readFile(file, 'utf8');
    expect(markdown).toContain('## What was not checked');
    expect(markdown).toContain('rpc-readable');
    const ctx = memoryContext();
    expect(await runCli(['--json', 'audit', miner.target], ctx)).toBe(0);
    expect(JSON.parse(ctx.out()).summary.miners).toBe(1);
    // --json with --out: stdout stays one JSON document, the summary with where the report went.
    const both = memoryContext();
    const jsonFile = join(dir, 'report.json');
    expect(await runCli(['--json', 'audit', miner.target, '--out', jsonFile], both)).toBe(0);
    expect(JSON.parse(both.out())).toMatchObject({ out: jsonFile, format: 'json', summary: { miners: 1 } });
    expect(JSON.parse(await readFile(jsonFile, 'utf8')).summary.miners).toBe(1);
  });

  it('refuses an --out file it cannot write before sending anything (exit 2)', async () => {
    const miner = await fake({ write: false });
    const aFile = join(dir, 'a-file');
    await writeFile(aFile, 'x');
    for (const file of [join(dir, 'missing', 'report.md'), dir, join(aFile, 'report.md'), '/proc/version']) {
      const { code, out, err } = await audit([miner.target, '--format', 'markdown', '--out', file]);
      expect(code, file).toBe(2);
      expect(out, file).toBe('');
      expect(err, file).toMatch(
        /^hashctl: cannot write --out file '.*': [^\n]*\((ENOENT|EISDIR|ENOTDIR)\)\n$/,
      );
    }
    expect(miner.received).toEqual([]);
  });

  it('the table is TSV when stdout is not a TTY, grouped by severity', async () => {
    const miner = await fake({ write: true });
    const { out, err } = await audit([miner.target]);
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('severity\ttarget\trule\ttitle\tevidence');
    const severities = lines.slice(1).map((line) => line.split('\t')[0] ?? '');
    expect(severities[0]).toBe('critical');
    expect([...severities].sort((a, b) => SEVERITY.indexOf(b) - SEVERITY.indexOf(a))).toEqual(severities);
    expect(err).toMatch(/finding/);
  });

  it('usage errors exit 2 before any traffic', async () => {
    const miner = await fake({ write: false });
    for (const args of [
      [miner.target, '--format', 'xml'],
      [miner.target, '--fail-on', 'severe'],
      [miner.target, '--worker-pattern', '(unclosed'],
      [miner.target, '--allowed-pools', join(dir, 'missing.txt')],
      ['not a target!'],
    ]) {
      expect((await audit(args)).code, args.join(' ')).toBe(2);
    }
    expect(miner.received).toEqual([]);
  });
});

describe('a slow miner', () => {
  it('answering version after 3 s is audited within the 5 s --timeout, as probe reads it', async () => {
    const reply = (command: string) =>
      `${JSON.stringify(
        command === 'version'
          ? {
              STATUS: [{ STATUS: 'S', When: 1, Code: 22, Msg: 'CGMiner versions' }],
              VERSION: [{ CGMiner: '4.11.1', API: '3.7' }],
            }
          : { STATUS: [{ STATUS: 'E', When: 1, Code: 14, Msg: 'Invalid command' }] },
      )}\0`;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('data', (chunk) => {
        const { command } = JSON.parse(chunk.toString().replace(/\0$/, '')) as { command: string };
        // A busy old controller: `version` takes a little over the scanner's 3 s reply deadline.
        const timer = setTimeout(() => socket.end(reply(command)), command === 'version' ? 3300 : 0);
        socket.on('close', () => clearTimeout(timer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    );
    const target = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const ctx = memoryContext();
    const code = await runCli(['--retries', '0', 'audit', target, '--format', 'json'], ctx);
    const report = JSON.parse(ctx.out()) as JsonReport;
    expect(report.failures).toEqual([]);
    expect(report.miners.map((item) => item.target)).toEqual([target]);
    expect(code).toBe(0);
  }, 20_000);
});

describe('the miners list', () => {
  it('names each profile firmware as scan and probe do', async () => {
    const farms: Farm[] = [];
    for (const profile of PROFILES)
      farms.push(await farm({ profile: profile.name, count: 1, seed: 3, host: '127.0.0.1', basePort: 0 }));
    const targets = farms.flatMap((item) => item.inventory());
    const scanned = memoryContext();
    const ports = targets.map((target) => target.split(':')[1]).join(',');
    expect(await runCli(['--json', 'scan', '127.0.0.1', '--port', ports], scanned)).toBe(0);
    const firmware = new Map(
      (
        JSON.parse(scanned.out()) as {
          results: { target: string; firmware: { name: string | null; version: string | null } }[];
        }
      ).results.map((result) => [result.target, result.firmware]),
    );
    const { report } = await auditJson(targets);
    for (const [index, profile] of PROFILES.entries()) {
      const target = targets[index] as string;
      const miner = report.miners.find((item) => item.target === target);
      const seen = firmware.get(target);
      // VNish 3.8.6 was "vnish 4.11.1" (its cgminer's version); Braiins OS+ had none at all.
      // The same {name, version} as scan (and probe) show it.
      if (seen?.name) expect(miner?.firmware, profile.name).toEqual(seen);
    }
  });
});

describe('read-only by construction on a mixed farm', () => {
  it('every profile, with every option on, receives no write, no logon and no get_token', async () => {
    const farms: Farm[] = [];
    // One miner of every profile with writes allowed, and a mixed farm with writes denied.
    for (const profile of PROFILES)
      farms.push(
        await farm({
          profile: profile.name,
          count: 1,
          seed: 11,
          host: '127.0.0.1',
          basePort: 0,
          writes: 'allow',
        }),
      );
    farms.push(
      await farm({ profile: 'mix', count: 8, seed: 5, host: '127.0.0.1', basePort: 0, writes: 'deny' }),
    );
    const targets = farms.flatMap((item) => item.inventory());
    const pools = join(dir, 'mixed-pools.txt');
    await writeFile(pools, 'stratum+tcp://pool.example.com:3333\n');
    const { code, report } = await auditJson([
      ...targets,
      '--services',
      '--check-default-creds',
      '--allowed-pools',
      pools,
      '--worker-pattern',
      '^farm\\.',
      '--fail-on',
      'critical',
    ]);
    expect(report.summary.targets).toBe(targets.length);
    expect(report.summary.miners).toBe(targets.length);
    expect(code).toBe(3); // writes allowed somewhere → critical rpc-write-access
    const log = farms.flatMap((item) => item.commandLog);
    expect(log.length).toBeGreaterThan(targets.length * 5);
    expect(offList(log)).toEqual([]);
    const sent = new Set(log.map((entry) => entry.command));
    for (const forbidden of [
      'logon',
      'get_token',
      'addpool',
      'save',
      'switchpool',
      'restart',
      'quit',
      'ascset',
      'curtail',
      'pause',
    ]) {
      expect(sent.has(forbidden), forbidden).toBe(false);
    }
    // Every profile was reached and identified beyond "unknown".
    for (const [index, profile] of PROFILES.entries()) {
      const target = farms[index]?.inventory()[0];
      const miner = report.miners.find((item) => item.target === target);
      expect(miner, profile.name).toBeDefined();
      expect(miner?.dialect, profile.name).not.toBe('unknown');
      expect(
        farms[index]?.commandLog.some((entry) => entry.command === 'version'),
        profile.name,
      ).toBe(true);
    }
    // The writes-allowed profiles that implement `privileged` are found; the denied farm is not.
    const writable = new Set(
      report.findings
        .filter((item) => item.rule === 'rpc-write-access' && atLeast(item.severity, 'high'))
        .map((item) => item.target),
    );
    for (const target of farms[PROFILES.length]?.inventory() ?? []) {
      const dialect = report.miners.find((item) => item.target === target)?.dialect;
      if (dialect !== 'luxos') expect(writable.has(target), target).toBe(false);
    }
    expect(writable.size).toBeGreaterThanOrEqual(3);
  });
});

describe('Ctrl-C', () => {
  it('stops at once, says what was not audited, and exits 130', async () => {
    const miner = await fake({ write: false });
    const silent = net.createServer((socket) => socket.resume()); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => silent.close(() => resolve())));
    const port = (silent.address() as net.AddressInfo).port;
    const controller = new AbortController();
    const ctx = memoryContext({ signal: controller.signal });
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    const code = await runCli(
      ['--timeout', '10s', '--retries', '0', 'audit', miner.target, `127.0.0.1:${port}`, '--format', 'json'],
      ctx,
    );
    expect(code).toBe(130);
    // Not the reply deadline of the silent target: its exchange was cut short.
    expect(Date.now() - started).toBeLessThan(5000);
    const report = JSON.parse(ctx.out()) as JsonReport;
    expect(report.summary.not_audited).toBeGreaterThanOrEqual(1);
    expect(ctx.err()).toContain('hashctl: interrupted; the report covers what was audited before it');
  });
});

describe('Ctrl-C while one named target hangs', () => {
  it('has already audited the others: one hung address holds nobody back', async () => {
    const miner = await fake({ write: false });
    const silent = net.createServer((socket) => socket.resume()); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => silent.close(() => resolve())));
    const hung = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const controller = new AbortController();
    const ctx = memoryContext({ signal: controller.signal });
    const running = runCli(
      ['--timeout', '20s', '--retries', '0', 'audit', hung, miner.target, '--format', 'json'],
      ctx,
    );
    // The healthy miner is read to its end while the hung one still waits for its version reply
    // (before, every audit waited for discovery to finish: 20 s here).
    for (let i = 0; i < 200 && !miner.received.some((r) => r.command === 'check'); i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort();
    expect(await running).toBe(130);
    const report = JSON.parse(ctx.out()) as JsonReport;
    expect(report.summary.miners).toBe(1);
    expect(report.failures).toEqual([expect.objectContaining({ target: hung, kind: 'interrupted' })]);
  });
});

describe('discovery', () => {
  it('audits a /22 and finds the miners among silent addresses, exit 0', async () => {
    // A port free on every local address right now (a wildcard listener elsewhere would answer
    // on the whole range), and a /22 that leaves out 127.0.0.1 where other tests listen.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '0.0.0.0', resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const addresses = ['127.0.4.1', '127.0.5.77', '127.0.7.200'];
    await farm({ profile: 'cgminer', addresses, port, seed: 2, writes: 'deny' });
    const { code, report } = await auditJson([`127.0.4.0/22:${port}`]);
    expect(report.summary.targets).toBe(1024); // every 127/8 address is a host
    expect(report.miners.map((miner) => miner.target).sort()).toEqual(
      addresses.map((address) => `${address}:${port}`).sort(),
    );
    expect(code).toBe(0);
  });
});
