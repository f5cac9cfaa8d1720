// What a command wrote into a pipe whose reader is slower (`hashctl probe … --json | jq` on a big
// farm) is all delivered: the process used to exit half a second after the command returned, with
// the rest of the output still queued, so jq read a document cut at the pipe's 64 KB, exit 0.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const mainModule = join(__dirname, '..', '..', 'src', 'main.ts');

describe('a slow reader', () => {
  it('gets every byte the command wrote, and the exit code', async () => {
    // 4 MB in 64 KB writes (as a streamed document is written), then the command returns 1.
    const run = `async (argv, ctx) => {
      for (let i = 0; i < 64; i++) ctx.stdout.write(String(i % 10).repeat(65536));
      ctx.stderr.write('returned\\n');
      return 1;
    }`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '-e', `import(${JSON.stringify(mainModule)}).then(({ main }) => main(${run}));`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.pause();
    let stderr = '';
    const returned = new Promise<void>((resolve) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('returned\n')) resolve();
      });
    });
    const exit = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // The reader starts once the command has returned and the process has exited (as it did before)
    // or has had time to: nothing it waits for depends on how long that takes.
    await returned;
    await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 3000))]);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stdout.resume();
    const code = await new Promise((resolve) => child.on('close', resolve));
    const out = Buffer.concat(chunks).toString();
    expect(out.length).toBe(64 * 65536);
    expect(out.endsWith('3'.repeat(65536))).toBe(true);
    expect(code).toBe(1);
  });
});
