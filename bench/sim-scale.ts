// Scale of `hashctl simulate`: time until a farm of N miners has printed its inventory, then
// polling rounds (summary, stats, pools, devs: one connection each) by a bare node:net client at a
// fixed concurrency, with the farm in a child process; on Linux also the simulator's CPU time per
// round (user+sys from /proc), the number to watch when the farm and a client share a machine.
// Run: npx tsx bench/sim-scale.ts
//   --count 5000 --concurrency 1000 --faults latency=100ms --rounds 2 (defaults)
//   --commands 'version+summary+stats+pools+devs+devdetails+edevs+config+coin+fans+temps+power'
//     (comma-separated requests per miner; one `+` join is one request, as collect sends it)
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { BenchOutcome } from './lib/types.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? (args[at + 1] as string) : fallback;
};
const count = Number(flag('count', '5000'));
const concurrency = Number(flag('concurrency', '1000'));
const faults = flag('faults', 'latency=100ms');
const COMMANDS = flag('commands', 'summary,stats,pools,devs').split(',');
const ROUNDS = Math.max(1, Number(flag('rounds', '2')));

/** CPU time (user+sys) of a process so far, ms; null where /proc is not there. */
function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields 14 and 15 (utime, stime), after the parenthesized command name; in clock ticks,
    // which Linux reports at USER_HZ = 100 whatever the kernel's own tick.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}

function hashctlCommand(): { cmd: string; argv: string[]; how: string } {
  try {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'ignore' });
  } catch {
    // Another area may be mid-work and break the bundle; the same code runs under tsx.
    return {
      cmd: process.execPath,
      argv: ['--import', 'tsx', 'src/entry.ts'],
      how: 'tsx src/entry.ts (bundle did not build)',
    };
  }
  return { cmd: `${root}/bin/hashctl`, argv: [], how: 'bin/hashctl' };
}

function request(port: number, command: string): Promise<boolean> {
  return new Promise((resolve) => {
    let bytes = 0;
    // One write, read to EOF: the miner closes first, as cgminer does, so TIME_WAIT stays on its side.
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(JSON.stringify({ command })));
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('data', (d) => {
      bytes += d.length;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(bytes > 0);
    });
    socket.on('error', () => {});
  });
}

async function pollRound(ports: number[]): Promise<{ ok: number; failed: number }> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  const worker = async () => {
    while (next < ports.length) {
      const port = ports[next++] as number;
      for (const command of COMMANDS) (await request(port, command)) ? ok++ : failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ports.length) }, worker));
  return { ok, failed };
}

async function measure(): Promise<SimScaleResult> {
  const { cmd, argv, how } = hashctlCommand();
  const started = performance.now();
  const child = spawn(
    cmd,
    [
      ...argv,
      'simulate',
      '--quiet',
      '--count',
      String(count),
      '--base-port',
      flag('base-port', '0'),
      '--faults',
      faults,
    ],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  const ports: number[] = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const lines = out.split('\n').filter((l) => l !== '');
      if (lines.length >= count) resolve(lines.map((l) => Number(l.split(':').pop())));
    });
    child.on('exit', (code) => reject(new Error(`simulate exited with ${code}`)));
  });
  const inventoryMs = performance.now() - started;
  const rounds: Array<{ ms: number; simCpuMs: number | null; ok: number; failed: number }> = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    const cpu0 = cpuMs(child.pid);
    const result = await pollRound(ports);
    const cpu1 = cpuMs(child.pid);
    const simCpuMs = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
    rounds.push({ ms: performance.now() - t0, simCpuMs, ...result });
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  const result = {
    how,
    miners: count,
    faults,
    concurrency,
    inventory_ms: Math.round(inventoryMs),
    commands: COMMANDS,
    rounds: rounds.map((r) => ({
      ms: Math.round(r.ms),
      sim_cpu_ms: r.simCpuMs,
      requests: r.ok + r.failed,
      ok: r.ok,
      failed: r.failed,
      req_per_s: Math.round(((r.ok + r.failed) * 1000) / r.ms),
    })),
  };
  return result;
}

interface SimScaleResult {
  how: string;
  miners: number;
  faults: string;
  concurrency: number;
  inventory_ms: number;
  commands: string[];
  rounds: {
    ms: number;
    /** The simulator's user+sys CPU during the round (Linux), ms. */
    sim_cpu_ms: number | null;
    requests: number;
    ok: number;
    failed: number;
    req_per_s: number;
  }[];
}

/** For bench/run.ts: inventory time against the 3 s target, polling round against the 5 s target. */
export async function benchSimScale(): Promise<BenchOutcome[]> {
  const result = await measure();
  const best = Math.min(...result.rounds.map((r) => r.ms));
  const failed = result.rounds.reduce((sum, r) => sum + r.failed, 0);
  const cpu = result.rounds.map((r) => r.sim_cpu_ms).filter((ms): ms is number => ms !== null);
  const cpuNote = cpu.length > 0 ? `; simulator CPU per round ${cpu.join(', ')} ms` : '';
  return [
    {
      bench: 'sim-scale',
      subject: `simulate ${result.miners} miners: inventory printed`,
      value: result.inventory_ms,
      unit: 'ms',
      better: 'lower',
      baseline: { subject: 'target 3 s', value: 3000 },
      ratio: result.inventory_ms / 3000,
      samples: 1,
    },
    {
      bench: 'sim-scale',
      subject: `bare node:net round, ${result.miners} miners x ${result.commands.length} commands at ${result.concurrency}, ${result.faults}`,
      value: best,
      unit: 'ms',
      better: 'lower',
      baseline: { subject: 'target 5 s', value: 5000 },
      ratio: best / 5000,
      samples: result.rounds.length,
      notes: `${failed} failed requests; farm run by ${result.how}${cpuNote}`,
    },
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  measure().then(
    (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`sim-scale: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
