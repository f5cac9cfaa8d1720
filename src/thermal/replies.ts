// Reading the thermal facts that the normalized snapshot does not carry: a firmware's own limits
// (Braiins OS / LuxOS `tempctrl`, LuxOS FANCTRL, Avalon `TarT`) and cooling-class hints. Pure.
import { clipMessage } from '../cgminer/client.js';
import type { DecodedReply } from '../cgminer/types.js';
import type { MinerError } from '../errors.js';
import { celsiusOrNumber } from '../miners/values.js';
import { terminalSafe } from '../output/terminal.js';
import type { CoolingClass, FirmwareThermalLimits } from './types.js';

export type Replies = Readonly<Record<string, DecodedReply | MinerError>>;

/**
 * Text a firmware wrote (a tempctrl Mode, a stats Type, a STATUS Msg) as limits, notes, findings and
 * tables quote it: clipped, its control characters and escapes visible (terminal.ts), as the
 * normalizer has the snapshot's strings. A table on a terminal keeps hashctl's own colours, so a
 * Mode holding ESC[2m would otherwise reach the reviewer's terminal through `posture` or `limits`.
 */
function shown(text: string): string {
  return terminalSafe(clipMessage(text), true);
}

export function replyBody(replies: Replies | undefined, command: string): Record<string, unknown> | null {
  const reply = replies?.[command];
  if (!reply || !('body' in reply) || !reply.ok) return null;
  return reply.body;
}

/** The records of a section, whatever case the firmware used (`TEMPCTRL`, `tempctrl`). */
export function section(body: Record<string, unknown> | null, name: string): Record<string, unknown>[] {
  if (!body) return [];
  const value = body[name] ?? body[name.toLowerCase()] ?? body[name.toUpperCase()];
  if (Array.isArray(value)) return value.filter(isRecord);
  return isRecord(value) ? [value] : [];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A number from a number or numeric string; null for absent, empty, non-finite. */
export function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value.trim().replace(/%$/, ''));
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}

function field(record: Record<string, unknown> | undefined, ...names: string[]): unknown {
  if (!record) return undefined;
  for (const name of names) {
    if (name in record) return record[name];
    const match = Object.keys(record).find((key) => key.toLowerCase() === name.toLowerCase());
    if (match !== undefined) return record[match];
  }
  return undefined;
}

function firmwareFamily(
  replies: Replies | undefined,
  firmwareName: string | null,
): FirmwareThermalLimits['firmware'] {
  const name = (firmwareName ?? '').toLowerCase();
  const description = String(
    field(section(replyBody(replies, 'tempctrl'), 'STATUS')[0], 'Description') ??
      field(
        section(replyBody(replies, 'version'), 'VERSION')[0],
        'LUXminer',
        'BOSminer',
        'BOSminer+',
        'BOSer',
      ) ??
      '',
  ).toLowerCase();
  const version = section(replyBody(replies, 'version'), 'VERSION')[0];
  if (name.includes('lux') || description.includes('lux') || (version && 'LUXminer' in version))
    return 'luxos';
  if (
    name.includes('bos') ||
    name.includes('braiins') ||
    description.includes('bos') ||
    (version && ('BOSminer' in version || 'BOSminer+' in version || 'BOSer' in version))
  ) {
    return 'braiins';
  }
  return 'other';
}

/** Avalon MM ID strings carry `TarT[..]` (target temperature) on some models. */
function avalonTarget(replies: Replies | undefined): number | null {
  for (const command of ['estats', 'stats']) {
    for (const record of section(replyBody(replies, command), 'STATS')) {
      for (const [key, value] of Object.entries(record)) {
        if (!key.startsWith('MM ID') || typeof value !== 'string') continue;
        const match = /TarT\[\s*(-?\d+(?:\.\d+)?)/.exec(value);
        if (match) return Number(match[1]);
      }
    }
  }
  return null;
}

/**
 * readFirmwareLimits for a poll, looked for only where a firmware reports some (Braiins OS / LuxOS
 * answered `tempctrl`, an Avalon's stats): collect calls it for every miner of every cycle, and
 * searching an Antminer's few hundred stats keys for Avalon's TarT would be wasted there.
 */
export function pollFirmwareLimits(
  replies: Replies,
  make: string | null,
  firmwareName: string | null,
): FirmwareThermalLimits | null {
  if (!('tempctrl' in replies) && !/avalon|canaan/i.test(make ?? '')) return null;
  return readFirmwareLimits(replies, firmwareName);
}

/**
 * The limits a firmware enforces and reports about itself, or null when it reports none
 * (stock Antminer and Whatsminer expose nothing on 4028; thermal-facts §0).
 */
export function readFirmwareLimits(
  replies: Replies | undefined,
  firmwareName: string | null = null,
): FirmwareThermalLimits | null {
  const tempctrl = section(replyBody(replies, 'tempctrl'), 'TEMPCTRL')[0];
  const fanctrl = section(replyBody(replies, 'fans'), 'FANCTRL')[0];
  if (tempctrl) {
    const mode = field(tempctrl, 'Mode');
    return {
      firmware: firmwareFamily(replies, firmwareName),
      mode: typeof mode === 'string' ? shown(mode) : null,
      target_c: positive(field(tempctrl, 'Target')),
      hot_c: positive(field(tempctrl, 'Hot')),
      dangerous_c: positive(field(tempctrl, 'Dangerous', 'Panic')),
      chip_hot_c: positive(field(tempctrl, 'ChipHot')),
      chip_dangerous_c: positive(field(tempctrl, 'ChipDangerous')),
      water_inlet_dangerous_c: positive(field(tempctrl, 'WaterInletDangerous')),
      min_fans: numberOf(field(fanctrl, 'MinFans')),
    };
  }
  const tart = avalonTarget(replies);
  if (tart !== null && tart > 0) {
    return {
      firmware: 'avalon',
      mode: null,
      target_c: tart,
      hot_c: null,
      dangerous_c: null,
      chip_hot_c: null,
      chip_dangerous_c: null,
      water_inlet_dangerous_c: null,
      min_fans: null,
    };
  }
  return null;
}

/** Why the firmware's own limits could not be read, when it was asked and the read failed. */
export interface LimitsReadError {
  command: string;
  kind: string;
  message: string;
}

/** cgminer's `Invalid command`: the firmware does not have the command, so it exposes no limits. */
const INVALID_COMMAND = 14;

/**
 * The failure of the `tempctrl` read, or null when it answered, was not asked (stock firmwares are
 * not) or answered E/14. A dropped connection, a timeout or E/45 (api-allow denies it) says nothing
 * about what the firmware enforces: the caller must say the read failed, not that there is nothing.
 */
export function limitsReadError(replies: Replies | undefined): LimitsReadError | null {
  const reply = replies?.tempctrl;
  if (reply === undefined) return null;
  if ('body' in reply) {
    if (reply.ok || reply.status.code === INVALID_COMMAND) return null;
    const denied =
      reply.status.code === 45 || /access denied|permission denied/i.test(reply.status.msg ?? '');
    return {
      command: 'tempctrl',
      kind: denied ? 'denied' : 'api',
      message: shown(
        `miner answered ${reply.status.status}/${reply.status.code ?? '-'}: ${reply.status.msg ?? ''}`.trim(),
      ),
    };
  }
  if (reply.kind === 'api' && reply.code === INVALID_COMMAND) return null;
  return { command: 'tempctrl', kind: reply.kind, message: shown(reply.message) };
}

/**
 * A reported temperature limit: 0 is the firmware's "not set" (and 0 °C is never a meaningful trip
 * point); a negative one is kept, so that the limits' plausibility check says it was ignored rather
 * than it vanishing without a word. Written as the readings beside it may be (`"110 C"`, `"110°C"`),
 * it is the same number: unread, a Dangerous limit plainly there was reported as protection off.
 */
function positive(value: unknown): number | null {
  const n = numberOf(value) ?? celsiusOrNumber(value);
  return n !== null && n !== 0 ? n : null;
}

/** Cooling-class evidence in raw replies (thermal-facts §1, "How to tell the cooling class"). */
export function coolingFromReplies(
  replies: Replies | undefined,
): { cooling: CoolingClass; evidence: string } | null {
  const summary = section(replyBody(replies, 'summary'), 'SUMMARY')[0];
  const liquid = field(summary, 'Liquid Cooling');
  if (liquid === true || liquid === 'true') return { cooling: 'hydro', evidence: 'summary Liquid Cooling' };
  const mode = field(section(replyBody(replies, 'tempctrl'), 'TEMPCTRL')[0], 'Mode');
  if (typeof mode === 'string') {
    if (/hydro/i.test(mode)) return { cooling: 'hydro', evidence: `tempctrl Mode ${shown(mode)}` };
    if (/immers/i.test(mode)) return { cooling: 'immersion', evidence: `tempctrl Mode ${shown(mode)}` };
  }
  const metadata = section(replyBody(replies, 'temps'), 'METADATA')[0];
  if (metadata && /water/i.test(JSON.stringify(metadata)))
    return { cooling: 'hydro', evidence: 'temps METADATA water sensors' };
  for (const command of ['stats', 'version']) {
    for (const record of section(replyBody(replies, command), command === 'stats' ? 'STATS' : 'VERSION')) {
      const type = field(record, 'Type', 'type');
      if (typeof type === 'string' && /\bhyd(ro)?\b/i.test(type))
        return { cooling: 'hydro', evidence: `${command} Type ${shown(type)}` };
    }
  }
  return null;
}
