// checkSpec: the rules on a typed spec (what the workflow runs), and the ValidSpec it makes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { checkSpec } from '../../model/check.js';
import { parseClusterFile } from '../../model/validate.js';
import { formatProblems } from '../../model/problem-format.js';
import { parseCidr } from '../../model/cidr.js';
import { plan, PlanError } from '../../model/plan.js';
import type { ClusterSpec } from '../../model/types.js';

const seedText = readFileSync(fileURLToPath(new URL('../../examples/seed-cluster.yaml', import.meta.url)), 'utf8');

function seed(): ClusterSpec {
  const r = parseClusterFile(seedText);
  if (!r.ok) throw new Error(formatProblems(r.problems));
  return JSON.parse(JSON.stringify(r.spec)) as ClusterSpec;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

describe('checkSpec', () => {
  it('makes a ValidSpec: the same spec, its networks parsed once, its warnings', () => {
    const input = deepFreeze(seed());
    const r = checkSpec(input);
    assert.ok(r.ok);
    assert.deepEqual(r.spec.parsed, {
      pods: parseCidr('10.244.0.0/16'),
      services: parseCidr('10.32.0.0/24'),
      infrastructure: parseCidr('192.168.56.0/24'),
    });
    assert.deepEqual(r.spec.warnings, []);
    // what the user wrote, nothing more: JSON, YAML and the lab's copy stay the cluster file
    assert.equal(JSON.stringify(r.spec), JSON.stringify(input));
    assert.deepEqual(structuredClone(r.spec), input);
    assert.doesNotMatch(stringify(r.spec), /parsed|warnings/);
    assert.notEqual(r.spec, input, 'a copy: the input is left alone');
  });

  it('carries warnings into the plan', () => {
    const spec = seed();
    spec.hosts = spec.hosts.filter((h) => h.name !== 'etcd-2' && h.name !== 'etcd-3');
    const r = checkSpec(spec);
    assert.ok(r.ok);
    assert.deepEqual(
      r.warnings.map((w) => w.code),
      ['etcd-single'],
    );
    assert.deepEqual(
      plan(r.spec).warnings.map((w) => w.code),
      ['etcd-single'],
    );
  });

  it('plan refuses a copy of a ValidSpec, which lost its check', () => {
    const r = checkSpec(seed());
    assert.ok(r.ok);
    assert.throws(
      () => plan({ ...r.spec }),
      (e: unknown) => e instanceof PlanError && /checkSpec or parseClusterFile/.test(e.message),
    );
  });

  it('finds the same problems as parsing the file would, without zod or yaml', () => {
    const broken: [string, (s: ClusterSpec) => void][] = [
      ['invalid-name', (s) => (s.hosts[0]!.name = 'Etcd_1')],
      ['invalid-name', (s) => (s.name = 'My Cluster')],
      ['invalid-address', (s) => (s.hosts[1]!.address = '192.168.56.300')],
      ['invalid-cidr', (s) => (s.networks.pods = '10.244.1.0/16')],
      ['invalid-port', (s) => (s.ssh.port = 0)],
      ['invalid-port', (s) => (s.hosts[2]!.ssh = { port: 70000 })],
      ['invalid-version', (s) => (s.versions.etcd = 'latest')],
      ['invalid-url', (s) => (s.binaries = { source: 'mirror', mirror: 'ftp://x' })],
      ['invalid-path', (s) => (s.binaries = { source: 'local', directory: 'bin' })],
      ['empty', (s) => (s.ssh.user = '')],
      ['invalid-value', (s) => (s.binaries.source = 'offical' as never)],
      ['invalid-value', (s) => (s.hosts[3]!.roles = ['wroker' as never])],
      ['invalid-value', (s) => (s.preflight.memoryPolicy = 'ignore' as never)],
      ['wrong-type', (s) => (s.networks.nodeMask = 24.5)],
      ['address-virtualbox-nat', (s) => (s.hosts[4]!.address = '10.0.2.15')],
      ['service-range-too-small', (s) => (s.networks.services = '10.32.0.0/30')],
      ['invalid-ssh-user', (s) => (s.ssh.user = 'vagrant@192.168.56.21')],
      ['identity-file-is-public-key', (s) => (s.ssh.identityFile = '~/.ssh/id_rsa.pub')],
      ['etcd-even', (s) => s.hosts.splice(3, 1)],
    ];
    for (const [code, change] of broken) {
      const spec = seed();
      change(spec);
      const typed = checkSpec(spec);
      const parsed = parseClusterFile(stringify(spec));
      assert.ok(!typed.ok && !parsed.ok, code);
      const codes = (ps: { code?: string; path: string }[]) => ps.map((p) => `${p.code} ${p.path}`).sort();
      assert.ok(
        codes(typed.problems).some((c) => c.startsWith(`${code} `)),
        `${code}: ${formatProblems(typed.problems)}`,
      );
      assert.deepEqual(codes(typed.problems), codes(parsed.problems), code);
      assert.ok(typed.problems.every((p) => p.line === undefined));
    }
  });

  it('never throws, whatever arrives as a spec', () => {
    const junk: unknown[] = [
      null,
      undefined,
      42,
      'spec',
      [],
      {},
      { hosts: 'x' },
      { name: 5, hosts: [null, 7, { roles: 'ca' }], networks: null },
      { ...seed(), networks: { pods: 7 } },
    ];
    for (const spec of junk) {
      const r = checkSpec(spec as ClusterSpec);
      assert.equal(r.ok, false, JSON.stringify(spec));
      if (!r.ok) assert.ok(r.problems.length > 0);
    }
  });
});
