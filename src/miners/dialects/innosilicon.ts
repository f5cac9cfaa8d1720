// Innosilicon (innominer / older sgminer builds): one `stats` record per hash chain with
// `Num chips` (expected) and `Num active chips`; the old build splits them into STATS0, STATS1, …
// The unit of the `MHS` fields depends on the model (an A9 reports sol/s there), so without a model
// or a `coin` reply naming the algorithm the hashrate is left null rather than guessed.
import type { Algorithm } from '../models.js';
import { counter, field, isRecord, positive, type Rec, rateWithUnit, rpm, str, temp } from '../values.js';
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
  scaled,
  type Telemetry,
} from './common.js';

/** H/s per "MH" of an Innosilicon field, by algorithm: equihash units report sol/s under the label. */
function innosiliconUnit(algorithm: string): number | null {
  if (algorithm === 'equihash') return 1;
  if (algorithm === 'sha256d' || algorithm === 'scrypt' || algorithm === 'ethash' || algorithm === 'x11')
    return 1e6;
  return null;
}

function chainRecords(input: DialectInput): Rec[] {
  const stats = input.replies.ok('stats');
  if (!stats) return [];
  const out = input.replies
    .section('stats', 'STATS')
    .filter((rec) => 'Num active chips' in rec || 'Num chips' in rec);
  for (const [key, value] of Object.entries(stats.body)) {
    if (!/^STATS\d+$/.test(key) || !Array.isArray(value)) continue;
    for (const rec of value)
      if (isRecord(rec) && ('Num active chips' in rec || 'Num chips' in rec)) out.push(rec);
  }
  return out;
}

export function parseInnosilicon(input: DialectInput): Telemetry {
  const out = emptyTelemetry();
  const summary = input.replies.section('summary', 'SUMMARY')[0];
  const hashMethod = str(input.replies.section('coin', 'COIN')[0]?.['Hash Method'])?.toLowerCase();
  const algorithm =
    input.identity.algorithm !== 'unknown'
      ? input.identity.algorithm
      : hashMethod === 'sha256'
        ? 'sha256d'
        : (hashMethod ?? 'unknown');
  const unit = innosiliconUnit(algorithm);
  // Named by `coin` alone, the algorithm is the snapshot's too: its rate is read in that unit, and
  // shown as "unknown" an A9's 51.45 ksol/s printed as "51.45 kH/s".
  if (input.identity.algorithm === 'unknown' && unit !== null) out.algorithm = algorithm as Algorithm;
  // A field's number is in the model's unit (an MHS label's "MH" is `unit` H/s); a value that names
  // its own unit ("51.27 Ksol/s") is read in that one, even where the model's is unknown.
  const rate = (rec: Rec | undefined, labels: [string, number][]): number | null => {
    if (!rec) return null;
    for (const [label, labelUnit] of labels) {
      const raw = field(rec, label);
      if (raw === undefined) continue;
      const value = rateWithUnit(raw) ?? (unit === null ? null : scaled(raw, (labelUnit / 1e6) * unit));
      if (value !== null) return value;
    }
    return null;
  };

  out.hashrate.current_hs = rate(summary, CURRENT_LABELS);
  out.hashrate.average_hs = rate(summary, AVERAGE_LABELS);
  if (out.hashrate.current_hs === null && labelledRate(summary, CURRENT_LABELS) !== null) {
    out.errors.push({
      code: 'unit_unknown',
      message: 'hashrate unit unknown for this Innosilicon model; left empty',
    });
  }
  applySummaryCounters(out, summary);

  const chains = chainRecords(input);
  // HonorKnight-style records carry the fans too ("Fan0 rpm"); the first chain's copy is enough.
  const first = chains[0];
  if (first) {
    const slots: [number, number | null][] = [];
    for (const [key, value] of Object.entries(first)) {
      const match = /^Fan(\d+) rpm$/.exec(key);
      if (match) slots.push([Number(match[1]), rpm(value)]);
    }
    // No count is given: with no fan turning while the boards hash, the named fans are a stopped
    // fan set, kept for the air defaults to judge (beside turning fans a 0 stays unjudged).
    const turning = slots.some(([, reading]) => reading !== null && reading > 0);
    out.fans = fansFromSlots(slots, turning ? null : slots.length, isHashing(out));
    noteUnjudgedFans(out, slots, 'the miner', (index) => `Fan${index}`);
    if (out.fans.length > 0) out.cooling = 'air';
  }
  chains.forEach((chain, i) => {
    const board: BoardDraft = {
      index: counter(chain['Chain ID']) ?? counter(chain.STATS) ?? i,
      hashrate_hs: rate(chain, AVERAGE_LABELS),
      chips: counter(chain['Num active chips']),
      chips_expected: positive(chain['Num chips']),
      temp_board_c: temp(chain.Temp),
      temp_chip_c: temp(chain['Temp max']),
      frequency_mhz: null,
    };
    out.boards.push(board);
  });
  return out;
}
