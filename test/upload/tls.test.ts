import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryContext } from '../../src/context.js';
import { flushOutbox } from '../../src/upload/flush.js';
import { type Collector, startCollector } from './support/collector.js';
import { KEY, enqueueCycle, reports, tempStore } from './support/fixtures.js';

// A private CA for 127.0.0.1, made with the system's openssl (no network, no fixtures to expire).
let dir = '';
let cert = '';
let key = '';
let collector: Collector;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hashctl-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=hashctl test CA',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  key = readFileSync(join(dir, 'key.pem'), 'utf8');
  collector = await startCollector(undefined, { tls: { key, cert } });
});
afterAll(async () => {
  await collector?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS to the collector', () => {
  it('verifies by default: an unknown CA stops the flush and keeps the batch', async () => {
    const temp = tempStore();
    try {
      enqueueCycle(temp.store, { miners: reports(1), now: Date.now() });
      const base = {
        endpoint: collector.url,
        key: KEY,
        connectTimeoutMs: 2_000,
        totalTimeoutMs: 5_000,
        maxAttempts: 3,
        signal: new AbortController().signal,
      };
      const refused = await flushOutbox(temp.store.db, base, memoryContext());
      expect(refused).toMatchObject({ stop: 'endpoint', pending: 1, attempts: 1 });
      expect(refused.reason).toMatch(/TLS: .*SELF_SIGNED.*--ca FILE/);
      expect(collector.received).toHaveLength(0);

      const trusted = await flushOutbox(temp.store.db, { ...base, ca: cert }, memoryContext());
      expect(trusted).toMatchObject({ stop: 'done', delivered: 1, pending: 0 });
      expect(collector.received).toHaveLength(1);
    } finally {
      temp.close();
    }
  });
});
