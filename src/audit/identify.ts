// Pure helpers over what was read: section access, and the firmware identity every rule shares
// (CGMINER-API §8, §11; audit-facts §1.2).
import type { DecodedReply } from '../cgminer/types.js';
import { MinerError } from '../errors.js';
import type { Dialect, FirmwareIdentity, ReadOutcome } from './types.js';

/** The normalizer and the thermal library read DecodedReply | MinerError; the audit keeps plain outcomes. */
export function outcomesAsReplies(
  reads: Record<string, ReadOutcome>,
): Record<string, DecodedReply | MinerError> {
  const replies: Record<string, DecodedReply | MinerError> = {};
  for (const [command, outcome] of Object.entries(reads)) {
    replies[command] = outcome.ok
      ? {
          command,
          format: 'json',
          status: {
            status: outcome.status,
            code: outcome.code,
            msg: outcome.msg,
            description: null,
            when: null,
          },
          ok: outcome.status === 'S' || outcome.status === 'I',
          body: outcome.body,
          repairs: [],
        }
      : new MinerError(outcome.error.kind, outcome.error.message, {
          code: outcome.error.code,
          apiMessage: outcome.error.msg,
        });
  }
  return replies;
}

/** True when the miner answered with STATUS S or I (not E/F, not a transport failure). */
export function succeeded(outcome: ReadOutcome | undefined): outcome is Extract<ReadOutcome, { ok: true }> {
  return outcome?.ok === true && (outcome.status === 'S' || outcome.status === 'I');
}

/** The records of a data section (`VERSION`, `POOLS`, …), tolerant of an object instead of an array. */
export function records(outcome: ReadOutcome | undefined, section: string): Record<string, unknown>[] {
  if (outcome?.ok !== true) return [];
  const value = outcome.body[section] ?? outcome.body[section.toLowerCase()];
  const list = Array.isArray(value) ? value : value && typeof value === 'object' ? [value] : [];
  return list.filter((item): item is Record<string, unknown> => item !== null && typeof item === 'object');
}

/** Whatsminer keeps its native replies under `Msg` (an object). */
export function nativeMessage(outcome: ReadOutcome | undefined): Record<string, unknown> | null {
  if (outcome?.ok !== true) return null;
  const msg = outcome.body.Msg ?? outcome.body.msg;
  return msg !== null && typeof msg === 'object' && !Array.isArray(msg)
    ? (msg as Record<string, unknown>)
    : null;
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * `CompileTime` is free text (`Tue Dec  6 16:12:30 CST 2022`, sometimes `2022-12-06 …`, once a year of
 * `20266`). Returns an ISO date, or null when it does not parse: callers then say "unknown", never "clean".
 */
export function parseCompileDate(value: string | null): string | null {
  if (value === null) return null;
  // `2017-01-05`, also unpadded (`2017-1-5`) or with slashes (`2017/01/05`): the same date, not
  // "unknown" (an S9 built in the Antbleed window read as info). One separator throughout; never dots,
  // which are a version's (`2022.10.1`).
  const iso = /(?:^|[^\d])(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:[^\d]|$)/.exec(value);
  if (iso) return validDate(Number(iso[1]), Number(iso[3]), Number(iso[4]));
  const words =
    /\b([A-Za-z]{3})[a-z]*\s+(\d{1,2})\s+(?:\d{1,2}:\d{2}(?::\d{2})?\s+)?(?:[A-Z]{2,5}\s+)?(\d+)\s*$/.exec(
      value,
    );
  if (!words) return null;
  const month = MONTHS.indexOf((words[1] ?? '').toLowerCase()) + 1;
  const yearText = words[3] ?? '';
  if (month === 0 || yearText.length !== 4) return null;
  return validDate(Number(yearText), month, Number(words[2]));
}

function validDate(year: number, month: number, day: number): string | null {
  if (year < 2009 || year > 2100 || month < 1 || month > 12 || day < 1 || day > 31) return null;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

const MAX_LABEL_CHARS = 256;

function label(value: string | null): string | null {
  return value !== null && value.length > MAX_LABEL_CHARS ? value.slice(0, MAX_LABEL_CHARS) : value;
}

/** `Antminer S19 Pro (vnish 3.8.6)` → `Antminer S19 Pro`; also drops Hiveon and `v.x.y` suffixes. */
export function modelFromType(type: string): string {
  return type
    .replace(/\s*\(.*\)\s*$/, '')
    .replace(/\s+Hiveon\s*$/i, '')
    .replace(/\s+v\.?\d+(\.\d+)*\s*$/i, '')
    .trim();
}

/** Identify the firmware from the read-only replies: version first, then stats, devdetails, Whatsminer reads. */
export function identifyFirmware(reads: Record<string, ReadOutcome>): FirmwareIdentity {
  const version = records(reads.version, 'VERSION')[0] ?? {};
  const statsHeader = records(reads.stats, 'STATS')[0] ?? {};
  const devdetails = records(reads.devdetails, 'DEVDETAILS')[0] ?? {};
  const versions: Record<string, string> = {};
  for (const key of [
    'CGMiner',
    'BMMiner',
    'BFGMiner',
    'BOSminer',
    'BOSminer+',
    'BOSer',
    'LUXminer',
    'BDMiner',
    'API',
    'Miner',
  ]) {
    const value = text(version[key]) ?? text(statsHeader[key]);
    if (value !== null) versions[key] = value;
  }
  // Real ones are a few dozen characters. The patterns below look for a marker at the end and retry
  // from every blank of a long string (quadratic: a 100 KB Type of blanks held an audit for
  // seconds, and a regex cannot be interrupted), so only the start is read, as the normalizer does.
  const type = label(text(version.Type) ?? text(statsHeader.Type));
  const compileTime = label(text(version.CompileTime) ?? text(statsHeader.CompileTime));
  const description = [reads.version, reads.summary, reads.pools]
    .map((outcome) => (outcome?.ok === true ? (text(statusDescription(outcome.body)) ?? '') : ''))
    .join(' ');
  const whatsminerVersion = nativeMessage(reads.get_version);
  if (whatsminerVersion) {
    const fw = text(whatsminerVersion.fw_ver);
    const api = text(whatsminerVersion.api_ver);
    if (fw !== null) versions.fw_ver = fw;
    if (api !== null) versions.api_ver = api;
  }
  const upper = `${JSON.stringify(version)} ${JSON.stringify(devdetails)} ${description}`.toUpperCase();
  const dialect = detectDialect(version, type, upper, whatsminerVersion !== null);
  const model = modelFor(dialect, version, type, devdetails);
  return {
    dialect,
    make: makeFor(dialect, model),
    model,
    versions,
    compileTime,
    compileDate: parseCompileDate(compileTime),
  };
}

function statusDescription(body: Record<string, unknown>): unknown {
  const status = body.STATUS ?? body.status;
  const first = Array.isArray(status) ? status[0] : status;
  if (first && typeof first === 'object') {
    const record = first as Record<string, unknown>;
    return record.Description ?? record.description;
  }
  return null;
}

function detectDialect(
  version: Record<string, unknown>,
  type: string | null,
  upper: string,
  whatsminerNative: boolean,
): Dialect {
  if ('LUXminer' in version || upper.includes('LUXMINER')) return 'luxos';
  if ('BOSminer' in version || 'BOSminer+' in version || 'BOSer' in version) return 'braiins';
  if (/BOSMINER|BOSER|"BMMINER":"BOS_/.test(upper) || (type ?? '').toLowerCase().startsWith('braiins'))
    return 'braiins';
  if (whatsminerNative || /WHATSMINER|BTMINER|BITMICRO/.test(upper)) return 'whatsminer';
  if ('PROD' in version || upper.includes('AVALON')) return 'avalon';
  if (/INTCHAINS_QOMO|KDAMINER/.test(upper)) return 'goldshell';
  if (upper.includes('INNOMINER')) return 'innosilicon';
  if (type !== null) {
    if (/\((vnish|7miners)\b/i.test(type) || upper.includes('VNISH')) return 'vnish';
    if (/hiveon/i.test(type) || upper.includes('RWGLR')) return 'hiveon';
    return 'antminer';
  }
  if ('BMMiner' in version) return 'antminer';
  if ('BFGMiner' in version || upper.includes('BFGMINER')) return 'bfgminer';
  if ('CGMiner' in version) return 'cgminer';
  return 'unknown';
}

function modelFor(
  dialect: Dialect,
  version: Record<string, unknown>,
  type: string | null,
  devdetails: Record<string, unknown>,
): string | null {
  if (dialect === 'avalon') return text(version.PROD) ?? text(version.MODEL);
  if (type !== null && !type.toLowerCase().startsWith('braiins')) return modelFromType(type);
  const detailModel = text(devdetails.Model);
  return detailModel === null ? null : detailModel.replace(/^Bitmain\s+/i, '');
}

function makeFor(dialect: Dialect, model: string | null): string {
  switch (dialect) {
    case 'antminer':
    case 'vnish':
    case 'hiveon':
      return 'Antminer';
    case 'whatsminer':
      return 'Whatsminer';
    case 'avalon':
      return 'Avalon';
    case 'goldshell':
      return 'Goldshell';
    case 'innosilicon':
      return 'Innosilicon';
    default:
      if (model && /antminer|^s\d|^t\d|^l\d/i.test(model)) return 'Antminer';
      return 'unknown';
  }
}

/**
 * Compare dotted versions numerically (`4.9.0` < `4.10.0`); the program's name may come first
 * (`cgminer 4.9.0`, `bfgminer-5.5.0`). Null when either has no such number: callers say "unknown".
 */
export function compareVersions(a: string, b: string): number | null {
  const parse = (value: string) =>
    /^\s*(?:[a-z]+[\s_-]*)?v?(\d+(?:\.\d+)*)/i.exec(value)?.[1]?.split('.').map(Number) ?? null;
  const left = parse(a);
  const right = parse(b);
  if (!left || !right) return null;
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff < 0 ? -1 : 1;
  }
  return 0;
}
