// `simulate --failed-fans`, end to end for every profile with fans: the fan the simulator kills
// reads 0 RPM on the wire, and `thermal check` must say so for every firmware. An Avalon's dead fan
// beside a turning one vanished (the A1566 read 1/1 fans, "ok").
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { memoryContext } from '../../src/context.js';
import { PROFILES, startFarm } from '../../src/sim/index.js';

interface CheckJson {
  results: {
    target: string;
    status: string;
    readings: { fans_total: number; fans_failed: number | null } | null;
  }[];
}

const WITH_FANS = PROFILES.filter((profile) => profile.fanSlots.length > 0).map((profile) => profile.name);

describe('--failed-fans: a dead fan is seen by thermal check on every profile', () => {
  it('lists the profiles with fans', () => {
    expect(WITH_FANS).toContain('avalon');
    expect(WITH_FANS).toContain('braiins-os');
  });

  it.each(WITH_FANS)(
    '%s: each dead fan (first and last slot) is a failed fan, warn or worse',
    async (name) => {
      const farm = await startFarm({ profile: name, count: 2, basePort: 0, failedFans: 1, seed: 5 });
      try {
        // The simulator picks one fan per miner and makes it dead or worn; here it is dead, in the
        // first slot on one miner and the last on the other (a spare-slot guess must not hide either).
        farm.miners.forEach((miner, i) => {
          for (const fan of miner.state.fans) {
            fan.failed = false;
            fan.health = 1;
          }
          const fans = miner.state.fans;
          (i === 0 ? fans[0] : fans[fans.length - 1])!.failed = true;
        });
        const ctx = memoryContext();
        await runCli(
          [
            'thermal',
            'check',
            ...farm.miners.map((miner) => `127.0.0.1:${miner.port}`),
            '--json',
            '--timeout',
            '2s',
            '--retries',
            '0',
          ],
          ctx,
        );
        const json = JSON.parse(ctx.out()) as CheckJson;
        expect(json.results).toHaveLength(2);
        for (const result of json.results) {
          expect(result.readings?.fans_failed, `${result.target}: ${ctx.out()}`).toBe(1);
          expect(['warn', 'critical']).toContain(result.status);
        }
      } finally {
        await farm.stop();
      }
    },
  );
});
