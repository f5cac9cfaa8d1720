// fetchSnapshot against real TCP servers on 127.0.0.1 that answer with the sample bytes.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient } from '../../src/cgminer/client.js';
import { MinerError } from '../../src/errors.js';
import {
  createDialectCache,
  dialectHint,
  dialectStatics,
  fetchSnapshot,
  seedDialect,
} from '../../src/miners/fetch.js';
import { startFarm } from '../../src/sim/index.js';
import { SAMPLES_DIR } from '../fixtures/miners/samples.js';
import { closedPort, type FakeMiner, startFakeMiner } from '../support/fake-miner.js';

const sample = (file: string) => readFileSync(`${SAMPLES_DIR}${file}`, 'utf8');
const toTarget = (key: string) => {
  const at = key.lastIndexOf(':');
  return { host: key.slice(0, at), port: Number(key.slice(at + 1)), key };
};
const client = () => createClient({ timeoutMs: 3000, maxBytes: 1 << 20, retries: 0 });
const invalid = (msg: string) =>
  JSON.stringify({ STATUS: [{ STATUS: 'E', When: 1, Code: 14, Msg: msg }], id: 1 });

function requestedCommand(request: string): string {
  const parsed = JSON.parse(request) as { command?: string; cmd?: string };
  return parsed.command ?? `cmd:${parsed.cmd}`;
}

let miners: FakeMiner[] = [];
afterEach(async () => {
  await Promise.all(miners.map((m) => m.close()));
  miners = [];
});

/**
 * A miner on 127.0.0.1 that answers each command with `answer(command)` and, while `joins()` says
 * so, `a+b` joins cgminer-style (each member keyed, failures as their own E entry); otherwise it
 * refuses the join as an invalid command, as stock Antminer firmware does.
 */
async function startJoiningMiner(
  answer: (command: string) => string,
  joins: () => boolean = () => true,
): Promise<FakeMiner> {
  const miner = await startFakeMiner((request) => {
    const command = requestedCommand(request);
    if (!command.includes('+')) return { kind: 'reply', bytes: answer(command) };
    if (!joins()) return { kind: 'reply', bytes: invalid('Invalid command') };
    const members = command.split('+').map((name) => `"${name}":[${answer(name)}]`);
    return { kind: 'reply', bytes: `{${members.join(',')},"id":1}` };
  });
  miners.push(miner);
  return miner;
}

describe('fetchSnapshot', () => {
  it('reads a stock S19 Pro that refuses multi-commands, then asks only its plan', async () => {
    const files: Record<string, string> = {
      version: 'antminer-s19pro_2022-12__version.json',
      summary: 'antminer-s19pro_2022-12__summary.json',
      stats: 'antminer-s19pro_2022-12__stats.json',
      pools: 'antminer-s19pro_2022-12__pools.json',
      devs: 'antminer-s19pro_2022-12__devs.json',
    };
    const miner = await startFakeMiner((request) => {
      const command = requestedCommand(request);
      const file = files[command];
      // like cgminer 3.7.2 (minera #125): a join is one unknown command
      return { kind: 'reply', bytes: file ? sample(file) : invalid('Invalid command') };
    });
    miners.push(miner);
    const cache = createDialectCache();
    const shared = client();

    const first = await fetchSnapshot(shared, miner.target, { cache });
    expect([first.snapshot.make, first.snapshot.model]).toEqual(['Antminer', 'S19 Pro']);
    expect(first.snapshot.hashrate.current_hs).toBe(110566890000000);
    expect(first.snapshot.pools.find((p) => p.active)?.url).toBe('stratum+tcp://btc.global.luxor.tech:700');
    expect(miner.connections).toBe(6); // the refused join, then the five commands alone
    expect(cache.get(miner.target.key)?.family).toBe('antminer');

    const before = miner.connections;
    const second = await fetchSnapshot(shared, miner.target, { cache });
    expect(second.snapshot.model).toBe('S19 Pro');
    // the client remembers the refusal; the plan drops devs
    expect(miner.requests.slice(before).map(requestedCommand).sort()).toEqual([
      'pools',
      'stats',
      'summary',
      'version',
    ]);
  });

  it('identifies a Whatsminer by its invalid cmd, asks natives with "cmd", and reuses get_version', async () => {
    const single: Record<string, string> = {
      summary: sample('whatsminer_fw-20210322_api-v1.4__summary.json'),
      pools: sample('whatsminer_fw-20210322_api-v1.4__pools.json'),
      devs: sample('whatsminer_fw-20210322_api-v1.4__devs.json'),
      edevs: sample('whatsminer_fw-20210322_api-v1.4__devs.json'),
      devdetails: JSON.stringify({
        STATUS: [{ STATUS: 'S', Code: 69, Msg: 'Device Details' }],
        DEVDETAILS: [{ DEVDETAILS: 0, Model: 'M30S+_VE40' }],
        id: 1,
      }),
      'cmd:get_version': sample('whatsminer_fw-20210322_api-v1.4__get_version.json'),
      'cmd:status': sample('whatsminer_fw-20220919_api-v1.4__status.json'),
    };
    const answer = (command: string) => single[command] ?? invalid('invalid cmd');
    // btminer joins cgminer-style commands: each member keyed, failures as their own E entry
    const miner = await startJoiningMiner(answer);
    const cache = createDialectCache();
    const shared = client();

    const first = await fetchSnapshot(shared, miner.target, { cache });
    expect([first.snapshot.make, first.snapshot.model, first.snapshot.firmware.version]).toEqual([
      'Whatsminer',
      'M30S+ VE40',
      '20210322.22.REL',
    ]);
    expect(first.snapshot.state).toBe('mining');
    // version and stats answer `invalid cmd` on every btminer: expected, not a warning
    expect(first.snapshot.errors).toEqual([]);
    expect(miner.requests.some((r) => r === '{"cmd":"get_version"}')).toBe(true);

    const before = miner.connections;
    const second = await fetchSnapshot(shared, miner.target, { cache });
    expect(second.snapshot.firmware.version).toBe('20210322.22.REL');
    expect(second.snapshot.hashrate.current_hs).toBe(67394800970000);
    const asked = miner.requests.slice(before).map(requestedCommand);
    expect(asked).toEqual(['summary+pools+edevs+devdetails', 'cmd:status']); // two round trips, no get_version
  });

  it('reads the boards of a btminer that answers devs but not edevs on every poll, not only the first', async () => {
    // The M20S capture (btminer 2020-09): summary, devs and pools; `edevs` is E/14 here.
    const files = 'whatsminer-m20s_2020-09__';
    const single: Record<string, string> = {
      summary: sample(`${files}summary.txt`),
      devs: sample(`${files}devs.json`),
      pools: sample(`${files}pools.json`),
    };
    const answer = (command: string) => single[command] ?? invalid('invalid cmd');
    const miner = await startJoiningMiner(answer);
    const cache = createDialectCache();
    const shared = client();
    // Three boards of 111 chips (Effective Chips), in the first poll and every later one, in this
    // process and in a cron run seeded from the stored hint.
    const boardsOf = (snapshot: { boards: { index: number; chips: number | null }[] }) =>
      snapshot.boards.map((b) => [b.index, b.chips]);
    const three = [
      [0, 111],
      [1, 111],
      [2, 111],
    ];
    const first = await fetchSnapshot(shared, miner.target, { cache });
    expect(first.snapshot.make).toBe('Whatsminer');
    expect(boardsOf(first.snapshot)).toEqual(three);
    const before = miner.requests.length;
    const second = await fetchSnapshot(shared, miner.target, { cache });
    expect(boardsOf(second.snapshot)).toEqual(three);
    // Asked what answers (one request), and no warning about a read it does not have.
    expect(miner.requests.slice(before).map(requestedCommand)[0]).toBe('summary+pools+devs+devdetails');
    expect(second.snapshot.errors.filter((e) => /edevs/.test(e.message))).toEqual([]);
    // The stand-in is in the stored hint: a cron run asks devs in the one request, not edevs and
    // then devs (a request more per poll, every poll).
    const hint = dialectHint(cache.get(miner.target.key)) as string;
    expect(hint).toMatch(/ edevs=devs$/);
    const cron = createDialectCache();
    expect(seedDialect(cron, miner.target.key, hint)).toBe(true);
    const cronBefore = miner.requests.length;
    const seeded = await fetchSnapshot(client(), miner.target, { cache: cron });
    expect(boardsOf(seeded.snapshot)).toEqual(three);
    expect(seeded.snapshot.errors.filter((e) => /edevs/.test(e.message))).toEqual([]);
    const cronAsked = miner.requests.slice(cronBefore).map(requestedCommand);
    expect(cronAsked[0]).toBe('summary+pools+devs+devdetails');
    expect(cronAsked.filter((command) => /edevs|^devs$/.test(command))).toEqual([]);
    expect(dialectHint(cron.get(miner.target.key))).toBe(hint);
  });

  it('reads a stand-in from a stored hint only where the plan has that read and that stand-in', () => {
    const cache = createDialectCache();
    expect(seedDialect(cache, 'a:1', 'whatsminer edevs=devs')).toBe(true);
    expect(cache.get('a:1')?.commands).toContain('devs');
    expect(cache.get('a:1')?.commands).not.toContain('edevs');
    expect(seedDialect(cache, 'b:1', 'whatsminer singles 1700000000 edevs=devs')).toBe(true);
    expect(cache.get('b:1')).toMatchObject({ singles: true, bootedAt: 1_700_000_000_000 });
    expect(dialectHint(cache.get('b:1'))).toBe('whatsminer singles 1700000000 edevs=devs');
    for (const bad of [
      'whatsminer edevs=stats',
      'whatsminer summary=devs',
      'whatsminer edevs=devs=x',
      'whatsminer 12',
      'whatsminer singles x',
    ])
      expect(seedDialect(cache, 'c:1', bad), bad).toBe(false);
  });

  it('does not let a stored get_version speak for another machine swapped in at the address', async () => {
    // The simulator's Whatsminer, then its Antminer L3+ (scrypt) on the same port.
    const whatsminer = await startFarm({ profile: 'whatsminer', count: 1, host: '127.0.0.1', basePort: 0 });
    const target = toTarget(whatsminer.inventory()[0] as string);
    const cache = createDialectCache();
    const shared = client();
    try {
      expect((await fetchSnapshot(shared, target, { cache })).snapshot.make).toBe('Whatsminer');
    } finally {
      await whatsminer.stop();
    }
    const l3plus = await startFarm({
      profile: 'antminer-l3plus',
      count: 1,
      host: '127.0.0.1',
      basePort: target.port,
    });
    try {
      const after = await fetchSnapshot(shared, target, { cache });
      expect([after.snapshot.make, after.snapshot.model, after.snapshot.algorithm]).toEqual([
        'Antminer',
        'L3+',
        'scrypt',
      ]);
      expect(cache.get(target.key)?.family).toBe('antminer');
    } finally {
      await l3plus.stop();
    }
  });

  it('tries joins again after a flash from a firmware that refused them to one that joins', async () => {
    let luxos = false;
    const file = (command: string) => {
      const prefix = luxos ? 'luxos-s19kpro_2025.4.8' : 'antminer-s19pro_2022-12';
      try {
        return sample(`${prefix}__${command}.json`);
      } catch {
        return invalid('Invalid command');
      }
    };
    const miner = await startJoiningMiner(file, () => luxos); // stock S19: no joins
    const cache = createDialectCache();
    const shared = client(); // one client across polls: it remembers the stock firmware's refusal
    await fetchSnapshot(shared, miner.target, { cache });
    expect(dialectHint(cache.get(miner.target.key))).toMatch(/^antminer singles \d+$/);
    luxos = true;
    const flashed = await fetchSnapshot(shared, miner.target, { cache });
    expect(flashed.snapshot.firmware.name).toBe('LuxOS');
    expect(dialectHint(cache.get(miner.target.key))).toBe('luxos');
    const before = miner.requests.length;
    await fetchSnapshot(shared, miner.target, { cache });
    expect(miner.requests.slice(before).map(requestedCommand)).toEqual([
      'version+summary+stats+pools+devs+config+temps+fans+power+tempctrl',
    ]);
  });

  it('learns that a known miner stopped joining, and asks it one command per request from then on', async () => {
    let joins = true;
    const file = (command: string) => {
      try {
        return sample(`antminer-s19pro_2022-12__${command}.json`);
      } catch {
        return invalid('Invalid command');
      }
    };
    const miner = await startJoiningMiner(file, () => joins);
    const key = miner.target.key;
    const learned = createDialectCache();
    const first = await fetchSnapshot(client(), miner.target, { cache: learned });
    const hint = dialectHint(learned.get(key));
    expect(hint).toBe('antminer');

    // The same family, but no joins any more (a downgrade, say): a cron run seeded with the old hint.
    joins = false;
    const cache = createDialectCache();
    seedDialect(cache, key, hint!, null);
    const refused = await fetchSnapshot(client(), miner.target, { cache });
    expect(refused.snapshot.model).toBe(first.snapshot.model);
    expect(refused.snapshot.hashrate.current_hs).toBe(first.snapshot.hashrate.current_hs);
    expect(dialectHint(cache.get(key))).toMatch(/^antminer singles \d+$/);

    // The next run asks each command alone, without a refused join first.
    const next = createDialectCache();
    seedDialect(next, key, dialectHint(cache.get(key))!, null);
    const before = miner.requests.length;
    await fetchSnapshot(client(), miner.target, { cache: next });
    const asked = miner.requests.slice(before).map(requestedCommand);
    expect(asked.length).toBeGreaterThan(1);
    expect(asked.some((command) => command.includes('+'))).toBe(false);
  });

  it('does not take a miner that was restarting at first contact for one that refuses joins', async () => {
    let up = false;
    const file = (command: string) => {
      try {
        return sample(`antminer-s19pro_2022-12__${command}.json`);
      } catch {
        return invalid('Invalid command');
      }
    };
    // While restarting it closes every connection unanswered; then it joins like any cgminer.
    const miner = await startFakeMiner((request) => {
      if (!up) return { kind: 'close' };
      const command = requestedCommand(request);
      if (!command.includes('+')) return { kind: 'reply', bytes: file(command) };
      const members = command.split('+').map((name) => `"${name}":[${file(name)}]`);
      return { kind: 'reply', bytes: `{${members.join(',')},"id":1}` };
    });
    miners.push(miner);
    const cache = createDialectCache();
    const shared = client(); // one client across polls, as `collect --interval` has
    const down = await fetchSnapshot(shared, miner.target, { cache }).catch((e: unknown) => e);
    expect((down as MinerError).kind).toBe('empty_reply');
    // The join, then one member alone: not every member in turn.
    expect(miner.connections).toBe(2);

    up = true;
    const before = miner.requests.length;
    await fetchSnapshot(shared, miner.target, { cache });
    expect(miner.requests.slice(before).map(requestedCommand)).toHaveLength(1);
    expect(dialectHint(cache.get(miner.target.key))).toBe('antminer');
  });

  it('seeds from well-formed hints only: family, then optionally singles and its boot time', () => {
    const cache = createDialectCache();
    const seeded = (hint: string) => seedDialect(cache, '127.0.0.1:4028', hint, null, 1_800_000_000_000);
    expect(seeded('antminer')).toBe(true);
    expect(seeded('antminer singles')).toBe(true); // stored by an earlier hashctl
    expect(seeded('antminer singles 1799996400')).toBe(true);
    expect(cache.get('127.0.0.1:4028')).toMatchObject({ singles: true, bootedAt: 1_799_996_400_000 });
    for (const bad of [
      '',
      'nokia',
      'antminer joins',
      'antminer singles soon',
      'antminer singles 1 2',
      'antminer 17',
    ])
      expect(seeded(bad)).toBe(false);
  });

  it('offers a join again to a miner that refused them, once it has rebooted (in a new process too)', async () => {
    let joins = false;
    let clock = 1_800_000_000_000;
    let bootedAt = clock - 3_600_000;
    const now = () => clock;
    const file = (command: string) => {
      let text: string;
      try {
        text = sample(`antminer-s19pro_2022-12__${command}.json`);
      } catch {
        return invalid('Invalid command');
      }
      // The miner's uptime follows the test's clock, as a running miner's would.
      const elapsed = Math.round((clock - bootedAt) / 1000);
      return command === 'summary' ? text.replace(/"Elapsed":\s*\d+/, `"Elapsed":${elapsed}`) : text;
    };
    const miner = await startJoiningMiner(file, () => joins);
    const key = miner.target.key;
    /** A cron run: a new process seeded with the stored hint. */
    const run = async (stored: string) => {
      const cache = createDialectCache();
      expect(seedDialect(cache, key, stored, null, clock)).toBe(true);
      const before = miner.requests.length;
      await fetchSnapshot(client(), miner.target, { cache, now });
      return {
        hint: dialectHint(cache.get(key))!,
        asked: miner.requests.slice(before).map(requestedCommand),
      };
    };

    const first = createDialectCache();
    await fetchSnapshot(client(), miner.target, { cache: first, now });
    const learned = dialectHint(first.get(key))!;
    expect(learned).toBe(`antminer singles ${Math.round(bootedAt / 1000)}`);

    // Ten minutes later, the same boot: one command per request, no join tried, the hint unchanged.
    clock += 10 * 60_000;
    const same = await run(learned);
    expect(same.hint).toBe(learned);
    expect(same.asked.length).toBeGreaterThan(1);
    expect(same.asked.some((command) => command.includes('+'))).toBe(false);

    // Updated and rebooted: the run that sees the new boot time offers a join to the next one.
    bootedAt = clock;
    clock += 5 * 60_000;
    joins = true;
    const rebooted = await run(same.hint);
    expect(rebooted.hint).toBe('antminer');
    const joined = await run(rebooted.hint);
    expect(joined.asked).toHaveLength(1);
    expect(joined.asked[0]).toContain('+');
    expect(joined.hint).toBe('antminer');

    // Had the new firmware refused too, that one run would have learned it again.
    joins = false;
    const refused = await run('antminer');
    expect(refused.hint).toBe(`antminer singles ${Math.round(bootedAt / 1000)}`);

    // The same in one long-running process (collect --interval): its client remembers the refusal
    // from before the reboot, and that must not keep the miner on singles.
    const shared = client();
    const cache = createDialectCache();
    await fetchSnapshot(shared, miner.target, { cache, now });
    expect(dialectHint(cache.get(key))).toBe(`antminer singles ${Math.round(bootedAt / 1000)}`);
    clock += 60_000;
    await fetchSnapshot(shared, miner.target, { cache, now });
    expect(dialectHint(cache.get(key))).toBe(`antminer singles ${Math.round(bootedAt / 1000)}`);
    bootedAt = clock;
    clock += 5 * 60_000;
    joins = true;
    await fetchSnapshot(shared, miner.target, { cache, now });
    expect(dialectHint(cache.get(key))).toBe('antminer');
    const before = miner.requests.length;
    await fetchSnapshot(shared, miner.target, { cache, now });
    const asked = miner.requests.slice(before).map(requestedCommand);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain('+');
    expect(dialectHint(cache.get(key))).toBe('antminer');
  });

  it('keeps no statics, and so nothing new to store, for a Whatsminer that refuses get_version', async () => {
    const single: Record<string, string> = {
      summary: sample('whatsminer_fw-20210322_api-v1.4__summary.json'),
      pools: sample('whatsminer_fw-20210322_api-v1.4__pools.json'),
      edevs: sample('whatsminer_fw-20210322_api-v1.4__devs.json'),
      'cmd:status': sample('whatsminer_fw-20220919_api-v1.4__status.json'),
    };
    const miner = await startJoiningMiner((command) => single[command] ?? invalid('invalid cmd'));
    const cache = createDialectCache();
    const shared = client();
    for (let poll = 0; poll < 3; poll++) {
      const { snapshot } = await fetchSnapshot(shared, miner.target, { cache });
      expect(snapshot.make).toBe('Whatsminer');
      expect(dialectHint(cache.get(miner.target.key))).toBe('whatsminer');
      // What collect's hook compares: unchanged from poll to poll, so the row is written once.
      expect(cache.get(miner.target.key)?.staticsAt).toBeNull();
      expect(dialectStatics(cache.get(miner.target.key))).toBeNull();
    }
  });

  it('reuses stored static replies in a new process, unless they are old or the miner rebooted', async () => {
    const single: Record<string, string> = {
      summary: sample('whatsminer_fw-20210322_api-v1.4__summary.json'),
      pools: sample('whatsminer_fw-20210322_api-v1.4__pools.json'),
      edevs: sample('whatsminer_fw-20210322_api-v1.4__devs.json'),
      devdetails: JSON.stringify({
        STATUS: [{ STATUS: 'S', Code: 69, Msg: 'Device Details' }],
        DEVDETAILS: [{ DEVDETAILS: 0, Model: 'M30S+_VE40' }],
        id: 1,
      }),
      'cmd:get_version': sample('whatsminer_fw-20210322_api-v1.4__get_version.json'),
      'cmd:status': sample('whatsminer_fw-20220919_api-v1.4__status.json'),
    };
    let clock = 1_800_000_000_000;
    const now = () => clock;
    const bootedAt = clock - 3_600_000;
    // The miner's uptime follows the test's clock, as a running miner's would.
    const answer = (command: string) =>
      command === 'summary'
        ? single.summary!.replace(/"Elapsed":\d+/, `"Elapsed":${Math.round((clock - bootedAt) / 1000)}`)
        : (single[command] ?? invalid('invalid cmd'));
    const miner = await startJoiningMiner(answer);
    const key = miner.target.key;

    // The first run learns the dialect and asks get_version.
    const first = createDialectCache();
    await fetchSnapshot(client(), miner.target, { cache: first, now });
    const hint = dialectHint(first.get(key));
    const statics = dialectStatics(first.get(key));
    expect(hint).toBe('whatsminer');
    expect(JSON.parse(statics!).replies.get_version.body.Msg.fw_ver).toBe('20210322.22.REL');

    // A new process ten minutes later, seeded from the store: two requests, no get_version.
    const asked = async (at: number, stored: string | null) => {
      clock = at;
      const cache = createDialectCache();
      seedDialect(cache, key, hint!, stored, clock);
      const before = miner.requests.length;
      const { snapshot } = await fetchSnapshot(client(), miner.target, { cache, now });
      expect(snapshot.firmware.version).toBe('20210322.22.REL');
      return miner.requests.slice(before).map(requestedCommand);
    };
    const start = clock;
    expect(await asked(start + 10 * 60_000, statics)).toEqual([
      'summary+pools+edevs+devdetails',
      'cmd:status',
    ]);
    // Asked again: statics older than an hour, damaged ones, and after a reboot (the same uptime read
    // later means the miner booted later than the statics say).
    expect(await asked(start + 61 * 60_000, statics)).toContain('cmd:get_version');
    expect(await asked(start + 60_000, '{"at":')).toContain('cmd:get_version');
    const rebooted = JSON.stringify({
      ...JSON.parse(statics!),
      booted_at: JSON.parse(statics!).booted_at - 3_600_000,
    });
    expect(await asked(start + 60_000, rebooted)).toContain('cmd:get_version');
  });

  it('throws the reason a miner is down', async () => {
    const port = await closedPort();
    const target = { host: '127.0.0.1', port, key: `127.0.0.1:${port}` };
    const error = await fetchSnapshot(client(), target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MinerError);
    expect((error as MinerError).kind).toBe('refused');

    const closing = await startFakeMiner({ kind: 'close' });
    miners.push(closing);
    const empty = await fetchSnapshot(client(), closing.target).catch((e: unknown) => e);
    expect((empty as MinerError).kind).toBe('empty_reply');
  });

  it('stops asking a miner that stopped answering after its version, and fails the poll', async () => {
    const miner = await startFakeMiner((request) => {
      const command = requestedCommand(request);
      if (command.includes('+')) return { kind: 'reply', bytes: invalid('Invalid command') };
      if (command === 'version')
        return { kind: 'reply', bytes: sample('antminer-s19pro_2022-12__version.json') };
      return { kind: 'silent' };
    });
    miners.push(miner);
    const slow = createClient({
      timeoutMs: 200,
      maxBytes: 1 << 20,
      retries: 1,
      sleep: async () => undefined,
    });
    const error = await fetchSnapshot(slow, miner.target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MinerError);
    expect((error as MinerError).kind).toBe('timeout');
    // The join, version, then summary twice (one retry): not stats, pools and devs after it.
    expect(miner.requests.map(requestedCommand).filter((c) => !c.includes('+'))).toEqual([
      'version',
      'summary',
      'summary',
    ]);
  });

  it('fails a miner that answers E to everything at first contact, as at every later poll', async () => {
    for (const [code, msg, kind] of [
      [45, 'Access denied', 'denied'],
      [14, 'Invalid command', 'api'],
    ] as const) {
      const refusing = await startJoiningMiner(() =>
        JSON.stringify({ STATUS: [{ STATUS: 'E', When: 1, Code: code, Msg: msg }], id: 1 }),
      );
      const cache = createDialectCache();
      for (let poll = 0; poll < 2; poll++) {
        const error = await fetchSnapshot(client(), refusing.target, { cache }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(MinerError);
        expect((error as MinerError).kind).toBe(kind);
      }
    }
  });

  it('fails a miner that names itself but refuses every telemetry read (api-allow of version only)', async () => {
    for (const [code, msg, kind] of [
      [45, 'Access denied', 'denied'],
      [14, 'Invalid command', 'api'],
    ] as const) {
      const refusal = JSON.stringify({ STATUS: [{ STATUS: 'E', When: 1, Code: code, Msg: msg }], id: 1 });
      // Joined or alone, only `version` is answered.
      for (const joins of [true, false]) {
        const miner = await startJoiningMiner(
          (command) => (command === 'version' ? sample('antminer-s19pro_2022-12__version.json') : refusal),
          () => joins,
        );
        const cache = createDialectCache();
        for (let poll = 0; poll < 2; poll++) {
          const error = await fetchSnapshot(client(), miner.target, { cache }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(MinerError);
          expect((error as MinerError).kind).toBe(kind);
        }
      }
    }
  });

  it('fails a peer that answers every read with a bare STATUS S and no data: not an online miner', async () => {
    const bare = JSON.stringify({
      STATUS: [{ STATUS: 'S', When: 1, Code: 11, Msg: 'Summary', Description: 'cgminer 4.11.1' }],
      id: 1,
    });
    for (const joins of [true, false]) {
      const miner = await startJoiningMiner(
        () => bare,
        () => joins,
      );
      const error = await fetchSnapshot(client(), miner.target, { cache: createDialectCache() }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MinerError);
      expect((error as MinerError).kind).toBe('protocol');
      expect((error as MinerError).message).toMatch(/answered '\w+' with a status and no data/);
    }
  });

  it('fails a peer that answers every read with its own section empty: no figure, not an online miner', async () => {
    const empty = (command: string) =>
      JSON.stringify({
        STATUS: [{ STATUS: 'S', When: 1, Code: 11, Msg: 'ok', Description: 'cgminer 4.11.1' }],
        [command === 'stats' ? 'STATS' : command.toUpperCase()]: command === 'summary' ? [{}] : [],
        id: 1,
      });
    for (const joins of [true, false]) {
      const miner = await startJoiningMiner(empty, () => joins);
      const error = await fetchSnapshot(client(), miner.target, { cache: createDialectCache() }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MinerError);
      expect((error as MinerError).kind).toBe('protocol');
      expect((error as MinerError).message).toMatch(/every read with an empty reply/);
    }
  });

  it("fails a miner whose API answers every read with another command's reply (POOLS to all)", async () => {
    const pools = sample('antminer-s19pro_2022-12__pools.json');
    for (const joins of [true, false]) {
      const miner = await startJoiningMiner(
        () => pools.replace(/\0$/, ''),
        () => joins,
      );
      const cache = createDialectCache();
      for (let poll = 0; poll < 2; poll++) {
        const error = await fetchSnapshot(client(), miner.target, { cache }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(MinerError);
        expect((error as MinerError).kind).toBe('protocol');
        expect((error as MinerError).message).toMatch(/answered POOLS to '(summary|stats|version)'/);
      }
    }
    // A miner answering its pools as POOLS and the rest as they should is read as before.
    const right = await startJoiningMiner((command) =>
      command === 'pools'
        ? pools.replace(/\0$/, '')
        : command === 'version'
          ? sample('antminer-s19pro_2022-12__version.json').replace(/\0$/, '')
          : command === 'summary'
            ? sample('antminer-s19pro_2022-12__summary.json').replace(/\0$/, '')
            : command === 'stats'
              ? sample('antminer-s19pro_2022-12__stats.json').replace(/\0$/, '')
              : invalid('Invalid command'),
    );
    const { snapshot } = await fetchSnapshot(client(), right.target, {});
    expect([snapshot.make, snapshot.pools.length > 0, (snapshot.hashrate.current_hs ?? 0) > 0]).toEqual([
      'Antminer',
      true,
      true,
    ]);
  });

  it('starts over with first contact when the firmware changed under the cache', async () => {
    let luxos = false;
    const miner = await startFakeMiner((request) => {
      const command = requestedCommand(request);
      if (command.includes('+')) return { kind: 'reply', bytes: invalid('Invalid command') };
      const prefix = luxos ? 'luxos-s19kpro_2025.4.8' : 'antminer-s19pro_2022-12';
      try {
        return { kind: 'reply', bytes: sample(`${prefix}__${command}.json`) };
      } catch {
        return { kind: 'reply', bytes: invalid('Invalid command') };
      }
    });
    miners.push(miner);
    const cache = createDialectCache();
    const shared = client();
    expect((await fetchSnapshot(shared, miner.target, { cache })).snapshot.firmware.name).toBe('bmminer');
    luxos = true;
    const flashed = await fetchSnapshot(shared, miner.target, { cache });
    // the Antminer plan's replies say LuxOS: first contact again in the same poll, so power is read
    expect(flashed.snapshot.firmware.name).toBe('LuxOS');
    expect(flashed.snapshot.power_w).toBe(1051);
    expect(cache.get(miner.target.key)?.family).toBe('luxos');
    const third = await fetchSnapshot(shared, miner.target, { cache });
    expect(third.snapshot.power_w).toBe(1051);
  });
  it('keeps a singles hint a cron run can read when the uptime is a sentinel (Elapsed 4294967295)', async () => {
    // An unsigned -1 read as 136 years of uptime put the boot time before 1970: the hint said
    // `antminer singles -2494967295`, which no run could seed from (first contact every cron run).
    const file = (command: string) => {
      let text: string;
      try {
        text = sample(`antminer-s19pro_2022-12__${command}.json`);
      } catch {
        return invalid('Invalid command');
      }
      return command === 'summary' ? text.replace(/"Elapsed":\s*\d+/, '"Elapsed":4294967295') : text;
    };
    const miner = await startJoiningMiner(file, () => false);
    const cache = createDialectCache();
    const now = () => 1_800_000_000_000;
    await fetchSnapshot(client(), miner.target, { cache, now });
    const hint = dialectHint(cache.get(miner.target.key))!;
    expect(hint).toMatch(/^antminer singles\b/);
    expect(seedDialect(createDialectCache(), miner.target.key, hint, null, now())).toBe(true);
  });
});
