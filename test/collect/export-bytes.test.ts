// The export's bytes, pinned: CSV and NDJSON of a small store whose every awkward value (nulls,
// quotes, commas, newlines, formula-leading text, unicode, huge and tiny numbers, infinities, a
// timestamp past year 9999, a site, miner and algorithm that need quoting) is set by hand, against
// output written out by hand. The export formats its rows without building an object per row; a
// change of a single byte in what a spreadsheet or a JSON reader gets fails here.
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseExportOptions, runExport } from '../../src/commands/export.js';
import { parseGlobals } from '../../src/commands/shared.js';
import { memoryContext } from '../../src/context.js';
import { type MinerOutcome, openStore, writeCycle } from '../../src/store/index.js';
import { makeSnapshot, target, tempDir } from '../store/helpers.js';

let cleanup: () => void;
let dbPath: string;
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const T1 = NOW - 120_000; // 2025-06-01T11:58:00.000Z
const T2 = NOW - 60_000; // 2025-06-01T11:59:00.000Z

const outcomes: MinerOutcome[] = [
  { target: target(4001), ok: true, snapshot: makeSnapshot(), elapsedMs: 10 },
  {
    target: target(4002, 'odd:name'),
    ok: false,
    error: { kind: 'refused', message: 'refused' },
    elapsedMs: 10,
  },
  { target: target(4003, 'we,ird"host'), ok: true, snapshot: makeSnapshot(), elapsedMs: 10 },
];

const COLUMNS = [
  'ts',
  'run_id',
  'hashrate_hs',
  'temp_chip_max_c',
  'temp_board_max_c',
  'fan_min_rpm',
  'boards_ok',
  'boards_total',
  'chips',
  'chips_expected',
  'power_w',
  'accepted',
  'rejected',
  'error_kind',
  'thermal_status',
];
const NULLS = Array.from({ length: 11 }, () => 'NULL');
// The six rows (ids 1-6: two cycles of miners 1, 2, 3), every column in COLUMNS' order as SQL.
const ROWS: string[][] = [
  [
    `${T1}`,
    '7',
    '1.7976931348623157e308',
    '5e-324',
    '-0.5',
    '0',
    '3',
    '3',
    '378',
    '378',
    '1e21',
    '9007199254740993',
    '-1',
    'NULL',
    `'=HYPERLINK("http://x","y")'`,
  ],
  [`${T1}`, '7', ...NULLS, `'refused'`, 'NULL'],
  [
    `${T1}`,
    '7',
    '9e999',
    '0.30000000000000004',
    '1e-7',
    '5400',
    '2',
    '3',
    '250',
    '378',
    '0.5',
    '0',
    '0',
    `'line1' || char(10) || 'line2, "q"'`,
    `'+1'`,
  ],
  [
    `${T2}`,
    '8',
    '-9e999',
    '123456789.125',
    '25',
    '1',
    '0',
    '0',
    '0',
    '0',
    '0.001',
    '1',
    '2',
    `char(9) || 'Tab'`,
    `'-5'`,
  ],
  [`${T2}`, '8', ...NULLS, `'@sum'`, `'café ☃ 𝄞'`],
  [
    '8640000000000000',
    '8',
    '1e-300',
    '1.5',
    ...NULLS.slice(2),
    `char(13) || 'cr'`,
    `'a' || char(13) || char(10) || 'b'`,
  ],
];

beforeEach(() => {
  const temp = tempDir('hashctl-export-bytes-');
  cleanup = temp.cleanup;
  dbPath = path.join(temp.dir, 'farm.db');
  const store = openStore(dbPath);
  try {
    writeCycle(store, { site: 'north', startedAt: T1, endedAt: T1 + 100, outcomes });
    writeCycle(store, { site: 'north', startedAt: T2, endedAt: T2 + 100, outcomes });
    const ids = store.db.prepare('SELECT id FROM telemetry_history ORDER BY id').pluck().all();
    expect(ids).toEqual([1, 2, 3, 4, 5, 6]);
    ROWS.forEach((values, i) => {
      expect(values).toHaveLength(COLUMNS.length);
      store.db.exec(
        `UPDATE telemetry_history SET ${COLUMNS.map((column, c) => `${column} = ${values[c]}`).join(', ')} WHERE id = ${i + 1}`,
      );
    });
    store.db.exec(`UPDATE sites SET name = '=north, "east"' || char(10) || '☃'`);
    store.db.exec(
      `UPDATE telemetry_live SET algorithm = CASE miner_id WHEN 1 THEN 'sha256d' WHEN 3 THEN '-scrypt,x' END`,
    );
  } finally {
    store.close();
  }
});
afterEach(() => cleanup());

async function exported(format: 'csv' | 'ndjson'): Promise<string> {
  const ctx = memoryContext({ now: () => NOW, env: {} });
  const globals = parseGlobals({}, ctx);
  const code = await runExport(
    await parseExportOptions({ db: dbPath, since: '1h', format }, globals, ctx),
    globals,
    ctx,
  );
  expect(code).toBe(0);
  expect(ctx.err()).toBe('');
  return ctx.out();
}

describe('hashctl export, byte for byte', () => {
  it('writes this CSV', async () => {
    const site = `"'=north, ""east""\n☃"`;
    expect(await exported('csv')).toBe(
      [
        'ts,site,miner,run_id,hashrate_hs,algorithm,temp_chip_max_c,temp_board_max_c,fan_min_rpm,boards_ok,boards_total,chips,chips_expected,power_w,accepted,rejected,error_kind,thermal_status',
        `2025-06-01T11:58:00.000Z,${site},127.0.0.1:4001,7,1.7976931348623157e+308,sha256d,5e-324,-0.5,0,3,3,378,378,1e+21,9007199254740992,-1,,"'=HYPERLINK(""http://x"",""y"")"`,
        `2025-06-01T11:58:00.000Z,${site},[odd:name]:4002,7,,,,,,,,,,,,,refused,`,
        `2025-06-01T11:58:00.000Z,${site},"we,ird""host:4003",7,Infinity,"'-scrypt,x",0.30000000000000004,1e-7,5400,2,3,250,378,0.5,0,0,"line1\nline2, ""q""",'+1`,
        `2025-06-01T11:59:00.000Z,${site},127.0.0.1:4001,8,-Infinity,sha256d,123456789.125,25,1,0,0,0,0,0.001,1,2,'\tTab,'-5`,
        `2025-06-01T11:59:00.000Z,${site},[odd:name]:4002,8,,,,,,,,,,,,,'@sum,café ☃ 𝄞`,
        `'+275760-09-13T00:00:00.000Z,${site},"we,ird""host:4003",8,1e-300,"'-scrypt,x",1.5,,,,,,,,,,"'\rcr","a\r\nb"`,
        '',
      ].join('\n'),
    );
  });

  it('writes this NDJSON', async () => {
    const site = '"=north, \\"east\\"\\n☃"';
    const line = (fields: string): string => `{${fields}}`;
    expect(await exported('ndjson')).toBe(
      [
        line(
          `"ts":"2025-06-01T11:58:00.000Z","site":${site},"miner":"127.0.0.1:4001","run_id":7,"hashrate_hs":1.7976931348623157e+308,"algorithm":"sha256d","temp_chip_max_c":5e-324,"temp_board_max_c":-0.5,"fan_min_rpm":0,"boards_ok":3,"boards_total":3,"chips":378,"chips_expected":378,"power_w":1e+21,"accepted":9007199254740992,"rejected":-1,"error_kind":null,"thermal_status":"=HYPERLINK(\\"http://x\\",\\"y\\")"`,
        ),
        line(
          `"ts":"2025-06-01T11:58:00.000Z","site":${site},"miner":"[odd:name]:4002","run_id":7,"hashrate_hs":null,"algorithm":null,"temp_chip_max_c":null,"temp_board_max_c":null,"fan_min_rpm":null,"boards_ok":null,"boards_total":null,"chips":null,"chips_expected":null,"power_w":null,"accepted":null,"rejected":null,"error_kind":"refused","thermal_status":null`,
        ),
        line(
          `"ts":"2025-06-01T11:58:00.000Z","site":${site},"miner":"we,ird\\"host:4003","run_id":7,"hashrate_hs":null,"algorithm":"-scrypt,x","temp_chip_max_c":0.30000000000000004,"temp_board_max_c":1e-7,"fan_min_rpm":5400,"boards_ok":2,"boards_total":3,"chips":250,"chips_expected":378,"power_w":0.5,"accepted":0,"rejected":0,"error_kind":"line1\\nline2, \\"q\\"","thermal_status":"+1"`,
        ),
        line(
          `"ts":"2025-06-01T11:59:00.000Z","site":${site},"miner":"127.0.0.1:4001","run_id":8,"hashrate_hs":null,"algorithm":"sha256d","temp_chip_max_c":123456789.125,"temp_board_max_c":25,"fan_min_rpm":1,"boards_ok":0,"boards_total":0,"chips":0,"chips_expected":0,"power_w":0.001,"accepted":1,"rejected":2,"error_kind":"\\tTab","thermal_status":"-5"`,
        ),
        line(
          `"ts":"2025-06-01T11:59:00.000Z","site":${site},"miner":"[odd:name]:4002","run_id":8,"hashrate_hs":null,"algorithm":null,"temp_chip_max_c":null,"temp_board_max_c":null,"fan_min_rpm":null,"boards_ok":null,"boards_total":null,"chips":null,"chips_expected":null,"power_w":null,"accepted":null,"rejected":null,"error_kind":"@sum","thermal_status":"café ☃ 𝄞"`,
        ),
        line(
          `"ts":"+275760-09-13T00:00:00.000Z","site":${site},"miner":"we,ird\\"host:4003","run_id":8,"hashrate_hs":1e-300,"algorithm":"-scrypt,x","temp_chip_max_c":1.5,"temp_board_max_c":null,"fan_min_rpm":null,"boards_ok":null,"boards_total":null,"chips":null,"chips_expected":null,"power_w":null,"accepted":null,"rejected":null,"error_kind":"\\rcr","thermal_status":"a\\r\\nb"`,
        ),
        '',
      ].join('\n'),
    );
  });
});
