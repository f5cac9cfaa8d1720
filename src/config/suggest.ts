// What an unknown key in a config file was probably meant to be: the keys the schema accepts at that
// place, and the one a typo is closest to (`concurency` → `concurrency`, `modles` → `models`).
import { z } from 'zod';

/** The keys an object schema accepts at `path` (record keys and list indexes pass through), or []. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let at: z.ZodType | undefined = unwrap(schema);
  for (const step of path) {
    if (at instanceof z.ZodObject) at = (at.shape as Record<string, z.ZodType>)[String(step)];
    else if (at instanceof z.ZodRecord) at = at.valueType as z.ZodType;
    else if (at instanceof z.ZodArray) at = at.element as z.ZodType;
    else return [];
    if (at === undefined) return [];
    at = unwrap(at);
  }
  return at instanceof z.ZodObject ? Object.keys(at.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let at = schema;
  for (let guard = 0; guard < 16; guard++) {
    if (at instanceof z.ZodOptional || at instanceof z.ZodNullable || at instanceof z.ZodDefault)
      at = at.unwrap() as z.ZodType;
    else if (at instanceof z.ZodPipe) at = at.in as z.ZodType;
    else break;
  }
  return at;
}

/**
 * Edit distance with adjacent transpositions counted as one (optimal string alignment), ignoring
 * case and treating `-` and `_` alike: the typos people make in keys.
 */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase().replaceAll('-', '_');
  const y = b.toLowerCase().replaceAll('-', '_');
  const rows: number[][] = [];
  for (let i = 0; i <= x.length; i++) rows.push([i]);
  for (let j = 1; j <= y.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[x.length]![y.length]!;
}

/** The candidate `word` is most likely a typo of: within a third of its length (at least 1, at most 3). */
export function closest(word: string, candidates: readonly string[]): string | null {
  const allowed = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | null = null;
  let bestDistance = allowed + 1;
  for (const candidate of candidates) {
    // The distance is at least the difference in length: a key much longer than every candidate
    // is no typo of one, and its full table (a 3 MB key: 31 s and 1.1 GB) is never built.
    if (Math.abs(word.length - candidate.length) > allowed) continue;
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Lists this short are shown whole when no known key is close to the unknown one. */
const LISTED_AT_MOST = 12;

/** `unknown key`, with the key it was likely meant to be or, failing that, the keys allowed there. */
export function unknownKeyMessage(schema: z.ZodType, path: readonly PropertyKey[], key: string): string {
  const known = keysAt(schema, path);
  const guess = closest(key, known);
  if (guess !== null) return `unknown key (did you mean "${guess}"?)`;
  if (known.length > 0 && known.length <= LISTED_AT_MOST)
    return `unknown key (known here: ${known.join(', ')})`;
  return 'unknown key';
}
