import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseClusterFile } from '../../model/validate.js';
import { plan } from '../../model/plan.js';
import { formatPlan, formatTable, wrapList } from '../../model/plan-format.js';

const seedText = readFileSync(fileURLToPath(new URL('../../examples/seed-cluster.yaml', import.meta.url)), 'utf8');

function seedPlan(previous?: Record<string, string>, drop?: string) {
  const r = parseClusterFile(seedText);
  assert.ok(r.ok);
  if (drop) r.spec.hosts = r.spec.hosts.filter((h) => h.name !== drop);
  return plan(r.spec, previous);
}

describe('formatTable', () => {
  it('pads columns and draws a rule', () => {
    assert.equal(
      formatTable(
        ['A', 'BB'],
        [
          ['xxx', 'y'],
          ['z', ''],
        ],
      ),
      'A    BB\n---  --\nxxx  y\nz',
    );
  });
  it('spreads multi-line cells over several lines', () => {
    assert.equal(formatTable(['A', 'B', 'C'], [['1', 'p\nq', 'r']]), 'A  B  C\n-  -  -\n1  p  r\n   q');
  });
  it('wraps lists without splitting items', () => {
    assert.equal(wrapList(['aaaa', 'bbbb', 'cccc'], 9), 'aaaa,bbbb,\ncccc');
    assert.equal(wrapList([], 9), '');
  });
});

describe('formatPlan', () => {
  const text = formatPlan(seedPlan());

  it('shows hosts with address, roles, ssh and pod CIDR', () => {
    assert.match(text, /^cp-1\s+192\.168\.56\.21\s+controlplane\s+root@192\.168\.56\.21:22\s+10\.244\.0\.0\/24$/m);
    assert.match(text, /^worker-2\s+192\.168\.56\.32\s+worker\s+root@192\.168\.56\.32:22\s+10\.244\.3\.0\/24$/m);
    assert.match(text, /^ca\s+192\.168\.56\.10\s+ca\s+root@192\.168\.56\.10:22\s+-$/m);
  });

  it('shows networks, the API endpoint, etcd members and certificates', () => {
    assert.match(text, /^services\s+10\.32\.0\.0\/24\s+kubernetes service 10\.32\.0\.1, cluster DNS 10\.32\.0\.10$/m);
    assert.match(text, /endpoint\s+https:\/\/192\.168\.56\.20:6443/);
    assert.match(text, /^etcd-2\s+https:\/\/192\.168\.56\.12:2379\s+https:\/\/192\.168\.56\.12:2380$/m);
    assert.match(text, /initial cluster: etcd-1=https:\/\/192\.168\.56\.11:2380,/);
    assert.match(text, /^kubelet-worker-1\s+system:node:worker-1\s+system:nodes\s+worker-1,192\.168\.56\.31\s+worker-1$/m);
    assert.match(text, /^kube-apiserver\s+kubernetes\s+-\s+kubernetes,/m);
    assert.ok(!/warning/i.test(text.split('\nWarnings')[0]!.split('Certificates')[0]!));
  });

  it('marks reserved ranges of removed nodes and prints warnings', () => {
    const p = seedPlan({ 'worker-1': '10.244.2.0/24' }, 'worker-1');
    const t = formatPlan(p);
    assert.match(t, /^worker-1\s+10\.244\.2\.0\/24\s+reserved \(node removed\)$/m);
    const r = parseClusterFile(seedText.replace(/  - name: etcd-2\n.*\n.*\n  - name: etcd-3\n.*\n.*\n/, ''));
    assert.ok(r.ok);
    assert.match(formatPlan(plan(r.spec)), /Warnings\n  warning: hosts\[1\]\.roles: only one etcd member/);
  });
});
