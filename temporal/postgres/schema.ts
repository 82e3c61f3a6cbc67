// The two Temporal databases (history and visibility) created and brought to the server's schema with the server's
// own SQL tool, as docker-compose.temporal.yml's temporal-schema service does. The tool carries the schema of its
// version (embedded: schema/postgresql/v12/{temporal,visibility} of go.temporal.io/server), so tool and server agree.
// Safe to run again: existing databases are kept and only missing migrations are applied.
import { runOk } from '../../lab/exec.js';
import type { TemporalDatabase } from './server-env.js';

export const TEMPORAL_DATABASES = [
  { database: 'temporal', schema: 'postgresql/v12/temporal' },
  { database: 'temporal_visibility', schema: 'postgresql/v12/visibility' },
] as const;

/** The temporal-sql-tool argument vectors, in order, for one database (the connection goes by environment). */
export function schemaCommands(sqlTool: string, database: string, schema: string): string[][] {
  return [
    [sqlTool, '--db', database, 'create-database'],
    [sqlTool, '--db', database, 'setup-schema', '-v', '0.0'],
    [sqlTool, '--db', database, 'update-schema', '--schema-name', schema],
  ];
}

export async function applyTemporalSchema(sqlTool: string, db: TemporalDatabase): Promise<void> {
  // The password goes by environment, not argv (ps shows argv to every user).
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: db.host,
    SQL_PORT: String(db.port),
    SQL_USER: db.user,
    SQL_PASSWORD: db.password,
  };
  for (const { database, schema } of TEMPORAL_DATABASES) {
    for (const argv of schemaCommands(sqlTool, database, schema)) await runOk(argv, { env, timeoutMs: 120_000 });
  }
}
