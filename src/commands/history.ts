// `hashctl history MINER`: one metric of one miner over time, as a terminal chart with min/avg/max
// (or the points with --json). Older than the raw retention, hourly rollups fill in.
import type { Command } from 'commander';
import type { HistoryMetric } from '../collect/series.js';
import { type Context, outputColumns } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { formatHashrate, writeJson } from '../output/render.js';
import { terminalSafe } from '../output/terminal.js';
import { sinceFlag } from '../util/duration.js';
import {
  type GlobalOptions,
  namedFlag,
  READER_CONFIG_HELP,
  READER_DB_HELP,
  type RegisterCommand,
  readerDbPath,
  upgradeNote,
} from './shared.js';

export interface HistoryOptions {
  miner: string;
  dbPath: string;
  site: string | null;
  sinceMs: number;
  /** --since given as a date: that moment (sinceMs is then how long before parsing it was). */
  sinceAt: number | null;
  metric: HistoryMetric;
}

const METRICS: readonly HistoryMetric[] = ['hashrate', 'temp', 'fans'];
const UNITS: Record<HistoryMetric, string> = { hashrate: 'H/s', temp: '°C', fans: 'rpm' };
const LABELS: Record<HistoryMetric, string> = {
  hashrate: 'hashrate',
  temp: 'hottest chip (board where no chip sensor)',
  fans: 'slowest fan',
};
const CHART_HEIGHT = 12;

export async function parseHistoryOptions(
  miner: string,
  raw: Record<string, unknown>,
  ctx: Context,
): Promise<HistoryOptions> {
  const metric = ((raw.metric as string | undefined) ?? 'hashrate').toLowerCase();
  if (!METRICS.includes(metric as HistoryMetric)) {
    throw new UsageError(`invalid --metric '${metric}': use ${METRICS.join(', ')}`);
  }
  return {
    miner,
    dbPath: await readerDbPath(raw, ctx),
    site: namedFlag(raw, 'site', '--site', 'a site name') ?? null,
    ...sinceFlag(raw.since, ctx.now()),
    metric: metric as HistoryMetric,
  };
}

/** A scale for hashrate values so the axis reads "95.20" TH/s rather than 9.52e13. */
function hashrateScale(max: number): { divisor: number; unit: string } {
  const units = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s', 'EH/s'];
  let divisor = 1;
  let i = 0;
  while (max / divisor >= 1000 && i < units.length - 1) {
    divisor *= 1000;
    i++;
  }
  return { divisor, unit: units[i]! };
}

export async function runHistory(
  opts: HistoryOptions,
  globals: GlobalOptions,
  ctx: Context,
): Promise<number> {
  const { historyStatements, openStore, translateSqliteError } = await import('../store/index.js');
  const { findMiner, readSeries, seriesStats, chartColumns } = await import('../collect/index.js');
  const { targetKey } = await import('../targets/types.js');
  const now = ctx.now();
  // --since 36500d reaches back before 1970: the series starts at 1970.
  const from = opts.sinceAt ?? Math.max(0, now - opts.sinceMs);
  const store = openStore(opts.dbPath, { readonly: true, onUpgrade: upgradeNote(globals, ctx) });
  let miner: ReturnType<typeof findMiner>;
  let points: ReturnType<typeof readSeries>;
  /** Set when another machine hashed another algorithm here in the window: the chart starts after it. */
  let machine: { at: number; before: string } | null = null;
  try {
    // One read: the miner and its series of the same state (and checked whole on a full disk).
    ({ miner, points, machine } = store.snapshot(() => {
      const found = findMiner(store, opts.miner, opts.site);
      // Hashrates of two algorithms are not one series (an L3+'s scrypt MH/s then an S19's
      // sha256d TH/s averaged together): the hashrate is the machine's there now, from its first poll.
      const since =
        opts.metric === 'hashrate' ? store.prepared(historyStatements).machineSince(found.id) : null;
      // One stamped ahead of now (a clock that ran ahead, set back since) would hide every poll after it.
      const swap = since !== null && since.at > from && since.at <= now ? since : null;
      return {
        miner: found,
        points: readSeries(store, found.id, opts.metric, swap?.at ?? from),
        machine: swap,
      };
    }));
  } catch (error) {
    // A damaged page is said as collect says it ("… is not a hashctl database or is damaged"),
    // not as an internal error.
    throw translateSqliteError(error, opts.dbPath);
  } finally {
    store.close();
  }
  // The window ends now. Polls stamped later (collected while the clock was ahead, before NTP set
  // it back: "the cycles stamped during the leap stay, with their dates") are left out and
  // counted: drawn, one a month ahead squeezed the whole day into the chart's first column.
  const shown = points.filter((p) => p.ts <= now);
  const later = points.length - shown.length;
  points = shown;
  const stats = seriesStats(points);
  const name = targetKey(miner.host, miner.port);

  if (globals.json) {
    writeJson(ctx.stdout, {
      miner: name,
      site: miner.site,
      metric: opts.metric,
      unit: UNITS[opts.metric],
      from: new Date(from).toISOString(),
      to: new Date(now).toISOString(),
      ...stats,
      after_to: later,
      // The hashrate of the machine at the address now only: from when it replaced one hashing
      // `earlier_algorithm` (null: no other machine in the window).
      machine_since: machine === null ? null : new Date(machine.at).toISOString(),
      earlier_algorithm: machine?.before ?? null,
      // An hourly point is the hour's average: its extremes and its polls go with it, or a reader
      // taking the max of the points took the highest average for the peak.
      points: points.map((p) =>
        p.source === 'hourly'
          ? {
              ts: new Date(p.ts).toISOString(),
              value: p.value,
              source: p.source,
              min: p.min ?? p.value,
              max: p.max ?? p.value,
              polls: p.polls ?? null,
              polls_without_value: p.missing ?? null,
            }
          : { ts: new Date(p.ts).toISOString(), value: p.value, source: p.source },
      ),
    });
    return EXIT.ok;
  }

  const title = terminalSafe(
    `${name} (site ${miner.site}) ${LABELS[opts.metric]}, ${opts.sinceAt === null ? `last ${formatSince(opts.sinceMs)}` : `since ${new Date(opts.sinceAt).toISOString()}`}`,
    true,
  );
  const leftOut = [
    later > 0 ? `${later} stamped after now left out` : '',
    machine === null
      ? ''
      : `from ${new Date(machine.at).toISOString().slice(0, 16)}Z only: another machine hashed ${terminalSafe(machine.before, true)} here before`,
  ]
    .filter(Boolean)
    .join(', ');
  if (stats.samples === 0) {
    // Polls, as the stats count them (an hourly point stands for its hour's), one or many.
    const notes = [
      stats.gaps > 0 ? `${stats.gaps} poll${stats.gaps === 1 ? '' : 's'} without a value` : '',
      leftOut,
    ].filter(Boolean);
    ctx.stdout.write(`${title}: no data${notes.length > 0 ? ` (${notes.join(', ')})` : ''}\n`);
    return EXIT.ok;
  }
  const scale =
    opts.metric === 'hashrate' ? hashrateScale(stats.max ?? 0) : { divisor: 1, unit: UNITS[opts.metric] };
  const show = (value: number | null) =>
    value === null
      ? '-'
      : opts.metric === 'hashrate'
        ? formatHashrate(value)
        : `${value.toFixed(opts.metric === 'temp' ? 1 : 0)} ${scale.unit}`;
  const { plot } = await import('asciichart');
  // A terminal that reports 0 columns (a serial console) got a chart 10 points wide.
  const width = Math.max(10, Math.min(200, (outputColumns(ctx.stdout, ctx.env) ?? 80) - 14));
  const columns = chartColumns(points, width);
  /** The chart's rows: the 11-character labels, the axis and a column per value. */
  const room = width + 13;
  const values = columns.values.map((v) => v / scale.divisor);
  ctx.stdout.write(`${title} [${scale.unit}]\n`);
  const decimals = opts.metric === 'fans' ? 0 : 2;
  const bounds = chartBounds(values, CHART_HEIGHT, 10 ** -decimals);
  if (bounds === null) {
    ctx.stdout.write(`${' '.repeat(12)}(no chart: values out of range; see --json)\n`);
  } else {
    // No "-0.00" for a row a hair below zero.
    const format = (x: number) =>
      x
        .toFixed(decimals)
        .replace(/^-(0(\.0+)?)$/, '$1')
        .padStart(11);
    ctx.stdout.write(`${plot(values, { height: CHART_HEIGHT, format, ...bounds })}\n`);
  }
  // Under the line, the columns it is only carried through: an offline stretch drawn as the last
  // hashrate, and a stretch nobody polled, read as hours of work.
  if (bounds !== null && columns.marks.some((m) => m !== '')) {
    const marks = columns.marks.map((m) => (m === 'no_value' ? '×' : m === 'not_polled' ? '·' : ' '));
    // asciichart draws value i in the i-th column from its axis (the first on the axis itself).
    ctx.stdout.write(`${' '.repeat(12)}${marks.join('').trimEnd()}\n`);
    const said = (long: boolean) =>
      [
        columns.marks.includes('no_value') ? `× no value${long ? ' (offline or no reading)' : ''}` : '',
        columns.marks.includes('not_polled') ? '· not polled' : '',
      ]
        .filter(Boolean)
        .join(', ');
    ctx.stdout.write(
      fitUnderChart(
        [
          `${said(true)}: the line carries the last value`,
          `${said(false)}: the line carries the last value`,
          `${said(false)}: line carries last value`,
          said(false),
        ],
        room,
      ),
    );
  }
  // The time axis, as wide as the chart at most: its 55 characters wrapped on a 40-column terminal.
  const iso = (ms: number) => new Date(ms).toISOString();
  const first = iso(points[0]!.ts);
  const last = iso(points[points.length - 1]!.ts);
  const minutes = (stamp: string) => `${stamp.slice(0, 16)}Z`;
  ctx.stdout.write(
    fitUnderChart(
      [
        `${first.slice(0, 19)}Z … ${last.slice(0, 19)}Z`,
        `${minutes(first)} … ${minutes(last)}`,
        ...(first.slice(0, 10) === last.slice(0, 10) ? [`${minutes(first)} … ${last.slice(11, 16)}Z`] : []),
        `${minutes(first)} …\n… ${minutes(last)}`,
      ],
      room,
    ),
  );
  ctx.stdout.write(
    `min ${show(stats.min)}  avg ${show(stats.avg)}  max ${show(stats.max)}  (${stats.samples} sample${stats.samples === 1 ? '' : 's'}` +
      `${stats.gaps > 0 ? `, ${stats.gaps} without a value` : ''}` +
      `${points.some((p) => p.source === 'hourly') ? ', older part from hourly averages' : ''}` +
      `${leftOut ? `, ${leftOut}` : ''})\n`,
  );
  return EXIT.ok;
}

/**
 * The first of `candidates` (longest first) whose every line fits in `room` characters, under the
 * chart's plot (12 columns in) when there is room for that, else as far in as fits; the last one
 * whatever its width.
 */
function fitUnderChart(candidates: string[], room: number): string {
  const widthOf = (text: string) => Math.max(...text.split('\n').map((line) => [...line].length));
  const text =
    candidates.find((candidate) => widthOf(candidate) <= room) ?? candidates[candidates.length - 1]!;
  const indent = ' '.repeat(Math.max(0, Math.min(12, room - widthOf(text))));
  return `${text
    .split('\n')
    .map((line) => `${indent}${line}`)
    .join('\n')}\n`;
}

function formatSince(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

export const registerHistory: RegisterCommand = (program, env) => {
  program
    .command('history')
    .description('chart one miner over time (hashrate, temperature or fans) with min/avg/max')
    .argument('<miner>', 'HOST:PORT (or HOST when one port matches)')
    .option('--since <when>', 'how far back: a duration, or an ISO date (UTC unless given) (default 24h)')
    .option('--metric <name>', `${METRICS.join(', ')} (default hashrate)`)
    .option('--site <id>', 'the site, when the same miner address is in several')
    .option('--db <path>', READER_DB_HELP)
    .option('--config <file>', READER_CONFIG_HELP)
    .action(async (miner: string, raw: Record<string, unknown>, command: Command) => {
      const globals = env.globals(command);
      env.exit(await runHistory(await parseHistoryOptions(miner, raw, env.ctx), globals, env.ctx));
    });
};

/**
 * The chart's value range, widened where asciichart would loop for ever: it steps one row at a time
 * from round(min × height / range), and past 2^53 a step no longer changes the number (a flat line
 * at 78.3 °C whose averages differ by a rounding error, or a value of 1e289). {} keeps asciichart's
 * own range; null: a value that cannot be drawn at all.
 */
export function chartBounds(
  values: readonly number[],
  height: number,
  /** The smallest step between two rows that their labels can show (0.01 for two decimals). */
  labelStep = 0,
): { min?: number; max?: number } | null {
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) return null;
  let min = values[0] as number;
  let max = min;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  // Rows are labelled from round(value × height / span): keep that under 10^4 rows from zero.
  // And rows closer than the labels can tell apart would repeat a label (a flat 78.3 °C day).
  const span = Math.max(
    max - min,
    (Math.max(Math.abs(min), Math.abs(max)) * height) / 1e4,
    labelStep * height,
    1e-9,
  );
  if (span === max - min) return {};
  const middle = min / 2 + max / 2;
  // A series that never goes below zero (a hashrate at 0 all day) gets no negative rows.
  if (min >= 0 && middle - span / 2 < 0) return { min: 0, max: span };
  return { min: middle - span / 2, max: middle + span / 2 };
}
