// `npm run package`'s last step, on a tiny script (no bundle, no strip): the binary it writes must
// land even while the previous one is running, as a dev box's `dist/hashctl collect --interval` is.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

interface PackageScript {
  buildSea(options: { bundleFile: string; output: string; strip?: boolean; workDir: string }): string;
  packageBinary(options: { output?: string; addon?: string }): Promise<{ output: string }>;
}

const root = fileURLToPath(new URL('../..', import.meta.url));

let tmp: string;
let running: ChildProcess | null = null;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-build-sea-'));
});
afterEach(() => {
  running?.kill('SIGKILL');
  running = null;
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('buildSea', () => {
  it('replaces an output that is running (was ETXTBSY), leaving no temp file beside it', async () => {
    const { buildSea } = (await import(
      pathToFileURL(path.join(root, 'scripts', 'package.mjs')).href
    )) as PackageScript;
    const dist = path.join(tmp, 'dist');
    fs.mkdirSync(dist);
    const output = path.join(dist, 'hashctl');
    // The "old binary": a copy of sleep, kept running from that very path.
    fs.copyFileSync('/bin/sleep', output);
    fs.chmodSync(output, 0o755);
    running = spawn(output, ['60'], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      running?.once('spawn', () => resolve());
      running?.once('error', reject);
    });
    const workDir = path.join(tmp, 'work');
    fs.mkdirSync(workDir);
    const bundleFile = path.join(workDir, 'tiny.cjs');
    fs.writeFileSync(bundleFile, "process.stdout.write('tiny sea\\n');\n");

    buildSea({ bundleFile, output, strip: false, workDir });

    expect(execFileSync(output, [], { encoding: 'utf8', timeout: 20_000 })).toBe('tiny sea\n');
    expect(fs.readdirSync(dist)).toEqual(['hashctl']);
  }, 60_000);

  it('refuses an addon this node cannot load, before building anything', async () => {
    // An addon compiled by another Node (nvm, a node_modules from another machine) made a binary
    // whose every database command failed on the farm, with advice about cache directories.
    const { packageBinary } = (await import(
      pathToFileURL(path.join(root, 'scripts', 'package.mjs')).href
    )) as PackageScript;
    const addon = path.join(tmp, 'better_sqlite3.node');
    fs.writeFileSync(addon, 'not an ELF file');
    const output = path.join(tmp, 'dist', 'hashctl');
    await expect(packageBinary({ output, addon })).rejects.toThrow(
      new RegExp(`SQLite addon .*better_sqlite3\\.node does not load in this node \\(${process.version}\\)`),
    );
    expect(fs.existsSync(output)).toBe(false);
  }, 60_000);
});
