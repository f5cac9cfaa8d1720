// A small CGMiner-API miner on 127.0.0.1:0 whose answers the test controls exactly (access group,
// version, pools), and which records every request it received.
import net from 'node:net';

export interface FakePool {
  URL: string;
  User: string;
  Status?: string;
  Priority?: number;
}

export interface FakeMinerOptions {
  /** VERSION[0] */
  version?: Record<string, unknown>;
  pools?: FakePool[];
  /** W access for this client: `privileged` S/46 and `check|<write>` Access Y. */
  write: boolean;
}

export interface ReceivedRequest {
  command: string;
  parameter: string | null;
}

export interface FakeMiner {
  host: string;
  port: number;
  target: string;
  received: ReceivedRequest[];
  stop(): Promise<void>;
}

function status(letter: string, code: number, msg: string) {
  return [{ STATUS: letter, When: 1_700_000_000, Code: code, Msg: msg, Description: 'cgminer 4.11.1' }];
}

export function answer(
  options: FakeMinerOptions,
  command: string,
  parameter: string | null,
): Record<string, unknown> {
  const pools = (options.pools ?? [{ URL: 'stratum+tcp://pool.example.com:3333', User: 'farm.w1' }]).map(
    (pool, index) => ({
      POOL: index,
      URL: pool.URL,
      Status: pool.Status ?? 'Alive',
      Priority: pool.Priority ?? index,
      Quota: 1,
      User: pool.User,
      'Stratum Active': index === 0,
      Accepted: 10,
      Rejected: 0,
    }),
  );
  switch (command) {
    case 'version':
      return {
        STATUS: status('S', 22, 'CGMiner versions'),
        VERSION: [options.version ?? { CGMiner: '4.11.1', API: '3.7' }],
        id: 1,
      };
    case 'summary':
      return {
        STATUS: status('S', 11, 'Summary'),
        SUMMARY: [{ Elapsed: 3600, 'MHS av': 1000, 'MHS 5s': 1000 }],
        id: 1,
      };
    case 'pools':
      return { STATUS: status('S', 7, `${pools.length} Pool(s)`), POOLS: pools, id: 1 };
    case 'config':
      return {
        STATUS: status('S', 33, 'CGMiner config'),
        CONFIG: [{ 'ASC Count': 0, 'Pool Count': pools.length }],
        id: 1,
      };
    case 'devs':
    case 'devdetails':
      return { STATUS: status('E', 10, 'No ASCs'), id: 1 };
    case 'stats':
      return { STATUS: status('S', 70, 'CGMiner stats'), STATS: [], id: 1 };
    case 'privileged':
      return options.write
        ? { STATUS: status('S', 46, 'Privileged access OK'), id: 1 }
        : { STATUS: status('E', 45, "Access denied to 'privileged' command"), id: 1 };
    case 'check':
      if (parameter === null) return { STATUS: status('E', 71, 'Missing check cmd'), id: 1 };
      return {
        STATUS: status('S', 72, 'Check command'),
        CHECK: [{ Exists: 'Y', Access: options.write ? 'Y' : 'N' }],
        id: 1,
      };
    default:
      return { STATUS: [{ STATUS: 'E', When: 1_700_000_000, Code: 14, Msg: 'Invalid command' }], id: 1 };
  }
}

/** What a served miner does with one request: reply with these bytes, never answer, or close. */
export type Reply = string | 'hang' | 'close';

/**
 * A loopback server that reads one JSON request per connection (`command` or Whatsminer's `cmd`),
 * records it, and does what `respond` says. The fakes of the audit tests share it.
 */
export async function serveRequests(
  host: string,
  respond: (command: string, parameter: string | null) => Reply,
): Promise<FakeMiner> {
  const received: ReceivedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      let request: { command?: unknown; parameter?: unknown; cmd?: unknown };
      try {
        request = JSON.parse(text.replace(/\0$/, ''));
      } catch {
        return; // not complete yet
      }
      const command =
        typeof request.command === 'string'
          ? request.command
          : typeof request.cmd === 'string'
            ? request.cmd
            : '';
      const parameter = request.parameter === undefined ? null : String(request.parameter);
      received.push({ command, parameter });
      const reply = respond(command, parameter);
      if (reply === 'hang') return;
      if (reply === 'close') socket.end();
      else socket.end(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host,
    port,
    target: `${host}:${port}`,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function startFakeMiner(options: FakeMinerOptions): Promise<FakeMiner> {
  return serveRequests(
    '127.0.0.1',
    (command, parameter) => `${JSON.stringify(answer(options, command, parameter))}\0`,
  );
}
