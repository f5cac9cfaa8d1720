// A flag naming a file or a site, given empty (`--config "$CFG"` with CFG unset in a cron line), is
// exit 2 naming the flag, before any traffic: never a quiet run on the defaults, on
// $HASHCTL_CONFIG, or without the database the user named.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { antminerReplies, type FakeMiner, startFakeMiner } from '../thermal/fake-miner.js';

describe('empty file and site flags', () => {
  let miner: FakeMiner;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    // Boards at 61 °C: ok by the defaults, critical by the farm's config (critical 55).
    miner = await startFakeMiner(antminerReplies([61, 61, 61], [70, 70, 70]), 'bmminer 1.0.0');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-empty-flags-'));
    const config = path.join(dir, 'farm.json');
    fs.writeFileSync(
      config,
      JSON.stringify({ thermal: { classes: { air: { board: { warn: 50, critical: 55 } } } } }),
    );
    env = { HASHCTL_CONFIG: config, HASHCTL_DB: path.join(dir, 'hashctl.db'), HOME: dir };
  });
  afterAll(async () => {
    await miner.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string[], string][] = [
    [['thermal', 'check', '--config', ''], '--config'],
    [['thermal', 'check', '--db', ''], '--db'],
    [['thermal', 'check', '--site', ''], '--site'],
    [['thermal', 'limits', '--config', ''], '--config'],
    [['thermal', 'posture', '--site', ' '], '--site'],
    [['thermal', 'config', 'pull', '--endpoint', 'http://127.0.0.1:9', '--config', ''], '--config'],
    [
      ['thermal', 'config', 'pull', '--endpoint', 'http://127.0.0.1:9', '--dry-run', '--key-file', ''],
      '--key-file',
    ],
    [['thermal', 'config', 'pull', '--endpoint', 'http://127.0.0.1:9', '--dry-run', '--ca', ''], '--ca'],
    [['collect', '--once', '--config', ''], '--config'],
    [['collect', '--once', '--upload', 'http://127.0.0.1:9', '--ca', ''], '--ca'],
    [['live', '--config', ''], '--config'],
    [['upload', '--status', '--config', ''], '--config'],
    [['upload', '--status', '--site', ''], '--site'],
    [['upload', '--endpoint', 'http://127.0.0.1:9', '--key-file', ''], '--key-file'],
    [['upload', '--endpoint', 'http://127.0.0.1:9', '--ca', ''], '--ca'],
    // The readers' --site: not "no site ''", nor "no database" before the flag is looked at.
    [['live', '--site', ''], '--site'],
    [['export', '--site', ''], '--site'],
    [['history', '127.0.0.1:4028', '--site', ''], '--site'],
    // A dry run opens no database, yet must refuse what the real run refuses.
    [['control', 'restart', '--dry-run', '--db', ''], '--db'],
    // Not the current folder's EISDIR.
    [['audit', '--allowed-pools', ''], '--allowed-pools'],
    [['audit', '--out', ''], '--out'],
    // Every file flag alike: not "cannot open --log file '': ENOENT", nor a wording of its own.
    [['simulate', '--base-port', '0', '--log', ''], '--log'],
    [['simulate', '--base-port', '0', '--inventory', ''], '--inventory'],
    [['scan', '--out', ''], '--out'],
    [['probe', '--dump', ''], '--dump'],
    [['control', 'addpool', 'stratum+tcp://127.0.0.1:3333', 'w', '--password-file', ''], '--password-file'],
    [['control', 'restart', '--admin-password-file', ''], '--admin-password-file'],
    [['thermal', 'check', '--protect', '--admin-password-file', ''], '--admin-password-file'],
  ];
  for (const [args, flag] of cases) {
    it(`${args.join(' ')}: exit 2 naming ${flag}, nothing sent`, async () => {
      const before = miner.received.length;
      const ctx = memoryContext({ env: { ...env, HASHCTL_COLLECTOR_KEY: 'k'.repeat(32) } });
      // Miners where the command takes them, so that a fall-back would have something to judge.
      const targets =
        (args[0] === 'thermal' && ['check', 'posture'].includes(args[1] as string)) ||
        ['control', 'audit', 'scan', 'probe'].includes(args[0] as string)
          ? [miner.target]
          : args[0] === 'collect'
            ? ['--targets', miner.target]
            : [];
      const code = await runCli([...args, ...targets, '--timeout', '2s', '--retries', '0'], ctx);
      expect(ctx.err().startsWith(`hashctl: ${flag} is empty: give a `)).toBe(true);
      expect(ctx.err().trim().split('\n')).toHaveLength(1);
      expect(code).toBe(EXIT.usage);
      expect(ctx.out()).toBe('');
      expect(miner.received.length).toBe(before);
    });
  }

  it('a named config still applies (the farm config makes 61 °C critical)', async () => {
    const ctx = memoryContext({ env });
    const code = await runCli(
      [
        'thermal',
        'check',
        miner.target,
        '--config',
        env.HASHCTL_CONFIG as string,
        '--timeout',
        '2s',
        '--retries',
        '0',
      ],
      ctx,
    );
    expect(code).toBe(EXIT.findings);
  });
});
