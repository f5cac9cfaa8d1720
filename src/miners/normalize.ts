// Replies of one poll → one Snapshot that means the same on every make (hashctl.md §5). Pure: no
// I/O, no clock; odd or missing input gives null data, never an exception.
import { clipMessage } from '../cgminer/client.js';
import type { DecodedReply } from '../cgminer/types.js';
import type { MinerError } from '../errors.js';
import { terminalSafe } from '../output/terminal.js';
import { fold } from '../util/fold.js';
import { detect, type Identity } from './detect.js';
import { parseAftermarket } from './dialects/aftermarket.js';
import { parseAntminer } from './dialects/antminer.js';
import { parseAvalon } from './dialects/avalon.js';
import { parseBraiins } from './dialects/braiins.js';
import {
  type BoardDraft,
  type DialectInput,
  emptyTelemetry,
  MAX_BOARDS,
  MAX_FANS,
  MAX_POOLS,
  type Telemetry,
} from './dialects/common.js';
import { parseGeneric } from './dialects/generic.js';
import { parseInnosilicon } from './dialects/innosilicon.js';
import { parseLuxos } from './dialects/luxos.js';
import { parseSealminer } from './dialects/sealminer.js';
import { parseWhatsminer } from './dialects/whatsminer.js';
import { isHydroModel, lookupModel } from './models.js';
import { parsePools } from './pools.js';
import { Replies } from './replies.js';
import type { Board, Fan, Snapshot } from './types.js';
import { round, sumOf } from './values.js';

/** Above this a board's frequency is not believed as MHz. */
const MAX_FREQUENCY_MHZ = 5000;

const DIALECTS: Record<Identity['family'], (input: DialectInput) => Telemetry> = {
  antminer: parseAntminer,
  'antminer-aftermarket': parseAftermarket,
  braiins: parseBraiins,
  luxos: parseLuxos,
  whatsminer: parseWhatsminer,
  avalon: parseAvalon,
  innosilicon: parseInnosilicon,
  sealminer: parseSealminer,
  generic: parseGeneric,
};

/** Below this a SHA-256 machine would beat every ASIC ever built: the power field is wrong, not the miner. */
const MIN_PLAUSIBLE_J_PER_TH = 5;

/**
 * Above this a single machine's rate is a broken field, not a miner (the largest rack units do about
 * 1 PH/s): kept, it would swamp the farm's total, or overflow it to Infinity.
 */
const MAX_PLAUSIBLE_HS = 1e17;
/**
 * No single miner draws this much (the largest hydro and rack units stay near 10 kW): a larger figure
 * is another unit (mW) or a broken field, and would swamp the farm's total power.
 */
const MAX_PLAUSIBLE_W = 50_000;
/**
 * No fan or pump on a miner turns this fast (real ones stay under 10,000 rpm): above it is a broken
 * field, or a tachometer's unsigned -1 (65,535), which must not pass for a fan that spins.
 */
const MAX_PLAUSIBLE_RPM = 30_000;
/**
 * No miner's controller has run this long without a restart (SHA-256 ASICs date from 2013): above
 * it is a sentinel (4294967295, an unsigned -1) or a broken field, not an uptime of 136 years.
 */
export const MAX_PLAUSIBLE_UPTIME_S = 20 * 365 * 86_400;
/** No hash board carries this many chips (the largest hold a few hundred): 65,535 is a -1. */
const MAX_PLAUSIBLE_CHIPS = 2_000;

type SnapshotError = Snapshot['errors'][number];

function boardStatus(
  board: BoardDraft,
  chips: number | null,
  chipsExpected: number | null,
  state: string,
): string {
  if (state === 'sleeping') return 'unknown';
  if (board.firmware_dead === true || chips === 0 || board.hashrate_hs === 0) return 'dead';
  const missingChips = chips !== null && chipsExpected !== null && chips < chipsExpected;
  if (missingChips || (board.bad_chips ?? 0) > 0) return 'degraded';
  if (board.hashrate_hs === null && chips === null) return 'unknown';
  return 'ok';
}

/**
 * Chip counts are whole numbers (the snapshot schema says so, and the collector checks it): a
 * firmware's 72.5 or 1e19 `Num chips` is no count, and would make the uploaded snapshot invalid.
 */
function wholeCount(value: number | null): number | null {
  return value !== null && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function finishBoard(draft: BoardDraft, state: string, errors: SnapshotError[]): Board {
  const plausibleChips = (value: number | null, what: string): number | null => {
    const count = wholeCount(value);
    if (count === null || count <= MAX_PLAUSIBLE_CHIPS) return count;
    errors.push({
      code: 'implausible_count',
      message: `board ${draft.index} reported ${count} ${what}; ignored`,
    });
    return null;
  };
  const chips = plausibleChips(draft.chips, 'chips');
  const chipsExpected = plausibleChips(draft.chips_expected, 'chips expected');
  return {
    index: draft.index,
    // A negative rate is a firmware's nonsense, not a figure (the total gets the same rule).
    hashrate_hs:
      draft.hashrate_hs === null || !Number.isFinite(draft.hashrate_hs) || draft.hashrate_hs < 0
        ? null
        : roundRate(draft.hashrate_hs),
    chips,
    chips_expected: chipsExpected,
    temp_board_c: draft.temp_board_c,
    temp_chip_c: draft.temp_chip_c,
    ...(draft.temp_inlet_c !== undefined ? { temp_inlet_c: draft.temp_inlet_c } : {}),
    ...(draft.temp_outlet_c !== undefined ? { temp_outlet_c: draft.temp_outlet_c } : {}),
    // No ASIC clocks above a few GHz: a larger figure is another unit (Elphapex's 62000), not MHz.
    frequency_mhz:
      draft.frequency_mhz !== null && draft.frequency_mhz > MAX_FREQUENCY_MHZ ? null : draft.frequency_mhz,
    status: boardStatus(draft, chips, chipsExpected, state),
  };
}

/**
 * Warnings about the replies themselves: repairs the decoder made (one entry per kind of repair,
 * naming the commands; members of a multi-command share their reply's repairs) and failed members.
 */
function replyErrors(replies: Replies, identity: Identity): SnapshotError[] {
  const errors: SnapshotError[] = [];
  // First contact asks every miner `version` and `stats`; btminer answers both with `invalid cmd`.
  // `tempctrl` is read for thermal limits only; a firmware without it simply has none to give.
  // A plain cgminer is asked `devdetails` only in case it names the make or model.
  const expected = (command: string) =>
    command === 'tempctrl' ||
    (identity.family === 'generic' && command === 'devdetails') ||
    (identity.family === 'whatsminer' && (command === 'version' || command === 'stats'));
  const repairs = new Map<string, string[]>();
  for (const [command, reply] of replies.all()) {
    for (const repair of reply.repairs ?? []) repairs.set(repair, [...(repairs.get(repair) ?? []), command]);
  }
  for (const [repair, commands] of repairs)
    errors.push({ code: 'repair', message: `repaired: ${repair} (${commands.join(', ')})` });
  for (const [command, reply] of replies.all()) {
    if (!reply.ok && !expected(command)) {
      errors.push({
        code: reply.status.code ?? 'api',
        message: `${command}: ${reply.status.msg ?? reply.status.status}`,
      });
    }
  }
  for (const [command, failure] of replies.failures()) {
    if (!expected(command)) errors.push({ code: failure.kind, message: `${command}: ${failure.message}` });
  }
  return errors;
}

function compose(map: Readonly<Record<string, unknown>>, detected?: Identity): Snapshot {
  const replies = new Replies(map);
  const identity = detected ?? detect(replies);
  const spec = lookupModel(identity.make, identity.model);
  const t = DIALECTS[identity.family]({ replies, identity, spec });

  const errors = [...replyErrors(replies, identity), ...t.errors];
  const algorithm = identity.algorithm === 'unknown' ? (t.algorithm ?? 'unknown') : identity.algorithm;
  // Bounded lists: a hostile reply with 200,000 fans must not make every later step (thermal,
  // tables, the store) pay for them, and no real miner comes near these numbers.
  const bounded = <T>(list: T[], max: number, what: string): T[] => {
    if (list.length <= max) return list;
    errors.push({
      code: 'implausible_count',
      message: `${list.length} ${what} reported; kept the first ${max}`,
    });
    return list.slice(0, max);
  };
  // A slot number read from a key (`fan99999999999999999999`, `chain_acn…`) past 2^53 is no slot a
  // miner has, and no integer the snapshot schema takes: kept, the uploaded batch was invalid.
  const slotted = <T extends { index: number }>(list: T[], what: string): T[] =>
    list.every((item) => Number.isSafeInteger(item.index))
      ? list
      : list.filter((item) => {
          if (Number.isSafeInteger(item.index)) return true;
          errors.push({
            code: 'implausible_index',
            message: `${what} ${item.index} is no slot number; ignored`,
          });
          return false;
        });
  const pools = bounded(t.pools ?? parsePools(replies.section('pools', 'POOLS')), MAX_POOLS, 'pools');
  const drafts = bounded(slotted(t.boards, 'board'), MAX_BOARDS, 'boards');
  const plausibleFan = (fan: Fan) => fan.rpm === null || (fan.rpm >= 0 && fan.rpm <= MAX_PLAUSIBLE_RPM);
  const listed = bounded(slotted(t.fans, 'fan'), MAX_FANS, 'fans');
  // Copied only when a fan is impossible: the usual list is kept as it is (a hot path).
  const fans = listed.every(plausibleFan)
    ? listed
    : listed.map((fan) => {
        if (plausibleFan(fan)) return fan;
        errors.push({
          code: 'implausible_fan',
          message: `fan ${fan.index} reported ${fan.rpm} rpm; ignored`,
        });
        return { ...fan, rpm: null };
      });
  // Each count is a safe integer, but a sum of them (pools, devs, chains) can pass 2^53: no count
  // of shares, and a figure the snapshot schema refuses (the uploaded batch with it was invalid).
  const total = (value: number | null, what: string): number | null => {
    if (value === null || Number.isSafeInteger(value)) return value;
    errors.push({ code: 'implausible_count', message: `${what} total ${value}; ignored` });
    return null;
  };
  const accepted = total(t.accepted ?? sumOf(pools.map((p) => p.accepted)), 'accepted shares');
  const rejected = total(t.rejected ?? sumOf(pools.map((p) => p.rejected)), 'rejected shares');

  const plausibleRate = (value: number | null, what: string): number | null => {
    if (value === null || (value >= 0 && value <= MAX_PLAUSIBLE_HS)) return value;
    errors.push({ code: 'implausible_hashrate', message: `reported ${what} hashrate ${value} H/s; ignored` });
    return null;
  };
  const current = plausibleRate(t.hashrate.current_hs, 'current');
  const average = plausibleRate(t.hashrate.average_hs, 'average');
  const nominal = plausibleRate(t.hashrate.nominal_hs, 'nominal');
  // Unless the firmware says, `mining` is what the miner does now: its current rate when it has
  // one (a miner tripped or paused an hour ago keeps an average since boot, but hashes 0 now).
  const state = t.state ?? ((current ?? average ?? 0) > 0 ? 'mining' : 'unknown');
  const boards = drafts.map((draft) => finishBoard(draft, state, errors));
  for (const board of boards) {
    if (board.hashrate_hs !== null && board.hashrate_hs > MAX_PLAUSIBLE_HS) {
      errors.push({
        code: 'implausible_hashrate',
        message: `board ${board.index} reported ${board.hashrate_hs} H/s; ignored`,
      });
      board.hashrate_hs = null;
    }
  }

  let uptime = t.uptime_s;
  if (uptime !== null && uptime > MAX_PLAUSIBLE_UPTIME_S) {
    errors.push({ code: 'implausible_uptime', message: `reported uptime ${uptime} s; ignored` });
    uptime = null;
  }
  let power = t.power_w;
  let efficiency = t.efficiency_j_per_th;
  if (power !== null && !(power <= MAX_PLAUSIBLE_W)) {
    errors.push({ code: 'implausible_power', message: `reported power ${power} W; ignored` });
    power = null;
  }
  // From the realtime rate; a miner at 0 (asleep, idle) has no efficiency, whatever it averaged.
  const rate = current ?? average;
  if (efficiency === null && power !== null && algorithm === 'sha256d' && rate !== null && rate > 0) {
    efficiency = power / (rate / 1e12);
    if (!Number.isFinite(efficiency)) efficiency = null;
    else if (efficiency < MIN_PLAUSIBLE_J_PER_TH) {
      errors.push({
        code: 'implausible_power',
        message: `reported power ${power} W is impossible at this hashrate; ignored`,
      });
      power = null;
      efficiency = null;
    }
  }

  const cooling = t.cooling ?? (isHydroModel(identity.model) ? 'hydro' : fans.length > 0 ? 'air' : null);
  // What the miner named itself, its pools and its messages are shown in tables, stored and
  // uploaded: control characters and escapes become visible text (terminal.ts), so a firmware can
  // neither clear a screen nor recolour a table through them. Done here, once per snapshot, rather
  // than in str() for every field read (most are numbers' labels no one shows). Clipped as the
  // client clips a STATUS message: a 100 KB `Type` is no model to store 5,000 times a cycle.
  const safe = (text: string | null) => (text === null ? null : terminalSafe(clipMessage(text), true));
  const hs = (value: number | null) => (value === null || !Number.isFinite(value) ? null : roundRate(value));
  return {
    make: safe(identity.make) ?? identity.make,
    model: safe(identity.model),
    firmware: { name: safe(identity.firmware.name), version: safe(identity.firmware.version) },
    algorithm,
    hashrate: { current_hs: hs(current), average_hs: hs(average), nominal_hs: hs(nominal) },
    uptime_s: uptime,
    accepted,
    rejected,
    hw_errors: total(t.hw_errors, 'hardware errors'),
    boards,
    fans,
    temp_max_chip_c: fold(boards, (b) => b.temp_chip_c, 'max', t.temp_max_chip_c),
    temp_max_board_c: fold(boards, (b) => b.temp_board_c, 'max', t.temp_max_board_c),
    temp_inlet_c: fold(boards, (b) => b.temp_inlet_c, 'max', t.temp_inlet_c),
    power_w: power,
    efficiency_j_per_th: round(efficiency, 2),
    // Copied only when a string changes: the usual pool list is returned as it is.
    pools: pools.map((pool) => {
      const url = safe(pool.url) ?? '';
      const user = safe(pool.user);
      const status = safe(pool.status);
      return url === pool.url && user === pool.user && status === pool.status
        ? pool
        : { ...pool, url, user, status };
    }),
    errors: errors.map((error) => {
      const message = safe(error.message) ?? '';
      return message === error.message ? error : { ...error, message };
    }),
    state,
    cooling,
    ...(t.power_mode === null ? {} : { power_mode: safe(t.power_mode) ?? t.power_mode }),
  };
}

/**
 * Never throws: a bug in a dialect becomes an `internal` entry in `errors`, not a crashed poll.
 * `identity`, when given, must be detect() of these very replies (the caller already ran it).
 */
/**
 * A rate in H/s, rounded: to the unit for hash rates (a fraction of one hash in TH/s is noise), but
 * to thousandths below 1000, where Equihash miners count sol/s (13.25 sol/s is not 13).
 */
function roundRate(value: number): number {
  return Math.abs(value) >= 1000 ? Math.round(value) : Math.round(value * 1000) / 1000;
}

export function normalize(replies: Record<string, DecodedReply | MinerError>, identity?: Identity): Snapshot {
  try {
    return compose(replies, identity);
  } catch (error) {
    // A dialect bug must not cost the cycle: an empty snapshot that says what went wrong.
    const { power_mode: _, ...empty } = emptyTelemetry();
    return {
      ...empty,
      make: 'unknown',
      model: null,
      firmware: { name: null, version: null },
      algorithm: 'unknown',
      boards: [],
      pools: [],
      errors: [
        {
          code: 'internal',
          message: `normalize failed: ${error instanceof Error ? error.message : String(error)}`,
        },
      ],
      state: 'unknown',
      cooling: null,
    };
  }
}
