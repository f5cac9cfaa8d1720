// The thermal config is checked on the limits each miner ends up with: every combination of the
// site, model and miner entries that can apply to one miner. A farm's config (and what
// `thermal config pull` fetches) can hold an entry per miner: entries alike are checked once, and a
// mistake found is still reported on each entry by its own path.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseThermalConfig } from '../../src/thermal/config.js';

function issues(raw: unknown): string[] {
  try {
    parseThermalConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return ((error as ConfigError).details as { issues: string[] }).issues;
  }
  throw new Error('expected a ConfigError');
}

const address = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

describe('thermal config of a large farm', () => {
  it('10,000 miner entries under 100 sites and 10 models load (it was sites × models × miners, and pairs of miners)', () => {
    const sites: Record<string, unknown> = {};
    const models: Record<string, unknown> = {};
    const miners: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) sites[`site-${i}`] = { board: { warn: 70 }, inlet: { warn: 33 } };
    for (let i = 0; i < 10; i++) models[`Antminer S19 Pro ${i}`] = { board: { warn: 72 } };
    for (let i = 0; i < 10_000; i++)
      miners[i % 2 === 0 ? address(i) : `${address(i)}:4028`] = {
        board: { critical: 85 + (i % 3) },
        inlet: { warn: 30 },
      };
    const config = parseThermalConfig({ sites, models, miners });
    expect(Object.keys(config.miners ?? {})).toHaveLength(10_000);
  });

  it('reports a mistake on every entry that makes it, each by its own path', () => {
    // Warn 90 over the air default critical 80, in three alike miner entries and two alike sites.
    const found = issues({
      sites: { north: { board: { warn: 90 } }, south: { board: { warn: 90 } } },
      miners: {
        '10.0.0.1': { board: { warn: 90 } },
        '10.0.0.2:4028': { board: { warn: 90 } },
        '10.0.0.3': { board: { warn: 90 } },
      },
    });
    for (const path of [
      'thermal.sites.north.board.warn',
      'thermal.sites.south.board.warn',
      'thermal.miners.10.0.0.1.board.warn',
      'thermal.miners.10.0.0.2:4028.board.warn',
      'thermal.miners.10.0.0.3.board.warn',
    ])
      expect(
        found.some((issue) => issue.startsWith(`${path}: warn 90 must be at or below critical 80`)),
      ).toBe(true);
    expect(found).toHaveLength(5);
  });

  it("a host's entry under its port's is its own combination: only that port's entry is blamed", () => {
    // 10.0.0.6:4028 alone is fine (warn 75 under the default critical 80); under the host entry
    // of 10.0.0.5 (critical 70) the port entry of 10.0.0.5 is not.
    const found = issues({
      miners: {
        '10.0.0.5': { board: { critical: 70, warn: 65 } },
        '10.0.0.5:4028': { board: { warn: 75 } },
        '10.0.0.6:4028': { board: { warn: 75 } },
      },
    });
    expect(found).toEqual([
      'thermal.miners.10.0.0.5:4028.board.warn: warn 75 must be at or below critical 70 (miners.10.0.0.5.board.critical)',
    ]);
  });

  it('an inlet band crossed the same way in alike entries is reported on each', () => {
    const found = issues({
      classes: { hydro: { inlet: { warn: 30, critical: 35 } } },
      miners: {
        '10.0.0.1': { cooling: 'hydro', inlet_low: { warn: 32, critical: 20 } },
        '10.0.0.2': { cooling: 'hydro', inlet_low: { warn: 32, critical: 20 } },
      },
    });
    expect(
      found.filter((issue) => /inlet_low\.warn: 32 must be below the inlet's hot limit 30/.test(issue)),
    ).toHaveLength(2);
  });
});
