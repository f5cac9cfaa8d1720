// Web UIs on 127.0.0.1:0 for the --check-default-creds tests, closed by the test's cleanups.
import http from 'node:http';
import type net from 'node:net';

/** Starts `handler` as a web UI; its port. The server and its connections close with `cleanups`. */
export async function startWebUi(
  handler: http.RequestListener,
  cleanups: (() => Promise<void>)[],
): Promise<number> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}
