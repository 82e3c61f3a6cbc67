// hardway status as a person reads it: plain aligned columns, a line per phase, the steps that need a look; every
// step with -o wide, one host's with --host.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { columns, formatStatus } from '../../cli/status-format.js';
import { noWorkerMessage } from '../../cli/worker-presence.js';
import type { ClusterStatus, StepStatus } from '../../workflows/status.js';

const step = (name: string, state: StepStatus['state'], extra: Partial<StepStatus> = {}): StepStatus => {
  const parts = name.split('/');
  return { name, phase: parts[0]!, host: parts.at(-1)!, state, attempts: 1, durationMs: 1200, ...extra };
};

function status(): ClusterStatus {
  const hosts = Array.from({ length: 15 }, (_, i) => `worker-${i + 1}`);
  return {
    cluster: 'big',
    state: 'converging',
    currentPhase: 'workers',
    generation: 2,
    phases: [
      { name: 'hosts', title: '/etc/hosts', state: 'done', durationMs: 900 },
      { name: 'workers', title: 'nodes (kubelet, kube-proxy)', state: 'running' },
      { name: 'addons', title: 'flannel, CoreDNS', state: 'pending' },
    ],
    steps: [
      ...hosts.map((h) => step(`hosts/hosts-file/${h}`, 'done', { changed: h === 'worker-15' ? ['/etc/hosts'] : [] })),
      ...hosts
        .slice(0, 13)
        .map((h) => step(`workers/kubelet/${h}`, 'done', { changed: ['/var/lib/kubelet/config.yaml', 'restarted kubelet'] })),
      step('workers/kubelet/worker-14', 'running', { attempts: 3, lastError: 'worker-14: connection lost (keepalive)' }),
      step('workers/kubelet/worker-15', 'running'),
    ],
    changedCount: 27,
    notBuilt: [],
    podAllocations: {},
    changes: [{ generation: 2, at: '', via: 'update', summary: 'added worker-15 (worker)', accepted: true }],
  };
}

describe('formatStatus', () => {
  it('is plain aligned columns: a summary line per phase and only the steps that need a look', () => {
    const text = formatStatus(status());
    assert.doesNotMatch(text, /[│─┌┐└┘├┤┬┴┼]/, 'no box drawing');
    const lines = text.split('\n');
    assert.equal(lines[0], 'cluster big: converging (phase workers), generation 2');
    const head = lines.find((l) => l.startsWith('PHASE'))!;
    const at = head.indexOf('STATE');
    for (const p of ['hosts', 'workers', 'addons'])
      assert.equal(lines.find((l) => l.startsWith(`${p} `))!.indexOf(p === 'workers' ? 'running' : p === 'hosts' ? 'done' : 'pending'), at);
    assert.match(text, /^hosts +done +900 ms +15 hosts, 15 steps: 15 done; 1 changed something$/m);
    assert.match(text, /^workers +running +15 hosts, 15 steps: 13 done, 2 running; 13 changed something; 1 retried$/m);
    assert.match(text, /^addons +pending +flannel, CoreDNS$/m);
    // The steps: only the two running, the retried one with its error; none of the 28 done.
    const stepLines = lines.filter((l) => /^(hosts|workers)\/[a-z-]+\//.test(l));
    assert.deepEqual(
      stepLines.map((l) => l.split(/\s+/)[0]),
      ['workers/kubelet/worker-14', 'workers/kubelet/worker-15'],
    );
    assert.match(stepLines[0]!, /running +3 +1\.2 s +worker-14: connection lost \(keepalive\)$/);
    assert.match(text, /hardway status big -o wide/);
    assert.ok(lines.length < 20, `${lines.length} lines for 30 steps`);
  });

  it('-o wide lists every step with what it changed; --host one host', () => {
    const wide = formatStatus(status(), { wide: true });
    assert.match(wide, /^hosts\/hosts-file\/worker-15 +done +1 +1\.2 s +\/etc\/hosts$/m);
    assert.match(wide, /^hosts\/hosts-file\/worker-1 +done +1 +1\.2 s +no change$/m);
    assert.equal(wide.split('\n').filter((l) => /^(hosts|workers)\//.test(l)).length, 30);
    const one = formatStatus(status(), { host: 'worker-3' });
    assert.deepEqual(
      one
        .split('\n')
        .filter((l) => /^(hosts|workers)\//.test(l))
        .map((l) => l.split(/\s+/)[0]),
      ['hosts/hosts-file/worker-3', 'workers/kubelet/worker-3'],
    );
    assert.match(one, /workers\/kubelet\/worker-3 +done +1 +1\.2 s +\/var\/lib\/kubelet\/config\.yaml, restarted kubelet/);
    assert.match(formatStatus(status(), { host: 'nope' }), /no step of the current or last converge ran on nope/);
  });

  it('columns: each as wide as its widest cell, the last one not padded', () => {
    assert.equal(
      columns(
        ['A', 'BB', 'C'],
        [
          ['xxx', 'y', 'z'],
          ['', 'yyyy', ''],
        ],
      ),
      'A     BB     C\nxxx   y      z\n      yyyy',
    );
  });
});

describe('who asked, and whether anybody works on it', () => {
  it('the last request names its sender when it said', () => {
    const st = status();
    st.changes = [{ ...st.changes[0]!, by: 'alice@laptop' }];
    assert.match(formatStatus(st), /last request \(generation 2, update from alice@laptop\): added worker-15/);
  });

  it('no worker: says so, with the command for this server; workers seen: names them', () => {
    assert.match(noWorkerMessage('localhost:7233', 'default', []), /no worker is polling task queue "hardway".*hardway worker \(/);
    assert.match(
      noWorkerMessage('temporal.example:7233', 'prod', []),
      /namespace prod on temporal.example:7233.*hardway worker --address temporal.example:7233/,
    );
    assert.match(noWorkerMessage('localhost:7233', 'default', [{ identity: '42@build', secondsAgo: 5 }]), /42@build \(polled 5 s ago\)/);
  });
});
