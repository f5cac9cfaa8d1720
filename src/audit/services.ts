// Service exposure by TCP connect only: the socket is closed as soon as it connects and no byte is
// ever written (audit-facts §5 lists the ports per firmware).
import net from 'node:net';
import type { ServiceProbe } from './types.js';

export interface ServicePort {
  port: number;
  service: string;
}

/**
 * Ports miner firmwares expose besides 4028 (audit-facts §5). Telnet (23) is not in the facts table but
 * is common on old and aftermarket images and is the worst of them, so it is probed too.
 */
export const SERVICE_PORTS: readonly ServicePort[] = [
  { port: 22, service: 'ssh' },
  { port: 23, service: 'telnet' },
  { port: 80, service: 'http' },
  { port: 443, service: 'https' },
  { port: 4029, service: 'unknown-4029' },
  { port: 4433, service: 'whatsminer-api-v3' },
  { port: 8080, service: 'auradine-rest' },
  { port: 8081, service: 'braiins-metrics' },
  { port: 8889, service: 'whatsminer-tool' },
  { port: 50051, service: 'braiins-grpc' },
];

/**
 * True when a TCP connection to host:port completes within the timeout. Sends nothing. Null when a
 * Ctrl-C came first: the port was not probed, which must not read as closed.
 */
export function tcpConnects(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
  lookup?: net.LookupFunction,
): Promise<boolean | null> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(null);
    const socket = net.connect(lookup ? { host, port, lookup } : { host, port });
    let settled = false;
    const finish = (open: boolean | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(open);
    };
    const onAbort = () => finish(null);
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function probeServices(
  host: string,
  ports: readonly ServicePort[],
  options: { timeoutMs: number; signal?: AbortSignal; lookup?: net.LookupFunction },
): Promise<ServiceProbe[]> {
  return Promise.all(
    ports.map(async ({ port, service }) => ({
      port,
      service,
      open: await tcpConnects(host, port, options.timeoutMs, options.signal, options.lookup),
    })),
  );
}
