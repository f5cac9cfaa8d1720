// Every subcommand shares the same manners: a description, --help that exits 0, exit 2 with one
// clear line on an unknown flag, and no stack trace without --debug.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { EXIT } from '../../src/errors.js';
import { programForTests } from '../support/program.js';

function commandNames(): string[] {
  const program = programForTests();
  return program.commands.map((command) => command.name()).filter((name) => name !== 'help');
}

describe('shared command manners', () => {
  const names = commandNames();

  it('registers the commands of the design', () => {
    for (const expected of [
      'probe',
      'scan',
      'collect',
      'live',
      'history',
      'export',
      'upload',
      'simulate',
      'thermal',
      'audit',
      'schema',
    ]) {
      expect(names).toContain(expected);
    }
  });

  for (const name of names) {
    it(`${name}: has a description and --help exits 0`, async () => {
      const ctx = memoryContext();
      const command = programForTests().commands.find((c) => c.name() === name)!;
      expect(command.description().length).toBeGreaterThan(10);
      const code = await runCli([name, '--help'], ctx);
      expect(code).toBe(EXIT.ok);
      expect(ctx.out()).toContain(`Usage: hashctl ${name}`);
    });

    it(`${name}: an unknown flag exits 2 with one line and no stack`, async () => {
      const ctx = memoryContext();
      const code = await runCli([name, '--no-such-flag'], ctx);
      expect(code).toBe(EXIT.usage);
      expect(ctx.err()).toMatch(/unknown option '--no-such-flag'/);
      expect(ctx.err()).not.toMatch(/\n\s+at /);
    });
  }

  it('help NAME [SUB] is NAME [SUB] --help; an unknown name is one line and exit 2', async () => {
    const nested = memoryContext();
    expect(await runCli(['help', 'thermal', 'posture'], nested)).toBe(EXIT.ok);
    expect(nested.out()).toContain('Usage: hashctl thermal posture');
    const unknown = memoryContext();
    expect(await runCli(['help', 'nonexist'], unknown)).toBe(EXIT.usage);
    expect(unknown.err()).toBe("hashctl: unknown command 'nonexist' (see hashctl --help)\n");
    expect(unknown.out()).toBe('');
    const unknownSub = memoryContext();
    expect(await runCli(['help', 'control', 'nosuch'], unknownSub)).toBe(EXIT.usage);
    expect(unknownSub.err()).toBe("hashctl: unknown command 'control nosuch' (see hashctl control --help)\n");
  });

  it('prints version and commit', async () => {
    const ctx = memoryContext();
    expect(await runCli(['--version'], ctx)).toBe(EXIT.ok);
    expect(ctx.out()).toMatch(/^hashctl \S+ \(commit \S+\)/);
  });

  it('runs in a working directory deleted under it: no stack trace, absolute paths work', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashctl-gone-'));
    const bin = join(__dirname, '..', '..', 'bin', 'hashctl');
    try {
      const run = (args: string) =>
        spawnSync(
          'sh',
          ['-c', `mkdir gone && cd gone && rmdir ../gone && "${process.execPath}" "${bin}" ${args}`],
          {
            cwd: dir,
            encoding: 'utf8',
            env: { PATH: process.env.PATH ?? '', HOME: dir },
          },
        );
      const version = run('--version');
      expect(version.status).toBe(0);
      expect(version.stderr).toBe('');
      const relative = run('live --db rel.db');
      expect(relative.status).toBe(1);
      expect(relative.stderr).toMatch(/^hashctl: no database at .*rel\.db[^\n]*\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(process.platform !== 'linux')(
    'a working directory deleted under it, with no $PWD (env -i, a service): relative paths never land in /',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'hashctl-gone-'));
      const bin = join(__dirname, '..', '..', 'bin', 'hashctl');
      try {
        // `live` only reads: on the old code it resolved rel.db to /rel.db (so `collect --db rel.db`
        // created /rel.db, as root), here it just names the path it looked at.
        const script = `mkdir gone && cd gone && rmdir ../gone && exec env -u PWD "${process.execPath}" "${bin}" live --db rel.db`;
        const relative = spawnSync('sh', ['-c', script], {
          cwd: dir,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', HOME: dir },
        });
        expect(relative.status).toBe(1);
        expect(relative.stderr).toMatch(/^hashctl: no database at \S*rel\.db[^\n]*\n$/);
        expect(relative.stderr).not.toMatch(/ at \/rel\.db/);
        // With $PWD (sh sets it), collect's mkdir -p recreated the deleted folder and wrote there.
        const collect = spawnSync(
          'sh',
          [
            '-c',
            `mkdir gone && cd gone && rmdir ../gone && exec "${process.execPath}" "${bin}" collect --once --targets 127.0.0.1:9 --timeout 1s --db rel.db`,
          ],
          { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir } },
        );
        expect(collect.status).toBe(1);
        expect(collect.stderr).toMatch(/rel\.db/);
        expect(existsSync(join(dir, 'gone'))).toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('a bad global duration is a usage error naming the flag', async () => {
    const ctx = memoryContext();
    const code = await runCli(['probe', '127.0.0.1:1', '--command', 'summary', '--timeout', 'soon'], ctx);
    expect(code).toBe(EXIT.usage);
    expect(ctx.err()).toContain('--timeout');
  });

  // A Node timer holds at most 2^31-1 ms: a longer wait would fire at once, again and again.
  it.each([
    [['scan', '127.0.0.1', '--reply-timeout', '25d'], '--reply-timeout'],
    [['upload', '--endpoint', 'http://127.0.0.1:9', '--request-timeout', '25d'], '--request-timeout'],
    [['upload', '--endpoint', 'http://127.0.0.1:9', '--connect-timeout', '30d'], '--connect-timeout'],
    [['upload', '--endpoint', 'http://127.0.0.1:9', '--deadline', '99999d'], '--deadline'],
    [['control', 'restart', '127.0.0.1:1', '--verify-timeout', '25d'], '--verify-timeout'],
    [['control', 'restart', '127.0.0.1:1', '--batch', '2', '--stagger', '25d'], '--stagger'],
    [['thermal', 'check', '127.0.0.1:1', '--protect', '--verify-timeout', '25d'], '--verify-timeout'],
  ])("%j: a wait past a timer's range is a usage error, before any traffic", async (argv, flag) => {
    const ctx = memoryContext();
    expect(await runCli(argv, ctx)).toBe(EXIT.usage);
    expect(ctx.err().trim()).toMatch(new RegExp(`^hashctl: invalid ${flag} '\\d+d': at most 24d$`));
  });

  // A read-back given no time judged the write on one read made at once: a restart that was sent
  // came back `unknown`, exit 1. Sending without read-back is --no-verify.
  it.each([
    [
      ['control', 'restart', '127.0.0.1:1', '--yes', '--verify-timeout', '0'],
      /\(--no-verify sends without reading back\)$/,
    ],
    [
      ['thermal', 'check', '127.0.0.1:1', '--protect', '--yes', '--verify-timeout', '0s'],
      /must be more than 0$/,
    ],
  ])('%j: a zero --verify-timeout is a usage error, before any traffic', async (argv, message) => {
    const ctx = memoryContext();
    expect(await runCli(argv, ctx)).toBe(EXIT.usage);
    expect(ctx.err().trim()).toMatch(/^hashctl: invalid --verify-timeout '0s?': /);
    expect(ctx.err().trim()).toMatch(message);
  });

  // Before any traffic: a /0 typed by mistake would sweep the Internet; a /8 would exhaust memory.
  it.each([
    [['scan', '10.0.0.0/0'], 'the targets name 4,294,967,294 addresses; at most 16,777,216 per run: split'],
    // A /8 on two ports is 16,777,216 addresses: what is over the limit is the endpoints.
    [
      ['scan', '127.0.0.0/8', '--port', '4028,4029'],
      'the targets name 33,554,432 endpoints (addresses × 2 ports); at most 16,777,216 per run: split',
    ],
    [
      ['probe', '127.0.0.0/8'],
      'the targets name 16,777,216 addresses; at most 65,536 per run: find the miners',
    ],
    [['audit', '127.0.0.0/8'], 'at most 65,536 per run'],
    [['thermal', 'check', '127.0.0.0/8'], 'at most 65,536 per run'],
    [['control', 'capabilities', '127.0.0.0/8'], 'at most 65,536 per run'],
  ])('%j: more targets than one run takes is a usage error', async (argv, message) => {
    const ctx = memoryContext();
    expect(await runCli(argv, ctx)).toBe(EXIT.usage);
    expect(ctx.err()).toContain(message);
  });

  it.each([
    [['export', '--json', '--format', 'csv'], '--json and --format csv cannot be used together'],
    [['export', '--ndjson', '--format', 'csv'], '--ndjson and --format csv cannot be used together'],
    [['export', '--json', '--format', 'xml'], "invalid --format 'xml': use csv or ndjson"],
  ])('%j: a format that contradicts another is a usage error', async (argv, message) => {
    const ctx = memoryContext();
    expect(await runCli(argv, ctx)).toBe(EXIT.usage);
    expect(ctx.err().trim()).toBe(`hashctl: ${message}`);
  });

  it('a target list larger than any inventory is refused, not read into memory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashctl-targets-'));
    try {
      const file = join(dir, 'huge.txt');
      writeFileSync(file, '');
      truncateSync(file, 65 * 1024 * 1024);
      const ctx = memoryContext();
      expect(await runCli(['probe', `@${file}`], ctx)).toBe(EXIT.usage);
      expect(ctx.err().trim()).toBe(
        `hashctl: cannot read target file '${file}': the file is larger than 64 MiB: not a list hashctl reads`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--debug ends with where the time went; without it, no such line', async () => {
    const quiet = memoryContext();
    await runCli(['live', '--db', '/nonexistent/hashctl.db'], quiet);
    expect(quiet.err()).not.toContain('the command took');
    const ctx = memoryContext();
    const code = await runCli(['--debug', 'live', '--db', '/nonexistent/hashctl.db'], ctx);
    expect(code).toBe(EXIT.failed);
    expect(ctx.err()).toMatch(/StoreError/);
    expect(ctx.err()).toMatch(/hashctl: the command took \d+ ms \(\d+ ms since the process started\)\n$/);
  });

  it('a command that stops awaiting nothing it can finish is exit 1 with a line, never a silent 0', () => {
    const mainModule = join(__dirname, '..', '..', 'src', 'main.ts');
    const script = (run: string) => `import(${JSON.stringify(mainModule)}).then(({ main }) => main(${run}));`;
    const spawn = (run: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', script(run)], { encoding: 'utf8' });
    const stuck = spawn('() => new Promise(() => {})');
    expect(stuck.status).toBe(EXIT.failed);
    expect(stuck.stderr).toBe('hashctl: internal error: the command stopped before it finished\n');
    const done = spawn('async () => 0');
    expect(done.status).toBe(EXIT.ok);
    expect(done.stderr).toBe('');
  });
});
