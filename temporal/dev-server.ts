// Runs the Temporal CLI dev server (SQLite-backed, so runs survive a restart) with hardway's search attributes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { stateDir, temporalBinary } from './paths.js';
import { SEARCH_ATTRIBUTES } from './search-attributes.js';

export interface DevServerOptions {
  db?: string;
  port?: number;
  uiPort?: number;
  ip?: string;
  headless?: boolean;
  /** The codec server the UI asks to decode payloads (`hardway codec-server`), e.g. http://127.0.0.1:8888. */
  uiCodecEndpoint?: string;
  /** Extra `--dynamic-config-value KEY=JSON` settings. */
  dynamicConfig?: Record<string, unknown>;
  /**
   * Its own process group, so a Ctrl-C at the terminal reaches only its owner, which stops it after its own work
   * (`demo`: the worker in the same process must not lose its server first).
   */
  ownProcessGroup?: boolean;
}

export const defaultDbFile = (): string => join(stateDir(), 'temporal.db');

export function devServerArgs(o: DevServerOptions): string[] {
  const port = o.port ?? 7233;
  const args = ['server', 'start-dev', '--db-filename', o.db ?? defaultDbFile(), '--port', String(port)];
  args.push('--ip', o.ip ?? '127.0.0.1');
  if (o.headless) args.push('--headless');
  else args.push('--ui-port', String(o.uiPort ?? port + 1000));
  if (o.uiCodecEndpoint && !o.headless) args.push('--ui-codec-endpoint', o.uiCodecEndpoint);
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  for (const [k, v] of Object.entries(o.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
  args.push('--log-level', 'warn');
  return args;
}

/** Resolves when something accepts TCP connections on host:port, or rejects after timeoutMs. */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`Nothing answers on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function portAnswers(host: string, port: number): Promise<boolean> {
  return waitForPort(host, port, 0).then(
    () => true,
    () => false,
  );
}

/** Starts the dev server as a child process. `inherit` shows its output (the `hardway server` command). */
export function spawnDevServer(o: DevServerOptions, stdio: 'inherit' | 'ignore' = 'ignore'): ChildProcess {
  const db = o.db ?? defaultDbFile();
  mkdirSync(dirname(db), { recursive: true });
  return spawn(temporalBinary(), devServerArgs({ ...o, db }), { stdio, detached: !!o.ownProcessGroup });
}

/** Starts a dev server in the background and waits until it serves; returns a stop function. */
export async function startDevServer(o: DevServerOptions, timeoutMs = 60_000): Promise<{ stop: () => Promise<void> }> {
  const child = spawnDevServer(o);
  let exited = false;
  // In its own process group nothing else stops it: it must not outlive this process, however this one ends.
  const orphaned = () => child.kill('SIGTERM');
  if (o.ownProcessGroup) process.once('exit', orphaned);
  child.on('exit', () => {
    exited = true;
    process.off('exit', orphaned);
  });
  await Promise.race([
    waitForPort(o.ip ?? '127.0.0.1', o.port ?? 7233, timeoutMs),
    new Promise((_, reject) => child.on('exit', (code) => reject(new Error(`temporal server exited with code ${code}`)))),
  ]);
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
