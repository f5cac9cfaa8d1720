// The scan loop: the lazy TargetSet is pulled one address at a time while fewer than `concurrency`
// endpoints are in progress, so a /8 is never materialized; every endpoint ends as exactly one
// ScanResult.
import { isIP } from 'node:net';
import { sleep as defaultSleep } from '../context.js';
import type { TargetSet } from '../targets/set.js';
import { AdaptiveGate } from './gate.js';
import { Identifier, ScanFailure, ScanStopped } from './identify.js';
import type { ScanInventory, ScanOptions, ScanProgress, ScanResult, ScanSummary } from './types.js';

/** Unresolved names listed in the summary; more are counted as "none" only. */
const MAX_UNRESOLVED = 20;

export interface ScanHandlers {
  /** Each result as it is found (completion order), with its position in the target order. */
  onResult?: (result: ScanResult, index: number) => void;
  /** After each finished endpoint; callers throttle their own drawing. */
  onProgress?: (progress: ScanProgress) => void;
}

export interface ScanReport {
  /** `miner` and `open` results (and `none` with keepNone), in target order. */
  results: ScanResult[];
  summary: ScanSummary;
}

function checkOptions(options: ScanOptions): void {
  for (const [name, value] of [
    ['connect timeout', options.connectTimeoutMs],
    ['reply timeout', options.replyTimeoutMs],
    ['max-bytes', options.maxBytes],
    ['concurrency', options.concurrency],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`scan ${name} must be more than 0, got ${value}`);
  }
  if (!Number.isInteger(options.retries) || options.retries < 0)
    throw new RangeError(`scan retries must be ≥ 0, got ${options.retries}`);
}

export function scan(
  targets: TargetSet,
  options: ScanOptions,
  handlers: ScanHandlers = {},
): Promise<ScanReport> {
  checkOptions(options);
  const now = options.now ?? Date.now;
  const started = now();
  const concurrency = Math.max(1, Math.min(options.concurrency, targets.count));
  const gate = new AdaptiveGate(concurrency);
  const identifier = new Identifier({
    gate,
    connectTimeoutMs: options.connectTimeoutMs,
    replyTimeoutMs: options.replyTimeoutMs,
    ...(options.lookupTimeoutMs !== undefined ? { lookupTimeoutMs: options.lookupTimeoutMs } : {}),
    maxBytes: options.maxBytes,
    retries: options.retries,
    now,
    sleep: options.sleep ?? defaultSleep,
    random: options.random ?? Math.random,
    signal: options.signal,
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(options.budget ? { budget: options.budget } : {}),
  });

  const kept: [number, ScanResult][] = [];
  const unresolved = new Set<string>();
  const byMake: Record<string, number> = {};
  const counts = { miner: 0, open: 0, none: 0 };
  let checked = 0;
  const { onResult, onProgress } = handlers;

  const report = (): ScanReport => {
    const elapsedMs = Math.max(0, Math.round(now() - started));
    const summary: ScanSummary = {
      targets: targets.count,
      checked,
      miners: counts.miner,
      open: counts.open,
      none: counts.none,
      by_make: Object.fromEntries(
        Object.entries(byMake).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0], 'en')),
      ),
      ports: options.ports,
      concurrency,
      connect_timeout_ms: options.connectTimeoutMs,
      reply_timeout_ms: options.replyTimeoutMs,
      elapsed_ms: elapsedMs,
      rate_per_s: elapsedMs > 0 ? Math.round((checked / elapsedMs) * 1000) : checked,
      backoffs: gate.backoffs,
      final_concurrency: gate.limit,
      interrupted: options.signal?.aborted === true && checked < targets.count,
      unresolved: [...unresolved],
    };
    kept.sort((a, b) => a[0] - b[0]);
    return { results: kept.map(([, result]) => result), summary };
  };

  // Callbacks all the way down (no promise or async generator per endpoint): the iterator is pulled
  // one target at a time while fewer than `concurrency` endpoints are in progress, so a /8 is never
  // materialized. The gate inside the identifier decides when each connection opens, and is what
  // shrinks on EMFILE; endpoints waiting for it hold no socket.
  return new Promise<ScanReport>((resolve, reject) => {
    const iterator = targets[Symbol.iterator]();
    let position = 0;
    let inProgress = 0;
    let drained = false;
    let failed = false;

    // SIGINT: no new endpoint is pulled (pump) and no queued connection opens (stop).
    const stopOnAbort = (): void => identifier.stop();
    options.signal?.addEventListener('abort', stopOnAbort, { once: true });
    const settle = (): void => options.signal?.removeEventListener('abort', stopOnAbort);

    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      identifier.stop();
      settle();
      iterator.return?.();
      reject(error);
    };

    const record = (index: number, result: ScanResult): void => {
      checked++;
      counts[result.outcome]++;
      if (result.outcome === 'miner') {
        const make = result.make ?? 'unknown';
        byMake[make] = (byMake[make] ?? 0) + 1;
      }
      if (result.outcome !== 'none' || options.keepNone) kept.push([index, result]);
      // A name that does not resolve is a target the user typed that was never checked, not an
      // address where nothing listens: it is said, whatever --all.
      if (
        result.kind === 'unreachable' &&
        unresolved.size < MAX_UNRESOLVED &&
        isIP(result.host) === 0 &&
        /\((ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME|EAI_NODATA)\)/.test(result.reason ?? '')
      )
        unresolved.add(result.host);
      onResult?.(result, index);
      onProgress?.({
        total: targets.count,
        checked,
        miners: counts.miner,
        open: counts.open,
        elapsedMs: now() - started,
      });
    };

    const pump = (): void => {
      while (!failed && !drained && inProgress < concurrency && options.signal?.aborted !== true) {
        const step = iterator.next();
        if (step.done === true) {
          drained = true;
          break;
        }
        const index = position++;
        inProgress++;
        identifier.identifyEach(step.value, (result) => {
          inProgress--;
          if (failed) return;
          if (result instanceof ScanStopped) {
            // Interrupted before its connection opened: not checked, not counted.
            pump();
            return;
          }
          if (result instanceof ScanFailure) {
            fail(result.error);
            return;
          }
          try {
            record(index, result);
            pump();
          } catch (error) {
            fail(error);
          }
        });
      }
      if (!failed && inProgress === 0) {
        settle();
        resolve(report());
      }
    };

    try {
      pump();
    } catch (error) {
      fail(error);
    }
  });
}

/** The `--out` inventory: the miners found, in target order. */
export function buildInventory(results: readonly ScanResult[], generatedAt: Date): ScanInventory {
  return {
    generated_at: generatedAt.toISOString(),
    miners: results
      .filter((r) => r.outcome === 'miner')
      .map((r) => ({ host: r.host, port: r.port, make: r.make, model: r.model, firmware: r.firmware })),
  };
}
