// docker-compose.temporal.yml: valid for Compose (checked by Compose itself, without an engine), in the shape Temporal
// recommends now (no deprecated auto-setup image), every image pinned, health checks kept, and the server at the
// version hardway's own end-to-end test builds and runs (TEMPORAL_SERVER_VERSION in scripts/build/versions.env).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { temporalServerVersion } from '../../temporal/postgres/binaries.js';
import { SEARCH_ATTRIBUTES } from '../../temporal/search-attributes.js';

const FILE = fileURLToPath(new URL('../../docker-compose.temporal.yml', import.meta.url));

interface Service {
  image?: string;
  healthcheck?: { test?: string[] | string };
  depends_on?: Record<string, { condition?: string }> | string[];
  command?: string[] | string;
}

/** `docker compose config` (the plugin) or `docker-compose config` (Debian's package), whichever the machine has. */
function composeConfig(): string {
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;
  const [cmd, args] = plugin ? ['docker', ['compose', '-f', FILE, 'config']] : ['docker-compose', ['-f', FILE, 'config']];
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) assert.fail(`Compose is not installed (${r.error.message}): run scripts/setup.sh (apt-get install docker-compose).`);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} rejects the file:\n${r.stderr}`);
  return r.stdout;
}

let parsed: Record<string, Service> | undefined;
/** The services as Compose reads them (its `config` output), read once. */
const services = (): Record<string, Service> => (parsed ??= (parseYaml(composeConfig()) as { services: Record<string, Service> }).services);
const service = (name: string): Service => {
  const s = services()[name];
  assert.ok(s, `no service ${name}`);
  return s;
};
const imageOf = (name: string): string => service(name).image ?? '';
const tagOf = (image: string) => image.slice(image.lastIndexOf(':') + 1);
const command = (name: string) => [service(name).command ?? []].flat().join('\n');
const healthTest = (name: string) => [service(name).healthcheck?.test ?? []].flat().join(' ');

describe('docker-compose.temporal.yml', () => {
  it('is valid for Compose, with the services of a PostgreSQL-backed Temporal', () => {
    assert.deepEqual(Object.keys(services()).sort(), ['postgresql', 'temporal', 'temporal-schema', 'temporal-setup', 'temporal-ui']);
  });

  it('uses no deprecated auto-setup image: the server image, with the schema set up by admin-tools first', () => {
    for (const name of Object.keys(services())) assert.doesNotMatch(imageOf(name), /auto-setup/, `${name} uses ${imageOf(name)}`);
    assert.match(imageOf('temporal'), /^temporalio\/server:/);
    assert.match(imageOf('temporal-schema'), /^temporalio\/admin-tools:/);
    assert.match(command('temporal-schema'), /temporal-sql-tool .*update-schema/);
    assert.deepEqual(service('temporal').depends_on, { 'temporal-schema': { condition: 'service_completed_successfully' } });
  });

  it('pins every image to an exact version', () => {
    for (const name of Object.keys(services())) {
      const image = imageOf(name);
      assert.ok(image, `${name} has no image`);
      assert.match(tagOf(image), /^\d+(\.\d+)+(-[a-z0-9.]+)?$/, `${name}: ${image} is not pinned to a version`);
    }
  });

  it('pins the server and admin-tools to the version the lab builds (scripts/build/versions.env)', () => {
    const version = temporalServerVersion().replace(/^v/, '');
    for (const name of ['temporal', 'temporal-schema', 'temporal-setup']) assert.equal(tagOf(imageOf(name)), version, name);
  });

  it('keeps the health checks, and starts nothing before what it needs is healthy', () => {
    for (const name of ['postgresql', 'temporal']) assert.ok(healthTest(name).trim(), `${name} has no health check`);
    assert.match(healthTest('postgresql'), /pg_isready/);
    assert.deepEqual(service('temporal-schema').depends_on, { postgresql: { condition: 'service_healthy' } });
    assert.deepEqual(service('temporal-setup').depends_on, { temporal: { condition: 'service_healthy' } });
    assert.match(command('temporal-setup'), /temporal operator cluster health/);
  });

  it("registers hardway's search attributes as Keyword, in the default namespace", () => {
    const setup = command('temporal-setup');
    for (const key of SEARCH_ATTRIBUTES) assert.ok(setup.includes(key.name), `temporal-setup does not register ${key.name}`);
    assert.match(setup, /--type Keyword/);
    assert.match(setup, /namespace create -n default/);
  });
});
