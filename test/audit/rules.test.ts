// Every rule as a pure function: AuditInput (+ policy) in, findings out.
import { describe, expect, it } from 'vitest';
import { compareVersions, identifyFirmware, parseCompileDate } from '../../src/audit/identify.js';
import { parseAllowedPools, poolAllowed } from '../../src/audit/pools.js';
import { isPublicAddress } from '../../src/audit/rules/exposure.js';
import {
  defaultCredentials,
  evaluateRules,
  firmwareVulnerable,
  poolExtra,
  poolNotAllowed,
  publicAddress,
  rpcReadable,
  rpcWriteAccess,
  serviceExposed,
  thermalProtection,
  workerMismatch,
} from '../../src/audit/rules/index.js';
import { snapshotFromReads } from '../../src/audit/snapshot.js';
import type { AuditPolicy, Finding } from '../../src/audit/types.js';
import { severityRank } from '../../src/audit/types.js';
import {
  checkReply,
  failure,
  input,
  PRIVILEGED_DENIED,
  PRIVILEGED_OK,
  poolsReply,
  reply,
  status,
  versionReply,
} from './support/inputs.js';

const NO_POLICY: AuditPolicy = { allowedPools: null, workerPattern: null };
const UPSTREAM = versionReply({ CGMiner: '4.11.1', API: '3.7' });
const ids = (findings: Finding[]) => findings.map((item) => item.rule);

describe('rpc-write-access', () => {
  it('is critical when privileged answers S/46', () => {
    const findings = rpcWriteAccess.evaluate(
      input({ version: UPSTREAM, privileged: PRIVILEGED_OK, 'check|addpool': checkReply('Y', 'Y') }),
      NO_POLICY,
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]?.severity).toBe('critical');
    expect(findings[0]?.evidence).toContain('S/46');
    expect(findings[0]?.target).toBe('10.0.0.5:4028');
  });

  it('is high when only check|<write> says Access Y', () => {
    const findings = rpcWriteAccess.evaluate(
      input({ version: UPSTREAM, privileged: PRIVILEGED_DENIED, 'check|addpool': checkReply('Y', 'Y') }),
      NO_POLICY,
    );
    expect(findings.map((item) => item.severity)).toEqual(['high']);
    expect(findings[0]?.title).toContain('addpool');
  });

  it('finds nothing for read-only access or a restricted group (E/45 on check itself)', () => {
    expect(
      rpcWriteAccess.evaluate(
        input({ version: UPSTREAM, privileged: PRIVILEGED_DENIED, 'check|addpool': checkReply('Y', 'N') }),
        NO_POLICY,
      ),
    ).toEqual([]);
    const groupA = reply(status('E', 45, "Access denied to 'check' command"));
    expect(
      rpcWriteAccess.evaluate(
        input({
          version: UPSTREAM,
          privileged: PRIVILEGED_DENIED,
          'check|addpool': groupA,
          'check|save': groupA,
        }),
        NO_POLICY,
      ),
    ).toEqual([]);
  });

  it('a grant is S/46 only: an S with another code, or with no code and another message, is not', () => {
    const sameS = reply({ STATUS: [{ STATUS: 'S', When: 1, Msg: 'ok' }], id: 1 });
    const otherCode = reply(status('S', 11, 'Summary'));
    for (const privileged of [sameS, otherCode]) {
      const findings = rpcWriteAccess.evaluate(
        input({ version: UPSTREAM, privileged, 'check|addpool': sameS }),
        NO_POLICY,
      );
      expect(findings.map((item) => [item.severity, item.title])).toEqual([
        ['info', 'Write access from this host could not be determined'],
      ]);
    }
    const noCode = reply({ STATUS: [{ STATUS: 'S', When: 1, Msg: 'Privileged access OK' }], id: 1 });
    expect(
      rpcWriteAccess.evaluate(input({ version: UPSTREAM, privileged: noCode }), NO_POLICY)[0]?.severity,
    ).toBe('critical');
  });

  it('reports LuxOS session-gated writes as high without calling logon', () => {
    const luxos = versionReply({
      API: '3.7',
      LUXminer: '2025.4.8.220305-57b389c7',
      Type: 'Antminer S19k Pro',
    });
    const findings = rpcWriteAccess.evaluate(
      input({ version: luxos, privileged: PRIVILEGED_DENIED, 'check|curtail': checkReply('Y', 'N') }),
      NO_POLICY,
    );
    expect(findings.map((item) => item.severity)).toEqual(['high']);
    expect(findings[0]?.evidence).toContain('logon was not called');
  });

  it('says "unknown" for Whatsminer rather than spending a token', () => {
    const reads = {
      version: reply(status('E', 14, 'invalid cmd')),
      get_version: reply({
        STATUS: 'S',
        Code: 131,
        Msg: { api_ver: 'whatsminer v1.4.0', fw_ver: '20210322.22.REL' },
        Description: 'whatsminer v1.4.0',
      }),
    };
    const findings = rpcWriteAccess.evaluate(input(reads), NO_POLICY);
    expect(findings.map((item) => item.severity)).toEqual(['info']);
    expect(findings[0]?.evidence).toContain('get_token was not called');
  });
});

describe('rpc-readable', () => {
  it('reports pools and workers disclosed at medium', () => {
    const findings = rpcReadable.evaluate(
      input({
        version: UPSTREAM,
        pools: poolsReply([{ URL: 'stratum+tcp://pool.example.com:3333', User: 'wallet.rig7' }]),
      }),
      NO_POLICY,
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]?.severity).toBe('medium');
    expect(findings[0]?.evidence).toContain('wallet.rig7');
    expect(findings[0]?.evidence).toContain('stratum+tcp://pool.example.com:3333');
  });

  it('says, at info, that nothing was read when the API refused this host (zero-byte close)', () => {
    // Audit-facts §2.2: a zero-byte close is recorded as "no access". Without a finding the report
    // read "0 findings on 1 miner", the same as a miner audited in full and found clean.
    const findings = rpcReadable.evaluate(input({ version: failure('empty_reply') }), NO_POLICY);
    expect(findings.map((item) => item.severity)).toEqual(['info']);
    expect(findings[0]?.title).toMatch(/closed to this host/);
    expect(findings[0]?.evidence).toMatch(/zero bytes.*nothing was read/);
  });
});

describe('pool rules', () => {
  const allowed = parseAllowedPools(
    '# farm pools\nstratum+tcp://Pool.Example.com:3333\nbackup.example.net:443\n\nstratum2+tcp://v2.example.org\n',
    'pools.txt',
  );
  const policy: AuditPolicy = { allowedPools: allowed, workerPattern: /^farm\./ };

  it('normalizes scheme, host case and port', () => {
    expect(poolAllowed('stratum+tcp://pool.example.com:3333', allowed)).toBe(true);
    expect(poolAllowed('STRATUM+TCP://POOL.EXAMPLE.COM:3333/', allowed)).toBe(true);
    expect(poolAllowed('stratum+tcp://pool.example.com:4444', allowed)).toBe(false);
    expect(poolAllowed('stratum+ssl://pool.example.com:3333', allowed)).toBe(false);
    // host:port entry: any scheme; scheme-only entry: any port
    expect(poolAllowed('stratum+ssl://backup.example.net:443', allowed)).toBe(true);
    expect(poolAllowed('stratum2+tcp://v2.example.org:34254', allowed)).toBe(true);
    expect(poolAllowed('stratum+tcp://v2.example.org:34254', allowed)).toBe(false);
    expect(() => parseAllowedPools('not a pool url://x y', 'bad.txt')).toThrow(/bad.txt:1/);
  });

  it('reports a pool outside the allowlist, critical when it is the one in use', () => {
    const reads = {
      version: UPSTREAM,
      pools: poolsReply([
        { URL: 'stratum+tcp://evil.example.biz:3333', User: 'farm.w1' },
        { URL: 'stratum+tcp://pool.example.com:3333', User: 'farm.w1' },
      ]),
    };
    const findings = poolNotAllowed.evaluate(input(reads), policy);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.severity).toBe('critical');
    expect(findings[0]?.evidence).toContain('evil.example.biz');
  });

  it('reads a schemeless miner URL as plain Stratum, not as a foreign pool', () => {
    // Some firmwares show the pool as typed into their web page: `host:port`, no scheme.
    expect(poolAllowed('pool.example.com:3333', allowed)).toBe(true);
    expect(poolAllowed('Pool.Example.com:3333', allowed)).toBe(true);
    expect(poolAllowed('pool.example.com:4444', allowed)).toBe(false);
    const tls = parseAllowedPools('stratum+ssl://pool.example.com:3333\n', 'tls.txt');
    expect(poolAllowed('pool.example.com:3333', tls)).toBe(false);
    const reads = {
      version: UPSTREAM,
      pools: poolsReply([
        { URL: 'pool.example.com:3333', User: 'farm.w1' },
        { URL: 'evil.example.biz:3333', User: 'farm.w1' },
      ]),
    };
    const findings = poolNotAllowed.evaluate(input(reads), { ...policy, allowedPools: tls });
    expect(findings.map((item) => [item.severity, item.title])).toEqual([
      ['medium', 'Allowed pool configured with a scheme the allowlist does not allow'],
      ['high', 'Pool not on the allowed list'],
    ]);
    expect(findings[0]?.evidence).toContain('only as stratum+ssl://pool.example.com:3333');
    expect(findings[0]?.evidence).toContain('without a scheme, i.e. plain Stratum');
    expect(poolNotAllowed.evaluate(input(reads), policy).map((item) => item.evidence)).toEqual([
      expect.stringContaining('evil.example.biz'),
    ]);
  });

  it('never allows a pool URL that hides its host behind an "@"', () => {
    // cgminer's extract_sockaddr takes the host up to the first ':' after '//' and knows no
    // user-info: `evil.example:25000@pool.example.com:3333` mines on evil.example:25000, while a URL
    // parser reads pool.example.com:3333. Either reading may be the firmware's: not on the list.
    const disguised = [
      'stratum+tcp://evil.example:25000@pool.example.com:3333',
      'stratum+tcp://evil.example:25000?@pool.example.com:3333',
      'evil.example:25000@pool.example.com:3333',
      'stratum+tcp://farm.w1@pool.example.com:3333',
    ];
    for (const url of disguised) expect(poolAllowed(url, allowed), url).toBe(false);
    const reads = {
      version: UPSTREAM,
      pools: poolsReply(disguised.slice(0, 3).map((URL) => ({ URL, User: 'farm.w1' }))),
    };
    const findings = poolNotAllowed.evaluate(input(reads), policy);
    // Not the medium "scheme the allowlist does not allow": the host itself is in doubt.
    expect(findings.map((item) => [item.severity, item.title])).toEqual([
      ['critical', 'Miner is mining on a pool that is not allowed'],
      ['high', 'Pool not on the allowed list'],
      ['high', 'Pool not on the allowed list'],
    ]);
    expect(findings[0]?.evidence).toContain("'@'");
    // An allowlist entry written so would match nothing: said when the file is read.
    expect(() => parseAllowedPools('stratum+tcp://farm.w1@pool.example.com:3333\n', 'at.txt')).toThrow(
      /at\.txt:1: .* has an '@'/,
    );
  });

  it('labels developer-fee rows instead of calling them hijacks', () => {
    const reads = {
      version: versionReply({ CGMiner: '4.11.1', API: '3.7', Type: 'Antminer S9 (vnish 3.8.6)' }),
      pools: poolsReply([
        { URL: 'stratum+tcp://pool.example.com:3333', User: 'farm.w1' },
        { URL: 'DevFee', User: 'DevFee', Priority: 993 },
        { URL: 'stratum+tcp://dash.suprnova.cc:9991', User: 'devFeeMiner.9', Priority: 9998 },
      ]),
    };
    const all = evaluateRules(input(reads), policy).filter(
      (item) => item.rule.startsWith('pool') || item.rule === 'worker-mismatch',
    );
    expect(all).toHaveLength(2);
    for (const item of all) {
      expect(item.severity).toBe('info');
      expect(item.evidence).toContain('dev fee');
    }
  });

  it('a worker merely named like a dev fee on an operator pool slot is still checked', () => {
    const reads = {
      version: UPSTREAM,
      pools: poolsReply([
        { URL: 'stratum+tcp://evil.example.biz:3333', User: 'devfee.rig1', Priority: 0 },
        { URL: 'stratum+tcp://pool.example.com:3333', User: 'farm.w1', Priority: 1 },
        { URL: 'stratum+tcp://evil.example.biz:3333', User: 'devFeeMiner.1', Priority: 2 },
      ]),
    };
    const findings = evaluateRules(input(reads), policy).filter(
      (item) => item.rule === 'pool-not-allowed' || item.rule === 'worker-mismatch',
    );
    expect(findings.map((item) => [item.rule, item.severity]).sort()).toEqual([
      ['pool-not-allowed', 'critical'],
      ['pool-not-allowed', 'high'],
      ['worker-mismatch', 'critical'],
      ['worker-mismatch', 'high'],
    ]);
    expect(findings.some((item) => item.evidence.includes('dev fee'))).toBe(false);
  });

  it('a pool with no worker set is said so, not quoted as user "null"', () => {
    const reads = {
      version: UPSTREAM,
      pools: poolsReply([{ URL: 'stratum+tcp://pool.example.com:3333', User: '' }]),
    };
    const findings = workerMismatch.evaluate(input(reads), policy);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.evidence).toContain('no user (worker) set');
    expect(findings[0]?.evidence).not.toContain('null');
  });

  it('flags workers that do not match --worker-pattern', () => {
    const reads = {
      version: UPSTREAM,
      pools: poolsReply([
        { URL: 'stratum+tcp://pool.example.com:3333', User: 'farm.w1' },
        { URL: 'stratum+tcp://pool.example.com:3333', User: '1BoatSLRHtKNngkdXEeobR76b53LETtpyT.x' },
      ]),
    };
    const findings = workerMismatch.evaluate(input(reads), policy);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.severity).toBe('high');
    expect(findings[0]?.evidence).toContain('1BoatSLR');
    expect(workerMismatch.evaluate(input(reads), NO_POLICY)).toEqual([]);
  });

  it('quotes a worker in the visible form it was read in, not escaped a second time', () => {
    // What the pools reader hands on for a user with a bidi override: its visible form.
    const reads = {
      version: UPSTREAM,
      pools: poolsReply([{ URL: 'stratum+tcp://pool.example.com:3333', User: 'w\\u202e1' }]),
    };
    const [found] = workerMismatch.evaluate(input(reads), policy);
    expect(found?.evidence).toContain('user "w\\u202e1" does not match');
  });

  it('flags a 4th pool', () => {
    const four = poolsReply(
      ['a', 'b', 'c', 'd'].map((name) => ({
        URL: `stratum+tcp://${name}.example.com:3333`,
        User: 'farm.w1',
      })),
    );
    expect(
      poolExtra.evaluate(input({ version: UPSTREAM, pools: four }), NO_POLICY).map((item) => item.title),
    ).toEqual(['4 pools configured (more than 3)']);
  });

  describe('a backup pool getting the shares while the preferred one is alive', () => {
    /** Two alive pools, the preferred (priority 0) and a backup, with their Last Share Time. */
    const twoPools = (preferred: unknown, backup: unknown, when = 1_700_000_000) =>
      reply({
        STATUS: [{ STATUS: 'S', When: when, Code: 7, Msg: '2 Pool(s)' }],
        POOLS: [
          {
            POOL: 0,
            URL: 'stratum+tcp://a.example.com:3333',
            User: 'farm.w1',
            Status: 'Alive',
            Priority: 0,
            'Last Share Time': preferred,
          },
          {
            POOL: 1,
            URL: 'stratum+tcp://x.example.com:3333',
            User: 'farm.w1',
            Status: 'Alive',
            Priority: 1,
            'Last Share Time': backup,
          },
        ],
        id: 1,
      });
    const titles = (pools: ReturnType<typeof reply>) =>
      poolExtra.evaluate(input({ version: UPSTREAM, pools }), NO_POLICY).map((item) => item.title);
    const FLAGGED = ['A backup pool is getting the shares while the preferred pool is alive'];

    it("is flagged from elapsed share times (Bitmain) and from epochs against the reply's own When (cgminer, BOSminer)", () => {
      expect(titles(twoPools('1:05:00', '0:00:04'))).toEqual(FLAGGED);
      expect(titles(twoPools('0', '0:00:04'))).toEqual(FLAGGED);
      expect(titles(twoPools(1_700_000_000 - 3_900, 1_700_000_000 - 4))).toEqual(FLAGGED);
      const [found] = poolExtra.evaluate(
        input({ version: UPSTREAM, pools: twoPools(0, '0:00:04') }),
        NO_POLICY,
      );
      expect(found?.evidence).toContain('last share never');
      expect(found?.evidence).toContain('1:stratum+tcp://x.example.com:3333 (last share 4s ago)');
    });

    it('is not flagged when the preferred pool takes shares too, nobody does, or a time cannot be read', () => {
      expect(titles(twoPools('0:00:30', '0:00:04'))).toEqual([]);
      expect(titles(twoPools('2:00:00', '3:00:00'))).toEqual([]);
      expect(titles(twoPools('0', '0'))).toEqual([]);
      // A date text (StrongU), a small number, an epoch ahead of the miner's own clock: not guessed at.
      expect(titles(twoPools('Tue Jun 16 10:16:42 2020', '0:00:04'))).toEqual([]);
      expect(titles(twoPools(98, '0:00:04'))).toEqual([]);
      expect(titles(twoPools(1_700_000_000 - 3_900, 1_700_000_000 + 60))).toEqual([]);
    });
  });
});

describe('firmware-vulnerable', () => {
  const l3plus = versionReply({
    CGMiner: '4.9.0',
    API: '3.1',
    Miner: '1.0.1.3',
    CompileTime: 'Fri Aug 25 17:28:57 CST 2017',
    Type: 'Antminer L3+',
  });

  it('matches CVE-2018-10058 on cgminer < 4.11.0, high only with write access', () => {
    const withWrite = firmwareVulnerable.evaluate(
      input({ version: l3plus, privileged: PRIVILEGED_OK }),
      NO_POLICY,
    );
    const cve = withWrite.find((item) => item.title.startsWith('CVE-2018-10058'));
    expect(cve?.severity).toBe('high');
    expect(cve?.evidence).toContain('CGMiner 4.9.0 < 4.11.0');
    expect(cve?.evidence).toContain('https://osv.dev/vulnerability/CVE-2018-10058');
    const readOnly = firmwareVulnerable.evaluate(
      input({ version: l3plus, privileged: PRIVILEGED_DENIED, 'check|addpool': checkReply('Y', 'N') }),
      NO_POLICY,
    );
    expect(readOnly.find((item) => item.title.startsWith('CVE-2018-10058'))?.severity).toBe('info');
  });

  it('matches CVE-2018-11220 on an L3+ built before mid-2018, not Antbleed after 2017-04-27', () => {
    const titles = firmwareVulnerable
      .evaluate(input({ version: l3plus }), NO_POLICY)
      .map((item) => item.title);
    expect(titles.some((title) => title.startsWith('CVE-2018-11220'))).toBe(true);
    expect(titles.some((title) => title.startsWith('Antbleed'))).toBe(false);
  });

  it('matches Antbleed on an S9 built in the window, and says unknown for an unparseable CompileTime', () => {
    const early = versionReply({
      BMMiner: '2.0.0',
      API: '3.1',
      CompileTime: 'Mon Jan  9 10:00:00 CST 2017',
      Type: 'Antminer S9',
    });
    const antbleed = firmwareVulnerable
      .evaluate(input({ version: early }), NO_POLICY)
      .find((item) => item.title.startsWith('Antbleed'));
    expect(antbleed?.severity).toBe('high');
    const broken = versionReply({
      BMMiner: '2.0.0',
      API: '3.1',
      CompileTime: 'Mon Jan  9 10:00:00 CST 20266',
      Type: 'Antminer S9',
    });
    const unknown = firmwareVulnerable
      .evaluate(input({ version: broken }), NO_POLICY)
      .find((item) => item.title.startsWith('Antbleed'));
    expect(unknown?.severity).toBe('info');
    expect(unknown?.evidence).toContain('unknown');
    // No CompileTime at all is said so, not called a date that "does not parse" ("null").
    const undated = versionReply({ BMMiner: '2.0.0', API: '3.1', Type: 'Antminer S9' });
    const silent = firmwareVulnerable
      .evaluate(input({ version: undated }), NO_POLICY)
      .find((item) => item.title.startsWith('Antbleed'));
    expect(silent?.severity).toBe('info');
    expect(silent?.evidence).toContain('Antminer S9: no CompileTime reported; Antbleed status unknown');
    expect(silent?.evidence).not.toContain('null');
  });

  it('does not match upstream 4.11.1, Avalon on 4.11.1 or an S19', () => {
    expect(firmwareVulnerable.evaluate(input({ version: UPSTREAM }), NO_POLICY)).toEqual([]);
    const avalon = versionReply({ CGMiner: '4.11.1', API: '3.7', PROD: 'Avalon Q', MODEL: 'Q' });
    expect(firmwareVulnerable.evaluate(input({ version: avalon }), NO_POLICY)).toEqual([]);
    const s19 = versionReply({
      CGMiner: '4.11.1',
      API: '3.7',
      CompileTime: 'Fri Dec 11 11:15:40 CST 2020',
      Type: 'Antminer S19',
    });
    expect(firmwareVulnerable.evaluate(input({ version: s19 }), NO_POLICY)).toEqual([]);
  });

  it('matches BFGMiner <= 5.5.0 and the save path traversal on check|save', () => {
    const bfg = firmwareVulnerable.evaluate(
      input({
        version: versionReply({ BFGMiner: '5.5.0', API: '3.1' }),
        privileged: PRIVILEGED_OK,
        'check|save': checkReply('Y', 'Y'),
      }),
      NO_POLICY,
    );
    expect(bfg.map((item) => `${item.title.split(':')[0]} ${item.severity}`).sort()).toEqual([
      'CVE-2018-10057 medium',
      'CVE-2018-10058 high',
    ]);
  });

  it('a cgminer or bfgminer version that does not parse is unknown, not clean; a named one is read', () => {
    const odd = firmwareVulnerable.evaluate(
      input({ version: versionReply({ CGMiner: 'unknown', API: '3.1' }), privileged: PRIVILEGED_DENIED }),
      NO_POLICY,
    );
    expect(odd.map((item) => [item.title.split(':')[0], item.severity])).toEqual([
      ['CVE-2018-10058', 'info'],
    ]);
    expect(odd[0]?.evidence).toContain('CGMiner "unknown" does not parse as a version');
    const named = firmwareVulnerable.evaluate(
      input({ version: versionReply({ CGMiner: 'cgminer 4.9.0', API: '3.1' }), privileged: PRIVILEGED_OK }),
      NO_POLICY,
    );
    expect(named.map((item) => [item.title.split(':')[0], item.severity])).toEqual([
      ['CVE-2018-10058', 'high'],
    ]);
  });

  it('compares versions numerically and parses CompileTime', () => {
    expect(compareVersions('4.9.0', '4.10.0')).toBe(-1);
    expect(compareVersions('4.11.0', '4.11')).toBe(0);
    expect(compareVersions('5.5.1', '5.5.0')).toBe(1);
    expect(compareVersions('rwglr', '1.0')).toBeNull();
    expect(compareVersions('cgminer 4.9.0', '4.11.0')).toBe(-1);
    expect(compareVersions('bfgminer-5.5.0', '5.5.0')).toBe(0);
    expect(compareVersions('bOS_am1-s9-20181127-0_c34516b0', '4.11.0')).toBeNull();
    expect(parseCompileDate('Tue Dec  6 16:12:30 CST 2022')).toBe('2022-12-06');
    expect(parseCompileDate('Tue Apr  8 22:05:35 UTC 2025')).toBe('2025-04-08');
    expect(parseCompileDate('2019-03-01 10:00:00')).toBe('2019-03-01');
    expect(parseCompileDate('Tue Dec  6 16:12:30 CST 20266')).toBeNull();
    expect(parseCompileDate('garbage')).toBeNull();
  });

  it('identifies the firmware families the rules depend on', () => {
    const dialect = (version: Record<string, unknown>) =>
      identifyFirmware({ version: versionReply(version) }).dialect;
    expect(dialect({ CGMiner: '4.11.1', API: '3.7', Type: 'Antminer S9 (vnish 3.8.6)' })).toBe('vnish');
    expect(dialect({ BMMiner: '2.0.0 rwglr', API: '3.1', Type: 'Antminer S9 Hiveon' })).toBe('hiveon');
    expect(dialect({ API: '3.7', BOSminer: '0.2.0-d360818' })).toBe('braiins');
    expect(dialect({ API: '3.7', LUXminer: '2025.4.8', Type: 'Antminer S19k Pro' })).toBe('luxos');
    expect(dialect({ CGMiner: '4.11.1', API: '3.7', PROD: 'Avalon Q' })).toBe('avalon');
    expect(dialect({ BMMiner: '1.0.0', API: '3.1', Type: 'Antminer S19' })).toBe('antminer');
    expect(dialect({ CGMiner: '4.11.1', API: '3.7' })).toBe('cgminer');
  });

  it('reads a hostile 100 KB Type or CompileTime in linear time (a regex cannot be interrupted)', () => {
    // Blanks and brackets make the end-anchored patterns retry from every position: seconds for
    // 100 KB before, past any --timeout and deaf to Ctrl-C; the test times out on such code.
    const blanks = ' '.repeat(100_000);
    const identity = identifyFirmware({
      version: versionReply({
        BMMiner: '1.0.0',
        API: '3.1',
        Type: `Antminer S19${blanks}(${blanks}x`,
        CompileTime: `(chipless ${'1'.repeat(50_000)}${blanks}`,
      }),
    });
    expect(identity.dialect).toBe('antminer');
    expect(identity.model?.startsWith('Antminer S19')).toBe(true);
    expect(identity.model?.length).toBeLessThanOrEqual(256);
  });
});

describe('exposure rules', () => {
  it('public-address: only globally routable addresses', () => {
    expect(isPublicAddress('8.8.8.8')).toBe(true);
    expect(isPublicAddress('2001:4860::1')).toBe(true);
    expect(isPublicAddress('::ffff:8.8.8.8')).toBe(true);
    for (const address of [
      '10.1.2.3',
      '192.168.1.10',
      '172.16.0.1',
      '127.0.0.1',
      '100.64.0.1',
      '169.254.1.1',
      'fd00::1',
      '::1',
      '::ffff:10.0.0.1',
      'not-an-ip',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    const exposed = publicAddress.evaluate(
      input({ version: UPSTREAM }, { address: '203.0.114.7' }),
      NO_POLICY,
    );
    expect(exposed.map((item) => item.severity)).toEqual(['high']);
    expect(exposed[0]?.evidence).toContain('203.0.114.7');
    expect(publicAddress.evaluate(input({ version: UPSTREAM }), NO_POLICY)).toEqual([]);
  });

  it('service-exposed: telnet high, ssh medium, http low; closed ports and no --services give nothing', () => {
    const services = [
      { port: 23, service: 'telnet', open: true },
      { port: 22, service: 'ssh', open: true },
      { port: 80, service: 'http', open: true },
      { port: 50051, service: 'braiins-grpc', open: false },
    ];
    const findings = serviceExposed.evaluate(input({ version: UPSTREAM }, { services }), NO_POLICY);
    expect(findings.map((item) => `${item.title}:${item.severity}`)).toEqual([
      'telnet open on TCP 23:high',
      'ssh open on TCP 22:medium',
      'http open on TCP 80:low',
    ]);
    expect(serviceExposed.evaluate(input({ version: UPSTREAM }), NO_POLICY)).toEqual([]);
  });

  it('Goldshell with SSH open is critical (CVE-2022-24657)', () => {
    const goldshell = {
      version: reply(
        status('S', 22, 'BFGMiner versions', {
          VERSION: [{ BFGMiner: '5.5.0', API: '3.1' }],
          DEVDETAILS: [],
        }),
      ),
      devdetails: reply(status('S', 69, 'Device Details', { DEVDETAILS: [{ Driver: 'INTCHAINS_QOMO' }] })),
    };
    const findings = firmwareVulnerable.evaluate(
      input(goldshell, { services: [{ port: 22, service: 'ssh', open: true }] }),
      NO_POLICY,
    );
    expect(findings.find((item) => item.title.startsWith('CVE-2022-24657'))?.severity).toBe('critical');
  });
});

describe('default-credentials and thermal-protection', () => {
  it('reports accepted default credentials only', () => {
    const credentials = [
      {
        surface: 'Antminer web UI',
        username: 'root',
        password: 'root',
        endpoint: 'GET http://x/cgi-bin/get_system_info.cgi',
        outcome: 'accepted' as const,
        detail: 'HTTP 200',
      },
      {
        surface: 'Other',
        username: 'a',
        password: 'b',
        endpoint: 'GET http://x/',
        outcome: 'rejected' as const,
        detail: 'HTTP 401',
      },
    ];
    const findings = defaultCredentials.evaluate(input({ version: UPSTREAM }, { credentials }), NO_POLICY);
    expect(findings.map((item) => item.severity)).toEqual(['high']);
    expect(findings[0]?.evidence).toContain('root / root accepted');
  });

  it('reports a LuxOS Dangerous limit above the vendor maximum from the thermal posture', () => {
    const reads = {
      version: versionReply({
        API: '3.7',
        LUXminer: '2025.4.8.220305',
        CompileTime: 'Tue Apr  8 22:05:35 UTC 2025',
        Type: 'Antminer S19k Pro',
      }),
      tempctrl: reply(
        status('S', 200, 'TempCtrl', { TEMPCTRL: [{ Mode: 'Auto', Target: 55, Hot: 70, Dangerous: 90 }] }),
      ),
    };
    const findings = thermalProtection.evaluate(
      input(reads, { snapshot: snapshotFromReads(reads) }),
      NO_POLICY,
    );
    const above = findings.find((item) => item.evidence.startsWith('limit-above-vendor-max'));
    expect(above).toBeDefined();
    expect(severityRank(above?.severity ?? 'info')).toBeGreaterThanOrEqual(severityRank('high'));
    expect(thermalProtection.evaluate(input(reads), NO_POLICY)).toEqual([]);
  });
});

describe('all rules together', () => {
  it('a read-only upstream miner yields rpc-readable and nothing at high or above', () => {
    const reads = {
      version: UPSTREAM,
      pools: poolsReply([{ URL: 'stratum+tcp://pool.example.com:3333', User: 'farm.w1' }]),
      privileged: PRIVILEGED_DENIED,
      'check|addpool': checkReply('Y', 'N'),
      'check|save': checkReply('Y', 'N'),
    };
    const findings = evaluateRules(input(reads, { snapshot: snapshotFromReads(reads) }), NO_POLICY);
    expect(ids(findings)).toContain('rpc-readable');
    expect(ids(findings)).not.toContain('rpc-write-access');
    expect(findings.filter((item) => severityRank(item.severity) >= severityRank('high'))).toEqual([]);
  });
});
