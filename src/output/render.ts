// Tables on a TTY (cli-table3, chalk colours), tab-separated text otherwise (hashctl.md §3).
import type { Context, OutStream } from '../context.js';
import { jsonText, terminalSafe, writeJsonPieces } from './terminal.js';

export interface OutputOptions {
  json: boolean;
  ndjson?: boolean;
  quiet: boolean;
  color: boolean;
}

/**
 * Colour only on a TTY, and never with NO_COLOR, TERM=dumb or --no-color. FORCE_COLOR reads as
 * Node and chalk read it: `0` or `false` is no colour, even on a terminal (it was taken as "not
 * forced", and a terminal was painted all the same); any other value paints a pipe too.
 */
export function colorEnabled(ctx: Context, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (ctx.env.NO_COLOR !== undefined && ctx.env.NO_COLOR !== '') return false;
  if (ctx.env.TERM === 'dumb') return false;
  const force = ctx.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return ctx.stdout.isTTY === true;
}

export type Paint = (text: string) => string;
export interface Palette {
  red: Paint;
  yellow: Paint;
  green: Paint;
  dim: Paint;
  bold: Paint;
  cyan: Paint;
}

const plain: Paint = (text) => text;
export const NO_PALETTE: Palette = {
  red: plain,
  yellow: plain,
  green: plain,
  dim: plain,
  bold: plain,
  cyan: plain,
};

export async function palette(color: boolean): Promise<Palette> {
  if (!color) return NO_PALETTE;
  const { Chalk } = await import('chalk');
  const chalk = new Chalk({ level: 1 });
  return {
    red: chalk.red,
    yellow: chalk.yellow,
    green: chalk.green,
    dim: chalk.dim,
    bold: chalk.bold,
    cyan: chalk.cyan,
  };
}

/** A box table when stdout is a TTY, otherwise a header line and tab-separated rows. */
export async function writeTable(
  out: OutStream,
  head: string[],
  rows: string[][],
  options: { tty?: boolean; alignRight?: number[] } = {},
): Promise<void> {
  const tty = options.tty ?? out.isTTY === true;
  // A cell is one line of text, whatever a miner put in it (see terminal.ts).
  const safe = (cell: string) => terminalSafe(cell.replace(/[\t\r\n]+/g, ' '));
  if (!tty) {
    const clean = (cell: string) => safe(stripAnsi(cell));
    out.write(`${head.map(clean).join('\t')}\n`);
    for (const row of rows) out.write(`${row.map(clean).join('\t')}\n`);
    return;
  }
  const { default: Table } = await import('cli-table3');
  const colAligns = head.map((_, i) => (options.alignRight?.includes(i) ? 'right' : 'left')) as (
    | 'left'
    | 'right'
  )[];
  // No rule between rows: a farm table is long, and every other line being a border halves it.
  const chars = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };
  const cells = rows.map((row) => row.map(safe));
  const safeHead = head.map(safe);
  const colWidths = fitColumns([safeHead, ...cells], out.columns);
  const render = (pieceHead: string[], pieceRows: readonly string[][], widths: number[] | null): string => {
    if (widths) {
      const drawn = drawBox(pieceHead, pieceRows, widths, colAligns);
      if (drawn !== null) return drawn;
    }
    const table = new Table({
      head: pieceHead,
      chars,
      style: { head: [], border: [] },
      colAligns,
      // Cut to the terminal (cli-table3 ends a cut cell with …): a wrapped row is unreadable.
      ...(widths ? { colWidths: widths } : {}),
    });
    for (const row of pieceRows) table.push(row);
    return table.toString();
  };
  if (cells.length <= TABLE_PIECE_ROWS) {
    out.write(`${render(safeHead, cells, colWidths)}\n`);
    return;
  }
  // cli-table3 lays a table out in time that grows with the square of its rows (each cell is
  // checked against every row above it for spans): `live` on a terminal took 0.9 s for 1,000
  // miners and 96 s for 10,000. A long table is drawn in pieces of the same column widths, each
  // without the borders where it meets the next, written as it is drawn.
  const widths = colWidths ?? contentWidths([safeHead, ...cells]);
  for (let start = 0; start < cells.length; start += TABLE_PIECE_ROWS) {
    const first = start === 0;
    const last = start + TABLE_PIECE_ROWS >= cells.length;
    const lines = render(first ? safeHead : [], cells.slice(start, start + TABLE_PIECE_ROWS), widths).split(
      '\n',
    );
    out.write(`${lines.slice(first ? 0 : 1, last ? lines.length : -1).join('\n')}\n`);
  }
}

// A cell cli-table3 draws as it is, padded: printable ASCII and Latin-1 (°C), with the colours chalk
// writes (foreground, bold, dim), every one of them that cli-table3 tracks closed (it would close it
// at the cell's end itself). Anything else (wide or combining characters, other escapes, a coloured
// cell to cut) is left to cli-table3.
const PLAIN_CELL = /^(?:[\x20-\x7e\xa0-\xff]|\u001b\[(?:3[0-79]|9[0-7]|1|2|22)m)*$/;
const PLAIN_TEXT = /^[\x20-\x7e\xa0-\xff]*$/;
const SGR = /\u001b\[(\d+)m/g;

/** `cell` as cli-table3 draws it in `room` columns (cut with …), or null: one to leave to it. */
function boxCell(cell: string, room: number): string | null {
  if (PLAIN_TEXT.test(cell)) {
    // One column a character: cli-table3 keeps room - 1 of them and the …
    if (cell.length <= room) return cell;
    return room >= 1 ? `${cell.slice(0, room - 1)}…` : null;
  }
  if (!PLAIN_CELL.test(cell) || visibleWidth(cell) > room) return null;
  // cli-table3 ends a cell whose foreground colour or bold is still on with 39 or 22 (dim it
  // does not track): drawn as is only when none is.
  let foreground = false;
  let bold = false;
  for (const [, code] of cell.matchAll(SGR)) {
    if (code === '39') foreground = false;
    else if (code === '1') bold = true;
    else if (code === '22') bold = false;
    else if (code !== '2') foreground = true;
  }
  return foreground || bold ? null : cell;
}

/**
 * The box table cli-table3 draws with writeTable's options (no rules between rows, one space of
 * padding, these column widths and alignments), byte for byte, when every cell is one boxCell
 * draws; null otherwise. cli-table3 took ~0.5 ms a row: a 1,000-miner `live` spent half a second on it.
 */
export function drawBox(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  widths: readonly number[],
  aligns: readonly ('left' | 'right')[],
): string | null {
  const count = widths.length;
  const body = head.length > 0 ? [head, ...rows] : rows;
  if (body.length === 0) return null;
  const drawn: string[][] = [];
  for (const row of body) {
    if (row.length !== count) return null;
    const cells: string[] = [];
    for (let i = 0; i < count; i++) {
      const cell = boxCell(row[i]!, widths[i]! - 2);
      if (cell === null) return null;
      cells.push(cell);
    }
    drawn.push(cells);
  }
  const rule = (left: string, mid: string, right: string): string =>
    `${left}${widths.map((width) => '─'.repeat(width)).join(mid)}${right}`;
  const lines = [rule('┌', '┬', '┐')];
  for (const row of drawn) {
    let line = '│';
    for (let i = 0; i < count; i++) {
      const cell = row[i]!;
      const fill = ' '.repeat(Math.max(0, widths[i]! - 2 - visibleWidth(cell)));
      line += aligns[i] === 'right' ? ` ${fill}${cell} │` : ` ${cell}${fill} │`;
    }
    lines.push(line);
  }
  lines.push(rule('└', '┴', '┘'));
  return lines.join('\n');
}

/** Rows of a box table drawn by one cli-table3 table (see writeTable). */
export const TABLE_PIECE_ROWS = 20;

/** Each column's width as cli-table3 sizes it: its widest cell and one space each side. */
function contentWidths(table: readonly (readonly string[])[]): number[] {
  // Loops, not Math.max(...rows): a spread of every row is one argument per miner.
  const widths: number[] = [];
  for (const row of table) {
    for (let i = 0; i < row.length; i++) widths[i] = Math.max(widths[i] ?? 3, visibleWidth(row[i]!) + 2);
  }
  return Array.from(widths, (width) => width ?? 3);
}

/**
 * How far a column may be cut (padding included), unless it is narrower: the first column names
 * the row (an address) and stays whole; long free text (firmware, pool, reasons) gives way.
 */
const KEEP_FIRST = 26;
const KEEP_OTHER = 12;
/**
 * A column at most this wide (padding included: 12 characters) is short, a figure with its unit or
 * a state word. It is cut only when that makes the table fit: cutting `236.99 TH/s` to
 * `236.99 TH…` or `unsupported` to `unsupport…` in a table that wrapped all the same lost the unit
 * or the word for nothing.
 */
const SHORT = 14;

/**
 * Column widths (padding included) that fit `columns`, taking room from the widest columns first;
 * null when the table fits as it is or the width is unknown. Long columns give way first; short ones
 * too only if the table then fits. A table that cannot fit is cut in its long columns as far as they
 * go and left wider than the terminal.
 */
export function fitColumns(
  table: readonly (readonly string[])[],
  columns: number | undefined,
): number[] | null {
  if (!columns || columns <= 0) return null;
  // Content + one space each side, as cli-table3 pads.
  const widths = contentWidths(table);
  const count = widths.length;
  const excess = widths.reduce((a, b) => a + b, 0) + count + 1 - columns;
  if (excess <= 0) return null;
  const longOnly = cutWidest(
    widths,
    widths.map((width, i) => (i === 0 ? Math.min(width, KEEP_FIRST) : width <= SHORT ? width : KEEP_OTHER)),
    excess,
  );
  if (longOnly.excess <= 0) return longOnly.widths;
  const shortToo = cutWidest(
    widths,
    widths.map((width, i) => Math.min(width, i === 0 ? KEEP_FIRST : KEEP_OTHER)),
    excess,
  );
  return shortToo.excess <= 0 ? shortToo.widths : longOnly.widths;
}

/** Takes `excess` columns from the widest columns first, none below its floor; what is left over. */
function cutWidest(
  full: readonly number[],
  floors: readonly number[],
  excess: number,
): { widths: number[]; excess: number } {
  const widths = [...full];
  while (excess > 0) {
    // The widest column that may still give room, down to the next widest (or its floor).
    const cuttable = widths.map((width, i) => (width > (floors[i] as number) ? width : -1));
    const widest = cuttable.indexOf(Math.max(...cuttable));
    if ((cuttable[widest] as number) < 0) break;
    const next = Math.max(
      floors[widest] as number,
      ...widths.filter((_, i) => i !== widest && cuttable[i]! >= 0),
    );
    const cut = Math.min(
      excess,
      Math.max(1, (widths[widest] as number) - Math.min(next, (widths[widest] as number) - 1)),
    );
    widths[widest] = Math.max(floors[widest] as number, (widths[widest] as number) - cut);
    excess -= cut;
  }
  return { widths, excess };
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Terminal columns of a cell: without colour escapes, wide (CJK, emoji) characters as two. */
function visibleWidth(text: string): number {
  // Most cells (addresses, figures, states) are printable ASCII: a column each, nothing to strip.
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let width = 0;
  for (const ch of stripAnsi(text)) {
    const code = ch.codePointAt(0) as number;
    width +=
      code >= 0x1100 &&
      /[\p{Script=Han}\p{Script=Hangul}\p{Script=Hiragana}\p{Script=Katakana}\p{Extended_Pictographic}\uFF00-\uFFEF]/u.test(
        ch,
      )
        ? 2
        : 1;
  }
  return width;
}

export function writeJson(out: OutStream, value: unknown): void {
  out.write(`${jsonText(value, 2)}\n`);
}

type Drainable = OutStream & {
  writableNeedDrain?: boolean;
  once?: (event: string, listener: () => void) => unknown;
  removeListener?: (event: string, listener: () => void) => unknown;
};

/**
 * Resolves once `out` has room again: at once unless its last write filled its buffer (a pipe whose
 * reader is slower, `| jq`), else on 'drain', when it fails or closes (no 'drain' comes then), or
 * at Ctrl-C (the work in flight is then written all the same). A streamed document waits here so
 * that what the reader has not taken is not queued whole in the process instead.
 */
export function outputRoom(out: OutStream, signal?: AbortSignal): Promise<void> {
  const stream = out as Drainable;
  if (stream.writableNeedDrain !== true || typeof stream.once !== 'function' || signal?.aborted)
    return Promise.resolve();
  return new Promise((resolve) => {
    const events = ['drain', 'error', 'close'];
    const done = (): void => {
      for (const event of events) stream.removeListener?.(event, done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    for (const event of events) stream.once?.(event, done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * `writeJson(out, value)` for an object holding long lists: the same bytes, written member by
 * member and each element of the `listed` arrays on its own, so no string holds more than one
 * element. `scan --all --json` of a /11 (2 M endpoints, ~330 characters each) made one string past
 * V8's limit and died with "Invalid string length" after the whole sweep, printing nothing.
 */
export async function writeJsonMembers(
  out: OutStream,
  value: Record<string, unknown>,
  listed: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  const indented = (text: string, by: string): string => text.replace(/\n/g, `\n${by}`);
  let written = 0;
  // Object.keys is JSON.stringify's order; a member it drops (undefined, a function) is left out.
  for (const key of Object.keys(value)) {
    const member = value[key];
    const list = listed.includes(key) && Array.isArray(member) && member.length > 0 ? member : null;
    const text = list === null ? jsonText(member, 2) : '';
    if (text === undefined) continue;
    out.write(`${written++ === 0 ? '{\n' : ',\n'}  ${JSON.stringify(key)}: `);
    if (list === null) {
      out.write(indented(text, '  '));
      continue;
    }
    for (let i = 0; i < list.length; i++) {
      // An element JSON.stringify cannot write (undefined, a function) is `null` in an array.
      out.write(`${i === 0 ? '[\n' : ',\n'}    ${indented(jsonText(list[i], 2) ?? 'null', '    ')}`);
      await outputRoom(out, signal);
    }
    out.write('\n  ]');
  }
  out.write(written === 0 ? '{}\n' : '\n}\n');
}

/**
 * The per-target JSON document (hashctl.md §3): the one target's object when the user named one
 * single host, otherwise `{"results":[…]}` (probe and control).
 */
export function perTargetJson<T extends object>(
  results: readonly T[],
  singleHost: boolean | undefined,
): T | { results: readonly T[] } {
  const only = results[0];
  return singleHost === true && results.length === 1 && only !== undefined ? only : { results };
}

/**
 * The per-target document of perTargetJson, written result by result in target order: the same
 * bytes as `writeJson(out, perTargetJson(results, singleHost))`, but no string ever holds more
 * than one target's part. A farm's document in one string passed V8's string limit ("Invalid
 * string length", after minutes of polling and nothing printed) and, well below it, doubled the
 * peak memory. Results arrive in any order (`put` with the target's index); each is written once
 * every target before it is written or known to have none, and `written` is called then, so what it
 * held can be let go. `end` closes the document. A run that throws before `end` leaves the document
 * unfinished on purpose: `| jq` then says so, rather than reading part of a farm as the whole.
 */
export class PerTargetJsonStream<T extends object> {
  private readonly waiting = new Map<number, { result: T | null; written?: () => void }>();
  private next = 0;
  private count = 0;
  /** One single host's result, held until `end`: alone, it is printed as the plain object. */
  private only: { result: T; written?: () => void } | null = null;

  constructor(
    private readonly out: OutStream,
    private readonly singleHost: boolean | undefined,
  ) {}

  /** The result of the target at `index` (from 0); null: that target has none (cut short). */
  put(index: number, result: T | null, written?: () => void): void {
    this.waiting.set(index, written ? { result, written } : { result });
    for (let entry = this.waiting.get(this.next); entry; entry = this.waiting.get(this.next)) {
      this.waiting.delete(this.next++);
      if (entry.result !== null) this.write(entry.result, entry.written);
      else entry.written?.();
    }
  }

  /** Closes the document (results still waiting for an earlier target's are written first). */
  end(): void {
    const rest = [...this.waiting.entries()].sort((a, b) => a[0] - b[0]);
    this.waiting.clear();
    for (const [, entry] of rest) {
      if (entry.result !== null) this.write(entry.result, entry.written);
      else entry.written?.();
    }
    if (this.only !== null) {
      writeJsonPieces((piece) => this.out.write(piece), this.only.result, 2, '', { after: '\n' });
      this.only.written?.();
      this.only = null;
      return;
    }
    this.out.write(this.count === 0 ? '{\n  "results": []\n}\n' : '\n  ]\n}\n');
  }

  private write(result: T, written?: () => void): void {
    if (this.singleHost === true && this.count === 0 && this.only === null) {
      this.only = written ? { result, written } : { result };
      return;
    }
    if (this.only !== null) {
      const held = this.only;
      this.only = null;
      this.emit(held.result, held.written);
    }
    this.emit(result, written);
  }

  private emit(result: T, written?: () => void): void {
    // JSON.stringify's indentation adds up with depth, and no string holds a raw line break: the
    // item's own text, each line shifted by its place in the document (two levels, four spaces),
    // in pieces (one result's text can be longer than any string: see writeJsonPieces).
    writeJsonPieces((piece) => this.out.write(piece), result, 2, '    ', {
      before: `${this.count === 0 ? '{\n  "results": [\n' : ',\n'}    `,
    });
    this.count++;
    written?.();
  }
}

export function writeNdjson(out: OutStream, value: unknown): void {
  out.write(`${jsonText(value)}\n`);
}

// ANSI colour escapes start with ESC (the control-character lint is off project-wide).
const ANSI = /\u001b\[[0-9;]*m/g;
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** Hashes per second → a short human string in the unit that suits it. */
export function formatHashrate(hs: number | null | undefined, unit?: 'TH/s'): string {
  if (hs === null || hs === undefined || !Number.isFinite(hs)) return '-';
  if (unit === 'TH/s') return `${(hs / 1e12).toFixed(2)} TH/s`;
  const units = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s', 'EH/s'];
  // Decimals by the value as shown: 99.996 is "100.0", not "100.00"; and one that rounds up to
  // 1000 is the next unit's 1.00 (999.96 TH/s read "1000.0 TH/s").
  const digits = (v: number) => (Number(v.toFixed(2)) >= 100 ? 1 : 2);
  let value = hs;
  let i = 0;
  while (Number(value.toFixed(digits(value))) >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${value.toFixed(digits(value))} ${units[i]}`;
}
