import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseThermalConfig } from '../../src/thermal/config.js';
import { evaluateThermal } from '../../src/thermal/evaluate.js';
import {
  detectCooling,
  effectiveLimits,
  isHydroModel,
  limitsFor,
  unmatchedModelKeys,
} from '../../src/thermal/limits.js';
import type { FirmwareThermalLimits } from '../../src/thermal/types.js';
import { airMiner, type SnapshotSpec, snapshotOf } from './helpers.js';

const firmware = (over: Partial<FirmwareThermalLimits>): FirmwareThermalLimits => ({
  firmware: 'luxos',
  mode: null,
  target_c: null,
  hot_c: null,
  dangerous_c: null,
  chip_hot_c: null,
  chip_dangerous_c: null,
  water_inlet_dangerous_c: null,
  min_fans: null,
  ...over,
});

describe('limitsFor (collect: one computation per kind of miner)', () => {
  it('gives what effectiveLimits gives, the firmware limits included, and tells firmwares apart', () => {
    const config = parseThermalConfig({}, 'test');
    const limits = limitsFor(config, null);
    const miner = airMiner(60);
    const luxos = firmware({ hot_c: 90, dangerous_c: 100, min_fans: 2 });
    expect(limits(miner, '10.0.0.1:4028')).toEqual(
      effectiveLimits(miner, config, null, { miner: '10.0.0.1:4028' }),
    );
    expect(limits(miner, '10.0.0.1:4028', luxos)).toEqual(
      effectiveLimits(miner, config, null, { miner: '10.0.0.1:4028', firmware: luxos }),
    );
    // Another firmware's limits are not the cached ones of the first.
    const other = firmware({ hot_c: 70, dangerous_c: 85, min_fans: 1 });
    const expected = effectiveLimits(miner, config, null, { miner: '10.0.0.2:4028', firmware: other });
    expect(limits(miner, '10.0.0.2:4028', other)).toEqual(expected);
    expect(expected).not.toEqual(limits(miner, '10.0.0.3:4028', luxos));
  });

  it("tells a Whatsminer's power modes apart: High's inlet limits are not a Normal one's", () => {
    const limits = limitsFor(parseThermalConfig({}, 'test'), null);
    const whatsminer = (mode: string, cooling: string) =>
      snapshotOf({
        make: 'Whatsminer',
        model: 'M31S',
        power_mode: mode,
        cooling,
        inlet: 30,
        fans: [5000, 5000],
      });
    // The same model in one farm, cached by whichever is polled first.
    for (const cooling of ['air', 'hydro'])
      for (const [first, second] of [
        ['high', 'normal'],
        ['normal', 'high'],
      ] as const) {
        const a = whatsminer(first, cooling);
        const b = whatsminer(second, cooling);
        expect(limits(a, '10.0.0.1:4028')).toEqual(effectiveLimits(a, {}, null, { miner: '10.0.0.1:4028' }));
        expect(limits(b, '10.0.0.2:4028').metrics.inlet, `${cooling} ${second} after ${first}`).toEqual(
          effectiveLimits(b, {}, null, { miner: '10.0.0.2:4028' }).metrics.inlet,
        );
      }
  });
});

describe('effectiveLimits sources', () => {
  it('gives an air Antminer the air defaults with an estimated-chip limit', () => {
    const limits = effectiveLimits(airMiner(60));
    expect(limits.cooling).toEqual({ value: 'air', source: 'default (no hydro or immersion evidence)' });
    expect(limits.metrics.board.warn).toEqual({ value: 75, source: 'default air' });
    expect(limits.metrics.board.critical).toEqual({ value: 80, source: 'default air' });
    expect(limits.metrics.inlet.critical.value).toBe(40);
    expect(limits.chip_sensor.value).toBe('estimated');
    expect(limits.metrics.chip.critical.value).toBe(95);
    expect(limits.metrics.chip.critical.source).toMatch(/estimated chip/);
    expect(limits.metrics.fans_failed.critical.value).toBe(1);
    expect(limits.margin_c).toEqual({ value: 3, source: 'default' });
  });

  it('says so when the miner is one the thermal facts do not cover, rather than pass the defaults off as its own', () => {
    for (const [make, model, who] of [
      ['unknown', null, 'make and model not identified'],
      ['Innosilicon', 'A10 Pro', 'Innosilicon A10 Pro'],
    ] as const) {
      const limits = effectiveLimits(snapshotOf({ make, model, boards: [{ temp_board_c: 60 }] }));
      expect(limits.metrics.board.critical).toEqual({ value: 80, source: 'default air' });
      expect(limits.notes).toEqual([
        `${who}: hashctl has no thermal facts for it, so the air class defaults stand in, and its chip sensor is taken for an estimate (the lower chip limits)`,
      ]);
      expect(limits.metrics.chip.critical.value).toBe(95);
      expect(limits.metrics.chip.critical.source).not.toMatch(/PCB|Luxor/);
      expect(limits.chip_sensor.source).toMatch(/not known for this make/);
    }
    for (const make of ['Antminer', 'Whatsminer', 'Avalon'])
      expect(effectiveLimits(snapshotOf({ make, model: null })).notes, make).toEqual([]);
  });

  it('uses real-chip limits for Whatsminer and Avalon', () => {
    const limits = effectiveLimits(snapshotOf({ make: 'Whatsminer', model: 'M30S+' }));
    expect(limits.chip_sensor.value).toBe('real');
    expect([limits.metrics.chip.warn.value, limits.metrics.chip.critical.value]).toEqual([95, 105]);
  });

  it('applies the S9 and S17 model rules with their sources', () => {
    const s9 = effectiveLimits(snapshotOf({ model: 'S9i' }));
    expect(s9.metrics.board.critical.value).toBe(85);
    expect(s9.metrics.board.critical.source).toMatch(/^model S9 family/);
    const s17 = effectiveLimits(snapshotOf({ model: 'S17 Pro' }));
    expect(s17.metrics.board.critical).toMatchObject({ value: 85 });
    expect(s17.metrics.board.critical.source).toMatch(/^model S17 family/);
    expect(effectiveLimits(snapshotOf({ model: 'S19j Pro' })).metrics.board.critical.value).toBe(80);
  });

  it('detects hydro from the model name and drops fan alarms', () => {
    for (const model of ['S21 XP Hyd.', 'S19 XP Hydro', 'M63S VK30', 'M60S_VK40', 'M53 Hydro']) {
      expect(isHydroModel(model), model).toBe(true);
    }
    for (const model of ['S19j Pro', 'M30S++', 'S21 Pro', 'A1246'])
      expect(isHydroModel(model), model).toBe(false);
    const limits = effectiveLimits(snapshotOf({ model: 'S21 XP Hyd.' }));
    expect(limits.cooling).toEqual({ value: 'hydro', source: 'model S21 XP Hyd.' });
    expect(limits.metrics.inlet.critical).toEqual({ value: 45, source: 'default hydro' });
    expect(limits.metrics.fan_rpm.warn.value).toBeNull();
    const whatsminer = effectiveLimits(snapshotOf({ make: 'Whatsminer', model: 'M63S VK30' }));
    expect(whatsminer.metrics.inlet.critical.value).toBe(50);
    expect(whatsminer.metrics.inlet.critical.source).toMatch(/^model Whatsminer hydro/);
    // A hydro Whatsminer whose name does not say so, but whose summary does (Liquid Cooling: true).
    const liquid = effectiveLimits(snapshotOf({ make: 'Whatsminer', model: 'M33S++', cooling: 'hydro' }));
    expect([liquid.metrics.inlet.warn.value, liquid.metrics.inlet.critical.value]).toEqual([45, 50]);
  });

  it("follows Whatsminer's power mode: High lowers the air inlet warn to 28 °C and the water limits to 40/45", () => {
    const inlet = (extra: SnapshotSpec) => {
      const limits = effectiveLimits(snapshotOf({ make: 'Whatsminer', model: 'M31S', ...extra }));
      return [limits.metrics.inlet.warn.value, limits.metrics.inlet.critical.value];
    };
    expect(inlet({ cooling: 'air', power_mode: 'high' })).toEqual([28, 40]);
    expect(inlet({ cooling: 'air', power_mode: 'normal' })).toEqual([35, 40]);
    expect(inlet({ model: 'M63S VK30', power_mode: 'high' })).toEqual([40, 45]);
    expect(inlet({ model: 'M63S VK30', power_mode: 'normal' })).toEqual([45, 50]);
  });

  it('derives alerts from the firmware’s own Hot and Dangerous', () => {
    const limits = effectiveLimits(airMiner(50, { firmware: 'LUXminer' }), {}, null, {
      firmware: firmware({ target_c: 55, hot_c: 65, dangerous_c: 70, min_fans: 3 }),
    });
    expect(limits.metrics.board.warn).toEqual({ value: 65, source: 'firmware LuxOS Hot=65' });
    expect(limits.metrics.board.critical).toEqual({ value: 67, source: 'firmware LuxOS Dangerous=70 − 3' });
    // 4 fans, MinFans 3: one failure is a warning, two stop the miner.
    expect(limits.metrics.fans_failed.warn.value).toBe(1);
    expect(limits.metrics.fans_failed.critical.value).toBe(2);
  });

  it('layers config: class < site < model < miner, each named', () => {
    const config = parseThermalConfig({
      classes: { air: { board: { warn: 70 }, inlet: { critical: 38 } } },
      sites: { A: { board: { critical: 78 } } },
      models: { 'S19j Pro': { chip: { warn: 88 } } },
      miners: { '10.0.0.5': { board: { warn: 72 } } },
    });
    const plain = effectiveLimits(airMiner(60), config, 'A');
    expect(plain.metrics.board.warn).toEqual({ value: 70, source: 'config classes.air' });
    expect(plain.metrics.board.critical).toEqual({ value: 78, source: 'config site=A' });
    expect(plain.metrics.inlet.critical).toEqual({ value: 38, source: 'config classes.air' });
    expect(plain.metrics.chip.warn).toEqual({ value: 88, source: 'config model=S19j Pro' });
    const miner = effectiveLimits(airMiner(60), config, 'B', { miner: '10.0.0.5:4028' });
    expect(miner.metrics.board.warn).toEqual({ value: 72, source: 'config miner=10.0.0.5' });
    expect(miner.metrics.board.critical).toEqual({ value: 80, source: 'default air' });
  });

  it('applies miners.<key> however the config spells the address it accepts as that miner', () => {
    // Each key passes validation as one miner; the run's target keys are canonical.
    const cases: [key: string, target: string][] = [
      ['[2001:db8::1]', '[2001:db8::1]:4028'],
      ['2001:DB8:0:0::1', '[2001:db8::1]:4028'],
      ['[2001:db8:0::1]:4028', '[2001:db8::1]:4028'],
      ['10.0.0.5:04028', '10.0.0.5:4028'],
      ['[::ffff:10.0.0.5]', '10.0.0.5:4028'],
      ['Rig-7.local.', 'rig-7.local:4029'],
    ];
    for (const [key, target] of cases) {
      const config = parseThermalConfig({ miners: { [key]: { board: { warn: 50, critical: 60 } } } });
      const expected = { value: 60, source: `config miner=${key}` };
      expect(
        effectiveLimits(airMiner(55), config, null, { miner: target }).metrics.board.critical,
        key,
      ).toEqual(expected);
      expect(limitsFor(config, null)(airMiner(55), target).metrics.board.critical, key).toEqual(expected);
      expect(
        detectCooling(
          airMiner(55),
          parseThermalConfig({ miners: { [key]: { cooling: 'immersion' } } }),
          null,
          {
            miner: target,
          },
        ).value,
        key,
      ).toBe('immersion');
    }
    // Another port of the same host is another miner.
    const config = parseThermalConfig({
      miners: { '10.0.0.5:04028': { board: { warn: 50, critical: 60 } } },
    });
    expect(
      effectiveLimits(airMiner(55), config, null, { miner: '10.0.0.5:4029' }).metrics.board.critical.value,
    ).toBe(80);
  });

  it("applies a HOST entry to every port of that host, under a HOST:PORT entry's own numbers", () => {
    const config = parseThermalConfig({
      miners: {
        '10.0.0.5': { cooling: 'immersion', board: { warn: 70 }, chip: { warn: 85 } },
        '10.0.0.5:4028': { board: { critical: 78 } },
        '10.0.0.5:4029': { cooling: 'air', chip: { warn: 80 } },
      },
    });
    const stopped = snapshotOf({
      boards: [0, 1, 2].map(() => ({ temp_board_c: 60, temp_chip_c: 75 })),
      fans: [0, 0, 0, 0],
    });
    const own = effectiveLimits(stopped, config, null, { miner: '10.0.0.5:4028' });
    // The host's immersion stands: a tank miner's stopped fans are not a failed fan set.
    expect(own.cooling).toEqual({ value: 'immersion', source: 'config miner=10.0.0.5' });
    expect(own.metrics.board.warn).toEqual({ value: 70, source: 'config miner=10.0.0.5' });
    expect(own.metrics.board.critical).toEqual({ value: 78, source: 'config miner=10.0.0.5:4028' });
    expect(evaluateThermal(stopped, own).status).toBe('ok');
    expect(limitsFor(config, null)(stopped, '10.0.0.5:4028')).toEqual(own);
    // A port that says otherwise wins where both speak.
    const other = effectiveLimits(stopped, config, null, { miner: '10.0.0.5:4029' });
    expect(other.cooling).toEqual({ value: 'air', source: 'config miner=10.0.0.5:4029' });
    expect(other.metrics.chip.warn).toEqual({ value: 80, source: 'config miner=10.0.0.5:4029' });
    expect(other.metrics.board.warn).toEqual({ value: 70, source: 'config miner=10.0.0.5' });
    // warn past critical across the two (each fine over the defaults) is refused, naming the port's key.
    expect(() =>
      parseThermalConfig({
        miners: { '10.0.0.5': { board: { warn: 79 } }, '10.0.0.5:4028': { board: { critical: 78 } } },
      }),
    ).toThrow(
      /^thermal\.miners\.10\.0\.0\.5:4028\.board\.critical: critical 78 must be at or above warn 79 \(miners\.10\.0\.0\.5\.board\.warn\): warn could never be seen$/,
    );
  });

  it('matches models.<name> with or without the make, in any case', () => {
    const s19 = airMiner(60); // Antminer S19j Pro
    for (const name of ['S19j Pro', 'Antminer S19j Pro', 'ANTMINER s19j pro', 's19jpro']) {
      const config = parseThermalConfig({ models: { [name]: { board: { warn: 70 } }, other: {} } });
      expect(effectiveLimits(s19, config).metrics.board.warn, name).toEqual({
        value: 70,
        source: `config model=${name}`,
      });
    }
    const config = parseThermalConfig({ models: { 'Antminer S19': { board: { warn: 70 } } } });
    expect(effectiveLimits(s19, config).metrics.board.warn.value).toBe(75); // S19 is not S19j Pro
    expect(
      unmatchedModelKeys(parseThermalConfig({ models: { 'Nonexistent X1': {}, S9: {}, 'M30S++': {} } }), [
        s19,
      ]),
    ).toEqual(['Nonexistent X1']);
    expect(
      unmatchedModelKeys(parseThermalConfig({ models: { 'Antminer S19j Pro': {}, 'S19j Por': {} } }), [s19]),
    ).toEqual(['S19j Por']);
  });

  it('declares immersion only through config, and config beats the model', () => {
    const config = parseThermalConfig({ sites: { tank: { cooling: 'immersion' } } });
    expect(detectCooling(airMiner(60), config, 'tank')).toEqual({
      value: 'immersion',
      source: 'config site=tank',
    });
    const limits = effectiveLimits(airMiner(60, { fans: [0, 0, 0, 0] }), config, 'tank');
    expect(limits.metrics.inlet.critical).toEqual({ value: 65, source: 'default immersion' });
    expect(limits.metrics.fans_failed.critical.value).toBeNull();
    expect(detectCooling(airMiner(60), config, 'other').value).toBe('air');
  });
});

describe('thermal config validation', () => {
  const failure = (raw: unknown): ConfigError => {
    try {
      parseThermalConfig(raw);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it('names the key of a wrong type', () => {
    const error = failure({ sites: { A: { board: { warn: 'hot' } } } });
    expect(error.kind).toBe('config');
    expect(error.message).toMatch(/^thermal\.sites\.A\.board\.warn: /);
  });

  it('names an unknown key', () => {
    expect(failure({ classes: { air: { bord: { warn: 70 } } } }).message).toBe(
      'thermal.classes.air.bord: unknown key (did you mean "board"?)',
    );
    expect(failure({ classes: { water: {} } }).message).toMatch(/water/);
  });

  it('refuses a cold inlet limit at or above the hot one: no inlet reading could be ok', () => {
    // Each pair is in order on its own; together every water temperature is warn (or critical).
    expect(failure({ classes: { hydro: { inlet_low: { warn: 42 } } } }).message).toBe(
      "thermal.classes.hydro.inlet_low.warn: 42 must be below the inlet's hot limit 40 (default hydro): no inlet reading would be ok",
    );
    expect(
      failure({
        classes: { air: { inlet_low: { warn: 22, critical: 10 } } },
        miners: { '10.0.0.5:4028': { inlet: { warn: 20, critical: 30 } } },
      }).message,
    ).toMatch(
      /^thermal\.miners\.10\.0\.0\.5:4028\.inlet\.warn: 20 must be above the inlet's cold limit 22 \(classes\.air\.inlet_low\.warn\)/,
    );
    // Without warns, the criticals are the edges.
    expect(
      failure({
        sites: { A: { inlet: { warn: null, critical: 30 }, inlet_low: { warn: null, critical: 30 } } },
      }).message,
    ).toMatch(/^thermal\.sites\.A\.inlet_low\.critical: 30 must be below/);
    // A band left between them, however narrow, is fine.
    expect(() =>
      parseThermalConfig({
        models: { 'S19 Pro': { cooling: 'hydro', inlet_low: { warn: 39, critical: 25 } } },
      }),
    ).not.toThrow();
  });

  it('refuses warn beyond critical, naming the key', () => {
    expect(failure({ models: { S9: { board: { warn: 90, critical: 85 } } } }).message).toMatch(
      /^thermal\.models\.S9\.board\.warn: warn 90 must be at or below critical 85/,
    );
    // Low metrics run the other way: a fan warns at a higher speed than it is critical.
    expect(failure({ miners: { x: { fan_rpm: { warn: 500, critical: 1000 } } } }).message).toMatch(
      /fan_rpm\.warn/,
    );
    expect(
      parseThermalConfig({ miners: { x: { fan_rpm: { warn: 1200, critical: 600 } } } }).miners?.x?.fan_rpm
        ?.warn,
    ).toBe(1200);
  });

  it('refuses counts that every healthy miner reaches, and fractions', () => {
    // fans_failed critical −1 or 0: every miner with all fans spinning would be critical.
    for (const critical of [-1, 0, 0.5]) {
      expect(failure({ classes: { air: { fans_failed: { critical } } } }).message).toMatch(
        /^thermal\.classes\.air\.fans_failed\.critical: must be a whole number from 1/,
      );
    }
    expect(failure({ miners: { x: { boards_dead: { warn: 1.5 } } } }).message).toMatch(
      /^thermal\.miners\.x\.boards_dead\.warn: must be a whole number/,
    );
    expect(parseThermalConfig({ classes: { air: { fans_failed: { warn: 1, critical: 2 } } } })).toBeTruthy();
  });

  it('refuses temperatures outside a physically sensible range', () => {
    expect(failure({ classes: { air: { board: { critical: -10 } } } }).message).toMatch(
      /^thermal\.classes\.air\.board\.critical: must be 0 to 150 °C/,
    );
    expect(failure({ sites: { A: { chip: { warn: 151 } } } }).message).toMatch(
      /^thermal\.sites\.A\.chip\.warn: /,
    );
    expect(failure({ sites: { A: { inlet: { warn: 101 } } } }).message).toMatch(/must be -40 to 100 °C/);
    // Cold sites are real: an inlet-low limit below zero is the default.
    expect(
      parseThermalConfig({ classes: { air: { inlet_low: { warn: -10, critical: -20 } } } }),
    ).toBeTruthy();
  });

  it('refuses warn beyond critical across layers, on the merged limits', () => {
    // Air board critical 60 under the default warn 75: warn could never be seen.
    expect(failure({ classes: { air: { board: { critical: 60 } } } }).message).toBe(
      'thermal.classes.air.board.critical: critical 60 must be at or above warn 75 (default air): warn could never be seen',
    );
    // Two config layers: the more specific one is the number to fix.
    expect(
      failure({
        sites: { A: { board: { warn: 70, critical: 78 } } },
        models: { 'S19 Pro': { board: { warn: 79 } } },
      }).message,
    ).toBe(
      'thermal.models.S19 Pro.board.warn: warn 79 must be at or below critical 78 (sites.A.board.critical)',
    );
    // A model layer sits on the model rule that matches it (S9: 75/85), not on the class default.
    expect(parseThermalConfig({ models: { S9: { board: { warn: 82 } } } }).models?.S9?.board?.warn).toBe(82);
    expect(failure({ models: { S19: { board: { warn: 82 } } } }).message).toMatch(
      /^thermal\.models\.S19\.board\.warn: warn 82 must be at or below critical 80 \(default air\)/,
    );
    // A declared cooling class picks that class's defaults (immersion fluid warns at 55).
    expect(failure({ sites: { tank: { cooling: 'immersion', inlet: { critical: 50 } } } }).message).toMatch(
      /^thermal\.sites\.tank\.inlet\.critical: critical 50 must be at or above warn 55 \(default immersion\)/,
    );
    // null switches a level off: nothing to invert.
    expect(parseThermalConfig({ classes: { air: { board: { warn: null, critical: 60 } } } })).toBeTruthy();
  });

  it('names the file and key path of a bad limit in a config file (exit 2)', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { runCli } = await import('../../src/cli.js');
    const { memoryContext } = await import('../../src/context.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-thermal-range-'));
    try {
      const file = path.join(dir, 'hashctl.json');
      fs.writeFileSync(
        file,
        JSON.stringify({ thermal: { classes: { air: { fans_failed: { critical: -1 } } } } }),
      );
      const ctx = memoryContext();
      expect(await runCli(['thermal', 'limits', '--config', file], ctx)).toBe(2);
      expect(ctx.err()).toContain(`config ${file}:1: thermal.classes.air.fans_failed.critical: `);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses two model keys that name the same model', () => {
    expect(failure({ models: { 'S19 Pro': {}, 'Antminer S19 Pro': {} } }).message).toBe(
      'thermal.models.Antminer S19 Pro: names the same model as models.S19 Pro',
    );
    expect(failure({ models: { s19pro: {}, 'S19 Pro': {} } }).message).toMatch(
      /names the same model as models\.s19pro/,
    );
  });

  it('refuses miner keys that cannot be one miner, and two keys for one miner', () => {
    expect(failure({ miners: { '10.0.0.1-20': {} } }).message).toMatch(
      /^thermal\.miners\.10\.0\.0\.1-20: is not one miner address: /,
    );
    expect(failure({ miners: { '10.0.0.0/24': {} } }).message).toMatch(
      /is not one miner address: a range names several/,
    );
    expect(failure({ miners: { '10.0.0.5:99999': {} } }).message).toMatch(/port 99999 is out of range/);
    expect(failure({ miners: { 'S19 rack 3': {} } }).message).toMatch(/is not one miner address/);
    expect(failure({ miners: { 'RIG-7:4028': {}, 'rig-7:4028': {} } }).message).toBe(
      'thermal.miners.rig-7:4028: names the same miner as miners.RIG-7:4028',
    );
    const config = parseThermalConfig({
      miners: { '10.0.0.5': {}, '10.0.0.5:4029': {}, 'rig-7': {}, '[::1]:4029': {} },
    });
    expect(Object.keys(config.miners ?? {})).toHaveLength(4);
  });

  it('refuses a bad cooling class and a negative margin', () => {
    expect(failure({ sites: { A: { cooling: 'oil' } } }).message).toMatch(/^thermal\.sites\.A\.cooling: /);
    expect(failure({ margin_c: -1 }).message).toMatch(/^thermal\.margin_c: /);
  });
});

describe('hashctl thermal limits (no targets)', () => {
  it('prints the defaults with their sources, and the config overrides for a site', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { runCli } = await import('../../src/cli.js');
    const { memoryContext } = await import('../../src/context.js');
    const plain = memoryContext();
    expect(await runCli(['thermal', 'limits', '--json'], plain)).toBe(0);
    const defaults = JSON.parse(plain.out());
    expect(defaults.classes.air.board.critical).toEqual({ value: 80, source: 'default air' });
    expect(defaults.classes.hydro.inlet.warn).toEqual({ value: 40, source: 'default hydro' });
    // The defaults table is an Antminer's: its chip is the known PCB estimate.
    expect(defaults.classes.air.chip.critical.source).toMatch(/PCB \+ ~15 °C/);
    expect(defaults.model_rules.map((r: { name: string }) => r.name)).toContain('S9');

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashctl-thermal-limits-'));
    try {
      const file = path.join(dir, 'hashctl.json');
      fs.writeFileSync(file, JSON.stringify({ thermal: { sites: { A: { board: { critical: 78 } } } } }));
      const table = memoryContext();
      expect(await runCli(['thermal', 'limits', '--config', file, '--site', 'A'], table)).toBe(0);
      const lines = table.out().trim().split('\n');
      // Into a pipe, the unit of each row's figures in its own column (°C, RPM and counts share one).
      expect(lines[0]).toBe('class\tmetric\tunit\twarn\tcritical\tsource');
      expect(lines).toContain('air\tboard\tc\t75\t78\tdefault air; config site=A');
      expect(lines).toContain('air\tfan_rpm\trpm\t1000\t-\tdefault air');
      expect(lines).toContain('air\tfans_failed\tcount\t-\t1\tdefault air');

      fs.writeFileSync(file, JSON.stringify({ thermal: { sites: { A: { board: { critical: 'x' } } } } }));
      const bad = memoryContext();
      expect(await runCli(['thermal', 'limits', '--config', file], bad)).toBe(2);
      expect(bad.err()).toMatch(/thermal\.sites\.A\.board\.critical/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('firmware limits are used only when plausible', () => {
  const braiinsS9 = (board: number) =>
    snapshotOf({ model: 'S9', firmware: 'BOSminer+', boards: [{ temp_board_c: board }] });
  const luxS19 = (board: number) =>
    snapshotOf({ model: 'S19j Pro', firmware: 'LUXminer', boards: [{ temp_board_c: board }] });

  it('ignores Braiins OS Hot/Dangerous above the vendor maximum, says so, and keeps the default', () => {
    const limits = effectiveLimits(braiinsS9(130), {}, null, {
      firmware: firmware({ firmware: 'braiins', hot_c: 140, dangerous_c: 150 }),
    });
    expect(limits.metrics.board.warn.value).toBe(75);
    expect(limits.metrics.board.critical.value).toBe(85);
    expect(limits.metrics.board.warn.source).toMatch(
      /^model S9 family .*; firmware Braiins OS Hot=140 ignored/,
    );
    expect(limits.metrics.board.critical.source).toMatch(
      /firmware Braiins OS Dangerous=150 ignored: above the vendor maximum 110/,
    );
    expect(limits.notes).toEqual([
      expect.stringMatching(/^firmware Braiins OS Hot=140 ignored: above the vendor maximum 110 °C/),
      expect.stringMatching(/^firmware Braiins OS Dangerous=150 ignored: above the vendor maximum 110 °C/),
    ]);
  });

  it('a decimal Dangerous gives its critical to a hundredth, not a floating-point tail', () => {
    const limits = effectiveLimits(luxS19(60), {}, null, {
      firmware: firmware({ hot_c: 60.4, dangerous_c: 64.9 }),
    });
    expect(limits.metrics.board.critical.value).toBe(61.9);
    expect(limits.metrics.board.warn.value).toBe(60.4);
  });

  it('never takes a limit outside the range the config accepts, or an absurd one', () => {
    const limits = effectiveLimits(luxS19(60), {}, null, {
      firmware: firmware({ hot_c: 1e308, dangerous_c: 1e308, chip_hot_c: 200, chip_dangerous_c: 1e308 }),
    });
    for (const metric of ['board', 'chip'] as const) {
      for (const level of ['warn', 'critical'] as const) {
        expect(Number.isFinite(limits.metrics[metric][level].value), `${metric}.${level}`).toBe(true);
        expect(limits.metrics[metric][level].value!, `${metric}.${level}`).toBeLessThanOrEqual(150);
      }
    }
    expect([limits.metrics.board.warn.value, limits.metrics.board.critical.value]).toEqual([75, 80]);
    expect([limits.metrics.chip.warn.value, limits.metrics.chip.critical.value]).toEqual([90, 95]);
    expect(limits.metrics.chip.critical.source).toMatch(/ChipDangerous=1e\+308 ignored: outside 0 to 150 °C/);
    const hydro = effectiveLimits(snapshotOf({ model: 'S21 XP Hyd.', firmware: 'LUXminer' }), {}, null, {
      firmware: firmware({ water_inlet_dangerous_c: 120 }),
    });
    expect(hydro.metrics.inlet.critical.value).toBe(45);
    expect(hydro.notes.join('\n')).toMatch(/WaterInletDangerous=120 ignored: outside -40 to 100 °C/);
  });

  it('lowers warn to critical when the combination would put warn past critical', () => {
    // LuxOS reports Dangerous 70.5 but no Hot: critical 67.5 from the firmware, warn 75 from the default.
    const limits = effectiveLimits(luxS19(60), {}, null, {
      firmware: firmware({ hot_c: null, dangerous_c: 70.5 }),
    });
    expect(limits.metrics.board.critical).toEqual({
      value: 67.5,
      source: 'firmware LuxOS Dangerous=70.5 − 3',
    });
    expect(limits.metrics.board.warn.value).toBe(67.5);
    expect(limits.metrics.board.warn.source).toMatch(/lowered to critical/);
    expect(limits.notes.join('\n')).toMatch(/board warn 75 \(default air\) lowered to critical 67\.5/);
    // The same across a config layer: a miner's warn 79 over the firmware's critical 67.
    const config = parseThermalConfig({ miners: { '10.0.0.5': { board: { warn: 79 } } } });
    const mixed = effectiveLimits(luxS19(60), config, null, {
      miner: '10.0.0.5:4028',
      firmware: firmware({ hot_c: 65, dangerous_c: 70 }),
    });
    expect([mixed.metrics.board.warn.value, mixed.metrics.board.critical.value]).toEqual([67, 67]);
  });

  it('lets a plausible firmware limit loosen the default within the vendor maximum (§6 rule 1)', () => {
    const limits = effectiveLimits(braiinsS9(60), {}, null, {
      firmware: firmware({ firmware: 'braiins', hot_c: 100, dangerous_c: 110 }),
    });
    expect([limits.metrics.board.warn.value, limits.metrics.board.critical.value]).toEqual([100, 107]);
    expect(limits.notes).toEqual([]);
    // LuxOS S9 ships with Dangerous 90: the 75 °C guidance is for the S19-era boards.
    const luxS9 = effectiveLimits(snapshotOf({ model: 'S9', firmware: 'LUXminer' }), {}, null, {
      firmware: firmware({ hot_c: 85, dangerous_c: 90 }),
    });
    expect([luxS9.metrics.board.warn.value, luxS9.metrics.board.critical.value]).toEqual([85, 87]);
    const luxAbove = effectiveLimits(luxS19(60), {}, null, {
      firmware: firmware({ hot_c: 70, dangerous_c: 80 }),
    });
    expect([luxAbove.metrics.board.warn.value, luxAbove.metrics.board.critical.value]).toEqual([70, 80]);
    expect(luxAbove.notes.join('\n')).toMatch(/Dangerous=80 ignored: above the vendor maximum 75 °C/);
  });
});

describe('a firmware limit too low to be meant is not used (never a critical on its own)', () => {
  const luxS19 = (board: number, chip: number | null = null) =>
    snapshotOf({
      model: 'S19j Pro',
      firmware: 'LUXminer',
      boards: [{ temp_board_c: board, ...(chip === null ? {} : { temp_chip_c: chip }) }],
    });

  it('ignores a Hot/Dangerous of a few degrees, with a note, and keeps the default limits', () => {
    for (const [hot, dangerous] of [
      [1, 2],
      [0.5, 1],
      [30, 40],
      [null, 3],
      [45, 45],
    ] as const) {
      const limits = effectiveLimits(luxS19(60, 70), {}, null, {
        firmware: firmware({
          hot_c: hot,
          dangerous_c: dangerous,
          chip_hot_c: hot,
          chip_dangerous_c: dangerous,
        }),
      });
      const label = `Hot ${hot} Dangerous ${dangerous}`;
      expect([limits.metrics.board.warn.value, limits.metrics.board.critical.value], label).toEqual([75, 80]);
      expect([limits.metrics.chip.warn.value, limits.metrics.chip.critical.value], label).toEqual([90, 95]);
      expect(limits.notes.join('\n'), label).toMatch(
        new RegExp(`firmware LuxOS Dangerous=${dangerous} ignored: at or below 45 °C`),
      );
      expect(limits.metrics.board.critical.source, label).toMatch(/Dangerous=.* ignored/);
      const evaluation = evaluateThermal(luxS19(60, 70), limits);
      expect(evaluation.status, label).toBe('ok');
      expect(evaluation.action, label).toBe('none');
    }
  });

  it('ignores a water inlet Dangerous no loop could run under', () => {
    const hydro = effectiveLimits(snapshotOf({ model: 'S21 XP Hyd.', firmware: 'LUXminer' }), {}, null, {
      firmware: firmware({ water_inlet_dangerous_c: 2 }),
    });
    expect(hydro.metrics.inlet.critical.value).toBe(45);
    expect(hydro.notes.join('\n')).toMatch(/WaterInletDangerous=2 ignored: at or below 30 °C/);
  });

  it('ignores a water inlet Dangerous whose critical would cross the cold limits (a loop at 30 °C is ok)', () => {
    const loop = snapshotOf({
      model: 'S21 XP Hyd.',
      firmware: 'LUXminer',
      boards: [{ temp_inlet_c: 30, temp_board_c: 55 }],
    });
    for (const dangerous of [21, 24, 28, 30]) {
      const limits = effectiveLimits(loop, {}, null, {
        firmware: firmware({ water_inlet_dangerous_c: dangerous }),
      });
      const label = `WaterInletDangerous ${dangerous}`;
      expect(limits.metrics.inlet.critical.value, label).toBe(45);
      const evaluation = evaluateThermal(loop, limits);
      expect(evaluation.status, label).toBe('ok');
      expect(evaluation.action, label).toBe('none');
    }
    const taken = effectiveLimits(loop, {}, null, { firmware: firmware({ water_inlet_dangerous_c: 40 }) });
    expect(taken.metrics.inlet.critical.value).toBe(37);
  });

  it('still takes a low but plausible firmware limit', () => {
    const limits = effectiveLimits(luxS19(60), {}, null, {
      firmware: firmware({ hot_c: 50, dangerous_c: 55 }),
    });
    expect([limits.metrics.board.warn.value, limits.metrics.board.critical.value]).toEqual([50, 52]);
  });
});

describe('a firmware water inlet Dangerous no loop runs at is not used', () => {
  it('ignores a WaterInletDangerous above what hydro miners take (inlet at 80 °C is critical, not ok)', () => {
    const hot = snapshotOf({ model: 'S21 XP Hyd.', firmware: 'LUXminer', boards: [{ temp_inlet_c: 80 }] });
    for (const dangerous of [61, 95, 100]) {
      const limits = effectiveLimits(hot, {}, null, {
        firmware: firmware({ water_inlet_dangerous_c: dangerous }),
      });
      expect(limits.metrics.inlet.critical.value, `WaterInletDangerous ${dangerous}`).toBe(45);
      expect(limits.notes.join('\n')).toMatch(
        new RegExp(`WaterInletDangerous=${dangerous} ignored: above 60 °C`),
      );
      const evaluation = evaluateThermal(hot, limits);
      expect(evaluation.reasons.map((r) => r.message).join('; ')).toMatch(/inlet 80 °C ≥ critical 45 °C/);
    }
    // LuxOS's own documented example (55) is taken.
    const example = effectiveLimits(hot, {}, null, { firmware: firmware({ water_inlet_dangerous_c: 55 }) });
    expect(example.metrics.inlet.critical.value).toBe(52);
  });
});
