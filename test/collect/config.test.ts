import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configPath, loadConfig, parseConfig } from '../../src/config/index.js';
import { jsonPathLines } from '../../src/config/json-lines.js';
import { closest, editDistance } from '../../src/config/suggest.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../store/helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir('hashctl-config-'));
});
afterEach(() => cleanup());

function configErrorOf(text: string, file = '/etc/hashctl/farm.json'): ConfigError {
  try {
    parseConfig(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** `collect --once --config /dev/stdin` fed by `writer` (shell commands) through a shell pipe. */
async function collectReadingPipe(writer: string): Promise<{ code: number | null; stderr: string }> {
  const { execFile } = await import('node:child_process');
  const script = `(${writer}) | "$0" bin/hashctl collect --once --config /dev/stdin --db "$1"`;
  return new Promise((resolve) =>
    execFile(
      'sh',
      ['-c', script, process.execPath, path.join(dir, 'x.db')],
      { cwd: path.join(import.meta.dirname, '../..') },
      (error, _out, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }),
    ),
  );
}

describe('config file', () => {
  it('checks the ranges of durations in the file, naming file, line and key', () => {
    const cases: [string, string][] = [
      ['"interval": "500ms"', 'interval: must be at least 1s'],
      ['"interval": 0.0001', 'interval: must be at least 1s'],
      ['"interval": "25d"', 'interval: must be at most 24d'],
      ['"retain": "30s"', 'retain: must be at least 1h (hourly rollups need the raw rows)'],
      ['"timeout": "100d"', 'timeout: must be at most 24d'],
      ['"timeout": "0s"', 'timeout: must be at least 1ms'],
    ];
    for (const [line, message] of cases) {
      const error = configErrorOf(`{\n  "site": "north",\n  ${line}\n}\n`);
      expect(error.message, line).toBe(`config /etc/hashctl/farm.json:3: ${message}`);
    }
  });

  it('says what a duration is when one is given as another type, rather than "Invalid input"', () => {
    const expected = 'expected a duration: a string such as "60s", "5m", "30d", or a number of seconds';
    for (const key of ['interval', 'retain', 'timeout']) {
      for (const value of ['true', 'null', '{}', '["60s"]', '1e400']) {
        const error = configErrorOf(`{\n  "site": "north",\n  "${key}": ${value}\n}\n`);
        expect(error.message, `${key}: ${value}`).toBe(
          `config /etc/hashctl/farm.json:3: ${key}: ${expected}`,
        );
      }
    }
  });

  it('gives line numbers in a file that starts with a byte-order mark', () => {
    const error = configErrorOf('\uFEFF{\r\n  "site": "north",\r\n  "interval": "soon"\r\n}\r\n');
    expect(error.message).toMatch(/^config \/etc\/hashctl\/farm\.json:3: interval: invalid duration "soon"/);
  });

  it('parses every key, turns durations into ms and resolves paths against the file', () => {
    const { config } = parseConfig(
      JSON.stringify({
        targets: ['10.0.0.0/30', '@miners.txt'],
        site: 'north',
        interval: '60s',
        retain: 30 * 86_400,
        db: 'data/hashctl.db',
        concurrency: 500,
        timeout: '2s',
        upload: { endpoint: 'https://collector.example/', key_file: 'collector.key' },
        thermal: { margin_c: 2, sites: { north: { board: { warn: 70, critical: 78 } } } },
      }),
      '/etc/hashctl/farm.json',
    );
    expect(config).toEqual({
      targets: ['10.0.0.0/30', '@/etc/hashctl/miners.txt'],
      site: 'north',
      interval: 60_000,
      retain: 30 * 86_400_000,
      db: '/etc/hashctl/data/hashctl.db',
      concurrency: 500,
      timeout: 2000,
      upload: { endpoint: 'https://collector.example/', key_file: '/etc/hashctl/collector.key' },
      thermal: { margin_c: 2, sites: { north: { board: { warn: 70, critical: 78 } } } },
    });
  });

  it('names the file, the key path and the line of a bad value', () => {
    const error = configErrorOf(
      '{\n  "site": "north",\n  "upload": {\n    "endpoint": "ftp://x"\n  },\n  "interval": "soon"\n}',
    );
    expect(error.kind).toBe('config');
    expect(error.exitCode).toBe(2);
    expect(error.details).toMatchObject({
      file: '/etc/hashctl/farm.json',
      path: ['upload', 'endpoint'],
      line: 4,
    });
    expect(error.message).toContain('/etc/hashctl/farm.json:4: upload.endpoint');

    const duration = configErrorOf('{\n  "interval": "soon"\n}');
    expect(duration.details).toMatchObject({ path: ['interval'], line: 2 });

    const item = configErrorOf('{\n  "targets": [\n    "10.0.0.1",\n    ""\n  ]\n}');
    expect(item.details).toMatchObject({ path: ['targets', '1'], line: 4 });

    // A target checked as --targets checks it, and named with its line, not as if typed on the CLI.
    const port = configErrorOf('{\n  "targets": [\n    "10.0.0.1",\n    "10.0.0.2:99999"\n  ]\n}');
    expect(port.message).toBe(
      "config /etc/hashctl/farm.json:4: targets.1: invalid target '10.0.0.2:99999': port 99999 is out of range 1-65535",
    );
    expect(() =>
      parseConfig('{"targets": ["@farm.txt", "10.0.0.0/24", "10.0.0.5-9", "rig-7:4029"]}', '/x.json'),
    ).not.toThrow();
  });

  it('a target list the config names that cannot be read is said with the config file (exit 2)', async () => {
    const { runCli } = await import('../../src/cli.js');
    const { memoryContext } = await import('../../src/context.js');
    const file = path.join(dir, 'farm.json');
    fs.writeFileSync(file, JSON.stringify({ targets: ['@missing.txt'], db: path.join(dir, 'x.db') }));
    const ctx = memoryContext();
    expect(await runCli(['collect', '--once', '--config', file], ctx)).toBe(2);
    expect(ctx.err()).toContain(
      `config ${file}: targets: cannot read target file '${path.join(dir, 'missing.txt')}'`,
    );
    expect(fs.existsSync(path.join(dir, 'x.db'))).toBe(false);
  });

  it('a db the config names that is no database file is said with the config file and its key, not --db', async () => {
    const { runCli } = await import('../../src/cli.js');
    const { memoryContext } = await import('../../src/context.js');
    const folder = path.join(dir, 'adir');
    fs.mkdirSync(folder);
    const file = path.join(dir, 'farm.json');
    fs.writeFileSync(file, JSON.stringify({ targets: ['127.0.0.1:1'], db: 'adir' }));
    const said = `${folder} is a directory, not a database file (set "db" in config ${file} to a file name)\n`;
    for (const argv of [
      ['collect', '--once', '--retries', '0', '--config', file],
      ['live', '--config', file],
      ['export', '--config', file],
      ['upload', '--status', '--config', file],
      ['thermal', 'check', '--from-db', '--config', file],
    ]) {
      const ctx = memoryContext();
      expect(await runCli(argv, ctx), argv.join(' ')).toBe(2);
      expect(ctx.err(), argv.join(' ')).toBe(`hashctl: ${said}`);
    }
    // Given as --db, the same folder is still the flag's to fix.
    const ctx = memoryContext();
    expect(await runCli(['live', '--config', file, '--db', folder], ctx)).toBe(2);
    expect(ctx.err()).toBe(
      `hashctl: ${folder} is a directory, not a database file (give --db a file name)\n`,
    );
    // A database the config names that is not there yet: the key to change, not a --db to pass.
    fs.writeFileSync(file, JSON.stringify({ db: 'none.db' }));
    const missing = memoryContext();
    expect(await runCli(['live', '--config', file], missing)).toBe(1);
    expect(missing.err()).toBe(
      `hashctl: no database at ${path.join(dir, 'none.db')}: run \`hashctl collect\` first (or set "db" in config ${file} to another file)\n`,
    );
  });

  it('refuses a blank db in the config by its line, as an empty --db is refused', () => {
    expect(configErrorOf('{\n  "site": "north",\n  "db": "   "\n}').message).toBe(
      'config /etc/hashctl/farm.json:3: db: is empty: give a database file name',
    );
  });

  it('says what is wrong with a config path that is no config file: a folder, a link loop, a huge file', () => {
    const configError = (file: string) => {
      try {
        loadConfig(file);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(configError(dir)).toBe(`config ${dir}: is a directory, not a config file`);
    fs.symlinkSync('loop-b', path.join(dir, 'loop-a'));
    fs.symlinkSync('loop-a', path.join(dir, 'loop-b'));
    expect(configError(path.join(dir, 'loop-a'))).toBe(
      `config ${path.join(dir, 'loop-a')}: too many symbolic links (a loop?)`,
    );
    // A disk image or a log named by mistake is refused by its size, not read into memory.
    const huge = path.join(dir, 'huge.json');
    fs.writeFileSync(huge, '');
    fs.truncateSync(huge, 65 * 1024 * 1024);
    expect(configError(huge)).toBe(
      `config ${huge}: 68,157,440 bytes: a config file is at most 64 MiB (is this the right file?)`,
    );
  });

  it('refuses a file not in UTF-8 by its line, rather than reading a changed site or db name', () => {
    const configError = (bytes: Buffer) => {
      const file = path.join(dir, 'farm.json');
      fs.writeFileSync(file, bytes);
      try {
        loadConfig(file);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).message;
      }
      throw new Error('expected a ConfigError');
    };
    const file = path.join(dir, 'farm.json');
    // "café" saved in Latin-1: read leniently, the site became "caf\uFFFD", a new site.
    const latin1 = Buffer.from('{\n  "db": "farm.db",\n  "site": "caf\xe9"\n}\n', 'latin1');
    expect(configError(latin1)).toBe(
      `config ${file}:3: not UTF-8 text (saved as Latin-1 or another encoding?): save it as UTF-8`,
    );
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"site": "north"}', 'utf16le')]);
    expect(configError(utf16)).toBe(`config ${file}: is UTF-16 text: save it as UTF-8`);
    // UTF-8, with its byte-order mark or without, is read as it is.
    const utf8 = Buffer.from('\uFEFF{\n  "site": "café"\n}\n', 'utf8');
    fs.writeFileSync(file, utf8);
    expect(loadConfig(file).config.site).toBe('café');
  });

  it('says at once (exit 2) that a FIFO given as the config has no writer, instead of waiting for one for ever', async () => {
    const { execFileSync } = await import('node:child_process');
    const { runHashctl } = await import('../support/hashctl-process.js');
    const fifo = path.join(dir, 'farm.json');
    execFileSync('mkfifo', [fifo]);
    const run = await runHashctl(['collect', '--once', '--config', fifo, '--db', path.join(dir, 'x.db')]);
    expect(run.stderr).toBe(`hashctl: config ${fifo}: is a FIFO with no writer (nothing to read)\n`);
    expect(run.code).toBe(2);
    expect(fs.existsSync(path.join(dir, 'x.db'))).toBe(false);
  });

  it('reads a config from a pipe as it is written (--config <(…), /dev/stdin)', async () => {
    // A shell pipe (Node's own child stdin is a socket); the second part comes after a pause,
    // so hashctl finds the pipe open but empty first.
    const run = await collectReadingPipe(
      `printf '{\\n  "site": "north",\\n'; sleep 0.3; printf '  "interval": "soon"\\n}\\n'`,
    );
    expect(run.stderr).toBe(
      'hashctl: config /dev/stdin:3: interval: invalid duration "soon": use e.g. 500ms, 60s, 5m, 30d\n',
    );
    expect(run.code).toBe(2);
  });

  it('waits out a writer that pauses several times, each pause shorter than the limit (10 s of silence, not in all)', async () => {
    // Three pauses of 4 s: 12 s in all, never 10 s without a byte. The total had been counted,
    // and the run failed with "nothing was written to for 10s".
    const run = await collectReadingPipe(
      `printf '{\\n'; sleep 4; printf '  "site": "north",\\n'; sleep 4; printf '  "retain": "30d",\\n'; sleep 4; printf '  "interval": "soon"\\n}\\n'`,
    );
    expect(run.stderr).toBe(
      'hashctl: config /dev/stdin:4: interval: invalid duration "soon": use e.g. 500ms, 60s, 5m, 30d\n',
    );
    expect(run.code).toBe(2);
  }, 30_000);

  it('refuses unknown keys by name, so a typo never falls back to a default silently', () => {
    const error = configErrorOf('{\n  "site": "a",\n  "intreval": "60s"\n}');
    expect(error.details).toMatchObject({ path: ['intreval'], line: 3 });
    expect(error.message).toContain('intreval');
  });

  it('says which key an unknown one was likely meant to be, or which keys that place takes', () => {
    expect(configErrorOf('{\n  "concurency": 5\n}').message).toBe(
      'config /etc/hashctl/farm.json:2: concurency: unknown key (did you mean "concurrency"?)',
    );
    // Transposed letters, case and `-` for `_` are one slip each; the path runs through records.
    expect(configErrorOf('{"intreval": "60s"}').message).toContain('(did you mean "interval"?)');
    // A misspelt required key: the typo is named, not the key it leaves missing.
    expect(
      configErrorOf('{\n  "upload": {\n    "endpont": "https://c.example",\n    "key_file": "k"\n  }\n}')
        .message,
    ).toBe('config /etc/hashctl/farm.json:3: upload.endpont: unknown key (did you mean "endpoint"?)');
    expect(configErrorOf('{"upload": {"endpoint": "http://c.example", "Key-File": "k"}}').message).toContain(
      'upload.Key-File: unknown key (did you mean "key_file"?)',
    );
    expect(configErrorOf('{"thermal": {"models": {"S9": {"chip": {"wran": 80}}}}}').message).toContain(
      'thermal.models.S9.chip.wran: unknown key (did you mean "warn"?)',
    );
    // Nothing close: the keys allowed there, so the reader need not open the README.
    expect(configErrorOf('{"limits": {"timeout": "2s"}}').message).toMatch(
      /: limits: unknown key \(known here: targets, site, interval, .*concurrency, timeout, retries, port, upload, thermal\)$/,
    );
    expect(configErrorOf('{"thermal": {"defaults": {}}}').message).toContain(
      'thermal.defaults: unknown key (known here: margin_c, margin_rpm, classes, sites, models, miners)',
    );
  });

  it('guesses only close keys', () => {
    expect(closest('concurency', ['concurrency', 'timeout'])).toBe('concurrency');
    expect(closest('tiemout', ['concurrency', 'timeout'])).toBe('timeout');
    expect(closest('db', ['site', 'port'])).toBeNull();
    expect(closest('limits', ['site', 'retries', 'timeout'])).toBeNull();
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('key-file', 'KEY_FILE')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('says an empty file is empty, and a YAML or INI file is not JSON, with the line it starts on', () => {
    for (const empty of ['', '  \n\n', '\uFEFF\r\n']) {
      const error = configErrorOf(empty);
      expect(error.message).toBe(
        'config /etc/hashctl/farm.json: is empty: a config file is one JSON object, {"targets": [...], ...}',
      );
    }
    const hint = ': a config file is one JSON object, {"targets": [...], ...}; YAML and INI are not read';
    const yaml = configErrorOf('\n\ntargets:\n  - 10.0.0.0/24\nsite: a\n');
    expect(yaml.message).toBe(
      `config /etc/hashctl/farm.json:3: not valid JSON (Unexpected token 'a')${hint}`,
    );
    expect(configErrorOf('[collect]\nsite = a\n').message).toBe(
      `config /etc/hashctl/farm.json:1: not valid JSON (Unexpected token 'c')${hint}`,
    );
    // Inside an object, a token V8 gives no position for: its line, and none of the file's text.
    expect(configErrorOf('{\n  "site": "a",\n  "once": tru\n}').message).toBe(
      "config /etc/hashctl/farm.json:3: not valid JSON (Unexpected token '\n')",
    );
    // Valid JSON that is no object is the schema's to say, as before.
    expect(configErrorOf('"targets"').message).not.toMatch(/not valid JSON/);
  });

  it('reports broken JSON with its line, and a missing file by name', () => {
    const broken = configErrorOf('{\n  "site": "a",\n  "interval": 60s\n}');
    expect(broken.details).toMatchObject({ file: '/etc/hashctl/farm.json' });
    expect(broken.message).toMatch(/farm\.json:3: not valid JSON/);

    const missing = path.join(dir, 'nope.json');
    expect(() => loadConfig(missing)).toThrow(ConfigError);
    try {
      loadConfig(missing);
    } catch (error) {
      expect((error as ConfigError).message).toContain(missing);
    }
  });

  it('says a comment or a trailing comma (JSON with comments, JSON5) is what JSON does not take, on its line', () => {
    const at = (text: string) => configErrorOf(text).message.replace('config /etc/hashctl/farm.json', '');
    const comment = ':2: not valid JSON (a comment: JSON has none; remove it)';
    expect(at('{\n  // the north hall\n  "site": "north"\n}')).toBe(comment);
    expect(at('{\n  /* the north hall */ "site": "north"\n}')).toBe(comment);
    expect(at('{\n  # the north hall\n  "site": "north"\n}')).toBe(comment);
    expect(at('{\n  "site": "north", // the hall\n  "interval": "60s"\n}')).toBe(comment);
    expect(at('{\n  "site": "north" // the hall\n}')).toBe(comment);
    // The comma's own line, not the line of the bracket after it.
    const comma = ':3: not valid JSON (a comma after the last item: JSON takes none; remove it)';
    expect(at('{\n  "site": "north",\n  "interval": "60s",\n}')).toBe(comma);
    expect(at('{\n  "site": "north",\n  "targets": ["10.0.0.1", "10.0.0.2",\n  ]\n}')).toBe(comma);
    // Two documents in one file: V8's "at position N" is not left in the line.
    expect(at('{"site": "north"}\n{"interval": "60s"}\n')).toBe(
      ':2: not valid JSON (Unexpected non-whitespace character after JSON)',
    );
  });

  it('is found through --config, then $HASHCTL_CONFIG', () => {
    const file = path.join(dir, 'c.json');
    fs.writeFileSync(file, '{"site":"east"}');
    expect(configPath(undefined, { HASHCTL_CONFIG: 'c.json' }, dir)).toBe(file);
    expect(configPath('other.json', { HASHCTL_CONFIG: 'c.json' }, dir)).toBe(path.join(dir, 'other.json'));
    expect(configPath(undefined, {}, dir)).toBeNull();
    expect(loadConfig(file).config).toEqual({ site: 'east' });
  });

  it('validates the thermal section, naming the file, line and key of a bad override', () => {
    const text = [
      '{',
      '  "site": "north",',
      '  "thermal": {',
      '    "sites": {',
      '      "north": { "board": { "warn": 70, "critical": 78 } }',
      '    },',
      '    "models": {',
      '      "S19j Pro": {',
      '        "chip": { "warn": "hot" }',
      '      }',
      '    }',
      '  }',
      '}',
    ].join('\n');
    const wrongType = configErrorOf(text);
    expect(wrongType.details).toMatchObject({
      path: ['thermal', 'models', 'S19j Pro', 'chip', 'warn'],
      line: 9,
    });
    expect(wrongType.message).toMatch(
      /^config \/etc\/hashctl\/farm\.json:9: thermal\.models\.S19j Pro\.chip\.warn: /,
    );

    const unknown = configErrorOf(
      '{\n  "thermal": {\n    "miners": {\n      "10.0.0.5": { "bord": {} }\n    }\n  }\n}',
    );
    expect(unknown.details).toMatchObject({ path: ['thermal', 'miners', '10.0.0.5', 'bord'], line: 4 });
    expect(unknown.message).toContain('thermal.miners.10.0.0.5.bord: unknown key');

    // The thermal schema's own rule (warn before critical) keeps its message and gets its line.
    const order = configErrorOf(
      '{\n  "thermal": {\n    "sites": {\n      "A": {\n        "board": { "warn": 90, "critical": 85 }\n      }\n    }\n  }\n}',
    );
    expect(order.message).toBe(
      'config /etc/hashctl/farm.json:5: thermal.sites.A.board.warn: warn 90 must be at or below critical 85',
    );
    expect(configErrorOf('{"thermal": {"sites": {"A": {"cooling": "oil"}}}}').message).toMatch(
      /:1: thermal\.sites\.A\.cooling: /,
    );
  });

  it('maps nested paths to lines', () => {
    const lines = jsonPathLines('{\n "a": {\n  "b": [\n   1,\n   {"c": 2}\n  ]\n }\n}');
    expect(lines.get('a')).toBe(2);
    expect(lines.get('a.b')).toBe(3);
    expect(lines.get('a.b.0')).toBe(4);
    expect(lines.get('a.b.1.c')).toBe(5);
  });

  it('refuses a site no collect would take, naming the file, line and key rather than --site', () => {
    expect(configErrorOf('{\n  "site": "north\\u0007",\n  "retain": "30d"\n}').message).toBe(
      'config /etc/hashctl/farm.json:2: site: control and invisible characters cannot name a site',
    );
    expect(configErrorOf('{\n  "retain": "30d",\n  "site": "   "\n}').message).toBe(
      'config /etc/hashctl/farm.json:3: site: empty',
    );
    expect(parseConfig('{"site": "Café Nord-2"}', 'f.json').config.site).toBe('Café Nord-2');
  });

  it('refuses a key given twice in one object, naming both lines, rather than keeping the last', () => {
    const twice = configErrorOf(
      '{\n  "db": "/srv/farm.db",\n  "site": "north",\n  "db": "/tmp/test.db"\n}\n',
    );
    expect(twice.message).toBe('config /etc/hashctl/farm.json:4: db: given twice (also on line 2): keep one');
    expect(twice.details).toMatchObject({ key: 'db', line: 4 });
    // One miner's limits written twice, deep inside thermal, counts the same.
    const nested = configErrorOf(
      '{"thermal": {"miners": {\r\n  "10.0.0.5:4028": {"board": {"warn": 70}},\r\n  "10.0.0.5:4028": {"board": {"warn": 90}}\r\n}}}',
    );
    expect(nested.message).toMatch(
      /^config \/etc\/hashctl\/farm\.json:3: thermal\.miners\.10\.0\.0\.5:4028: given twice \(also on line 2\)/,
    );
    // The same key in two different objects is fine.
    expect(() =>
      parseConfig(
        '{"thermal": {"sites": {"a": {"board": {"warn": 70}}, "b": {"board": {"warn": 70}}}}}',
        'f.json',
      ),
    ).not.toThrow();
  });

  it('names the key of a value nested 200,000 deep, rather than overflowing the stack', () => {
    const depth = 200_000;
    const text = `{\n  "site": "north",\n  "targets": ${'['.repeat(depth)}${']'.repeat(depth)}\n}\n`;
    const error = configErrorOf(text);
    expect(error.message).toMatch(/^config \/etc\/hashctl\/farm\.json:3: targets\.0: /);
    expect(error.details).toMatchObject({ path: ['targets', '0'], line: 3 });
  });
  it('names a 100 KB unknown or repeated key by its start, in one short line', () => {
    const key = `x${'y'.repeat(100_000)}`;
    const unknown = configErrorOf(`{\n  "site": "north",\n  "${key}": 1\n}\n`);
    expect(unknown.message).toMatch(
      /^config \/etc\/hashctl\/farm\.json:3: xy+… \(100001 characters\): unknown key/,
    );
    expect(unknown.message.length).toBeLessThan(300);
    const twice = configErrorOf(`{\n  "thermal": {"miners": {"${key}": {}, "${key}": {}}}\n}\n`);
    expect(twice.message).toMatch(
      /^config \/etc\/hashctl\/farm\.json:2: thermal\.miners\.xy+… \(100016 characters\): given twice/,
    );
    expect(twice.message.length).toBeLessThan(300);
  });
});
