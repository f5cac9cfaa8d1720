// Process entry: wires real streams, signals and the exit code around runCli.
import { setMaxListeners } from 'node:events';
import { runCli } from './cli.js';
import { ProcessStop, processContext } from './context.js';
import { EXIT } from './errors.js';

/** `run` is runCli; another only in tests of this wiring. */
export function main(run: typeof runCli = runCli): void {
  const controller = new AbortController();
  // Every in-flight request listens on this one signal; thousands at once are expected, not a leak.
  setMaxListeners(0, controller.signal);
  let first: NodeJS.Signals | null = null;
  const onSignal = (name: NodeJS.Signals): void => {
    // First signal: finish the work in flight. Second: stop now, and say so (a collect loop's
    // cycle in flight is then not stored; the database keeps every cycle before it).
    if (first !== null) {
      const what =
        name !== first ? `${name} after ${first}` : name === 'SIGINT' ? 'interrupted again' : `${name} again`;
      process.stderr.write(`hashctl: ${what}: stopped at once, the work in flight is dropped\n`);
      process.exit(EXIT.interrupted);
    }
    first = name;
    controller.abort(new ProcessStop(name));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A closed terminal: the same clean stop (a collect loop stores its cycle, a simulator flushes
  // its --log), where Node's default would end the process on the spot.
  process.on('SIGHUP', onSignal);
  // A closed pipe (`hashctl … | head`) is a normal end, not a crash. Any other failure to write
  // (a full disk under `> file`, a closed stdout) lost the output: said once, and the run fails.
  let outputLost = false;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
    if (outputLost) return;
    outputLost = true;
    process.stderr.write(`hashctl: cannot write the output: ${error.code ?? error.message}\n`);
    // The error may come after runCli settled (it is emitted on a later tick).
    if (process.exitCode === undefined || process.exitCode === EXIT.ok) process.exitCode = EXIT.failed;
  });
  // stderr carries notes, never data: its reader gone (`2>&1 | head`, a logger that died) costs the
  // notes, not the run. Without a listener the EPIPE was an uncaught exception: a control run
  // crashed mid-write or, at its summary line, exited 1 after every miner was verified.
  process.stderr.on('error', () => {});
  // The event loop ran dry while the command still awaited something that can no longer happen (a
  // bug): Node would exit 0 in silence, and cron would read a run that did nothing as a success.
  let finished = false;
  process.once('beforeExit', () => {
    if (finished) return;
    process.stderr.write('hashctl: internal error: the command stopped before it finished\n');
    process.exitCode = EXIT.failed;
  });
  // A signal caught while hashctl was starting (bin/hashctl listens from its first line) reaches
  // onSignal on the event loop's first turn, ahead of this immediate: the command then starts
  // already stopped and sends nothing (a control write Ctrl-C came before), as a moment later.
  // Started at once, it raced the signal, and a request could leave first.
  new Promise<void>((resolve) => setImmediate(resolve))
    .then(() => run(process.argv.slice(2), processContext(controller.signal)))
    .then(
      (code) => {
        process.exitCode = outputLost && code === EXIT.ok ? EXIT.failed : code;
      },
      (error: unknown) => {
        process.stderr.write(`hashctl: internal error: ${String(error)}\n`);
        process.exitCode = EXIT.failed;
      },
    )
    .finally(async () => {
      finished = true;
      // What the command wrote and a pipe has not taken yet (its reader is slower: `| jq`, `| ssh`)
      // is queued in the process; exiting now cut the output short at the pipe's 64 KB, exit 0.
      // A reader that goes away ends the wait (EPIPE, above); one that never reads keeps it, as
      // for any program writing to a pipe.
      await outputWritten(process.stdout);
      // The command is over. A connection left behind on purpose (a collector whose TCP or TLS
      // handshake stalls cannot be aborted, only abandoned) must not keep the process alive until
      // its connect timeout, past --deadline or Ctrl-C. Unref'd: a clean run ends before it fires.
      // Files and terminals are written synchronously; pipes only as far as they have room.
      setTimeout(() => process.exit(), LINGER_MS).unref();
    });
}

/** How long the process may linger after the command returned, for handles still closing. */
const LINGER_MS = 500;

/** Resolves once `stream` has handed every queued write to the system, or can take none (failed, closed). */
export function outputWritten(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0 || stream.destroyed) return resolve();
    const done = (): void => {
      stream.removeListener('close', done);
      resolve();
    };
    stream.once('close', done);
    // Writes leave in order: an empty one's callback runs once everything queued before it was
    // written, or failed (the error itself goes to the listener above, which says it or exits).
    stream.write('', done);
  });
}
