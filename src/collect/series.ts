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
  /** An hourly point: the hour's polls without the figure (failed, or no reading), as raw rows count them. */
  missing?: number;
}

export interface SeriesStats {
  min: number | null;
  avg: number | null;
  max: number | null;
  /** Polls with a value (an hourly point counts the polls it stands for). */
  samples: number;
  /** Polls without one (failed polls, missing sensors), an hourly point counting its hour's. */
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
    // An hour rolled up counts its polls without a value as its raw rows did, not as one (or none).
    if (value === null) {
      gaps += Math.max(1, point.missing ?? 1);
      continue;
    }
    gaps += point.missing ?? 0;
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
 * What a chart column stands for besides its value: `no_value` — polled, but no poll in it had the
 * figure (the miner was offline, or the sensor gave nothing); `not_polled` — no poll at all (the
 * collector was not running, or the miner was not in its targets). Either is drawn at the last
 * value (the chart cannot draw holes), so the chart marks it under the line.
 */
export type ChartMark = '' | 'no_value' | 'not_polled';

/** Consecutive points further apart than this many of their usual intervals leave a hole. */
const HOLE_INTERVALS = 2.5;
const HOUR = 3_600_000;

/**
 * At most `width` values for the chart: points are grouped into equal time buckets and averaged;
 * a bucket without a value repeats the previous value, and `marks` says which ones those are. A
 * span without polls (the collector stopped for two hours) gets the columns its time takes.
 */
export function chartColumns(
  points: readonly SeriesPoint[],
  width: number,
): { values: number[]; marks: ChartMark[] } {
  const known = points.filter((p) => p.value !== null);
  if (known.length === 0 || width < 1) return { values: [], marks: [] };
  // The usual interval between two polls (an hourly point stands for its hour).
  const gaps: number[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    if (points[i]!.source === 'raw') gaps.push(points[i + 1]!.ts - points[i]!.ts);
  }
  gaps.sort((a, b) => a - b);
  const usual = Math.max(1, gaps[Math.floor(gaps.length / 2)] ?? 1);
  const hole = (i: number) =>
    points[i + 1]!.ts - points[i]!.ts > HOLE_INTERVALS * (points[i]!.source === 'hourly' ? HOUR : usual);
  let holes = false;
  for (let i = 0; i + 1 < points.length && !holes; i++) holes = hole(i);
  // Hourly points before raw ones are further apart than the polls: a column each, a day of
  // rollups took as many columns as 24 polls (a third of a chart whose other day was 48 polls).
  const mixed = points[0]!.source === 'hourly' && points[points.length - 1]!.source === 'raw';
  if (points.length <= width && !holes && !mixed) {
    return {
      values: carryForward(points.map((p) => p.value)),
      marks: points.map((p) => (p.value === null ? 'no_value' : '')),
    };
  }
  const columns = holes ? width : Math.min(width, points.length);
  const first = points[0]!.ts;
  const span = points[points.length - 1]!.ts - first || 1;
  const sums = new Array<number>(columns).fill(0);
  const counts = new Array<number>(columns).fill(0);
  const polled = new Array<boolean>(columns).fill(false);
  const column = (ts: number) => Math.min(columns - 1, Math.floor(((ts - first) / span) * columns));
  for (const { ts, value } of points) {
    const c = column(ts);
    polled[c] = true;
    if (value === null) continue;
    sums[c]! += value;
    counts[c]!++;
  }
  // Columns no point falls in, inside a hole between two points (not merely between two polls
  // closer together than a column is wide).
  const unpolled = new Array<boolean>(columns).fill(false);
  for (let i = 0; i + 1 < points.length; i++) {
    if (!hole(i)) continue;
    for (let c = column(points[i]!.ts) + 1; c < column(points[i + 1]!.ts); c++) unpolled[c] = true;
  }
  return {
    values: carryForward(sums.map((s, i) => (counts[i] === 0 ? null : s / counts[i]!))),
    marks: counts.map((n, i) => (n > 0 ? '' : polled[i] ? 'no_value' : unpolled[i] ? 'not_polled' : '')),
  };
}

/** The chart's values alone (see chartColumns). */
export function resample(points: readonly SeriesPoint[], width: number): number[] {
  return chartColumns(points, width).values;
}

function carryForward(values: (number | null)[]): number[] {
  const firstKnown = values.find((v) => v !== null) ?? 0;
  let last = firstKnown;
  return values.map((v) => {
    if (v !== null) last = v;
    return last;
  });
}
