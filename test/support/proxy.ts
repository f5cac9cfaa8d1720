// A TCP proxy on 127.0.0.1:0 in front of a miner (the simulator, a fake): each connection's first
// chunk (the request, one write of < 4 KB) is shown to `onRequest`, held for `delayMs(request)` if
// given, then forwarded, and the miner's reply is passed back. `refuse()` closes the listening
// socket so that new connections are refused until `reopen()` listens on the same port again.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

export interface MinerProxy {
  port: number;
  /** `127.0.0.1:PORT`, the target to name. */
  key: string;
  /** Request text of each connection, in order. */
  readonly requests: string[];
  /** Stops listening: connections are refused from now on. */
  refuse(): void;
  /** Listens again on the same port (nothing if already listening). */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

export interface ProxyOptions {
  onRequest?: (request: string, proxy: MinerProxy) => void;
  /** How long to hold `request` before forwarding it (ms). */
  delayMs?: (request: string) => number;
}

export async function startProxy(upstreamPort: number, options: ProxyOptions = {}): Promise<MinerProxy> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  let listening = false;
  const server = createServer((client) => {
    track(client);
    client.once('data', (chunk: Buffer) => {
      client.pause();
      const request = chunk.toString('utf8');
      requests.push(request);
      options.onRequest?.(request, proxy);
      const forward = (): void => {
        if (client.destroyed) return;
        const upstream = connect({ host: '127.0.0.1', port: upstreamPort });
        track(upstream);
        upstream.on('connect', () => {
          upstream.write(chunk);
          client.pipe(upstream);
          client.resume();
        });
        upstream.pipe(client);
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
      };
      const delay = options.delayMs?.(request) ?? 0;
      if (delay <= 0) {
        forward();
        return;
      }
      const timer = setTimeout(forward, delay);
      client.on('close', () => clearTimeout(timer));
    });
  });
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const proxy: MinerProxy = {
    port,
    key: `127.0.0.1:${port}`,
    requests,
    refuse() {
      if (!listening) return;
      listening = false;
      server.close();
    },
    async reopen() {
      if (!listening) await listen(port);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      if (listening) {
        listening = false;
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
  return proxy;
}
