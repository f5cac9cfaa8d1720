import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskUrlSecrets, parseEndpoint } from '../../src/upload/endpoint.js';
import { FLUSH_NOTE_REPEAT_MS, flushNotes } from '../../src/upload/flush.js';
import { loadCollectorKey, redactKey } from '../../src/upload/key.js';
import { backoffDelay, DEFAULT_BACKOFF, parseRetryAfter } from '../../src/upload/retry.js';
import { classifyStatus } from '../../src/upload/sender.js';
import { KEY } from './support/fixtures.js';

describe('flushNotes', () => {
  it('says an outage when it starts, when its kind changes and once an hour, then when batches go again', () => {
    let now = 0;
    const notes = flushNotes(() => now);
    const down = {
      stop: 'retries_exhausted' as const,
      reason: 'the collector did not take batch a: HTTP 503',
    };
    expect(notes({ stop: 'done', reason: null })).toBeNull();
    expect(notes(down)).toMatch(/^the collector did not take batch a: HTTP 503 \(said again once an hour/);
    for (let i = 0; i < 5; i++) {
      now += 60_000;
      expect(notes({ ...down, reason: `the collector did not take batch b${i}: HTTP 503` })).toBeNull();
    }
    now += FLUSH_NOTE_REPEAT_MS;
    expect(notes(down)).toMatch(/\(7 flushes in a row\)$/);
    expect(notes({ stop: 'key_refused', reason: 'the collector refused the key (HTTP 401)' })).toMatch(
      /^the collector refused the key/,
    );
    expect(notes({ stop: 'done', reason: null })).toBe(
      'delivering again after 8 flushes that left batches pending',
    );
    expect(notes({ stop: 'done', reason: null })).toBeNull();
  });

  it('says a flush cut short by the stop as it is: no outage, nothing said again an hour later', () => {
    const notes = flushNotes(() => 0);
    const down = {
      stop: 'retries_exhausted' as const,
      reason: 'the collector did not take batch a: HTTP 503',
    };
    expect(notes(down)).toMatch(/said again once an hour/);
    // SIGTERM while the collector is down: the interruption is not a new kind of outage.
    expect(notes({ stop: 'aborted', reason: 'interrupted' })).toBe('interrupted');
    expect(notes({ ...down, reason: 'the collector did not take batch b: HTTP 503' })).toBeNull();
    expect(flushNotes(() => 0)({ stop: 'aborted', reason: 'interrupted' })).toBe('interrupted');
  });

  it('says the stop once: the flush of the cycle stored after SIGTERM is cut short too', () => {
    const notes = flushNotes(() => 0);
    // The flush in flight is aborted, then the cycle in flight is stored and its own flush meets
    // the same stop: "upload: interrupted" twice, around the last run line.
    expect(notes({ stop: 'aborted', reason: 'interrupted' })).toBe('interrupted');
    expect(notes({ stop: 'aborted', reason: 'interrupted' })).toBeNull();
  });
});

describe('flushNotes of a backlog', () => {
  it('says a flush out of time while delivering as a backlog being sent, not an outage, and its end', () => {
    let now = 0;
    const notes = flushNotes(() => now);
    const deadline = 'the flush ran out of the time it was given (the rest waits for the next flush)';
    expect(notes({ stop: 'deadline', reason: deadline, delivered: 120, pending: 20_000 })).toBe(
      'sending a backlog: 120 batch(es) delivered in this flush, 20000 batch(es) still pending; the next flushes go on (said again once an hour while it lasts)',
    );
    now += 60_000;
    expect(notes({ stop: 'deadline', reason: deadline, delivered: 118, pending: 19_900 })).toBeNull();
    now += FLUSH_NOTE_REPEAT_MS;
    expect(notes({ stop: 'deadline', reason: deadline, delivered: 90, pending: 12_000 })).toBe(
      'sending a backlog: 12000 batch(es) still pending after 3 flushes',
    );
    expect(notes({ stop: 'done', reason: null, delivered: 40, pending: 0 })).toBe(
      'the backlog is sent (3 flushes)',
    );
    // Out of time without delivering anything is no backlog being sent: said as before.
    expect(notes({ stop: 'deadline', reason: deadline, delivered: 0, pending: 5 })).toMatch(
      /^the flush ran out of the time it was given .*\(said again once an hour while it lasts\)$/,
    );
    // Stopped by SIGTERM: the loop ends, nothing is said again.
    expect(notes({ stop: 'aborted', reason: 'interrupted' })).toBe('interrupted');
  });
});

describe('backoffDelay', () => {
  it('doubles from 500 ms, stays within ±20 % and never passes the cap', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, DEFAULT_BACKOFF, () => 0.5))).toEqual([
      500, 1000, 2000, 4000,
    ]);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 0.9999, noNaN: true }),
        (attempt, r) => {
          const delay = backoffDelay(attempt, DEFAULT_BACKOFF, () => r);
          const base = Math.min(DEFAULT_BACKOFF.initialMs * 2 ** (attempt - 1), Number.MAX_VALUE);
          expect(delay).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxMs);
          expect(delay).toBeGreaterThanOrEqual(Math.min(DEFAULT_BACKOFF.maxMs, Math.floor(base * 0.8)));
        },
      ),
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads seconds and HTTP dates, and ignores what it cannot read', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(['5', '9'], now)).toBe(5_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    for (const bad of [undefined, '', '-5', '1.5', 'soon', '2025-01-01'])
      expect(parseRetryAfter(bad, now)).toBeNull();
  });

  it('reads the obsolete RFC 850 and asctime forms, with the two-digit year pivot', () => {
    expect(parseRetryAfter('Wednesday, 01-Jan-25 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed Jan  1 00:00:10 2025', now)).toBe(10_000);
    // 94 is 1994, not 2094: long past, so no wait at all.
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(0);
  });

  it("measures an HTTP date from the answer's own Date, not this host's clock", () => {
    const retry = 'Wed, 01 Jan 2025 00:00:30 GMT';
    // The host runs 10 minutes ahead of the collector: 30 s is what the collector asked, not 0.
    const ahead = now + 600_000;
    expect(parseRetryAfter(retry, ahead, 'Wed, 01 Jan 2025 00:00:00 GMT')).toBe(30_000);
    // 10 minutes behind: 30 s, not 10.5 min.
    expect(parseRetryAfter(retry, now - 600_000, ['Wed, 01 Jan 2025 00:00:00 GMT'])).toBe(30_000);
    // No Date, or one that is not a date: this host's clock is all there is.
    expect(parseRetryAfter(retry, ahead)).toBe(0);
    expect(parseRetryAfter(retry, now, 'yesterday')).toBe(30_000);
    // Seconds need no clock at all.
    expect(parseRetryAfter('30', ahead, 'Tue, 31 Dec 2024 00:00:00 GMT')).toBe(30_000);
  });

  it('does not read text Date.parse would take for a date (an hour-long deferral out of junk)', () => {
    for (const junk of ['later 2030', 'Jan 2030', 'Monday 5', 'a 1', 'Wed, 31 Feb 2025 00:00:30 GMT'])
      expect(parseRetryAfter(junk, now)).toBeNull();
  });
});

describe('classifyStatus', () => {
  it('maps the answer classes of hashctl.md §9', () => {
    const table: [number, string][] = [
      [200, 'delivered'],
      [202, 'delivered'],
      [204, 'delivered'],
      [409, 'delivered'],
      [408, 'retry'],
      [429, 'retry'],
      [500, 'retry'],
      [503, 'retry'],
      [401, 'key_refused'],
      [403, 'key_refused'],
      [413, 'too_large'],
      [400, 'quarantine'],
      [422, 'quarantine'],
      [418, 'quarantine'],
      [301, 'endpoint'],
      [308, 'endpoint'],
      [404, 'endpoint'],
      [405, 'endpoint'],
      [407, 'endpoint'],
      [410, 'endpoint'],
      [414, 'endpoint'],
      [421, 'endpoint'],
      [426, 'endpoint'],
      [431, 'endpoint'],
      [406, 'endpoint'],
      [411, 'endpoint'],
      [415, 'endpoint'],
      [417, 'endpoint'],
      [428, 'endpoint'],
    ];
    for (const [status, kind] of table) expect([status, classifyStatus(status)]).toEqual([status, kind]);
  });
});

describe('parseEndpoint', () => {
  it('joins the upload route onto the base path without doubling it', () => {
    expect(parseEndpoint('https://cloud.example').url).toBe('https://cloud.example/api/collector/upload');
    expect(parseEndpoint('https://cloud.example/').path).toBe('/api/collector/upload');
    expect(parseEndpoint('https://cloud.example/tenant/7/').path).toBe('/tenant/7/api/collector/upload');
    expect(parseEndpoint('https://cloud.example/api/collector/upload').path).toBe('/api/collector/upload');
    expect(parseEndpoint('http://127.0.0.1:8080?site=a')).toMatchObject({
      origin: 'http://127.0.0.1:8080',
      path: '/api/collector/upload?site=a',
      secure: false,
      loopback: true,
    });
    expect(parseEndpoint('https://cloud.example').loopback).toBe(false);
  });

  it('sends the query as given but prints its values masked (a token may sit there)', () => {
    const endpoint = parseEndpoint('http://127.0.0.1:1/?token=hunter2pw&site=a');
    expect(endpoint.path).toBe('/api/collector/upload?token=hunter2pw&site=a');
    expect(endpoint.url).toBe('http://127.0.0.1:1/api/collector/upload?token=***&site=***');
  });

  it("masks the userinfo and query values of a URL the collector names (a redirect's Location)", () => {
    expect(maskUrlSecrets('https://u:pw@h/p?t=9&x=2#f')).toBe('https://***@h/p?t=***&x=***#f');
    expect(maskUrlSecrets('//u:pw@elsewhere/api?token=abc')).toBe('//***@elsewhere/api?token=***');
    expect(maskUrlSecrets('/api/collector/upload?token=abc')).toBe('/api/collector/upload?token=***');
    expect(maskUrlSecrets('http://h/a@b')).toBe('http://h/a@b');
  });

  it('refuses plain http beyond loopback (the key would cross the network in clear), and names bad ports', () => {
    for (const url of ['http://collector.farm.lan:8080', 'http://10.1.2.3/', 'http://[fd00::5]:80']) {
      expect(() => parseEndpoint(url)).toThrow(
        /refusing to send the collector key over plain http to .*: use https:\/\//,
      );
    }
    expect(parseEndpoint('http://localhost:8080').loopback).toBe(true);
    expect(() => parseEndpoint('https://cloud.example:65536')).toThrow(
      /port 65536 is out of range \(1-65535\)/,
    );
    expect(() => parseEndpoint('https://cloud.example:0')).toThrow(/port 0 is not a port to connect to/);
  });

  it('refuses other schemes, credentials in the URL and garbage, as usage errors', () => {
    for (const bad of [
      'ftp://host/',
      'file:///etc/passwd',
      'cloud.example',
      'https://u:p@host/',
      'https://host/#x',
    ]) {
      expect(() => parseEndpoint(bad)).toThrow(expect.objectContaining({ kind: 'usage' }));
    }
  });

  it('never quotes a password or a raw control character, even for a URL refused for another reason', () => {
    const secret = 'hunter2pw';
    for (const bad of [
      `ftp://user:${secret}@127.0.0.1/`,
      `http://user:${secret}@127.0.0.1:99999/`,
      `http://:${secret}@[::1/`,
      `http://user:a/${secret}@127.0.0.1/`,
      `http://us\ner:${secret}\n@127.0.0.1:99999/`,
      `ftp:\n//user:${secret}@127.0.0.1/`,
      `user:${secret}@127.0.0.1`,
      `https://127.0.0.1/\r\nx#${secret}@h`,
    ]) {
      let message = '';
      try {
        parseEndpoint(bad);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, bad).toMatch(/^invalid --endpoint/);
      expect(message, bad).not.toContain(secret);
      expect(message, bad).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
    }
    expect(() => parseEndpoint(`ftp://user:${secret}@127.0.0.1/`)).toThrow(
      "invalid --endpoint 'ftp://***@127.0.0.1/': only http:// and https:// are supported",
    );
    expect(() => parseEndpoint('http://127.0.0.1:99999/\nforged line')).toThrow(/99999\/\\x0aforged line/);
  });
});

describe('loadCollectorKey', () => {
  it('takes --key-file first, then the environment, then the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hashctl-key-'));
    try {
      const file = join(dir, 'key');
      writeFileSync(file, `  ${KEY}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
      expect(loadCollectorKey({ env: { HASHCTL_COLLECTOR_KEY: 'from-env' }, keyFile: file })).toEqual({
        value: KEY,
        source: file,
      });
      expect(
        loadCollectorKey({ env: { HASHCTL_COLLECTOR_KEY: 'from-env' }, configKeyFile: file }).value,
      ).toBe('from-env');
      expect(loadCollectorKey({ env: {}, configKeyFile: file }).value).toBe(KEY);
      expect(() => loadCollectorKey({ env: {} })).toThrow(expect.objectContaining({ kind: 'usage' }));
      for (const mode of [0o604, 0o640, 0o660, 0o644]) {
        chmodSync(file, mode);
        expect(() => loadCollectorKey({ env: {}, keyFile: file })).toThrow(
          expect.objectContaining({ kind: 'config' }),
        );
      }
      chmodSync(file, 0o400);
      expect(loadCollectorKey({ env: {}, keyFile: file }).value).toBe(KEY);
      writeFileSync(join(dir, 'spaces'), 'two words', { mode: 0o600 });
      let message = '';
      try {
        loadCollectorKey({ env: {}, keyFile: join(dir, 'spaces') });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('characters a header cannot carry');
      expect(message).not.toContain('two words');
      expect(() => loadCollectorKey({ env: {}, keyFile: join(dir, 'missing') })).toThrow(
        expect.objectContaining({ kind: 'config' }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('redacts every occurrence of the key', () => {
    expect(redactKey(`a ${KEY} b ${KEY}`, KEY)).toBe('a [redacted] b [redacted]');
    expect(redactKey('nothing here', KEY)).toBe('nothing here');
  });

  it('redacts the key as a server may echo it: percent-encoded, JSON-escaped, in base64 or hex', () => {
    const key = 'k3y/with"quote\\and%&+=?#~é!';
    const base64 = (text: string) => Buffer.from(text).toString('base64');
    const echoes = [
      encodeURIComponent(key),
      encodeURIComponent(key).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
      key.replace(/[!~]/g, (c) => `%${c.charCodeAt(0).toString(16)}`), // encodes what encodeURIComponent leaves
      JSON.stringify(key).slice(1, -1),
      JSON.stringify(key).slice(1, -1).replace(/\//g, '\\/'), // PHP escapes slashes
      [...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
      base64(key),
      Buffer.from(key).toString('base64url'),
      Buffer.from(key).toString('hex'),
      Buffer.from(key).toString('hex').toUpperCase(),
    ];
    for (const echo of echoes) {
      expect(redactKey(`before ${echo} after`, key), echo).toBe('before [redacted] after');
    }
    // Inside a longer base64 text (an echoed Basic credential), at each of the three alignments.
    for (const prefix of ['u:', 'us:', 'use:']) {
      const shown = redactKey(`Basic ${base64(prefix + key)}`, key);
      expect(shown).toContain('[redacted]');
      expect(shown.length).toBeLessThan(`Basic ${base64(prefix + key)}`.length - 20);
    }
    expect(redactKey('{"error":"bad key"}', key)).toBe('{"error":"bad key"}');
    expect(redactKey(encodeURIComponent(KEY), KEY)).toBe('[redacted]');
  });
});
