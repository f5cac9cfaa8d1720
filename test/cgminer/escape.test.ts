// Request building: names, per-command parameter rules (CGMINER-API.md §6), and refusals.
import { describe, expect, it } from 'vitest';
import { isWriteCommand } from '../../src/cgminer/commands.js';
import {
  addpoolParameter,
  ascsetParameter,
  buildRequest,
  checkCommandName,
  encodeParameter,
  MAX_REQUEST_BYTES,
  splitAddpoolFields,
} from '../../src/cgminer/escape.js';
import { UsageError } from '../../src/errors.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof UsageError) return error.kind;
    throw error;
  }
  return 'accepted';
}

describe('LuxOS session-prefixed parameters', () => {
  it('encodes the rest by the upstream rule after the session id', () => {
    const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));
    expect(json(buildRequest('switchpool', 'yJN2nlj1,01', { sessionPrefixed: true }))).toEqual({
      command: 'switchpool',
      parameter: 'yJN2nlj1,1',
    });
    expect(json(buildRequest('logoff', 'yJN2nlj1', { sessionPrefixed: true })).parameter).toBe('yJN2nlj1');
  });

  it('refuses a bad session id or a bad upstream parameter before sending', () => {
    expect(() => buildRequest('switchpool', 'a b,1', { sessionPrefixed: true })).toThrow(UsageError);
    // What is refused is shown the way the contract shows a miner's words: \xHH, never raw or '?'.
    expect(() => buildRequest('switchpool', 'a\u001b[31mRED\u202e,1', { sessionPrefixed: true })).toThrow(
      "cannot send switchpool with parameter 'a\\x1b[31mRED\\u202e,1'",
    );
    expect(() => buildRequest('switchpool', 'yJN2nlj1,one', { sessionPrefixed: true })).toThrow(UsageError);
    expect(() => buildRequest('switchpool', '1', {})).not.toThrow();
  });
});

describe('buildRequest', () => {
  it('builds JSON with command and parameter', () => {
    expect(text(buildRequest('summary'))).toBe('{"command":"summary"}');
    expect(text(buildRequest('switchpool', '1'))).toBe('{"command":"switchpool","parameter":"1"}');
    expect(text(buildRequest('summary+pools'))).toBe('{"command":"summary+pools"}');
  });

  it('sends Whatsminer-native commands with the cmd key', () => {
    for (const command of [
      'get_version',
      'get_token',
      'status',
      'get_miner_info',
      'get_psu',
      'get_error_code',
    ]) {
      expect(JSON.parse(text(buildRequest(command)))).toEqual({ cmd: command });
    }
  });

  it('refuses bad command names before anything is sent', () => {
    for (const bad of [
      '',
      'Summary',
      'sum mary',
      'summary|0',
      'a++b',
      '+devs',
      'devs+',
      '{"x":1}',
      'pools\n',
    ]) {
      expect(refusal(() => checkCommandName(bad))).toBe('usage');
    }
    expect(refusal(() => checkCommandName('get.device.info'))).toBe('accepted');
  });

  it('refuses requests over the 4 KB a miner reads', () => {
    expect(refusal(() => buildRequest('save', 'a'.repeat(MAX_REQUEST_BYTES)))).toBe('usage');
    expect(buildRequest('save', 'a'.repeat(100)).length).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
  });

  it('refuses a parameter on a multi-command or a Whatsminer-native command', () => {
    expect(refusal(() => buildRequest('summary+pools', 'x'))).toBe('usage');
    expect(refusal(() => buildRequest('get_version', 'x'))).toBe('usage');
  });
});

describe('encodeParameter', () => {
  it('refuses control characters and broken Unicode in any parameter', () => {
    for (const [command, parameter] of [
      ['save', 'file\nname'],
      ['addpool', 'stratum+tcp://a\u0001,u,p'],
      ['ascset', '0,led,1\r'],
      ['curtail', 'sid,\u0085'],
      ['save', 'bad\ud800'],
    ] as const) {
      expect(refusal(() => encodeParameter(command, parameter))).toBe('usage');
    }
  });

  it('accepts numbers only for pool and device numbers', () => {
    expect(encodeParameter('switchpool', '01')).toBe('1');
    for (const bad of ['', '-1', '1,2', 'x', '1.5', '9999999']) {
      expect(refusal(() => encodeParameter('enablepool', bad))).toBe('usage');
    }
  });

  it('checks addpool URL,USER,PASS with escapes and a non-empty password', () => {
    expect(encodeParameter('addpool', 'stratum+tcp://p:3333,w.1,x')).toBe('stratum+tcp://p:3333,w.1,x');
    expect(refusal(() => encodeParameter('addpool', 'stratum+tcp://p:3333,w.1,'))).toBe('usage');
    expect(refusal(() => encodeParameter('addpool', 'stratum+tcp://p:3333,w,x,y'))).toBe('usage');
    expect(refusal(() => encodeParameter('addpool', ',w,x'))).toBe('usage');
    expect(refusal(() => encodeParameter('addpool', 'u,w,x\\'))).toBe('usage');
    expect(encodeParameter('addpool', 'u,w\\,1,p\\\\q')).toBe('u,w\\,1,p\\\\q');
  });

  it('escapes addpool fields so that cgminer splits them back exactly', () => {
    const parameter = addpoolParameter('stratum+tcp://p:3333', 'wallet,worker', 'pa\\ss,x');
    expect(parameter).toBe('stratum+tcp://p:3333,wallet\\,worker,pa\\\\ss\\,x');
    expect(splitAddpoolFields(parameter)).toEqual(['stratum+tcp://p:3333', 'wallet,worker', 'pa\\ss,x']);
    expect(refusal(() => addpoolParameter('u', 'w', ''))).toBe('usage');
  });

  it('checks ascset/pgaset device and option and keeps the value verbatim, commas included', () => {
    expect(ascsetParameter(0, 'setpool', 'user,pass,0,stratum+tcp://p:3333,w,x')).toBe(
      '0,setpool,user,pass,0,stratum+tcp://p:3333,w,x',
    );
    expect(encodeParameter('pgaset', '1,help')).toBe('1,help');
    for (const bad of ['led', 'x,led', '0,', '0,le d,1', '12345,led']) {
      expect(refusal(() => encodeParameter('ascset', bad))).toBe('usage');
    }
  });

  it('checks poolpriority, poolquota, zero, hotplug, check', () => {
    expect(encodeParameter('poolpriority', '2,0,1')).toBe('2,0,1');
    expect(refusal(() => encodeParameter('poolpriority', '2,,1'))).toBe('usage');
    expect(encodeParameter('poolquota', '0,10')).toBe('0,10');
    expect(refusal(() => encodeParameter('poolquota', '0'))).toBe('usage');
    expect(encodeParameter('zero', 'all,false')).toBe('all,false');
    expect(refusal(() => encodeParameter('zero', 'some,true'))).toBe('usage');
    expect(refusal(() => encodeParameter('hotplug', '10000'))).toBe('usage');
    expect(encodeParameter('check', 'addpool')).toBe('addpool');
    expect(refusal(() => encodeParameter('check', 'add pool'))).toBe('usage');
  });
});

describe('isWriteCommand', () => {
  it('knows reads, counts unknown commands and privileged-free writes as writes', () => {
    for (const read of ['summary', 'stats', 'privileged', 'check', 'get_version', 'summary+pools']) {
      expect(isWriteCommand(read)).toBe(false);
    }
    for (const write of [
      'switchpool',
      'addpool',
      'restart',
      'quit',
      'save',
      'ascset',
      'zero',
      'frobnicate',
      'summary+quit',
    ]) {
      expect(isWriteCommand(write)).toBe(true);
    }
  });
});
