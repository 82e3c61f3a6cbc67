// `hardway worker` as a process of its own, for drills that kill it (SIGKILL: no shutdown, no goodbye to the server).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CLIENT = fileURLToPath(new URL('../../client.ts', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Resolves once it polls the task queue (its first log line says so). */
  polling: Promise<void>;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
}

/** Starts `hardway worker` against `address`; its output goes to `logFile`. */
export function workerProcess(address: string, logFile: string): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CLIENT, 'worker', '--address', address], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HARDWAY_LOG_LEVEL: 'WARN' },
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(log);
  let seen = '';
  const polling = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      log.write(d);
      seen += d.toString();
      if (seen.includes('worker polling task queue')) resolve();
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`worker process exited (${code ?? signal}) before polling: ${seen.slice(-500)}`)),
    );
  });
  polling.catch(() => {});
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    polling,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await gone;
    },
  };
}
