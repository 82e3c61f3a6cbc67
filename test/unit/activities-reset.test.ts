// reset/host (activities/reset.ts) on memory hosts the real activities brought up (test/helpers/memory-host.ts): every
// host back to what it was before hardway (its files, /etc/hosts byte for byte, its services stopped and disabled,
// the node's containers, mounts, devices and chains gone), the CAs kept unless asked, what is not hardway's kept, and a
// second reset, or a reset of a host hardway never set up, changes nothing.
//   node --import tsx --test test/unit/activities-reset.test.ts
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.js';
import { dryRunShells } from '../../activities/dry-run.js';
import { mountsToUnmount, withoutChains } from '../../activities/reset.js';
import type { HostShells } from '../../activities/host-shell.js';
import type { ResetHostInput, StepReport } from '../../activities/types.js';
import { hostFootprint } from '../../model/footprint.js';
import type { ClusterPlan } from '../../model/types.js';
import { removeHostsBlock, mergeHostsFile } from '../../render/hosts-file.js';
import { PHASES } from '../../workflows/phases/index.js';
import { targetOf } from '../../workflows/phases/plan-lookup.js';
import { labFor, runPhases, type MemoryLab } from '../helpers/memory-host.js';
import { quietLogger, seedPlan } from '../helpers/seed-plan.js';

const quiet = quietLogger;

const resetInput = (plan: ClusterPlan, host: string, includeCa = false): ResetHostInput => ({
  cluster: plan.name,
  target: targetOf(plan, host),
  footprint: hostFootprint(plan, host, { includeCa }),
});

async function reset(shells: HostShells, input: ResetHostInput): Promise<StepReport> {
  return new MockActivityEnvironment({}, { logger: quiet }).run(createActivities(shells)['reset/host'], input);
}

async function resetAll(lab: MemoryLab, plan: ClusterPlan, includeCa = false): Promise<Map<string, StepReport>> {
  const reports = new Map<string, StepReport>();
  for (const h of plan.hosts) reports.set(h.name, await reset(lab, resetInput(plan, h.name, includeCa)));
  return reports;
}

/** An operator's lines in every host's /etc/hosts (and Debian's 127.0.1.1 line, which hardway disables). */
const etcHosts = (name: string) => `127.0.0.1\tlocalhost\n127.0.1.1\t${name}\n10.1.1.1 printer # office\n`;

const OPERATOR_KUBECONFIG = 'apiVersion: v1\nkind: Config\ncurrent-context: staging\n';
/** What the haproxy package writes (test/helpers/memory-host.ts). */
const PACKAGE_HAPROXY_CONFIG = 'global\n    log /dev/log local0\n';

let plan: ClusterPlan;
/** Every host as it was before hardway. */
let fresh: MemoryLab;
/** The seed brought up on them, with pods that ran on worker-1; every test works on a clone. */
let converged: MemoryLab;

before(async () => {
  plan = seedPlan();
  fresh = labFor(plan);
  for (const h of fresh.hosts.values()) h.write('/etc/hosts', etcHosts(h.name));
  const w = fresh.host('worker-1');
  // Another network's configuration, which the kubelet step renames aside, and a network namespace of the operator's.
  w.write('/etc/cni/net.d/99-other.conf', '{"name":"other"}\n');
  w.mounts.push('/run/netns/operator');
  // The admin host's operator already has a kubeconfig (for their other clusters): hardway keeps a copy.
  fresh.host('admin').write('/root/.kube/config', OPERATOR_KUBECONFIG, 0o600);
  converged = fresh.clone();
  fresh = fresh.clone();
  const env = new MockActivityEnvironment({}, { logger: quiet });
  await env.run(() => runPhases(plan, PHASES, createActivities(converged)));

  // Pods ran on worker-1: containerd's containers (two running), their mounts, the bridge, their files.
  const worker = converged.host('worker-1');
  worker.containers.set('k8s.io/pause-1', { task: true });
  worker.containers.set('k8s.io/coredns-1', { task: true });
  worker.containers.set('k8s.io/exited-1', { task: false });
  worker.mounts.push(
    '/run/netns/cni-3f2a',
    '/run/containerd/io.containerd.runtime.v2.task/k8s.io/pause-1/rootfs',
    '/var/lib/kubelet/pods/0a1b/volumes/kubernetes.io~projected/kube-api-access-x',
    '/var/lib/kubelet/pods/0a1b/volumes/kubernetes.io~projected/kube-api-access-x/inner',
  );
  worker.links.add('cni0');
  worker.write('/run/netns/cni-3f2a', '');
  worker.write('/var/lib/cni/networks/cbr0/10.244.2.2', 'pause-1\n');
  worker.write('/var/log/pods/kube-system_coredns-1_0a1b/coredns/0.log', 'ready\n');
  worker.dirs.set('/opt/containerd/bin', 0o711);
  // What interrupted writes left: half a binary, a download directory.
  worker.write('/usr/local/bin/kubelet.hardway-new', 'half\n', 0o755);
  converged.host('etcd-1').write('/var/tmp/hardway-etcd-v3.6.16/etcd-v3.6.16-linux-amd64.tar.gz', 'part\n');
});

describe('a reset of every host of a cluster hardway brought up', () => {
  let lab: MemoryLab;
  let reports: Map<string, StepReport>;
  before(async () => {
    lab = converged.clone();
    reports = await resetAll(lab, plan);
  });

  it('leaves every host with the files it had before hardway (the CAs, and the haproxy package, kept)', () => {
    for (const h of lab.hosts.values()) {
      const before = [...fresh.host(h.name).files.keys()];
      const extra =
        h.name === 'ca'
          ? ['ca', 'etcd-ca', 'front-proxy-ca'].flatMap((c) => [`/var/lib/hardway/ca/${c}.crt`, `/var/lib/hardway/ca/${c}.key`])
          : h.name === 'lb'
            ? ['/usr/sbin/haproxy', '/lib/systemd/system/haproxy.service', '/etc/haproxy/haproxy.cfg']
            : [];
      assert.deepEqual([...h.files.keys()].sort(), [...before, ...extra].sort(), h.name);
    }
    // The files that were there before hardway first replaced them are back, as they were.
    assert.equal(lab.host('lb').text('/etc/haproxy/haproxy.cfg'), PACKAGE_HAPROXY_CONFIG);
    assert.equal(lab.host('admin').text('/root/.kube/config'), OPERATOR_KUBECONFIG);
    assert.equal(lab.host('admin').files.get('/root/.kube/config')!.mode, 0o600);
  });

  it('a bring-up had kept those files beside its own, once', () => {
    assert.equal(converged.host('lb').text('/etc/haproxy/haproxy.cfg.before-hardway'), PACKAGE_HAPROXY_CONFIG);
    assert.match(converged.host('lb').text('/etc/haproxy/haproxy.cfg')!, /^# Managed by hardway/);
    assert.equal(converged.host('admin').text('/root/.kube/config.before-hardway'), OPERATOR_KUBECONFIG);
    assert.match(converged.host('admin').text('/root/.kube/config')!, /^# Written by hardway/);
    for (const h of lab.hosts.values()) {
      assert.ok(![...h.files.keys()].some((p) => p.endsWith('.before-hardway')), `${h.name}: a copy left behind`);
    }
  });

  it('gives /etc/hosts back byte for byte: the block gone, the line hardway had disabled back, the operator’s kept', () => {
    for (const h of lab.hosts.values()) {
      assert.notEqual(converged.host(h.name).text('/etc/hosts'), etcHosts(h.name), 'the bring-up changed it');
      assert.equal(h.text('/etc/hosts'), etcHosts(h.name), h.name);
    }
  });

  it('stops and disables every service, and removes the units hardway wrote', () => {
    for (const h of lab.hosts.values()) {
      for (const [name, s] of h.services) {
        assert.deepEqual([s.active, s.enabled], [false, false], `${h.name}: ${name}`);
        assert.equal(h.text(`/etc/systemd/system/${name}.service`), undefined, `${h.name}: ${name}`);
      }
    }
    assert.ok(lab.host('worker-1').daemonReloads > converged.host('worker-1').daemonReloads);
  });

  it('removes hardway’s directories, and those it made when nothing else is in them', () => {
    for (const h of lab.hosts.values()) {
      const fp = hostFootprint(plan, h.name, { includeCa: false });
      for (const d of fp.directories) assert.ok(!h.isDir(d), `${h.name}: ${d}`);
      for (const d of ['/etc/containerd', '/opt/cni', '/opt/containerd', '/etc/kubernetes', '/var/tmp/hardway-etcd-v3.6.16', '/root/.kube'])
        if (!(h.name === 'admin' && d === '/root/.kube')) assert.ok(!h.isDir(d), `${h.name}: ${d}`);
    }
    assert.ok(lab.host('admin').isDir('/root/.kube'), 'it holds the operator’s kubeconfig again');
    assert.ok(lab.host('ca').isDir('/var/lib/hardway/ca'), 'the CAs stay');
    assert.ok(!lab.host('etcd-1').isDir('/var/lib/hardway'));
    assert.equal(lab.host('worker-1').images.size, 0, 'containerd’s images went with its root directory');
  });

  it('kills and deletes the node’s containers after the kubelet stopped and before containerd does', () => {
    const w = lab.host('worker-1');
    assert.equal(w.containers.size, 0);
    const changes = w.logged('change');
    const at = (re: RegExp) => changes.findIndex((c) => re.test(c));
    assert.ok(at(/^systemctl stop kubelet$/) >= 0);
    assert.ok(at(/^systemctl stop kubelet$/) < at(/^rc=0; for id in pause-1 coredns-1; do .* tasks delete -f "\$id"/));
    assert.ok(at(/tasks delete -f/) < at(/^rc=0; for id in pause-1 coredns-1 exited-1; do .* containers delete "\$id"/));
    assert.ok(at(/containers delete/) < at(/^systemctl stop containerd$/));
    assert.ok(!changes.some((c) => /kill|pkill/.test(c) && !c.includes('ctr')), 'no process killed by name');
  });

  it('unmounts the pods’ mounts deepest first and keeps the operator’s network namespace', () => {
    const w = lab.host('worker-1');
    assert.deepEqual(w.mounts, ['/run/netns/operator']);
    const umounts = w.logged('change').filter((c) => c.startsWith('umount '));
    assert.equal(umounts.length, 4);
    assert.ok(umounts[0]!.includes('/inner'), umounts.join('\n'));
    assert.ok(!umounts.some((u) => u.includes('operator')));
  });

  it('deletes cni0 and flannel.1, and only the chains of kube-proxy, flannel and the kubelet', () => {
    const w = lab.host('worker-1');
    assert.deepEqual([...w.links], []);
    assert.equal(w.vxlan, undefined);
    for (const family of ['iptables', 'ip6tables'] as const) {
      const saved = w.iptablesSave(family);
      assert.ok(!/KUBE-|FLANNEL-/.test(saved), saved);
      // Every chain and rule it had before (the mangle table the canaries made stays, empty, as it would).
      for (const line of fresh.host('worker-1').iptablesSave(family).split('\n')) assert.ok(saved.split('\n').includes(line), line);
      assert.ok(!saved.split('\n').some((l) => l.startsWith('-A ') && !fresh.host('worker-1').iptablesSave(family).includes(l)), saved);
    }
    assert.ok(w.iptablesSave('iptables').includes('-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT'), 'the operator’s rule stays');
  });

  it('gives back the network configuration hardway had renamed aside', () => {
    const w = lab.host('worker-1');
    assert.equal(w.text('/etc/cni/net.d/99-other.conf'), '{"name":"other"}\n');
    assert.ok(reports.get('worker-1')!.changed.includes('restored /etc/cni/net.d/99-other.conf (hardway had renamed it aside)'));
    assert.ok(w.isDir('/etc/cni/net.d'), 'not empty: kept');
  });

  it('reports what it changed and what it kept', () => {
    const w = reports.get('worker-1')!;
    for (const c of [
      'stopped kubelet',
      'disabled kubelet',
      'killed and deleted task k8s.io/pause-1',
      'deleted container k8s.io/exited-1',
      'unmounted /run/netns/cni-3f2a',
      'deleted network device cni0',
      'deleted network device flannel.1',
      'removed /var/lib/kubelet/',
      'removed /usr/local/bin/kubelet',
      'removed /usr/local/bin/kubelet.hardway-new',
      'removed /etc/systemd/system/kubelet.service',
      'removed the block of cluster hardway from /etc/hosts',
    ]) {
      assert.ok(w.changed.includes(c), `${c}\n---\n${w.changed.join('\n')}`);
    }
    assert.ok(
      w.changed.some((c) => /^removed \d+ iptables chains \(KUBE-\*, FLANNEL-\*, CNI-\*\) and \d+ rules that jump to them from /.test(c)),
    );
    assert.ok(!w.changed.some((c) => c.startsWith('removed /var/lib/kubelet/pki')), 'inside a directory that went whole');
    assert.ok(
      w.notes.some((n) => n.includes('kernel settings')),
      w.notes.join('\n'),
    );
    assert.ok(
      reports
        .get('ca')!
        .notes.some((n) => n.startsWith('kept the cluster’s certificate authorities') || n.includes('certificate authorities')),
    );
    assert.ok(reports.get('etcd-1')!.changed.includes('removed /var/tmp/hardway-etcd-v3.6.16'));
    assert.ok(reports.get('lb')!.changed.includes('removed /etc/haproxy/haproxy.cfg'));
    assert.ok(reports.get('lb')!.changed.includes('restored /etc/haproxy/haproxy.cfg (the file there before hardway)'));
    assert.ok(reports.get('admin')!.changed.includes('restored /root/.kube/config (the file there before hardway)'));
    assert.ok(reports.get('lb')!.notes.some((n) => n.includes('haproxy package')));
  });

  it('a second reset changes nothing on any host', async () => {
    const again = lab.clone();
    const second = await resetAll(again, plan);
    for (const [host, r] of second) assert.deepEqual(r.changed, [], host);
    assert.ok(
      second.get('ca')!.notes.some((n) => n.includes('certificate authorities')),
      'the kept CAs are still said',
    );
    assert.equal(again.snapshot(), lab.snapshot());
  });
});

describe('reset, other cases', () => {
  it('a host hardway never set up: nothing changes, and the report says so', async () => {
    const lab = fresh.clone();
    const before = lab.snapshot();
    for (const h of plan.hosts) {
      const r = await reset(lab, resetInput(plan, h.name));
      assert.deepEqual(r.changed, [], h.name);
      // The admin host's operator has a kubeconfig of their own: kept, and said so.
      if (h.name === 'admin') assert.match(r.notes.join('\n'), /^kept \/root\/\.kube\/config: it is not hardway’s/m);
      else if (h.name !== 'worker-1') assert.deepEqual(r.notes, ['nothing of hardway’s on this host'], h.name);
    }
    assert.equal(lab.snapshot(), before);
  });

  it('with includeCa, the CAs go, and /var/lib/hardway with them', async () => {
    const lab = converged.clone();
    const r = await reset(lab, resetInput(plan, 'ca', true));
    assert.ok(r.changed.includes('removed /var/lib/hardway/ca/'), r.changed.join('\n'));
    const ca = lab.host('ca');
    assert.deepEqual([...ca.files.keys()].sort(), [...fresh.host('ca').files.keys()].sort());
    assert.ok(!ca.isDir('/var/lib/hardway'));
    assert.ok(!r.notes.some((n) => n.includes('certificate authorities')));
  });

  it('a haproxy config or a ~/.kube/config that is no longer hardway’s is kept, and said so', async () => {
    const lab = converged.clone();
    lab.host('lb').write('/etc/haproxy/haproxy.cfg', 'global\n    # the operator’s own\n');
    lab.host('admin').write('/root/.kube/config', 'apiVersion: v1\nkind: Config\n');
    const lb = await reset(lab, resetInput(plan, 'lb'));
    const admin = await reset(lab, resetInput(plan, 'admin'));
    assert.equal(lab.host('lb').text('/etc/haproxy/haproxy.cfg'), 'global\n    # the operator’s own\n');
    assert.equal(lab.host('admin').text('/root/.kube/config'), 'apiVersion: v1\nkind: Config\n');
    assert.ok(
      lb.notes.some((n) => n.startsWith('kept /etc/haproxy/haproxy.cfg: it is not hardway’s')),
      lb.notes.join('\n'),
    );
    assert.ok(
      admin.notes.some((n) => n.startsWith('kept /root/.kube/config')),
      admin.notes.join('\n'),
    );
    assert.ok(
      admin.notes.some((n) => n.startsWith('kept /root/.kube/: not empty (config, config.before-hardway)')),
      admin.notes.join('\n'),
    );
    // The copy of what was there before hardway stays too: putting it back would undo the operator's change.
    assert.equal(lab.host('admin').text('/root/.kube/config.before-hardway'), OPERATOR_KUBECONFIG);
    assert.ok(admin.notes.includes('kept /root/.kube/config.before-hardway beside /root/.kube/config, which is not hardway’s any more'));
    const haproxy = lab.host('lb').services.get('haproxy')!;
    assert.deepEqual([haproxy.active, haproxy.enabled], [true, true], 'it runs the operator’s config now: left running');
    assert.ok(
      lb.notes.some((n) => n.startsWith('left haproxy as it is')),
      lb.notes.join('\n'),
    );
  });

  it('a directory of hardway’s that is a mount point (a disk for /var/lib/kubelet) is emptied and stays', async () => {
    const lab = converged.clone();
    const w = lab.host('worker-2');
    w.mounts.push('/var/lib/kubelet', '/var/lib/kubelet/pods/9f/volumes/x');
    const r = await reset(lab, resetInput(plan, 'worker-2'));
    assert.ok(r.changed.includes('emptied /var/lib/kubelet/ (a mount point: kept)'), r.changed.join('\n'));
    assert.ok(r.changed.includes('unmounted /var/lib/kubelet/pods/9f/volumes/x'));
    assert.ok(!r.changed.includes('removed /var/lib/kubelet/'));
    assert.deepEqual(w.mounts, ['/var/lib/kubelet'], 'the disk stays mounted');
    assert.ok(w.isDir('/var/lib/kubelet'));
    assert.deepEqual(w.children('/var/lib/kubelet'), []);
    const again = await reset(lab, resetInput(plan, 'worker-2'));
    assert.deepEqual(again.changed, []);
  });

  it('a dry run lists what it would change and changes nothing', async () => {
    const lab = converged.clone();
    const before = lab.snapshot();
    const dry = dryRunShells(lab);
    const r = await reset(dry, resetInput(plan, 'worker-1'));
    assert.equal(lab.snapshot(), before);
    const what = dry.recorded.map((a) => a.what);
    assert.ok(what.includes('systemctl stop kubelet'), what.join('\n'));
    assert.ok(what.some((w) => w.startsWith('remove ')));
    assert.ok(r.changed.includes('removed /var/lib/kubelet/'));
  });

  it('refuses the footprint of another host', async () => {
    const input = { ...resetInput(plan, 'worker-1'), footprint: hostFootprint(plan, 'worker-2', { includeCa: false }) };
    await assert.rejects(reset(converged.clone(), input), /the footprint of worker-2 was sent to worker-1/);
  });
});

describe('the pieces', () => {
  it('withoutChains keeps every table without the chains, and drops the rules that jump to them', () => {
    const save = [
      '# Generated by iptables-save v1.8.9',
      '*mangle',
      ':PREROUTING ACCEPT [0:0]',
      'COMMIT',
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':POSTROUTING ACCEPT [0:0]',
      ':KUBE-SERVICES - [0:0]',
      ':FLANNEL-POSTRTG - [0:0]',
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      '-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG',
      '-A POSTROUTING -s 10.9.0.0/16 -j MASQUERADE',
      '-A KUBE-SERVICES -d 10.32.0.1/32 -j KUBE-SVC-X',
      'COMMIT',
      '',
    ].join('\n');
    const r = withoutChains(save, ['KUBE-', 'FLANNEL-']);
    assert.deepEqual(r.tables, ['nat']);
    assert.deepEqual(r.chains, ['nat/KUBE-SERVICES', 'nat/FLANNEL-POSTRTG']);
    assert.equal(r.rules, 2);
    assert.equal(
      r.restore,
      '*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -s 10.9.0.0/16 -j MASQUERADE\nCOMMIT\n',
    );
    assert.equal(withoutChains(r.restore, ['KUBE-', 'FLANNEL-']).restore, '', 'nothing left to remove');
  });

  it('mountsToUnmount takes the mounts below the prefixes, deepest first, with the kernel’s escapes undone', () => {
    const info = [
      '20 1 0:30 / / rw - ext4 /dev/sda1 rw',
      '21 20 0:31 / /var/lib/kubelet rw - ext4 /dev/sdb1 rw',
      '22 21 0:32 / /var/lib/kubelet/pods/a/volumes/x rw - tmpfs tmpfs rw',
      '23 22 0:33 / /var/lib/kubelet/pods/a/volumes/x/y\\040z rw - tmpfs tmpfs rw',
      '24 20 0:34 / /run/netns rw - tmpfs tmpfs rw',
      '25 24 0:35 / /run/netns/cni-1 rw - nsfs nsfs rw',
      '26 24 0:36 / /run/netns/mine rw - nsfs nsfs rw',
    ].join('\n');
    assert.deepEqual(mountsToUnmount(info, ['/var/lib/kubelet/', '/run/netns/cni-']), [
      '/var/lib/kubelet/pods/a/volumes/x/y z',
      '/var/lib/kubelet/pods/a/volumes/x',
      '/run/netns/cni-1',
    ]);
  });

  it('removeHostsBlock undoes mergeHostsFile', () => {
    const hosts = { cluster: 'hardway', hosts: plan.hosts.map((h) => ({ name: h.name, address: h.address })) };
    for (const before of [etcHosts('etcd-1'), etcHosts('elsewhere'), '127.0.0.1 localhost', '']) {
      const merged = mergeHostsFile(before, hosts);
      const back = removeHostsBlock(merged, 'hardway');
      assert.equal(back.replace(/\n$/, ''), before.replace(/\n$/, ''), JSON.stringify(before));
      assert.equal(removeHostsBlock(back, 'hardway'), back);
    }
    assert.equal(
      removeHostsBlock(mergeHostsFile(etcHosts('etcd-1'), hosts), 'another'),
      mergeHostsFile(etcHosts('etcd-1'), hosts).replace(/^# hardway: conflicts with the cluster block: /m, ''),
    );
  });
});
