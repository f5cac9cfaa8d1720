// The normalized snapshot of what the audit read, through the shared pure normalizer; the audit does
// its own reads (fixed read-only list) and never lets a fetch helper choose commands for it.

import { normalize } from '../miners/normalize.js';
import type { Snapshot } from '../miners/types.js';
import { outcomesAsReplies, succeeded } from './identify.js';
import type { ReadOutcome } from './types.js';

/** null when nothing was read successfully (api-allow refused us, or every read failed). */
export function snapshotFromReads(reads: Record<string, ReadOutcome>): Snapshot | null {
  if (!Object.values(reads).some((outcome) => succeeded(outcome))) return null;
  return normalize(outcomesAsReplies(reads));
}
