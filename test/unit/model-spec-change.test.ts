// refusedChanges: what a new spec may not change on a running cluster yet, and what it may.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseClusterFile } from '../../model/validate.js';
import { refusedChanges } from '../../model/spec-change.js';
import type { ClusterSpec, Problem } from '../../model/types.js';

const seedText = readFileSync(fileURLToPath(new URL('../../examples/seed-cluster.yaml', import.meta.url)), 'utf8');

function seed(): ClusterSpec {
  const r = parseClusterFile(seedText);
  if (!r.ok) throw new Error('the seed does not validate');
  return JSON.parse(JSON.stringify(r.spec)) as ClusterSpec;
}

const current = seed();
const all = current.hosts.map((h) => h.name);

function refused(change: (s: ClusterSpec) => void, established: readonly string[] = all): Problem[] {
  const next = seed();
  change(next);
  return refusedChanges(current, next, established);
}

function only(problems: Problem[], code: string, path: string): Problem {
  assert.equal(problems.length, 1, JSON.stringify(problems, null, 2));
  const p = problems[0]!;
  assert.equal(p.code, code);
  assert.equal(p.path, path);
  assert.equal(p.severity, 'error');
  assert.match(p.message, /not supported yet on a running cluster|`up` does not remove/);
  assert.ok(p.fix && p.fix.length > 0);
  return p;
}

describe('refusedChanges', () => {
  it('the same spec, host order and role order aside, changes nothing', () => {
    assert.deepEqual(
      refused(() => {}),
      [],
    );
    assert.deepEqual(
      refused((s) => {
        s.hosts.reverse();
        s.hosts.find((h) => h.name === 'cp-1')!.roles = ['controlplane'];
      }),
      [],
    );
  });

  it('adding workers and control planes is fine; so are other fields', () => {
    assert.deepEqual(
      refused((s) => {
        s.hosts.push(
          { name: 'worker-3', address: '192.168.56.33', roles: ['worker'] },
          { name: 'cp-3', address: '192.168.56.23', roles: ['controlplane'] },
        );
        s.versions.kubernetes = 'v1.32.4';
        s.ssh.port = 2222;
      }),
      [],
    );
  });

  it('a changed cluster name', () => {
    const p = only(
      refused((s) => (s.name = 'other')),
      'cluster-name-changed',
      'name',
    );
    assert.equal(p.fix, 'put name: hardway back');
  });

  it('a changed network, any field, also one set or removed', () => {
    for (const [field, value] of [
      ['pods', '10.200.0.0/16'],
      ['nodeMask', 25],
      ['services', '10.96.0.0/24'],
      ['clusterDns', '10.32.0.11'],
      ['infrastructure', '192.168.0.0/16'],
      ['infrastructure', undefined],
    ] as const) {
      const p = only(
        refused((s) => {
          if (value === undefined) delete s.networks[field];
          else (s.networks as Record<string, unknown>)[field] = value;
        }),
        'networks-changed',
        `networks.${field}`,
      );
      assert.match(p.fix!, new RegExp(`networks\\.${field}`));
    }
    const fresh = seed();
    delete fresh.networks.infrastructure;
    const set = refusedChanges(fresh, seed(), all);
    assert.equal(set[0]?.code, 'networks-changed');
    assert.equal(set[0]?.fix, 'remove networks.infrastructure again');
  });

  it('new etcd hosts join; a new etcd role, a dropped etcd role, a removed etcd host are refused, naming replace-etcd-member', () => {
    assert.deepEqual(
      refused((s) =>
        s.hosts.push(
          { name: 'etcd-4', address: '192.168.56.14', roles: ['etcd'] },
          { name: 'etcd-5', address: '192.168.56.15', roles: ['etcd'] },
        ),
      ),
      [],
    );
    only(
      refused((s) => s.hosts[5]!.roles.push('etcd')),
      'etcd-members-changed',
      'hosts[5].roles',
    );
    const dropped = only(
      refused((s) => (s.hosts[3]!.roles = ['worker'])),
      'etcd-members-changed',
      'hosts[3].roles',
    );
    assert.match(dropped.fix!, /^put hosts\[3\]\.roles back to \[etcd\]/);
    assert.match(dropped.fix!, /hardway replace-etcd-member hardway etcd-3 --name NEW --address ADDRESS/);
    const removed = only(
      refused((s) => s.hosts.splice(3, 1)),
      'etcd-members-changed',
      'hosts',
    );
    assert.match(removed.fix!, /^put hosts\[3\] back as it was \(name: etcd-3, address: 192\.168\.56\.13, roles: \[etcd\]\)/);
    assert.match(removed.fix!, /hardway replace-etcd-member hardway etcd-3/);
    // The same removal, as a replaceEtcdMember request takes it: allowed.
    const next = seed();
    next.hosts.splice(3, 1, { name: 'etcd-4', address: '192.168.56.14', roles: ['etcd'] });
    assert.deepEqual(refusedChanges(current, next, all, { removing: ['etcd-3'] }), []);
  });

  it('the etcd member set may not change even for hosts not established yet', () => {
    only(
      refused((s) => s.hosts.splice(3, 1), ['ca', 'etcd-1', 'etcd-2']),
      'etcd-members-changed',
      'hosts',
    );
  });

  it('an established host removed', () => {
    const p = only(
      refused((s) => s.hosts.splice(7, 1)),
      'established-host-removed',
      'hosts',
    );
    assert.match(p.message, /"worker-1"/);
    assert.match(p.fix!, /^run: hardway remove-worker hardway worker-1 /);
    assert.match(p.fix!, /put hosts\[7\] back as it was/);
    // Through removeWorker it may go.
    const next = seed();
    next.hosts.splice(7, 1);
    assert.deepEqual(refusedChanges(current, next, all, { removing: ['worker-1'] }), []);
    // A control plane cannot be removed: the fix says so, and names reset.
    const cp = only(
      refused((s) => s.hosts.splice(5, 1)),
      'established-host-removed',
      'hosts',
    );
    assert.match(cp.fix!, /only workers can be removed \(hardway remove-worker\).*hardway reset hardway/);
  });

  it("an established host's address or roles changed", () => {
    const moved = only(
      refused((s) => (s.hosts[7]!.address = '192.168.56.39')),
      'established-host-address-changed',
      'hosts[7].address',
    );
    assert.match(
      moved.fix!,
      /^put hosts\[7\]\.address back to 192\.168\.56\.31; to move the worker, take it out \(hardway remove-worker hardway worker-1\)/,
    );
    const repurposed = only(
      refused((s) => (s.hosts[7]!.roles = ['controlplane'])),
      'established-host-roles-changed',
      'hosts[7].roles',
    );
    assert.match(repurposed.fix!, /^put hosts\[7\]\.roles back to \[worker\]/);
  });

  it('hosts not established yet may change or go', () => {
    const established = all.filter((n) => n !== 'worker-2');
    assert.deepEqual(
      refused((s) => {
        s.hosts[8]!.address = '192.168.56.39';
        s.hosts[8]!.roles = ['worker', 'admin'];
      }, established),
      [],
    );
    assert.deepEqual(
      refused((s) => s.hosts.splice(8, 1), established),
      [],
    );
  });

  it('reports every refused change at once', () => {
    const problems = refused((s) => {
      s.name = 'other';
      s.networks.pods = '10.200.0.0/16';
      s.hosts[7]!.address = '192.168.56.39';
      s.hosts.splice(8, 1);
    });
    assert.deepEqual(
      problems.map((p) => p.code),
      ['cluster-name-changed', 'networks-changed', 'established-host-address-changed', 'established-host-removed'],
    );
  });
});
