// The audit's read-only guarantee: anything off the fixed list is refused before a byte is sent.
import { describe, expect, it } from 'vitest';
import { readPlan } from '../../src/audit/index.js';
import {
  assertReadOnly,
  READ_COMMANDS,
  ReadOnlyViolation,
  readOnlyReader,
} from '../../src/audit/readonly.js';
import { KNOWN_WRITE_COMMANDS } from '../../src/cgminer/commands.js';
import type { DecodedReply, MinerClient } from '../../src/cgminer/types.js';
import { MinerError } from '../../src/errors.js';

const target = { host: '127.0.0.1', port: 1, key: '127.0.0.1:1' };

/** A client that records what it was asked to send and answers from a table (no sockets needed). */
function recordingClient(
  answer: (command: string) => DecodedReply | MinerError,
): MinerClient & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async request(_target, command, options) {
      calls.push(options?.parameter === undefined ? command : `${command}|${options.parameter}`);
      const result = answer(command);
      if (result instanceof MinerError) throw result;
      return result;
    },
    async requestMany() {
      throw new Error('the audit never uses requestMany');
    },
  };
}

describe('assertReadOnly', () => {
  it('accepts the fixed read list and check|<write>', () => {
    for (const command of READ_COMMANDS) expect(() => assertReadOnly(command)).not.toThrow();
    for (const write of ['addpool', 'save', 'pause', 'ascset', 'curtail'])
      expect(() => assertReadOnly('check', write)).not.toThrow();
  });

  it('refuses writes, logon, get_token, multi-commands and parameters', () => {
    const refused: [string, string?][] = [
      ['logon'],
      ['get_token'],
      ['session'],
      ['summary+privileged'],
      ['version+pools'],
      ['privileged', 'x'],
      ['pools', '0'],
      ['check'],
      ['check', 'quit'],
      ['check', 'addpool,x'],
      ['ascset', '0,workmode,255'],
      ['update_pools'],
      ...[...KNOWN_WRITE_COMMANDS].map((command): [string] => [command]),
    ];
    for (const [command, parameter] of refused) {
      expect(() => assertReadOnly(command, parameter), `${command}|${parameter}`).toThrow(ReadOnlyViolation);
    }
  });

  it('every dialect read plan stays on the list', () => {
    for (const dialect of [
      'cgminer',
      'antminer',
      'vnish',
      'hiveon',
      'braiins',
      'luxos',
      'whatsminer',
      'avalon',
      'unknown',
    ] as const) {
      for (const [command, parameter] of readPlan(dialect))
        expect(() => assertReadOnly(command, parameter)).not.toThrow();
    }
  });
});

describe('readOnlyReader', () => {
  const okReply: DecodedReply = {
    command: 'version',
    format: 'json',
    status: { status: 'S', code: 22, msg: 'versions', description: null, when: null },
    ok: true,
    body: { VERSION: [{ CGMiner: '4.11.1' }] },
    repairs: [],
  };

  it('throws before the client is called for anything off the list', async () => {
    const client = recordingClient(() => okReply);
    const reader = readOnlyReader(client);
    await expect(reader.read(target, 'logon')).rejects.toBeInstanceOf(ReadOnlyViolation);
    await expect(reader.read(target, 'get_token')).rejects.toMatchObject({ kind: 'internal' });
    await expect(reader.read(target, 'addpool', 'stratum+tcp://x:1,u,p')).rejects.toBeInstanceOf(
      ReadOnlyViolation,
    );
    expect(client.calls).toEqual([]);
    expect(reader.sent).toEqual([]);
  });

  it('passes reads through and turns miner failures into data', async () => {
    const client = recordingClient((command) =>
      command === 'privileged' ? new MinerError('empty_reply', 'closed with zero bytes') : okReply,
    );
    const reader = readOnlyReader(client);
    const version = await reader.read(target, 'version');
    expect(version).toMatchObject({ ok: true, status: 'S', code: 22 });
    const privileged = await reader.read(target, 'privileged');
    expect(privileged).toMatchObject({ ok: false, error: { kind: 'empty_reply' } });
    await reader.read(target, 'check', 'addpool');
    expect(client.calls).toEqual(['version', 'privileged', 'check|addpool']);
    expect(reader.sent).toEqual([
      '127.0.0.1:1 version',
      '127.0.0.1:1 privileged',
      '127.0.0.1:1 check|addpool',
    ]);
  });
});
