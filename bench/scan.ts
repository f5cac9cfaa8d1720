// `hashctl scan` against nmap, in the same run:
// 1. A /20 on loopback with 1,024 simulated miners on one /22 of it (`bin/hashctl simulate --addresses
//    127.0.16.0/22 --profile mix` in a child process). Whole-process times of `bin/hashctl scan … --json`
//    against `nmap -sT -n -Pn -p 4028 --open` and against a bare node:net connect loop (the floor of any
//    Node scanner), alternated per round; every run is checked: all miners identified with the make the
//    simulator gave them, nothing else called a miner.
// 2. A /16 of silent addresses (SYNs dropped, like absent hosts on a LAN) inside a network namespace the
//    benchmark makes (`ip netns add` + an nftables or iptables DROP rule on 127.200.0.0/16): how the time
//    scales with --timeout and --concurrency, against ceil(addresses / concurrency) × timeout.
// Only 127.0.0.0/8 is ever contacted; the namespace is deleted on every path.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAddresses } from '../src/sim/addresses.js';
import { profileFor } from '../src/sim/profiles/index.js';
import { compareSamples, median } from './lib/stats.js';
import type { BenchOutcome } from './lib/types.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(root, 'bin/hashctl');

export interface ScanBenchOptions {
  /** The swept range (default 127.0.16.0/20). */
  range?: string;
  /** The simulated miners, one per address (default 127.0.16.0/22, inside `range`). */
  minersRange?: string;
  /** Alternated rounds of hashctl / nmap / node:net (default 5). */
  rounds?: number;
  /** Run the silent-address sweep in a network namespace (default true). */
  sweep?: boolean;
  /** Silent network for the sweep (default 127.200.0.0/16). */
  sweepRange?: string;
  /** Points of the sweep (default: 1s, 500ms and 250ms at the default concurrency; 1s at 2048). */
  sweepPoints?: { timeout: string; concurrency: number | null }[];
}

interface Check {
  subject: string;
  runs: number;
  expected_miners: number;
  identified: number;
  wrong_make: number;
  false_miners: number;
  open: number;
}

export interface SweepPoint {
  addresses: number;
  timeout_ms: number;
  concurrency: number;
  elapsed_ms: number;
  scan_ms: number;
  ideal_ms: number;
  none: number;
  backoffs: number;
}

export interface ScanBenchReport {
  results: BenchOutcome[];
  checks: Check[];
  nmap: string | null;
  sweep: SweepPoint[];
  namespace: string;
}

const SIM_SEED = 1;

/** IPv4 dotted quad → number, for membership tests on ranges. */
function ipv4(text: string): number {
  return text.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** `a.b.c.d/n` → every address (network and broadcast included) as a first..last pair. */
function cidrBounds(cidr: string): [number, number] {
  const [base, prefix] = cidr.split('/');
  const size = 2 ** (32 - Number(prefix));
  const first = Math.floor(ipv4(base ?? '') / size) * size;
  return [first, first + size - 1];
}

function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** Clock ticks per second of /proc/self/stat (USER_HZ: 100 on every Linux that matters). */
const CLOCK_TICKS = 100;

/**
 * CPU time (user + system) of the children this process has waited for, from /proc/self/stat
 * (cutime + cstime); null off Linux. On a busy machine it says what wall time cannot: how much work
 * each subject did, whatever else competed for the cores.
 */
function childrenCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3: cutime is 16, cstime 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

function timed(
  command: string,
  args: string[],
  timeoutMs = 600_000,
): { ms: number; cpuMs: number | null; stdout: string } {
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 512 * 1024 * 1024,
    timeout: timeoutMs,
  });
  const ms = performance.now() - started;
  const cpuAfter = childrenCpuMs();
  const cpuMs = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.status ?? result.signal}: ${String(result.stderr).trim().slice(0, 300)}`,
    );
  }
  return { ms, cpuMs, stdout: String(result.stdout) };
}

/** `CPU 712 ms` (median user + system of the samples), or nothing where it could not be read. */
function cpuNote(samples: readonly (number | null)[]): string {
  const known = samples.filter((value): value is number => value !== null);
  return known.length === 0 ? '' : `; CPU ${Math.round(median(known))} ms`;
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

async function startSimulator(minersRange: string, dir: string): Promise<ChildProcess> {
  const inventory = join(dir, 'inventory.txt');
  const expected = parseAddresses(minersRange).length;
  const child = spawn(
    process.execPath,
    [
      BIN,
      'simulate',
      '--addresses',
      minersRange,
      '--profile',
      'mix',
      '--seed',
      String(SIM_SEED),
      '--inventory',
      inventory,
      '-q',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // The inventory file appears once every listener is up.
  for (let waited = 0; waited < 120_000; waited += 100) {
    if (child.exitCode !== null) throw new Error(`simulate exited ${child.exitCode}: ${stderr.trim()}`);
    if (existsSync(inventory) && readFileSync(inventory, 'utf8').trim().split('\n').length === expected)
      return child;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error('simulate did not write its inventory within 120 s');
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** What the mix gave each simulated address: the same draw the simulator makes (profileFor). */
function expectedMakes(minersRange: string): Map<string, string> {
  return new Map(
    parseAddresses(minersRange).map((host, index) => [host, profileFor('mix', SIM_SEED, index).make]),
  );
}

interface ScanJson {
  results: { host: string; outcome: string; make: string | null }[];
  summary: { miners: number; open: number; targets: number };
}

function checkScan(
  json: ScanJson,
  expected: Map<string, string>,
  inRange: (host: string) => boolean,
  check: Check,
): void {
  check.runs++;
  check.expected_miners = [...expected.keys()].filter(inRange).length;
  for (const result of json.results) {
    if (result.outcome === 'open') check.open++;
    if (result.outcome !== 'miner') continue;
    const make = expected.get(result.host);
    if (make === undefined) check.false_miners++;
    else if (make !== result.make) check.wrong_make++;
    else check.identified++;
  }
}

/** A bare node:net sweep (connect, then close) over the same addresses: the floor for a Node scanner. */
function nodeNetLoop(first: number, last: number, concurrency: number): string {
  return `const net=require('net');const F=${first},L=${last},C=${concurrency};let next=F,done=0,open=0;
function ip(v){return [v>>>24,(v>>>16)&255,(v>>>8)&255,v&255].join('.')}
function go(){if(next>L)return;const s=net.connect(4028,ip(next++));const t=setTimeout(()=>s.destroy(),1000);
s.on('connect',()=>{open++;s.destroy()});s.on('error',()=>{});s.on('close',()=>{clearTimeout(t);if(++done===L-F+1)process.stdout.write(String(open));else go()})}
for(let i=0;i<C;i++)go();`;
}

async function compareWithNmap(
  options: Required<Pick<ScanBenchOptions, 'range' | 'minersRange' | 'rounds'>>,
): Promise<{
  results: BenchOutcome[];
  checks: Check[];
  nmap: string | null;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'hashctl-bench-scan-'));
  const sim = await startSimulator(options.minersRange, dir).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  try {
    const expected = expectedMakes(options.minersRange);
    const [first, last] = cidrBounds(options.range);
    // On loopback the targets grammar keeps a CIDR's first and last address, as nmap does; the range
    // form is timed too, as a cross-check that both spellings sweep the same addresses.
    const rangeForm = `${formatIpv4(first)}-${formatIpv4(last)}`;
    const subjects = [
      {
        name: `hashctl scan ${options.range} --json`,
        args: [BIN, 'scan', options.range, '--json'],
        inRange: (h: string) => ipv4(h) >= first && ipv4(h) <= last,
      },
      {
        name: `hashctl scan ${rangeForm} --json`,
        args: [BIN, 'scan', rangeForm, '--json'],
        inRange: (h: string) => ipv4(h) >= first && ipv4(h) <= last,
      },
    ];
    const checks: Check[] = subjects.map((s) => ({
      subject: s.name,
      runs: 0,
      expected_miners: 0,
      identified: 0,
      wrong_make: 0,
      false_miners: 0,
      open: 0,
    }));
    const samples = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
    const cpuSamples = new Map<string, (number | null)[]>(subjects.map((s) => [s.name, []]));
    const nmapPath = hasCommand('nmap') ? 'nmap' : null;
    const nmapName = `nmap -sT -n -Pn -p 4028 --open ${options.range}`;
    const nmapSamples: number[] = [];
    const nmapCpu: (number | null)[] = [];
    const nodeName = `bare node:net connect loop over ${rangeForm} (concurrency 1024)`;
    const nodeSamples: number[] = [];
    const nodeCpu: (number | null)[] = [];
    const nmapOpen: number[] = [];
    const runRound = (record: boolean): void => {
      for (const [index, subject] of subjects.entries()) {
        const { ms, cpuMs, stdout } = timed(process.execPath, subject.args);
        if (!record) continue;
        samples.get(subject.name)?.push(ms);
        cpuSamples.get(subject.name)?.push(cpuMs);
        checkScan(JSON.parse(stdout) as ScanJson, expected, subject.inRange, checks[index] as Check);
      }
      if (nmapPath) {
        const { ms, cpuMs, stdout } = timed(nmapPath, [
          '-sT',
          '-n',
          '-Pn',
          '-p',
          '4028',
          '--open',
          '-oG',
          '-',
          options.range,
        ]);
        if (record) {
          nmapSamples.push(ms);
          nmapCpu.push(cpuMs);
          nmapOpen.push(stdout.split('\n').filter((line) => line.includes('4028/open')).length);
        }
      }
      const { ms, cpuMs } = timed(process.execPath, ['-e', nodeNetLoop(first, last, 1024)]);
      if (record) {
        nodeSamples.push(ms);
        nodeCpu.push(cpuMs);
      }
    };
    const loadBefore = loadavg()[0] ?? 0;
    runRound(false); // warm-up: page cache, simulator JIT
    for (let round = 0; round < options.rounds; round++) runRound(true);

    const nmapBaseline = nmapPath ? { subject: nmapName, samples: nmapSamples } : null;
    const results: BenchOutcome[] = subjects.map((subject, index) => {
      const check = checks[index] as Check;
      return compareSamples(
        {
          bench: 'scan',
          subject: subject.name,
          unit: 'ms',
          better: 'lower',
          notes: `${check.identified / check.runs}/${check.expected_miners} miners identified per run, ${check.wrong_make} wrong make, ${check.false_miners} false miners (target ≤ 4× nmap)${cpuNote(cpuSamples.get(subject.name) ?? [])}`,
        },
        samples.get(subject.name) ?? [],
        nmapBaseline,
      );
    });
    results.push(
      compareSamples(
        {
          bench: 'scan',
          subject: nodeName,
          unit: 'ms',
          better: 'lower',
          notes: `connect only, no identification: the floor for a Node scanner${cpuNote(nodeCpu)}`,
        },
        nodeSamples,
        nmapBaseline,
      ),
    );
    if (!nmapPath)
      results.push({
        bench: 'scan',
        skipped: 'nmap is not installed (apt-get install -y nmap): no nmap baseline',
      });
    // Wall times on a shared 2-core machine move with whatever else runs: say how busy it was.
    const load = `load average ${loadBefore.toFixed(1)} before, ${(loadavg()[0] ?? 0).toFixed(1)} after`;
    const nmapNote = nmapPath
      ? `nmap found ${median(nmapOpen)} open ports per run${cpuNote(nmapCpu)}; ${load}`
      : load;
    return { results, checks, nmap: nmapNote };
  } finally {
    await stopChild(sim);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the silent sweep, inside a network namespace ----

function sh(args: string[]): void {
  execFileSync(args[0] as string, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Makes the namespace and a rule that drops SYNs to `range`; returns how, or throws why not. */
function makeNamespace(name: string, range: string): string {
  if (process.platform !== 'linux') throw new Error('network namespaces need Linux');
  if (process.getuid?.() !== 0) throw new Error('making a network namespace needs root');
  if (!hasCommand('ip')) throw new Error('the ip command (iproute2) is missing');
  sh(['ip', 'netns', 'add', name]);
  sh(['ip', 'netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  if (hasCommand('nft')) {
    const ruleset = [
      'table inet hashctl_bench {',
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      `    ip daddr ${range} tcp flags & (syn | ack) == syn drop`,
      '  }',
      '}',
      '',
    ].join('\n');
    execFileSync('ip', ['netns', 'exec', name, 'nft', '-f', '-'], {
      input: ruleset,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    return `nftables rule in namespace ${name} drops SYNs to ${range}`;
  }
  if (hasCommand('iptables')) {
    sh([
      'ip',
      'netns',
      'exec',
      name,
      'iptables',
      '-A',
      'INPUT',
      '-d',
      range,
      '-p',
      'tcp',
      '--syn',
      '-j',
      'DROP',
    ]);
    return `iptables rule in namespace ${name} drops SYNs to ${range}`;
  }
  throw new Error('neither nft nor iptables is installed: no way to drop SYNs inside the namespace');
}

function deleteNamespace(name: string): void {
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
}

function silentSweep(
  range: string,
  points: { timeout: string; concurrency: number | null }[],
): { sweep: SweepPoint[]; namespace: string; results: BenchOutcome[] } {
  const name = `hashctl-bench-${process.pid}`;
  const cleanup = (): void => deleteNamespace(name);
  process.once('exit', cleanup); // even if something below throws past the finally
  let how: string;
  try {
    how = makeNamespace(name, range);
  } catch (error) {
    cleanup();
    process.removeListener('exit', cleanup);
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return {
      sweep: [],
      namespace: `not made: ${why}`,
      results: [{ bench: 'scan', skipped: `silent sweep: no namespace (${why})` }],
    };
  }
  try {
    // Silent, not refused: a few addresses must end in a connect timeout.
    const probe = timed('ip', [
      'netns',
      'exec',
      name,
      process.execPath,
      BIN,
      'scan',
      `${range.split('/')[0]}/29`,
      '--timeout',
      '300ms',
      '--all',
      '--json',
    ]);
    const kinds = (JSON.parse(probe.stdout) as { results: { kind?: string }[] }).results.map((r) => r.kind);
    if (kinds.length === 0 || kinds.some((kind) => kind !== 'timeout')) {
      throw new Error(
        `addresses in ${range} are not silent inside the namespace (kinds: ${kinds.join(',')})`,
      );
    }
    const sweep: SweepPoint[] = [];
    const results: BenchOutcome[] = [];
    for (const point of points) {
      const args = [
        'netns',
        'exec',
        name,
        process.execPath,
        BIN,
        'scan',
        range,
        '--timeout',
        point.timeout,
        '--json',
        '-q',
      ];
      if (point.concurrency !== null) args.push('--concurrency', String(point.concurrency));
      const { ms, stdout } = timed('ip', args);
      const { summary } = JSON.parse(stdout) as {
        summary: {
          targets: number;
          none: number;
          concurrency: number;
          connect_timeout_ms: number;
          elapsed_ms: number;
          backoffs: number;
        };
      };
      const ideal = Math.ceil(summary.targets / summary.concurrency) * summary.connect_timeout_ms;
      sweep.push({
        addresses: summary.targets,
        timeout_ms: summary.connect_timeout_ms,
        concurrency: summary.concurrency,
        elapsed_ms: Math.round(ms),
        scan_ms: summary.elapsed_ms,
        ideal_ms: ideal,
        none: summary.none,
        backoffs: summary.backoffs,
      });
      const idealName = `ceil(${summary.targets} / ${summary.concurrency}) × ${summary.connect_timeout_ms} ms`;
      results.push(
        compareSamples(
          {
            bench: 'scan',
            subject: `silent ${range}: --timeout ${point.timeout}, concurrency ${summary.concurrency}`,
            unit: 'ms',
            better: 'lower',
            notes: `${summary.none}/${summary.targets} none${summary.connect_timeout_ms === 1000 && summary.targets >= 65_534 ? '; target < 60 s' : ''}${summary.backoffs ? `; ${summary.backoffs} backoffs` : ''}`,
          },
          [ms],
          { subject: idealName, samples: [ideal] },
        ),
      );
    }
    return { sweep, namespace: how, results };
  } finally {
    cleanup();
    process.removeListener('exit', cleanup);
  }
}

export async function benchScan(options: ScanBenchOptions = {}): Promise<ScanBenchReport> {
  if (!existsSync(join(root, 'dist/hashctl.cjs')))
    throw new Error('dist/hashctl.cjs is missing: run npm run build');
  const comparison = await compareWithNmap({
    range: options.range ?? '127.0.16.0/20',
    minersRange: options.minersRange ?? '127.0.16.0/22',
    rounds: options.rounds ?? 5,
  });
  const report: ScanBenchReport = { ...comparison, sweep: [], namespace: 'not run' };
  if (options.sweep !== false) {
    const silent = silentSweep(
      options.sweepRange ?? '127.200.0.0/16',
      options.sweepPoints ?? [
        { timeout: '1s', concurrency: null },
        { timeout: '500ms', concurrency: null },
        { timeout: '250ms', concurrency: null },
        { timeout: '1s', concurrency: 2048 },
      ],
    );
    report.sweep = silent.sweep;
    report.namespace = silent.namespace;
    report.results.push(...silent.results);
  }
  return report;
}

function printReport(report: ScanBenchReport): void {
  const out = process.stdout;
  out.write('subject\tmedian ms\tbaseline\tbaseline ms\tratio\tnotes\n');
  for (const r of report.results) {
    if ('skipped' in r) {
      out.write(`${r.bench}\tskipped: ${r.skipped}\n`);
      continue;
    }
    out.write(
      `${r.subject}\t${r.value.toFixed(0)}\t${r.baseline?.subject ?? '-'}\t${r.baseline?.value.toFixed(0) ?? '-'}\t${r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`}\t${r.notes ?? ''}\n`,
    );
  }
  if (report.nmap) out.write(`${report.nmap}\n`);
  out.write(`namespace: ${report.namespace}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes('--quick');
  // Standalone runs measure the current sources: bundle first (npm run bench does this itself).
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
  benchScan(quick ? { rounds: 2, sweepPoints: [{ timeout: '1s', concurrency: null }] } : {}).then(
    printReport,
    (error: unknown) => {
      process.stderr.write(`bench scan: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
