// Tables on a TTY (cli-table3, chalk colours), tab-separated text otherwise (hashctl.md §3).
import type { Context, OutStream } from '../context.js';
import { jsonText, terminalSafe } from './terminal.js';

export interface OutputOptions {
  json: boolean;
  ndjson?: boolean;
  quiet: boolean;
  color: boolean;
}

/** Colour only on a TTY, and never with NO_COLOR, TERM=dumb or --no-color. */
export function colorEnabled(ctx: Context, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (ctx.env.NO_COLOR !== undefined && ctx.env.NO_COLOR !== '') return false;
  if (ctx.env.TERM === 'dumb') return false;
  if (ctx.env.FORCE_COLOR !== undefined && ctx.env.FORCE_COLOR !== '0') return true;
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
  const table = new Table({ head: head.map(safe), chars, style: { head: [], border: [] }, colAligns });
  for (const row of rows) table.push(row.map(safe));
  out.write(`${table.toString()}\n`);
}

export function writeJson(out: OutStream, value: unknown): void {
  out.write(`${jsonText(value, 2)}\n`);
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
  let value = hs;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${value.toFixed(value >= 100 ? 1 : 2)} ${units[i]}`;
}
