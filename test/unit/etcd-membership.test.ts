// etcd membership, the pure parts: which members join a running cluster, whom they ask, and reading etcdctl's
// member list without losing the digits of its 64-bit ids.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseMemberList } from '../../activities/etcd.js';
import { parseClusterFile } from '../../model/validate.js';
import { plan } from '../../model/plan.js';
import { joiningMembers, runningAskers } from '../../workflows/phases/etcd.js';
import { stepOf } from '../../workflows/phases/index.js';

const seedText = readFileSync(new URL('../../examples/seed-cluster.yaml', import.meta.url), 'utf8');
function grownPlan() {
  const text = seedText.replace(
    /(- name: etcd-3[\s\S]*?roles: \[etcd\]\n)/,
    '$1  - name: etcd-4\n    address: 192.168.56.14\n    roles: [etcd]\n  - name: etcd-5\n    address: 192.168.56.15\n    roles: [etcd]\n',
  );
  const r = parseClusterFile(text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return plan(r.spec);
}

describe('etcd members that join a running cluster', () => {
  const p = grownPlan();
  const running = ['ca', 'etcd-1', 'etcd-2', 'etcd-3', 'lb', 'cp-1', 'cp-2', 'worker-1', 'worker-2', 'admin'];

  it('are the planned members not set up yet, once some are: a new cluster has none (its members bootstrap it together)', () => {
    assert.deepEqual(joiningMembers(p, running), ['etcd-4', 'etcd-5']);
    assert.deepEqual(joiningMembers(p, []), []);
    assert.deepEqual(joiningMembers(p, [...running, 'etcd-4', 'etcd-5']), []);
    assert.deepEqual(stepOf('etcd/join').hosts(p, running), ['etcd-4', 'etcd-5']);
    assert.equal(stepOf('etcd/join').oneAtATime, true, 'one learner at a time');
  });

  it('ask the members that are set up, never a joining one, each with its own health-check client certificate', () => {
    const input = stepOf('etcd/join').input(p, 'etcd-4', running);
    assert.deepEqual(
      input.via.map((a) => [a.target.name, a.client.host, a.clientUrl]),
      [
        ['etcd-1', 'etcd-1', 'https://192.168.56.11:2379'],
        ['etcd-2', 'etcd-2', 'https://192.168.56.12:2379'],
        ['etcd-3', 'etcd-3', 'https://192.168.56.13:2379'],
      ],
    );
    assert.equal(input.member.peerUrl, 'https://192.168.56.14:2380');
    assert.deepEqual(runningAskers(p, []), []);
  });
});

describe('parseMemberList', () => {
  it('reads ids as hex without losing digits, names (none for a member added but not started), peer URLs and learners', () => {
    // 64-bit ids beyond 2^53: JSON.parse alone would round them.
    const out = JSON.stringify({ header: { cluster_id: 1, member_id: 2, raft_term: 3 } }).replace(
      '}}',
      '},"members":[{"ID":17237436991929493444,"name":"etcd-1","peerURLs":["https://192.168.56.11:2380"],"clientURLs":["https://192.168.56.11:2379"]},' +
        '{"ID":9372538179322589801,"peerURLs":["https://192.168.56.14:2380"],"isLearner":true}]}',
    );
    assert.deepEqual(parseMemberList(out), [
      { id: 'ef37ad9dc622a7c4', name: 'etcd-1', peerUrls: ['https://192.168.56.11:2380'], isLearner: false },
      { id: '8211f1d0f64f3269', name: '', peerUrls: ['https://192.168.56.14:2380'], isLearner: true },
    ]);
  });

  it('says what it got when etcdctl printed no JSON', () => {
    assert.throws(() => parseMemberList('Error: context deadline exceeded'), /printed no JSON: Error: context deadline exceeded/);
  });
});
