// The programs of a PostgreSQL-backed Temporal on this machine: the Temporal server and its SQL tool that
// scripts/build/build.sh builds into the cache (at TEMPORAL_SERVER_VERSION of scripts/build/versions.env, the
// version docker-compose.temporal.yml pins), and Debian's PostgreSQL.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../paths.js';

export interface TemporalServerBinaries {
  version: string;
  server: string;
  sqlTool: string;
}

/** scripts/build/versions.env, found upwards from this module (the sources and dist/ both sit in the repository). */
export function versionsEnvFile(): string {
  for (let d = dirname(fileURLToPath(import.meta.url)); ; d = dirname(d)) {
    const f = join(d, 'scripts', 'build', 'versions.env');
    if (existsSync(f)) return f;
    if (dirname(d) === d) throw new Error('scripts/build/versions.env was not found above ' + fileURLToPath(import.meta.url));
  }
}

/** A NAME=value of a versions.env text. */
export function pinnedVersion(envText: string, name: string): string {
  const m = new RegExp(`^${name}=(\\S+)\\s*$`, 'm').exec(envText);
  if (!m) throw new Error(`scripts/build/versions.env pins no ${name}`);
  return m[1]!;
}

export function temporalServerVersion(): string {
  return pinnedVersion(readFileSync(versionsEnvFile(), 'utf8'), 'TEMPORAL_SERVER_VERSION');
}

/** The built server and SQL tool, or an error that says how to build them. */
export function temporalServerBinaries(): TemporalServerBinaries {
  const version = temporalServerVersion();
  const dir = join(cacheDir(), 'binaries', 'temporal', version);
  const server = join(dir, 'temporal-server');
  const sqlTool = join(dir, 'temporal-sql-tool');
  if (!existsSync(server) || !existsSync(sqlTool)) {
    throw new Error(
      `The Temporal server ${version} is not built (${dir} has no temporal-server and temporal-sql-tool). ` +
        'Run scripts/setup.sh, or scripts/build/build.sh temporal.',
    );
  }
  return { version, server, sqlTool };
}

/** The bin directory of the newest PostgreSQL that Debian's packages installed (/usr/lib/postgresql/<major>/bin). */
export function postgresBinDir(root = '/usr/lib/postgresql'): string {
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!majors.length) {
    throw new Error(`PostgreSQL is not installed (no ${root}/<version>/bin/initdb). Run scripts/setup.sh, or apt-get install postgresql.`);
  }
  return join(root, majors[0]!, 'bin');
}
