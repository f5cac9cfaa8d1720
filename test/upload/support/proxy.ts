// An HTTP CONNECT proxy on loopback, as a farm host's egress proxy: tunnels what the client sends,
// records each CONNECT with its Proxy-Authorization and every byte relayed.
import * as http from 'node:http';
import * as net from 'node:net';

export interface Proxy {
  url: string;
  /** `CONNECT` lines with their Proxy-Authorization, in order. */
  tunnels: { target: string; authorization: string | undefined }[];
  /** Every byte the client sent through a tunnel. */
  relayed: Buffer[];
  close(): void;
}

/** An HTTP CONNECT proxy on loopback; `answer` decides the status of each tunnel (200 opens it). */
export async function startProxy(
  host: string,
  answer: (authorization: string | undefined) => number = () => 200,
): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  const proxy: Proxy = { url: '', tunnels: [], relayed: [], close: () => undefined };
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    const authorization = req.headers['proxy-authorization'];
    proxy.tunnels.push({ target: req.url ?? '', authorization });
    const status = answer(authorization);
    if (status !== 200) {
      client.end(`HTTP/1.1 ${status} Refused\r\nProxy-Authenticate: Basic realm="egress"\r\n\r\n`);
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host ?? '', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.on('data', (chunk: Buffer) => {
        proxy.relayed.push(chunk);
        upstream.write(chunk);
      });
      upstream.pipe(client);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve));
  proxy.url = `http://${host}:${(server.address() as net.AddressInfo).port}`;
  proxy.close = () => {
    for (const socket of sockets) socket.destroy();
    server.close();
  };
  return proxy;
}
