// Small, dependency-free statistics and timing helpers shared by the benchmarks.
import type { BenchResult } from './types.js';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The p-th percentile (0..100), nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function ratio(value: number, baseline: number): number | null {
  return baseline > 0 && Number.isFinite(value) ? value / baseline : null;
}

/** A result against a baseline, both given as samples; the medians are compared. */
export function compareSamples(
  fields: Pick<BenchResult, 'bench' | 'subject' | 'unit' | 'better'> & { notes?: string },
  samples: readonly number[],
  baseline: { subject: string; samples: readonly number[] } | null,
): BenchResult {
  const value = median(samples);
  const baselineValue = baseline ? median(baseline.samples) : null;
  const result: BenchResult = {
    ...fields,
    value,
    baseline: baseline && baselineValue !== null ? { subject: baseline.subject, value: baselineValue } : null,
    ratio: baselineValue === null ? null : ratio(value, baselineValue),
    samples: samples.length,
  };
  if (fields.notes === undefined) delete result.notes;
  return result;
}

/** Milliseconds taken by fn (high-resolution clock). */
export async function timeMs(fn: () => unknown): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}
