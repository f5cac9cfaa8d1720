// A terminal that reports 0 columns (a serial console, a pty nobody sized: `script`, some container
// and CI runners) is a terminal of unknown width: tables are fitted to $COLUMNS there, as in a
// pipe under `watch`, rather than not at all (every row of a farm wrapping on an 80-column console).
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type OutStream, stdoutFor } from '../../src/context.js';
import { outputRoom, writeTable } from '../../src/output/render.js';

function terminal(columns: number): OutStream & { text: () => string } {
  let text = '';
  return {
    isTTY: true,
    columns,
    write: (chunk: string) => {
      text += chunk;
      return true;
    },
    text: () => text,
  };
}

const HEAD = ['MINER', 'MODEL', 'PROBLEMS'];
const ROWS = [
  ['127.0.0.1:4028', 'Antminer S19j Pro', 'hashrate 67% of nominal; boards 2/3 ok; fan 0 rpm; '.repeat(3)],
];

async function widest(out: OutStream & { text: () => string }, env: Record<string, string>): Promise<number> {
  await writeTable(stdoutFor(out, env), HEAD, ROWS);
  return Math.max(
    ...out
      .text()
      .split('\n')
      .map((line) => [...line].length),
  );
}

describe('tables on a terminal of unknown width', () => {
  it('fits $COLUMNS on a terminal that reports 0 columns', async () => {
    expect(await widest(terminal(0), { COLUMNS: '80' })).toBeLessThanOrEqual(80);
  });

  it('fits the terminal it reports, whatever $COLUMNS says', async () => {
    expect(await widest(terminal(60), { COLUMNS: '200' })).toBeLessThanOrEqual(60);
  });

  it('leaves a pipe and a sized terminal as they are', () => {
    const pipe = { isTTY: false, write: () => true };
    expect(stdoutFor(pipe, { COLUMNS: '80' })).toBe(pipe);
    const sized = terminal(120);
    expect(stdoutFor(sized, { COLUMNS: '80' })).toBe(sized);
  });

  it('fits HASHCTL_FORMAT=table output to $COLUMNS, else 160 (a pipe, or a terminal of 0 columns)', async () => {
    const pipe = { isTTY: false, write: () => true };
    expect(stdoutFor(pipe, { HASHCTL_FORMAT: 'table', COLUMNS: '90' })).toMatchObject({
      isTTY: true,
      columns: 90,
    });
    expect(stdoutFor(pipe, { HASHCTL_FORMAT: 'table' })).toMatchObject({ isTTY: true, columns: 160 });
    expect(stdoutFor(terminal(0), { HASHCTL_FORMAT: 'table' })).toMatchObject({ isTTY: true, columns: 160 });
  });
});

describe('HASHCTL_FORMAT=table on a pipe keeps its back-pressure', () => {
  /** A pipe whose reader takes nothing until `release()`: a real Writable with a 16-byte buffer. */
  function slowPipe() {
    const held: (() => void)[] = [];
    const stream = new Writable({
      highWaterMark: 16,
      write(_chunk, _encoding, callback) {
        held.push(callback);
      },
    });
    const release = (): void => {
      // Bounded: each callback may let the stream hand over one more held chunk.
      for (let i = 0; i < 100 && held.length > 0; i++) held.shift()?.();
    };
    return { stream: Object.assign(stream, { isTTY: false }), release };
  }

  it('waits for the reader (outputRoom) as on the pipe itself, instead of queueing in the process', async () => {
    const { stream, release } = slowPipe();
    const out = stdoutFor(stream as unknown as OutStream, { HASHCTL_FORMAT: 'table' });
    expect(out.write('x'.repeat(100))).toBe(false);
    let room = false;
    const waited = outputRoom(out).then(() => {
      room = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(room).toBe(false);
    release();
    await waited;
    expect(room).toBe(true);
  });
});
