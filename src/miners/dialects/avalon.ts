// Avalon (Canaan): each module's telemetry is one `MM ID<n>` string of `Name[value]` tokens, not
// always space-separated (`Elapsed[103840]BOOTBY[1]`), read with a regex (CGMINER-API.md §8.6).
// Newer units report per-board lists (MGHS, MTmax, MTavg, PVT_T<n>); older ones (741/851) are
// stacks of modules, each of which is reported here as one board. MM rates are GH/s, cgminer's MH/s.
import { ambientTemp, counter, maxOf, num, positive, type Rec, sumAll, sumOf, temp } from '../values.js';
import {
  AVERAGE_LABELS,
  applySummaryCounters,
  type BoardDraft,
  CURRENT_LABELS,
  type DialectInput,
  emptyTelemetry,
  fansFromSlots,
  isHashing,
  labelledRate,
  noteUnjudgedFans,
  type Telemetry,
} from './common.js';

export type MmTokens = Map<string, string>;

/** Hashes behind one difficulty-1 share. */
const DIFF1_HASHES = 2 ** 32;

/**
 * `"Ver[1047-…] Temp[28] MGHS[18727.58 18507.76]"` → name → raw value (first occurrence wins): what
 * `/([A-Za-z_]\w*)\[([^\]]*)\]/g` finds, read by hand in one pass. That regex, on a hostile string
 * with no `[` (or no `]`), retried from every letter to the end of the string: quadratic, seconds
 * for 40 KB, days for the 8 MiB a reply may hold, and no deadline can stop a regex.
 */
export function parseMmString(text: string): MmTokens {
  const tokens: MmTokens = new Map();
  let from = 0;
  for (;;) {
    const open = text.indexOf('[', from);
    if (open === -1) break;
    // The name is the run of word characters just before `[`, from its first letter or `_`.
    let start = open;
    while (start > from && isWordCode(text.charCodeAt(start - 1))) start--;
    while (start < open && isDigitCode(text.charCodeAt(start))) start++;
    if (start === open) {
      from = open + 1;
      continue;
    }
    const close = text.indexOf(']', open + 1);
    if (close === -1) break; // no later `Name[…]` can close either
    const name = text.slice(start, open);
    if (!tokens.has(name)) tokens.set(name, text.slice(open + 1, close));
    from = close + 1;
  }
  return tokens;
}

function isDigitCode(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** `\w`: [A-Za-z0-9_]. */
function isWordCode(code: number): boolean {
  return (
    isDigitCode(code) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f
  );
}

function list(tokens: MmTokens, name: string): number[] {
  const raw = tokens.get(name);
  if (raw === undefined) return [];
  return raw
    .trim()
    .split(/\s+/)
    .map((v) => num(v.replace(/%$/, '')))
    .filter((v): v is number => v !== null);
}

function one(tokens: MmTokens, name: string): number | null {
  return list(tokens, name)[0] ?? null;
}

/** Every module of every `stats` record; `HBinfo` (Avalon Q) belongs to the module before it. */
export function avalonModules(stats: Rec[]): MmTokens[] {
  const modules: MmTokens[] = [];
  for (const rec of stats) {
    for (const [key, value] of Object.entries(rec)) {
      if (typeof value !== 'string') continue;
      if (key.startsWith('MM ID')) modules.push(parseMmString(value));
      else if (key === 'HBinfo' && modules.length > 0) {
        const last = modules[modules.length - 1];
        if (last) for (const [name, v] of parseMmString(value)) if (!last.has(name)) last.set(name, v);
      }
    }
  }
  return modules;
}

/** Wall power: `WALLPOWER`, else the PSU list — 7 fields end with wall watts, 6 fields carry W at [4]. */
function modulePower(tokens: MmTokens): number | null {
  const wall = positive(one(tokens, 'WALLPOWER'));
  if (wall !== null) return wall;
  const ps = list(tokens, 'PS');
  if (ps.length >= 7) return positive(ps[6]);
  if (ps.length >= 5) return positive(ps[4]);
  return null;
}

/**
 * Fans per Avalon model where a source gives the count: A10xx two (the avalon10 driver prints Fan1 and
 * Fan2 only), A1246 and A1166 four, A1566 two, Nano 3/3s one (pyasic's expected_fans; the A1246 and
 * A1566 samples list exactly that many, all turning). Unlisted models (A11xx others, A13xx, A14xx, Q,
 * Mini 3) are not guessed.
 */
const AVALON_FANS: [RegExp, number][] = [
  [/^10\d\d(?!\d)/, 2],
  [/^1166(?!\d)/, 4],
  [/^1246(?!\d)/, 4],
  [/^1566(?!\d)/, 2],
  [/^nano\s*3s?\b/i, 1],
];

export function avalonFanCount(model: string | null): number | null {
  if (model === null) return null;
  const bare = model.replace(/^(?:avalon\s*(?:miner)?\s*|a(?=\d))/i, '').trim();
  for (const [pattern, fans] of AVALON_FANS) if (pattern.test(bare)) return fans;
  return null;
}

export function parseAvalon(input: DialectInput): Telemetry {
  const out = emptyTelemetry();
  const { replies } = input;
  const summary = replies.section('summary', 'SUMMARY')[0];
  const devs = replies.section(['devs', 'edevs'], 'DEVS');
  const stats = replies.section(['stats', 'estats', 'litestats'], 'STATS');
  const modules = avalonModules(stats);

  const mmSum = (name: string) => sumAll(modules.map((m) => one(m, name)));
  const gh = (value: number | null) => (value === null ? null : value * 1e9);
  out.hashrate.current_hs =
    labelledRate(summary, CURRENT_LABELS) ??
    sumAll(devs.map((d) => labelledRate(d, CURRENT_LABELS))) ??
    gh(mmSum('GHSspd'));
  out.hashrate.average_hs =
    labelledRate(summary, AVERAGE_LABELS) ??
    sumAll(devs.map((d) => labelledRate(d, AVERAGE_LABELS))) ??
    gh(mmSum('GHSavg'));
  // GHSmm is computed from frequency and cores: the rate the module is set up to deliver.
  out.hashrate.nominal_hs = gh(mmSum('GHSmm'));
  applySummaryCounters(out, summary);
  applySummaryCounters(out, devs[0]);
  out.uptime_s ??= counter(devs[0]?.['Device Elapsed']) ?? counter(stats[0]?.Elapsed);

  // Old stacks of modules (AV741/851/90 behind an AUC) give no current rate per module, only the
  // work each did since it started: WU, diff-1 shares a minute, is WU × 2^32 / 60 H/s on average.
  // Moved to now by the miner's own current/average ratio, that is the module's rate. Measured per
  // module, it holds whether the reply lists every AUC's modules or one AUC's (a share of the
  // miner's total would give each of 5 listed modules a fifth of 20 modules' rate).
  const { current_hs: current, average_hs: average } = out.hashrate;
  const toNow = current === null || average === null || average <= 0 ? null : current / average;
  const moduleRate = (mm: MmTokens): number | null => {
    const wu = one(mm, 'WU');
    return wu === null || wu < 0 || toNow === null ? null : ((wu * DIFF1_HASHES) / 60) * toNow;
  };
  const fanSlots: [number, number | null][] = [];
  const fanNames = new Map<number, string>();
  let boardIndex = 0;
  modules.forEach((mm, moduleIndex) => {
    const perBoard = list(mm, 'MGHS');
    const freq = positive(one(mm, 'Freq'));
    if (perBoard.length > 0) {
      const tmax = list(mm, 'MTmax');
      // MGHS are averages since boot (they add up to GHSavg in every sample), not current rates:
      // each board's share of them is applied to the module's current GHSspd, so an idle unit's
      // boards read 0 rather than the rate they had an hour ago. Without GHSspd, null.
      const speed = one(mm, 'GHSspd');
      const averages = sumOf(perBoard);
      const share = speed === null || averages === null || averages <= 0 ? null : speed / averages;
      perBoard.forEach((rate, i) => {
        const chipTemps = list(mm, `PVT_T${i}`);
        const expected = /--hash-asic\s+(\d+)/.exec(mm.get(`ATAOPTS${i}`) ?? '')?.[1];
        const board: BoardDraft = {
          index: boardIndex++,
          hashrate_hs: share === null ? null : rate * share * 1e9,
          chips: chipTemps.length > 0 ? chipTemps.length : null,
          chips_expected: expected === undefined ? null : Number(expected),
          // MTavg is the board's average chip temperature (thermal-facts §1), not a PCB sensor:
          // judged as a board it would be held to PCB limits. No board sensor is read here.
          temp_board_c: null,
          temp_chip_c: temp(tmax[i]) ?? maxOf(chipTemps.map(temp)),
          frequency_mhz: freq,
        };
        out.boards.push(board);
      });
    } else {
      out.boards.push({
        index: boardIndex++,
        hashrate_hs: moduleRate(mm),
        chips: null,
        chips_expected: null,
        temp_board_c: null,
        temp_chip_c: temp(one(mm, 'TMax') ?? one(mm, 'Tmax')),
        temp_inlet_c: ambientTemp(one(mm, 'Temp')),
        frequency_mhz: freq,
      });
    }
    const single = one(mm, 'Fan');
    const where = modules.length > 1 ? `module ${moduleIndex} ` : '';
    if (single !== null) {
      fanSlots.push([moduleIndex, single]);
      fanNames.set(moduleIndex, `${where}Fan`);
    }
    for (let f = 1; f <= 8; f++) {
      const rpm = one(mm, `Fan${f}`);
      const slot = modules.length > 1 ? moduleIndex * 10 + f : f;
      if (rpm !== null) {
        fanSlots.push([slot, rpm]);
        fanNames.set(slot, `${where}Fan${f}`);
      }
    }
    list(mm, 'ECHU').forEach((code, i) => {
      if (code !== 0)
        out.errors.push({
          code,
          message: `Avalon module ${moduleIndex} hash board ${i}: ECHU error ${code}`,
        });
    });
    const ecmm = one(mm, 'ECMM');
    if (ecmm !== null && ecmm !== 0)
      out.errors.push({ code: ecmm, message: `Avalon module ${moduleIndex}: ECMM error ${ecmm}` });
  });
  // Canaan's firmware lists the fans the module has, no spare slot: the A10 driver prints Fan1 and
  // Fan2 (cgminer driver-avalon10.c), the newer one Fan1..fan_count as the module reports it. Where a
  // source gives the model's count, a 0 beside a turning fan is a stopped fan (it vanished, and an
  // A1566 hashing on one fan read "ok"). Elsewhere (the Avalon Q lists four slots where pyasic counts
  // two fans) a 0 beside turning fans is said, not judged. With none turning while the boards hash,
  // the listed slots are a stopped fan set (or immersion), kept for the air default to judge.
  const known = modules.length === 1 ? avalonFanCount(input.identity.model) : null;
  const turning = fanSlots.some(([, rpm]) => rpm !== null && rpm > 0);
  out.fans = fansFromSlots(fanSlots, known ?? (turning ? null : fanSlots.length), isHashing(out));
  if (known === null)
    noteUnjudgedFans(
      out,
      fanSlots,
      `the Avalon ${input.identity.model ?? '(model unknown)'}'s`,
      (index) => fanNames.get(index) ?? `fan ${index}`,
    );
  out.cooling = out.fans.length > 0 ? 'air' : null;

  out.temp_max_chip_c = maxOf(modules.map((m) => temp(one(m, 'TMax') ?? one(m, 'Tmax'))));
  out.temp_inlet_c = maxOf(
    // Each in turn until one reads: a Temp at the -273 sentinel hid a real ITemp behind it.
    modules.map(
      (m) => ambientTemp(one(m, 'Temp')) ?? ambientTemp(one(m, 'ITemp')) ?? ambientTemp(one(m, 'HBITemp')),
    ),
  );
  out.power_w = sumAll(modules.map(modulePower));

  const status = modules.map((m) => m.get('SYSTEMSTATU') ?? '').join(' ');
  if (/in idle/i.test(status)) out.state = 'sleeping';
  else if (/in work/i.test(status)) out.state = 'mining';
  return out;
}
