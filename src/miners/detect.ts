// Make, model, firmware and algorithm from what the miner says about itself (CGMINER-API.md §8, §11):
// `version` keys and `Type`, the `stats` header, `devdetails` Model, Whatsminer native replies and
// reply shapes. STATUS `Description` never names a make: firmwares put anything there ("jansson 2.12").
import { type Algorithm, lookupModel } from './models.js';
import type { Replies } from './replies.js';
import { isRecord, type Rec, str } from './values.js';

export type Family =
  | 'antminer' // Bitmain stock bmminer/cgminer, classic and new-api stats
  | 'antminer-aftermarket' // Vnish, Hiveon, ASICseer, MSKminer, Blissz, early Braiins: bmminer base
  | 'braiins' // BOSminer / BOSer
  | 'luxos'
  | 'whatsminer'
  | 'avalon'
  | 'innosilicon'
  | 'sealminer'
  | 'generic';

export interface Identity {
  make: string;
  model: string | null;
  firmware: { name: string | null; version: string | null };
  algorithm: Algorithm;
  family: Family;
}

/**
 * The longest self-description (`Type`, `CompileTime`) the patterns below read. Real ones are a few
 * dozen characters; the patterns look for a marker (`(v5.1)`, `(chipless …)`) and retry from every
 * blank or bracket of a long string, quadratic: a 200 KB `Type` of blanks held a probe for minutes,
 * past any deadline.
 */
const MAX_LABEL_CHARS = 256;

function label(text: string): string {
  return text.length > MAX_LABEL_CHARS ? text.slice(0, MAX_LABEL_CHARS) : text;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** `"Tue Dec  6 16:12:30 CST 2022"` / `"10 Dec 2024 14:34:31 GMT"` / `"2018-11-19 20-59-09"` → `"2022-12-06"`. */
export function compileDate(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = label(value);
  const pad = (n: number) => String(n).padStart(2, '0');
  const iso = /\b(\d{4})-(\d{2})-(\d{2})\b/.exec(text);
  if (iso) return `${iso[1]}-${iso[2]}-${iso[3]}`;
  const monthFirst = /\b([A-Za-z]{3})\s+(\d{1,2})\s+\d{1,2}:\d{2}:\d{2}\s+(?:[A-Z]{2,5}\s+)?(\d{4})\b/.exec(
    text,
  );
  const dayFirst = /\b(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\b/.exec(text);
  const [month, day, year] = monthFirst
    ? [monthFirst[1], monthFirst[2], monthFirst[3]]
    : dayFirst
      ? [dayFirst[2], dayFirst[1], dayFirst[3]]
      : [null, null, null];
  if (!month || !day || !year) return null;
  const m = MONTHS.indexOf(month.toLowerCase());
  return m < 0 ? null : `${year}-${pad(m + 1)}-${pad(Number(day))}`;
}

/** Whatsminer writes `'20201202.22.REL'` (quoted, sometimes as `\'…\'`). */
export function unquoteVersion(value: unknown): string | null {
  const text = str(value);
  return text === null ? null : str(text.replace(/\\?'/g, ''));
}

interface TypeParse {
  make: string;
  model: string | null;
  aftermarket: { name: string; version: string | null } | null;
}

/**
 * `Type` → make, model and any aftermarket marker: `"Antminer S9 (vnish 3.8.6)"`, `"Antminer S9 Hiveon"`,
 * `"Antminer D3 Blissz v2.06 beta"`, `"S19-88 v.2.6.0.39 "`, `"Antminer S9\nV1.3.58"`, `"braiins-am1-s9"`.
 */
export function parseType(rawType: string, minerKey: string | null): TypeParse {
  let type = (rawType.split('\n')[0] ?? '').trim();
  let aftermarket: TypeParse['aftermarket'] = null;

  const braiins = /^braiins-am\d+-(\w+)$/i.exec(type);
  if (braiins)
    return {
      make: 'Antminer',
      model: (braiins[1] ?? '').toUpperCase(),
      aftermarket: { name: 'Braiins OS', version: null },
    };

  // The markers are read only in a Type of real length: their patterns retry from every blank or
  // bracket of a long one (quadratic). A longer one is no real model; its words are kept as they are.
  if (type.length <= MAX_LABEL_CHARS) {
    const vnish = /\((vnish|7miners)\s+([^)]*)\)/i.exec(type);
    if (vnish) {
      aftermarket = {
        name: (vnish[1] ?? '').toLowerCase() === 'vnish' ? 'Vnish' : '7Miners',
        version: str(vnish[2]),
      };
      type = type.replace(vnish[0], '').trim();
    }
    if (/\shiveon$/i.test(type)) {
      aftermarket = { name: 'Hiveon', version: null };
      type = type.replace(/\shiveon$/i, '').trim();
    }
    const blissz = /\sblissz\s+v?(.*)$/i.exec(type);
    if (blissz) {
      aftermarket = { name: 'Blissz', version: str(blissz[1]) };
      type = type.slice(0, blissz.index).trim();
    }
    // MSKminer / rwglr builds: "S19-88 v.2.6.0.39 ", "Antminer S9 Pro (v5.1) "
    const rwglr = minerKey !== null && /rwglr/i.test(minerKey);
    const versionSuffix = /\s+\(?v\.?(\d[\w.]*)\)?$/i.exec(type);
    if (versionSuffix && rwglr && aftermarket === null) {
      aftermarket = { name: 'MSKminer', version: versionSuffix[1] ?? null };
      type = type.slice(0, versionSuffix.index).trim();
    }
    type = type.replace(/\s*\([^)]*\)\s*$/, '').trim(); // any other " (…)" marker
  }

  const words = type.split(/\s+/).filter((w) => w !== '');
  const first = words[0] ?? '';
  if (/^antminer$/i.test(first))
    return { make: 'Antminer', model: str(words.slice(1).join(' ')), aftermarket };
  // Elphapex's Bitmain-style firmware names its scrypt models bare: "DG1+", "DG Home 1".
  if (/^dg(\d|$)/i.test(first)) return { make: 'Elphapex', model: str(words.join(' ')), aftermarket };
  // A bare Bitmain model ("S19-88", "S19j Pro") comes from Bitmain-based builds: its first word is
  // the model, not a make (that read "S19j Pro" as make S19j, model Pro).
  if (/^[stldezkb]\d/i.test(first)) return { make: 'Antminer', model: str(words.join(' ')), aftermarket };
  if (words.length >= 2) return { make: first, model: str(words.slice(1).join(' ')), aftermarket };
  // Anything else alone is not claimed for a make it may not be.
  return { make: 'unknown', model: str(first), aftermarket };
}

function firmwareOfBmminerKeys(keys: Rec): { name: string | null; version: string | null } {
  const date = compileDate(keys.CompileTime);
  const version = date ?? str(keys.Miner) ?? str(keys.CompileTime);
  if ('BMMiner' in keys) return { name: 'bmminer', version };
  if ('CGMiner' in keys || 'Cgminer' in keys) return { name: 'cgminer', version };
  const program = programKey(keys);
  if (program) return program;
  return { name: null, version };
}

/**
 * The program a VERSION record names by its own key, as every cgminer fork does (`"GCMiner":"0.5"`,
 * `"BCFMiner":"2.4.2 Test2"`, `"sgminer":"5.6"`): its name and version, or null.
 */
function programKey(keys: Rec): { name: string; version: string | null } | null {
  for (const [key, value] of Object.entries(keys)) {
    if (/^[a-z][\w+.-]{0,30}miner$/i.test(key) && typeof value === 'string')
      return { name: key, version: str(value) };
  }
  return null;
}

/** Makes known by their firmware's program name alone (KDAMiner: Goldshell's, as pyasic and audit read it). */
const MAKE_OF_PROGRAM: Record<string, string> = { gcminer: 'Auradine', kdaminer: 'Goldshell' };

/**
 * Makes known by their boards' driver. Goldshell's bfgminer drives its Intchains boards with
 * `intchains_qomo` (devdetails `Driver`), whose short name `INCS` every devs record carries, so each
 * poll (devs is read every cycle, devdetails only on first contact) names the same make. pyasic and
 * hashctl's audit read the same marker; the model is only on the web UI, so it stays null.
 */
function makeOfDriver(replies: Replies): string | null {
  for (const rec of replies.section('devdetails', 'DEVDETAILS'))
    if (str(rec.Driver)?.toLowerCase() === 'intchains_qomo') return 'Goldshell';
  for (const rec of replies.section(['devs', 'edevs'], 'DEVS'))
    if (str(rec.Name) === 'INCS') return 'Goldshell';
  return null;
}

/** The Whatsminer `Model` (`M30S+_VE40`) or v3 `type` (`M60S_VK40`) → `M30S+ VE40`. */
function whatsminerModel(value: unknown): string | null {
  const text = str(value);
  return text === null ? null : text.replace(/_/g, ' ');
}

function looksLikeWhatsminer(replies: Replies): boolean {
  const version = replies.failure('version');
  const versionReply = replies.reply('version');
  const invalid = (msg: string | null | undefined) =>
    typeof msg === 'string' && msg.trim().toLowerCase() === 'invalid cmd';
  if (invalid(version?.apiMessage) || (versionReply && !versionReply.ok && invalid(versionReply.status.msg)))
    return true;
  if (replies.nativeMsg('get_version') || replies.nativeMsg('status')) return true;
  // btminer's native envelope: STATUS as a string and Msg as an object (get_token, get_psu, …).
  for (const [, reply] of replies.all())
    if (typeof reply.body.STATUS === 'string' && isRecord(reply.body.Msg)) return true;
  const summary = replies.section('summary', 'SUMMARY')[0];
  if (summary && ('Fan Speed In' in summary || 'Factory GHS' in summary || 'Power Mode' in summary))
    return true;
  const devs = replies.section(['devs', 'edevs'], 'DEVS')[0];
  if (devs && ('Effective Chips' in devs || 'Fan Speed In' in devs)) return true;
  const model = str(replies.section('devdetails', 'DEVDETAILS')[0]?.Model);
  return model !== null && /^M\d{2}/.test(model);
}

function detectWhatsminer(replies: Replies): Identity {
  const model = whatsminerModel(replies.section('devdetails', 'DEVDETAILS')[0]?.Model);
  const version = replies.nativeMsg('get_version');
  const status = replies.nativeMsg('status');
  const summary = replies.section('summary', 'SUMMARY')[0];
  const fw =
    unquoteVersion(version?.fw_ver) ??
    unquoteVersion(status?.['Firmware Version']) ??
    unquoteVersion(status?.FirmwareVersion) ??
    unquoteVersion(summary?.['Firmware Version']);
  return {
    make: 'Whatsminer',
    model,
    firmware: { name: 'btminer', version: fw },
    algorithm: 'sha256d',
    family: 'whatsminer',
  };
}

/** Avalon model from `PROD`/`MODEL` or the module `Ver[…]` token. */
const AVALON_ALIASES: Record<string, string> = { '15-194': 'A1566' };
export function avalonModel(prod: string | null, model: string | null, ver: string | null): string | null {
  if (model !== null) return AVALON_ALIASES[model] ?? model;
  if (prod !== null) {
    const rest = prod.replace(/^avalon(miner)?\s*/i, '').trim();
    if (rest !== '') return AVALON_ALIASES[rest] ?? rest;
  }
  if (ver === null) return null;
  const twoPart = /^(\d{2}-\d{3})-/.exec(ver);
  if (twoPart?.[1]) return AVALON_ALIASES[twoPart[1]] ?? twoPart[1];
  // A name starting with a letter keeps its digits and letters up to the first separator:
  // `Nano3s-…` is the Nano3s and `Mini3-…` the Mini3 (`Q-…`, `Q_fb_…` the Q).
  const head = /^([A-Za-z][A-Za-z0-9]*|\d+)/.exec(ver)?.[1] ?? null;
  if (head === null) return null;
  return /^\d{7}$/.test(head) ? head.slice(0, 3) : head; // old modules: Ver[7411706-…] → 741
}

function avalonVer(replies: Replies): string | null {
  for (const rec of replies.section(['stats', 'estats', 'litestats'], 'STATS')) {
    for (const [key, value] of Object.entries(rec)) {
      if (!key.startsWith('MM ID') || typeof value !== 'string') continue;
      const ver = /Ver\[([^\]]*)\]/.exec(value);
      if (ver?.[1]) return ver[1];
    }
  }
  return null;
}

function hasAvalonModules(replies: Replies): boolean {
  // for…in, not Object.keys: asked of every miner's stats records (a hundred keys each), it walks
  // them without copying the key list.
  for (const rec of replies.section(['stats', 'estats', 'litestats'], 'STATS'))
    for (const key in rec) if (key.startsWith('MM ID') && Object.hasOwn(rec, key)) return true;
  return false;
}

function hasInnosiliconChains(replies: Replies): boolean {
  const stats = replies.reply('stats');
  if (!stats) return false;
  const chains = [...replies.section('stats', 'STATS')];
  for (const [key, value] of Object.entries(stats.body))
    if (/^STATS\d+$/.test(key) && Array.isArray(value)) chains.push(...value.filter(isRecord));
  return chains.some((rec) => 'Num active chips' in rec);
}

/**
 * An innominer whose `stats` did not answer (timed out, E): its chain records, the usual evidence,
 * are missing, and read as plain cgminer its `MHS` fields (sol/s on an A9) would pass for MH/s, a
 * million times too much. Its STATUS Description, no evidence of a make, is enough to keep the
 * dialect that leaves the rate's unit to `coin`, or unknown.
 */
function innominerWithoutStats(replies: Replies): boolean {
  if (replies.ok('stats')) return false;
  return replies.all().some(([, reply]) => /^innominer\b/i.test(reply.status.description ?? ''));
}

export function withAlgorithm(partial: Omit<Identity, 'algorithm'>): Identity {
  // Braiins OS and LuxOS exist only for SHA-256 Antminers, so an unknown model is still sha256d.
  const fallback: Algorithm =
    partial.family === 'braiins' || partial.family === 'luxos' ? 'sha256d' : 'unknown';
  return { ...partial, algorithm: lookupModel(partial.make, partial.model)?.algorithm ?? fallback };
}

export function detect(replies: Replies): Identity {
  const version = replies.section('version', 'VERSION')[0] ?? {};
  const statsReply = replies.ok('stats');
  const statsHeader = replies.section('stats', 'STATS').find((rec) => 'Type' in rec && !('ID' in rec)) ?? {};
  const info = isRecord(statsReply?.body.INFO) ? statsReply.body.INFO : {};
  const keys: Rec = { ...statsHeader, ...version };
  const minerKey = str(keys.BMMiner) ?? str(keys.CGMiner) ?? str(keys.Cgminer);

  if (looksLikeWhatsminer(replies) && !('Type' in keys) && !('PROD' in keys))
    return detectWhatsminer(replies);

  // STATUS Msg (not Description) names the program: "LUXminer stats", "BOSminer versions".
  const msgs = replies.all().map(([, reply]) => reply.status.msg ?? '');
  if (!('LUXminer' in keys) && msgs.some((m) => /^LUXminer\b/.test(m))) keys.LUXminer = null;
  if ('LUXminer' in keys) {
    const parsed = parseType(str(keys.Type) ?? '', null);
    return withAlgorithm({
      make: parsed.make,
      model: parsed.model,
      firmware: { name: 'LuxOS', version: str(keys.LUXminer) ?? str(keys.Miner) },
      family: 'luxos',
    });
  }

  const bos = ['BOSer', 'BOSminer+', 'BOSminer'].find((k) => k in keys);
  if (bos) {
    const devModel = str(replies.section('devdetails', 'DEVDETAILS')[0]?.Model);
    // Braiins OS also runs Braiins' own hardware, named with its maker: "Braiins Mini Miner BMM 100"
    // (asic-rs reads the same name as a Braiins model). That is no Antminer.
    const braiinsMade = devModel !== null ? /^braiins\s+(.+)$/i.exec(devModel) : null;
    const model =
      devModel === null
        ? null
        : braiinsMade
          ? (braiinsMade[1] as string)
          : // BOSminer writes the maker and the make both ("Bitmain Antminer S9"): each is dropped.
            devModel.replace(/^(?:(?:bitmain|antminer)\s+)+/i, '').replace(/^(S\d+)(XP)$/i, '$1 $2');
    return withAlgorithm({
      make: braiinsMade ? 'Braiins' : 'Antminer',
      model,
      firmware: { name: bos === 'BOSminer+' ? 'Braiins OS+' : 'Braiins OS', version: str(keys[bos]) },
      family: 'braiins',
    });
  }

  if ('BDMiner' in keys) {
    const stats = replies.section('stats', 'STATS').find((rec) => 'Model' in rec);
    return withAlgorithm({
      make: 'SealMiner',
      model: str(stats?.Model),
      firmware: { name: 'bdminer', version: str(stats?.Firmware) ?? str(keys.BDMiner) },
      family: 'sealminer',
    });
  }

  if ('PROD' in keys || hasAvalonModules(replies)) {
    const ver = avalonVer(replies);
    const build =
      str(keys.VERSION) ??
      str(keys.LVERSION) ??
      (ver === null ? null : (/^(?:\d{2}-\d{3}|[^-]+)-(.+)$/.exec(ver)?.[1] ?? null));
    return withAlgorithm({
      make: 'Avalon',
      model: avalonModel(str(keys.PROD), str(keys.MODEL), ver),
      firmware: { name: 'Avalon', version: build },
      family: 'avalon',
    });
  }

  const type = str(keys.Type) ?? str(info.type);
  if (type !== null) {
    const parsed = parseType(type, minerKey);
    const bmminer = minerKey ?? '';
    let aftermarket = parsed.aftermarket;
    if (aftermarket === null && /asicseer/i.test(bmminer)) {
      aftermarket = { name: 'ASICseer', version: /asicseer-([\d.]+)/i.exec(bmminer)?.[1] ?? null };
    } else if (aftermarket === null && /rwglr/i.test(bmminer)) {
      aftermarket = { name: 'MSKminer', version: null };
    } else if (aftermarket === null && /^bOS_/i.test(bmminer)) {
      aftermarket = { name: 'Braiins OS', version: null };
    }
    const chipless = /\((chipless)\s+v?([\d.]+)[^)]*\)/i.exec(label(str(keys.CompileTime) ?? ''));
    if (aftermarket === null && chipless) aftermarket = { name: 'Chipless', version: chipless[2] ?? null };
    if (aftermarket !== null) {
      const version =
        aftermarket.version ??
        (aftermarket.name === 'Braiins OS' || aftermarket.name === 'Hiveon' ? minerKey : null);
      return withAlgorithm({
        make: parsed.make,
        model: parsed.model,
        firmware: { name: aftermarket.name, version },
        family: 'antminer-aftermarket',
      });
    }
    const firmware =
      'type' in info && !('Type' in keys)
        ? {
            // Bitmain's own firmware, or the maker's Bitmain-style build (Elphapex).
            name: parsed.make === 'Antminer' ? 'bmminer' : parsed.make === 'unknown' ? null : parsed.make,
            version: compileDate(info.CompileTime) ?? str(info.miner_version),
          }
        : {
            ...firmwareOfBmminerKeys(keys),
            name: firmwareOfBmminerKeys(Object.keys(version).length > 0 ? version : statsHeader).name,
          };
    return withAlgorithm({ make: parsed.make, model: parsed.model, firmware, family: 'antminer' });
  }

  if (looksLikeWhatsminer(replies)) return detectWhatsminer(replies);
  if (hasInnosiliconChains(replies) || innominerWithoutStats(replies)) {
    // Only STATUS Description names Innosilicon (`innominer a9-1.1.0`), and Description is not
    // evidence: the chain-record format is parsed, the make stays unknown.
    return withAlgorithm({
      make: 'unknown',
      model: null,
      firmware: { name: null, version: null },
      family: 'innosilicon',
    });
  }
  const program = minerKey === null ? programKey(version) : null;
  const programMake = program ? (MAKE_OF_PROGRAM[program.name.toLowerCase()] ?? null) : null;
  return withAlgorithm({
    make: programMake ?? makeOfDriver(replies) ?? 'unknown',
    // Auradine's GCMiner names its model only in DEVDETAILS[0].Model ("AT2880"), as pyasic reads it.
    model: programMake === 'Auradine' ? str(replies.section('devdetails', 'DEVDETAILS')[0]?.Model) : null,
    firmware: program ?? {
      name: minerKey === null ? null : firmwareOfBmminerKeys(keys).name,
      version: minerKey,
    },
    family: 'generic',
  });
}
