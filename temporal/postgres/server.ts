// `temporal-server start` as a child process (all four services in one process, as the temporalio/server image runs
// them), its configuration from the environment (server-env.ts), its output in a log file. Stopped by its PID.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { freePorts } from '../free-port.js';
import { DYNAMIC_CONFIG, SERVER_PORT_NAMES, temporalServerEnv, type TemporalDatabase, type TemporalServerPorts } from './server-env.js';

export interface TemporalServerProcess {
  address: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export interface TemporalServerOptions {
  /** The frontend's gRPC port (default: a free one). */
  port?: number;
  timeoutMs?: number;
}

/**
 * Below the kernel's ephemeral range (32768 and up): the server keeps its membership ports in a smallint column
 * (cluster_membership), so a port above 32767 makes it fail at start.
 */
const SERVER_PORTS = { from: 20000, to: 32767 };

async function serverPorts(frontend?: number): Promise<TemporalServerPorts> {
  const free = await freePorts(SERVER_PORT_NAMES.length, SERVER_PORTS);
  const ports = Object.fromEntries(SERVER_PORT_NAMES.map((n, i) => [n, free[i]!])) as unknown as TemporalServerPorts;
  if (frontend) ports.frontend = frontend;
  return ports;
}

/** Resolves once the frontend answers GetSystemInfo; rejects when the process exits first or after `timeoutMs`. */
async function waitServing(address: string, exited: () => string | undefined, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = exited();
    if (gone) throw new Error(`temporal-server exited (${gone}) while starting: see ${logFile}`);
    const connection = await Connection.connect({ address, connectTimeout: 2000 }).catch(() => undefined);
    if (connection) {
      const ok = await connection.workflowService.getSystemInfo({}).then(
        () => true,
        () => false,
      );
      await connection.close();
      if (ok) return;
    }
    if (Date.now() > deadline) throw new Error(`temporal-server did not serve on ${address} within ${timeoutMs / 1000} s: see ${logFile}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Starts the server binary `server` on `db` (its schema applied), with its files in `dir`. */
export async function startTemporalServer(
  server: string,
  db: TemporalDatabase,
  dir: string,
  o: TemporalServerOptions = {},
): Promise<TemporalServerProcess> {
  const ports = await serverPorts(o.port);
  const dynamicConfig = join(dir, 'dynamicconfig.yaml');
  writeFileSync(dynamicConfig, DYNAMIC_CONFIG);
  const logFile = join(dir, 'temporal-server.log');
  const log = openSync(logFile, 'a', 0o600);
  // Only these variables: TEMPORAL_CONFIG_DIR, TEMPORAL_ENVIRONMENT and the like would make it look for config files.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, ...temporalServerEnv(db, ports, dynamicConfig) };
  const child = spawn(server, ['--allow-no-auth', 'start'], { cwd: dir, env, stdio: ['ignore', log, log] });
  closeSync(log);
  let spawnError: string | undefined;
  child.on('error', (e) => (spawnError = e.message));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const address = `127.0.0.1:${ports.frontend}`;
  const stop = async (): Promise<void> => {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const gone = () => spawnError ?? (child.exitCode ?? child.signalCode ?? undefined)?.toString();
    await waitServing(address, gone, logFile, o.timeoutMs ?? 90_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { address, pid: child.pid!, logFile, stop };
}
