// `@~/farm.json` and a config file's `~/` paths: no shell expands a tilde there, so hashctl does,
// as it already did for --db, HASHCTL_DB, --config and the config's `db`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { parseConfig } from '../../src/config/index.js';
import { memoryContext } from '../../src/context.js';
import { buildScanTargets } from '../../src/scan/index.js';
import { parseTargetSpecs } from '../../src/targets/index.js';
import { tempDir } from '../store/helpers.js';

let home: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir: home, cleanup } = tempDir('hashctl-home-'));
});
afterEach(() => cleanup());

const keys = (set: { [Symbol.iterator](): Iterator<{ key: string }> }) =>
  [...set].map((target) => target.key);

describe('a leading ~/ that no shell expanded', () => {
  it('names the home folder in an @FILE target (probe, control, thermal, collect, audit)', async () => {
    fs.writeFileSync(path.join(home, 'farm.txt'), '127.0.125.9:4028\n');
    const targets = await parseTargetSpecs(['@~/farm.txt'], { defaultPort: 4028, env: { HOME: home } });
    expect(keys(targets)).toEqual(['127.0.125.9:4028']);
    // Only a leading `~/`: `@a/~/x` is a relative path like any other.
    await expect(
      parseTargetSpecs(['@a/~/farm.txt'], { defaultPort: 4028, env: { HOME: home } }),
    ).rejects.toMatchObject({ kind: 'usage' });
  });

  it('names the home folder in a scan range file', async () => {
    fs.writeFileSync(path.join(home, 'ranges.txt'), '127.0.125.9\n');
    const targets = await buildScanTargets(['@~/ranges.txt'], [4028, 4029], { env: { HOME: home } });
    expect(keys(targets)).toEqual(['127.0.125.9:4028', '127.0.125.9:4029']);
  });

  it('names the home folder in the config file: targets, upload.key_file, upload.ca_file', () => {
    const { config } = parseConfig(
      JSON.stringify({
        targets: ['@~/farm.json', '@racks.txt'],
        upload: { endpoint: 'https://cloud.example', key_file: '~/.hashctl/key', ca_file: '~/ca.pem' },
      }),
      '/etc/hashctl/farm.json',
      { HOME: home },
    );
    expect(config.targets).toEqual([`@${path.join(home, 'farm.json')}`, '@/etc/hashctl/racks.txt']);
    expect(config.upload?.key_file).toBe(path.join(home, '.hashctl', 'key'));
    expect(config.upload?.ca_file).toBe(path.join(home, 'ca.pem'));
  });

  it('probe @~/FILE reads the file in $HOME, not a folder named ~ under the current one', async () => {
    // Port 1 of an address in this suite's loopback block: nothing listens, refused at once.
    fs.writeFileSync(path.join(home, 'farm.txt'), '127.0.125.9:1\n');
    const ctx = memoryContext({ env: { HOME: home, NO_COLOR: '1' } });
    expect(await runCli(['probe', '@~/farm.txt', '--retries', '0', '--json'], ctx)).toBe(1);
    const document = JSON.parse(ctx.out()) as { results: { target: string; error: { kind: string } }[] };
    expect(document.results.map((result) => [result.target, result.error.kind])).toEqual([
      ['127.0.125.9:1', 'refused'],
    ]);
  });
});
