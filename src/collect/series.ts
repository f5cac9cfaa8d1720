// The series behind `hashctl history` (pure): points, min/avg/max, and a resampling to the width
// of a terminal chart.

export type HistoryMetric = 'hashrate' | 'temp' | 'fans';

export interface SeriesPoint {
  ts: number;
  /** null: the miner did not answer that cycle (or the figure is unknown). */
  value: number | null;
  source: 'raw' | 'hourly';
  /** An hourly point: the hour's extremes (where the rollup keeps them) and the polls it stands for. */
  min?: number | null;
  max?: number | null;
  polls?: number;
}

export interface SeriesStats {
  min: number | null;
  avg: number | null;
  max: number | null;
  /** Polls with a value (an hourly point counts the polls it stands for). */
  samples: number;
  /** Points without one (failed polls, missing sensors). */
  gaps: number;
}

export function seriesStats(points: readonly SeriesPoint[]): SeriesStats {
  let min: number | null = null;
  let max: number | null = null;
  let total = 0;
  let samples = 0;
  let gaps = 0;
  for (const point of points) {
    const { value } = point;
    if (value === null) {
      gaps++;
      continue;
    }
    // An hour of 60 polls weighs as 60 polls, and its own extremes count, not its average's.
    const weight = Math.max(1, point.polls ?? 1);
    const low = point.min ?? value;
    const high = point.max ?? value;
    samples += weight;
    total += value * weight;
    if (min === null || low < min) min = low;
    if (max === null || high > max) max = high;
  }
  return { min, avg: samples === 0 ? null : total / samples, max, samples, gaps };
}

/**
 * At most `width` values for the chart: points are grouped into equal time buckets and averaged;
 * an empty bucket repeats the previous value (the chart cannot draw holes; stats report the gaps).
 */
export function resample(points: readonly SeriesPoint[], width: number): number[] {
  const known = points.filter((p) => p.value !== null);
  if (known.length === 0 || width < 1) return [];
  if (points.length <= width) return carryForward(points.map((p) => p.value));
  const first = points[0]!.ts;
  const span = points[points.length - 1]!.ts - first || 1;
  const sums = new Array<number>(width).fill(0);
  const counts = new Array<number>(width).fill(0);
  for (const { ts, value } of points) {
    if (value === null) continue;
    const bucket = Math.min(width - 1, Math.floor(((ts - first) / span) * width));
    sums[bucket]! += value;
    counts[bucket]!++;
  }
  return carryForward(sums.map((s, i) => (counts[i] === 0 ? null : s / counts[i]!)));
}

function carryForward(values: (number | null)[]): number[] {
  const firstKnown = values.find((v) => v !== null) ?? 0;
  let last = firstKnown;
  return values.map((v) => {
    if (v !== null) last = v;
    return last;
  });
}
