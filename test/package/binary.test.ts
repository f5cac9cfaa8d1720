// The single binary, as a field engineer uses it: copied alone into an empty folder, run with a bare
// environment (no node, no node_modules), against simulated miners on loopback.
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Farm, startFarm } from '../../src/sim/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const builtBinary = path.join(root, 'dist', 'hashctl');
const hasScript = execFileSync('sh', ['-c', 'command -v script || true']).toString().trim() !== '';
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

let tmp: string;
let binary: string;
let farm: Farm;
let targets: string[];

/** Runs the copied binary with nothing but HOME and a minimal PATH (plus `extraEnv`). */
function runBinary(args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    // Asynchronous: the simulated miners live in this process and must keep answering meanwhile.
    execFile(
      binary,
      args,
      {
        cwd: tmp,
        env: { HOME: path.join(tmp, 'home'), PATH: '/usr/bin:/bin', ...extraEnv },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

function cachedAddons(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((name) => /^better_sqlite3-[0-9a-f]{16}-abi\d+\.node$/.test(name));
}

beforeAll(async () => {
  execFileSync('npm', ['run', 'package'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-binary-'));
  fs.mkdirSync(path.join(tmp, 'home'));
  binary = path.join(tmp, 'hashctl');
  fs.copyFileSync(builtBinary, binary);
  fs.chmodSync(binary, 0o755);
  farm = await startFarm({ profile: 'antminer-s19', host: '127.0.0.1', basePort: 0, count: 2, seed: 11 });
  targets = farm.inventory();
}, 120_000);

afterAll(async () => {
  await farm?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('dist/hashctl', () => {
  it('comes with a sha256 file that matches it', () => {
    const line = fs.readFileSync(`${builtBinary}.sha256`, 'utf8');
    const check = execFileSync('sha256sum', ['-c', 'hashctl.sha256'], {
      cwd: path.dirname(builtBinary),
    }).toString();
    expect(line).toMatch(/^[0-9a-f]{64} {2}hashctl\n$/);
    expect(check.trim()).toBe('hashctl: OK');
  });

  it('runs from an empty folder with no node_modules reachable', () => {
    expect(fs.readdirSync(tmp).sort()).toEqual(['hashctl', 'home']);
    for (let dir = tmp; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
      expect(fs.existsSync(path.join(dir, 'node_modules')), dir).toBe(false);
    }
  });

  it('prints its version and commit, and nothing on stderr', async () => {
    // The commit, with -dirty while tracked files differ from it (as the build says it).
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root })
      .toString()
      .trim();
    const result = await runBinary(['--version']);
    expect(result).toEqual({
      code: 0,
      stdout: `hashctl ${pkg.version} (commit ${commit}${dirty === '' ? '' : '-dirty'})\n`,
      stderr: '',
    });
  });

  it('prints help listing the commands, without touching the addon cache', async () => {
    const result = await runBinary(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['probe', 'collect', 'live'])
      expect(result.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, 'm'));
    expect(cachedAddons(path.join(tmp, 'home', '.cache', 'hashctl'))).toEqual([]);
  });

  it('exits 2 on an unknown flag', async () => {
    const result = await runBinary(['--no-such-flag']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--no-such-flag');
  });

  it('probes a simulated miner with --json', async () => {
    const target = targets[0]!;
    const port = Number(target.split(':')[1]);
    const result = await runBinary(['probe', target, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const parsed = JSON.parse(result.stdout) as unknown;
    const first = (
      Array.isArray(parsed) ? parsed[0] : ((parsed as { results?: unknown[] }).results?.[0] ?? parsed)
    ) as Record<string, unknown>;
    expect(first).toMatchObject({ target, host: '127.0.0.1', port, ok: true });
    expect(JSON.stringify(first)).toContain('Antminer');
  });

  it('collects one cycle into a new SQLite file, using the embedded addon', async () => {
    const db = path.join(tmp, 'x.db');
    const result = await runBinary(['collect', '--once', '--targets', ...targets, '--db', db, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(summary).toMatchObject({ polled: 2, ok: 2, failed: 0 });
    expect(fs.existsSync(db)).toBe(true);
    // The addon came out of the binary into the home cache, not from any node_modules.
    expect(cachedAddons(path.join(tmp, 'home', '.cache', 'hashctl'))).toHaveLength(1);

    const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
    const check = new Database(db, { readonly: true });
    try {
      expect(check.prepare('SELECT count(*) AS n FROM telemetry_history').get()).toEqual({ n: 2 });
      expect(check.prepare('SELECT count(*) AS n FROM collection_runs').get()).toEqual({ n: 1 });
    } finally {
      check.close();
    }
  });

  it('shows what was collected with live --json', async () => {
    const db = path.join(tmp, 'x.db');
    if (!fs.existsSync(db)) {
      const collected = await runBinary(['collect', '--once', '--targets', ...targets, '--db', db]);
      expect(collected.code, collected.stderr).toBe(0);
    }
    const result = await runBinary(['live', '--db', db, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const live = JSON.parse(result.stdout) as { miners: { miner: string; state: string }[] };
    expect(live.miners.map((m) => m.miner).sort()).toEqual([...targets].sort());
    expect(live.miners.every((m) => m.state === 'online')).toBe(true);
  });

  it('runs the commands that load built-ins lazily: thermal check --db, probe --dump', async () => {
    const db = path.join(tmp, 'thermal.db');
    const checked = await runBinary(['thermal', 'check', ...targets, '--db', db]);
    expect(checked.stderr).not.toMatch(/internal error/);
    expect([0, 1]).toContain(checked.code);
    const dump = path.join(tmp, 'dump');
    const probed = await runBinary(['probe', targets[0]!, '--dump', dump]);
    expect(probed.code, probed.stderr).toBe(0);
    expect(fs.readdirSync(dump).length).toBeGreaterThan(0);
    fs.rmSync(dump, { recursive: true, force: true });
    fs.rmSync(db, { force: true });
  });

  it('loads every package the commands load lazily: zod, undici, asciichart, jsonrepair', async () => {
    const db = path.join(tmp, 'lazy.db');
    // undici: collect delivers its cycle to a collector on loopback.
    const posts: string[] = [];
    const collector = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        posts.push(`${req.method} ${req.url}`);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    try {
      const collected = await runBinary(
        ['collect', '--once', '--targets', targets[0]!, '--db', db, '--upload', `http://127.0.0.1:${port}`],
        { HASHCTL_COLLECTOR_KEY: 'k' },
      );
      expect(collected.code, collected.stderr).toBe(0);
      expect(posts).toEqual(['POST /api/collector/upload']);
    } finally {
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
    // asciichart: history draws its chart.
    const history = await runBinary(['history', targets[0]!, '--db', db]);
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toMatch(/[┤┼]/);
    // zod: a config file of the wrong shape is explained, not an internal error.
    const config = path.join(tmp, 'wrong-shape.json');
    fs.writeFileSync(config, '{"site": []}');
    const checked = await runBinary(['live', '--config', config]);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toMatch(/site: .*expected string/);
    // jsonrepair: a reply only it can read (single quotes, a bare key).
    const miner = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () =>
        socket.end(
          `{"STATUS":[{"STATUS":"S","When":1,"Code":22,"Msg":"CGMiner versions"}],"VERSION":[{"CGMiner":"4.11.1",'API':'3.7', Type: 'Antminer S9'}],"id":1}\0`,
        ),
      );
    });
    await new Promise<void>((resolve) => miner.listen(0, '127.0.0.1', resolve));
    try {
      const address = `127.0.0.1:${(miner.address() as AddressInfo).port}`;
      const probed = await runBinary(['probe', address, '--command', 'version', '--json', '--retries', '0']);
      expect(probed.code, probed.stderr).toBe(0);
      expect(probed.stdout).toContain('"Type": "Antminer S9"');
      expect(probed.stdout).toContain('jsonrepair');
    } finally {
      await new Promise<void>((resolve) => miner.close(() => resolve()));
    }
  });

  it.skipIf(!hasScript)('on a terminal: cli-table3, chalk and the ora spinner', async () => {
    const result = await new Promise<RunResult>((resolve) => {
      execFile(
        'script',
        ['-qec', `stty cols 120; "${binary}" audit ${targets[0]!} --retries 0`, '/dev/null'],
        {
          cwd: tmp,
          env: { HOME: path.join(tmp, 'home'), PATH: '/usr/bin:/bin', TERM: 'xterm' },
          timeout: 60_000,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
    });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain('auditing'); // ora
    expect(result.stdout).toContain('┌'); // cli-table3
    expect(result.stdout).toMatch(/\u001b\[3\dm/); // chalk
    expect(result.stdout).not.toMatch(/internal error|Cannot find module/);
  });

  it('--debug: one error, then a trace that names the real class and functions', async () => {
    const config = path.join(tmp, 'broken.json');
    fs.writeFileSync(config, '{broken');
    const result = await runBinary(['live', '--config', config, '--debug']);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^hashctl: config .*broken\.json:1: not valid JSON/);
    expect(lines[1]).toBe(`ConfigError: ${lines[0]!.slice('hashctl: '.length)}`);
    // Minified, it read `We: …` and `at uFe (/tmp/hashctl-package-XXXX/hashctl-sea.cjs:…)`: names
    // nobody can look up, in a build machine's temp dir that was deleted.
    expect(lines[2]).toMatch(/^ {4}at parseConfig \(hashctl-sea\.cjs:\d+:\d+\)$/);
    expect(result.stderr).not.toContain('hashctl-package-');
    expect(result.stderr.match(/Error: /g)).toHaveLength(1);
    fs.rmSync(config);
  });

  it('falls back to the temp dir when home cannot hold the addon', async () => {
    const tempDir = path.join(tmp, 'tmpdir');
    fs.mkdirSync(tempDir);
    const db = path.join(tmp, 'fallback.db');
    // HOME is a regular file: ~/.cache cannot be created, so the per-user temp dir is used.
    const result = await runBinary(['collect', '--once', '--targets', targets[0]!, '--db', db], {
      HOME: binary,
      TMPDIR: tempDir,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(cachedAddons(path.join(tempDir, `hashctl-${process.getuid?.() ?? 'user'}`))).toHaveLength(1);
  });
});
