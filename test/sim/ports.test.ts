// `--base-port 0`: ports picked by the farm from the local range (the kernel's own search for a free
// port slows down as the range fills), taken ports skipped.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startFarm } from '../../src/sim/index.js';
import { localPortRange, PortPicker } from '../../src/sim/ports.js';

describe('localPortRange', () => {
  it("reads the kernel's range, and falls back to the dynamic range when it cannot", () => {
    expect(localPortRange(() => '32768\t60999\n')).toEqual({ low: 32768, high: 60999 });
    expect(localPortRange(() => 'garbage')).toEqual({ low: 49152, high: 65535 });
    expect(localPortRange(() => '80 90')).toEqual({ low: 49152, high: 65535 });
    expect(localPortRange(() => '60000 50000')).toEqual({ low: 49152, high: 65535 });
    expect(
      localPortRange(() => {
        throw new Error('ENOENT');
      }),
    ).toEqual({ low: 49152, high: 65535 });
  });
});

describe('PortPicker', () => {
  it('walks the range from its start, wraps once, then leaves the choice to the kernel', () => {
    const picker = new PortPicker({ low: 50000, high: 50003 }, 50002);
    expect([picker.take(), picker.take(), picker.take(), picker.take(), picker.take()]).toEqual([
      50002, 50003, 50000, 50001, 0,
    ]);
  });
});

describe('a farm on base port 0', () => {
  it('skips ports someone else holds and reports the ones it took', async () => {
    // Someone holds a port; the farm's picker starts right on it.
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const held = (holder.address() as net.AddressInfo).port;
    const range = localPortRange();
    const start = held >= range.low && held <= range.high ? held : range.low;
    try {
      const farm = await startFarm({
        profile: 'antminer-s9',
        count: 3,
        basePort: 0,
        ports: new PortPicker(range, start),
      });
      try {
        const ports = farm.inventory().map((key) => Number(key.slice(key.lastIndexOf(':') + 1)));
        expect(new Set(ports).size).toBe(3);
        expect(ports).not.toContain(held);
        expect(ports.every((p) => p >= range.low && p <= range.high)).toBe(true);
        // Taken from the picker, just past the held port (a few more may be someone else's).
        if (start === held && held + 50 <= range.high) {
          expect(ports.every((p) => p > held && p <= held + 50)).toBe(true);
        }
        // Each one answers.
        for (const port of ports) {
          const reply = await new Promise<string>((resolve, reject) => {
            const socket = net.connect({ host: '127.0.0.1', port }, () =>
              socket.write('{"command":"version"}'),
            );
            let text = '';
            socket.setEncoding('latin1');
            socket.on('data', (chunk) => {
              text += chunk;
            });
            socket.on('end', () => resolve(text));
            socket.on('error', reject);
          });
          expect(reply).toContain('"STATUS"');
        }
      } finally {
        await farm.stop();
      }
    } finally {
      holder.close();
    }
  });
});
