// A CGMiner-API miner on 127.0.91.0/24 whose every answer a test scripts: a reply body, raw bytes,
// a hang (never answers) or a close with zero bytes. For replies the other fakes never send.
import { type FakeMiner, serveRequests } from './fake-miner.js';

export type Scripted = Record<string, unknown> | { raw: string } | 'hang' | 'close';

export type ScriptedMiner = FakeMiner;

const status = (letter: string, code: number, msg: string) => [
  { STATUS: letter, When: 1_700_000_000, Code: code, Msg: msg, Description: 'cgminer 4.11.1' },
];

/** A plain cgminer 4.11.1 with read-only access: the answers a test does not script. */
export function cgminerAnswer(command: string): Record<string, unknown> {
  switch (command) {
    case 'version':
      return {
        STATUS: status('S', 22, 'CGMiner versions'),
        VERSION: [{ CGMiner: '4.11.1', API: '3.7' }],
        id: 1,
      };
    case 'summary':
      return { STATUS: status('S', 11, 'Summary'), SUMMARY: [{ Elapsed: 3600, 'MHS 5s': 1000 }], id: 1 };
    case 'pools':
      return {
        STATUS: status('S', 7, '1 Pool(s)'),
        POOLS: [
          {
            POOL: 0,
            URL: 'stratum+tcp://pool.example.com:3333',
            Status: 'Alive',
            Priority: 0,
            Quota: 1,
            User: 'farm.w1',
            'Stratum Active': true,
          },
        ],
        id: 1,
      };
    case 'privileged':
    case 'check':
      return { STATUS: status('E', 45, `Access denied to '${command}' command`), id: 1 };
    default:
      return { STATUS: status('E', 14, 'Invalid command'), id: 1 };
  }
}

export function startScriptedMiner(
  script: Record<string, Scripted>,
  host = '127.0.91.10',
): Promise<ScriptedMiner> {
  return serveRequests(host, (command, parameter) => {
    const key = parameter === null ? command : `${command}|${parameter}`;
    const answer = script[key] ?? script[command] ?? cgminerAnswer(command);
    if (answer === 'hang' || answer === 'close') return answer;
    return 'raw' in answer && typeof answer.raw === 'string' ? answer.raw : `${JSON.stringify(answer)}\0`;
  });
}
