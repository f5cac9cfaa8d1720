// The default mode of `hashctl probe TARGETS`: one normalized row per miner. Columns are chosen with
// --wide / --fields; chip and board temperatures are coloured against the default limits of
// thermal-facts.md §6 (chip 95/105 °C, board 75/80 °C). --json prints the per-target objects of
// hashctl.md §3 with the snapshot under "snapshot".
import type { MinerClient } from '../cgminer/types.js';
import type { GlobalOptions } from '../commands/shared.js';
import type { Context } from '../context.js';
import { EXIT, HashctlError, MinerError, UsageError } from '../errors.js';
import type { Palette } from '../output/render.js';
import { terminalSafe } from '../output/terminal.js';
import type { Target } from '../targets/types.js';
import { maskUrlCredentials } from '../util/url-credentials.js';
import type { Snapshot } from './types.js';

/** The targets of a probe: iterable, counted, and whether the user named exactly one host. */
export interface ProbeTargets extends Iterable<Target> {
  readonly count: number;
  readonly singleHost?: boolean;
}

export interface SnapshotProbeOptions {
  wide: boolean;
  /** Explicit columns (`--fields a,b`); null: the default set, or the wide set with --wide. */
  fields: string[] | null;
}

export const CHIP_LIMITS_C = { warn: 95, critical: 105 } as const;
export const BOARD_LIMITS_C = { warn: 75, critical: 80 } as const;

interface Row {
  target: Target;
  snapshot: Snapshot | null;
  error: MinerError | null;
}

interface Column {
  name: string;
  head: string;
  wide: boolean;
  right?: boolean;
  cell(row: Snapshot, paint: Palette): string;
  /**
   * Into a pipe, a figure is a bare number in its base unit for scripts, under a header that says
   * the unit (`hashrate_hs`, as --json and `live` name it): `13.63 TH/s` there was one format and
   * a bare number under `HASHRATE` another.
   */
  plain?: { head: string; cell(row: Snapshot): string };
}

/** The slowest fan whose speed was read; null without one (no fans, hydro, all unread). */
function minRpm(snapshot: Snapshot): number | null {
  let min: number | null = null;
  for (const fan of snapshot.fans) if (fan.rpm !== null && (min === null || fan.rpm < min)) min = fan.rpm;
  return min;
}

const bare = (value: number | null | undefined): string =>
  value === null || value === undefined ? dash : String(value);

const dash = '-';

/** TH/s for SHA-256, ksol/s for Equihash, the fitting SI unit otherwise. */
export function formatRate(
  hs: number | null,
  algorithm: string,
  format: (hs: number | null, unit?: 'TH/s') => string,
): string {
  if (hs === null) return dash;
  if (algorithm === 'sha256d') return format(hs, 'TH/s');
  if (algorithm === 'equihash') return `${(hs / 1e3).toFixed(2)} ksol/s`;
  return format(hs);
}

function colourTemp(
  value: number | null,
  limits: { warn: number; critical: number },
  paint: Palette,
): string {
  if (value === null) return dash;
  const text = `${value}°C`;
  if (value >= limits.critical) return paint.red(text);
  if (value >= limits.warn) return paint.yellow(text);
  return text;
}

function columns(
  format: (hs: number | null, unit?: 'TH/s') => string,
  formatDuration: (ms: number) => string,
): Column[] {
  const rate = (s: Snapshot, hs: number | null) => formatRate(hs, s.algorithm, format);
  return [
    {
      name: 'miner',
      head: 'miner',
      wide: false,
      cell: (s) => [s.make, s.model].filter((v) => v !== null).join(' '),
    },
    {
      name: 'firmware',
      head: 'firmware',
      wide: false,
      cell: (s) => [s.firmware.name, s.firmware.version].filter((v) => v !== null).join(' ') || dash,
    },
    {
      name: 'hashrate',
      head: 'hashrate',
      wide: false,
      right: true,
      cell: (s) => rate(s, s.hashrate.current_hs),
      plain: { head: 'hashrate_hs', cell: (s) => bare(s.hashrate.current_hs) },
    },
    {
      name: 'average',
      head: 'average',
      wide: true,
      right: true,
      cell: (s) => rate(s, s.hashrate.average_hs),
      plain: { head: 'average_hs', cell: (s) => bare(s.hashrate.average_hs) },
    },
    {
      name: 'nominal',
      head: 'nominal',
      wide: true,
      right: true,
      cell: (s) => rate(s, s.hashrate.nominal_hs),
      plain: { head: 'nominal_hs', cell: (s) => bare(s.hashrate.nominal_hs) },
    },
    {
      name: 'boards',
      head: 'boards',
      wide: false,
      cell: (s, paint) => {
        if (s.boards.length === 0) return dash;
        const ok = s.boards.filter((b) => b.status === 'ok').length;
        const text = `${ok}/${s.boards.length}`;
        return s.boards.some((b) => b.status === 'dead')
          ? paint.red(text)
          : ok < s.boards.length && s.state !== 'sleeping'
            ? paint.yellow(text)
            : text;
      },
    },
    {
      name: 'chips',
      head: 'chips',
      wide: false,
      right: true,
      cell: (s) => {
        // Each board's count against that board's expected: a board whose count was not read
        // (`"chain_acn2":"nan"`) is left out of both, not shown as all its chips missing.
        const read = s.boards.filter((b) => b.chips !== null);
        if (read.length === 0) return dash;
        const total = read.reduce((sum, b) => sum + (b.chips ?? 0), 0);
        return read.every((b) => b.chips_expected !== null)
          ? `${total}/${read.reduce((sum, b) => sum + (b.chips_expected ?? 0), 0)}`
          : String(total);
      },
    },
    {
      name: 'chip_temp',
      head: 'chip max',
      wide: false,
      right: true,
      cell: (s, p) => colourTemp(s.temp_max_chip_c, CHIP_LIMITS_C, p),
      plain: { head: 'temp_max_chip_c', cell: (s) => bare(s.temp_max_chip_c) },
    },
    {
      name: 'board_temp',
      head: 'board max',
      wide: true,
      right: true,
      cell: (s, p) => colourTemp(s.temp_max_board_c, BOARD_LIMITS_C, p),
      plain: { head: 'temp_max_board_c', cell: (s) => bare(s.temp_max_board_c) },
    },
    {
      name: 'inlet',
      head: 'inlet',
      wide: true,
      right: true,
      cell: (s) => (s.temp_inlet_c == null ? dash : `${s.temp_inlet_c}°C`),
      plain: { head: 'temp_inlet_c', cell: (s) => bare(s.temp_inlet_c) },
    },
    {
      name: 'fans',
      head: 'fans',
      wide: false,
      cell: (s, paint) => {
        if (s.fans.length === 0) return s.cooling === 'hydro' || s.cooling === 'immersion' ? s.cooling : dash;
        const stopped = s.fans.filter((f) => f.rpm === 0).length;
        const rpms = s.fans.map((f) => f.rpm ?? 0).filter((r) => r > 0);
        const range =
          rpms.length === 0
            ? ''
            : ` ${rpms.reduce((a, b) => Math.min(a, b))}-${rpms.reduce((a, b) => Math.max(a, b))}`;
        const text = `${s.fans.length}${range}`;
        return stopped > 0 ? paint.red(`${text} (${stopped} stopped)`) : text;
      },
      // In a pipe one figure, as live prints it: the slowest fan's rpm (0: one stopped).
      plain: { head: 'fan_min_rpm', cell: (s) => bare(minRpm(s)) },
    },
    {
      name: 'power',
      head: 'power',
      wide: true,
      right: true,
      cell: (s) => (s.power_w === null ? dash : `${Math.round(s.power_w)} W`),
      plain: { head: 'power_w', cell: (s) => bare(s.power_w === null ? null : Math.round(s.power_w)) },
    },
    {
      name: 'efficiency',
      head: 'J/TH',
      wide: true,
      right: true,
      cell: (s) => (s.efficiency_j_per_th === null ? dash : s.efficiency_j_per_th.toFixed(1)),
      plain: {
        head: 'efficiency_j_per_th',
        cell: (s) => (s.efficiency_j_per_th === null ? dash : s.efficiency_j_per_th.toFixed(1)),
      },
    },
    {
      name: 'pool',
      head: 'pool',
      wide: false,
      cell: (s) => s.pools.find((p) => p.active)?.url.replace(/^stratum\d?\+tcp:\/\//, '') ?? dash,
    },
    {
      name: 'uptime',
      head: 'uptime',
      wide: false,
      right: true,
      // Whole seconds: a miner that has just started is up 0s (formatDuration says 0ms below a second).
      cell: (s) => (s.uptime_s === null ? dash : s.uptime_s < 1 ? '0s' : formatDuration(s.uptime_s * 1000)),
      plain: { head: 'uptime_s', cell: (s) => bare(s.uptime_s) },
    },
    { name: 'state', head: 'state', wide: true, cell: (s) => s.state ?? dash },
    {
      name: 'errors',
      head: 'errors',
      wide: true,
      cell: (s, paint) =>
        s.errors.length === 0
          ? ''
          : paint.yellow(
              terminalSafe(
                [...new Set(s.errors.map((e) => (e.code === null ? e.message : String(e.code))))].join(' '),
                true,
              ),
            ),
    },
  ];
}

export const FIELD_NAMES = [
  'target',
  ...columns(
    () => '',
    () => '',
  ).map((c) => c.name),
];

/** The columns for the options; unknown names are a usage error that lists the valid ones. */
export function selectFields(opts: SnapshotProbeOptions): string[] {
  if (opts.fields === null) {
    return [
      'target',
      ...columns(
        () => '',
        () => '',
      )
        .filter((c) => opts.wide || !c.wide)
        .map((c) => c.name),
    ];
  }
  const unknown = opts.fields.filter((f) => !FIELD_NAMES.includes(f));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; valid: ${FIELD_NAMES.join(', ')}`,
    );
  }
  return opts.fields;
}

function jsonResult(row: Row, elapsedMs: number): Record<string, unknown> {
  const base = {
    target: row.target.key,
    host: row.target.host,
    port: row.target.port,
    ok: row.error === null,
    elapsed_ms: elapsedMs,
  };
  return row.error === null ? { ...base, snapshot: row.snapshot } : { ...base, error: row.error.toJSON() };
}

/**
 * The snapshot as probe shows it: a pool URL's own credentials (`stratum+tcp://user:pw@host`, which
 * some farms write) masked as `***@`, in the table and in --json, which people paste into tickets.
 * `--command pools` still shows the miner's reply as it came.
 */
function withoutUrlCredentials(snapshot: Snapshot): Snapshot {
  if (!snapshot.pools.some((pool) => pool.url.includes('@'))) return snapshot;
  return {
    ...snapshot,
    pools: snapshot.pools.map((pool) => ({ ...pool, url: maskUrlCredentials(pool.url) })),
  };
}

export async function runSnapshotProbe(
  targets: ProbeTargets,
  opts: SnapshotProbeOptions,
  globals: GlobalOptions,
  ctx: Context,
  makeClient: () => Promise<MinerClient>,
): Promise<number> {
  const fields = selectFields(opts); // before any traffic
  const [
    { defaultConcurrency },
    { runPool },
    render,
    { formatDuration },
    { fetchSnapshot, createDialectCache },
  ] = await Promise.all([
    import('../cgminer/limits.js'),
    import('../util/pool.js'),
    import('../output/render.js'),
    import('../util/duration.js'),
    import('./fetch.js'),
  ]);
  const client = await makeClient();
  const cache = createDialectCache();
  const indexed = function* (): Generator<[number, Target]> {
    let index = 0;
    for (const target of targets) yield [index++, target];
  };
  /** A target's row and how long it took; no row when Ctrl-C cut it short. */
  const pollOne = async ([index, target]: [number, Target]): Promise<[number, Row | null, number]> => {
    const started = ctx.now();
    try {
      const { snapshot } = await fetchSnapshot(client, target, { signal: ctx.signal, cache });
      return [
        index,
        { target, snapshot: withoutUrlCredentials(snapshot), error: null },
        Math.max(0, Math.round(ctx.now() - started)),
      ];
    } catch (error) {
      // Cut short by Ctrl-C: no row (it would say nothing true); the finished rows are still shown.
      if (error instanceof HashctlError && error.kind === 'interrupted') return [index, null, 0];
      if (!(error instanceof MinerError)) throw error;
      return [index, { target, snapshot: null, error }, Math.max(0, Math.round(ctx.now() - started))];
    }
  };

  const limit = Math.max(1, Math.min(globals.concurrency ?? defaultConcurrency(), targets.count || 1));
  const polled = runPool(indexed(), limit, pollOne, { signal: ctx.signal });
  let shown = 0;
  let failed = 0;
  if (globals.json) {
    // Written result by result in target order, never as one string (see PerTargetJsonStream).
    const document = new render.PerTargetJsonStream<Record<string, unknown>>(ctx.stdout, targets.singleHost);
    for await (const [index, row, elapsed] of polled) {
      if (row !== null) {
        shown++;
        if (row.error !== null) failed++;
      }
      document.put(index, row === null ? null : jsonResult(row, elapsed));
      // A reader slower than the miners holds the probe back, rather than a queue of its parts.
      await render.outputRoom(ctx.stdout, ctx.signal);
    }
    // Not in `finally`: a run that failed half-way leaves the document unfinished (`| jq` says so).
    document.end();
  } else {
    const results: [number, Row, number][] = [];
    for await (const [index, row, elapsed] of polled) if (row !== null) results.push([index, row, elapsed]);
    results.sort((a, b) => a[0] - b[0]);
    shown = results.length;
    failed = results.filter(([, row]) => row.error !== null).length;
    const paint = await render.palette(globals.color);
    const all = columns(render.formatHashrate, formatDuration);
    const chosen = fields.map((name) => all.find((c) => c.name === name));
    const plain = ctx.stdout.isTTY !== true;
    const head = fields.map((name, i) => {
      const column = chosen[i];
      if (name === 'target' || !column) return name;
      return plain && column.plain ? column.plain.head : column.head;
    });
    const rows = results.map(([, row]) =>
      fields.map((name, i) => {
        if (name === 'target') return row.target.key;
        const column = chosen[i];
        if (row.snapshot === null || !column) {
          // The first data column carries the failure so the row still says why.
          return i === fields.findIndex((f) => f !== 'target')
            ? // What the miner said, strictly visible: only hashctl's own red may paint the cell.
              paint.red(`${row.error?.kind ?? 'error'}: ${terminalSafe(row.error?.message ?? '', true)}`)
            : '';
        }
        return plain && column.plain ? column.plain.cell(row.snapshot) : column.cell(row.snapshot, paint);
      }),
    );
    const alignRight = fields.map((_, i) => (chosen[i]?.right ? i : -1)).filter((i) => i >= 0);
    await render.writeTable(ctx.stdout, head, rows, { alignRight });
    if (fields.every((name) => name === 'target')) {
      // No data column to carry a failure (`--fields target`): said on stderr, as an exit 1 always
      // says why (even with --quiet); the address alone left the reason nowhere.
      for (const [, row] of results) {
        if (row.error !== null)
          ctx.stderr.write(
            `hashctl: ${row.target.key}: ${row.error.kind}: ${terminalSafe(row.error.message, true)}\n`,
          );
      }
    }
  }
  if (ctx.signal.aborted) {
    const skipped = targets.count - shown;
    if (!globals.quiet)
      ctx.stderr.write(
        `hashctl: interrupted; ${skipped} target${skipped === 1 ? '' : 's'} not finished or not started were skipped\n`,
      );
    return EXIT.interrupted;
  }
  return failed > 0 ? EXIT.failed : EXIT.ok;
}
