// The simulator's vocabulary: profiles (what a firmware looks like on the wire), miner state (what
// moves), replies (what goes back), faults and the farm. src/sim/index.ts re-exports the public part.
import type { Rec } from './json.js';
import type { Rng } from './rng.js';

export type StatusLetter = 'S' | 'I' | 'W' | 'E' | 'F';

export interface Status {
  STATUS: StatusLetter;
  Code: number;
  Msg: string;
  /** undefined: no Description key at all (upstream E/14 has none, §15). */
  Description?: string;
}

/**
 * A reply before it is written. `std` is the cgminer envelope (STATUS array, one section, id);
 * `object` is written as-is (new_api, Whatsminer flat STATUS, BYE/RESTART); `bare` is raw bytes.
 */
export type Reply =
  | { type: 'std'; status: Status; section?: string; records?: Rec[]; glue?: boolean; escapeText?: boolean }
  | { type: 'object'; object: Rec; text?: string }
  | { type: 'bare'; text: string };

/**
 * Who may run what. `full`: W group; `read`: R group (writes E/45); `groupA`: Bitmain stock
 * `A:stats:pools:devs:summary:version` (everything else E/45, check and privileged included).
 */
export type AccessMode = 'full' | 'read' | 'groupA';

export type WritesOverride = 'allow' | 'deny';

export interface SimPool {
  url: string;
  user: string;
  password: string;
  /** 0 = highest; dense 0..n-1. */
  priority: number;
  enabled: boolean;
  alive: boolean;
  /** Stays true once connected (§15: the old connection stays open after a switch). */
  stratumActive: boolean;
  accepted: number;
  rejected: number;
  stale: number;
  getworks: number;
  difficultyAccepted: number;
  lastShareAtMs: number;
  /** Share difficulty the pool hands out. */
  diff: number;
}

/** A pool as a config file keeps it: where, who, and the order; no counters. */
export type SavedPool = Pick<SimPool, 'url' | 'user' | 'password' | 'priority' | 'enabled'>;

export interface SimBoard {
  /** The chain number as the firmware prints it (S9: 6, 7, 8). */
  chain: number;
  chipsExpected: number;
  chips: number;
  dead: boolean;
  /** Per-board spread in hashrate and temperature (around 1.0). */
  hashFactor: number;
  heatFactor: number;
  hwErrors: number;
}

export interface SimFan {
  /** Slot number as printed (S9: 5, 6). */
  slot: number;
  failed: boolean;
  /** 1 healthy, below 1 a worn fan that spins slower. */
  health: number;
  rpmFactor: number;
}

export interface TempLimits {
  target: number;
  hot: number;
  dangerous: number;
}

export interface LuxSession {
  id: string;
  lastUsedMs: number;
}

/** Everything that moves. Tests mutate it directly (ambientC, fans[i].failed, access, pools…). */
export interface MinerState {
  ambientC: number;
  nominalHs: number;
  boards: SimBoard[];
  fans: SimFan[];
  /** Fan duty the firmware's controller is at, %. */
  fanPct: number;
  /** Hottest chip, °C; boards derive from it. */
  chipC: number;
  sleeping: boolean;
  /**
   * The firmware's overheat protection tripped: a board reached its Dangerous limit, so hashing
   * stopped (as bmminer, Braiins OS and LuxOS do) until the miner is restarted.
   */
  tripped: boolean;
  /** The pools as the config file holds them (at start, and as `save` wrote them). */
  savedPools: SavedPool[];
  /** Access group; `--writes` or tests may change it. */
  access: AccessMode;
  pools: SimPool[];
  bootedAtMs: number;
  updatedAtMs: number;
  accepted: number;
  rejected: number;
  hwErrors: number;
  /** Hashes done since the start (`Total MH` × 10⁶): a counter, it only grows until a restart. */
  totalHashes: number;
  /**
   * The rate the windowed averages (`MHS 1m` … `GHS 30m`) move towards, at full ramp, and where they
   * stood when it last changed (a pause, a resume, a trip): cgminer's decaying averages fall off
   * after a pause rather than drop to 0. null: unchanged since the start (they follow the ramp).
   */
  targetHs: number;
  rateAnchor: { atMs: number; fromHs: number[] } | null;
  bestShare: number;
  limits: TempLimits;
  session: LuxSession | null;
  workmode: number;
  /** LuxOS profile name / Whatsminer power mode and similar knobs. */
  tuning: string;
  /** Set while the port is closed by restart/quit (ms epoch when it comes back; Infinity for quit). */
  downUntilMs: number;
  restarts: number;
  /** Whatsminer v2 admin password, from which the AES key derives (§13.1); `admin` when unset. */
  adminPassword?: string;
  /** Whatsminer v2 tokens handed out by `get_token` and still alive, oldest first. */
  tokens?: WhatsminerSimToken[];
}

export interface WhatsminerSimToken {
  time: string;
  newsalt: string;
  issuedAtMs: number;
}

export interface PoolInit {
  url: string;
  user: string;
  password?: string;
  alive?: boolean;
}

export interface CommandCtx {
  miner: SimMinerView;
  state: MinerState;
  profile: Profile;
  now: number;
  parameter: string | null;
  /** `"new_api": true` was in the request. */
  newApi: boolean;
  inJoin: boolean;
  rng: Rng;
  /** Set by a handler to act after the reply is written. */
  after?: 'restart' | 'quit';
}

export interface CommandSpec {
  /** `write` commands are privileged (§5.2): access-checked, refused inside a join. */
  access: 'read' | 'write';
  /** May appear in a multi-command (§4). */
  joinable?: boolean;
  /** The firmware does not have it: the handler only shapes its refusal, and `check` says Exists N. */
  missing?: boolean;
  run(ctx: CommandCtx): Reply;
}

export interface Profile {
  name: string;
  make: string;
  model: string;
  firmware: { name: string; version: string };
  algorithm: 'sha256d' | 'scrypt';
  /** Hashes per second at nominal. */
  nominalHs: number;
  chains: number[];
  chipsPerChain: number;
  fanSlots: number[];
  fanMaxRpm: number;
  frequencyMhz: number;
  /** Chip rise over ambient at full load and 100 % airflow, °C. */
  chipRiseC: number;
  minFanPct: number;
  limits: TempLimits;
  /** Accepts `a+b` multi-commands (§4). */
  joins: boolean;
  defaultAccess: AccessMode;
  /** Appends the NUL terminator (§1). */
  nul: boolean;
  description: string;
  sortKeys?: boolean;
  /** `When` is the uptime instead of epoch seconds (Avalon, §1). */
  whenIsUptime?: boolean;
  /** Power draw at nominal, W. */
  watts: number;
  /** Share difficulty used for counters. */
  shareDiff: number;
  pools: PoolInit[];
  commands: Record<string, CommandSpec>;
  /** Whatsminer `{"cmd":…}` requests. */
  native?: (cmd: string, body: Record<string, unknown>, ctx: CommandCtx) => Reply;
  /** Which samples the profile is built from (for --list-profiles and the README). */
  samples: string[];
  /**
   * cgminer and its builds (bmminer, Avalon) restart by executing themselves again and reading
   * their config file: pool changes not written by `save` are gone after a restart.
   */
  restartReadsConfig?: boolean;
  /** Writes take a session id as their first parameter field (LuxOS, §8.4). */
  sessionFirst?: boolean;
}

/** Read-only identity of a miner as handlers see it. */
export interface SimMinerView {
  index: number;
  key: string;
  host: string;
  port: number;
}

export interface MinerFaults {
  latencyMs: number;
  jitterMs: number;
  /** Per-request probabilities, 0..1. */
  timeout: number;
  malformed: number;
  empty: number;
  /** Per-miner conditions. */
  hang: boolean;
  refused: boolean;
  flap: boolean;
}

export interface FaultSpec {
  latencyMs: number;
  jitterMs: number;
  timeout: number;
  hang: number;
  malformed: number;
  refused: number;
  flap: number;
  empty: number;
  flapPeriodMs: number;
  flapDownMs: number;
}

export interface CommandLogEntry {
  ts: string;
  target: string;
  command: string;
  parameter: string | null;
  remote: string;
}
