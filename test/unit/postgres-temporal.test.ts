// The pure parts of the PostgreSQL-backed Temporal (temporal/postgres/): its version pin, where it finds PostgreSQL,
// the server's environment and its ports. The whole of it runs in test/e2e/production-temporal.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../temporal/free-port.js';
import { pinnedVersion, postgresBinDir } from '../../temporal/postgres/binaries.js';
import { schemaCommands } from '../../temporal/postgres/schema.js';
import { SERVER_PORT_NAMES, temporalServerEnv, type TemporalServerPorts } from '../../temporal/postgres/server-env.js';

describe('the PostgreSQL-backed Temporal', () => {
  it('reads its version from versions.env, and says so when the pin is missing', () => {
    assert.equal(pinnedVersion('A=1\nTEMPORAL_SERVER_VERSION=v1.32.1\n', 'TEMPORAL_SERVER_VERSION'), 'v1.32.1');
    assert.throws(() => pinnedVersion('A=1\n', 'TEMPORAL_SERVER_VERSION'), /versions\.env pins no TEMPORAL_SERVER_VERSION/);
  });

  it("takes the newest of Debian's PostgreSQL versions, and names the fix when there is none", () => {
    const root = mkdtempSync(join(tmpdir(), 'hardway-pg-'));
    try {
      assert.throws(() => postgresBinDir(root), /PostgreSQL is not installed .*apt-get install postgresql/);
      for (const v of ['9', '15', '13']) {
        mkdirSync(join(root, v, 'bin'), { recursive: true });
        writeFileSync(join(root, v, 'bin', 'initdb'), '');
      }
      assert.equal(postgresBinDir(root), join(root, '15', 'bin'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('configures both stores on postgres12 and every service on 127.0.0.1 at its own port', () => {
    const ports = Object.fromEntries(SERVER_PORT_NAMES.map((n, i) => [n, 21000 + i])) as unknown as TemporalServerPorts;
    const env = temporalServerEnv({ host: '127.0.0.1', port: 5433, user: 'temporal', password: 'pw' }, ports, '/d.yaml');
    assert.equal(env.DB, 'postgres12');
    assert.equal(env.BIND_ON_IP, '127.0.0.1');
    assert.equal(env.FRONTEND_GRPC_PORT, '21000');
    assert.equal(env.POSTGRES_PWD, 'pw');
    const portValues = Object.entries(env).filter(([k]) => k.endsWith('_PORT') && k !== 'DB_PORT');
    assert.equal(new Set(portValues.map(([, v]) => v)).size, SERVER_PORT_NAMES.length);
  });

  it('finds free ports below 32768 (the server stores membership ports as a smallint)', async () => {
    const ports = await freePorts(9, { from: 20000, to: 32767 });
    assert.equal(new Set(ports).size, 9);
    for (const p of ports) assert.ok(p >= 20000 && p <= 32767, String(p));
  });

  it('applies the schema embedded in the SQL tool, for both databases', () => {
    assert.deepEqual(schemaCommands('/t', 'temporal', 'postgresql/v12/temporal'), [
      ['/t', '--db', 'temporal', 'create-database'],
      ['/t', '--db', 'temporal', 'setup-schema', '-v', '0.0'],
      ['/t', '--db', 'temporal', 'update-schema', '--schema-name', 'postgresql/v12/temporal'],
    ]);
  });
});
