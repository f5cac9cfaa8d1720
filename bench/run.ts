// `npm run bench`: runs each benchmark module in turn, prints one table of results with their ratios
// against the baselines measured in the same run, and writes bench/results/<date>.json and
// bench/results/latest.json. `--only NAME` runs one; `--quick` passes each module its exported
// QUICK_OPTIONS (smaller farms, fewer rounds). Everything is bounded and loopback only.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatTable, isReport, normalizeOutcomes } from './lib/report.js';
import type { BenchOutcome } from './lib/types.js';

const benchDir = fileURLToPath(new URL('.', import.meta.url));

/** Module name → the export to call. Others' modules are optional until they land. */
export const BENCHES: readonly { name: string; exportName: string }[] = [
  { name: 'start', exportName: 'benchStart' },
  { name: 'store', exportName: 'benchStore' },
  { name: 'collect', exportName: 'benchCollect' },
  { name: 'scan', exportName: 'benchScan' },
  { name: 'sim-scale', exportName: 'benchSimScale' },
];

interface RunOptions {
  only: string | null;
  quick: boolean;
}

function parseArgs(argv: string[]): RunOptions {
  let only: string | null = null;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--only') only = argv[++i] ?? '';
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length);
    else throw new Error(`unknown argument ${arg} (usage: npm run bench [-- --only NAME] [--quick])`);
  }
  if (only !== null && !BENCHES.some((bench) => bench.name === only)) {
    throw new Error(`--only takes one of ${BENCHES.map((bench) => bench.name).join(', ')}`);
  }
  return { only, quick };
}

async function runBench(
  name: string,
  exportName: string,
  quick: boolean,
  details: Record<string, unknown>,
): Promise<BenchOutcome[]> {
  const file = `${benchDir}${name}.ts`;
  if (!existsSync(file)) return [{ bench: name, skipped: `bench/${name}.ts does not exist yet` }];
  // Importing a standalone script would run it (with our argv): only import modules that export a bench.
  if (!/export\s+(async\s+)?(function\s+|const\s+)bench\w*/.test(readFileSync(file, 'utf8'))) {
    return [{ bench: name, skipped: `bench/${name}.ts exports no ${exportName}() (a standalone script?)` }];
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(`./${name}.js`)) as Record<string, unknown>;
  } catch (error) {
    return [{ bench: name, skipped: `cannot load bench/${name}.ts: ${firstLine(error)}` }];
  }
  // The agreed export name, else the module's only bench* function.
  const candidates = Object.entries(module).filter(
    ([key, value]) => key.startsWith('bench') && typeof value === 'function',
  );
  const entry = module[exportName] ?? (candidates.length === 1 ? candidates[0]![1] : undefined);
  if (typeof entry !== 'function')
    return [{ bench: name, skipped: `bench/${name}.ts exports no ${exportName}()` }];
  process.stderr.write(`bench: ${name}…\n`);
  const started = performance.now();
  const quickOptions = quick ? module.QUICK_OPTIONS : undefined;
  const returned: unknown = await (entry as (options?: unknown) => unknown)(quickOptions);
  process.stderr.write(`bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  // A module that returns a whole report keeps it, minus the results table, in the JSON file.
  if (isReport(returned)) {
    const { results: _results, ...rest } = returned as Record<string, unknown>;
    details[name] = rest;
  }
  return normalizeOutcomes(name, returned);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

async function main(argv: string[]): Promise<number> {
  const { only, quick } = parseArgs(argv);
  const outcomes: BenchOutcome[] = [];
  const details: Record<string, unknown> = {};
  let failed = 0;
  for (const { name, exportName } of BENCHES) {
    if (only !== null && name !== only) continue;
    try {
      outcomes.push(...(await runBench(name, exportName, quick, details)));
    } catch (error) {
      failed++;
      process.stderr.write(`bench: ${name} failed: ${firstLine(error)}\n`);
      outcomes.push({ bench: name, skipped: `failed: ${firstLine(error)}` });
    }
  }
  process.stdout.write(formatTable(outcomes));

  const when = new Date();
  const report = {
    date: when.toISOString(),
    commit: gitCommit(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? null,
    only,
    quick,
    results: outcomes.filter((outcome) => !('skipped' in outcome)),
    skipped: outcomes.filter((outcome) => 'skipped' in outcome),
    details,
  };
  const resultsDir = `${benchDir}results`;
  mkdirSync(resultsDir, { recursive: true });
  const stamp = when
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(`${resultsDir}/${stamp}.json`, json);
  writeFileSync(`${resultsDir}/latest.json`, json);
  process.stderr.write(`bench: wrote bench/results/${stamp}.json and bench/results/latest.json\n`);
  return failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${firstLine(error)}\n`);
    process.exitCode = 2;
  },
);
