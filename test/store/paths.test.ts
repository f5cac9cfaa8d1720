import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { resolveDbPath } from '../../src/store/index.js';

describe('resolveDbPath', () => {
  const cwd = '/farm/host';
  it('takes --db, then HASHCTL_DB, then XDG_DATA_HOME (absolute only), then ~/.local/share', () => {
    expect(resolveDbPath('x.db', { HASHCTL_DB: '/e.db' }, cwd)).toBe(path.resolve(cwd, 'x.db'));
    expect(resolveDbPath(undefined, { HASHCTL_DB: 'e.db' }, cwd)).toBe(path.resolve(cwd, 'e.db'));
    expect(resolveDbPath(undefined, { XDG_DATA_HOME: '/xdg' }, cwd)).toBe('/xdg/hashctl/hashctl.db');
    expect(resolveDbPath(undefined, { XDG_DATA_HOME: 'rel', HOME: '/home/op' }, cwd)).toBe(
      '/home/op/.local/share/hashctl/hashctl.db',
    );
  });

  it('reads ~/ as the home folder in --db=~/…, HASHCTL_DB and the config file, as the shell would', async () => {
    const { parseConfig } = await import('../../src/config/index.js');
    const env = { HOME: '/home/op' };
    expect(resolveDbPath('~/farm.db', env, cwd)).toBe('/home/op/farm.db');
    expect(resolveDbPath(undefined, { ...env, HASHCTL_DB: '~/data/farm.db' }, cwd)).toBe(
      '/home/op/data/farm.db',
    );
    const { config } = parseConfig('{"db": "~/farm.db"}', '/etc/hashctl/farm.json');
    expect(resolveDbPath(config.db, env, cwd)).toBe('/home/op/farm.db');
    const { configPath } = await import('../../src/config/index.js');
    expect(configPath('~/farm.json', env, cwd)).toBe('/home/op/farm.json');
    expect(configPath(undefined, { ...env, HASHCTL_CONFIG: '~/farm.json' }, cwd)).toBe('/home/op/farm.json');
    // Only a leading ~ followed by / is the home folder.
    expect(resolveDbPath('a/~/farm.db', env, cwd)).toBe('/farm/host/a/~/farm.db');
    expect(resolveDbPath('~farm.db', env, cwd)).toBe('/farm/host/~farm.db');
  });

  it('refuses an empty --db (an unset variable in a cron line) instead of using the default file', () => {
    for (const flag of ['', '  ']) {
      expect(() => resolveDbPath(flag, { HOME: '/home/op' }, cwd)).toThrow(UsageError);
      expect(() => resolveDbPath(flag, { HOME: '/home/op' }, cwd)).toThrow(
        '--db is empty: give a database file name',
      );
    }
  });
});

describe('parseMinerArg', () => {
  it('reads HOST, HOST:PORT and [V6]:PORT, with host names in the lower case they are stored in', async () => {
    const { parseMinerArg } = await import('../../src/collect/read.js');
    expect(parseMinerArg('Miner-7.Farm.example:4028')).toEqual({ host: 'miner-7.farm.example', port: 4028 });
    // As collect stored them: a trailing dot dropped, IPv6 short, a bare IPv6, IPv4-mapped as IPv4.
    expect(parseMinerArg('localhost.:4030')).toEqual({ host: 'localhost', port: 4030 });
    expect(parseMinerArg('[0:0:0:0:0:0:0:1]:4031')).toEqual({ host: '::1', port: 4031 });
    expect(parseMinerArg('::1')).toEqual({ host: '::1', port: null });
    expect(parseMinerArg('[::ffff:127.0.0.1]:4032')).toEqual({ host: '127.0.0.1', port: 4032 });
    expect(() => parseMinerArg('10.0.0.1:99999')).toThrow(/invalid miner '10\.0\.0\.1:99999': port 99999/);
    expect(parseMinerArg('[FE80::1]:4029')).toEqual({ host: 'fe80::1', port: 4029 });
    expect(parseMinerArg('10.0.0.5')).toEqual({ host: '10.0.0.5', port: null });
  });
});
