// Anything that speaks the cgminer API without a dialect of its own (StrongU, Baikal, iBeLink,
// Dayun, Spondoolies, plain cgminer): upstream units (MHS = MH/s), `summary` totals, `devs` as
// boards, and pools. A device whose average counter is plainly garbage (Baikal: 683 TH/s average on a
// board doing 0.85 GH/s) is left out of the average rather than summed in.
import { counter, field, maxOf, positive, type Rec, rpm, sumAll, temp, watts } from '../values.js';
import {
  AVERAGE_LABELS,
  applySummaryCounters,
  currentRate,
  type DialectInput,
  emptyTelemetry,
  fansFromSlots,
  isHashing,
  labelledRate,
  noteUnjudgedFans,
  type Telemetry,
} from './common.js';

const IMPLAUSIBLE_AVERAGE_RATIO = 100;

function deviceAverage(dev: Rec): number | null {
  const average = labelledRate(dev, AVERAGE_LABELS);
  const current = currentRate(dev);
  if (average !== null && current !== null && current > 0 && average / current > IMPLAUSIBLE_AVERAGE_RATIO)
    return null;
  return average;
}

export function parseGeneric(input: DialectInput): Telemetry {
  const out = emptyTelemetry();
  const { replies } = input;
  const listed = replies.section('summary', 'SUMMARY')[0];
  const devs = replies.section(['devs', 'edevs'], 'DEVS');
  const boardsRate = sumAll(devs.map((d) => currentRate(d)));
  // A summary at 0 while the boards hash is not this miner's work (BW L21's cpuminer 2.3.2 build:
  // every MHS 0.00, Getworks 0, Accepted 1655589633532138, next to four boards at ~139 MH/s): its
  // rates and counters are left for the boards' own, as when there is no summary.
  const summary = currentRate(listed) === 0 && (boardsRate ?? 0) > 0 ? undefined : listed;
  // The other way round, devs all at 0 beside a summary that hashes are no measurement (stock
  // Bitmain's one `BTM_SOC` device, always 0.0): each board's rate is unknown, not a dead board's 0.
  const placeholders = boardsRate === 0 && (currentRate(summary) ?? 0) > 0;

  out.hashrate.current_hs = currentRate(summary) ?? boardsRate;
  const averages = devs.map(deviceAverage);
  out.hashrate.average_hs = labelledRate(summary, AVERAGE_LABELS) ?? sumAll(averages);
  applySummaryCounters(out, summary);
  // Auradine's GCMiner: `Wattage` (W) and `ThsThrottle`, the rate it is tuned to, in TH/s (asic-rs).
  out.power_w = listed ? watts(field(listed, 'Wattage')) : null;
  const tuned = listed ? positive(field(listed, 'ThsThrottle')) : null;
  out.hashrate.nominal_hs = tuned === null ? null : tuned * 1e12;
  if (!summary && devs.length > 0) {
    out.accepted = sumAll(devs.map((d) => counter(field(d, 'Accepted'))));
    out.rejected = sumAll(devs.map((d) => counter(field(d, 'Rejected'))));
    out.hw_errors = sumAll(devs.map((d) => counter(field(d, 'Hardware Errors'))));
    out.uptime_s = devs[0] ? counter(field(devs[0], 'Device Elapsed')) : null;
  }

  // Goldshell's bfgminer (intchains_qomo) counts each board's chips in devdetails `chips-nr`, keyed
  // by the device's ID (asic-rs reads it as the board's working chips).
  const chipsById = new Map<number, number | null>();
  for (const detail of replies.section('devdetails', 'DEVDETAILS')) {
    const id = counter(field(detail, 'ID'));
    if (id !== null && 'chips-nr' in detail) chipsById.set(id, counter(detail['chips-nr']));
  }

  // Keys read in any case: builds of the same cgminer differ (BW L21's cgminer 4.10 and cpuminer
  // 2.3.2 write `temperature`).
  devs.forEach((dev, i) => {
    const id = counter(field(dev, 'ID'));
    out.boards.push({
      index: id ?? counter(field(dev, 'ASC')) ?? counter(field(dev, 'PGA')) ?? i,
      hashrate_hs: placeholders ? null : currentRate(dev),
      chips: counter(field(dev, 'Asics')) ?? (id === null ? null : (chipsById.get(id) ?? null)),
      chips_expected: null,
      // Goldshell's bfgminer (intchains_qomo) names its sensors `tstemp-N`: 2 the PCB, 0 and 1 the
      // chips (asic-rs, asic-rs-firmwares/goldshell/tests/fixtures/README.md).
      temp_board_c: temp(field(dev, 'Temperature')) ?? temp(dev['tstemp-2']),
      temp_chip_c: maxOf([temp(dev['tstemp-0']), temp(dev['tstemp-1'])]),
      frequency_mhz: positive(field(dev, 'Frequency')) ?? positive(field(dev, 'PLL')),
      firmware_dead: String(field(dev, 'Status') ?? '').toLowerCase() === 'dead',
    });
  });

  // Fans where a summary lists them (StrongU: "Fan Num", "Fan1", "Fan2").
  if (listed) {
    const slots: [number, number | null][] = [];
    for (const [key, value] of Object.entries(listed)) {
      const match = /^Fan(\d+)$/i.exec(key);
      if (match) slots.push([Number(match[1]), rpm(value)]);
    }
    const count = positive(field(listed, 'Fan Num'));
    out.fans = fansFromSlots(slots, count, isHashing(out));
    if (count === null) noteUnjudgedFans(out, slots, 'the miner', (index) => `Fan${index}`);
    if (out.fans.length > 0) out.cooling = 'air';
  }
  // Else fans as `fanN` RPM keys: Goldshell repeats the miner's fans in every device record, and
  // its stats carry them too; the lowest reading of a slot is kept (a fan slowing is the news).
  if (out.fans.length === 0) {
    const lowest = new Map<number, number | null>();
    const stats = replies.section('stats', 'STATS');
    for (const rec of [...devs, ...stats]) {
      for (const [key, value] of Object.entries(rec)) {
        const match = /^fan(\d+)$/.exec(key);
        if (!match) continue;
        const slot = Number(match[1]);
        const reading = rpm(value);
        const seen = lowest.get(slot);
        if (seen === undefined || (reading !== null && (seen === null || reading < seen)))
          lowest.set(slot, reading);
      }
    }
    // No count is given: beside turning fans a 0 may be a spare slot, but with none turning while
    // the boards hash the slots are a stopped fan set, kept for the air defaults to judge.
    const slots = [...lowest];
    const turning = slots.some(([, reading]) => reading !== null && reading > 0);
    out.fans = fansFromSlots(slots, turning ? null : slots.length, isHashing(out));
    noteUnjudgedFans(out, slots, 'the miner', (index) => `fan${index}`);
    if (out.fans.length > 0) out.cooling = 'air';
  }
  return out;
}
