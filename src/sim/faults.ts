// `--faults latency=80ms,jitter=40ms,timeout=2%,hang=1%,malformed=1%,refused=1%,flap=1%,empty=1%`
// and the §12 malformations a good client can repair. Semantics are documented in README.md.
import { UsageError } from '../errors.js';
import { MAX_TIMER_MS, parseTimerDuration } from '../util/duration.js';
import { unit } from './rng.js';
import type { FaultSpec, MinerFaults } from './types.js';

/** How often the farm opens and closes flapping ports. */
export const FLAP_TICK_MS = 250;

export const NO_FAULTS: FaultSpec = {
  latencyMs: 0,
  jitterMs: 0,
  timeout: 0,
  hang: 0,
  malformed: 0,
  refused: 0,
  flap: 0,
  empty: 0,
  flapPeriodMs: 20_000,
  flapDownMs: 5_000,
};

/** `5%` or `0.05` → 0.05. */
export function parseShare(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  if (!match)
    throw new UsageError(`invalid ${flag} '${text}': use a percentage like 5% or a fraction like 0.05`);
  const value = Number(match[1]) / (match[2] === '%' ? 100 : 1);
  if (value < 0 || value > 1) throw new UsageError(`invalid ${flag} '${text}': must be between 0% and 100%`);
  return value;
}

export function parseFaults(text: string): FaultSpec {
  const spec: FaultSpec = { ...NO_FAULTS };
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const [rawKey, value, extra] = part.split('=', 3);
    const key = (rawKey ?? '').trim();
    if (value === undefined || extra !== undefined)
      throw new UsageError(`invalid --faults entry '${part}': expected name=value`);
    // `timeout=2%,…,timeout=5%`: one of the two would be dropped without a word.
    if (seen.has(key)) throw new UsageError(`--faults gives '${key}' twice`);
    seen.add(key);
    switch (key) {
      case 'latency':
        spec.latencyMs = parseTimerDuration(value, '--faults latency');
        break;
      case 'jitter':
        spec.jitterMs = parseTimerDuration(value, '--faults jitter');
        break;
      case 'flap_period':
        spec.flapPeriodMs = parseTimerDuration(value, '--faults flap_period');
        // Raised to 1 s without a word before: the farm flapped at another rhythm than asked.
        if (spec.flapPeriodMs < 1000)
          throw new UsageError(`invalid --faults flap_period '${value.trim()}': at least 1s`);
        break;
      case 'flap_down':
        spec.flapDownMs = parseTimerDuration(value, '--faults flap_down');
        // Ports open and close on a 250 ms ticker: a shorter window is missed by most ticks.
        if (spec.flapDownMs < FLAP_TICK_MS)
          throw new UsageError(
            `invalid --faults flap_down '${value.trim()}': at least ${FLAP_TICK_MS}ms (ports open and close every ${FLAP_TICK_MS} ms)`,
          );
        break;
      case 'timeout':
      case 'hang':
      case 'malformed':
      case 'refused':
      case 'flap':
      case 'empty':
        spec[key] = parseShare(value, `--faults ${key}`);
        break;
      default:
        throw new UsageError(
          `unknown fault '${key}' in --faults: use latency, jitter, timeout, hang, malformed, refused, flap, empty, flap_period, flap_down`,
        );
    }
  }
  if (spec.flapDownMs >= spec.flapPeriodMs)
    throw new UsageError('--faults flap_down must be shorter than flap_period');
  // A reply waits latency plus up to jitter on one timer: past ~24.8 days it would fire at once.
  if (spec.latencyMs + spec.jitterMs > MAX_TIMER_MS)
    throw new UsageError('--faults latency and jitter together must stay within 24d');
  return spec;
}

/** Faults for miner `index`: the fault share picks the affected miners, then per-miner shares apply. */
export function faultsForMiner(spec: FaultSpec, share: number, seed: number, index: number): MinerFaults {
  const affected = unit(seed, index, 'fault-share') < share;
  if (!affected)
    return {
      latencyMs: 0,
      jitterMs: 0,
      timeout: 0,
      malformed: 0,
      empty: 0,
      hang: false,
      refused: false,
      flap: false,
    };
  return {
    latencyMs: spec.latencyMs,
    jitterMs: spec.jitterMs,
    timeout: spec.timeout,
    malformed: spec.malformed,
    empty: spec.empty,
    hang: unit(seed, index, 'fault-hang') < spec.hang,
    refused: unit(seed, index, 'fault-refused') < spec.refused,
    flap: unit(seed, index, 'fault-flap') < spec.flap,
  };
}

export const MALFORMATIONS = [
  'glued-objects',
  'trailing-comma',
  'nan',
  'raw-newline',
  'trailing-garbage',
] as const;
export type Malformation = (typeof MALFORMATIONS)[number];

/**
 * Breaks a JSON reply the way real firmwares do (§12 #1, #3, #6, #4, #9). Each is repairable:
 * the data is all still there. Falls back to a trailing comma when the chosen one does not apply.
 */
export function malform(body: string, kind: Malformation): string {
  switch (kind) {
    case 'glued-objects': {
      const at = body.indexOf('},{');
      if (at >= 0) return `${body.slice(0, at)}}{${body.slice(at + 3)}`;
      break;
    }
    case 'nan': {
      const replaced = body.replace(
        /("(?:MHS av|GHS av|MHS 5s|GHS 5s|Temperature|Utility)":)-?\d+(?:\.\d+)?/,
        '$1nan',
      );
      if (replaced !== body) return replaced;
      break;
    }
    case 'raw-newline': {
      const at = body.indexOf('"Msg":"');
      if (at >= 0) return `${body.slice(0, at + 7)}\n${body.slice(at + 7)}`;
      break;
    }
    case 'trailing-garbage':
      return `${body}"}`;
    case 'trailing-comma':
      break;
  }
  const last = body.lastIndexOf('}');
  return last > 0 ? `${body.slice(0, last)},${body.slice(last)}` : body;
}
