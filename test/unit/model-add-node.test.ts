import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AddNodeRefused, withAddedControlPlane, withAddedWorker, withReplacedEtcdMember } from '../../model/add-node.js';
import { parseClusterFile } from '../../model/validate.js';
import type { ClusterSpec } from '../../model/types.js';

function seed(): ClusterSpec {
  const r = parseClusterFile(readFileSync(new URL('../../examples/seed-cluster.yaml', import.meta.url), 'utf8'));
  if (!r.ok) throw new Error('the seed example does not validate');
  return r.spec;
}

describe('adding a worker to a spec (model/add-node.ts)', () => {
  it('appends a worker and changes nothing else', () => {
    const before = seed();
    const after = withAddedWorker(before, { name: ' worker-3 ', address: '192.168.56.33' });
    assert.deepEqual(after.hosts.at(-1), { name: 'worker-3', address: '192.168.56.33', roles: ['worker'] });
    assert.deepEqual(after.hosts.slice(0, -1), before.hosts);
    assert.deepEqual({ ...after, hosts: [] }, { ...before, hosts: [] });
    assert.equal(before.hosts.length, 10, 'the spec given is not changed');
  });

  it('keeps only the SSH settings given', () => {
    const s = withAddedWorker(seed(), { name: 'w', address: '192.168.56.34', ssh: { user: 'vagrant' } });
    assert.deepEqual(s.hosts.at(-1)!.ssh, { user: 'vagrant' });
    assert.equal(withAddedWorker(seed(), { name: 'w', address: '192.168.56.34', ssh: {} }).hosts.at(-1)!.ssh, undefined);
  });

  it('refuses a name or address in use, a request without them, and a cluster without a spec, saying what to do', () => {
    const cases: [Parameters<typeof withAddedWorker>[1], RegExp][] = [
      [{ name: 'cp-1', address: '192.168.56.39' }, /name cp-1 is already in use \(192\.168\.56\.21, controlplane\): choose another name/],
      [{ name: 'worker-9', address: '192.168.56.10' }, /address 192\.168\.56\.10 is already in use by ca/],
      [{ name: '', address: '192.168.56.39' }, /has no name/],
      [{ name: 'worker-9', address: ' ' }, /has no address: give worker-9 its infrastructure address/],
    ];
    for (const [req, why] of cases) {
      assert.throws(
        () => withAddedWorker(seed(), req),
        (e: unknown) => e instanceof AddNodeRefused && why.test(e.message),
      );
    }
    assert.throws(() => withAddedWorker(undefined, { name: 'w', address: '192.168.56.39' }), /hardway up -f FILE/);
  });

  it('adds a control plane the same way, with its role', () => {
    const s = withAddedControlPlane(seed(), { name: 'cp-3', address: '192.168.56.23' });
    assert.deepEqual(s.hosts.at(-1), { name: 'cp-3', address: '192.168.56.23', roles: ['controlplane'] });
    assert.throws(() => withAddedControlPlane(seed(), { name: '', address: '192.168.56.23' }), /give the new control plane a host name/);
  });

  it('replaces an etcd member in its place in the file; the new one needs a name of its own and may take the old address', () => {
    const s = withReplacedEtcdMember(seed(), 'etcd-3', { name: 'etcd-4', address: '192.168.56.13' });
    assert.deepEqual(
      s.hosts.map((h) => h.name),
      ['ca', 'etcd-1', 'etcd-2', 'etcd-4', 'lb', 'cp-1', 'cp-2', 'worker-1', 'worker-2', 'admin'],
    );
    assert.deepEqual(s.hosts[3], { name: 'etcd-4', address: '192.168.56.13', roles: ['etcd'] });
    const cases: [string, Parameters<typeof withAddedWorker>[1], RegExp][] = [
      ['etcd-9', { name: 'etcd-4', address: '192.168.56.14' }, /no host etcd-9: its etcd members are etcd-1, etcd-2, etcd-3/],
      ['cp-1', { name: 'etcd-4', address: '192.168.56.14' }, /cp-1 is not only an etcd member/],
      ['etcd-3', { name: 'etcd-3', address: '192.168.56.14' }, /a name of its own/],
      ['etcd-3', { name: 'etcd-4', address: '192.168.56.11' }, /address 192\.168\.56\.11 is already in use by etcd-1/],
    ];
    for (const [old, req, why] of cases) {
      assert.throws(
        () => withReplacedEtcdMember(seed(), old, req),
        (e: unknown) => e instanceof AddNodeRefused && why.test(e.message),
      );
    }
  });
});
