import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Farm, parseAddresses, parseFaults, startFarm } from '../../src/sim/index.js';
import { exchange, repair, statusOf } from './support.js';

let farm: Farm | null = null;
afterEach(async () => {
  await farm?.stop();
  farm = null;
});

describe('faults', () => {
  it('timeout: the request gets no reply within the client deadline', async () => {
    farm = await startFarm({ profile: 'antminer-s9', count: 1, basePort: 0, faults: 'timeout=100%' });
    const reply = await exchange(farm.miners[0]!.port, '{"command":"summary"}', '127.0.0.1', 300);
    expect(reply).toMatchObject({ end: 'deadline' });
    expect(reply.bytes.length).toBe(0);
  });

  it('hang: the miner accepts and never answers', async () => {
    farm = await startFarm({ profile: 'whatsminer', count: 1, basePort: 0 });
    await farm.miners[0]!.setFaults({ hang: true });
    const reply = await exchange(farm.miners[0]!.port, '{"command":"summary"}', '127.0.0.1', 300);
    expect(reply.end).toBe('deadline');
    expect(reply.bytes.length).toBe(0);
  });

  it('empty: the connection closes with zero bytes, like an api-allow rejection', async () => {
    farm = await startFarm({ profile: 'luxos', count: 1, basePort: 0, faults: parseFaults('empty=100%') });
    const reply = await exchange(farm.miners[0]!.port, '{"command":"summary"}');
    expect(reply.end).toBe('closed');
    expect(reply.bytes.length).toBe(0);
  });

  it('refused: the port refuses connections, and opens again when the fault is lifted', async () => {
    farm = await startFarm({
      profile: 'avalon',
      count: 4,
      basePort: 0,
      faults: 'refused=100%',
      faultShare: 1,
    });
    const miner = farm.miners[0]!;
    expect(farm.inventory()).toHaveLength(4);
    expect((await exchange(miner.port, '{"command":"version"}')).end).toBe('refused');
    await miner.setFaults({ refused: false });
    expect((await exchange(miner.port, '{"command":"version"}')).end).toBe('closed');
  });

  it('malformed: replies break the way §12 describes and a repairing reader gets the data back', async () => {
    farm = await startFarm({ profile: 'antminer-s19', count: 1, basePort: 0, faults: 'malformed=100%' });
    const port = farm.miners[0]!.port;
    let broken = 0;
    for (let i = 0; i < 12; i++) {
      const reply = await exchange(port, '{"command":"pools"}');
      const text = reply.bytes.toString('utf8').replace(/\0$/, '');
      let strict = true;
      try {
        JSON.parse(text);
      } catch {
        strict = false;
      }
      if (!strict) broken++;
      expect(statusOf(repair(reply.bytes))).toMatchObject({ STATUS: 'S', Code: 7 });
    }
    expect(broken).toBe(12);
  });

  it('latency delays the reply but still delivers it', async () => {
    farm = await startFarm({ profile: 'cgminer', count: 1, basePort: 0, faults: 'latency=50ms,jitter=10ms' });
    for (const halfClose of [false, true]) {
      const reply = await exchange(
        farm.miners[0]!.port,
        '{"command":"version"}',
        '127.0.0.1',
        3000,
        halfClose,
      );
      expect(reply.end).toBe('closed');
      expect(reply.bytes.toString()).toContain('"CGMiner":"4.11.1"');
    }
  });

  // The 10 s idle close was armed while the reply waited out its latency: any latency above 10 s
  // dropped every connection with no reply, a hang rather than a slow miner. Takes 10.5 s.
  it('a latency longer than the idle close still delivers the reply', async () => {
    farm = await startFarm({ profile: 'cgminer', count: 1, basePort: 0, faults: 'latency=10500ms' });
    const reply = await exchange(farm.miners[0]!.port, '{"command":"version"}', '127.0.0.1', 14_000);
    expect(reply.end).toBe('closed');
    expect(reply.bytes.toString()).toContain('"CGMiner":"4.11.1"');
  }, 20_000);

  it('fault share picks a deterministic subset of miners', async () => {
    farm = await startFarm({
      profile: 'cgminer',
      count: 40,
      basePort: 0,
      faults: 'refused=100%',
      faultShare: 0.25,
      seed: 9,
    });
    const refused = farm.miners.filter((m) => m.faults.refused).length;
    expect(refused).toBeGreaterThan(2);
    expect(refused).toBeLessThan(25);
    const down = farm.miners.filter((m) => !m.listening).length;
    expect(down).toBe(refused);
  });

  it('rejects malformed fault specs and non-loopback addresses as usage errors', () => {
    expect(() => parseFaults('latency=fast')).toThrow(expect.objectContaining({ kind: 'usage' }));
    expect(() => parseFaults('meteor=1%')).toThrow(expect.objectContaining({ kind: 'usage' }));
    expect(parseFaults('timeout=2%,hang=0.01').timeout).toBeCloseTo(0.02);
    // A value silently dropped: the second of two, or what follows a second '='.
    expect(() => parseFaults('timeout=2%,hang=1%,timeout=5%')).toThrow("--faults gives 'timeout' twice");
    expect(() => parseFaults('latency=80ms=5')).toThrow("invalid --faults entry 'latency=80ms=5'");
    // Each within 24d, together past what one timer can wait.
    expect(() => parseFaults('latency=24d,jitter=24d')).toThrow(/together must stay within 24d/);
    expect(parseFaults('latency=20d,jitter=4d').latencyMs).toBe(20 * 86_400_000);
    // A flap rhythm the farm cannot keep is refused, not silently changed.
    expect(() => parseFaults('flap=5%,flap_period=500ms,flap_down=200ms')).toThrow(
      "invalid --faults flap_period '500ms': at least 1s",
    );
    expect(() => parseFaults('flap=5%,flap_down=100ms')).toThrow(/flap_down '100ms': at least 250ms/);
    expect(parseFaults('flap=5%,flap_period=1s,flap_down=250ms').flapPeriodMs).toBe(1000);
    expect(() => parseAddresses('10.0.0.0/24')).toThrow(expect.objectContaining({ kind: 'usage' }));
    expect(parseAddresses('127.0.1.0/30')).toEqual(['127.0.1.0', '127.0.1.1', '127.0.1.2', '127.0.1.3']);
    expect(parseAddresses('127.0.2.10-12')).toEqual(['127.0.2.10', '127.0.2.11', '127.0.2.12']);
    // A last octet past 255 is a typo, not a range running on into the next /24 (127.0.3.44).
    expect(() => parseAddresses('127.0.2.10-300')).toThrow(/invalid --addresses entry '127\.0\.2\.10-300'/);
    expect(() => parseAddresses('127.0.2.10-5')).toThrow(/ends before it starts/);
    // As many miners as --count allows, refused before a port is bound: a /16 used to bind
    // listeners until the open-file limit stopped it, seconds later.
    expect(parseAddresses('127.0.0.0/18,127.0.64.0-127.0.78.31')).toHaveLength(20_000);
    expect(() => parseAddresses('127.1.0.0/16')).toThrow('--addresses covers more than 20000 addresses');
    expect(() => parseAddresses('127.0.0.0/18,127.0.64.0-127.0.78.32')).toThrow(/more than 20000/);
  });
});

describe('addressing', () => {
  it('serves one miner per loopback address on one port', async () => {
    const probe = net.createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as net.AddressInfo).port)),
    );
    await new Promise((r) => probe.close(r));
    farm = await startFarm({ profile: 'cgminer', addresses: parseAddresses('127.0.3.1-3'), port });
    expect(farm.inventory()).toEqual([`127.0.3.1:${port}`, `127.0.3.2:${port}`, `127.0.3.3:${port}`]);
    const reply = await exchange(port, '{"command":"version"}', '127.0.3.2');
    expect(reply.end).toBe('closed');
    expect(farm.miners[1]!.received().map((e) => e.command)).toEqual(['version']);
  });

  it('a taken port is a usage error naming the address', async () => {
    const holder = net.createServer();
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve((holder.address() as net.AddressInfo).port)),
    );
    try {
      await expect(startFarm({ profile: 'cgminer', count: 1, basePort: port })).rejects.toMatchObject({
        kind: 'usage',
        message: expect.stringContaining(`127.0.0.1:${port}`),
      });
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });
});
