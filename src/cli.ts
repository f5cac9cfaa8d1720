// The program: global flags, the subcommand registry, and the one place where errors become a
// single line on stderr and an exit code (hashctl.md §3).
import { Command, CommanderError, Option } from 'commander';
import { COMMANDS } from './commands/index.js';
import { type CommandEnv, parseGlobals } from './commands/shared.js';
import type { Context } from './context.js';
import { EXIT, errorMessage, HashctlError, UsageError } from './errors.js';
import { oneLine, terminalSafe } from './output/terminal.js';
import { expandHome } from './store/paths.js';
import { versionLine } from './version.js';

export function buildProgram(ctx: Context, env: CommandEnv): Command {
  const program: Command = new Command('hashctl')
    .description(
      'Probe, scan, collect, control, thermally check and audit ASIC miners (CGMiner API, TCP 4028)',
    )
    .version(versionLine(), '-V, --version', 'print version and commit')
    .addOption(
      new Option('--timeout <duration>', 'response deadline per request (e.g. 500ms, 2s)').default('5s'),
    )
    .addOption(new Option('--retries <n>', 'retries for read-only commands on retriable errors').default('2'))
    .addOption(new Option('--max-bytes <size>', 'largest reply accepted (e.g. 8MiB)').default('8MiB'))
    .addOption(
      new Option('--concurrency <n>', 'miners talked to at once (default: from the open-file limit)'),
    )
    .addOption(
      new Option('--port <port>', 'default miner API port for targets without one')
        .default('4028')
        // Repeated (`scan --port 4028 --port 4029`), every value counts: scan takes the list, the
        // others refuse a second port, rather than the last one quietly winning.
        .argParser((value: string, previous: string | undefined): string =>
          previous === undefined || program.getOptionValueSource('port') === 'default'
            ? value
            : `${previous},${value}`,
        ),
    )
    .option('--json', 'print one JSON document on stdout')
    .option('--no-color', 'no colour in tables')
    .option('-q, --quiet', 'no progress or notes on stderr')
    .option('--debug', 'print stack traces of errors, and the time the command took')
    // A subcommand's --help lists the global flags it takes too (`thermal check --json`), inherited
    // by every subcommand registered below.
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void ctx.stdout.write(s),
      writeErr: (s) => void ctx.stderr.write(s),
      // One line per error, as every other hashctl error (commander adds "Did you mean" on a new line).
      outputError: (s, write) =>
        write(
          `${s
            .replace(/^error: /, 'hashctl: ')
            .trim()
            .replace(/\s*\n\s*/g, ' ')} (see --help)\n`,
        ),
    });
  for (const register of COMMANDS) register(program, env);
  for (const sub of program.commands) sub.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/** Runs one command line and returns the exit code; never throws. */
export async function runCli(argv: string[], ctx: Context): Promise<number> {
  const started = performance.now();
  let exitCode: number = EXIT.ok;
  let debug = argv.includes('--debug');
  const env: CommandEnv = {
    ctx,
    globals: (command) => {
      const globals = parseGlobals(command.optsWithGlobals(), ctx);
      debug = globals.debug;
      return globals;
    },
    exit: (code) => {
      exitCode = code;
    },
  };
  try {
    const program = buildProgram(ctx, env);
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT.usage;
    }
    // `hashctl help thermal posture` is `hashctl thermal posture --help` (commander's own help
    // command knows one level, and answers an unknown name with the whole help on stderr).
    const [first, ...rest] = argv;
    const words = first === 'help' ? rest.filter((word) => !word.startsWith('-')) : [];
    let parent: Command = program;
    for (const [i, word] of words.entries()) {
      // A word past a command without subcommands is an argument; an unknown subcommand is an error.
      if (parent.commands.length === 0) break;
      const next = parent.commands.find((c) => c.name() === word);
      if (!next)
        throw new UsageError(
          `unknown command '${words.slice(0, i + 1).join(' ')}' (see hashctl ${words.slice(0, i).concat('--help').join(' ')})`,
        );
      parent = next;
    }
    const args = expandHomeFlags(program, splitShortFlags(program, argv), ctx.env);
    if (words.length === 0) checkWords(program, args);
    await program.parseAsync(words.length > 0 ? [...words, '--help'] : args, { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, ctx, debug);
  } finally {
    // Where the time of a slow command went: its own work, or starting Node and loading hashctl.
    if (debug) {
      const now = performance.now();
      ctx.stderr.write(
        `hashctl: the command took ${Math.round(now - started)} ms (${Math.round(now)} ms since the process started)\n`,
      );
    }
  }
}

/**
 * `-yq` as `-y -q`. Commander splits grouped short flags only among one command's own: `control
 * restart -yq` failed on "unknown option '-q'" though -q (global) and -y (restart's) both exist.
 * Only a group of known flags that take no value is split; `-1` or `-x` stay as they were.
 */
function splitShortFlags(program: Command, argv: string[]): string[] {
  const shorts = new Set<string>();
  const walk = (command: Command): void => {
    for (const option of command.options)
      if (option.short && !option.required && !option.optional) shorts.add(option.short.slice(1));
    for (const sub of command.commands) walk(sub);
  };
  walk(program);
  shorts.add('h');
  const end = argv.indexOf('--');
  return argv.flatMap((token, i) => {
    if ((end !== -1 && i >= end) || !/^-[A-Za-z]{2,}$/.test(token)) return [token];
    const letters = [...token.slice(1)];
    return letters.every((letter) => shorts.has(letter)) ? letters.map((letter) => `-${letter}`) : [token];
  });
}

/**
 * `--out=~/x` as `--out ~/x`: the shell expands a tilde at the start of a word, not after `=`, and
 * `--out=~/audit.txt` wrote into a folder named `~` under the working directory (`--dump`,
 * `--inventory`, `--log`), or failed to find `~/pools.txt`. Only flags whose value names a file
 * or folder everywhere they appear (`<file>`, `<dir>`, `<path>`); `--site=~x` stays as it is.
 */
function expandHomeFlags(
  program: Command,
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const tilde = /^(--[^=]+)=(~(?:\/.*)?)$/s;
  // Most runs have no such token: the commands' options are walked only for one that does.
  if (!argv.some((token) => tilde.test(token))) return argv;
  const kinds = new Map<string, boolean>();
  const walk = (command: Command): void => {
    for (const option of command.options) {
      if (!option.long || !(option.required || option.optional)) continue;
      const names = /<(file|dir|path)>|\[(file|dir|path)\]/.test(option.flags);
      kinds.set(option.long, (kinds.get(option.long) ?? true) && names);
    }
    for (const sub of command.commands) walk(sub);
  };
  walk(program);
  const end = argv.indexOf('--');
  return argv.map((token, i) => {
    const match = tilde.exec(token);
    if ((end !== -1 && i >= end) || !match || kinds.get(match[1] as string) !== true) return token;
    return `${match[1]}=${expandHome(match[2] as string, env)}`;
  });
}

/** The option `token` (`--db`, `-q`, `--db=x`) names on `command` or a command above it. */
function findOption(command: Command, token: string): Option | undefined {
  const name = token.startsWith('--') ? token.split('=')[0] : token;
  for (let c: Command | null = command; c !== null; c = c.parent) {
    const option = c.options.find((o) => o.long === name || o.short === name);
    if (option) return option;
  }
  return undefined;
}

/** Every flag any command knows (`--yes` after `audit --out` is a flag typed in the wrong place, not a file name). */
function allFlags(program: Command): Set<string> {
  const flags = new Set<string>(['--help', '-h']);
  const walk = (command: Command): void => {
    for (const option of command.options) {
      if (option.long) flags.add(option.long);
      if (option.short) flags.add(option.short);
    }
    for (const sub of command.commands) walk(sub);
  };
  walk(program);
  return flags;
}

/**
 * What commander lets through the command words, checked before it parses:
 * - with --help, commander shows the help of the last command it recognised: `hashctl control
 *   restrat --help` printed control's help and exited 0, the typo unsaid. A word that names no
 *   subcommand where one is expected is the usage error it is without --help;
 * - a flag whose value is missing took the next flag as its value: `thermal check --site --json A
 *   B` checked B alone with site "A" (the global --json was taken first), `audit --out --yes A`
 *   would write a file named `--yes`. A flag hashctl knows is never a value (`--site=--x` is).
 */
function checkWords(program: Command, argv: string[]): void {
  const end = argv.indexOf('--');
  const before = end === -1 ? argv : argv.slice(0, end);
  const help = before.includes('--help') || before.includes('-h');
  const flags = allFlags(program);
  let parent = program;
  let inCommands = true;
  const path: string[] = [];
  for (let i = 0; i < before.length; i++) {
    const token = before[i] as string;
    if (token.startsWith('-') && token.length > 1) {
      const option = findOption(parent, token);
      if (!option || !(option.required || option.optional) || token.includes('=')) continue;
      // The value of a flag (`--timeout 5s`) is not a command word.
      const value = before[i + 1];
      if (value !== undefined && flags.has(value.split('=')[0] as string)) {
        throw new UsageError(
          `${token} needs a value, and ${value} is a flag (write ${token}=${value} if that is the value)`,
        );
      }
      i++;
      continue;
    }
    // A command without subcommands takes arguments; `help` is commander's own.
    if (!inCommands || parent.commands.length === 0 || token === 'help') {
      inCommands = false;
      continue;
    }
    const next = parent.commands.find((c) => c.name() === token || c.aliases().includes(token));
    if (!next) {
      if (!help) {
        inCommands = false; // commander names the unknown command itself
        continue;
      }
      throw new UsageError(
        `unknown command '${[...path, token].join(' ')}' (see hashctl ${[...path, '--help'].join(' ')})`,
      );
    }
    path.push(token);
    parent = next;
  }
}

export function reportError(error: unknown, ctx: Context, debug: boolean): number {
  if (error instanceof CommanderError) {
    // help and version end with exitCode 0; usage errors were already printed by commander.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof HashctlError) {
    // One line, whatever a peer put in the message (an OpenSSL error ends in a newline, a miner's
    // STATUS Msg may hold escape sequences).
    ctx.stderr.write(`hashctl: ${oneLine(error.message)}\n`);
    if (debug) ctx.stderr.write(`${terminalSafe(error.stack ?? '', true)}\n`);
    return error.exitCode;
  }
  ctx.stderr.write(
    `hashctl: internal error: ${oneLine(errorMessage(error))}${debug ? '' : ' (run with --debug for details)'}\n`,
  );
  if (debug && error instanceof Error) ctx.stderr.write(`${terminalSafe(error.stack ?? '', true)}\n`);
  return EXIT.failed;
}
