// Network exposure: management services open next to the API (only with --services), and an API that
// answers on a public address.
import ipaddr from 'ipaddr.js';
import type { RuleDefinition, Severity } from '../types.js';
import { finding } from './helpers.js';

/** Severity of an open service, and why. Telnet is cleartext remote shell; SSH and web are lower. */
export const SERVICE_SEVERITY: Record<string, { severity: Severity; why: string; fix: string }> = {
  telnet: {
    severity: 'high',
    why: 'cleartext remote shell, often with default credentials',
    fix: 'Disable telnet on the miner or block TCP 23.',
  },
  ssh: {
    severity: 'medium',
    why: 'remote shell; many firmwares ship default or hardcoded SSH credentials',
    fix: 'Change the default SSH password or disable SSH; allow TCP 22 only from the management host.',
  },
  'whatsminer-tool': {
    severity: 'medium',
    why: 'WhatsMinerTool channel, used to enable the write API',
    fix: 'Block TCP 8889 from everything but the management host.',
  },
  http: {
    severity: 'low',
    why: 'plaintext web UI (control, firmware upload) usually protected only by a default password',
    fix: 'Change the web password from the default and allow TCP 80 only from the management host.',
  },
  https: { severity: 'low', why: 'web UI', fix: 'Allow the web UI only from the management host.' },
  'whatsminer-api-v3': {
    severity: 'low',
    why: 'Whatsminer API v3 (reads and token-protected writes)',
    fix: 'Allow TCP 4433 only from the management host.',
  },
  'braiins-grpc': {
    severity: 'low',
    why: 'Braiins OS gRPC, plaintext, reflection enabled, GetApiVersion unauthenticated',
    fix: 'Allow TCP 50051 only from the management host.',
  },
  'braiins-metrics': {
    severity: 'low',
    why: 'Prometheus metrics without authentication',
    fix: 'Allow TCP 8081 only from your monitoring host.',
  },
  'auradine-rest': {
    severity: 'low',
    why: 'Auradine REST API (token login)',
    fix: 'Allow TCP 8080 only from the management host.',
  },
  'unknown-4029': {
    severity: 'info',
    why: 'port probed by miner scanners; vendor not identified',
    fix: 'Check what listens on TCP 4029.',
  },
};

export const serviceExposed: RuleDefinition = {
  id: 'service-exposed',
  name: 'ServiceExposed',
  defaultSeverity: 'medium',
  shortDescription: 'A management service is reachable next to the miner API',
  fullDescription:
    'With --services the audit opens a TCP connection (no payload) to the ports miner firmwares are known to ' +
    'expose: telnet 23, SSH 22, web 80/443, Whatsminer 4433/8889, Braiins OS 50051/8081, Auradine 8080, 4029.',
  help: 'Close the service or firewall it to the management host.',
  evaluate(input) {
    if (input.services === null) return [];
    return input.services
      .filter((probe) => probe.open)
      .map((probe) => {
        const known = SERVICE_SEVERITY[probe.service] ?? {
          severity: 'info' as const,
          why: 'open',
          fix: 'Review it.',
        };
        return finding(
          this,
          input,
          known.severity,
          `${probe.service} open on TCP ${probe.port}`,
          `TCP connect to ${input.target.host}:${probe.port} succeeded (no data sent): ${known.why}`,
          known.fix,
        );
      });
  },
};

/** Public means globally routable: not private, loopback, link-local, CGNAT, ULA, reserved, … */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const range = parsed.range();
  return range === 'unicast' || (parsed.kind() === 'ipv6' && (range === '6to4' || range === 'teredo'));
}

export const publicAddress: RuleDefinition = {
  id: 'public-address',
  name: 'PublicAddress',
  defaultSeverity: 'high',
  shortDescription: 'The miner API answered on a public Internet address',
  fullDescription:
    'The CGMiner API has no TLS and usually no authentication for reads; on a public address it is found by ' +
    'Internet-wide scanners within hours (pool hijacks through exposed 4028 are documented).',
  help: 'Put miners on a private network behind NAT/firewall; never forward TCP 4028.',
  evaluate(input) {
    if (input.address === null || !isPublicAddress(input.address)) return [];
    return [
      finding(
        this,
        input,
        'high',
        'Miner API reachable on a public address',
        `the API answered on ${input.address} (${ipaddr.parse(input.address).range()}), which is routable on the Internet`,
        'Move the miner behind a firewall/NAT; never expose TCP 4028 (or the web UI) to the Internet.',
      ),
    ];
  },
};
