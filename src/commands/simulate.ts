// `hashctl simulate`: a farm of simulated miners on loopback (hashctl.md §6). Flags → options →
// startFarm; prints the inventory once every listener is up, then serves until SIGINT/SIGTERM.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import type { FarmOptions } from '../sim/index.js';
import { parseIntFlag, parseTimerDuration } from '../util/duration.js';
import { type GlobalOptions, namedFlag, type RegisterCommand } from './shared.js';

export interface SimulateOptions {
  listProfiles: boolean;
  farm: FarmOptions;
  /** Raw specs, parsed lazily with the simulator module. */
  addressesSpec: string | null;
  faultsSpec: string | null;
  faultShareSpec: string | null;
  deadBoardsSpec: string | null;
  failedFansSpec: string | null;
  inventoryFile: string | null;
}

/** A loopback address (127.0.0.0/8 or ::1): a simulator never listens where the LAN could reach it. */
function loopbackHost(host: string): string {
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4?.slice(1).every((part) => Number(part) <= 255) || host === '::1' || host === 'localhost')
    return host;
  throw new UsageError(
    `invalid --host '${host}': the simulator listens on loopback only (127.0.0.0/8, ::1 or localhost)`,
  );
}

export function parseSimulateOptions(
  raw: Record<string, unknown>,
  globals: GlobalOptions,
  given: (key: string) => boolean = () => false,
): SimulateOptions {
  const text = (key: string): string | null => (raw[key] === undefined ? null : String(raw[key]));
  if (text('addresses') !== null && (given('count') || given('host') || given('basePort')))
    throw new UsageError(
      '--addresses starts one miner per address, all on --port (default 4028): it takes no --count, --host or --base-port',
    );
  const writes = text('writes');
  if (writes !== null && writes !== 'allow' && writes !== 'deny') {
    throw new UsageError(
      `invalid --writes '${writes}': use allow or deny (default: each profile's own access)`,
    );
  }
  // An empty file name (`--log "$LOG"` with LOG unset) names the flag, not an ENOENT.
  namedFlag(raw, 'inventory', '--inventory', 'a file name');
  namedFlag(raw, 'log', '--log', 'a file name');
  const ambient = text('ambient') ?? '25';
  if (!/^-?\d+(\.\d+)?$/.test(ambient.trim()) || Math.abs(Number(ambient)) > 80) {
    throw new UsageError(`invalid --ambient '${ambient}': degrees Celsius between -80 and 80`);
  }
  return {
    listProfiles: raw.listProfiles === true,
    addressesSpec: text('addresses'),
    faultsSpec: text('faults'),
    faultShareSpec: text('faultShare'),
    deadBoardsSpec: text('deadBoards'),
    failedFansSpec: text('failedFans'),
    inventoryFile: text('inventory'),
    farm: {
      profile: text('profile') ?? 'mix',
      host: loopbackHost(text('host') ?? '127.0.0.1'),
      basePort: parseIntFlag(text('basePort') ?? '4028', '--base-port', 0, 65_535),
      count: parseIntFlag(text('count') ?? '1', '--count', 1, 20_000),
      port: globals.port,
      seed: parseIntFlag(text('seed') ?? '1', '--seed', 0, 2 ** 31),
      ambientC: Number(ambient),
      writes: writes === null ? undefined : writes,
      restartDelayMs: parseTimerDuration(text('restartDelay') ?? '3s', '--restart-delay'),
      logFile: text('log') ?? undefined,
      logLimit: 0,
    },
  };
}

export async function runSimulate(
  opts: SimulateOptions,
  globals: GlobalOptions,
  ctx: Context,
): Promise<number> {
  const sim = await import('../sim/index.js');
  if (opts.listProfiles) {
    const { writeTable } = await import('../output/render.js');
    const rows = sim.PROFILES.map((p) => ({
      name: p.name,
      make: p.make,
      model: p.model,
      firmware: `${p.firmware.name} ${p.firmware.version}`,
      algorithm: p.algorithm,
      nominal_ths: p.algorithm === 'scrypt' ? null : p.nominalHs / 1e12,
      nominal_mhs: p.algorithm === 'scrypt' ? p.nominalHs / 1e6 : null,
      boards: p.chains.length,
      chips_per_board: p.chipsPerChain,
      fans: p.fanSlots.length,
      joins: p.joins,
      writes: p.defaultAccess,
      samples: p.samples,
    }));
    if (globals.json) {
      ctx.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    // Into a pipe, the rate is a bare number in H/s under a header that says so, as other commands have it.
    const tty = ctx.stdout.isTTY === true;
    await writeTable(
      ctx.stdout,
      [
        'profile',
        'make',
        'model',
        'firmware',
        tty ? 'nominal' : 'nominal_hs',
        'boards×chips',
        'fans',
        'joins',
        'writes',
      ],
      rows.map((r, i) => [
        r.name,
        r.make,
        r.model,
        r.firmware,
        !tty
          ? String(sim.PROFILES[i]?.nominalHs ?? '-')
          : r.nominal_ths !== null
            ? `${r.nominal_ths} TH/s`
            : `${r.nominal_mhs} MH/s`,
        `${r.boards}×${r.chips_per_board}`,
        String(r.fans),
        r.joins ? 'yes' : 'no',
        r.writes,
      ]),
    );
    return 0;
  }
  const farmOptions: FarmOptions = {
    ...opts.farm,
    onLogError: (error) =>
      ctx.stderr.write(
        `hashctl: simulate: cannot write --log ${opts.farm.logFile ?? ''}: ${error.code ?? error.message}; logging stopped, the farm keeps running\n`,
      ),
  };
  if (opts.addressesSpec !== null) farmOptions.addresses = sim.parseAddresses(opts.addressesSpec);
  if (opts.faultsSpec !== null) farmOptions.faults = sim.parseFaults(opts.faultsSpec);
  if (opts.faultShareSpec !== null)
    farmOptions.faultShare = sim.parseShare(opts.faultShareSpec, '--fault-share');
  if (opts.deadBoardsSpec !== null)
    farmOptions.deadBoards = sim.parseShare(opts.deadBoardsSpec, '--dead-boards');
  if (opts.failedFansSpec !== null)
    farmOptions.failedFans = sim.parseShare(opts.failedFansSpec, '--failed-fans');
  if (farmOptions.profile !== 'mix') sim.findProfile(farmOptions.profile ?? 'mix');
  // Checked before a single port is bound (a missing folder is exit 2 at once, not after 10,000
  // listeners started and stopped again).
  const { checkOutFile, writeOutFile, FIFO_READER_WAIT_MS } = await import('../util/out-file.js');
  const inventoryFile = opts.inventoryFile === null ? null : resolve(ctx.cwd, opts.inventoryFile);
  if (inventoryFile !== null) await checkOutFile(inventoryFile, opts.inventoryFile ?? '', '--inventory');
  if (ctx.signal.aborted) return 130;

  const farm = await sim.startFarm(farmOptions);
  // Ctrl-C while a large farm was starting: no inventory naming ports about to close. One turn of
  // the event loop first, so that a signal that came during the start has been handled.
  await new Promise((resolve) => setImmediate(resolve));
  if (ctx.signal.aborted) {
    await farm.stop();
    return 130;
  }
  try {
    // --json: one document describing each miner; otherwise targets, one per line (an @FILE).
    const inventory = globals.json
      ? `${JSON.stringify(
          farm.miners.map((m) => ({
            target: m.key,
            host: m.host,
            port: m.port,
            profile: m.profile.name,
            make: m.profile.make,
            model: m.profile.model,
          })),
        )}\n`
      : `${farm.inventory().join('\n')}\n`;
    if (inventoryFile !== null) {
      // Through a temporary name and a rename: a script waiting for the file (`simulate --inventory
      // f & until [ -s f ]…`) never reads half of it, nor an emptied stale one.
      await writeOutFile(
        inventoryFile,
        inventory,
        opts.inventoryFile ?? '',
        FIFO_READER_WAIT_MS,
        '--inventory',
      );
    } else {
      ctx.stdout.write(inventory);
    }
    if (!globals.quiet) {
      const counts = new Map<string, number>();
      for (const m of farm.miners) counts.set(m.profile.name, (counts.get(m.profile.name) ?? 0) + 1);
      const mix = [...counts].map(([name, n]) => `${n} ${name}`).join(', ');
      ctx.stderr.write(
        `hashctl: simulating ${farm.miners.length} miner${farm.miners.length === 1 ? '' : 's'} (${mix}); stop with Ctrl-C\n`,
      );
    }
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await farm.stop();
  }
  return 0;
}

export const registerSimulate: RegisterCommand = (program, env) => {
  program
    .command('simulate')
    .description('run a farm of simulated miners on loopback (CGMiner API), for trials, demos and tests')
    .option('--profile <name>', 'a profile (see --list-profiles) or mix', 'mix')
    .option('--list-profiles', 'list the profiles and exit')
    .option('--seed <n>', 'seed for the mix, faults, dead boards and noise', '1')
    .option('--host <address>', 'loopback address for --count miners', '127.0.0.1')
    .option('--base-port <port>', 'first port (0 = any free ports)', '4028')
    .option('--count <n>', 'number of miners on --host', '1')
    .option(
      '--addresses <cidr>',
      'one miner per loopback address (e.g. 127.0.1.0/24) on --port; no --count/--host/--base-port',
    )
    .option('--ambient <celsius>', 'ambient temperature', '25')
    .option('--dead-boards <share>', 'share of miners with a dead hashboard (e.g. 5%)')
    .option('--failed-fans <share>', 'share of miners with a failed or worn fan (e.g. 5%)')
    .option('--writes <mode>', 'force write access: allow or deny (default: per profile)')
    .option(
      '--faults <spec>',
      'latency=80ms,jitter=40ms,timeout=2%,hang=1%,malformed=1%,refused=1%,flap=1%,empty=1%',
    )
    .option('--fault-share <share>', 'share of miners the faults apply to (default 100%)')
    .option('--restart-delay <duration>', 'how long a restarted miner stays unavailable (at most 24d)', '3s')
    .option('--inventory <file>', 'write the inventory (host:port per line) to a file instead of stdout')
    .option('--log <file>', 'append every received command as NDJSON')
    .action(async (raw: Record<string, unknown>, command: Command) => {
      const globals = env.globals(command);
      const given = (key: string) => command.getOptionValueSource(key) === 'cli';
      env.exit(await runSimulate(parseSimulateOptions(raw, globals, given), globals, env.ctx));
    });
};
