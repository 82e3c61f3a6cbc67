// A PostgreSQL-backed Temporal server on this machine without Docker (the topology of docker-compose.temporal.yml),
// in the foreground until Ctrl-C. Its database stays in --dir, so the next start has every workflow of the last.
//   node --import tsx scripts/temporal-postgres.ts [--dir DIR] [--port 7233]
// Needs what scripts/setup.sh installs: Debian's postgresql and the Temporal server it builds (build.sh temporal).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgresTemporal } from '../temporal/postgres/index.js';
import { stateDir } from '../temporal/paths.js';

const { values } = parseArgs({
  options: { dir: { type: 'string' }, port: { type: 'string', default: '7233' } },
});
const dir = values.dir ?? join(stateDir(), 'temporal-postgres');

try {
  const t = await startPostgresTemporal({ dir, port: Number(values.port) });
  console.log(
    [
      `Temporal ${t.version} (PostgreSQL-backed) serves on ${t.address}, namespace ${t.namespace}.`,
      `  workers:  hardway worker --address ${t.address}`,
      `  database: ${t.dir}/postgres (PostgreSQL on 127.0.0.1:${t.postgres.port}, user ${t.postgres.user}, password in ${t.dir}/postgres/password)`,
      `  logs:     ${t.server.logFile}, ${t.postgres.logFile}`,
      'Ctrl-C stops it; the database stays.',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('stopping the Temporal server and PostgreSQL');
  await t.stop();
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exitCode = 1;
}
