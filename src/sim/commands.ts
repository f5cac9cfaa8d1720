// The upstream cgminer command semantics every profile starts from (§3.1 codes, §5.2, §15): pool
// writes that really change the pool list, privileged/check, save, restart and quit. Profiles add
// their report commands and vendor extensions on top.
import { fx, type Rec } from './json.js';
import { status } from './render.js';
import { activePool, newPool, readings, savedPools } from './state.js';
import type { AccessMode, CommandCtx, CommandSpec, MinerState, Reply, SimPool } from './types.js';

/** Bitmain stock default `api-groups` A:stats:pools:devs:summary:version (§7). */
const GROUP_A = new Set(['stats', 'pools', 'devs', 'summary', 'version']);

export function accessAllows(access: AccessMode, name: string, spec: CommandSpec): boolean {
  if (access === 'full') return true;
  if (access === 'groupA') return GROUP_A.has(name);
  return spec.access === 'read';
}

export function reply(
  ctx: CommandCtx,
  letter: 'S' | 'I' | 'W' | 'E',
  code: number,
  msg: string,
  section?: string,
  records?: Rec[],
): Reply {
  const r: Reply = { type: 'std', status: status(letter, code, msg, ctx.profile.description) };
  if (section !== undefined) {
    r.section = section;
    r.records = records ?? [];
  }
  return r;
}

export function invalidCommand(): Reply {
  // Upstream's E/14 carries no Description (§15).
  return { type: 'std', status: status('E', 14, 'Invalid command') };
}

export function accessDenied(ctx: CommandCtx, name: string): Reply {
  return reply(ctx, 'E', 45, `Access denied to '${name}' command`);
}

function poolLabel(index: number, pool: SimPool): string {
  return `${index}:'${pool.url}'`;
}

/** Parses a pool id parameter; an error reply when missing or out of range (E/25, E/26). */
function poolArg(ctx: CommandCtx): { index: number; pool: SimPool } | Reply {
  const text = (ctx.parameter ?? '').trim();
  if (text === '') return reply(ctx, 'E', 25, 'Missing pool id parameter');
  const index = Number.parseInt(text, 10);
  const pools = ctx.state.pools;
  const pool = Number.isInteger(index) && index >= 0 ? pools[index] : undefined;
  if (!pool)
    return reply(
      ctx,
      'E',
      26,
      `Invalid pool id ${Number.isNaN(index) ? text : index} - range is 0 - ${pools.length - 1}`,
    );
  return { index, pool };
}

function isReply(value: unknown): value is Reply {
  return typeof value === 'object' && value !== null && 'type' in value;
}

function renumberPriorities(state: MinerState, order: SimPool[]): void {
  order.forEach((pool, i) => {
    pool.priority = i;
  });
  const active = activePool(state);
  if (active) active.stratumActive = true;
}

function byPriority(state: MinerState): SimPool[] {
  return [...state.pools].sort((a, b) => a.priority - b.priority);
}

/** `addpool` details: `URL,USR,PASS` where `\` escapes the next character (§6). */
export function parseAddpool(text: string): { url: string; user: string; password: string } | null {
  const fields: string[] = [''];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const at = fields.length - 1;
    if (ch === '\\' && i + 1 < text.length) {
      fields[at] = `${fields[at]}${text[++i]}`;
    } else if (ch === ',' && fields.length < 3) {
      fields.push('');
    } else {
      fields[at] = `${fields[at]}${ch}`;
    }
  }
  const [url, user, password] = fields;
  if (fields.length < 3 || !url || user === undefined || !password) return null;
  return { url, user, password };
}

const switchpool: CommandSpec = {
  access: 'write',
  run(ctx) {
    const arg = poolArg(ctx);
    if (isReply(arg)) return arg;
    arg.pool.enabled = true;
    renumberPriorities(ctx.state, [arg.pool, ...byPriority(ctx.state).filter((p) => p !== arg.pool)]);
    return reply(ctx, 'S', 27, `Switching to pool ${poolLabel(arg.index, arg.pool)}`);
  },
};

const enablepool: CommandSpec = {
  access: 'write',
  run(ctx) {
    const arg = poolArg(ctx);
    if (isReply(arg)) return arg;
    if (arg.pool.enabled)
      return reply(ctx, 'I', 49, `Pool ${poolLabel(arg.index, arg.pool)} already enabled`);
    arg.pool.enabled = true;
    renumberPriorities(ctx.state, byPriority(ctx.state));
    return reply(ctx, 'S', 47, `Enabling pool ${poolLabel(arg.index, arg.pool)}`);
  },
};

const disablepool: CommandSpec = {
  access: 'write',
  run(ctx) {
    const arg = poolArg(ctx);
    if (isReply(arg)) return arg;
    if (!arg.pool.enabled)
      return reply(ctx, 'I', 50, `Pool ${poolLabel(arg.index, arg.pool)} already disabled`);
    const otherEnabled = ctx.state.pools.some((p) => p !== arg.pool && p.enabled);
    if (!otherEnabled)
      return reply(ctx, 'E', 51, `Cannot disable last active pool ${poolLabel(arg.index, arg.pool)}`);
    arg.pool.enabled = false;
    renumberPriorities(ctx.state, byPriority(ctx.state));
    return reply(ctx, 'S', 48, `Disabling pool ${poolLabel(arg.index, arg.pool)}`);
  },
};

const addpool: CommandSpec = {
  access: 'write',
  run(ctx) {
    if (ctx.parameter === null || ctx.parameter === '') return reply(ctx, 'E', 52, 'Missing addpool details');
    const details = parseAddpool(ctx.parameter);
    if (!details) return reply(ctx, 'E', 53, `Invalid addpool details '${ctx.parameter}'`);
    const pool = newPool(
      { ...details, priority: ctx.state.pools.length, enabled: true },
      ctx.profile.shareDiff,
    );
    ctx.state.pools.push(pool);
    return reply(ctx, 'S', 55, `Added pool ${ctx.state.pools.length - 1}: '${details.url}'`);
  },
};

const removepool: CommandSpec = {
  access: 'write',
  run(ctx) {
    const arg = poolArg(ctx);
    if (isReply(arg)) return arg;
    if (ctx.state.pools.length <= 1)
      return reply(ctx, 'E', 66, `Cannot remove last pool ${poolLabel(arg.index, arg.pool)}`);
    if (activePool(ctx.state) === arg.pool)
      return reply(ctx, 'E', 67, `Cannot remove active pool ${poolLabel(arg.index, arg.pool)}`);
    ctx.state.pools.splice(arg.index, 1);
    renumberPriorities(ctx.state, byPriority(ctx.state));
    return reply(ctx, 'S', 68, `Removed pool ${poolLabel(arg.index, arg.pool)}`);
  },
};

const poolpriority: CommandSpec = {
  access: 'write',
  run(ctx) {
    const text = (ctx.parameter ?? '').trim();
    if (text === '') return reply(ctx, 'E', 25, 'Missing pool id parameter');
    const pools = ctx.state.pools;
    const listed: SimPool[] = [];
    for (const part of text.split(',')) {
      const index = Number.parseInt(part, 10);
      const pool = Number.isInteger(index) && index >= 0 ? pools[index] : undefined;
      if (!pool) return reply(ctx, 'E', 26, `Invalid pool id ${part} - range is 0 - ${pools.length - 1}`);
      if (listed.includes(pool)) return reply(ctx, 'E', 74, `Duplicate pool specified ${index}`);
      listed.push(pool);
    }
    renumberPriorities(ctx.state, [...listed, ...byPriority(ctx.state).filter((p) => !listed.includes(p))]);
    return reply(ctx, 'S', 73, 'Changed pool priorities');
  },
};

const privileged: CommandSpec = {
  access: 'write',
  run: (ctx) => reply(ctx, 'S', 46, 'Privileged access OK'),
};

const save: CommandSpec = {
  access: 'write',
  run(ctx) {
    const file = ctx.parameter && ctx.parameter !== '' ? ctx.parameter : '/config/cgminer.conf';
    ctx.state.savedPools = savedPools(ctx.state.pools);
    return reply(ctx, 'S', 44, `Configuration saved to file '${file}'`);
  },
};

const restart: CommandSpec = {
  access: 'write',
  run(ctx) {
    ctx.after = 'restart';
    return { type: 'object', object: { STATUS: 'RESTART', id: 1 }, text: 'RESTART' };
  },
};

const quit: CommandSpec = {
  access: 'write',
  run(ctx) {
    ctx.after = 'quit';
    return { type: 'object', object: { STATUS: 'BYE', id: 1 }, text: 'BYE' };
  },
};

const check: CommandSpec = {
  access: 'read',
  run(ctx) {
    const name = (ctx.parameter ?? '').trim();
    if (name === '') return reply(ctx, 'E', 71, 'Missing check cmd');
    const spec = ctx.profile.commands[name];
    // A command the profile only refuses (btminer's `version`) is one the firmware lacks.
    const exists = spec !== undefined && spec.missing !== true;
    const access = exists && accessAllows(ctx.state.access, name, spec);
    return reply(ctx, 'S', 72, 'Check command', 'CHECK', [
      { Exists: exists ? 'Y' : 'N', Access: access ? 'Y' : 'N' },
    ]);
  },
};

/** Upstream `ascset` for drivers without options: W/117 (E/10 when the miner has no ASCs). */
const ascset: CommandSpec = {
  access: 'write',
  run(ctx) {
    const count = ctx.profile.chains.length;
    if (count === 0) return reply(ctx, 'E', 10, 'No ASCs');
    const text = ctx.parameter ?? '';
    if (text === '') return reply(ctx, 'E', 15, 'Missing device id parameter');
    const id = Number.parseInt(text, 10);
    if (!(id >= 0 && id < count))
      return reply(ctx, 'E', 107, `Invalid ASC id ${text} - range is 0 - ${count - 1}`);
    return reply(ctx, 'W', 117, `ASC ${id} does not support ascset`);
  },
};

/** The write and meta commands shared by every cgminer-derived firmware. */
export function upstreamCommands(): Record<string, CommandSpec> {
  return {
    switchpool,
    enablepool,
    disablepool,
    addpool,
    removepool,
    poolpriority,
    privileged,
    save,
    restart,
    quit,
    check,
    ascset,
  };
}

export const READ_JOINABLE = (run: CommandSpec['run']): CommandSpec => ({
  access: 'read',
  joinable: true,
  run,
});
export const READ_ONLY = (run: CommandSpec['run']): CommandSpec => ({ access: 'read', run });

/** Runs the profile's own report command `name` (edevs → devs, estats → stats). */
function own(ctx: CommandCtx, name: string): Reply {
  const spec = ctx.profile.commands[name];
  return spec ? spec.run(ctx) : invalidCommand();
}

/** The device records of the profile's own `devs` (none when it answers E/10 `No ASCs`). */
function ownDevices(ctx: CommandCtx): Rec[] {
  const devs = own(ctx, 'devs');
  return devs.type === 'std' && devs.status.STATUS === 'S' ? (devs.records ?? []) : [];
}

/** C's atoi: leading digits, else 0 (upstream reads a device id so: `asc abc` is ASC 0). */
function atoi(text: string): number {
  const match = /^\s*([+-]?\d+)/.exec(text);
  return match ? Number.parseInt(match[1] as string, 10) : 0;
}

/**
 * Upstream's per-device and status reports (§5.1; codes and texts of cgminer 4.x api.c): `asc N`
 * (S/106 `ASCN` with that device's `devs` record, E/15 without N, E/107 out of range, E/105 with
 * no ASCs), `lcd` (S/125, one record), `notify` (S/60, one record per device), `usbstats` (I/88
 * `No USB Statistics`: these controllers have no libusb devices) and `pgacount` (S/59, none).
 * No capture holds them: shaped from upstream, their figures from the miner's own state.
 */
export function deviceReports(): Record<string, CommandSpec> {
  return {
    // A parameter: not joinable (§4 lists asccount, not asc).
    asc: READ_ONLY((ctx) => {
      const devices = ownDevices(ctx);
      if (devices.length === 0) return reply(ctx, 'E', 105, 'No ASCs');
      const text = ctx.parameter ?? '';
      if (text === '') return reply(ctx, 'E', 15, 'Missing device id parameter');
      const id = atoi(text);
      const device = devices[id];
      if (id < 0 || !device)
        return reply(ctx, 'E', 107, `Invalid ASC id ${id} - range is 0 - ${devices.length - 1}`);
      // Upstream's asc record is its devs record, keyed ASC rather than the section's own name.
      return reply(ctx, 'S', 106, `ASC${id}`, 'ASC', [device]);
    }),
    lcd: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      const pool = activePool(ctx.state);
      // `GHS` labels carry MH/s on scrypt Antminers (§9), as their summary's do.
      const ghs = (hs: number) => fx(hs / (ctx.profile.algorithm === 'scrypt' ? 1e6 : 1e9), 2);
      return reply(ctx, 'S', 125, 'LCD', 'LCD', [
        {
          Elapsed: r.uptimeS,
          'GHS av': ghs(r.averageHs),
          'GHS 5m': ghs(r.windowHs(300)),
          'GHS 5s': ghs(r.currentHs),
          Temperature: fx(r.chipMaxC, 2),
          'Last Share Difficulty': fx(ctx.profile.shareDiff, 2),
          'Last Share Time': Math.floor(r.lastShareAtMs / 1000),
          'Best Share': 0,
          'Last Valid Work': Math.floor(ctx.now / 1000),
          'Found Blocks': 0,
          Pool: pool?.url ?? '',
          User: pool?.user ?? '',
        },
      ]);
    }),
    notify: READ_JOINABLE((ctx) => {
      const devices = ownDevices(ctx);
      if (devices.length === 0) return reply(ctx, 'E', 10, 'No ASCs');
      const now = Math.floor(ctx.now / 1000);
      return reply(
        ctx,
        'S',
        60,
        'Notify',
        'NOTIFY',
        devices.map((_, i) => {
          const dead = ctx.state.boards[i]?.dead === true;
          return {
            NOTIFY: i,
            Name: 'ASC',
            ID: i,
            'Last Well': dead ? Math.floor(ctx.state.bootedAtMs / 1000) : now,
            'Last Not Well': dead ? now : 0,
            'Reason Not Well': dead ? 'Device idle for 60s' : 'None',
            '*Thread Fail Init': 0,
            '*Thread Zero Hash': 0,
            '*Thread Fail Queue': 0,
            '*Dev Sick Idle 60s': dead ? 1 : 0,
            '*Dev Dead Idle 600s': 0,
            '*Dev Nostart': 0,
            '*Dev Over Heat': 0,
            '*Dev Thermal Cutoff': 0,
            '*Dev Comms Error': 0,
            '*Dev Throttle': 0,
          };
        }),
      );
    }),
    usbstats: READ_JOINABLE((ctx) => reply(ctx, 'I', 88, 'No USB Statistics')),
    pgacount: READ_JOINABLE((ctx) => reply(ctx, 'S', 59, 'PGA count', 'PGAS', [{ Count: 0 }])),
  };
}

/**
 * The upstream report commands (§5.1) every cgminer-derived firmware keeps, for the profiles that
 * model nothing of their own for them: a stock Antminer answers them E/45 (they exist, outside
 * group A), an Avalon answers them (samples avalon-q__{coin,config,devdetails}), Braiins OS and
 * LuxOS list them (§5.3). `msgPrefix` names the program in Msg, as its `stats` does. Without them the miner answered E/14 `Invalid command`, which tells a
 * client the firmware lacks a command it has. Spread before a profile's own commands.
 */
export function upstreamReports(
  msgPrefix = 'CGMiner',
  options: { without?: readonly string[] } = {},
): Record<string, CommandSpec> {
  const device = deviceReports();
  for (const name of options.without ?? []) delete device[name];
  return {
    ...device,
    // No zombie or blacklisted devices, no pool records in stats: the same rows.
    edevs: READ_JOINABLE((ctx) => own(ctx, 'devs')),
    estats: READ_JOINABLE((ctx) => own(ctx, 'stats')),
    coin: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 78, `${msgPrefix} coin`, 'COIN', [
        {
          'Hash Method': ctx.profile.algorithm === 'scrypt' ? 'scrypt' : 'sha256',
          'Current Block Time': fx(Math.floor(ctx.now / 1000) - 37 + 0.178978, 6),
          'Current Block Hash': '00000000000000000001d0ccaffecb937ee444cb056356abc59b906666607cf1',
          LP: true,
          'Network Difficulty': fx(126271255279306.98, 8),
        },
      ]),
    ),
    config: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 33, `${msgPrefix} config`, 'CONFIG', [
        {
          'ASC Count': ctx.state.boards.length,
          'PGA Count': 0,
          'Pool Count': ctx.state.pools.length,
          Strategy: 'Failover',
          'Log Interval': 5,
          'Device Code': '',
          OS: 'Linux',
          Hotplug: 'None',
        },
      ]),
    ),
    devdetails: READ_JOINABLE((ctx) =>
      reply(
        ctx,
        'S',
        69,
        'Device Details',
        'DEVDETAILS',
        ctx.state.boards.map((_, i) => ({
          DEVDETAILS: i,
          Name: 'ASC',
          ID: i,
          Driver: '',
          Kernel: '',
          Model: '',
          'Device Path': '',
        })),
      ),
    ),
    asccount: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 104, 'ASC count', 'ASCS', [{ Count: ctx.state.boards.length }]),
    ),
  };
}
