// The results table printed by bench/run.ts, and the normalisation of what a module returns.
import type { BenchOutcome, BenchResult } from './types.js';

/**
 * Accepts a BenchResult, a BenchSkip, a list of them, or a report object carrying them in `results`
 * (its other fields go to the JSON file as details); anything else is kept as a raw note.
 */
export function normalizeOutcomes(bench: string, returned: unknown): BenchOutcome[] {
  if (isReport(returned)) return normalizeOutcomes(bench, returned.results);
  const items = Array.isArray(returned) ? returned : [returned];
  return items.map((item): BenchOutcome => {
    if (typeof item === 'object' && item !== null) {
      const record = item as Record<string, unknown>;
      if (typeof record.skipped === 'string')
        return { bench: String(record.bench ?? bench), skipped: record.skipped };
      if (typeof record.subject === 'string' && typeof record.value === 'number') {
        return { ...(record as unknown as BenchResult), bench: String(record.bench ?? bench) };
      }
    }
    return {
      bench,
      subject: 'result',
      value: Number.NaN,
      unit: '',
      better: 'lower',
      baseline: null,
      ratio: null,
      samples: 0,
      notes: `unrecognised result: ${JSON.stringify(item)?.slice(0, 300)}`,
    };
  });
}

export function isReport(value: unknown): value is { results: unknown[] } {
  return (
    typeof value === 'object' && value !== null && Array.isArray((value as { results?: unknown }).results)
  );
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatTable(outcomes: readonly BenchOutcome[]): string {
  const head = ['BENCH', 'SUBJECT', 'MEDIAN', 'UNIT', 'BASELINE', 'BASE', 'RATIO', 'N', 'NOTES'];
  const rows = outcomes.map((outcome) => {
    if ('skipped' in outcome)
      return [outcome.bench, '-', '-', '-', '-', '-', '-', '-', `skipped: ${outcome.skipped}`];
    const ratio =
      outcome.ratio === null
        ? '-'
        : `${outcome.ratio.toFixed(2)}x ${outcome.better === 'lower' ? '(lower is better)' : '(higher is better)'}`;
    return [
      outcome.bench,
      outcome.subject,
      formatNumber(outcome.value),
      outcome.unit,
      outcome.baseline?.subject ?? '-',
      outcome.baseline ? formatNumber(outcome.baseline.value) : '-',
      ratio,
      String(outcome.samples),
      outcome.notes ?? '',
    ];
  });
  const widths = head.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}
