// MicroBT Whatsminer (btminer, API v1.x/2.x on 4028, §8.5, §13.1): cgminer-style reads via
// "command", btminer-native reads via "cmd" with a flat STATUS string and an object Msg, and the
// v2 write path: `get_token`, then `{"enc":1,"data":…}` AES-encrypted with a key derived from the
// admin password, answered `{"enc":…}` (samples whatsminer-m31s__get_token,
// …__encrypted-write_reply, whatsminer_no-write-api__encrypted-write_reply).
import { READ_JOINABLE, reply, upstreamCommands } from '../commands.js';
import { fx, type Rec, toJson } from '../json.js';
import { activePool, newPool, readings } from '../state.js';
import type { CommandCtx, Profile, Reply, SimPool, WhatsminerSimToken } from '../types.js';
import { expectedSign, minerKeys, openRequest, sealReply } from '../whatsminer-crypto.js';
import { epochS, MH, poolsCommand, shareTotals, upstreamPools } from './common.js';

const API_DESCRIPTION = 'whatsminer v1.3';
const FIRMWARE = '20201202.22.REL';
/** The factory admin password (§7); tests set `state.adminPassword` to model a changed one. */
export const DEFAULT_ADMIN_PASSWORD = 'admin';
/** The salt of the stored password hash (the captured one): fixed while the password is. */
const PASSWORD_SALT = 'BQ5hoXV9';
/** Vendor doc 2.0.5: a token lives 30 minutes; one IP may hold 32 (kept per miner here). */
const TOKEN_LIFE_MS = 30 * 60 * 1000;
const MAX_TOKENS = 32;
const SALT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function flatObject(ctx: CommandCtx, letter: 'S' | 'E', code: number, msg: string | Rec): Rec {
  return {
    STATUS: letter,
    When: Math.floor(ctx.now / 1000),
    Code: code,
    Msg: msg,
    Description: API_DESCRIPTION,
  };
}

function flat(ctx: CommandCtx, letter: 'S' | 'E', code: number, msg: string | Rec): Reply {
  return { type: 'object', object: flatObject(ctx, letter, code, msg) };
}

/** Native writes (vendor doc 2.0.5): accepted only encrypted, and only with the write API enabled. */
const NATIVE_WRITES = new Set([
  'update_pools',
  'restart_btminer',
  'power_off',
  'power_on',
  'set_led',
  'set_low_power',
  'set_normal_power',
  'set_high_power',
  'reboot',
  'factory_reset',
  'update_pwd',
  'net_config',
  'set_target_freq',
  'set_power_pct',
  'adjust_power_limit',
]);

function native(cmd: string, body: Record<string, unknown>, ctx: CommandCtx): Reply {
  // An encrypted request ({"enc":1,"data":…}) arrives with no cmd (src/sim/request.ts).
  if (cmd === '') return encrypted(body, ctx);
  // Writes must be encrypted (§13.1), whatever the access.
  if (NATIVE_WRITES.has(cmd)) return flat(ctx, 'E', 45, 'permission denied');
  const read = nativeRead(cmd, ctx);
  if (read) return read;
  // A cgminer command (or a join of them) under the btminer key: the cgminer side answers that the
  // `command` key is missing (whatsminer-m31s__cmd-key-multicommand_error).
  if (cmd.split('+').some((name) => Object.hasOwn(ctx.profile.commands, name)))
    return reply(ctx, 'E', 24, "Missing JSON 'command'");
  return flat(ctx, 'E', 14, 'invalid cmd');
}

function nativeRead(cmd: string, ctx: CommandCtx): Reply | null {
  switch (cmd) {
    case 'get_version':
      return flat(ctx, 'S', 131, { api_ver: API_DESCRIPTION, fw_ver: FIRMWARE });
    case 'status':
      return flat(ctx, 'S', 131, {
        btmineroff: ctx.state.sleeping ? 'true' : 'false',
        'Firmware Version': `'${FIRMWARE}'`,
      });
    case 'get_token':
      return issueToken(ctx);
    case 'get_psu':
      return flat(ctx, 'S', 131, {
        name: 'P21',
        hw_version: '',
        sw_version: '102220.009',
        model: 'P21-12-3600-E',
      });
    case 'get_miner_info':
      return flat(ctx, 'S', 131, {
        ip: ctx.miner.host,
        proto: 'dhcp',
        netmask: '255.255.255.0',
        dns: '',
        mac: macFor(ctx.miner.index),
        ledstat: 'auto',
        hostname: 'WhatsMiner',
      });
    case 'get_error_code':
      return flat(ctx, 'S', 131, { error_code: [] });
    default:
      return null;
  }
}

/** Tokens still alive; expired ones are dropped. */
function liveTokens(ctx: CommandCtx): WhatsminerSimToken[] {
  const live = (ctx.state.tokens ?? []).filter((t) => ctx.now - t.issuedAtMs < TOKEN_LIFE_MS);
  ctx.state.tokens = live;
  return live;
}

function issueToken(ctx: CommandCtx): Reply {
  const live = liveTokens(ctx);
  // The doc names only the Msg string; the code is the vendor's "token over max times" (invented pairing).
  if (live.length >= MAX_TOKENS) return flat(ctx, 'E', 136, 'over max connect');
  let newsalt = '';
  for (let i = 0; i < 8; i++) newsalt += SALT_ALPHABET[ctx.rng.int(SALT_ALPHABET.length)];
  const time = String(Math.floor(ctx.now / 1000) % 10000).padStart(4, '0');
  live.push({ time, newsalt, issuedAtMs: ctx.now });
  return flat(ctx, 'S', 134, { time, salt: PASSWORD_SALT, newsalt });
}

/**
 * `{"enc":1,"data":…}`: decrypt with the admin password's key, check the token's sign, then run
 * the command and seal the reply. A request the miner cannot read at all (bad base64, a wrong
 * key, a stale or foreign token) gets a plaintext error: it has no shared key to answer with.
 */
function encrypted(body: Record<string, unknown>, ctx: CommandCtx): Reply {
  const keys = minerKeys(ctx.state.adminPassword ?? DEFAULT_ADMIN_PASSWORD, PASSWORD_SALT);
  const plain = typeof body.data === 'string' ? openRequest(keys.aes, body.data) : null;
  if (plain === null) return flat(ctx, 'E', 137, 'base64 decode error');
  let inner: unknown;
  try {
    inner = JSON.parse(plain.toString('utf8'));
  } catch {
    inner = null; // a wrong password decrypts to noise
  }
  const request = inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : null;
  const token = request?.token;
  const signed =
    typeof token === 'string' &&
    liveTokens(ctx).some((t) => expectedSign(keys.key, t.time, t.newsalt) === token);
  if (request === null || !signed) return flat(ctx, 'E', 135, 'check token error');
  const seal = (r: Rec): Reply => ({ type: 'object', object: { enc: sealReply(keys.aes, toJson(r)) } });
  const cmd = typeof request.cmd === 'string' ? request.cmd : '';
  // Reads may be sent encrypted too (§13.1).
  const read = nativeRead(cmd, ctx);
  if (read !== null && read.type === 'object') return seal(read.object);
  if (!NATIVE_WRITES.has(cmd)) return seal(flatObject(ctx, 'E', 14, 'invalid cmd'));
  // Write API disabled (the stock default, §7): as captured, an encrypted E/45.
  if (ctx.state.access !== 'full') return seal(flatObject(ctx, 'E', 45, "can't access write cmd"));
  return seal(runWrite(cmd, request, ctx));
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function runWrite(cmd: string, request: Record<string, unknown>, ctx: CommandCtx): Rec {
  const ok = flatObject(ctx, 'S', 131, 'API command OK');
  switch (cmd) {
    case 'power_off':
      // respbefore only decides whether the reply leaves before or after the boards stop.
      ctx.state.sleeping = true;
      return ok;
    case 'power_on':
      ctx.state.sleeping = false;
      return ok;
    case 'restart_btminer':
    case 'reboot':
      // Tokens live in btminer's memory: gone with the process.
      ctx.state.tokens = [];
      ctx.after = 'restart';
      return ok;
    case 'set_low_power':
    case 'set_normal_power':
    case 'set_high_power':
      ctx.state.tuning = cmd.slice(4, -6);
      return ok;
    case 'update_pools':
      return updatePools(ctx, request) ? ok : flatObject(ctx, 'E', 132, 'command error');
    case 'update_pwd': {
      // Vendor doc: at most 8 bytes of letters, digits and `_`.
      const current = ctx.state.adminPassword ?? DEFAULT_ADMIN_PASSWORD;
      const next = text(request.new);
      if (text(request.old) !== current || !/^\w{1,8}$/.test(next)) {
        return flatObject(ctx, 'E', 132, 'command error');
      }
      ctx.state.adminPassword = next;
      return ok;
    }
    default:
      // set_led, net_config, set_target_freq, …: acknowledged; nothing the simulator models moves.
      return ok;
  }
}

/** update_pools replaces the pool list with pool1..pool3 (those with a URL), in that order. */
function updatePools(ctx: CommandCtx, request: Record<string, unknown>): boolean {
  const pools: SimPool[] = [];
  for (let i = 1; i <= 3; i++) {
    const url = text(request[`pool${i}`]);
    if (url === '') continue;
    const config = {
      url,
      user: text(request[`worker${i}`]),
      password: text(request[`passwd${i}`]) || 'x',
      priority: pools.length,
      enabled: true,
    };
    pools.push(newPool(config, ctx.profile.shareDiff));
  }
  if (pools.length === 0) return false;
  ctx.state.pools = pools;
  const active = activePool(ctx.state);
  if (active) active.stratumActive = true;
  return true;
}

function macFor(index: number): string {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  return `C6:06:12:${hex((index >> 16) & 255)}:${hex((index >> 8) & 255)}:${hex(index & 255)}`;
}

function devsRecords(ctx: CommandCtx): Rec[] {
  const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
  const t = shareTotals(ctx);
  const [fanIn, fanOut] = [r.fans[0]?.rpm ?? 0, r.fans[1]?.rpm ?? 0];
  return r.boards.map((b, i) => ({
    ASC: i,
    Name: 'SM',
    ID: i,
    Slot: i,
    Enabled: 'Y',
    Status: b.board.dead ? 'Dead' : 'Alive',
    Temperature: fx(b.pcbC, 2),
    'Chip Frequency': b.frequencyMhz,
    'Fan Speed In': fanIn,
    'Fan Speed Out': fanOut,
    'MHS av': fx(b.averageHs / MH, 2),
    'MHS 5s': fx(b.currentHs / MH, 2),
    'MHS 1m': fx(b.windowHs(60) / MH, 2),
    'MHS 5m': fx(b.windowHs(300) / MH, 2),
    'MHS 15m': fx(b.windowHs(900) / MH, 2),
    Accepted: Math.floor(t.accepted * b.workShare),
    Rejected: Math.floor(t.rejected * b.workShare),
    'Hardware Errors': 0,
    Utility: fx(r.uptimeS > 0 ? (t.accepted * b.workShare * 60) / r.uptimeS : 0, 2),
    'Last Share Pool': 0,
    'Last Share Time': b.workShare > 0 ? epochS(r.lastShareAtMs) : 0,
    'Total MH': fx((r.totalHashes * b.workShare) / MH, 4),
    'Diff1 Work': 0,
    'Difficulty Accepted': fx(Math.floor(t.accepted * b.workShare) * ctx.profile.shareDiff, 8),
    'Difficulty Rejected': fx(0, 8),
    'Last Share Difficulty': fx(b.workShare > 0 ? ctx.profile.shareDiff : 0, 8),
    'Last Valid Work': b.workShare > 0 ? epochS(r.lastShareAtMs) : 0,
    'Device Hardware%': fx(0, 4),
    'Device Rejected%': fx(0, 4),
    'Device Elapsed': r.uptimeS,
    'Upfreq Complete': 1,
    'Effective Chips': b.board.chips,
    'PCB SN': `SIM${String(ctx.miner.index).padStart(6, '0')}K3110${i}`,
    'Chip Data': 'HPJA05-20070601 BINV02-193005F',
    // Fractions of the hottest chip's rise over the air (about −25 and −11 °C at 50 °C of rise):
    // no chip reads colder than the air it breathes, on a cool, dead or sleeping board too.
    'Chip Temp Min': fx(ctx.state.ambientC + (b.chipC - ctx.state.ambientC) * 0.5, 2),
    'Chip Temp Max': fx(b.chipC, 2),
    'Chip Temp Avg': fx(ctx.state.ambientC + (b.chipC - ctx.state.ambientC) * 0.78, 2),
    chip_vol_diff: 11,
  }));
}

export const whatsminer: Profile = {
  name: 'whatsminer',
  make: 'Whatsminer',
  model: 'M31S',
  firmware: { name: 'btminer', version: FIRMWARE },
  algorithm: 'sha256d',
  nominalHs: 72e12,
  chains: [0, 1, 2],
  chipsPerChain: 105,
  fanSlots: [1, 2],
  fanMaxRpm: 7000,
  frequencyMhz: 686,
  chipRiseC: 38,
  minFanPct: 30,
  limits: { target: 80, hot: 95, dangerous: 105 },
  joins: true,
  // Reads are open; writes need the write API enabled (`full`) and the encrypted v2 path.
  defaultAccess: 'read',
  nul: false,
  description: 'btminer',
  watts: 3300,
  shareDiff: 262144,
  pools: [
    { url: 'stratum+tcp://btc.ss.poolin.com:443', user: 'farm.m31s' },
    { url: 'stratum+tcp://btc.ss.poolin.com:1883', user: 'farm.m31s' },
    { url: 'stratum+tcp://btc.ss.poolin.com:25', user: 'farm.m31s' },
  ],
  samples: [
    'whatsminer-m31s_2020-12__summary.json',
    'whatsminer-m31s_2020-12__edevs.json',
    'whatsminer-m31s_2020-12__pools.json',
    'whatsminer-m31s__get_token.json',
    'whatsminer-m31s__encrypted-write_reply.json',
    'whatsminer_no-write-api__encrypted-write_reply.json',
    'whatsminer-m31s_sleeping__status.json',
    'whatsminer_fw-20210322_api-v1.4__get_version.json',
    'whatsminer_fw-20210322_api-v1.4__get_psu.json',
    'whatsminer-m31s__cmd-key-multicommand_error.json',
  ],
  native,
  commands: {
    ...upstreamCommands(),
    // btminer has no `version`: `invalid cmd` with a flat STATUS is its fingerprint (§11).
    version: { ...READ_JOINABLE((ctx) => flat(ctx, 'E', 14, 'invalid cmd')), missing: true },
    summary: READ_JOINABLE((ctx) => {
      const r = readings(ctx.state, ctx.profile, ctx.now, ctx.rng);
      const t = shareTotals(ctx);
      // Over the boards' chips as devs reports them: fractions of each board's rise over the air,
      // so no summary figure reads colder than the ambient (a sleeping miner read 0 °C at 25 °C).
      const air = ctx.state.ambientC;
      let chipMin = Number.POSITIVE_INFINITY;
      let chipAvgSum = 0;
      for (const b of r.boards) {
        chipMin = Math.min(chipMin, air + (b.chipC - air) * 0.5);
        chipAvgSum += air + (b.chipC - air) * 0.78;
      }
      const chipAvg = r.boards.length > 0 ? chipAvgSum / r.boards.length : air;
      const record: Rec = {
        Elapsed: r.uptimeS,
        'MHS av': fx(r.averageHs / MH, 2),
        'MHS 5s': fx(r.currentHs / MH, 2),
        'MHS 1m': fx(r.windowHs(60) / MH, 2),
        'MHS 5m': fx(r.windowHs(300) / MH, 2),
        'MHS 15m': fx(r.windowHs(900) / MH, 2),
        'HS RT': fx(r.currentHs / MH, 2),
        'Found Blocks': 0,
        Getworks: Math.floor(r.uptimeS / 24),
        Accepted: t.accepted,
        Rejected: t.rejected,
        'Hardware Errors': 0,
        Utility: fx(r.uptimeS > 0 ? (t.accepted * 60) / r.uptimeS : 0, 2),
        Discarded: 0,
        Stale: 0,
        'Get Failures': 0,
        'Local Work': Math.floor(r.uptimeS * 19000),
        'Remote Failures': 0,
        'Network Blocks': Math.floor(r.uptimeS / 600),
        'Total MH': fx(r.totalHashes / MH, 4),
        'Work Utility': fx(0, 2),
        'Difficulty Accepted': fx(t.diffAccepted, 8),
        'Difficulty Rejected': fx(t.diffRejected, 8),
        'Difficulty Stale': fx(0, 8),
        'Best Share': Math.floor(ctx.state.bestShare),
        Temperature: fx(r.boardMaxC, 2),
        freq_avg: ctx.state.sleeping ? 0 : ctx.profile.frequencyMhz,
        'Fan Speed In': r.fans[0]?.rpm ?? 0,
        'Fan Speed Out': r.fans[1]?.rpm ?? 0,
        Voltage: 1206,
        Power: r.watts,
        Power_RT: r.watts,
        'Power Rate': fx(r.currentHs > 0 ? r.watts / (r.currentHs / 1e12) : 0, 2),
        'Device Hardware%': fx(0, 4),
        'Device Rejected%': fx(0, 4),
        'Pool Rejected%': fx(t.accepted > 0 ? (t.rejected * 100) / (t.accepted + t.rejected) : 0, 4),
        'Pool Stale%': fx(0, 4),
        'Last getwork': 0,
        Uptime: r.uptimeS + 3600,
        'Chip Data': 'HPJA05-20070601 BINV02-193005F',
        'Power Current': fx(r.watts / 12.8, 6),
        'Power Fanspeed': 7608,
        'Error Code Count': 0,
        'Factory Error Code Count': 0,
        'Security Mode': 0,
        'Liquid Cooling': false,
        'Hash Stable': r.uptimeS > 1800,
        'Hash Stable Cost Seconds': Math.min(r.uptimeS, 1800),
        'Hash Deviation%': fx(0.0086, 4),
        'Target Freq': 652,
        'Target MHS': Math.floor((r.nominalHs * 0.95) / MH),
        'Env Temp': fx(ctx.state.ambientC, 2),
        'Power Mode':
          ctx.state.tuning === '' ? 'Normal' : ctx.state.tuning[0]?.toUpperCase() + ctx.state.tuning.slice(1),
        'Firmware Version': `'${FIRMWARE}'`,
        'CB Platform': 'ALLWINNER_H6OS',
        'CB Version': 'V10',
        MAC: macFor(ctx.miner.index),
        'Factory GHS': Math.floor(r.nominalHs / 1e9),
        'Power Limit': 3600,
        'Power Voltage Input': fx(229.5, 2),
        'Power Current Input': fx(r.watts / 229.5, 2),
        'Chip Temp Min': fx(r.boards.length > 0 ? chipMin : air, 2),
        'Chip Temp Max': fx(r.chipMaxC, 2),
        'Chip Temp Avg': fx(chipAvg, 2),
      };
      return reply(ctx, 'S', 11, 'Summary', 'SUMMARY', [record]);
    }),
    devs: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 9, `${ctx.state.boards.length} ASC(s)`, 'DEVS', devsRecords(ctx)),
    ),
    edevs: READ_JOINABLE((ctx) =>
      reply(ctx, 'S', 9, `${ctx.state.boards.length} ASC(s)`, 'DEVS', devsRecords(ctx)),
    ),
    devdetails: READ_JOINABLE((ctx) =>
      reply(
        ctx,
        'S',
        69,
        'Device Details',
        'DEVDETAILS',
        ctx.state.boards.map((_, i) => ({
          DEVDETAILS: i,
          Name: 'SM',
          ID: i,
          Driver: 'bitmicro',
          Kernel: '',
          Model: 'M31S.VE10',
        })),
      ),
    ),
    pools: poolsCommand((ctx) => upstreamPools(ctx)),
  },
};
