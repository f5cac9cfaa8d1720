// `scan --json` writes its document endpoint by endpoint, never as one string: `scan --all --json`
// of a /11 (2 M endpoints at ~330 characters each) made a string past V8's limit and died with
// "Invalid string length" after the whole sweep, printing nothing. The bytes are those of the
// document written whole. Simulated miners on 127.0.128.44, nothing listening on 127.0.128.45.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { writeJson } from '../../src/output/render.js';
import { jsonText } from '../../src/output/terminal.js';
import { type Farm, startFarm } from '../../src/sim/index.js';
import { recorded } from '../support/recorded-stdout.js';

let farm: Farm;
beforeAll(async () => {
  farm = await startFarm({ profile: 'mix', seed: 5, count: 8, host: '127.0.128.44', basePort: 0 });
});
afterAll(async () => {
  await farm.stop();
});

describe('scan --json', () => {
  it('is written endpoint by endpoint, the same bytes as the whole document', async () => {
    const { ctx, chunks } = recorded();
    const ports = farm.miners.map((miner) => miner.port).join(',');
    const code = await runCli(
      ['scan', '127.0.128.44-45', '--port', ports, '--all', '--json', '--timeout', '2s'],
      ctx,
    );
    expect(code).toBe(0);
    const text = ctx.out();
    const doc = JSON.parse(text) as { results: { outcome: string }[]; summary: unknown };
    expect(doc.results.filter((result) => result.outcome === 'miner')).toHaveLength(8);
    expect(doc.results.filter((result) => result.outcome === 'none')).toHaveLength(8);
    let whole = '';
    writeJson(
      {
        write: (chunk) => {
          whole += chunk;
          return true;
        },
      },
      doc,
    );
    expect(text).toBe(whole);
    // No write holds more than one endpoint (or the summary), and the few characters around it.
    const parts = [...doc.results, doc.summary].map((part) => jsonText(part, 2).replace(/\n/g, '\n    '));
    const largest = Math.max(...parts.map((part) => part.length));
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(largest + 24);
  });
});
