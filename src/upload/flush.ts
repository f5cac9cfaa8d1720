// Draining the outbox: oldest pending batch first, one at a time, each answer recorded before the
// next request (hashctl.md §9). At-least-once: a batch leaves `pending` only on a definite answer,
// so a run killed mid-send re-sends the same bytes later and the receiver dedupes on batch_id.
import type { Context } from '../context.js';
import { ConfigError, errorMessage, LockedError, UploadError, UsageError } from '../errors.js';
import { translateSqliteError } from '../store/errors.js';
import { acquireLock, type StoreLock } from '../store/lock.js';
import { metaStatements } from '../store/meta.js';
import {
  countPending,
  deferBatch,
  markCutByDeadline,
  markDelivered,
  markQuarantined,
  markRetryLater,
  nextAttemptAt,
  nextDueBatch,
  nextWaitingBatch,
  type OutboxRow,
  pruneFinished,
  RETRY_AFTER_META_PREFIX,
  recordAttempt,
  replaceWithHalves,
  SITE_ENDPOINT_META_PREFIX,
} from '../store/outbox.js';
import type { Db } from '../store/types.js';
import { readCapped } from '../util/read-capped.js';
import { splitBatchBody } from './batch.js';
import { parseEndpoint, type UploadEndpoint } from './endpoint.js';
import { loadCollectorKey } from './key.js';
import { proxyFor } from './proxy.js';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './retry.js';
import { createSender, type Sender } from './sender.js';
import { learnedCeiling, noteAccepted, noteRefused, readSizeLimit, writeSizeLimit } from './size-limit.js';

export interface FlushOptions {
  endpoint: string | UploadEndpoint;
  key: string;
  /** PEM of a private CA, trusted on top of the system's roots. */
  ca?: string;
  connectTimeoutMs: number;
  /** One request, connect to last byte of the answer. */
  totalTimeoutMs: number;
  /** Tries per batch in this run before it is left pending for the next run. */
  maxAttempts: number;
  /**
   * Absolute time (epoch ms, ctx.now's clock) by which the flush is over; no request outlives it.
   * Read once, at the start: the time left is then counted on ctx.monotonic.
   */
  deadlineMs?: number;
  signal: AbortSignal;
  /** Delivered and superseded rows older than this are pruned (default 7 days). */
  retentionMs?: number;
  backoff?: BackoffPolicy;
  /**
   * Within this long of a flush that found the collector down (every batch tried failed, none
   * taken), send nothing (default 0: a run of `upload` always tries). collect --interval's flushes.
   */
  downRetryGapMs?: number;
  /** Longest Retry-After slept through in this run; a longer one defers the batch to a later run. */
  maxRetryAfterMs?: number;
  /** Where the key came from (a key file, the environment), named when the collector refuses it. */
  keySource?: string;
  /** Injected by tests for the ids of split halves. */
  newBatchId?: () => string;
  /**
   * Nothing is sent before this time (epoch ms): the Retry-After an earlier flush of this process
   * was given (FlushReport.waitUntil) holds for the collector, not just for the batch it answered.
   */
  notBefore?: number;
  /**
   * Only this site's batches (null or absent: every site's). A site's data goes with its own key:
   * collect flushes its site only, so another site's batches never reach a collector under this key.
   */
  site?: string | null;
  /** Called after each batch's answer is recorded (the upload command's progress line on a TTY). */
  onProgress?: (report: Readonly<FlushReport>) => void;
}

export type FlushStop =
  | 'done' // nothing due is left
  | 'deadline' // out of time before the next cycle
  | 'retries_exhausted' // the collector kept failing: left pending for the next run
  | 'deferred' // the collector asked (Retry-After) for more time than this run waits
  | 'key_refused' // 401/403: every batch kept pending
  | 'endpoint' // the URL or its TLS is wrong: every batch kept pending
  | 'aborted' // SIGINT/SIGTERM
  | 'busy'; // another run holds the upload lock: nothing sent, its batches wait for the next flush

export interface FlushReport {
  endpoint: string;
  stop: FlushStop;
  /** One line on why batches are still pending, or null when none are. */
  reason: string | null;
  attempts: number;
  delivered: number;
  deliveredMiners: number;
  /** Of the delivered, how many the collector already had (409). */
  duplicates: number;
  split: number;
  quarantined: number;
  /** Pending after the flush (whether due or deferred). */
  pending: number;
  /** Earliest next attempt among the pending, when they wait for a Retry-After. */
  nextAttemptAt: number | null;
  /** Until when the collector asked (Retry-After) not to be sent anything, when it did; else null. */
  waitUntil: number | null;
  lastStatus: number | null;
  pruned: number;
  deliveredBatchIds: string[];
  elapsedMs: number;
}

export const DEFAULT_RETENTION_MS = 7 * 86_400_000;
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;
/** A Retry-After of a day is a broken server; a run an hour later tries again regardless. */
const MAX_DEFERRAL_MS = 3_600_000;

/**
 * Drains the outbox. A failure of the database itself (a full disk, another writer holding it past
 * the busy timeout) is a StoreError naming the file, as collect says it, not an internal error:
 * the batch in flight stays pending and is sent again (the receiver dedupes on batch_id).
 */
export async function flushOutbox(db: Db, options: FlushOptions, ctx: Context): Promise<FlushReport> {
  try {
    return await drainOutbox(db, options, ctx);
  } catch (error) {
    throw translateSqliteError(error, db.name);
  }
}

async function drainOutbox(db: Db, options: FlushOptions, ctx: Context): Promise<FlushReport> {
  const endpoint = typeof options.endpoint === 'string' ? parseEndpoint(options.endpoint) : options.endpoint;
  validateFlushOptions(options);
  // The deadline is kept on the monotonic clock from here: NTP stepping the wall clock back an hour
  // mid-flush moved a wall-clock deadline an hour away, and the flush retried batch after batch.
  const clock = ctx.monotonic;
  const started = clock();
  const deadlineAt =
    options.deadlineMs === undefined ? undefined : started + (options.deadlineMs - ctx.now());
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const report = emptyReport(endpoint.url);
  const site = options.site ?? null;
  // A Retry-After holds for the collector, across runs too: each `upload` from cron is a new
  // process, and one that ignored the wait the run before was given sent the next due batch at once.
  const waits = metaStatements(db);
  const waitKey = `${RETRY_AFTER_META_PREFIX}${endpoint.url}`;
  // Which collector this site's batches go to, so `upload --status --site` gives its wait only.
  if (site !== null && waits.get(`${SITE_ENDPOINT_META_PREFIX}${site}`) !== endpoint.url)
    waits.set(`${SITE_ENDPOINT_META_PREFIX}${site}`, endpoint.url);
  const storedWait = Math.min(waits.getNumber(waitKey) ?? 0, ctx.now() + MAX_DEFERRAL_MS);
  // The collector took nothing at the last flush (this process's or an earlier run's): until it
  // takes a batch, each is tried once, not maxAttempts times. A collector down for an hour got
  // every flush's full backoff again (two batches × 4 attempts after each cycle, from every farm
  // host), which a recovering collector met as a wall of retries; it still learns at once that the
  // collector is back, and the batches' order and the rest of a batch it chokes on are as before.
  // When a flush last found it down (epoch ms; 0: it was up).
  const downKey = `upload.collector_down ${endpoint.url}`;
  const downAt = waits.getNumber(downKey) ?? 0;
  const wasDown = downAt > 0;
  // A collector that answers with a Retry-After is up and sets the pace itself: following it is no
  // wall of retries. Cut to one try, its "503, Retry-After: 1" gave every batch up on its first answer
  // and the run ended with all pending when the collector was coming back.
  let paced = false;
  const attemptsPerBatch = (): number =>
    wasDown && report.delivered === 0 && !paced ? 1 : options.maxAttempts;
  // A loop's flush this soon after one that found it down sends nothing: at --interval 1s, one
  // try a flush still made a request or two every cycle for as long as the outage lasted.
  const gap = options.downRetryGapMs ?? 0;
  const resting = wasDown && ctx.now() >= downAt && ctx.now() < downAt + gap;
  const timeLeft = (): number => (deadlineAt === undefined ? Number.POSITIVE_INFINITY : deadlineAt - clock());
  const stopWith = (stop: FlushStop, reason: string | null): 'stop' => {
    report.stop = stop;
    report.reason = reason;
    return 'stop';
  };
  const keyRefused = (status: number): string =>
    `the collector refused the key${options.keySource === undefined ? '' : ` from ${options.keySource}`} (HTTP ${status}); every batch is kept pending`;
  /** Why the last one-miner batch was refused as too large (kept if it ends up quarantined). */
  let tooLargeReason = '';
  /**
   * The batch a 403 answered, until the next batch shows whether the key is refused (403 again)
   * or only that batch's content (taken): a web application firewall in front of the collector
   * answers 403 to a body it blocks, and every run stopped on that batch, for ever, as a wrong key.
   */
  let forbidden: OutboxRow | null = null;
  let forbiddenReason = '';
  // The collector's body-size limit as its answers showed it (kept per endpoint, across runs): a
  // batch at or over a size it refused (413) within the last day is split before it is sent.
  let sizeLimit = readSizeLimit(db, endpoint.url);
  /** Splits made before sending, with no answer from the collector (they do not show it is up). */
  let splitUnsent = 0;
  /** The largest body taken in this flush (what is stored may have been forgotten since). */
  let largestTaken = 0;
  const learnSize = (next: typeof sizeLimit): void => {
    if (
      next.acceptedBytes === sizeLimit.acceptedBytes &&
      next.refusedBytes === sizeLimit.refusedBytes &&
      next.refusedAt === sizeLimit.refusedAt
    )
      return;
    sizeLimit = next;
    writeSizeLimit(db, endpoint.url, next);
  };

  /**
   * Replaces a stored batch by its two halves: 'split'; a body that cannot be split is quarantined
   * after a 413 ('quarantined'), or left to be sent as it is when split before sending ('unsplit').
   * `status` null: split before sending, `why` says so.
   */
  function splitStored(
    row: OutboxRow,
    status: number | null,
    why: string,
  ): 'split' | 'quarantined' | 'unsplit' | 'gone' {
    let halves: ReturnType<typeof splitBatchBody>;
    try {
      halves = splitBatchBody(row.body, row.createdAt, row.runId, options.newBatchId);
    } catch (error) {
      if (!(error instanceof UploadError)) throw error;
      if (status === null) return 'unsplit';
      // A stored body that cannot be read (a damaged row, one that holds fewer miners than
      // its count): thrown, it ended every run on this batch and nothing newer ever went.
      if (!markQuarantined(db, row.batchId, { status, error: `${why} (cannot split: ${error.message})` }))
        return 'gone';
      report.quarantined++;
      return 'quarantined';
    }
    // Counted only when it happened: retention may have dropped the batch while its request was out.
    if (!replaceWithHalves(db, row.batchId, halves, ctx.now(), status, status === null ? why : undefined))
      return 'gone';
    report.split++;
    return 'split';
  }

  /**
   * Sends one batch, retrying in place; 'next' moves on to the following batch; 'gave_up': this
   * batch kept failing and waits a while, the next one is tried (a batch the collector chokes on
   * must not hold back every newer one for ever); 'too_large_alone': a one-miner batch was refused
   * as too large (413), and the next batch shows whether the collector refuses every batch.
   */
  async function deliver(
    row: OutboxRow,
    sender: Sender,
  ): Promise<'next' | 'gave_up' | 'too_large_alone' | 'forbidden_once' | 'stop'> {
    for (let attempt = 1; attempt <= attemptsPerBatch(); attempt++) {
      const budget = timeLeft();
      if (budget <= 0)
        return stopWith(
          'deadline',
          'the flush ran out of the time it was given (the rest waits for the next flush)',
        );
      recordAttempt(db, row.batchId, ctx.now());
      report.attempts++;
      const outcome = await sender.send({
        batchId: row.batchId,
        body: row.body,
        timeoutMs: Math.min(options.totalTimeoutMs, budget),
        signal: options.signal,
      });
      const now = ctx.now();
      // Known by the request's own timeout having fired, not by timeLeft() <= 0: a busy event loop
      // fires a timer a little before the clock read after it says it is due.
      if (
        outcome.kind === 'retry' &&
        outcome.status === null &&
        budget < options.totalTimeoutMs &&
        (outcome.timedOut === true || timeLeft() <= 0)
      ) {
        // Cut by this flush's own deadline, not failed by the collector: stored as its answer, it
        // read 'no answer within 3 ms' in the note, --status and the batch's last error.
        markCutByDeadline(db, row.batchId);
        return stopWith(
          'deadline',
          `the flush ran out of the time it was given with a batch in flight (no answer in the ${Math.round(budget)} ms that were left); it waits for the next flush`,
        );
      }
      if ('status' in outcome) report.lastStatus = outcome.status;
      switch (outcome.kind) {
        case 'delivered':
          if (outcome.status !== 409) {
            learnSize(noteAccepted(sizeLimit, row.bytes));
            largestTaken = Math.max(largestTaken, row.bytes);
          }
          markDelivered(db, row.batchId, outcome.status, now);
          report.delivered++;
          report.deliveredMiners += row.miners;
          if (outcome.status === 409) report.duplicates++;
          report.deliveredBatchIds.push(row.batchId);
          return 'next';
        case 'quarantine':
          if (markQuarantined(db, row.batchId, { status: outcome.status, error: outcome.reason }))
            report.quarantined++;
          return 'next';
        case 'too_large': {
          learnSize(noteRefused(sizeLimit, row.bytes, now));
          if (row.miners < 2) {
            // One miner cannot be split. Whether the collector refuses everything (a body limit
            // set far too low) or just this one snapshot, the next batch tells; until then it stays.
            tooLargeReason = `${outcome.reason} (one miner, cannot split)`;
            markRetryLater(db, row.batchId, {
              status: outcome.status,
              error: tooLargeReason,
              nextAttemptAt: now,
            });
            return 'too_large_alone';
          }
          splitStored(row, outcome.status, outcome.reason);
          return 'next';
        }
        case 'key_refused':
          markRetryLater(db, row.batchId, {
            status: outcome.status,
            error: `key refused: ${outcome.reason}`,
            nextAttemptAt: now,
          });
          if (outcome.status === 403 && forbidden === null) {
            forbiddenReason = outcome.reason;
            return 'forbidden_once';
          }
          return stopWith('key_refused', keyRefused(outcome.status));
        case 'endpoint':
          markRetryLater(db, row.batchId, {
            status: outcome.status,
            error: outcome.reason,
            nextAttemptAt: now,
          });
          return stopWith('endpoint', `the endpoint ${endpoint.url} is not usable: ${outcome.reason}`);
        case 'aborted':
          return stopWith('aborted', 'interrupted');
        case 'retry': {
          const asked = outcome.retryAfterMs;
          if (asked !== null && asked > 0) paced = true;
          const maxAttempts = attemptsPerBatch();
          const deferUntil = now + Math.min(asked ?? 0, MAX_DEFERRAL_MS);
          const failure = { status: outcome.status, error: outcome.reason };
          // Not slept through in this flush (each path below that returns): the wait holds for
          // the collector, and the next flush of a loop sends no other batch before it either.
          if (asked !== null && asked > 0) {
            report.waitUntil = deferUntil;
            waits.set(waitKey, deferUntil);
          }
          if (attempt >= maxAttempts) {
            markRetryLater(db, row.batchId, { ...failure, nextAttemptAt: deferUntil });
            stopWith(
              'retries_exhausted',
              `the collector did not take batch ${row.batchId} after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${outcome.reason}`,
            );
            return 'gave_up';
          }
          if (asked !== null && asked > maxRetryAfterMs) {
            markRetryLater(db, row.batchId, { ...failure, nextAttemptAt: deferUntil });
            return stopWith(
              'deferred',
              `the collector asked to wait ${asked > MAX_DEFERRAL_MS ? `more than ${MAX_DEFERRAL_MS / 3_600_000} h (the batch is tried again in ${MAX_DEFERRAL_MS / 3_600_000} h)` : `${Math.round(asked / 1000)} s`} (${outcome.reason})`,
            );
          }
          const wait = asked ?? backoffDelay(attempt, backoff, ctx.random);
          // A collector that let a whole request time out gets no shorter try: that one would be
          // cut by the deadline, and said (--status, the notes) as a cut, "not a failure", where
          // the collector had failed to answer within a whole request timeout.
          if (
            wait >= timeLeft() ||
            (outcome.timedOut === true && timeLeft() - wait < options.totalTimeoutMs)
          ) {
            markRetryLater(db, row.batchId, { ...failure, nextAttemptAt: deferUntil });
            return stopWith(
              'deadline',
              `out of the time the flush was given before the next try; last answer: ${outcome.reason}`,
            );
          }
          markRetryLater(db, row.batchId, { ...failure, nextAttemptAt: now });
          report.waitUntil = null;
          await ctx.sleep(wait, options.signal);
          if (options.signal.aborted) return stopWith('aborted', 'interrupted');
          break;
        }
      }
    }
    return 'stop'; // not reached: the last attempt returns above
  }

  const sender = await createSender({
    endpoint,
    key: options.key,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    connectTimeoutMs: options.connectTimeoutMs,
    now: ctx.now,
    env: ctx.env,
    ...(ctx.lookup ? { lookup: ctx.lookup } : {}),
  });
  /** The batch just given up on, until the next one shows whether the collector is up. */
  let givenUp: OutboxRow | null = null;
  /** The one-miner batch just refused as too large, until the next one shows why. */
  let refusedAlone: OutboxRow | null = null;
  const refusesEverySize = (status: number): string =>
    `the collector refuses even a one-miner batch as too large (HTTP ${status}): its size limit is too low; every batch is kept pending`;
  try {
    // Each pass either takes one due batch out of `pending`-and-due, or stops: the loop is bounded
    // by the outbox (split halves are finite: every split halves the miners; a batch set aside is
    // skipped for the rest of the run).
    for (;;) {
      if (resting) {
        // Said as the outage it is (the same kind of stop), so the loop's notes count it as one.
        stopWith(
          'retries_exhausted',
          `the collector was down at the flush of ${new Date(downAt).toISOString()}; it is tried again from ${new Date(downAt + gap).toISOString()}`,
        );
        break;
      }
      if (options.signal.aborted) {
        stopWith('aborted', 'interrupted');
        break;
      }
      if (timeLeft() <= 0) {
        stopWith(
          'deadline',
          'the flush ran out of the time it was given (the rest waits for the next flush)',
        );
        break;
      }
      // A rate-limited collector got a new batch from every cycle of collect --interval (and the
      // next batch after one given up on), each answered with the same Retry-After, for as long as
      // the wait it had asked for lasted.
      const notBefore = Math.max(options.notBefore ?? 0, storedWait, report.waitUntil ?? 0);
      const waitLeft = notBefore - ctx.now();
      const setAside = [givenUp, refusedAlone, forbidden].flatMap((aside) => (aside ? [aside.batchId] : []));
      if (waitLeft > 0 && waitLeft <= maxRetryAfterMs && waitLeft < timeLeft()) {
        if (nextDueBatch(db, notBefore, site, setAside) === null) {
          // No batch to send once it is over (the only one, or the last, was just given up on):
          // not slept through for nothing, a run held a minute. The wait still holds for the next flush.
          report.waitUntil = notBefore;
          break;
        }
        // A wait this flush sleeps through (as between the attempts of one batch) is waited out,
        // then the next batch goes: a batch given up on with a Retry-After of a second ended the
        // drain of a week's backlog there, where the same answer without one went on.
        await ctx.sleep(waitLeft, options.signal);
        continue;
      }
      if (waitLeft > 0) {
        report.waitUntil = notBefore;
        stopWith(
          'deferred',
          `the collector asked (Retry-After) to be sent nothing before ${new Date(notBefore).toISOString()}: nothing sent until then`,
        );
        break;
      }
      const row = nextDueBatch(db, ctx.now(), site, setAside);
      if (!row) break;
      const ceiling = learnedCeiling(sizeLimit, ctx.now());
      // Only a batch never sent: one an earlier attempt may have delivered (a kill or a timeout
      // before its answer) goes whole, under its own batch_id, which the collector dedupes (409);
      // split unsent, its halves' new ids stored every miner of it a second time.
      if (
        ceiling !== null &&
        row.attempts === 0 &&
        row.miners >= 2 &&
        row.bytes >= ceiling &&
        splitStored(
          row,
          null,
          `split before sending: the collector refused ${sizeLimit.refusedBytes} bytes (HTTP 413)`,
        ) === 'split'
      ) {
        // The collector refused a body this large: halved here, as its 413 would have had it, with
        // no request (each half comes round again and is halved further while still too large).
        splitUnsent++;
        continue;
      }
      const deliveredBefore = report.delivered;
      const step = await deliver(row, sender);
      options.onProgress?.(report);
      if (step === 'stop') break;
      if (step === 'gave_up') {
        // Two batches in a row that the collector would not take: it is down; both stay due.
        if (givenUp !== null) break;
        givenUp = row;
        continue;
      }
      if (step === 'forbidden_once') {
        // The next batch tells: a 401 or 403 again stops the flush as a refused key.
        forbidden = row;
        continue;
      }
      if (step === 'too_large_alone') {
        // Two single miners refused as too large: the collector refuses every batch. Quarantining
        // each miner one by one would bury the data: all is kept, as for a wrong URL.
        if (refusedAlone !== null) {
          stopWith('endpoint', refusesEverySize(report.lastStatus ?? 413));
          break;
        }
        refusedAlone = row;
        continue;
      }
      if (report.delivered === deliveredBefore) continue; // split or quarantined: no news yet
      if (givenUp !== null) {
        // The collector takes the next batch but not that one: it chokes on that batch. It rests
        // (longer each run it fails) instead of coming first, and failing, in every flush.
        const rest = restAfterFailures(givenUp.attempts + options.maxAttempts, options.maxAttempts);
        deferBatch(db, givenUp.batchId, ctx.now() + rest);
        report.reason = `the collector did not take batch ${givenUp.batchId} (newer batches went on); it is tried again in ${Math.round(rest / 60_000)} min`;
        givenUp = null;
      }
      if (forbidden !== null) {
        // It takes other batches under this key: that one's content is refused. Quarantined with
        // the reason, as other refused data is (--requeue sends it again once the rule is fixed).
        if (
          markQuarantined(db, forbidden.batchId, {
            status: 403,
            error: `HTTP 403 to this batch only, while the collector took the next one (its content refused, e.g. by a web application firewall): ${forbiddenReason}`,
          })
        )
          report.quarantined++;
        forbidden = null;
      }
      if (refusedAlone !== null) {
        // It takes other batches: this one miner's snapshot is more than it takes. Refused data
        // is quarantined with the reason (--requeue sends it again once the limit is raised).
        if (markQuarantined(db, refusedAlone.batchId, { status: 413, error: tooLargeReason }))
          report.quarantined++;
        // Smaller than a body it took in this flush: the 413s down to this miner were about its
        // content, not the size of the batches that held it; learnt, they cut every batch small.
        if (refusedAlone.bytes <= largestTaken)
          learnSize({ ...sizeLimit, refusedBytes: null, refusedAt: null });
        refusedAlone = null;
      }
    }
  } finally {
    await sender.close();
  }
  if (forbidden !== null && report.stop === 'done') {
    // No other batch answered to tell a refused key from a refused batch: kept, as a refused key.
    report.lastStatus = 403;
    stopWith('key_refused', keyRefused(403));
  }
  if (refusedAlone !== null && report.stop === 'done') {
    if (refusedAlone.bytes <= largestTaken) {
      // Refused last, but a body at least as large was taken in this flush: not a limit every
      // batch is over, this one miner. Said as one that refuses every size, the run exited 1 with
      // every batch "kept pending" after delivering the rest, and the next run asked again.
      if (markQuarantined(db, refusedAlone.batchId, { status: 413, error: tooLargeReason }))
        report.quarantined++;
      learnSize({ ...sizeLimit, refusedBytes: null, refusedAt: null });
    } else {
      // No other batch answered to tell the two cases apart: kept, and said, as when all are refused.
      stopWith('endpoint', refusesEverySize(413));
    }
  }

  // Down: every batch tried used up its attempts and none was taken. Up again: a batch taken, split
  // or refused for its content, or a definite answer to every batch (a refused key, a wrong URL).
  // A flush that learnt neither (nothing due, out of time, a Retry-After) leaves it as it was.
  const answered =
    report.delivered + report.split - splitUnsent + report.quarantined > 0 ||
    report.stop === 'key_refused' ||
    report.stop === 'endpoint';
  const down = !answered && report.stop === 'retries_exhausted';
  if (answered && wasDown) waits.set(downKey, 0);
  else if (down && !resting) waits.set(downKey, ctx.now());
  report.pruned = pruneFinished(db, ctx.now() - (options.retentionMs ?? DEFAULT_RETENTION_MS));
  report.pending = countPending(db, site);
  if (report.pending > 0) {
    // A batch due by its own row still waits for the collector's Retry-After: the wait's end is
    // the next attempt (it said a time already past while nothing could go for ten minutes).
    const waitEnds = Math.max(options.notBefore ?? 0, storedWait, report.waitUntil ?? 0);
    const due = nextAttemptAt(db, site, ctx.now());
    report.nextAttemptAt = due !== null && waitEnds > ctx.now() ? Math.max(due, waitEnds) : due;
    const first = report.stop === 'done' ? nextWaitingBatch(db, site) : null;
    if (first !== null) {
      // They wait for a Retry-After or rest after failing every attempt: the last answer says which.
      const why =
        first.lastError === null ? '' : ` (batch ${first.batchId}, last answer: ${first.lastError})`;
      report.reason = `${report.pending} batch(es) wait until ${new Date(first.nextAttemptAt).toISOString()}${why}`;
    }
  } else {
    report.reason = null;
  }
  report.elapsedMs = clock() - started;
  return report;
}

/** How often `collect --interval` says again that its flushes keep failing for one kind of reason. */
export const FLUSH_NOTE_REPEAT_MS = 3_600_000;

/**
 * What a loop of flushes (collect --interval) says after each: a failure when it starts, when its
 * kind changes and once an hour while it lasts, and one line when batches go again. A collector
 * down for a day at --interval 10s wrote 8,640 lines of it to the journal, one per flush.
 */
export function flushNotes(
  now: () => number,
  repeatMs = FLUSH_NOTE_REPEAT_MS,
): (
  report: Pick<FlushReport, 'stop' | 'reason'> & Partial<Pick<FlushReport, 'delivered' | 'pending'>>,
) => string | null {
  let failing: { stop: FlushStop | 'backlog'; count: number; saidAt: number } | null = null;
  let stopSaid = false;
  const flushes = (count: number): string => `${count} flush${count === 1 ? '' : 'es'}`;
  return (report) => {
    // Cut short by the loop's own stop (SIGTERM, Ctrl-C): said once, as it is, and no outage. It
    // read "interrupted (said again once an hour while it lasts)" as the service stopped. Once: the
    // cycle in flight at the stop is stored after the flush was cut, and its own flush meets the
    // same stop ("upload: interrupted" was said twice, around the last run line).
    if (report.stop === 'aborted') {
      if (stopSaid) return null;
      stopSaid = true;
      return report.reason;
    }
    if (report.reason === null) {
      const ended = failing;
      failing = null;
      if (ended?.stop === 'backlog') return `the backlog is sent (${flushes(ended.count)})`;
      return ended === null
        ? null
        : `delivering again after ${flushes(ended.count)} that left batches pending`;
    }
    const at = now();
    if (report.stop === 'deadline' && (report.delivered ?? 0) > 0) {
      // Out of time while delivering: a backlog (a week's outage) is being sent, flush after flush.
      // Said as an outage, it read "ran out of the time… (said again once an hour while it lasts)"
      // then "delivering again" at the end, when batches had gone all along.
      const pending = `${report.pending ?? 'some'} batch(es) still pending`;
      if (failing?.stop === 'backlog') {
        failing.count++;
        if (at - failing.saidAt < repeatMs) return null;
        failing.saidAt = at;
        return `sending a backlog: ${pending} after ${flushes(failing.count)}`;
      }
      failing = { stop: 'backlog', count: 1, saidAt: at };
      return `sending a backlog: ${report.delivered} batch(es) delivered in this flush, ${pending}; the next flushes go on (said again once an hour while it lasts)`;
    }
    if (failing !== null && failing.stop === report.stop) {
      failing.count++;
      if (at - failing.saidAt < repeatMs) return null;
      failing.saidAt = at;
      return `${report.reason} (${failing.count} flushes in a row)`;
    }
    failing = { stop: report.stop, count: (failing?.count ?? 0) + 1, saidAt: at };
    return `${report.reason} (said again once an hour while it lasts)`;
  };
}

/**
 * How long a batch that used up a run's attempts rests before it is tried again: a minute after its
 * first run of failures, doubling with each further run, at most an hour.
 */
export function restAfterFailures(totalAttempts: number, perRun: number): number {
  const runs = Math.max(1, Math.floor(totalAttempts / perRun));
  return Math.min(MAX_DEFERRAL_MS, 60_000 * 2 ** Math.min(6, runs - 1));
}

function emptyReport(endpoint: string): FlushReport {
  return {
    endpoint,
    stop: 'done',
    reason: null,
    attempts: 0,
    delivered: 0,
    deliveredMiners: 0,
    duplicates: 0,
    split: 0,
    quarantined: 0,
    pending: 0,
    nextAttemptAt: null,
    waitUntil: null,
    lastStatus: null,
    pruned: 0,
    deliveredBatchIds: [],
    elapsedMs: 0,
  };
}

function validateFlushOptions(options: FlushOptions): void {
  const positive = (value: number, name: string): void => {
    if (!Number.isFinite(value) || value <= 0)
      throw new UsageError(`${name} must be a positive duration, got ${value}`);
  };
  positive(options.connectTimeoutMs, 'connectTimeoutMs');
  positive(options.totalTimeoutMs, 'totalTimeoutMs');
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
    throw new UsageError(`maxAttempts must be a whole number ≥ 1, got ${options.maxAttempts}`);
  }
  if (options.key === '') throw new UsageError('the collector key is empty');
}

/** Everything a flush needs that comes from flags, files and the environment, checked once up front. */
export interface UploadSettings {
  endpoint: UploadEndpoint;
  key: string;
  /** Printable: where the key came from (never the key). */
  keySource: string;
  ca?: string;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  maxAttempts: number;
}

export interface UploadSettingsInput {
  endpoint: string;
  /** Where the endpoint came from, for its error messages (default `--endpoint`). */
  endpointSource?: string;
  keyFile?: string;
  /** A key file named by the config file (used when neither --key-file nor the env is set). */
  configKeyFile?: string;
  /** Where the config named it (`upload.key_file in config FILE`), for its messages. */
  configKeyFileSource?: string;
  /** How the command takes a key file, for the message when no key is set (see KeySource). */
  keyFileChoice?: string;
  caFile?: string;
  /** Where it was named (`--ca`, `upload.ca_file in config FILE`), for its messages. */
  caFileSource?: string;
  connectTimeoutMs?: number;
  totalTimeoutMs?: number;
  maxAttempts?: number;
}

export const UPLOAD_DEFAULTS = { connectTimeoutMs: 10_000, totalTimeoutMs: 60_000, maxAttempts: 4 } as const;

/** A CA bundle, even the whole system store, is well under 1 MiB. */
const MAX_CA_FILE_BYTES = 4 * 1_048_576;

/**
 * The PEM of a private CA for the collector (--ca or upload.ca_file), checked to hold a certificate.
 * `source` says where the file was named; without it, both places are named.
 */
export function readCollectorCa(file: string, source = '--ca or upload.ca_file'): string {
  let ca: string | null;
  try {
    ca = readCapped(file, MAX_CA_FILE_BYTES)?.toString('utf8') ?? null;
  } catch (error) {
    throw new ConfigError(`cannot read the collector's CA file ${file} (${source}): ${errorMessage(error)}`);
  }
  if (ca === null)
    throw new ConfigError(
      `the collector's CA file ${file} (${source}) is larger than ${MAX_CA_FILE_BYTES / 1_048_576} MiB: a CA bundle is far smaller (is this the right file?)`,
    );
  if (!ca.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError(`the collector's CA file ${file} (${source}) holds no PEM certificate`);
  return ca;
}

/**
 * Validates the endpoint, reads the key and the CA file. Call it when a command starts (collect
 * --upload too), so a bad key file is a clear error before the first cycle, not after it.
 */
export function resolveUploadSettings(input: UploadSettingsInput, ctx: Pick<Context, 'env'>): UploadSettings {
  const endpoint = parseEndpoint(input.endpoint, input.endpointSource);
  const key = loadCollectorKey({
    env: ctx.env,
    keyFile: input.keyFile,
    configKeyFile: input.configKeyFile,
    ...(input.configKeyFileSource === undefined ? {} : { configKeyFileSource: input.configKeyFileSource }),
    ...(input.keyFileChoice === undefined ? {} : { keyFileChoice: input.keyFileChoice }),
  });
  const ca = input.caFile ? readCollectorCa(input.caFile, input.caFileSource) : undefined;
  // A proxy URL in HTTPS_PROXY that cannot be used is said now, not after the first cycle.
  proxyFor(endpoint, ctx.env);
  return {
    endpoint,
    key: key.value,
    keySource: key.source,
    ...(ca === undefined ? {} : { ca }),
    connectTimeoutMs: input.connectTimeoutMs ?? UPLOAD_DEFAULTS.connectTimeoutMs,
    totalTimeoutMs: input.totalTimeoutMs ?? UPLOAD_DEFAULTS.totalTimeoutMs,
    maxAttempts: input.maxAttempts ?? UPLOAD_DEFAULTS.maxAttempts,
  };
}

/**
 * What a flush after a cycle always gets (or one request's whole timeout, if longer), however close
 * the next cycle is: it runs in the background beside the next cycle (which starts on time
 * regardless, and does not start another flush while this one runs). Without it, cycles longer
 * than the interval less `reserveMs` (any cycle at --interval 1s) left no time at all, and nothing
 * was ever sent.
 */
export const MIN_FLUSH_BUDGET_MS = 15_000;

/** What a flush may spend before its first request leaves (the database, the sender set up). */
const FIRST_REQUEST_SETUP_MS = 1_000;

/** How often collect --interval tries a collector its last flush found down (the backoff's cap). */
export const DOWN_RETRY_GAP_MS = DEFAULT_BACKOFF.maxMs;

export interface AfterCycleTiming {
  /**
   * When the next cycle starts (epoch ms): the flush ends `reserveMs` before it, or
   * MIN_FLUSH_BUDGET_MS (or the request timeout, if longer) from now if that is later.
   */
  nextCycleAt?: number;
  /** For `--once`: how long the flush may take when there is no next cycle. */
  budgetMs?: number;
  /** Room left for the next cycle to start on time (default 1 s). */
  reserveMs?: number;
  /** The Retry-After the last flush was given (its report's waitUntil): nothing is sent before it. */
  notBefore?: number;
}

/**
 * What `collect --upload` calls after each committed cycle. Bounded so the next cycle starts on
 * time: whatever is not delivered by then stays pending and goes with the next flush.
 * It holds the upload lock beside `store.path` for the flush only, like `hashctl upload` for its
 * run, so two senders never post the same batches; when another run holds it, this flush is
 * skipped (stop 'busy'): that run is delivering, and the batches stay pending, not failed.
 */
export async function uploadAfterCycle(
  store: { db: Db; path: string },
  settings: UploadSettings,
  timing: AfterCycleTiming,
  ctx: Context,
  /** The site collect stores: only its batches are sent, with its key. */
  site: string | null = null,
): Promise<FlushReport> {
  const { db } = store;
  let lock: StoreLock;
  try {
    lock = acquireLock(store.path, 'upload');
  } catch (error) {
    if (!(error instanceof LockedError)) throw error;
    const skipped = emptyReport(settings.endpoint.url);
    skipped.stop = 'busy';
    skipped.pending = countPending(db, site);
    skipped.reason = `another hashctl run is uploading this outbox: flush skipped, ${skipped.pending} batch(es) wait for the next one`;
    return skipped;
  }
  try {
    return await flushWithin(db, settings, timing, ctx, site);
  } finally {
    lock.release();
  }
}

async function flushWithin(
  db: Db,
  settings: UploadSettings,
  timing: AfterCycleTiming,
  ctx: Context,
  site: string | null,
): Promise<FlushReport> {
  const now = ctx.now();
  const reserve = timing.reserveMs ?? 1_000;
  // At least one request's whole timeout, too: a collector answering in 20 s (within its 60) had
  // each request cut at 15 s, and at a short interval nothing was ever delivered. With room to
  // reach that request: given a few ms less, its timing out was said as the flush's deadline.
  const oneRequest = settings.totalTimeoutMs + FIRST_REQUEST_SETUP_MS;
  // --once: cron's minute, not the request timeout, bounds the run, so a request gets the budget
  // (less the room to reach it) at most, and a collector silent for that long has failed. Cut by
  // the budget instead, it was said as "cut by the flush's deadline (not a failure)" run after run.
  const totalTimeoutMs =
    timing.nextCycleAt === undefined && timing.budgetMs !== undefined
      ? Math.min(
          settings.totalTimeoutMs,
          Math.max(timing.budgetMs - FIRST_REQUEST_SETUP_MS, timing.budgetMs / 2),
        )
      : settings.totalTimeoutMs;
  const deadlineMs =
    timing.nextCycleAt !== undefined
      ? Math.max(timing.nextCycleAt - reserve, now + Math.max(MIN_FLUSH_BUDGET_MS, oneRequest))
      : timing.budgetMs !== undefined
        ? now + timing.budgetMs
        : undefined;
  return flushOutbox(
    db,
    {
      endpoint: settings.endpoint,
      key: settings.key,
      keySource: settings.keySource,
      ...(settings.ca === undefined ? {} : { ca: settings.ca }),
      connectTimeoutMs: settings.connectTimeoutMs,
      totalTimeoutMs,
      maxAttempts: settings.maxAttempts,
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
      signal: ctx.signal,
      site,
      ...(timing.notBefore === undefined ? {} : { notBefore: timing.notBefore }),
      // A loop probes a collector that is down at most this often, however short its interval.
      ...(timing.nextCycleAt === undefined ? {} : { downRetryGapMs: DOWN_RETRY_GAP_MS }),
    },
    ctx,
  );
}
