// Whatsminer (MicroBT btminer): cgminer-style `summary`, `devs`/`edevs`, `pools`, `devdetails` in
// MH/s, plus the native `status` (is btminer off?) and `get_error_code` (CGMINER-API.md §8.5).
import {
  ambientTemp,
  bool,
  counter,
  isRecord,
  positive,
  type Rec,
  rpm,
  str,
  sumAll,
  temp,
  watts,
} from '../values.js';
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
  scaled,
  type Telemetry,
} from './common.js';

const WHATSMINER_FANS = 2; // intake and exhaust

/** Error codes from `summary` (`Error Code 0..N`, before API 2.0.4) and `get_error_code` (after). */
function errorCodes(summary: Rec | undefined, native: Rec | null): number[] {
  const codes: number[] = [];
  if (summary) {
    for (const [key, value] of Object.entries(summary)) {
      if (!/^Error Code \d+$/.test(key)) continue;
      const code = counter(value);
      if (code !== null) codes.push(code);
    }
  }
  const listed = native?.error_code;
  const entries = Array.isArray(listed) ? listed : isRecord(listed) ? [listed] : [];
  for (const entry of entries) {
    if (isRecord(entry)) {
      for (const key of Object.keys(entry)) {
        const code = counter(key);
        if (code !== null) codes.push(code);
      }
    } else {
      const code = counter(entry);
      if (code !== null) codes.push(code);
    }
  }
  return [...new Set(codes)];
}

export function parseWhatsminer(input: DialectInput): Telemetry {
  const out = emptyTelemetry();
  const { replies } = input;
  const summary = replies.section('summary', 'SUMMARY')[0];
  const devs = replies.section(['edevs', 'devs'], 'DEVS');

  // "HS RT" is btminer's realtime figure; "MHS 5s" can spike (M31S: 92.8 TH/s against 76.7 on the boards).
  out.hashrate.current_hs = scaled(summary?.['HS RT'], 1e6) ?? labelledRate(summary, CURRENT_LABELS);
  out.hashrate.average_hs = labelledRate(summary, AVERAGE_LABELS);
  if (!summary) {
    out.hashrate.current_hs = sumAll(devs.map((d) => labelledRate(d, CURRENT_LABELS)));
    out.hashrate.average_hs = sumAll(devs.map((d) => labelledRate(d, AVERAGE_LABELS)));
  }
  const factory = positive(summary?.['Factory GHS']);
  out.hashrate.nominal_hs = factory === null ? null : factory * 1e9;
  applySummaryCounters(out, summary);

  devs.forEach((dev, i) => {
    const board: BoardDraft = {
      index: counter(dev.Slot) ?? counter(dev.ASC) ?? i,
      hashrate_hs: labelledRate(dev, CURRENT_LABELS),
      chips: counter(dev['Effective Chips']),
      chips_expected: null,
      temp_board_c: temp(dev.Temperature),
      temp_chip_c: temp(dev['Chip Temp Max']),
      frequency_mhz: positive(dev['Chip Frequency']) ?? positive(dev.Frequency),
      firmware_dead: String(dev.Status ?? '').toLowerCase() === 'dead',
    };
    out.boards.push(board);
  });

  out.temp_max_chip_c = temp(summary?.['Chip Temp Max']);
  out.temp_max_board_c = temp(summary?.Temperature);
  out.temp_inlet_c = ambientTemp(summary?.['Env Temp']);
  out.power_w = watts(summary?.Power_RT) ?? watts(summary?.Power);
  out.efficiency_j_per_th = positive(summary?.['Power Rate']);

  const liquid = bool(summary?.['Liquid Cooling']);
  const fanSource = summary ?? devs[0];
  const fanSlots: [number, number | null][] =
    fanSource && ('Fan Speed In' in fanSource || 'Fan Speed Out' in fanSource)
      ? [
          [0, rpm(fanSource['Fan Speed In'])],
          [1, rpm(fanSource['Fan Speed Out'])],
        ]
      : [];
  out.fans = fansFromSlots(fanSlots, liquid === true ? null : WHATSMINER_FANS, isHashing(out));
  out.cooling = liquid === true ? 'hydro' : liquid === false || out.fans.length > 0 ? 'air' : null;
  // `Env Temp` is the room's air. On a liquid-cooled unit the inlet judged is the water's
  // (thermal-facts §6: sensor kinds are not mixed), which this reply does not carry.
  if (liquid === true) out.temp_inlet_c = null;
  // MicroBT's limits depend on it (thermal-facts §6: ambient 28 °C in High mode, water 40/45).
  out.power_mode = str(summary?.['Power Mode'])?.toLowerCase() ?? null;

  for (const code of errorCodes(summary, replies.nativeMsg('get_error_code'))) {
    out.errors.push({ code, message: `Whatsminer error code ${code}` });
  }

  const status = replies.nativeMsg('status');
  const off = bool(status?.btmineroff) ?? bool(status?.mineroff);
  if (off === true) out.state = 'sleeping';
  else if (off === false) out.state = 'mining';
  return out;
}
