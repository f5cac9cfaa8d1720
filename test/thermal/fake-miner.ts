// A minimal CGMiner-API server on 127.0.0.1:0 answering from a table of hand-written replies:
// one request per connection, `a+b` joins answered the cgminer way, anything else E/14; a DROP
// entry closes the connection unanswered.
import * as net from 'node:net';
import type { DecodedReply } from '../../src/cgminer/types.js';

export type ReplyTable = Record<string, Record<string, unknown>>;

/** The decoded form of a reply table, as the client would hand it over (no server needed). */
export function decodedTable(table: ReplyTable): Record<string, DecodedReply> {
  return Object.fromEntries(
    Object.entries(table).map(([command, body]) => [
      command,
      {
        command,
        format: 'json',
        status: { status: 'S', code: 200, msg: null, description: null, when: null },
        ok: true,
        body,
        repairs: [],
      } satisfies DecodedReply,
    ]),
  );
}

/** A reply-table entry that closes the connection without answering (a dropped read). */
export const DROP: Record<string, unknown> = Object.freeze({});

/** The E/45 a cgminer-style firmware gives for a command its api-allow does not grant. */
export const denied = (command: string, description = 'BOSminer+ 0.2.0'): Record<string, unknown> => ({
  STATUS: [
    {
      STATUS: 'E',
      When: 1760000000,
      Code: 45,
      Msg: `Access denied to '${command}' command`,
      Description: description,
    },
  ],
  id: 1,
});

/** The ways a Braiins S9's tempctrl read fails, with the kind each is reported as. */
export const TEMPCTRL_FAILURES: readonly (readonly [Record<string, unknown>, RegExp])[] = [
  [DROP, /^(reset|empty_reply)$/],
  [denied('tempctrl'), /^denied$/],
];

/** A Braiins OS S9 (boards 70/69/71 °C) whose tempctrl reply is `tempctrl`. */
export const braiinsWithTempctrl = (tempctrl: Record<string, unknown>) =>
  startFakeMiner({ ...braiinsReplies({ boards: [70, 69, 71] }), tempctrl }, 'BOSminer+ 0.2.0');

export interface FakeMiner {
  port: number;
  target: string;
  /** Every command received, in order (members of a join listed one by one). */
  received: string[];
  close(): Promise<void>;
}

const invalid = (description: string) => ({
  STATUS: [{ STATUS: 'E', When: 1760000000, Code: 14, Msg: 'Invalid command', Description: description }],
  id: 1,
});

export async function startFakeMiner(
  replies: ReplyTable,
  description = 'cgminer 4.11.1',
): Promise<FakeMiner> {
  const received: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let request: { command?: string };
      try {
        request = JSON.parse(buffer.replace(/\0+$/, ''));
      } catch {
        return; // wait for the rest of the request
      }
      const command = String(request.command ?? '');
      const members = command.split('+');
      received.push(...members);
      if (members.some((member) => replies[member] === DROP)) {
        socket.destroy();
        return;
      }
      let body: Record<string, unknown>;
      if (members.length > 1) {
        body = { id: 1 };
        for (const member of members) body[member] = [replies[member] ?? invalid(description)];
      } else {
        body = replies[command] ?? invalid(description);
      }
      socket.end(`${JSON.stringify(body)}\0`);
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    target: `127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const status = (code: number, msg: string, description: string) => [
  { STATUS: 'S', When: 1760000000, Code: code, Msg: msg, Description: description },
];

/**
 * A stock Antminer S19j Pro (bmminer, classic `stats` layout) with the given PCB and chip
 * temperatures on three chains. Hand-written: no sample has these numbers.
 */
export function antminerReplies(pcb: number[], chip: number[], fans = [5400, 5460, 5520, 5580]): ReplyTable {
  const description = 'bmminer 1.0.0';
  const device: Record<string, unknown> = {
    STATS: 0,
    ID: 'BTM_SOC0',
    Elapsed: 86400,
    Calls: 0,
    Wait: 0,
    Max: 0,
    Min: 99999999,
    'GHS 5s': 104000.5,
    'GHS av': 103900.1,
    rate_30m: 103950.2,
    Mode: 2,
    miner_count: 3,
    frequency: 525,
    fan_num: fans.length,
    temp_num: 3,
    total_rateideal: 104000,
    rate_unit: 'GH',
    total_freqavg: 525,
    miner_version: '49.0.1.3',
  };
  fans.forEach((rpm, i) => {
    device[`fan${i + 1}`] = rpm;
  });
  for (let n = 1; n <= 3; n++) {
    device[`temp${n}`] = pcb[n - 1];
    device[`temp2_${n}`] = chip[n - 1];
    device[`temp_pcb${n}`] = `${pcb[n - 1]! - 10}-${pcb[n - 1]}-${pcb[n - 1]! - 10}-${pcb[n - 1]}`;
    device[`temp_chip${n}`] = `${chip[n - 1]! - 10}-${chip[n - 1]}-${chip[n - 1]! - 10}-${chip[n - 1]}`;
    device[`chain_acn${n}`] = 126;
    device[`chain_acs${n}`] =
      ' oooooooo oooooooo oooooooo oooooooo oooooooo oooooooo oooooooo oooooooo oooooooo oooooooo oooooooo oooooooo oooooooo oooooooo oooooooo oo';
    device[`chain_rate${n}`] = '34666.83';
    device[`chain_hw${n}`] = 3;
    device[`freq${n}`] = 525;
  }
  const header = {
    BMMiner: '1.0.0',
    Miner: '49.0.1.3',
    CompileTime: 'Tue Dec  6 16:12:30 CST 2022',
    Type: 'Antminer S19j Pro',
  };
  return {
    version: {
      STATUS: status(22, 'BMMiner versions', description),
      VERSION: [
        {
          BMMiner: '1.0.0',
          API: '3.1',
          Miner: '49.0.1.3',
          CompileTime: header.CompileTime,
          Type: header.Type,
        },
      ],
      id: 1,
    },
    stats: { STATUS: status(70, 'BMMiner stats', description), STATS: [header, device], id: 1 },
    summary: {
      STATUS: status(11, 'Summary', description),
      SUMMARY: [
        {
          Elapsed: 86400,
          'GHS 5s': 104000.5,
          'GHS av': 103900.1,
          Accepted: 4200,
          Rejected: 3,
          'Hardware Errors': 9,
        },
      ],
      id: 1,
    },
    pools: {
      STATUS: status(7, '1 Pool(s)', description),
      POOLS: [
        {
          POOL: 0,
          URL: 'stratum+tcp://pool.example:3333',
          User: 'farm.worker1',
          Status: 'Alive',
          Priority: 0,
          'Stratum Active': true,
          Accepted: 4200,
          Rejected: 3,
        },
      ],
      id: 1,
    },
  };
}

/** A Braiins OS (BOSminer+) S9 with its own thermal control as `tempctrl` reports it. */
export function braiinsReplies(options: {
  boards: number[];
  chips?: number[];
  mode?: string;
  target?: number;
  hot?: number;
  dangerous?: number;
  fans?: number[];
  fanSpeed?: number;
}): ReplyTable {
  const description = 'BOSminer+ 0.2.0-36c56a9363';
  const fans = options.fans ?? [3600, 3660, 3720, 3780];
  return {
    version: {
      STATUS: status(22, 'BOSminer+ versions', description),
      VERSION: [{ 'BOSminer+': '0.2.0-36c56a9363', API: '3.7' }],
      id: 1,
    },
    devdetails: {
      STATUS: status(69, 'Device Details', description),
      DEVDETAILS: options.boards.map((_, i) => ({
        DEVDETAILS: i,
        Name: 'BC5',
        ID: 6 + i,
        Driver: 'BitmainAntminer',
        Kernel: '',
        Model: 'Antminer S9',
        Chips: 63,
        Frequency: 650,
        Voltage: 8.8,
      })),
      id: 1,
    },
    devs: {
      STATUS: status(9, `${options.boards.length} ASC(s)`, description),
      DEVS: options.boards.map((_, i) => ({
        ASC: i,
        ID: 6 + i,
        Name: 'BC5',
        Enabled: 'Y',
        Status: 'Alive',
        Temperature: 0.0,
        'MHS av': 4700000,
        'MHS 5s': 4710000,
        'MHS 1m': 4705000,
        'MHS 5m': 4702000,
        'MHS 15m': 4701000,
        'Nominal MHS': 4725000,
      })),
      id: 1,
    },
    summary: {
      STATUS: status(11, 'Summary', description),
      SUMMARY: [
        {
          Elapsed: 86400,
          'MHS av': 14100000,
          'MHS 5s': 14130000,
          'MHS 1m': 14115000,
          Accepted: 4000,
          Rejected: 2,
          'Hardware Errors': 11,
        },
      ],
      id: 1,
    },
    temps: {
      STATUS: status(201, `${options.boards.length} Temp(s)`, description),
      TEMPS: options.boards.map((board, i) => ({
        ID: 6 + i,
        TEMP: i,
        Board: board,
        Chip: options.chips?.[i] ?? 0.0,
      })),
      id: 1,
    },
    fans: {
      STATUS: status(202, `${fans.length} Fan(s)`, description),
      FANS: fans.map((rpm, i) => ({ FAN: i, ID: i, RPM: rpm, Speed: options.fanSpeed ?? 70 })),
      id: 1,
    },
    tempctrl: {
      STATUS: status(200, 'Temperature control', description),
      TEMPCTRL: [
        {
          Mode: options.mode ?? 'Automatic',
          Target: options.target ?? 89.0,
          Hot: options.hot ?? 100.0,
          Dangerous: options.dangerous ?? 110.0,
        },
      ],
      id: 1,
    },
    pools: {
      STATUS: status(7, '1 Pool(s)', description),
      POOLS: [
        {
          POOL: 0,
          URL: 'stratum+tcp://pool.example:3333',
          User: 'farm.worker2',
          Status: 'Alive',
          Priority: 0,
          'Stratum Active': true,
        },
      ],
      id: 1,
    },
  };
}
