// `hashctl control`: restart, pool changes, pause/resume and raw writes, done safely (dry run,
// confirmation or --yes, canary and batches, at most one send per miner, read-back verification,
// command_log), plus `control capabilities` (read-only). The work is in src/control/.
import type { Command } from 'commander';
import type { Context } from '../context.js';
import type { CapabilityResult } from '../control/capabilities.js';
import type { ControlAction, ControlRun, TargetControlResult } from '../control/types.js';
import { EXIT, errorMessage, UsageError } from '../errors.js';
import { perTargetJson } from '../output/render.js';
import type { CommandLogStatements } from '../store/command-log.js';
import { parseIntFlag, parseTimerDuration } from '../util/duration.js';
import { clientFromGlobals, targetsFromSpecs } from './miners.js';
import {
  type CommandEnv,
  type GlobalOptions,
  namedFlag,
  type RegisterCommand,
  readerDbPath,
  upgradeNote,
} from './shared.js';

export interface ControlCommandOptions {
  targets: string[];
  action: ControlAction;
  /** addpool without its password yet: read from --password-file or asked on the terminal. */
  passwordFile: string | null;
  /** Whatsminer admin password (restart/pause/resume): this file, else asked on the terminal. */
  adminPasswordFile: string | null;
  dryRun: boolean;
  yes: boolean;
  verify: boolean;
  verifyTimeoutMs: number;
  canary: number;
  batch: number;
  staggerMs: number;
  db: string | undefined;
}

const DEFAULT_VERIFY_TIMEOUT = '30s';
/** The actions Whatsminer maps (power_off, power_on, restart_btminer): they take its admin password. */
const ADMIN_PASSWORD_ACTIONS: ReadonlySet<string> = new Set(['restart', 'pause', 'resume']);

function poolIndex(text: string): number {
  return parseIntFlag(text, 'pool INDEX', 0, 999_999);
}

/** Flags → typed options; every usage problem is found here, before any traffic. */
/**
 * --verify-timeout: 0 sent the write and then judged it on one read made at once (a restart was
 * `unknown`, `not confirmed within 0ms`, exit 1). Sending without read-back is --no-verify.
 */
function verifyTimeout(text: string): number {
  const ms = parseTimerDuration(text, '--verify-timeout');
  if (ms <= 0)
    throw new UsageError(
      `invalid --verify-timeout '${text}': must be more than 0 (--no-verify sends without reading back)`,
    );
  return ms;
}

export function parseControlOptions(
  targets: string[],
  action: ControlAction,
  raw: Record<string, unknown>,
): ControlCommandOptions {
  if (targets.length === 0) throw new UsageError('name the miners (TARGETS)');
  const text = (key: string) => (raw[key] === undefined ? undefined : String(raw[key]));
  const batch =
    text('batch') === undefined ? 0 : parseIntFlag(text('batch') as string, '--batch', 1, 1_000_000);
  const staggerText = text('stagger');
  if (staggerText !== undefined && batch === 0)
    throw new UsageError('--stagger spaces batches: give --batch N too');
  const passwordFile = text('passwordFile') ?? null;
  if (passwordFile !== null && action.name !== 'addpool')
    throw new UsageError('--password-file applies to addpool only');
  namedFlag(raw, 'passwordFile', '--password-file', 'a file name');
  const adminPasswordFile = text('adminPasswordFile') ?? null;
  if (adminPasswordFile !== null && !ADMIN_PASSWORD_ACTIONS.has(action.name))
    throw new UsageError('--admin-password-file applies to restart, pause and resume (Whatsminer)');
  namedFlag(raw, 'adminPasswordFile', '--admin-password-file', 'a file name');
  const verify = raw.verify !== false;
  if (!verify && text('verifyTimeout') !== undefined)
    throw new UsageError('--verify-timeout and --no-verify contradict');
  // A canary passes only when read back as done: without read-back nothing can pass, and letting
  // a merely acknowledged write through would roll out what was never checked.
  if (!verify && text('canary') !== undefined)
    throw new UsageError('--canary needs read-back to judge the canary: drop --no-verify');
  if (action.name === 'raw' && text('canary') !== undefined)
    throw new UsageError('--canary needs read-back to judge the canary, and raw commands are not read back');
  return {
    targets,
    action,
    passwordFile,
    adminPasswordFile,
    dryRun: raw.dryRun === true,
    yes: raw.yes === true,
    verify,
    verifyTimeoutMs: verifyTimeout(text('verifyTimeout') ?? DEFAULT_VERIFY_TIMEOUT),
    canary:
      text('canary') === undefined ? 0 : parseIntFlag(text('canary') as string, '--canary', 1, 1_000_000),
    batch,
    staggerMs: staggerText === undefined ? 0 : parseTimerDuration(staggerText, '--stagger'),
    // Checked here, not only where the log is opened: a dry run opens none, and passed what the
    // real run then refused.
    db: namedFlag(raw, 'db', '--db', 'a database file name'),
  };
}

/** The most a password file may hold (as the upload key file): one line, not a log or an image. */
const MAX_PASSWORD_FILE_BYTES = 4096;

async function readPasswordFile(
  file: string,
  ctx: Context,
  flag = '--password-file',
  emptyHint = 'cgminer needs a password (use x)',
): Promise<string> {
  const { resolve } = await import('node:path');
  const { readCapped } = await import('../util/read-capped.js');
  // At most MAX_PASSWORD_FILE_BYTES and one byte more are read: a log or an image named by mistake,
  // or a pipe that never ends, was read whole into memory for its first line. Opened without
  // blocking: a FIFO nobody writes to held the run in open() for ever, deaf to SIGTERM.
  let bytes: Buffer | null;
  try {
    bytes = readCapped(resolve(ctx.cwd, file), MAX_PASSWORD_FILE_BYTES);
  } catch (error) {
    throw new UsageError(
      `cannot read ${flag} '${file}': ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`,
    );
  }
  if (bytes === null)
    throw new UsageError(
      `${flag} '${file}' is larger than ${MAX_PASSWORD_FILE_BYTES} bytes: it should hold only the password`,
    );
  const content = bytes.toString('utf8');
  // A byte-order mark (Notepad, PowerShell's UTF8) is the file's, not the password's first character.
  const password = content.replace(/^\ufeff/, '').split(/\r?\n/)[0] ?? '';
  if (password === '') throw new UsageError(`${flag} '${file}' is empty: ${emptyHint}`);
  return password;
}

/**
 * Why no question can be asked on stdin, or null when one can: it is no terminal, or the targets
 * were read from it (`-`): a terminal that gave its Ctrl-D has ended, and a question there would
 * wait for an answer that never comes (the run then ended with exit 0, having done nothing).
 */
export function noTerminalToAsk(targets: readonly string[], ctx: Pick<Context, 'stdin'>): string | null {
  if (ctx.stdin.isTTY !== true) return 'stdin is not a terminal';
  if (targets.includes('-')) return 'stdin held the targets';
  return null;
}

/**
 * The Whatsminer admin password, for runControlAction to ask once when a Whatsminer is to be
 * written: the file is read now (an unreadable one is exit 2 before any traffic); without it, a
 * terminal is asked with echo off; with neither, null (those miners are skipped, and say why).
 */
async function adminPasswordSource(
  opts: ControlCommandOptions,
  ctx: Context,
): Promise<(() => Promise<string | null>) | undefined> {
  if (!ADMIN_PASSWORD_ACTIONS.has(opts.action.name) || opts.dryRun) return undefined;
  return whatsminerPasswordSource(opts.adminPasswordFile, ctx, noTerminalToAsk(opts.targets, ctx) === null);
}

/** `--admin-password-file` read now, else a terminal asked when needed, else none (control, thermal --protect). */
export async function whatsminerPasswordSource(
  file: string | null,
  ctx: Context,
  canAsk: boolean = ctx.stdin.isTTY === true,
): Promise<(() => Promise<string | null>) | undefined> {
  if (file !== null) {
    const password = await readPasswordFile(
      file,
      ctx,
      '--admin-password-file',
      'give the Whatsminer admin password on its first line',
    );
    return () => Promise.resolve(password);
  }
  if (!canAsk) return undefined;
  return async () => {
    const { askPassword } = await import('../control/prompt.js');
    const password = await askPassword(ctx, 'Whatsminer admin password: ');
    return password === '' ? null : password;
  };
}

/**
 * The pool password: from the file, else asked on the terminal with echo off. Never a flag value.
 * One that cannot be sent is refused naming where it came from, never quoting it.
 */
async function resolveAction(opts: ControlCommandOptions, ctx: Context): Promise<ControlAction> {
  const action = opts.action;
  if (action.name !== 'addpool' || action.password !== '') return action;
  const { addpoolFieldProblem } = await import('../control/dialects.js');
  const checked = (password: string, source: string): ControlAction => {
    const problem = addpoolFieldProblem(password);
    if (problem !== null) throw new UsageError(`cannot send addpool: ${source} ${problem}`);
    return { ...action, password };
  };
  if (opts.passwordFile !== null)
    return checked(await readPasswordFile(opts.passwordFile, ctx), `the password from ${opts.passwordFile}`);
  // A dry run sends nothing and shows the password as ***: no need to have it, nor to ask for it.
  if (opts.dryRun) return { ...action, password: 'x' };
  const noTerminal = noTerminalToAsk(opts.targets, ctx);
  if (noTerminal !== null) {
    throw new UsageError(`addpool needs the pool password: give --password-file FILE (${noTerminal})`);
  }
  const [{ askPassword }, { maskUrlCredentials }] = await Promise.all([
    import('../control/prompt.js'),
    import('../util/url-credentials.js'),
  ]);
  const password = await askPassword(
    ctx,
    `password for ${action.user} on ${maskUrlCredentials(action.url)}: `,
  );
  if (password === '') throw new UsageError('an empty pool password is refused by cgminer (use x)');
  return checked(password, 'the password typed');
}

async function openCommandLog(
  flag: string | undefined,
  globals: GlobalOptions,
  ctx: Context,
  modules: {
    openStore: typeof import('../store/open.js').openStore;
    resolveDbPath: typeof import('../store/paths.js').resolveDbPath;
    commandLogStatements: typeof import('../store/command-log.js').commandLogStatements;
  },
): Promise<{ log: CommandLogStatements | null; close: () => void }> {
  // An empty --db is a usage error before any traffic, as everywhere.
  const named = flag === undefined ? null : modules.resolveDbPath(flag, ctx.env, ctx.cwd);
  try {
    // The farm's database: without --db, the `db` of $HASHCTL_CONFIG first, as collect, live and
    // thermal check find it. The command log went to $HASHCTL_DB or the default instead, where
    // `live` and `thermal check` never saw a `control pause`: the paused miner was judged as
    // "dead boards" and a fan alarm on the next check.
    const file = named ?? (await readerDbPath({}, ctx));
    const store = modules.openStore(file, { onUpgrade: upgradeNote(globals, ctx) });
    return { log: store.prepared(modules.commandLogStatements), close: () => store.close() };
  } catch (error) {
    // An emergency restart must not wait on a broken or read-only database: say so and go on.
    if (!globals.quiet || flag !== undefined) {
      ctx.stderr.write(
        `hashctl: command log unavailable (${errorMessage(error)}); continuing without an audit trail\n`,
      );
    }
    return { log: null, close: () => {} };
  }
}

export async function runControl(
  opts: ControlCommandOptions,
  globals: GlobalOptions,
  ctx: Context,
): Promise<number> {
  const noTerminal = noTerminalToAsk(opts.targets, ctx);
  const interactive = noTerminal === null;
  // A malformed target names itself (exit 2) before the refusal below: adding --yes only to be told
  // of the target next is two runs for one mistake. `-` is read once, after it.
  const listed = opts.targets.includes('-') ? null : await targetsFromSpecs(opts.targets, globals, ctx);
  // Before any traffic: a write needs a yes, from the flag or from a person at a terminal.
  if (!opts.dryRun && !opts.yes && !interactive) {
    throw new UsageError(`refusing to send writes without confirmation: pass --yes (${noTerminal})`);
  }
  const { validateAction } = await import('../control/dialects.js');
  validateAction(opts.action.name === 'addpool' ? { ...opts.action, password: 'x' } : opts.action);
  const targets = listed ?? (await targetsFromSpecs(opts.targets, globals, ctx));
  const action = await resolveAction(opts, ctx);
  const adminPassword = await adminPasswordSource(opts, ctx);

  const [{ runControlAction }, prompt, store, paths, commandLog] = await Promise.all([
    import('../control/run.js'),
    import('../control/prompt.js'),
    import('../store/open.js'),
    import('../store/paths.js'),
    import('../store/command-log.js'),
  ]);
  const client = await clientFromGlobals(globals, ctx);
  const audit = opts.dryRun
    ? { log: null, close: () => {} }
    : await openCommandLog(opts.db, globals, ctx, {
        openStore: store.openStore,
        resolveDbPath: paths.resolveDbPath,
        commandLogStatements: commandLog.commandLogStatements,
      });
  let run: ControlRun;
  try {
    run = await runControlAction(
      action,
      targets,
      {
        dryRun: opts.dryRun,
        yes: opts.yes,
        ...(opts.yes || !interactive
          ? {}
          : {
              confirm: (summary) => {
                const extra = [
                  summary.unsupported > 0 ? `${summary.unsupported} unsupported` : '',
                  summary.unreachable > 0 ? `${summary.unreachable} unreachable` : '',
                ].filter((part) => part !== '');
                const noun = summary.miners === 1 ? 'miner' : 'miners';
                // The named pool already reads Dead: said, not asked about (the question stays y/N).
                return prompt.confirmOnTty(
                  ctx,
                  `${summary.note === undefined ? '' : `note: ${summary.note}\n`}${summary.description} on ${summary.miners} ${noun}${extra.length > 0 ? ` (${extra.join(', ')} left out)` : ''}?`,
                );
              },
            }),
        verify: opts.verify,
        verifyTimeoutMs: opts.verifyTimeoutMs,
        canary: opts.canary,
        batch: opts.batch,
        staggerMs: opts.staggerMs,
        concurrency: globals.concurrency ?? 64,
        resolveTimeoutMs: globals.timeoutMs,
        client,
        log: audit.log,
        onLogError: (error) =>
          ctx.stderr.write(
            `hashctl: command log write failed (${errorMessage(error)}); continuing without it\n`,
          ),
        actor: prompt.actorName(ctx.env),
        source: 'cli',
        ...(adminPassword ? { adminPassword } : {}),
        wire: { timeoutMs: globals.timeoutMs, maxBytes: globals.maxBytes, retries: globals.retries },
      },
      ctx,
    );
  } finally {
    audit.close();
  }
  if (run.results.length === 0 && !run.interrupted) throw new UsageError('no miners in the targets given');
  await writeControlResults(run, targets.singleHost, globals, ctx);
  if (run.dryRun && run.note !== undefined && !globals.quiet) ctx.stderr.write(`note: ${run.note}\n`);
  if (run.interrupted) {
    // Said as every command says it: the table (or a summary of "no miners") alone read as a run
    // over fewer miners than named, with nothing about the ones left out.
    if (!globals.quiet)
      ctx.stderr.write(
        'hashctl: interrupted; miners not yet read or started were left out (nothing sent to them)\n',
      );
    return EXIT.interrupted;
  }
  if (run.declined) {
    if (!globals.quiet) ctx.stderr.write('hashctl: not confirmed; nothing was sent\n');
    return EXIT.failed;
  }
  return run.results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
}

function detailOf(result: TargetControlResult): string {
  const parts: string[] = [];
  if (result.error) parts.push(result.error.message);
  // An unverified write's error is its read-back's detail: said once.
  if (result.verification && !parts.includes(result.verification.detail))
    parts.push(result.verification.detail);
  if (result.verification?.warning) parts.push(`warning: ${result.verification.warning}`);
  return parts.join('; ') || '-';
}

/**
 * The `--json` document of a control run (README, Control): for one single host, that miner's
 * per-target object with the run's fields after its own; otherwise the run's fields, then `results`.
 * No run field shares a name with a target's, so neither hides the other.
 */
function controlJson(run: ControlRun, singleHost: boolean): Record<string, unknown> {
  const fields = { action: run.description, dry_run: run.dryRun, run_id: run.runId };
  const document = perTargetJson(run.results, singleHost);
  return 'results' in document ? { ...fields, ...document } : { ...document, ...fields };
}

export async function writeControlResults(
  run: ControlRun,
  singleHost: boolean,
  globals: GlobalOptions,
  ctx: Context,
): Promise<void> {
  const { palette, writeJson, writeTable } = await import('../output/render.js');
  if (globals.json) {
    writeJson(ctx.stdout, controlJson(run, singleHost));
    return;
  }
  const paint = await palette(globals.color);
  // Verified with a warning (a pool switched to that is Dead): done, yet not what it was for.
  const colour = (result: TargetControlResult) =>
    result.ok
      ? result.verification?.warning
        ? paint.yellow
        : paint.green
      : result.result === 'skipped' || result.result === 'unsupported'
        ? paint.dim
        : paint.red;
  const rows = run.results.map((r) => [
    r.target,
    r.dialect ?? '-',
    colour(r)(r.result),
    (r.requests ?? (r.request === null ? [] : [r.request])).join(' → ') || '-',
    detailOf(r),
  ]);
  await writeTable(ctx.stdout, ['target', 'dialect', 'result', 'request', 'detail'], rows);
  if (!globals.quiet) {
    const counts = new Map<string, number>();
    for (const r of run.results) counts.set(r.result, (counts.get(r.result) ?? 0) + 1);
    const warned = run.results.filter((r) => r.verification?.warning).length;
    const summary = [...counts.entries()]
      .map(
        ([result, n]) =>
          `${n} ${result}${result === 'verified' && warned > 0 ? ` (${warned} with a warning: see detail)` : ''}`,
      )
      .join(', ');
    const note = run.dryRun ? ' (dry run: nothing sent)' : '';
    const none = run.interrupted ? 'no miner reached before the interrupt' : 'no miners';
    ctx.stderr.write(`${run.description}: ${summary || none}${note}\n`);
  }
}

// ------------------------------------------------------------------------------------ capabilities

export async function runCapabilities(
  targetSpecs: string[],
  globals: GlobalOptions,
  ctx: Context,
): Promise<number> {
  const { probeAllCapabilities } = await import('../control/capabilities.js');
  const { DIALECT_ACTIONS } = await import('../control/types.js');
  const targets = await targetsFromSpecs(targetSpecs, globals, ctx);
  const client = await clientFromGlobals(globals, ctx);
  const results: CapabilityResult[] = await probeAllCapabilities(
    client,
    targets,
    globals.concurrency ?? 64,
    ctx,
  );
  const { writeJson, writeTable } = await import('../output/render.js');
  if (globals.json) {
    writeJson(ctx.stdout, perTargetJson(results, targets.singleHost));
  } else {
    const access = (value: boolean | null) => (value === null ? '?' : value ? 'yes' : 'no');
    const rows = results.map((r) =>
      r.error
        ? [r.target, '-', '-', ...DIALECT_ACTIONS.map(() => '-'), `${r.error.kind}: ${r.error.message}`]
        : [
            r.target,
            r.dialect ?? '-',
            access(r.write_access),
            ...DIALECT_ACTIONS.map((a) => r.actions[a] ?? '-'),
            '-',
          ],
    );
    await writeTable(ctx.stdout, ['target', 'dialect', 'write', ...DIALECT_ACTIONS, 'error'], rows);
  }
  if (ctx.signal.aborted) {
    if (!globals.quiet) ctx.stderr.write('hashctl: interrupted; miners not yet read were skipped\n');
    return EXIT.interrupted;
  }
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
}

// ---------------------------------------------------------------------------------------- register

function withWriteFlags(command: Command): Command {
  return command
    .option('--dry-run', 'print the exact request per miner; send nothing')
    .option('-y, --yes', 'do not ask (required when stdin is not a terminal)')
    .option('--canary <n>', 'do N miners first; stop (the rest skipped) unless all are verified')
    .option('--batch <n>', 'after the canary, N miners per batch')
    .option('--stagger <duration>', 'pause between batches (e.g. 10s)')
    .option(
      '--verify-timeout <duration>',
      `how long to read back for the change (default ${DEFAULT_VERIFY_TIMEOUT})`,
    )
    .option('--no-verify', 'report `sent` once the miner acknowledges; no read-back')
    .option(
      '--db <path>',
      "database for command_log (default: $HASHCTL_CONFIG's db, else $HASHCTL_DB, else the XDG data dir)",
    );
}

const POOL_INDEX_HELP = "the pool's number on the miner, as `probe HOST --command pools` shows it (0, 1, …)";

export const registerControl: RegisterCommand = (program, env) => {
  const control = program
    .command('control')
    .description('restart miners, change pools, pause/resume, safely: dry run, canary, read-back, audit log');

  const action = (
    name: string,
    description: string,
    args: (readonly [string, string])[],
    build: (values: string[]) => ControlAction,
  ) => {
    const sub = control.command(name).description(description);
    // Each argument says what it takes: `--help` showed a bare `index` or `command`.
    for (const [arg, help] of args) sub.argument(arg, help);
    sub.argument('<targets...>', 'miners (HOST[:PORT], CIDR, range, @FILE, -)');
    withWriteFlags(sub);
    return sub.action(async (...params: unknown[]) => {
      const command = params[params.length - 1] as Command;
      const raw = params[params.length - 2] as Record<string, unknown>;
      const values = params.slice(0, args.length) as string[];
      const targets = params[args.length] as string[];
      await execute(env, command, () => parseControlOptions(targets, build(values), raw));
    });
  };

  const adminPasswordFlag = [
    '--admin-password-file <file>',
    'file whose first line is the Whatsminer admin password (else asked on a terminal)',
  ] as const;
  action(
    'restart',
    'restart the mining software; verified by the API coming back with uptime reset',
    [],
    () => ({
      name: 'restart',
    }),
  ).option(...adminPasswordFlag);
  action(
    'pause',
    'stop hashing where the firmware can (LuxOS curtail, Braiins pause, Avalon softoff, Whatsminer power_off)',
    [],
    () => ({
      name: 'pause',
    }),
  ).option(...adminPasswordFlag);
  action('resume', 'resume hashing after pause', [], () => ({ name: 'resume' })).option(...adminPasswordFlag);
  for (const [name, description] of [
    ['switchpool', 'make pool INDEX the top priority'],
    ['enablepool', 'enable pool INDEX'],
    ['disablepool', 'disable pool INDEX'],
    ['removepool', 'remove pool INDEX (miners refuse to remove the active pool)'],
  ] as const) {
    action(name, description, [['<index>', POOL_INDEX_HELP]], ([index]) => ({
      name,
      pool: poolIndex(index ?? ''),
    }));
  }
  action(
    'addpool',
    'add a pool; the password comes from --password-file or a prompt, never a flag',
    [
      ['<url>', 'pool URL (e.g. stratum+tcp://pool.example:3333)'],
      ['<user>', 'pool user (worker), e.g. account.rig7'],
    ],
    ([url, user]) => ({
      name: 'addpool',
      url: url ?? '',
      user: user ?? '',
      password: '',
    }),
  ).option('--password-file <file>', 'file whose first line is the pool password');
  action(
    'raw',
    'send one API command as a write (never retried), for experts',
    [
      [
        '<command>',
        'API command (lower-case letters, digits, _ and ., joined by +); its parameter with --param',
      ],
    ],
    ([command]) => ({
      name: 'raw',
      command: command ?? '',
    }),
  ).option('--param <parameter>', 'the parameter of COMMAND');

  control
    .command('capabilities')
    .description("per miner: the actions its dialect supports and this host's write access (read-only)")
    .argument('<targets...>', 'miners (HOST[:PORT], CIDR, range, @FILE, -)')
    .action(async (targets: string[], _raw: Record<string, unknown>, command: Command) => {
      const globals = env.globals(command);
      env.exit(await runCapabilities(targets, globals, env.ctx));
    });
};

async function execute(env: CommandEnv, command: Command, parse: () => ControlCommandOptions): Promise<void> {
  const globals = env.globals(command);
  const opts = parse();
  if (opts.action.name === 'raw') {
    const raw = command.opts() as Record<string, unknown>;
    if (raw.param !== undefined) opts.action = { ...opts.action, parameter: String(raw.param) };
  }
  env.exit(await runControl(opts, globals, env.ctx));
}
