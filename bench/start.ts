// CLI start-up: `bin/hashctl --version`, `bin/hashctl --help` and (when built) `dist/hashctl
// --version`, each against `node -e 0`, in alternated rounds so drift in machine load hits all alike.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compareSamples } from './lib/stats.js';
import type { BenchOutcome } from './lib/types.js';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface StartBenchOptions {
  /** Alternated rounds; each round runs every subject once (default 25). */
  rounds?: number;
}

export const QUICK_OPTIONS: StartBenchOptions = { rounds: 8 };

interface Subject {
  name: string;
  command: string;
  args: string[];
}

export function startSubjects(): { baseline: Subject; subjects: Subject[] } {
  const node = process.execPath;
  const bin = `${root}bin/hashctl`;
  const subjects: Subject[] = [
    { name: 'bin/hashctl --version', command: node, args: [bin, '--version'] },
    { name: 'bin/hashctl --help', command: node, args: [bin, '--help'] },
  ];
  const binary = `${root}dist/hashctl`;
  if (existsSync(binary))
    subjects.push({ name: 'dist/hashctl --version', command: binary, args: ['--version'] });
  return { baseline: { name: 'node -e 0', command: node, args: ['-e', '0'] }, subjects };
}

function runOnce(subject: Subject): number {
  const started = performance.now();
  const result = spawnSync(subject.command, subject.args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 30_000,
  });
  const elapsed = performance.now() - started;
  if (result.status !== 0) {
    throw new Error(
      `${subject.name} exited ${result.status ?? result.signal}: ${String(result.stderr).trim()}`,
    );
  }
  return elapsed;
}

export async function benchStart(options: StartBenchOptions = {}): Promise<BenchOutcome[]> {
  const rounds = options.rounds ?? 25;
  const { baseline, subjects } = startSubjects();
  const everyone = [baseline, ...subjects];
  // One untimed warm-up each: the first run pays for the page cache, not for hashctl.
  for (const subject of everyone) runOnce(subject);
  const samples = new Map<string, number[]>(everyone.map((subject) => [subject.name, []]));
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no subject always runs right after the same neighbour.
    for (let i = 0; i < everyone.length; i++) {
      const subject = everyone[(round + i) % everyone.length]!;
      samples.get(subject.name)!.push(runOnce(subject));
    }
  }
  const baselineSamples = { subject: baseline.name, samples: samples.get(baseline.name)! };
  const outcomes: BenchOutcome[] = subjects.map((subject) =>
    compareSamples(
      { bench: 'start', subject: subject.name, unit: 'ms', better: 'lower' },
      samples.get(subject.name)!,
      baselineSamples,
    ),
  );
  if (!subjects.some((subject) => subject.name.startsWith('dist/'))) {
    outcomes.push({ bench: 'start', skipped: 'dist/hashctl not built (npm run package)' });
  }
  return outcomes;
}
