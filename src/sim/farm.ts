// The farm: one net.Server per miner, one request per connection (§1), faults applied around the
// pure dispatcher. Nothing runs per miner while idle: state moves lazily, and the only periodic
// timers are farm-wide (flapping, log flush).
import net from 'node:net';
import { HashctlError, UsageError } from '../errors.js';
import { targetKey } from '../targets/types.js';
import { type DispatchTarget, dispatch } from './dispatch.js';
import { FLAP_TICK_MS, faultsForMiner, MALFORMATIONS, malform, NO_FAULTS, parseFaults } from './faults.js';
import { CommandLog } from './log.js';
import { localPortRange, PortPicker } from './ports.js';
import { profileFor } from './profiles/index.js';
import { loggedParameter, loggedText } from './redact.js';
import { isJsonRequest, jsonRequestEnded, parseRequest, tryParseJson } from './request.js';
import { type Rng, unit } from './rng.js';
import { createState, minerRng, resetAfterRestart } from './state.js';
import type {
  CommandLogEntry,
  FaultSpec,
  MinerFaults,
  MinerState,
  Profile,
  SimMinerView,
  WritesOverride,
} from './types.js';

/** cgminer reads one request with a single recv() of at most 4095 bytes (§1). */
const REQUEST_LIMIT = 4095;
/** A connection that sends nothing is closed, as btminer does after 10 s (§1). */
const IDLE_CLOSE_MS = 10_000;
/** How long a `timeout`/`hang` fault holds a connection before the farm drops it. */
const HOLD_MS = 120_000;
const LISTEN_BATCH = 1000;

export interface FarmOptions {
  /** A profile name or `mix` (default). */
  profile?: string;
  /** Many ports on one address: `host`, `basePort` (0 = any free ports), `count`. */
  host?: string;
  basePort?: number;
  count?: number;
  /** One miner per loopback address (a list or `127.0.1.0/24`), on `port` (default 4028). */
  addresses?: string[];
  port?: number;
  seed?: number;
  ambientC?: number;
  /** Shares 0..1 of miners with a dead board / a failed or worn fan. */
  deadBoards?: number;
  failedFans?: number;
  /** Force write access on every miner (`allow`) or refuse writes everywhere (`deny`). */
  writes?: WritesOverride;
  faults?: FaultSpec | string;
  /** Share 0..1 of miners the faults apply to (default all). */
  faultShare?: number;
  restartDelayMs?: number;
  logFile?: string;
  /** Entries kept in `commandLog` (default 10,000; 0 keeps none). */
  logLimit?: number;
  onCommand?: (entry: CommandLogEntry) => void;
  /** Writing `logFile` failed (a full disk): logging stopped there; the farm keeps serving. */
  onLogError?: (error: NodeJS.ErrnoException) => void;
  now?: () => number;
  /** Where `basePort: 0` takes its ports (default: the system's local range, from a random start). */
  ports?: PortPicker;
}

export interface SimMiner extends SimMinerView {
  readonly profile: Profile;
  readonly state: MinerState;
  faults: MinerFaults;
  /** Whether the port accepts connections right now. */
  readonly listening: boolean;
  setFaults(faults: Partial<MinerFaults>): Promise<void>;
  /** The commands this miner received, oldest first (from the farm's bounded log). */
  received(): CommandLogEntry[];
  /** Brings a miner back after `quit`, or restarts it now (port closed for the restart delay). */
  restart(delayMs?: number): Promise<void>;
}

export interface Farm {
  readonly miners: SimMiner[];
  inventory(): string[];
  readonly commandLog: CommandLogEntry[];
  stop(): Promise<void>;
}

class Miner implements SimMiner, DispatchTarget {
  readonly view: SimMinerView;
  server: net.Server | null = null;
  opening: Promise<void> | null = null;
  flapPhaseMs = 0;

  constructor(
    readonly index: number,
    readonly host: string,
    public port: number,
    readonly profile: Profile,
    readonly state: MinerState,
    readonly rng: Rng,
    public faults: MinerFaults,
    private readonly farm: SimFarm,
  ) {
    this.view = { index, host, port, key: targetKey(host, port) };
  }
  get key(): string {
    return this.view.key;
  }
  get listening(): boolean {
    return this.server !== null;
  }
  setFaults(faults: Partial<MinerFaults>): Promise<void> {
    this.faults = { ...this.faults, ...faults };
    return this.farm.reconcile(this);
  }
  received(): CommandLogEntry[] {
    return this.farm.log.entries.filter((e) => e.target === this.key);
  }
  restart(delayMs?: number): Promise<void> {
    return this.farm.takeDown(this, delayMs ?? this.farm.restartDelayMs);
  }
}

class SimFarm implements Farm {
  readonly miners: Miner[] = [];
  readonly log: CommandLog;
  readonly restartDelayMs: number;
  private readonly sockets = new Set<net.Socket>();
  /** False when nothing reads the command log (the CLI without --log): the entry is not built. */
  private readonly logging: boolean;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Restarts waiting out their delay: stop() settles them, as it clears their timers. */
  private readonly restarting = new Set<() => void>();
  private flapTicker: NodeJS.Timeout | null = null;
  private flapPeriodMs: number;
  private flapDownMs: number;
  private stopped = false;
  /** `--base-port 0`: where the listeners' ports come from. */
  private readonly ports: PortPicker | null;
  readonly now: () => number;

  constructor(options: FarmOptions) {
    this.now = options.now ?? Date.now;
    this.restartDelayMs = options.restartDelayMs ?? 3000;
    const logLimit = options.logLimit ?? 10_000;
    this.log = new CommandLog(logLimit, options.logFile ?? null, options.onCommand, options.onLogError);
    this.logging = logLimit > 0 || options.logFile !== undefined || options.onCommand !== undefined;
    const spec =
      typeof options.faults === 'string' ? parseFaults(options.faults) : (options.faults ?? NO_FAULTS);
    this.flapPeriodMs = spec.flapPeriodMs;
    this.flapDownMs = spec.flapDownMs;
    const seed = options.seed ?? 1;
    const addresses = options.addresses;
    const count = addresses ? addresses.length : (options.count ?? 1);
    const host = options.host ?? '127.0.0.1';
    const basePort = options.basePort ?? 4028;
    if (!addresses && basePort > 0 && basePort + count - 1 > 65_535) {
      throw new UsageError(`--base-port ${basePort} with --count ${count} runs past port 65535`);
    }
    this.ports = !addresses && basePort === 0 ? (options.ports ?? new PortPicker(localPortRange())) : null;
    const start = this.now();
    for (let i = 0; i < count; i++) {
      const profile = profileFor(options.profile ?? 'mix', seed, i);
      const state = createState(profile, {
        seed,
        index: i,
        now: start,
        ambientC: options.ambientC ?? 25,
        deadBoardShare: options.deadBoards ?? 0,
        failedFanShare: options.failedFans ?? 0,
      });
      if (options.writes === 'allow') state.access = 'full';
      if (options.writes === 'deny' && state.access === 'full') state.access = 'read';
      const minerHost = addresses ? (addresses[i] as string) : host;
      const port = addresses ? (options.port ?? 4028) : basePort === 0 ? 0 : basePort + i;
      const faults = faultsForMiner(spec, options.faultShare ?? 1, seed, i);
      const miner = new Miner(i, minerHost, port, profile, state, minerRng(seed, i), faults, this);
      miner.flapPhaseMs = unit(seed, i, 'flap-phase') * spec.flapPeriodMs;
      this.miners.push(miner);
    }
  }

  get commandLog(): CommandLogEntry[] {
    return this.log.entries;
  }

  inventory(): string[] {
    return this.miners.map((m) => m.key);
  }

  async start(): Promise<void> {
    try {
      for (let i = 0; i < this.miners.length; i += LISTEN_BATCH) {
        await Promise.all(this.miners.slice(i, i + LISTEN_BATCH).map((m) => this.open(m)));
      }
    } catch (error) {
      await this.stop();
      throw error;
    }
    // Every port is known now (base port 0 included); refused and flapping miners close theirs.
    await Promise.all(this.miners.map((m) => this.reconcile(m)));
  }

  private open(miner: Miner): Promise<void> {
    if (miner.server || this.stopped) return Promise.resolve();
    if (miner.opening) return miner.opening;
    miner.opening = new Promise<void>((resolve, reject) => {
      // Half-open: a client may send its request and shut down its side before the reply is due.
      const server = net.createServer({ allowHalfOpen: true }, (socket) => this.onConnection(miner, socket));
      // A miner without its port yet (base port 0) tries the picker's next one.
      const port = miner.port === 0 && this.ports ? this.ports.take() : miner.port;
      server.once('error', (error: NodeJS.ErrnoException) => {
        miner.opening = null;
        // Taken by someone else: the next port of the range.
        if (error.code === 'EADDRINUSE' && miner.port === 0 && port !== 0) resolve(this.open(miner));
        else reject(listenError(error, miner.host, port));
      });
      server.listen({ host: miner.host, port, backlog: 511, exclusive: true }, () => {
        miner.opening = null;
        const address = server.address();
        if (address && typeof address === 'object' && miner.port === 0) {
          miner.port = address.port;
          miner.view.port = address.port;
          miner.view.key = targetKey(miner.host, address.port);
        }
        server.on('error', () => {});
        if (this.stopped) {
          server.close();
          return resolve();
        }
        miner.server = server;
        resolve();
      });
    });
    return miner.opening;
  }

  private close(miner: Miner): void {
    miner.server?.close();
    miner.server = null;
  }

  private wantsOpen(miner: Miner, now: number): boolean {
    if (this.stopped || miner.faults.refused || now < miner.state.downUntilMs) return false;
    if (miner.faults.flap && (now + miner.flapPhaseMs) % this.flapPeriodMs < this.flapDownMs) return false;
    return true;
  }

  /** Opens or closes the port to match faults, restarts and flapping. */
  async reconcile(miner: Miner): Promise<void> {
    if (miner.faults.flap) this.ensureFlapTicker();
    const want = this.wantsOpen(miner, this.now());
    if (want && !miner.server) {
      // A port taken meanwhile by someone else stays closed until the next attempt.
      await this.open(miner).catch(() => {});
    } else if (!want && miner.server) {
      this.close(miner);
    }
  }

  private ensureFlapTicker(): void {
    if (this.flapTicker || this.stopped) return;
    this.flapTicker = setInterval(() => {
      for (const miner of this.miners) if (miner.faults.flap) void this.reconcile(miner);
    }, FLAP_TICK_MS);
    this.flapTicker.unref();
  }

  /** restart: the port refuses for `delayMs`, then the miner is back with uptime from zero. */
  takeDown(miner: Miner, delayMs: number): Promise<void> {
    const now = this.now();
    miner.state.downUntilMs = Number.isFinite(delayMs) ? now + delayMs : Number.POSITIVE_INFINITY;
    this.close(miner);
    if (!Number.isFinite(delayMs)) return Promise.resolve();
    return new Promise((resolve) => {
      this.restarting.add(resolve);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.restarting.delete(resolve);
        miner.state.downUntilMs = 0;
        resetAfterRestart(miner.state, this.now(), miner.profile.restartReadsConfig === true);
        this.reconcile(miner).then(resolve, resolve);
      }, delayMs);
      this.timers.add(timer);
    });
  }

  private onConnection(miner: Miner, socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    // No setNoDelay: each reply is one write followed by FIN, which Nagle never holds back.
    if (miner.faults.hang) {
      // Accepts and never answers; the client's deadline has to catch it.
      socket.setTimeout(HOLD_MS, () => socket.destroy());
      socket.resume();
      return;
    }
    socket.setTimeout(IDLE_CLOSE_MS, () => socket.destroy());
    let received: Buffer | null = null;
    let handled = false;
    const handle = (parsed?: unknown) => {
      if (handled || !received) return;
      handled = true;
      this.handleRequest(miner, socket, received, parsed);
    };
    socket.on('data', (chunk: Buffer) => {
      if (handled) return;
      received = received ? Buffer.concat([received, chunk]) : chunk;
      // Text requests end at the first read; JSON ones once they parse, fill the buffer, or are
      // over without parsing (E/23).
      if (!isJsonRequest(received)) return handle();
      // Only what cgminer's one recv takes: past 4095 bytes the request is cut (E/23), not read whole.
      const head = received.length > REQUEST_LIMIT ? received.subarray(0, REQUEST_LIMIT) : received;
      const parsed = tryParseJson(head.toString('utf8'));
      if (parsed !== undefined || received.length >= REQUEST_LIMIT || jsonRequestEnded(head)) handle(parsed);
    });
    socket.on('end', () => {
      if (!handled && received) handle();
      else if (!handled) socket.destroy();
    });
  }

  private handleRequest(miner: Miner, socket: net.Socket, bytes: Buffer, parsed: unknown): void {
    const text = bytes.toString('utf8', 0, Math.min(bytes.length, REQUEST_LIMIT));
    const request = parseRequest(text, isJsonRequest(bytes), parsed);
    const now = this.now();
    // The peer address costs a getpeername() per request: only when someone reads the log.
    if (this.logging) {
      const command = request.command ?? request.native?.cmd ?? null;
      const sessionFirst = miner.profile.sessionFirst === true;
      this.log.record(
        {
          ts: new Date(now).toISOString(),
          target: miner.key,
          command: command ?? text.slice(0, 200),
          parameter: request.parameter,
          remote: socket.remoteAddress ?? '',
        },
        (entry) =>
          command === null
            ? { ...entry, command: loggedText(entry.command) }
            : { ...entry, parameter: loggedParameter(command, entry.parameter, sessionFirst) },
      );
    }
    const faults = miner.faults;
    if (faults.empty > 0 && miner.rng.next() < faults.empty) {
      socket.end();
      return;
    }
    if (faults.timeout > 0 && miner.rng.next() < faults.timeout) {
      socket.setTimeout(HOLD_MS, () => socket.destroy());
      return;
    }
    // The reply arrives as bytes, already flat and off the V8 heap: what waits out the latency
    // delay (1,000 replies in flight at latency=100ms) costs the young-generation collector nothing.
    const { body, after } = dispatch(miner, request, now);
    let payload = body;
    if (request.json && faults.malformed > 0 && miner.rng.next() < faults.malformed) {
      const nul = miner.profile.nul;
      const text = body.toString('utf8', 0, nul ? body.length - 1 : body.length);
      const broken = malform(text, MALFORMATIONS[miner.rng.int(MALFORMATIONS.length)] ?? 'trailing-comma');
      payload = Buffer.from(nul ? `${broken}\0` : broken, 'utf8');
    }
    const write = () => {
      // The idle close counts again from the reply (a client that never reads it is dropped).
      if (delay > 0) socket.setTimeout(IDLE_CLOSE_MS);
      // Close as soon as the reply and our FIN have left, as cgminer does, rather than waiting for
      // the client's FIN: the request was read whole, so nothing unread can turn this into a reset.
      if (!socket.destroyed) socket.end(payload, () => socket.destroy());
      if (after === 'restart') void this.takeDown(miner, this.restartDelayMs);
      if (after === 'quit') void this.takeDown(miner, Number.POSITIVE_INFINITY);
    };
    const delay = faults.latencyMs + (faults.jitterMs > 0 ? miner.rng.next() * faults.jitterMs : 0);
    if (delay <= 0) {
      write();
      return;
    }
    // The request is in: the idle close must not drop it while its reply waits out the latency.
    socket.setTimeout(0);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      write();
    }, delay);
    this.timers.add(timer);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.flapTicker) clearInterval(this.flapTicker);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const settle of this.restarting) settle();
    this.restarting.clear();
    const closing = this.miners.map(
      (m) =>
        new Promise<void>((resolve) => {
          const server = m.server;
          m.server = null;
          if (!server) return resolve();
          server.close(() => resolve());
        }),
    );
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await Promise.all(closing);
    this.log.close();
  }
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): HashctlError {
  const where = targetKey(host, port);
  switch (error.code) {
    case 'EADDRINUSE':
      return new UsageError(`cannot listen on ${where}: the port is already in use`, { cause: error });
    case 'EADDRNOTAVAIL':
      return new UsageError(`cannot listen on ${where}: the address is not on this machine`, {
        cause: error,
      });
    case 'EACCES':
      return new UsageError(`cannot listen on ${where}: permission denied`, { cause: error });
    case 'EMFILE':
    case 'ENFILE':
      return new HashctlError(
        'io',
        `cannot listen on ${where}: too many open files (raise ulimit -n or use fewer miners)`,
        {
          cause: error,
        },
      );
    default:
      return new HashctlError('io', `cannot listen on ${where}: ${error.code ?? error.message}`, {
        cause: error,
      });
  }
}

/** Builds the farm and resolves once every listener is up (ports known, inventory final). */
export async function startFarm(options: FarmOptions = {}): Promise<Farm> {
  const farm = new SimFarm(options);
  await farm.start();
  return farm;
}
