// Bundles src/ into dist/hashctl.cjs for bin/hashctl. Dependencies stay external and load from
// node_modules: bundled, undici and zod alone tripled the file V8 compiles on every start (~60 ms).
// scripts/package.mjs reuses bundle() for the single binary, with everything and the addon embedded.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The commit the build is made from, `-dirty` when tracked files differ from it (--version says so). */
export function gitCommit() {
  const git = (...args) =>
    execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  try {
    const commit = git('rev-parse', '--short=12', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? commit : `${commit}-dirty`;
  } catch {
    return 'unknown';
  }
}

/**
 * Heads the bundle with a hash of its content: bin/hashctl names its V8 code cache after it, since
 * V8 checks a cache against the source's length only (a rebuild of the same length with the same
 * modification time, as `cp -p` or `rsync -a` deploys make, would otherwise run the old code).
 */
function stampBuild(outfile) {
  const code = readFileSync(outfile, 'utf8');
  const id = createHash('sha256').update(code).digest('hex').slice(0, 16);
  writeFileSync(outfile, `// hashctl-build ${id}\n${code}`);
}

/** Dependencies Node 20 can require(): left out of bin/hashctl's bundle, loaded from node_modules. */
export const REQUIRABLE_PACKAGES = [
  'asciichart',
  'better-sqlite3',
  'cli-table3',
  'ipaddr.js',
  'jsonrepair',
  'undici',
  'zod',
];

/**
 * commander requires `node:child_process` when it loads, for subcommands that are separate
 * executables (hashctl has none): that load (child_process pulls in net, dgram and streams) was the
 * largest part of every command's start-up, ~3.5 ms of the ~20 ms hashctl adds to `node -e 0`. So
 * commander is bundled (in both builds) and its `child_process` is required on first use instead.
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(build) {
    build.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: 'commander-child-process', namespace: 'hashctl-lazy' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'hashctl-lazy' }, () => ({
      contents:
        "let loaded;\nmodule.exports = { spawn: (...args) => (loaded ??= require('node:child_process')).spawn(...args) };\n",
      loader: 'js',
    }));
  },
};

/** Returns esbuild's result; `metafile: true` adds the import graph (scripts/package.mjs reads it). */
export async function bundle({ outfile, sea = false, minify = false, metafile = false }) {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
  return esbuild.build({
    entryPoints: [`${root}/src/entry.ts`],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // 'whitespace': smaller, but names kept (the SEA's --debug traces name the real functions).
    ...(minify === 'whitespace' ? { minifyWhitespace: true, minifySyntax: true } : { minify }),
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    // `createRequire(import.meta.url)` only runs from source: in the bundle, __HASHCTL_SEA__ is
    // defined and the literal require() beside it is taken instead.
    logOverride: { 'empty-import-meta': 'silent' },
    metafile,
    plugins: [lazyChildProcessForCommander],
    // The SEA can require built-ins only: everything is bundled there (its code cache absorbs the size).
    // bin/hashctl runs this bundle from a V8 code cache, and Node 20 loses a script's dynamic-import
    // callback when it comes from one: so no import() is left in it (esbuild turns each into a
    // require), the packages that require() cannot load (ESM only) are bundled, the rest stay in
    // node_modules. In the SEA no import() may be left either: a single executable has no dynamic
    // import callback at all, and `await import('node:fs')` (a built-in, never bundled) failed there
    // with ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING (thermal check --db, probe --dump, audit files).
    ...(sea
      ? { supported: { 'dynamic-import': false } }
      : { external: REQUIRABLE_PACKAGES, supported: { 'dynamic-import': false } }),
    define: {
      __HASHCTL_VERSION__: JSON.stringify(pkg.version),
      __HASHCTL_COMMIT__: JSON.stringify(gitCommit()),
      __HASHCTL_SEA__: sea ? 'true' : 'false',
    },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundle({ outfile: `${root}/dist/hashctl.cjs` });
  stampBuild(`${root}/dist/hashctl.cjs`);
}
