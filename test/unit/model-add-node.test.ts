import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AddNodeRefused, withAddedWorker } from '../../model/add-node.js';
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
});
