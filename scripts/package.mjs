// `npm run package`: the single-file `dist/hashctl` (linux-x64) for hosts without Node.js, built
// offline with Node's SEA and postject (PACKAGING.md: pkg cannot work here). Writes
// dist/hashctl.sha256 beside it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './build.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
export const ADDON_ASSET = 'better_sqlite3.node';

/** The compiled better-sqlite3 addon in node_modules (built by `npm ci`). */
export function addonPath() {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('better-sqlite3/package.json'));
  return join(pkgDir, 'build', 'Release', ADDON_ASSET);
}

/**
 * Turns a CommonJS bundle into a single executable: SEA blob (code cache, addon asset) injected
 * into a copy of this very node binary (the code cache is tied to its V8).
 */
/**
 * The addon must load in this very node, which the binary is made of: one compiled by another Node
 * (nvm, a node_modules copied from another machine) made a binary whose every database command
 * failed on the farm (NODE_MODULE_VERSION mismatch), with advice about cache directories.
 */
export function checkAddon(file = addonPath()) {
  try {
    process.dlopen({ exports: {} }, file);
  } catch (error) {
    const reason = String(error?.message ?? error).split('\n')[0];
    throw new Error(
      `the SQLite addon ${file} does not load in this node (${process.version}): ${reason}; rebuild it with this node (npm rebuild better-sqlite3, or npm ci)`,
    );
  }
}

export function buildSea({ bundleFile, output, strip = true, workDir, addon = addonPath() }) {
  const blob = join(workDir, 'sea-prep.blob');
  const config = join(workDir, 'sea-config.json');
  writeFileSync(
    config,
    JSON.stringify(
      {
        // Relative, and run from the bundle's folder: V8 names the script after this path, and
        // --debug traces then say `hashctl-sea.cjs:LINE:COL`, not a build machine's deleted temp dir.
        main: basename(bundleFile),
        output: blob,
        useCodeCache: true,
        disableExperimentalSEAWarning: true,
        assets: { [ADDON_ASSET]: addon },
      },
      null,
      2,
    ),
  );
  run(process.execPath, ['--experimental-sea-config', config], dirname(bundleFile));

  mkdirSync(dirname(output), { recursive: true });
  const staging = join(workDir, basename(output));
  copyFileSync(process.execPath, staging);
  chmodSync(staging, 0o755);
  // Debug symbols are ~10 MiB of node we do not need; strip is optional (binutils may be missing).
  if (strip) {
    try {
      run('strip', ['--strip-all', staging]);
    } catch {
      process.stderr.write('package: strip not available, keeping symbols\n');
    }
  }
  run(process.execPath, [postjectCli(), staging, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
  // Staged, copied beside the output, then renamed over it: a failed build never leaves a
  // half-written dist/hashctl behind, and a dist/hashctl that is running (a `collect --interval`
  // on a dev box) is replaced, where writing into it failed with ETXTBSY (text file is busy).
  const temp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  try {
    copyFileSync(staging, temp);
    chmodSync(temp, 0o755);
    renameSync(temp, output);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return output;
}

function postjectCli() {
  // Run postject's CLI from node_modules directly: same as `npx postject`, but never asks the network.
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('postject/package.json')), 'dist', 'cli.js');
}

function run(command, args, cwd = root) {
  execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function sha256File(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Packages that must load only inside the command that needs them (CONTRIBUTING.md). */
export const HEAVY_PACKAGES = [
  'zod',
  'undici',
  'cli-table3',
  'ora',
  'better-sqlite3',
  'chalk',
  'jsonrepair',
  'asciichart',
];

/**
 * The heavy packages the bundle evaluates at start-up, each with the chain of imports from
 * src/entry.ts that pulls it in. Static imports are eager; `await import()` is lazy, and so is a
 * `require()` in our own sources (ESM has no top-level require: it can only sit inside a function).
 */
export function eagerHeavyModules(metafile, heavy = HEAVY_PACKAGES) {
  const entry = Object.keys(metafile.inputs).find((input) => input.endsWith('src/entry.ts'));
  if (!entry) throw new Error('metafile has no src/entry.ts');
  const parent = new Map([[entry, null]]);
  const queue = [entry];
  while (queue.length > 0) {
    const current = queue.shift();
    const fromOurSources = !current.includes('node_modules/');
    for (const edge of metafile.inputs[current]?.imports ?? []) {
      if (edge.external || parent.has(edge.path) || !(edge.path in metafile.inputs)) continue;
      const eager = edge.kind === 'import-statement' || (edge.kind === 'require-call' && !fromOurSources);
      if (!eager) continue;
      parent.set(edge.path, current);
      queue.push(edge.path);
    }
  }
  const found = [];
  for (const name of heavy) {
    const hit = [...parent.keys()].find((input) => packageOf(input) === name);
    if (!hit) continue;
    const chain = [];
    for (let node = hit; node !== null; node = parent.get(node)) chain.unshift(node);
    // Show our files and the first file of the package: that is where the eager import sits.
    const firstInPackage = chain.findIndex((input) => packageOf(input) === name);
    found.push({ name, chain: chain.slice(0, firstInPackage + 1) });
  }
  return found;
}

function packageOf(input) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  return match ? match[1] : null;
}

export async function packageBinary({ output = join(root, 'dist', 'hashctl'), addon = addonPath() } = {}) {
  checkAddon(addon);
  const workDir = mkdtempSync(join(tmpdir(), 'hashctl-package-'));
  try {
    const bundleFile = join(workDir, 'hashctl-sea.cjs');
    // Identifiers kept: minified, --debug traces named `We` for ConfigError and `uFe` for the
    // function that threw (the code cache absorbs the size; start-up is the same).
    const { metafile } = await bundle({
      outfile: bundleFile,
      sea: true,
      minify: 'whitespace',
      metafile: true,
    });
    buildSea({ bundleFile, output, workDir, addon });
    // `sha256sum -c hashctl.sha256` from dist/ verifies it.
    writeFileSync(`${output}.sha256`, `${sha256File(output)}  ${basename(output)}\n`);
    return { output, eager: eagerHeavyModules(metafile) };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  try {
    const { output, eager } = await packageBinary();
    for (const { name, chain } of eager) {
      process.stderr.write(`package: warning: ${name} loads at start-up: ${chain.join(' -> ')}\n`);
    }
    const mib = (statSync(output).size / 1024 / 1024).toFixed(1);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(`package: ${output} (${mib} MiB, linux-${process.arch}) in ${seconds} s\n`);
  } catch (error) {
    const stderr = error?.stderr?.toString().trim();
    process.stderr.write(`package: failed: ${stderr || error?.message || error}\n`);
    process.exitCode = 1;
  }
}
