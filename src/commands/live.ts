// `hashctl live`: the farm now, from the last cycles collect stored. Stale figures show their age
// and never count as online. THERMAL is the status collect stored with hysteresis (thermal_state);
// --problems lists critical miners first, then warn, then the other problems.
import type { Command } from 'commander';
import type { LiveMiner, LiveSort } from '../collect/farm.js';
import type { Context } from '../context.js';
import { EXIT, StoreError, UsageError } from '../errors.js';
import { formatHashrate, palette, writeJson, writeTable } from '../output/render.js';
import { parsePositiveDuration } from '../util/duration.js';
import {
  type GlobalOptions,
  namedFlag,
  READER_CONFIG_HELP,
  READER_DB_HELP,
  type RegisterCommand,
  readerDbPath,
  upgradeNote,
} from './shared.js';

export interface LiveOptions {
  dbPath: string;
  site: string | null;
  sort: LiveSort;
  problemsOnly: boolean;
  /** null: each site's default (10m, or 2.5 of its collector's intervals when longer). */
  staleAfterMs: number | null;
}

const SORTS: readonly LiveSort[] = ['miner', 'hashrate', 'temp', 'age'];

export async function parseLiveOptions(raw: Record<string, unknown>, ctx: Context): Promise<LiveOptions> {
  const sort = ((raw.sort as string | undefined) ?? 'miner').toLowerCase();
  if (!SORTS.includes(sort as LiveSort))
    throw new UsageError(`invalid --sort '${sort}': use ${SORTS.join(', ')}`);
  return {
    dbPath: await readerDbPath(raw, ctx),
    site: namedFlag(raw, 'site', '--site', 'a site name') ?? null,
    sort: sort as LiveSort,
    problemsOnly: raw.problems === true,
    staleAfterMs:
      raw.staleAfter === undefined ? null : parsePositiveDuration(String(raw.staleAfter), '--stale-after'),
  };
}

export async function runLive(opts: LiveOptions, globals: GlobalOptions, ctx: Context): Promise<number> {
  const { openStore, liveStatements, siteStatements, translateSqliteError } = await import(
    '../store/index.js'
  );
  const { runStatements } = await import('../store/runs.js');
  const { collectedStatements } = await import('../store/rollups.js');
  const { describeMiner, summarizeFarm, sortMiners, formatAge, BELOW_NOMINAL_RATIO, defaultStaleAfterMs } =
    await import('../collect/farm.js');
  const { readLiveThermal } = await import('../collect/read.js');
  const { commandLogStatements } = await import('../store/command-log.js');
  const { pausedBy } = await import('../thermal/paused.js');
  const store = openStore(opts.dbPath, { readonly: true, onUpgrade: upgradeNote(globals, ctx) });
  let miners: LiveMiner[] = [];
  // Cycles were stored, though no miner is listed now (retention retired them all). A site row
  // alone does not say so: `thermal check` (--db, --protect) writes one too, and no telemetry.
  let collected = false;
  let sitesOnly = false;
  try {
    // One read snapshot for the whole view: read statement by statement, a cycle collect committed
    // in between showed a miner's figures of one cycle beside its thermal state of the one before.
    store.snapshot(() => {
      let siteId: number | null = null;
      if (opts.site !== null) {
        const site = store.prepared(siteStatements).find(opts.site);
        if (!site) throw new UsageError(`no site '${opts.site}' in ${opts.dbPath}`);
        siteId = site.id;
      }
      const now = ctx.now();
      const thermal = readLiveThermal(store, siteId);
      const log = store.prepared(commandLogStatements);
      const runs = store.prepared(runStatements);
      const staleAfter = new Map<number, number>();
      const staleAfterFor = (siteId: number): number => {
        if (opts.staleAfterMs !== null) return opts.staleAfterMs;
        let ms = staleAfter.get(siteId);
        if (ms === undefined) {
          ms = defaultStaleAfterMs(runs.recentStarts(siteId, 4));
          staleAfter.set(siteId, ms);
        }
        return ms;
      };
      miners = store
        .prepared(liveStatements)
        .list(siteId)
        .map((row) =>
          describeMiner(row, now, staleAfterFor(row.site_id), thermal.get(row.miner_id) ?? null, {
            // Asked only of miners that answered and hash nothing: a pause hashctl made says so.
            pausedBy: row.ok === 1 && row.hashrate_hs === 0 ? pausedBy(log, row.host, row.port) : null,
          }),
        );
      if (miners.length === 0) {
        const ever = store.prepared(collectedStatements);
        const scope =
          siteId !== null
            ? [siteId]
            : store
                .prepared(siteStatements)
                .list()
                .map((s) => s.id);
        collected = scope.some((id) => ever.everCollected(id));
        sitesOnly = !collected && scope.length > 0;
      }
    });
  } catch (error) {
    // A damaged page is said as collect says it ("… is not a hashctl database or is damaged"),
    // not as an internal error.
    throw translateSqliteError(error, opts.dbPath);
  } finally {
    store.close();
  }
  // Every miner retired by retention: its collector has not run within --retain.
  if (collected)
    throw new StoreError(
      'io',
      `no miner${opts.site === null ? '' : ` of site ${opts.site}`} in ${opts.dbPath} was polled within its collect's --retain (retention took them out of live): is collect still running? (hashctl history shows what the rollups kept)`,
    );
  // Sites only `thermal check` wrote (thermal state, no telemetry): nothing collected yet.
  if (sitesOnly)
    throw new StoreError(
      'io',
      `nothing collected into ${opts.site === null ? '' : `site ${opts.site} of `}${opts.dbPath} yet: only \`thermal check\` (--db, --protect) has written to it; run \`hashctl collect\` with this --db${opts.site === null ? '' : ' and --site'} first`,
    );
  // A file with the schema but no cycle yet (its first collect was killed): as for an empty file.
  if (miners.length === 0)
    throw new StoreError(
      'io',
      `nothing stored in ${opts.dbPath} yet: run \`hashctl collect\` first (or pass --db)`,
    );
  const now = ctx.now();
  const summary = summarizeFarm(miners, now);
  const shown = sortMiners(
    opts.problemsOnly ? miners.filter((m) => m.problems.length > 0) : miners,
    opts.sort,
    { hotFirst: opts.problemsOnly },
  );

  if (globals.json) {
    writeJson(ctx.stdout, { site: opts.site, summary, miners: shown });
    return EXIT.ok;
  }
  const tty = ctx.stdout.isTTY === true;
  const paint = await palette(globals.color);
  if (tty) {
    const sha256dOnline = miners.filter((m) => m.state === 'online' && m.algorithm === 'sha256d').length;
    const hot = summary.hottest.map((h) => `${h.miner} ${h.temp_c.toFixed(1)}°C`).join(', ');
    ctx.stdout.write(
      `${paint.bold(`${summary.miners} miner${summary.miners === 1 ? '' : 's'}`)}: ${paint.green(`${summary.online} online`)}, ` +
        `${summary.offline > 0 ? paint.red(`${summary.offline} offline`) : '0 offline'}, ` +
        `${summary.stale > 0 ? paint.yellow(`${summary.stale} stale`) : '0 stale'}; ` +
        `total ${formatHashrate(summary.hashrate_hs)}` +
        `${summary.hashrate_unknown > 0 ? ` (${summary.hashrate_unknown} miner${summary.hashrate_unknown === 1 ? '' : 's'} without a hashrate reading)` : ''}` +
        // A nominal that leaves out the miners without one is not what the total is "of".
        `${
          !summary.nominal_hs
            ? ''
            : summary.nominal_unknown === 0
              ? ` of ${formatHashrate(summary.nominal_hs)} nominal`
              : ` (nominal ${formatHashrate(summary.nominal_hs)} for ${sha256dOnline - summary.nominal_unknown} of ${sha256dOnline} miners)`
        }` +
        Object.entries(summary.other_algorithms)
          .map(
            ([algorithm, group]) => `; ${algorithm} ${formatHashrate(group.hashrate_hs)} (${group.miners})`,
          )
          .join('') +
        `${
          summary.power_w
            ? `, ${(summary.power_w / 1000).toFixed(1)} kW${summary.power_unknown > 0 ? ` (${summary.online - summary.power_unknown} of ${summary.online} miners report power)` : ''}`
            : ''
        }\n`,
    );
    if (hot) ctx.stdout.write(`hottest: ${hot}\n`);
    const list = (miners: string[]) => `${miners.slice(0, 5).join(', ')}${miners.length > 5 ? ', …' : ''}`;
    const critical = summary.thermal_critical;
    const warn = summary.thermal_warn;
    if (critical.length > 0 || warn.length > 0) {
      ctx.stdout.write(
        `thermal: ${critical.length > 0 ? paint.red(`${critical.length} critical`) : '0 critical'}` +
          `${critical.length > 0 ? ` (${list(critical)})` : ''}, ` +
          `${warn.length > 0 ? paint.yellow(`${warn.length} warn`) : '0 warn'}` +
          `${warn.length > 0 ? ` (${list(warn)})` : ''}\n`,
      );
    }
    if (summary.below_nominal.length > 0) {
      ctx.stdout.write(
        `below ${Math.round(BELOW_NOMINAL_RATIO * 100)}% of nominal: ${summary.below_nominal.length} (${list(summary.below_nominal)})\n`,
      );
    }
    if (summary.not_hashing.length > 0) {
      ctx.stdout.write(`not hashing: ${summary.not_hashing.length} (${list(summary.not_hashing)})\n`);
    }
    if (summary.missing_chips.length > 0) {
      ctx.stdout.write(`missing chips: ${summary.missing_chips.length} (${list(summary.missing_chips)})\n`);
    }
  }
  // Lowercase as every command's header. On a terminal, figures with their units in the cells; into a
  // pipe, raw numbers in base units for scripts, so the header carries the unit, named as --json
  // names the field (a bare HASHRATE over 110570000000000 did not say H/s, nor AGE seconds).
  const head = tty
    ? [
        'miner',
        'state',
        'age',
        'thermal',
        'model',
        'hashrate',
        'nominal%',
        'chip°C',
        'board°C',
        'fan min',
        'chips',
        'power W',
        'problems',
      ]
    : [
        'miner',
        'state',
        'age_s',
        'thermal_status',
        'model',
        'hashrate_hs',
        'nominal_pct',
        'temp_chip_max_c',
        'temp_board_max_c',
        'fan_min_rpm',
        'chips',
        'power_w',
        'problems',
      ];
  const num = (value: number | null, digits = 0) => (value === null ? '-' : value.toFixed(digits));
  const rows = shown.map((m) => {
    const stateText =
      m.state === 'online'
        ? paint.green(m.state)
        : m.state === 'offline'
          ? paint.red(m.state)
          : paint.yellow(m.state);
    // On a TTY, figures that are not current are dimmed; in text output the STATE column says so.
    const figure = (text: string) => (m.current ? text : paint.dim(text));
    const model = [m.make, m.model].filter(Boolean).join(' ') || '-';
    const thermal =
      m.thermal_status === 'critical'
        ? paint.red(m.thermal_status)
        : m.thermal_status === 'warn'
          ? paint.yellow(m.thermal_status)
          : m.thermal_status === 'ok'
            ? paint.green(m.thermal_status)
            : paint.dim(m.thermal_status);
    return [
      m.miner,
      tty ? stateText : m.state,
      m.age_s === null ? '-' : tty ? formatAge(m.age_s) : String(m.age_s),
      tty ? figure(thermal) : m.thermal_status,
      model,
      figure(tty ? formatHashrate(m.hashrate_hs) : num(m.hashrate_hs)),
      figure(m.hashrate_ratio === null ? '-' : `${Math.round(m.hashrate_ratio * 100)}`),
      figure(num(m.temp_chip_max_c, 1)),
      figure(num(m.temp_board_max_c, 1)),
      figure(num(m.fan_min_rpm)),
      figure(
        m.chips === null
          ? '-'
          : m.chips_expected === null
            ? String(m.chips)
            : `${m.chips}/${m.chips_expected}`,
      ),
      figure(num(m.power_w)),
      m.problems.join('; ') || '-',
    ];
  });
  const alignRight = [2, 5, 6, 7, 8, 9, 10, 11];
  // One host polled under several sites is several rows: say which is which.
  if (new Set(shown.map((m) => m.site)).size > 1) {
    head.splice(1, 0, 'site');
    for (const [i, m] of shown.entries()) rows[i]?.splice(1, 0, m.site);
    await writeTable(ctx.stdout, head, rows, { alignRight: alignRight.map((i) => i + 1) });
  } else await writeTable(ctx.stdout, head, rows, { alignRight });
  return EXIT.ok;
}

export const registerLive: RegisterCommand = (program, env) => {
  program
    .command('live')
    .description('show the farm now: online, offline and stale miners, hashrate, hottest, problems')
    .option('--site <id>', 'only this site')
    .option('--sort <key>', `order: ${SORTS.join(', ')} (default miner)`)
    .option(
      '--problems',
      'only miners with a problem, hot first (thermal critical, warn; offline, stale, low or no hashrate, missing chips)',
    )
    .option(
      '--stale-after <duration>',
      'figures older than this are stale (default 10m, or 2.5 collect intervals when collect runs less often)',
    )
    .option('--db <path>', READER_DB_HELP)
    .option('--config <file>', READER_CONFIG_HELP)
    .action(async (raw: Record<string, unknown>, command: Command) => {
      const globals = env.globals(command);
      env.exit(await runLive(await parseLiveOptions(raw, env.ctx), globals, env.ctx));
    });
};
