// End to end: `hashctl probe --command/--dump` as a user runs it, against fake miners on 127.0.0.1
// (bin/hashctl in a child process, see support/hashctl-process.ts).
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  cgminerReply,
  closedPort,
  type FakeMiner,
  type Script,
  startFakeMiner,
} from '../support/fake-miner.js';
import { runHashctl, startHashctl } from '../support/hashctl-process.js';

let miners: FakeMiner[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
async function miner(script: Script): Promise<FakeMiner> {
  const started = await startFakeMiner(script);
  miners.push(started);
  return started;
}

const SUMMARY = cgminerReply('SUMMARY', [{ Elapsed: 12, 'MHS av': 100.5 }], { Code: 11, Msg: 'Summary' });
const DENIED = cgminerReply('X', [], { STATUS: 'E', Code: 45, Msg: "Access denied to 'privileged' command" });

/** Answers summary, pools and joins of them; privileged is denied. */
function stockAntminer(): Script {
  const single = (command: string) =>
    command === 'privileged'
      ? DENIED
      : command === 'summary'
        ? SUMMARY
        : cgminerReply(command.toUpperCase(), [{ name: command }], { Code: 7, Msg: command });
  return (request) => {
    const { command } = JSON.parse(request) as { command: string };
    if (!command.includes('+')) return { kind: 'reply', bytes: single(command) };
    return {
      kind: 'reply',
      bytes: `{${command
        .split('+')
        .map((c) => `"${c}":[${single(c)}]`)
        .join(',')},"id":1}`,
    };
  };
}

describe('hashctl probe --command', () => {
  it('prints one object for one host, with the decoded reply', async () => {
    const m = await miner(stockAntminer());
    const run = await runHashctl(['probe', m.target.key, '--command', 'summary', '--json', '--retries', '0']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ target: m.target.key, host: '127.0.0.1', port: m.port, ok: true });
    expect(typeof result.elapsed_ms).toBe('number');
    expect(result.responses.summary.SUMMARY).toEqual([{ Elapsed: 12, 'MHS av': 100.5 }]);
    expect(result.error).toBeUndefined();
    expect(m.requests).toEqual(['{"command":"summary"}']);
  });

  it("shows another command's reply as it came, but as a protocol failure (POOLS to summary), exit 1", async () => {
    const pools = cgminerReply('POOLS', [{ POOL: 0, URL: 'stratum+tcp://pool.example:3333' }], { Code: 7 });
    const m = await miner({ kind: 'reply', bytes: pools });
    const run = await runHashctl(['probe', m.target.key, '--command', 'summary', '--json', '--retries', '0']);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result.ok).toBe(false);
    expect(result.responses.summary.POOLS).toHaveLength(1);
    expect(result.error).toMatchObject({ kind: 'protocol' });
    expect(result.error.message).toMatch(/answered POOLS to 'summary'/);
  });

  it('lists several targets in order with per-command errors and kinds, exit 1', async () => {
    const good = await miner(stockAntminer());
    const port = await closedPort();
    const run = await runHashctl([
      'probe',
      good.target.key,
      `127.0.0.1:${port}`,
      '--command',
      'summary,privileged',
      '--json',
      '--retries',
      '0',
    ]);
    expect(run.code).toBe(1);
    const { results } = JSON.parse(run.stdout);
    expect(results.map((r: { target: string }) => r.target)).toEqual([good.target.key, `127.0.0.1:${port}`]);
    const [first, second] = results;
    expect(first.ok).toBe(false);
    expect(first.responses.summary.SUMMARY).toHaveLength(1);
    expect(first.errors.privileged).toMatchObject({ kind: 'denied', code: 45, attempts: 1 });
    expect(first.error).toMatchObject({ kind: 'denied', code: 45 });
    expect(first.errors.summary).toBeUndefined();
    expect(second).toMatchObject({ ok: false, error: { kind: 'refused', attempts: 1 } });
    expect(Object.keys(second.errors)).toEqual(['summary', 'privileged']);
  });

  it('sends a multi-command as one request and shows its keyed reply', async () => {
    const m = await miner(stockAntminer());
    const run = await runHashctl(['probe', m.target.key, '--command', 'summary+pools', '--json']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.responses['summary+pools'].pools[0].POOLS).toEqual([{ name: 'pools' }]);
    expect(m.requests).toEqual(['{"command":"summary+pools"}']);
  });

  it('probes a miner listed under its address and as localhost once', async () => {
    const m = await miner({ kind: 'reply', bytes: SUMMARY });
    const run = await runHashctl([
      'probe',
      m.target.key,
      `localhost:${m.port}`,
      '--command',
      'summary',
      '--json',
      '--retries',
      '0',
    ]);
    expect(run.code).toBe(0);
    expect(m.connections).toBe(1);
    expect(JSON.parse(run.stdout).results).toHaveLength(1);
    expect(run.stderr).toContain(
      `localhost:${m.port} is the miner ${m.target.key} already names: probed once`,
    );
  });

  it('passes --param to the single command', async () => {
    const m = await miner({
      kind: 'reply',
      bytes: cgminerReply('ASC', [{ ASC: 1, Enabled: 'Y', Status: 'Alive' }], { Code: 106, Msg: 'ASC1' }),
    });
    const run = await runHashctl(['probe', m.target.key, '--command', 'asc', '--param', '1', '--json']);
    expect(run.code).toBe(0);
    expect(m.requests).toEqual(['{"command":"asc","parameter":"1"}']);
  });

  it('reports repairs per command', async () => {
    const glued =
      '{"STATUS":[{"STATUS":"S","When":1,"Code":70,"Msg":"CGMiner stats"}],"STATS":[{"Type":"S9"}{"STATS":0}],"id":1}';
    const m = await miner({ kind: 'reply', bytes: glued });
    const result = JSON.parse(
      (await runHashctl(['probe', m.target.key, '--command', 'stats', '--json'])).stdout,
    );
    expect(result.repairs).toEqual({ stats: ['glued objects'] });
    expect(result.responses.stats.STATS).toHaveLength(2);
  });

  it('meets the deadline on a silent miner: kind timeout', async () => {
    const m = await miner({ kind: 'silent' });
    const run = await runHashctl([
      'probe',
      m.target.key,
      '--command',
      'summary',
      '--json',
      '--timeout',
      '500ms',
      '--retries',
      '0',
    ]);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout);
    expect(result.error).toMatchObject({ kind: 'timeout', attempts: 1 });
    expect(result.elapsed_ms).toBeLessThan(1500); // the contract: within timeout + 1s
  });

  it('reports every failure kind of the contract it meets', async () => {
    const http = await miner({ kind: 'reply', bytes: 'HTTP/1.1 400 Bad Request\r\n\r\n', nul: false });
    const empty = await miner({ kind: 'close' });
    const api = await miner({
      kind: 'reply',
      bytes: cgminerReply('X', [], { STATUS: 'E', Code: 14, Msg: 'Invalid command' }),
    });
    const run = await runHashctl([
      'probe',
      http.target.key,
      empty.target.key,
      api.target.key,
      '--command',
      'summary',
      '--json',
      '--retries',
      '1',
    ]);
    expect(run.code).toBe(1);
    const { results } = JSON.parse(run.stdout);
    expect(
      results.map((r: { error: { kind: string; attempts: number } }) => [r.error.kind, r.error.attempts]),
    ).toEqual([
      ['protocol', 1],
      ['empty_reply', 2],
      ['api', 1],
    ]);
    expect(results[2].error).toMatchObject({ code: 14, msg: 'Invalid command' });
    expect(empty.connections).toBe(2); // a read is retried
  });

  it('prints tab-separated lines when stdout is not a terminal', async () => {
    const m = await miner(stockAntminer());
    const run = await runHashctl(['probe', m.target.key, '--command', 'summary']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toContain(`${m.target.key}\tsummary\tSUMMARY\t0\tElapsed\t12`);
    expect(lines).toContain(`${m.target.key}\tsummary\tSTATUS\t0\tMsg\tSummary`);
  });

  // `probe --json > file` on a full disk: the output is lost, so cron must see a failure.
  it.skipIf(!existsSync('/dev/full'))('an output it cannot write is one line and exit 1', async () => {
    const m = await miner(stockAntminer());
    const full = openSync('/dev/full', 'w');
    try {
      const child = spawn(
        process.execPath,
        ['bin/hashctl', 'probe', m.target.key, '--command', 'summary', '--json'],
        {
          cwd: fileURLToPath(new URL('../..', import.meta.url)),
          stdio: ['ignore', full, 'pipe'],
        },
      );
      let stderr = '';
      child.stderr!.on('data', (d) => {
        stderr += d;
      });
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(code).toBe(1);
      expect(stderr.trim()).toBe('hashctl: cannot write the output: ENOSPC');
    } finally {
      closeSync(full);
    }
  });

  it('refuses bad input with exit 2 and one line, before any traffic', async () => {
    const m = await miner(stockAntminer());
    const cases = [
      ['probe', m.target.key, '--command', 'Summary'],
      ['probe', m.target.key, '--command', 'summary|pools'],
      ['probe', m.target.key, '--command', 'summary,'],
      ['probe', m.target.key, '--command', 'summary,pools', '--param', '1'],
      ['probe', m.target.key, '--command', 'switchpool', '--param', 'one'],
      // Writes (and commands not known as reads) go through control, never probe.
      ['probe', m.target.key, '--command', 'restart'],
      ['probe', m.target.key, '--command', 'summary,quit'],
      ['probe', m.target.key, '--command', 'pools+restart'],
      ['probe', m.target.key, '--command', 'addpool', '--param', 'stratum+tcp://pool.invalid:3333,w,x'],
      ['probe', m.target.key, '--command', 'frobnicate'],
      ['probe', m.target.key, '10.0.0.999', '--command', 'summary'],
      ['probe', m.target.key, '--command', 'summary', '--timeout', 'soon'],
      ['probe', m.target.key, '--command', 'summary', '--wide'],
    ];
    for (const args of cases) {
      const run = await runHashctl(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(run.stdout).toBe('');
    }
    expect(m.connections).toBe(0);
  });

  it('points a refused write at the control command that takes it: addpool at control addpool, not raw', async () => {
    const m = await miner(stockAntminer());
    // control raw refuses addpool (its password would come from a flag): the pointer must not lead there.
    for (const command of ['addpool']) {
      const run = await runHashctl([
        'probe',
        m.target.key,
        '--command',
        command,
        '--param',
        'stratum+tcp://p.invalid:3333,w,x',
      ]);
      expect(run.code, command).toBe(2);
      expect(run.stderr, command).toContain(
        '`hashctl control addpool URL USER TARGETS --password-file FILE`',
      );
      expect(run.stderr, command).not.toContain('control raw');
    }
    const restart = await runHashctl(['probe', m.target.key, '--command', 'restart']);
    expect(restart.stderr).toContain('`hashctl control raw restart TARGETS`');
    expect(m.connections).toBe(0);
  });

  it('stops starting targets on Ctrl-C and exits 130', async () => {
    const silent = await Promise.all([1, 2, 3, 4].map(() => miner({ kind: 'silent' })));
    const { child, done } = startHashctl([
      'probe',
      ...silent.map((m) => m.target.key),
      '--command',
      'summary',
      '--json',
      '--concurrency',
      '1',
      '--timeout',
      '1s',
      '--retries',
      '0',
    ]);
    for (let i = 0; i < 200 && silent[0]?.connections === 0; i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    const contacted = silent.reduce((sum, m) => sum + m.connections, 0);
    expect(contacted).toBeLessThan(4);
    expect(JSON.parse(run.stdout).results.length).toBe(contacted);
  });
});

describe('hashctl probe --dump', () => {
  it('writes the exact bytes per target and command, failed decodes included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashctl-dump-'));
    dirs.push(dir);
    const garbage = '{:::} not json';
    const m = await miner((request) => {
      const { command } = JSON.parse(request) as { command: string };
      return command === 'summary'
        ? { kind: 'reply', bytes: SUMMARY }
        : { kind: 'reply', bytes: garbage, nul: false };
    });
    const run = await runHashctl([
      'probe',
      m.target.key,
      '--command',
      'summary,stats',
      '--dump',
      dir,
      '--retries',
      '0',
    ]);
    expect(run.code).toBe(1);
    expect(readdirSync(dir).sort()).toEqual([
      `127.0.0.1_${m.port}__stats.raw`,
      `127.0.0.1_${m.port}__summary.raw`,
    ]);
    expect(readFileSync(join(dir, `127.0.0.1_${m.port}__summary.raw`))).toEqual(Buffer.from(`${SUMMARY}\0`));
    expect(readFileSync(join(dir, `127.0.0.1_${m.port}__stats.raw`)).toString()).toBe(garbage);
    expect(run.stderr).toContain('parse');
    expect(run.stderr).toContain('wrote 2 raw replies');
  });

  it('writes no file for a miner that sent no byte: refused, silent or closed at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashctl-dump-'));
    dirs.push(dir);
    const good = await miner({ kind: 'reply', bytes: SUMMARY });
    const silent = await miner({ kind: 'silent' });
    const closed = await miner({ kind: 'close' });
    const refused = await closedPort();
    const run = await runHashctl([
      'probe',
      good.target.key,
      silent.target.key,
      closed.target.key,
      `127.0.0.1:${refused}`,
      '--command',
      'summary',
      '--dump',
      dir,
      '--timeout',
      '300ms',
      '--retries',
      '0',
    ]);
    expect(run.code).toBe(1);
    // Each used to leave an empty .raw (a miner that "answered nothing") and a note that the bytes
    // received were in it.
    expect(readdirSync(dir)).toEqual([`127.0.0.1_${good.port}__summary.raw`]);
    expect(run.stderr).not.toContain('the bytes received are in');
    expect(run.stderr).toContain('wrote 1 raw reply to');
    for (const kind of ['timeout', 'empty_reply', 'refused']) expect(run.stdout).toContain(`\t${kind}\t`);
  });

  it('a --dump directory that cannot be made (a file in the way) is exit 2, before any traffic', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashctl-dump-'));
    dirs.push(dir);
    const file = join(dir, 'replies');
    writeFileSync(file, '');
    const m = await miner({ kind: 'reply', bytes: SUMMARY });
    for (const where of [file, join(file, 'under')]) {
      const run = await runHashctl(['probe', m.target.key, '--command', 'summary', '--dump', where]);
      expect(run.code, where).toBe(2);
      expect(run.stderr.trim().split('\n'), where).toHaveLength(1);
      expect(run.stderr, where).toContain(`cannot create --dump directory '${where}'`);
      expect(run.stdout, where).toBe('');
    }
    expect(m.connections).toBe(0);
  });

  it.runIf(process.platform === 'linux')(
    'a --dump directory that exists but takes no file (/proc) is exit 2 before any traffic, not exit 1 after it',
    async () => {
      const m = await miner({ kind: 'reply', bytes: SUMMARY });
      const run = await runHashctl(['probe', m.target.key, '--command', 'summary', '--dump', '/proc']);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain(
        "cannot write into --dump directory '/proc': its folder '/proc' does not take new files",
      );
      expect(run.stdout).toBe('');
      expect(m.connections).toBe(0);
    },
  );

  it('a dump file that cannot be written is one line and exit 1; every reply is still shown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashctl-dump-'));
    dirs.push(dir);
    const m = await miner({ kind: 'reply', bytes: SUMMARY });
    // A folder where the summary's file should go.
    mkdirSync(join(dir, `127.0.0.1_${m.port}__summary.raw`));
    const run = await runHashctl([
      'probe',
      m.target.key,
      '--command',
      'summary,pools',
      '--dump',
      dir,
      '--json',
    ]);
    expect(run.code).toBe(1);
    expect(Object.keys(JSON.parse(run.stdout).responses)).toEqual(['summary', 'pools']);
    expect(run.stderr).toContain(
      `cannot write ${join(dir, `127.0.0.1_${m.port}__summary.raw`)}: it is a folder (EISDIR)`,
    );
    expect(readdirSync(dir)).toContain(`127.0.0.1_${m.port}__pools.raw`);
  });

  it('dumps the default read commands when no --command is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashctl-dump-'));
    dirs.push(dir);
    const m = await miner(stockAntminer());
    const run = await runHashctl(['probe', m.target.key, '--dump', dir, '--json']);
    expect(run.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(
      ['devs', 'pools', 'stats', 'summary', 'version'].map((c) => `127.0.0.1_${m.port}__${c}.raw`),
    );
    expect(Object.keys(JSON.parse(run.stdout).responses)).toEqual([
      'version',
      'summary',
      'pools',
      'devs',
      'stats',
    ]);
  });
});
