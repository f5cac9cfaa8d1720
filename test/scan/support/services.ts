// Things that listen on a port but are not miners, for scan tests: real servers on 127.0.0.1:0.
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';

export interface Service {
  name: string;
  port: number;
  /** Connections currently open on the server side. */
  readonly open: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

type Behaviour = 'empty' | 'garbage' | 'echo' | 'silent' | 'ssh';

/** Bytes no decoder can make a CGMiner reply of: binary noise with a NUL in the middle. */
export const GARBAGE = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x13, 0x37, 0xff, 0xfe, 0x7b, 0x22]);

function listen(
  server: Server,
  name: string,
  sockets: Set<Socket>,
  counter: { accepted: number },
): Promise<Service> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        name,
        port,
        get open() {
          return sockets.size;
        },
        get accepted() {
          return counter.accepted;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** A TCP server with one behaviour for every connection. */
export function startService(behaviour: Behaviour): Promise<Service> {
  const sockets = new Set<Socket>();
  const counter = { accepted: 0 };
  const server = createServer((socket) => {
    counter.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    switch (behaviour) {
      case 'empty':
        socket.end(); // closes at once, zero bytes
        return;
      case 'garbage':
        socket.once('data', () => socket.end(GARBAGE));
        return;
      case 'echo':
        socket.once('data', (chunk) => socket.end(chunk));
        return;
      case 'silent':
        socket.resume(); // reads the request, never answers
        return;
      case 'ssh':
        socket.resume();
        socket.write('SSH-2.0-OpenSSH_9.6\r\n'); // a banner, then waits for the client's forever
        return;
    }
  });
  return listen(server, behaviour, sockets, counter);
}

/** A real HTTP server; node answers a request that is not HTTP with `HTTP/1.1 400 Bad Request`. */
export function startHttpService(): Promise<Service> {
  const sockets = new Set<Socket>();
  const counter = { accepted: 0 };
  const server = createHttpServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<html>router admin</html>');
  });
  server.on('connection', (socket: Socket) => {
    counter.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return listen(server as unknown as Server, 'http', sockets, counter);
}

/**
 * A port where nothing listens. Chosen below the ephemeral range (32768+), where other processes'
 * port-0 listeners land and where a connect from 127.0.0.1 could even meet itself (TCP self-connect).
 */
export async function closedPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!free) continue;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }
  throw new Error('no free port found between 20000 and 30000');
}
