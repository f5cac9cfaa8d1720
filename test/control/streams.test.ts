// hashctl as a process whose stderr reader has gone (`2>&1 | head`, a log pipe that died): notes
// are lost, the run and its exit code are not.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { startHashctl } from '../support/hashctl-process.js';

let farm: Farm | null = null;
let dir: string | null = null;
afterEach(async () => {
  await farm?.stop();
  farm = null;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe('stderr closed under a run', () => {
  it('control: the writes are done and reported on stdout, exit 0, no crash on the summary line', async () => {
    farm = await startFarm({
      host: '127.0.92.7',
      basePort: 0,
      count: 2,
      profile: 'cgminer',
      writes: 'allow',
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-streams-'));
    const { child, done } = startHashctl([
      'control',
      'enablepool',
      '0',
      ...farm.inventory(),
      '--yes',
      '--db',
      path.join(dir, 'hashctl.db'),
    ]);
    // The reader goes away before hashctl writes its first note.
    child.stderr?.destroy();
    const run = await done;
    expect(run.code).toBe(0);
    const rows = run.stdout.trim().split('\n').slice(1);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.split('\t')[2]).toBe('verified');
  });
});
