// Temporal servers for tests, never downloaded: the dev server from the CLI that scripts/setup.sh installs, or the
// PostgreSQL-backed server it builds (temporal/postgres/).
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalBinary } from '../../temporal/paths.js';
import { startPostgresTemporal, type PostgresTemporal } from '../../temporal/postgres/index.js';
import { SEARCH_ATTRIBUTES } from '../../temporal/search-attributes.js';

/** What an end-to-end test needs of a Temporal server: where it is, a client on it, and a way to stop it. */
export interface TestTemporal {
  readonly address: string;
  readonly client: Client;
  teardown(): Promise<void>;
}

export async function devServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinary() },
      searchAttributes: SEARCH_ATTRIBUTES,
      ip: '127.0.0.1',
      ui: false,
    },
  });
}

/** A PostgreSQL-backed server (PostgreSQL, temporal-server, the `default` namespace), removed by teardown(). */
export async function postgresServer(): Promise<TestTemporal & { server: PostgresTemporal }> {
  const server = await startPostgresTemporal();
  try {
    const connection = await Connection.connect({ address: server.address });
    return {
      address: server.address,
      client: new Client({ connection, namespace: server.namespace }),
      server,
      async teardown() {
        await connection.close();
        await server.stop();
      },
    };
  } catch (e) {
    await server.stop();
    throw e;
  }
}
