// Miner state that moves without timers: every request first calls advance(), which integrates the
// time since the last request (first-order thermal and fan response, share counters). This keeps
// 10,000 idle miners free: nothing runs until someone asks.
import { Rng, unit } from './rng.js';
import type { MinerState, Profile, SavedPool, SimBoard, SimFan, SimPool } from './types.js';

const TEMP_TIME_CONSTANT_S = 90;
const FAN_TIME_CONSTANT_S = 15;
const TWO_POW_32 = 4294967296;
/** Rejected shares as a share of accepted; HW errors per accepted share. */
const REJECT_RATIO = 0.003;
const HW_PER_SHARE = 0.02;
/** A started miner reaches its full hashrate over its first two minutes. */
const RAMP_S = 120;

export interface StateOptions {
  seed: number;
  index: number;
  now: number;
  ambientC: number;
  deadBoardShare: number;
  failedFanShare: number;
}

export function createState(profile: Profile, options: StateOptions): MinerState {
  const { seed, index, now } = options;
  const pick = (purpose: string) => unit(seed, index, purpose);
  const deadBoard =
    profile.chains.length > 0 && pick('dead-board') < options.deadBoardShare
      ? Math.floor(pick('dead-board-which') * profile.chains.length)
      : -1;
  const boards: SimBoard[] = profile.chains.map((chain, i) => {
    const dead = i === deadBoard;
    return {
      chain,
      chipsExpected: profile.chipsPerChain,
      // A dead board still enumerates some chips, fewer than expected, and hashes nothing.
      chips: dead ? Math.floor(pick(`chips-${i}`) * profile.chipsPerChain * 0.5) : profile.chipsPerChain,
      dead,
      hashFactor: 0.97 + pick(`hash-${i}`) * 0.06,
      heatFactor: 0.94 + pick(`heat-${i}`) * 0.12,
      hwErrors: 0,
    };
  });
  const failedFan =
    profile.fanSlots.length > 0 && pick('failed-fan') < options.failedFanShare
      ? Math.floor(pick('failed-fan-which') * profile.fanSlots.length)
      : -1;
  const fans: SimFan[] = profile.fanSlots.map((slot, i) => ({
    slot,
    // Half of the affected fans are dead, half are worn and spin at about half speed.
    failed: i === failedFan && pick('failed-fan-kind') < 0.5,
    health: i === failedFan ? 0.45 : 1,
    rpmFactor: 0.97 + pick(`fan-${i}`) * 0.06,
  }));
  const uptimeS = Math.floor(3600 + pick('uptime') * 20 * 86400);
  const pools: SimPool[] = profile.pools.map((init, i) =>
    newPool(
      { url: init.url, user: init.user, password: init.password ?? 'x', priority: i, enabled: true },
      profile.shareDiff,
      init.alive ?? true,
    ),
  );
  const state: MinerState = {
    ambientC: options.ambientC,
    nominalHs: profile.nominalHs * (0.98 + pick('nominal') * 0.04),
    boards,
    fans,
    fanPct: profile.minFanPct,
    chipC: options.ambientC,
    sleeping: false,
    tripped: false,
    savedPools: savedPools(pools),
    access: profile.defaultAccess,
    pools,
    bootedAtMs: now - uptimeS * 1000,
    updatedAtMs: now,
    accepted: 0,
    rejected: 0,
    hwErrors: 0,
    totalHashes: 0,
    targetHs: 0,
    rateAnchor: null,
    bestShare: 0,
    limits: { ...profile.limits },
    session: null,
    workmode: 0,
    tuning: '',
    downUntilMs: 0,
    restarts: 0,
  };
  const active = activePool(state);
  if (active) active.stratumActive = true;
  // Start at the steady state of a miner that has been running for `uptimeS`.
  settle(state, profile);
  accrue(state, profile, uptimeS, now);
  state.targetHs = fullRateHs(state);
  return state;
}

/** The windows of the decaying averages the profiles print, seconds (`1m`, `5m`, `15m`, `30m`, `24h`). */
export const AVERAGE_WINDOWS_S = [60, 300, 900, 1800, 86_400] as const;
export type AverageWindowS = (typeof AVERAGE_WINDOWS_S)[number];

/** The ramp of a started miner at `now`: 0 at the start, 1 after RAMP_S. */
function rampAt(state: MinerState, now: number): number {
  return Math.min(1, Math.max(0, (now - state.bootedAtMs) / 1000 / RAMP_S));
}

/** A decaying average over `windowS` at `now`, moving towards `target` H/s since the anchor. */
function decayed(state: MinerState, windowS: AverageWindowS, target: number, now: number): number {
  const anchor = state.rateAnchor;
  const ramped = target * rampAt(state, now);
  if (anchor === null) return ramped;
  const from = anchor.fromHs[AVERAGE_WINDOWS_S.indexOf(windowS)] ?? ramped;
  const elapsedS = Math.max(0, (now - anchor.atMs) / 1000);
  return ramped + (from - ramped) * Math.exp(-elapsedS / windowS);
}

/**
 * Called on every request, before and after its command: where the full rate changed since (the
 * miner paused, resumed, or tripped), the decaying averages are anchored where they stood, so
 * that they fall off (or climb back) from there instead of jumping.
 */
export function noteRate(state: MinerState, now: number): void {
  const full = fullRateHs(state);
  if (full === state.targetHs) return;
  const before = state.targetHs;
  state.rateAnchor = { atMs: now, fromHs: AVERAGE_WINDOWS_S.map((w) => decayed(state, w, before, now)) };
  state.targetHs = full;
}

/** The pool cgminer mines on: alive, enabled, lowest Priority (§15). */
export function activePool(state: MinerState): SimPool | undefined {
  let best: SimPool | undefined;
  for (const pool of state.pools) {
    if (!pool.enabled || !pool.alive) continue;
    if (!best || pool.priority < best.priority) best = pool;
  }
  return best;
}

function fanHealth(state: MinerState): number {
  if (state.fans.length === 0) return 1;
  let sum = 0;
  for (const fan of state.fans) sum += fan.failed ? 0 : fan.health;
  return sum / state.fans.length;
}

/**
 * The heat of a working board, 1 while any board hashes, else 0. `chipC` is a working board's chip:
 * each board heats its own chips, and the fan controller holds the hottest one at its target, so a
 * dead neighbour neither cools the working boards nor slows the fans (readings() gives the dead
 * board its own, cooler reading).
 */
function load(state: MinerState): number {
  if (state.sleeping || state.tripped) return 0;
  for (const board of state.boards) if (!board.dead) return 1;
  return 0;
}

/** Fan duty the firmware's controller asks for: enough airflow to hold the target temperature. */
function wantedFanPct(state: MinerState, profile: Profile): number {
  const l = load(state);
  if (l === 0) return profile.minFanPct;
  const headroom = Math.max(1, state.limits.target - state.ambientC);
  const airflow = ((profile.chipRiseC * l) / headroom) ** 2;
  const pct = (100 * airflow) / Math.max(fanHealth(state), 0.05);
  if (state.chipC >= state.limits.hot) return 100;
  return Math.min(100, Math.max(profile.minFanPct, pct));
}

function steadyChipC(state: MinerState, profile: Profile, fanPct: number): number {
  const airflow = Math.max(0.05, (fanPct / 100) * fanHealth(state));
  return state.ambientC + (load(state) * profile.chipRiseC) / Math.sqrt(airflow) + (load(state) > 0 ? 0 : 2);
}

function settle(state: MinerState, profile: Profile): void {
  state.fanPct = wantedFanPct(state, profile);
  state.chipC = steadyChipC(state, profile, state.fanPct);
  state.fanPct = wantedFanPct(state, profile);
}

/** Integrates the time since the last request; cheap, called once per request. */
export function advance(state: MinerState, profile: Profile, now: number): void {
  const dtS = (now - state.updatedAtMs) / 1000;
  if (dtS <= 0) return;
  state.updatedAtMs = now;
  const fanStep = 1 - Math.exp(-dtS / FAN_TIME_CONSTANT_S);
  state.fanPct += (wantedFanPct(state, profile) - state.fanPct) * fanStep;
  const tempStep = 1 - Math.exp(-dtS / TEMP_TIME_CONSTANT_S);
  state.chipC += (steadyChipC(state, profile, state.fanPct) - state.chipC) * tempStep;
  // The firmware's own protection: the hottest board at its Dangerous limit stops hashing.
  if (!state.tripped && load(state) > 0 && hottestBoardC(state) >= state.limits.dangerous)
    state.tripped = true;
  accrue(state, profile, dtS, now);
  noteRate(state, now);
}

/** The hottest working board's PCB temperature, as readings() derives it. */
function hottestBoardC(state: MinerState): number {
  let factor = 0;
  for (const board of state.boards) if (!board.dead) factor = Math.max(factor, board.heatFactor);
  return state.ambientC + (state.chipC - state.ambientC) * factor * 0.8;
}

/** Seconds at full rate in the first `t` seconds of uptime: the hashrate ramps over `RAMP_S`. */
function rampedSeconds(t: number): number {
  if (t <= 0) return 0;
  return t < RAMP_S ? (t * t) / (2 * RAMP_S) : t - RAMP_S / 2;
}

/** The rate the working boards hash at once ramped up, as readings() prints it. */
function fullRateHs(state: MinerState): number {
  if (state.sleeping || state.tripped || state.boards.length === 0) return 0;
  let factor = 0;
  for (const board of state.boards) if (!board.dead) factor += board.hashFactor;
  return (state.nominalHs / state.boards.length) * factor;
}

function accrue(state: MinerState, profile: Profile, dtS: number, now: number): void {
  const rate = fullRateHs(state);
  if (rate <= 0) return;
  // The hashes of exactly what readings() printed over the interval, the ramp after a start included.
  const endS = (now - state.bootedAtMs) / 1000;
  const hashes = rate * (rampedSeconds(endS) - rampedSeconds(endS - dtS));
  if (hashes <= 0) return;
  state.totalHashes += hashes;
  const shares = hashes / (profile.shareDiff * TWO_POW_32);
  state.accepted += shares;
  state.rejected += shares * REJECT_RATIO;
  state.hwErrors += shares * HW_PER_SHARE;
  state.bestShare = Math.max(state.bestShare, profile.shareDiff * (1 + Math.floor(state.accepted / 7) * 3.1));
  const pool = activePool(state);
  if (pool) {
    pool.accepted += shares;
    pool.rejected += shares * REJECT_RATIO;
    pool.difficultyAccepted += shares * pool.diff;
    pool.getworks += dtS / 30;
    if (shares > 0) pool.lastShareAtMs = now - Math.min(dtS * 1000, 3000);
  }
}

/** A pool as configured, with no shares yet. */
export function newPool(config: SavedPool, diff: number, alive = true): SimPool {
  return {
    ...config,
    alive,
    stratumActive: false,
    accepted: 0,
    rejected: 0,
    stale: 0,
    getworks: 0,
    difficultyAccepted: 0,
    lastShareAtMs: 0,
    diff,
  };
}

/** The pools' config as `save` writes it. */
export function savedPools(pools: readonly SimPool[]): SavedPool[] {
  return pools.map(({ url, user, password, priority, enabled }) => ({
    url,
    user,
    password,
    priority,
    enabled,
  }));
}

/**
 * Restart: uptime and counters start again; the hardware keeps its temperature. A firmware that
 * reads its config file on start (`rereadConfig`) is back with the pools last saved.
 */
export function resetAfterRestart(state: MinerState, now: number, rereadConfig = false): void {
  if (rereadConfig) {
    const alive = new Map(state.pools.map((pool) => [pool.url, pool.alive]));
    const diff = state.pools[0]?.diff ?? 1;
    state.pools = state.savedPools.map((saved) => newPool(saved, diff, alive.get(saved.url) ?? true));
  }
  state.bootedAtMs = now;
  state.updatedAtMs = now;
  state.accepted = 0;
  state.rejected = 0;
  state.hwErrors = 0;
  state.totalHashes = 0;
  state.bestShare = 0;
  state.session = null;
  state.restarts++;
  state.tripped = false;
  // Every average starts again from 0 with the process, and follows the ramp.
  state.rateAnchor = null;
  state.targetHs = fullRateHs(state);
  for (const pool of state.pools) {
    pool.accepted = 0;
    pool.rejected = 0;
    pool.stale = 0;
    pool.getworks = 0;
    pool.difficultyAccepted = 0;
    pool.lastShareAtMs = 0;
    pool.stratumActive = false;
  }
  const active = activePool(state);
  if (active) active.stratumActive = true;
}

// ---- readings the profiles print -------------------------------------------------------------

export interface Readings {
  uptimeS: number;
  /** Hashes done since the start (a counter: `Total MH` × 10⁶). */
  totalHashes: number;
  /**
   * Current (5 s) hashrate, and the average since the start (`MHS av`: the hashes done over the
   * uptime, so a paused miner's average falls off slowly, as cgminer's does), H/s.
   */
  currentHs: number;
  averageHs: number;
  /** The decaying average over a window (`MHS 1m`, `GHS 30m`, …), H/s. */
  windowHs: (windowS: AverageWindowS) => number;
  nominalHs: number;
  boards: BoardReading[];
  fans: FanReading[];
  fanPct: number;
  chipMaxC: number;
  boardMaxC: number;
  watts: number;
  /** When the miner last found a share (any pool), 0 if never since its start. */
  lastShareAtMs: number;
}

export interface BoardReading {
  board: SimBoard;
  currentHs: number;
  /** What the board hashes now, without the 5 s figure's noise. */
  runningHs: number;
  /** This board's part of the miner's average since the start, and of its windowed averages. */
  averageHs: number;
  windowHs: (windowS: AverageWindowS) => number;
  nominalHs: number;
  chipC: number;
  pcbC: number;
  /** Inlet-side PCB sensor (the cool end). */
  inletC: number;
  frequencyMhz: number;
  /**
   * This board's part of the miner's counted work (shares, HW errors, hashes): its hash factor
   * among the working boards; 0 for a dead board, which never found a share.
   */
  workShare: number;
}

export interface FanReading {
  fan: SimFan;
  rpm: number;
}

/** One consistent set of readings for one reply; noise drawn from the miner's own stream. */
export function readings(state: MinerState, profile: Profile, now: number, rng: Rng): Readings {
  const uptimeS = Math.max(0, Math.floor((now - state.bootedAtMs) / 1000));
  const nominalPerBoard = state.boards.length > 0 ? state.nominalHs / state.boards.length : 0;
  // A freshly started miner ramps up over its first minutes.
  const ramp = Math.min(1, uptimeS / RAMP_S);
  let aliveFactor = 0;
  for (const board of state.boards) if (!board.dead) aliveFactor += board.hashFactor;
  const sinceStartHs = uptimeS > 0 ? state.totalHashes / uptimeS : 0;
  const windowHs = (windowS: AverageWindowS) => decayed(state, windowS, state.targetHs, now);
  const boards: BoardReading[] = state.boards.map((board) => {
    const working = !board.dead && !state.sleeping && !state.tripped;
    const running = working ? nominalPerBoard * board.hashFactor * ramp : 0;
    const current = working ? running * (1 + rng.noise() * 0.015) : 0;
    const rise = (state.chipC - state.ambientC) * board.heatFactor;
    const chipC = state.ambientC + (board.dead ? rise * 0.3 : rise);
    const workShare = board.dead || aliveFactor === 0 ? 0 : board.hashFactor / aliveFactor;
    return {
      board,
      currentHs: current,
      runningHs: running,
      averageHs: sinceStartHs * workShare,
      windowHs: (windowS: AverageWindowS) => windowHs(windowS) * workShare,
      nominalHs: nominalPerBoard,
      chipC,
      pcbC: state.ambientC + (chipC - state.ambientC) * 0.8,
      inletC: state.ambientC + (chipC - state.ambientC) * 0.35,
      frequencyMhz: working ? profile.frequencyMhz : 0,
      workShare,
    };
  });
  const fans: FanReading[] = state.fans.map((fan) => ({
    fan,
    rpm: fan.failed
      ? 0
      : Math.round((profile.fanMaxRpm * state.fanPct * fan.health * fan.rpmFactor) / 100 / 30) * 30,
  }));
  let currentHs = 0;
  let runningHs = 0;
  // From the first board, not from 0: a miner colder than 0 °C (asleep at -20) has no sensor at 0.
  let chipMaxC = boards.length > 0 ? Number.NEGATIVE_INFINITY : 0;
  let boardMaxC = chipMaxC;
  for (const b of boards) {
    currentHs += b.currentHs;
    runningHs += b.runningHs;
    chipMaxC = Math.max(chipMaxC, b.chipC);
    boardMaxC = Math.max(boardMaxC, b.pcbC);
  }
  // Power follows what the boards do now, not what they averaged.
  const loadShare = state.nominalHs > 0 ? runningHs / state.nominalHs : 0;
  let lastShareAtMs = 0;
  for (const pool of state.pools) lastShareAtMs = Math.max(lastShareAtMs, pool.lastShareAtMs);
  return {
    uptimeS,
    totalHashes: state.totalHashes,
    currentHs,
    averageHs: sinceStartHs,
    windowHs,
    nominalHs: state.nominalHs,
    boards,
    fans,
    fanPct: Math.round(state.fanPct),
    chipMaxC,
    boardMaxC,
    watts: Math.round(profile.watts * (0.08 + 0.92 * loadShare) * (1 + rng.noise() * 0.005)),
    lastShareAtMs,
  };
}

/** Deterministic stream for one miner's per-request noise and fault draws. */
export function minerRng(seed: number, index: number): Rng {
  return new Rng(Math.floor(unit(seed, index, 'rng') * 4294967296));
}
