// Things that accept a connection on the API port but are not miners, on a chosen loopback address
// and port (so they can sit inside a range next to simulated miners). Each records what it received.
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';

export type NonMinerKind = 'http' | 'empty' | 'garbage' | 'echo' | 'silent';

export interface NonMiner {
  kind: NonMinerKind;
  target: string;
  /** Connections accepted. */
  readonly accepted: number;
  /** Every request received, as text (one entry per connection that sent something). */
  readonly received: string[];
  stop(): Promise<void>;
}

/** Binary noise with a NUL in the middle: no decoder makes a CGMiner reply of it. */
const GARBAGE = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x13, 0x37, 0xff, 0xfe, 0x7b, 0x22]);

export async function startNonMiner(kind: NonMinerKind, host: string, port: number): Promise<NonMiner> {
  const sockets = new Set<Socket>();
  const received: string[] = [];
  let accepted = 0;
  const track = (socket: Socket): void => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (kind !== 'http') socket.once('data', (chunk: Buffer) => received.push(chunk.toString('utf8')));
  };
  let server: Server;
  if (kind === 'http') {
    const http = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<html>router admin</html>');
    });
    http.on('connection', track);
    server = http as unknown as Server;
  } else {
    server = createServer((socket) => {
      track(socket);
      if (kind === 'empty') socket.end();
      else if (kind === 'garbage') socket.once('data', () => socket.end(GARBAGE));
      else if (kind === 'echo') socket.once('data', (chunk) => socket.end(chunk));
      else socket.resume(); // silent: reads the request, never answers
    });
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    kind,
    target: `${host}:${bound.port}`,
    get accepted() {
      return accepted;
    },
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
