// Start-up stays fast only while heavy packages load inside the commands that need them: this checks
// the real bundle's import graph (esbuild metafile) from src/entry.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface MetaImport {
  path: string;
  kind: string;
  external?: boolean;
}
interface Metafile {
  inputs: Record<string, { imports: MetaImport[] }>;
}
interface EagerHit {
  name: string;
  chain: string[];
}
interface PackageScript {
  HEAVY_PACKAGES: string[];
  eagerHeavyModules(metafile: Metafile, heavy?: string[]): EagerHit[];
}
interface BuildScript {
  bundle(options: { outfile: string; sea?: boolean; minify?: boolean; metafile?: boolean }): Promise<{
    metafile: Metafile;
  }>;
}

const root = fileURLToPath(new URL('../..', import.meta.url));
// The scripts are plain .mjs (run by node without tsx); their shapes are declared above.
const loadScript = async <T>(name: string): Promise<T> =>
  (await import(pathToFileURL(path.join(root, 'scripts', name)).href)) as T;

describe('eagerHeavyModules', () => {
  it('follows static imports, skips dynamic ones and our own lazy require()', async () => {
    const { eagerHeavyModules } = await loadScript<PackageScript>('package.mjs');
    const metafile: Metafile = {
      inputs: {
        'src/entry.ts': { imports: [{ path: 'src/cli.ts', kind: 'import-statement' }] },
        'src/cli.ts': {
          imports: [
            { path: 'src/commands/probe.ts', kind: 'import-statement' },
            { path: 'node_modules/undici/index.js', kind: 'dynamic-import' },
            { path: 'node_modules/better-sqlite3/lib/index.js', kind: 'require-call' },
          ],
        },
        'src/commands/probe.ts': {
          imports: [{ path: 'node_modules/zod/index.js', kind: 'import-statement' }],
        },
        'node_modules/zod/index.js': {
          imports: [{ path: 'node_modules/zod/v4/core.js', kind: 'require-call' }],
        },
        'node_modules/zod/v4/core.js': { imports: [] },
        'node_modules/undici/index.js': { imports: [] },
        'node_modules/better-sqlite3/lib/index.js': { imports: [] },
      },
    };
    expect(eagerHeavyModules(metafile)).toEqual([
      {
        name: 'zod',
        chain: ['src/entry.ts', 'src/cli.ts', 'src/commands/probe.ts', 'node_modules/zod/index.js'],
      },
    ]);
    expect(eagerHeavyModules(metafile, ['undici', 'better-sqlite3'])).toEqual([]);
  });
});

describe('the hashctl bundle', () => {
  let tmp: string;
  let metafile: Metafile;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-lazy-'));
    const { bundle } = await loadScript<BuildScript>('build.mjs');
    ({ metafile } = await bundle({ outfile: path.join(tmp, 'hashctl.cjs'), sea: true, metafile: true }));
  }, 60_000);

  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('leaves no import() in the single binary: it has no dynamic import callback at all', () => {
    // `await import('node:fs')` (a built-in, never bundled) stayed an import() and failed in the
    // binary only: thermal check --db, probe --dump, audit --allowed-pools.
    // esbuild writes code with double quotes; the single-quoted ones are JSDoc types in comments.
    const text = fs.readFileSync(path.join(tmp, 'hashctl.cjs'), 'utf8');
    expect(text.match(/\bimport\(\s*"[^"]+"\s*\)/g) ?? []).toEqual([]);
  });

  it('embeds better-sqlite3 for the single binary', () => {
    expect(
      Object.keys(metafile.inputs).some((input) => input.includes('node_modules/better-sqlite3/lib/')),
    ).toBe(true);
  });

  it('loads no heavy package at start-up (each one names the import chain that pulls it in)', async () => {
    const { eagerHeavyModules } = await loadScript<PackageScript>('package.mjs');
    const eager = eagerHeavyModules(metafile).map(({ name, chain }) => `${name}: ${chain.join(' -> ')}`);
    expect(eager).toEqual([]);
  });
});
