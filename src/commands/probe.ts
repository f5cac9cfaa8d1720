// `hashctl probe`: normalized snapshots by default (src/miners/probe-view.ts), or with --command the
// decoded replies to raw API commands, and with --dump the exact reply bytes on disk.
import type { Command } from 'commander';
import type { PollHold } from '../cgminer/budget.js';
import type { DecodedReply, MinerClient, PollState, ReplyHold } from '../cgminer/types.js';
import type { Context } from '../context.js';
import { EXIT, HashctlError, MinerError, UsageError } from '../errors.js';
import type { ProbeTargets } from '../miners/probe-view.js';
import type { Palette } from '../output/render.js';
import { oneLine, terminalSafe } from '../output/terminal.js';
import type { Target } from '../targets/types.js';
import { clientFromGlobals, targetsFromSpecs } from './miners.js';
import { collect, type GlobalOptions, namedFlag, type RegisterCommand } from './shared.js';

/** What --dump sends when no --command is given: the reads stock Antminer allows (§7). */
export const DEFAULT_DUMP_COMMANDS = ['version', 'summary', 'pools', 'devs', 'stats'];

export interface ProbeOptions {
  targets: string[];
  /** null: no --command (snapshot view, or the default dump set with --dump). */
  commands: string[] | null;
  parameter: string | null;
  dumpDir: string | null;
  wide: boolean;
  fields: string[] | null;
}

export interface ProbeTargetResult {
  target: string;
  host: string;
  port: number;
  ok: boolean;
  elapsed_ms: number;
  responses: Record<string, Record<string, unknown>>;
  repairs?: Record<string, string[]>;
  /** The first failure; `interrupted` when Ctrl-C cut the target short (exit 130). */
  error?: ReturnType<MinerError['toJSON']> | { kind: 'interrupted'; message: string; attempts: number };
  errors?: Record<string, ReturnType<MinerError['toJSON']>>;
}

/** A list flag: comma-separated, and repeatable (`--command summary --command stats` sends both). */
function listFlag(value: unknown, flag: string): string[] {
  const given = Array.isArray(value) ? value.map(String) : [String(value)];
  const items: string[] = [];
  for (const text of given) {
    const parts = text.split(',').map((item) => item.trim());
    if (parts.some((item) => item === '')) {
      throw new UsageError(`invalid ${flag} '${text}': give a comma-separated list without empty items`);
    }
    items.push(...parts);
  }
  return [...new Set(items)];
}

/** Flags → typed options; every usage problem is found here, before any traffic. */
export async function parseProbeOptions(
  targets: string[],
  raw: Record<string, unknown>,
  json = false,
): Promise<ProbeOptions> {
  const commands = raw.command === undefined ? null : listFlag(raw.command, '--command');
  const parameter = raw.param === undefined ? null : String(raw.param);
  const fields = raw.fields === undefined ? null : listFlag(raw.fields, '--fields');
  const wide = raw.wide === true;
  const dumpDir = namedFlag(raw, 'dump', '--dump', 'a directory') ?? null;
  if (parameter !== null && (commands === null || commands.length !== 1)) {
    throw new UsageError('--param gives the parameter of a single --command');
  }
  // Both choose the columns: --fields silently won, and the --wide the user typed did nothing.
  if (wide && fields !== null) throw new UsageError('--wide and --fields both choose the columns: give one');
  if ((wide || fields !== null) && (commands !== null || dumpDir !== null)) {
    throw new UsageError(
      '--wide and --fields shape the snapshot view; they do not apply to --command or --dump',
    );
  }
  // The columns are views (miner = make and model, firmware = name and version), not snapshot keys:
  // --json printed every field and the --fields the user typed did nothing. --wide asks for more
  // columns, which --json already holds, so it stays allowed.
  if (fields !== null && json) {
    throw new UsageError(
      "--fields chooses the table's columns; --json prints the whole snapshot (select its fields with jq)",
    );
  }
  if (commands !== null) {
    const { buildRequest } = await import('../cgminer/escape.js');
    const { isWriteCommand } = await import('../cgminer/commands.js');
    const { controlInvocation } = await import('../control/dialects.js');
    for (const command of commands) {
      buildRequest(command, parameter ?? undefined); // names, parameter, size
      // probe reads. A write (or a command hashctl does not know as a read) goes through control,
      // which asks first, records it in the command log and never retries it.
      if (isWriteCommand(command))
        throw new UsageError(
          `'${command}' is not a read (it changes the miner, or hashctl does not know it as a read): probe only reads; send it with ${controlInvocation(command)}`,
        );
    }
  }
  return { targets, commands, parameter, dumpDir, wide, fields };
}

export async function runProbe(opts: ProbeOptions, globals: GlobalOptions, ctx: Context): Promise<number> {
  const listed = await targetsFromSpecs(opts.targets, globals, ctx);
  // A host name and its address are one miner (as in collect and control): asked once.
  const { distinctMiners, droppedNote, resolverOf } = await import('../targets/resolve.js');
  const distinct = await distinctMiners(listed, {
    timeoutMs: globals.timeoutMs,
    signal: ctx.signal,
    ...(ctx.lookup ? { resolve: resolverOf(ctx.lookup) } : {}),
  });
  const dropped = distinct && droppedNote(distinct.dropped, 'probed once');
  if (dropped && !globals.quiet) ctx.stderr.write(`hashctl: ${oneLine(dropped)}\n`);
  const targets: ProbeTargets =
    distinct === null
      ? listed
      : {
          count: distinct.targets.length,
          singleHost: listed.singleHost,
          [Symbol.iterator]: () => distinct.targets[Symbol.iterator](),
        };
  if (opts.commands === null && opts.dumpDir === null) {
    const { runSnapshotProbe } = await import('../miners/probe-view.js');
    return runSnapshotProbe(targets, { wide: opts.wide, fields: opts.fields }, globals, ctx, () =>
      clientFromGlobals(globals, ctx),
    );
  }
  return runRawProbe(targets, opts.commands ?? DEFAULT_DUMP_COMMANDS, opts, globals, ctx);
}

async function runRawProbe(
  targets: ProbeTargets,
  commands: string[],
  opts: ProbeOptions,
  globals: GlobalOptions,
  ctx: Context,
): Promise<number> {
  const [{ defaultConcurrency }, { runPool }, { palette, PerTargetJsonStream, outputRoom }, { PollHold }] =
    await Promise.all([
      import('../cgminer/limits.js'),
      import('../util/pool.js'),
      import('../output/render.js'),
      import('../cgminer/budget.js'),
    ]);
  const dump = opts.dumpDir === null ? null : await openDumpDir(opts.dumpDir, ctx);
  const client = await clientFromGlobals(globals, ctx);
  const concurrency = globals.concurrency ?? defaultConcurrency();
  const paint = await palette(globals.color);
  const tty = ctx.stdout.isTTY === true;
  // --json: written result by result in target order, never as one string (see PerTargetJsonStream).
  const document = globals.json
    ? new PerTargetJsonStream<ProbeTargetResult>(ctx.stdout, targets.singleHost)
    : null;
  let failed = 0;
  // Each target's decoded replies are charged to its hold until they are printed (for --json, once
  // every target before it is printed too): a thousand peers answering 250 KB of empty objects would
  // otherwise be kept whole, and past the budget a reply over the target's share is that target's
  // `too_large` instead.
  const holds = new Set<PollHold>();
  // Into a pipe, a header line as every command's plain text has (README, Output): the columns of
  // renderPlain's lines, a target's error line included (`error` in section, its kind in field).
  if (!document && !tty) ctx.stdout.write(`${PLAIN_HEAD.join('\t')}\n`);

  const indexed = function* (): Generator<[number, Target]> {
    let index = 0;
    for (const target of targets) yield [index++, target];
  };
  const probeOne = async ([index, target]: [number, Target]): Promise<
    [number, ProbeTargetResult, PollHold]
  > => {
    const hold = new PollHold(ctx.decodedBudget);
    holds.add(hold);
    return [
      index,
      await probeTarget(client, target, commands, opts.parameter, dump, ctx, globals.quiet, hold),
      hold,
    ];
  };
  const printed = (hold: PollHold): void => {
    hold.release();
    holds.delete(hold);
  };

  try {
    for await (const [index, result, hold] of runPool(indexed(), concurrency, probeOne, {
      signal: ctx.signal,
    })) {
      if (!result.ok) failed++;
      if (document) {
        document.put(index, result, () => printed(hold));
        // A reader slower than the miners holds the probe back, rather than a queue of its parts.
        await outputRoom(ctx.stdout, ctx.signal);
        continue;
      }
      if (tty) await renderReadable(result, commands, ctx, paint);
      else renderPlain(result, commands, ctx);
      printed(hold);
    }
    // Not in `finally`: a run that failed half-way leaves the document unfinished, so that `| jq`
    // says so instead of reading the targets written so far as the whole run.
    document?.end();
  } finally {
    for (const hold of holds) printed(hold);
  }
  if (dump && !globals.quiet) {
    ctx.stderr.write(
      `hashctl: wrote ${dump.written} raw ${dump.written === 1 ? 'reply' : 'replies'} to ${dump.dir}\n`,
    );
  }
  if (ctx.signal.aborted) {
    if (!globals.quiet) ctx.stderr.write('hashctl: interrupted; targets not yet started were skipped\n');
    return EXIT.interrupted;
  }
  return failed > 0 || (dump?.failed ?? 0) > 0 ? EXIT.failed : EXIT.ok;
}

interface DumpDir {
  dir: string;
  written: number;
  /** Files that could not be written (each said on stderr as it failed). */
  failed: number;
  /** The file's path, or null when it could not be written (said on stderr; the probe goes on). */
  write(target: Target, command: string, parameter: string | null, bytes: Uint8Array): Promise<string | null>;
}

function fileSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9._+-]/g, '_').slice(0, 100);
}

/** `<host>_<port>__<command>[_<param>].raw`, named like the files in protocol/samples. */
export function dumpFileName(target: Target, command: string, parameter: string | null): string {
  const suffix = parameter === null || parameter === '' ? '' : `_${fileSafe(parameter)}`;
  return `${fileSafe(target.host)}_${target.port}__${fileSafe(command)}${suffix}.raw`;
}

async function openDumpDir(dir: string, ctx: Context): Promise<DumpDir> {
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { makeDirectories } = await import('../util/mkdir.js');
  try {
    // Not fs.mkdir's recursive mode: under /proc it never returns (and Ctrl-C cannot stop it).
    makeDirectories(dir);
  } catch (error) {
    // Before any traffic, and the path is what was typed wrong (a file in the way, a folder that
    // cannot exist): bad input, exit 2, as an --out whose folder is wrong.
    throw new UsageError(`cannot create --dump directory '${dir}': ${(error as Error).message}`, {
      cause: error,
    });
  }
  // A folder that exists but takes no file (/proc, a read-only mount): also before any traffic,
  // not one "cannot write" per reply after the work.
  const { probeCreate, reason } = await import('../util/out-file.js');
  try {
    await probeCreate(join(dir, `.hashctl-${process.pid}.tmp`), dir);
  } catch (error) {
    throw new UsageError(`cannot write into --dump directory '${dir}': ${reason(error)}`, { cause: error });
  }
  const state: DumpDir = {
    dir,
    written: 0,
    failed: 0,
    async write(target, command, parameter, bytes) {
      const path = join(dir, dumpFileName(target, command, parameter));
      try {
        await writeFile(path, bytes);
      } catch (error) {
        // The replies are still shown: a full disk costs the dump, not every miner's answer.
        state.failed++;
        ctx.stderr.write(`hashctl: cannot write ${path}: ${reason(error)}\n`);
        return null;
      }
      state.written++;
      return path;
    },
  };
  return state;
}

const NO_CONNECTION_KINDS: ReadonlySet<string> = new Set(['refused', 'unreachable', 'timeout']);

async function probeTarget(
  client: MinerClient,
  target: Target,
  commands: string[],
  parameter: string | null,
  dump: DumpDir | null,
  ctx: Context,
  quiet: boolean,
  hold: ReplyHold & PollState,
): Promise<ProbeTargetResult> {
  const { errorFromStatus } = await import('../cgminer/client.js');
  const { misaddressed } = await import('../miners/replies.js');
  const started = ctx.now();
  const responses: Record<string, Record<string, unknown>> = {};
  const repairs: Record<string, string[]> = {};
  const errors: Record<string, MinerError> = {};
  let interruptedAt: string | null = null;
  // A command that got no connection at all (refused, unreachable, no handshake within the
  // timeout): the miner is not there, and asking the rest would cost that wait again for each.
  let noConnection: { command: string; error: MinerError } | null = null;
  for (const command of commands) {
    // Ctrl-C: no new request (the next one may be a write), and the one in flight is cut short.
    if (ctx.signal.aborted) {
      interruptedAt = command;
      break;
    }
    if (noConnection !== null) {
      const { command: first, error } = noConnection;
      const skipped = new MinerError(error.kind, `not sent: ${first} got no connection (${error.message})`);
      skipped.attempts = 0;
      errors[command] = skipped;
      continue;
    }
    let raw: Uint8Array | null = null;
    let reply: DecodedReply | null = null;
    try {
      // Error STATUS replies come back as replies so that their body is shown too.
      reply = await client.request(target, command, {
        parameter: parameter ?? undefined,
        allowErrorStatus: true,
        signal: ctx.signal,
        // Kept until printed; refused past this target's share of the budget: its `too_large`.
        hold,
        // Once a read ran to its deadline (silent, dripping, never ending its reply), the rest are
        // not sent: each would cost the deadline again, as in the snapshot probe and collect.
        poll: hold,
        // Only with --dump: handing over the bytes joins the chunks, a second copy of the reply.
        // An attempt that received nothing (refused, no connection, silence) is no reply to keep:
        // its empty file read as a miner that answered with nothing, and could replace a real one.
        onRaw: dump
          ? (bytes) => {
              if (bytes.length > 0) raw = bytes;
            }
          : undefined,
      });
      responses[command] = reply.body;
      if (reply.repairs.length > 0) repairs[command] = reply.repairs;
      if (!reply.ok) errors[command] = errorFromStatus(reply);
      else {
        // Shown as it came, but another command's data (POOLS to `summary`) is no answer to this one.
        const answer = misaddressed(command, reply);
        if (answer instanceof MinerError) errors[command] = answer;
      }
    } catch (error) {
      if (error instanceof HashctlError && error.kind === 'interrupted') {
        interruptedAt = command;
        break;
      }
      if (!(error instanceof MinerError)) throw error;
      errors[command] = error;
      // attempts 0: not sent for the poll's stalled read, which is not a connection that failed.
      if (!error.requestSent && error.attempts > 0 && NO_CONNECTION_KINDS.has(error.kind))
        noConnection = { command, error };
    }
    if (dump && raw !== null) {
      const path = await dump.write(target, command, parameter, raw);
      const error = errors[command];
      if (path !== null && error && reply === null && !quiet) {
        ctx.stderr.write(
          `hashctl: ${target.key} ${command}: ${error.kind}; the bytes received are in ${path}\n`,
        );
      }
    }
  }
  const result: ProbeTargetResult = {
    target: target.key,
    host: target.host,
    port: target.port,
    ok: Object.keys(errors).length === 0 && interruptedAt === null,
    elapsed_ms: Math.max(0, Math.round(ctx.now() - started)),
    responses,
  };
  if (Object.keys(repairs).length > 0) result.repairs = repairs;
  const failures = Object.entries(errors);
  if (failures.length > 0) {
    result.error = (failures[0] as [string, MinerError])[1].toJSON();
    if (commands.length > 1) {
      result.errors = Object.fromEntries(failures.map(([command, error]) => [command, error.toJSON()]));
    }
  } else if (interruptedAt !== null) {
    // What was answered before Ctrl-C is kept; the command cut short (and any after it) is named.
    result.error = {
      kind: 'interrupted',
      message: `interrupted before ${interruptedAt} was answered`,
      attempts: 0,
    };
  }
  return result;
}

// ---- rendering ----

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  // A miner's words: strict, so not even a colour code gets through (hashctl paints around them).
  if (typeof value === 'string') return terminalSafe(value.replace(/[\t\r\n]+/g, ' '), true);
  return terminalSafe(JSON.stringify(value), true);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** [section, index, field, value] rows of a reply body; multi-command members get `member.SECTION`. */
function flatten(body: Record<string, unknown>, prefix = '', rows: string[][] = []): string[][] {
  for (const [key, value] of Object.entries(body)) {
    if (key === 'id') continue;
    const section = `${prefix}${key}`;
    if (Array.isArray(value) && value.length > 0 && value.every(isRecord)) {
      if (
        value.length === 1 &&
        Object.hasOwn(value[0] as Record<string, unknown>, 'STATUS') &&
        key !== 'STATUS'
      ) {
        // A multi-command member, its rows added in place: a spread of a member with 300,000 fields
        // passes them all as arguments and overflows the stack.
        flatten(value[0] as Record<string, unknown>, `${section}.`, rows);
        continue;
      }
      value.forEach((record, index) => {
        for (const [field, v] of Object.entries(record as Record<string, unknown>)) {
          rows.push([section, String(index), field, cell(v)]);
        }
      });
    } else if (isRecord(value)) {
      for (const [field, v] of Object.entries(value)) rows.push([section, '', field, cell(v)]);
    } else {
      rows.push([section, '', '', cell(value)]);
    }
  }
  return rows;
}

function errorFor(
  result: ProbeTargetResult,
  command: string,
  commands: string[],
): ProbeTargetResult['error'] {
  return result.errors?.[command] ?? (commands.length === 1 ? result.error : undefined);
}

const PLAIN_HEAD = ['target', 'command', 'section', 'index', 'field', 'value'];

/** Plain text for pipes: one tab-separated line per value, `target command section index field value`. */
function renderPlain(result: ProbeTargetResult, commands: string[], ctx: Context): void {
  const out = ctx.stdout;
  for (const command of commands) {
    const body = result.responses[command];
    if (body)
      for (const [section, index, field, value] of flatten(body))
        out.write(`${[result.target, command, cell(section), index, cell(field), value].join('\t')}\n`);
    const error = errorFor(result, command, commands);
    if (error)
      out.write(`${[result.target, command, 'error', '', error.kind, cell(error.message)].join('\t')}\n`);
  }
}

async function renderReadable(
  result: ProbeTargetResult,
  commands: string[],
  ctx: Context,
  paint: Palette,
): Promise<void> {
  const { writeTable } = await import('../output/render.js');
  // Field names come from the miner too: every line of this view is made terminal-safe as written.
  const out: Context['stdout'] = {
    write: (chunk) => ctx.stdout.write(terminalSafe(chunk)),
    isTTY: ctx.stdout.isTTY,
  };
  // Only the terminal-safe stream: a copy of the whole context would build process.stdin too.
  const view = { stdout: out };
  const state = result.ok ? paint.green('ok') : paint.red('failed');
  out.write(`${paint.bold(result.target)}  ${state}  ${paint.dim(`${result.elapsed_ms}ms`)}\n`);
  for (const command of commands) {
    const body = result.responses[command];
    const error = errorFor(result, command, commands);
    out.write(`  ${paint.cyan(command)}`);
    if (error) out.write(`  ${paint.red(error.kind)}: ${oneLine(error.message)}`);
    const repaired = result.repairs?.[command];
    if (repaired) out.write(`  ${paint.yellow(`repaired: ${repaired.join(', ')}`)}`);
    out.write('\n');
    if (!body) continue;
    await renderBody(body, view, paint, writeTable);
  }
  out.write('\n');
}

type WriteTable = typeof import('../output/render.js').writeTable;

/** One record as aligned `field  value` lines: easier to read than a two-column box. */
function writeFields(out: Context['stdout'], entries: [string, unknown][], paint: Palette): void {
  // A loop, not Math.max(...): a hostile record may have hundreds of thousands of fields.
  let width = 0;
  for (const [field] of entries) width = Math.min(32, Math.max(width, field.length));
  for (const [field, value] of entries)
    out.write(`      ${paint.dim(cell(field).padEnd(width))}  ${cell(value)}\n`);
}

/**
 * Rows of one table in the terminal view: cli-table3 takes its rows as the arguments of one call,
 * and a section of 200,000 records (or a record of 200,000 fields) overflowed the stack, "internal
 * error: Maximum call stack size exceeded". No one reads more on a terminal; --json has them all.
 */
const MAX_TABLE_ROWS = 1000;

async function renderBody(
  body: Record<string, unknown>,
  ctx: Pick<Context, 'stdout'>,
  paint: Palette,
  writeTable: WriteTable,
  prefix = '',
): Promise<void> {
  const out = ctx.stdout;
  for (const [key, value] of Object.entries(body)) {
    if (key === 'id') continue;
    const records =
      Array.isArray(value) && value.every(isRecord) ? (value as Record<string, unknown>[]) : null;
    if (
      records &&
      records.length === 1 &&
      key !== 'STATUS' &&
      Object.hasOwn(records[0] as object, 'STATUS')
    ) {
      await renderBody(records[0] as Record<string, unknown>, ctx, paint, writeTable, `${prefix}${key}.`);
      continue;
    }
    if (key === 'STATUS' && records && records.length === 1) {
      const status = records[0] as Record<string, unknown>;
      const parts = Object.entries(status).map(([field, v]) => `${cell(field)}=${cell(v)}`);
      out.write(`    ${paint.dim(cell(`${prefix}STATUS`))} ${parts.join('  ')}\n`);
      continue;
    }
    out.write(`    ${paint.bold(cell(`${prefix}${key}`))}\n`);
    if (records && records.length === 1) {
      writeFields(out, Object.entries(records[0] as Record<string, unknown>), paint);
    } else if (records && records.length > 0) {
      const keys = [...new Set(records.flatMap((record) => Object.keys(record)))];
      if (records.length <= 4) {
        // Few records: one column per record reads better than a very wide table.
        const head = ['field', ...records.map((_, i) => `#${i}`)];
        const fields = keys.slice(0, MAX_TABLE_ROWS);
        const rows = fields.map((field) => [cell(field), ...records.map((record) => cell(record[field]))]);
        await writeTable(out, head, rows, { tty: true });
        if (keys.length > fields.length)
          out.write(paint.dim(`    (${keys.length - fields.length} more fields; --json shows all)\n`));
      } else {
        const shown = keys.slice(0, 10);
        await writeTable(
          out,
          shown.map((field) => cell(field)),
          records.slice(0, MAX_TABLE_ROWS).map((record) => shown.map((field) => cell(record[field]))),
          { tty: true },
        );
        if (keys.length > shown.length)
          out.write(paint.dim(`    (${keys.length - shown.length} more fields; --json shows all)\n`));
        if (records.length > MAX_TABLE_ROWS)
          out.write(paint.dim(`    (${records.length - MAX_TABLE_ROWS} more records; --json shows all)\n`));
      }
    } else if (isRecord(value)) {
      writeFields(out, Object.entries(value), paint);
    } else {
      out.write(`    ${cell(value)}\n`);
    }
  }
}

export const registerProbe: RegisterCommand = (program, env) => {
  program
    .command('probe')
    .description('query miners: normalized snapshots, or decoded replies to raw API commands')
    .argument('<targets...>', 'miners (HOST[:PORT], [IPv6]:PORT, CIDR, range, @FILE, -)')
    .option(
      '--command <list>',
      'API commands to send, comma-separated or repeated, each its own request (one may be a+b)',
      collect,
    )
    .option('--param <value>', 'parameter of the single --command (e.g. 0 for asc, summary for check)')
    .option('--dump <dir>', 'write the exact reply bytes to DIR/<host>_<port>__<command>.raw')
    .option('--wide', 'snapshot view: show more columns')
    .option(
      '--fields <list>',
      'snapshot table: only these columns, comma-separated or repeated (not with --json)',
      collect,
    )
    .action(async (targets: string[], raw: Record<string, unknown>, command: Command) => {
      const globals = env.globals(command);
      const opts = await parseProbeOptions(targets, raw, globals.json);
      env.exit(await runProbe(opts, globals, env.ctx));
    });
};
