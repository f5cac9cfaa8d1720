// What every benchmark module returns to bench/run.ts: one entry per measured subject, each against
// a competing baseline measured in the same run (hashctl.md §10).

export interface BenchResult {
  /** Which benchmark module produced it: `start`, `store`, `collect`, `scan`, `sim-scale`. */
  bench: string;
  /** What was measured, e.g. `bin/hashctl --version`. */
  subject: string;
  /** The median of the subject's samples, in `unit`. */
  value: number;
  unit: string;
  /** Whether a lower value is better (times) or a higher one (throughput). */
  better: 'lower' | 'higher';
  /** The competing baseline, measured in the same run with the same unit; null when none applies. */
  baseline: { subject: string; value: number } | null;
  /** value / baseline.value; null without a baseline. */
  ratio: number | null;
  samples: number;
  /** Bounds, sizes, or why something was skipped. */
  notes?: string;
}

export interface BenchSkip {
  bench: string;
  skipped: string;
}

export type BenchOutcome = BenchResult | BenchSkip;

export function isSkip(outcome: BenchOutcome): outcome is BenchSkip {
  return 'skipped' in outcome;
}
