// `thermal check --protect` stopped by Ctrl-C between its confirming readings pauses nothing, and
// says so: the line was "interrupted; miners not yet read were skipped", though every miner was
// read, and nothing told the operator that a miner running critical was left hashing.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { type Farm, startFarm } from '../../src/sim/index.js';

describe('thermal check --protect interrupted before its pauses', () => {
  let farm: Farm;
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-protect-interrupt-'));
    farm = await startFarm({
      profile: 'braiins-os',
      count: 1,
      seed: 5,
      host: '127.0.0.1',
      basePort: 0,
      ambientC: 20,
    });
    // Its own limits: critical at the temperatures it runs at.
    const miner = farm.miners[0];
    if (miner) miner.state.limits = { target: 30, hot: 46, dangerous: 47 };
  });
  afterAll(async () => {
    await farm.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exit 130, nothing paused, and stderr says the critical miner was not paused', async () => {
    const controller = new AbortController();
    let err = '';
    const ctx = memoryContext({
      signal: controller.signal,
      stderr: {
        write: (chunk) => {
          err += chunk;
          // Ctrl-C while waiting for the second reading.
          if (chunk.includes('before pausing')) controller.abort();
          return true;
        },
        isTTY: false,
      },
    });
    const args = [
      'thermal',
      'check',
      ...farm.inventory(),
      '--protect',
      '--yes',
      '--reading-interval',
      '1s',
      '--db',
      path.join(dir, 'farm.db'),
    ];
    expect(await runCli(args, ctx)).toBe(EXIT.interrupted);
    expect(farm.miners[0]?.state.sleeping).toBe(false);
    expect(err).toContain(
      'hashctl: interrupted before pausing: 1 miner that asked for a pause was not paused\n',
    );
    expect(err).not.toContain('not yet read');
    // The notes say who speaks, as every other line hashctl writes to stderr.
    expect(err).toContain(
      'hashctl: thermal protection: 1 miner(s) critical; reading 2 of 3 in 1s before pausing\n',
    );
  });
});
