// A private PostgreSQL cluster in a directory of its own: initdb, then `postgres` as a child process listening on
// 127.0.0.1 only, with a password (scram-sha-256) for its one role. Run as the `postgres` user when this process is
// root (PostgreSQL refuses to run as root). Stopped by its PID, never by name: lab hosts share this process table.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runOk } from '../../lab/exec.js';
import { freePort } from '../free-port.js';
import { postgresBinDir } from './binaries.js';

export interface PostgresCluster {
  host: string;
  port: number;
  user: string;
  password: string;
  dataDir: string;
  logFile: string;
  pid: number;
  /** Runs one SQL statement in `database` with psql; its rows, unaligned (`|` between columns). */
  query(database: string, sql: string): Promise<string>;
  /** A fast shutdown (SIGINT to the postmaster), then SIGKILL after 30 s. */
  stop(): Promise<void>;
}

export interface PostgresClusterOptions {
  port?: number;
  user?: string;
  /** More connections than the default 100: the Temporal server opens up to 30 per service. */
  maxConnections?: number;
}

interface Owner {
  uid: number;
  gid: number;
}

/** Who runs the cluster: this process, or `postgres` when this process is root. */
async function clusterOwner(): Promise<Owner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all([run(['id', '-u', 'postgres']), run(['id', '-g', 'postgres'])]);
  if (uid.code !== 0 || gid.code !== 0) {
    throw new Error('PostgreSQL refuses to run as root, and there is no `postgres` user to run it as: apt-get install postgresql.');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** `dir/postgres`, owned by the cluster's owner; `dir` itself must let it through (mode 0711). */
function ownedDir(dir: string, owner: Owner | undefined): string {
  const pg = join(dir, 'postgres');
  mkdirSync(pg, { recursive: true, mode: 0o700 });
  if (owner) {
    chmodSync(dir, 0o711);
    chownSync(pg, owner.uid, owner.gid);
  }
  return pg;
}

/** initdb: `user` as the superuser, with `password`; the password file initdb reads is removed at once. */
async function initCluster(bin: string, pg: string, dataDir: string, user: string, password: string, owner?: Owner): Promise<void> {
  const pwfile = join(pg, 'initdb-pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) chownSync(pwfile, owner.uid, owner.gid);
  try {
    await runOk(
      [join(bin, 'initdb'), '-D', dataDir, '-U', user, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C'],
      { cwd: pg, ...owner },
    );
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** Resolves when the server accepts connections (pg_isready), rejects if it exits or takes over `timeoutMs`. */
async function waitReady(bin: string, child: ChildProcess, port: number, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`PostgreSQL exited (${child.exitCode ?? child.signalCode}) while starting: see ${logFile}`);
    }
    const r = await run([join(bin, 'pg_isready'), '-q', '-h', '127.0.0.1', '-p', String(port)]);
    if (r.code === 0) return;
    if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within ${timeoutMs / 1000} s: see ${logFile}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Starts the cluster in `dir/postgres`, creating it first when there is none (`dir` may be chmod 0711, so that
 * `postgres` reaches its own files).
 */
export async function startPostgresCluster(dir: string, o: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  const owner = await clusterOwner();
  const pg = ownedDir(dir, owner);
  const dataDir = join(pg, 'data');
  const logFile = join(pg, 'postgres.log');
  const user = o.user ?? 'temporal';
  const passwordFile = join(pg, 'password'); // this process's, 0600: a cluster kept in `dir` starts again with it
  let password: string;
  if (existsSync(join(dataDir, 'PG_VERSION'))) {
    if (!existsSync(passwordFile))
      throw new Error(`${dataDir} holds a cluster, but ${passwordFile} is missing: remove ${pg} to start afresh`);
    password = readFileSync(passwordFile, 'utf8').trim();
  } else {
    password = randomBytes(18).toString('base64url');
    await initCluster(bin, pg, dataDir, user, password, owner);
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  }

  const port = o.port ?? (await freePort());
  const log = openSync(logFile, 'a', 0o600);
  if (owner) chownSync(logFile, owner.uid, owner.gid);
  const settings = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: '',
    max_connections: String(o.maxConnections ?? 300),
  };
  const child = spawn(join(bin, 'postgres'), ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])], {
    cwd: pg,
    stdio: ['ignore', log, log],
    ...(owner ?? {}),
  });
  closeSync(log);
  child.on('error', () => undefined); // a spawn failure ends in 'close' too, and waitReady reports it
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  try {
    await waitReady(bin, child, port, logFile, 60_000);
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw e;
  }

  const psql = join(bin, 'psql');
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    dataDir,
    logFile,
    pid: child.pid!,
    async query(database, sql) {
      const r = await runOk([psql, '-X', '-q', '-At', '-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', database, '-c', sql], {
        env: { ...process.env, PGPASSWORD: password },
      });
      return r.stdout.trim();
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
