// A PostgreSQL-backed Temporal server on this machine, without Docker: the topology of docker-compose.temporal.yml
// (PostgreSQL, the schema applied by temporal-sql-tool, temporal-server with every service, the `default` namespace
// and hardway's search attributes), from Debian's PostgreSQL and the server that scripts/build/build.sh builds at the
// version the compose file pins. For the end-to-end test of the production path, and for `scripts/temporal-postgres.ts`.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporalServerBinaries } from './binaries.js';
import { startPostgresCluster, type PostgresCluster } from './cluster.js';
import { prepareNamespace } from './namespace.js';
import { applyTemporalSchema } from './schema.js';
import { startTemporalServer, type TemporalServerProcess } from './server.js';

export interface PostgresTemporalOptions {
  /** Where the database and logs live; kept by stop(). Default: a temporary directory that stop() removes. */
  dir?: string;
  /** The frontend's gRPC port (default: a free one). */
  port?: number;
  namespace?: string;
}

export interface PostgresTemporal {
  /** host:port of the frontend, for `--address`. */
  address: string;
  namespace: string;
  /** The server version (TEMPORAL_SERVER_VERSION of scripts/build/versions.env). */
  version: string;
  dir: string;
  postgres: PostgresCluster;
  server: TemporalServerProcess;
  /** Stops the server, then PostgreSQL (each by its PID), and removes a temporary directory. */
  stop(): Promise<void>;
}

export async function startPostgresTemporal(o: PostgresTemporalOptions = {}): Promise<PostgresTemporal> {
  const binaries = temporalServerBinaries();
  const temporary = !o.dir;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'hardway-temporal-'));
  mkdirSync(dir, { recursive: true });
  const namespace = o.namespace ?? 'default';
  let postgres: PostgresCluster | undefined;
  let server: TemporalServerProcess | undefined;
  const stopProcesses = async (): Promise<void> => {
    await server?.stop();
    await postgres?.stop();
  };
  const stop = async (): Promise<void> => {
    await stopProcesses();
    if (temporary) rmSync(dir, { recursive: true, force: true });
  };
  try {
    postgres = await startPostgresCluster(dir);
    await applyTemporalSchema(binaries.sqlTool, postgres);
    server = await startTemporalServer(binaries.server, postgres, dir, { port: o.port });
    await prepareNamespace(server.address, namespace);
    return { address: server.address, namespace, version: binaries.version, dir, postgres, server, stop };
  } catch (e) {
    await stopProcesses(); // the directory stays: its logs say what went wrong
    throw e;
  }
}
