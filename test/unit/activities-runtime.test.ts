// The node's container runtime and images on memory hosts, and the pure parts under them: release descriptors,
// the checksum lookup (run with the real awk), and the containerd and kubelet configuration rendered from host facts.
//   node --import tsx --test test/unit/activities-runtime.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';

import { installScript, releaseBase } from '../../activities/binaries.js';
import { createActivities } from '../../activities/index.js';
import { parseNodeFacts } from '../../activities/preflight-facts.js';
import {
  CHECKSUM_AWK,
  cniPluginsRelease,
  containerdRelease,
  etcdRelease,
  kubernetesRelease,
  runcRelease,
} from '../../activities/releases.js';
import { parseChecksums, parseReferences } from '../../activities/runtime.js';
import type { ContainerRuntimeInput, NodeImagesInput, StepReport } from '../../activities/types.js';
import {
  CONTAINERD_CONFIG_PATH,
  CONTAINERD_UNIT_PATH,
  renderContainerdConfig,
  renderContainerdUnit,
  type NodeFacts,
} from '../../render/containerd.js';
import { renderKubeletConfig, renderKubeletUnit } from '../../render/kubelet.js';
import { failure } from '../helpers/failure.js';
import { MemoryHost, MemoryLab } from '../helpers/memory-host.js';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const target = { name: 'worker-1', address: '192.168.56.31', user: 'root', port: 22 };
const MIRROR = 'http://192.168.56.1:8088';

function runtimeInput(over: Partial<ContainerRuntimeInput> = {}): ContainerRuntimeInput {
  return {
    cluster: 'lab',
    target,
    versions: { containerd: 'v1.6.20', runc: 'v1.1.5', cniPlugins: 'v1.1.1' },
    binaries: { source: 'mirror', mirror: MIRROR },
    sandboxImage: 'hardway.local/pause:1.0.0',
    ...over,
  };
}

function freshLab(node: Partial<MemoryHost['node']> = {}): { lab: MemoryLab; host: MemoryHost } {
  const lab = new MemoryLab([{ name: target.name, address: target.address }]);
  const host = lab.host(target.name);
  host.node = { ...host.node, ...node };
  return { lab, host };
}

async function run<K extends 'runtime/containerd' | 'runtime/images'>(
  lab: MemoryLab,
  activity: K,
  input: K extends 'runtime/containerd' ? ContainerRuntimeInput : NodeImagesInput,
): Promise<StepReport> {
  const env = new MockActivityEnvironment({}, { logger: quiet });
  const fn = createActivities(lab)[activity] as (i: typeof input) => Promise<StepReport>;
  return env.run(fn, input);
}

const LAB_FACTS: NodeFacts = { cgroup: { version: 1, hybrid: true }, systemd: false, sysResource: false, swap: false };
const HOST_FACTS: NodeFacts = { cgroup: { version: 2, hybrid: false }, systemd: true, sysResource: true, swap: false };

describe('node facts and the configuration rendered from them', () => {
  it('reads cgroup v1, no systemd and no CAP_SYS_RESOURCE as such (a lab host, a rootless container)', () => {
    const out = '@@cgroup\n12:memory:/\n1:name=systemd:/\n0::/\n@@capeff\nCapEff:\t000001fffeffffff\n@@init\nother\n';
    assert.deepEqual(parseNodeFacts(out), LAB_FACTS);
    const v2 = '@@cgroup\n0::/init.scope\n@@capeff\nCapEff:\t000001ffffffffff\n@@init\nsystemd\n';
    assert.deepEqual(parseNodeFacts(v2), HOST_FACTS);
    assert.equal(parseNodeFacts('@@cgroup\n0::/\n@@init\nsystemd\n').sysResource, false, 'an unreadable CapEff counts as missing');
  });

  it('containerd without CAP_SYS_RESOURCE restricts OOM scores, and without systemd uses cgroupfs', () => {
    const c = renderContainerdConfig({ host: 'w', version: 'v1.6.20', sandboxImage: 'hardway.local/pause:1.0.0' }, LAB_FACTS);
    assert.match(c, /^version = 2$/m);
    assert.match(c, /^ {4}restrict_oom_score_adj = true$/m);
    assert.match(c, /^ {10}SystemdCgroup = false$/m);
    assert.match(c, /^ {4}sandbox_image = "hardway\.local\/pause:1\.0\.0"$/m);
    assert.match(c, /^ {10}BinaryName = "\/usr\/local\/sbin\/runc"$/m);
    assert.doesNotMatch(renderContainerdUnit({ version: 'v1.6.20' }, LAB_FACTS), /OOMScoreAdjust/);
  });

  it('containerd on a systemd host with the capability uses the systemd driver and a protected OOM score', () => {
    const c = renderContainerdConfig({ host: 'w', version: 'v1.7.28', sandboxImage: 'registry.k8s.io/pause:3.10.1' }, HOST_FACTS);
    assert.doesNotMatch(c, /restrict_oom_score_adj/);
    assert.match(c, /^ {10}SystemdCgroup = true$/m);
    assert.match(renderContainerdUnit({ version: 'v1.7.28' }, HOST_FACTS), /^OOMScoreAdjust=-999$/m);
  });

  it('the kubelet follows the same facts: cgroupfs and failCgroupV1: false on v1; standalone it trusts no one', () => {
    const standalone = renderKubeletConfig({ host: 'w', podCidr: '10.244.7.0/24', clusterDns: '10.32.0.10' }, LAB_FACTS);
    assert.match(standalone, /^cgroupDriver: cgroupfs$/m);
    assert.match(standalone, /^failCgroupV1: false$/m);
    assert.match(standalone, /^ {2}anonymous:\n {4}enabled: false$/m);
    assert.match(standalone, /^ {2}webhook:\n {4}enabled: false$/m);
    assert.match(standalone, /^podCIDR: "10\.244\.7\.0\/24"$/m);
    assert.doesNotMatch(standalone, /clientCAFile/);
    const joined = renderKubeletConfig(
      {
        host: 'w',
        podCidr: '10.244.7.0/24',
        clusterDns: '10.32.0.10',
        apiServer: {
          kubeconfig: '/var/lib/kubelet/kubeconfig',
          clientCaFile: '/etc/kubernetes/pki/ca.crt',
          tlsCertFile: 'a',
          tlsPrivateKeyFile: 'b',
        },
      },
      HOST_FACTS,
    );
    assert.match(joined, /^cgroupDriver: systemd$/m);
    assert.doesNotMatch(joined, /failCgroupV1/);
    assert.match(joined, /^ {2}mode: Webhook$/m);
    assert.match(
      renderKubeletUnit({ version: 'v1.34.4', kubeconfig: '/var/lib/kubelet/kubeconfig' }),
      /--kubeconfig=\/var\/lib\/kubelet\/kubeconfig/,
    );
    assert.doesNotMatch(renderKubeletUnit({ version: 'v1.34.4' }), /--kubeconfig/);
  });
});

describe('release descriptors', () => {
  it('download from the upstream sites, or the same paths below <mirror>/<component>/<version>', () => {
    const urls = (r: ReturnType<typeof etcdRelease>, src: Parameters<typeof releaseBase>[0]) =>
      r.downloads('amd64').map((d) => `${releaseBase(src, r)}/${d.path} ${d.sums}`);
    const official = { source: 'official' as const };
    assert.deepEqual(urls(kubernetesRelease('v1.34.4', ['kubelet', 'kube-proxy']), official), [
      'https://dl.k8s.io/release/v1.34.4/bin/linux/amd64/kube-proxy bin/linux/amd64/kube-proxy.sha256',
      'https://dl.k8s.io/release/v1.34.4/bin/linux/amd64/kubelet bin/linux/amd64/kubelet.sha256',
    ]);
    assert.deepEqual(urls(containerdRelease('v1.6.20'), official), [
      'https://github.com/containerd/containerd/releases/download/v1.6.20/containerd-1.6.20-linux-amd64.tar.gz containerd-1.6.20-linux-amd64.tar.gz.sha256sum',
    ]);
    assert.deepEqual(urls(runcRelease('v1.1.5'), official), [
      'https://github.com/opencontainers/runc/releases/download/v1.1.5/runc.amd64 runc.sha256sum',
    ]);
    assert.deepEqual(urls(cniPluginsRelease('v1.1.1'), { source: 'mirror', mirror: `${MIRROR}/` }), [
      `${MIRROR}/cni-plugins/v1.1.1/cni-plugins-linux-amd64-v1.1.1.tgz cni-plugins-linux-amd64-v1.1.1.tgz.sha256`,
    ]);
    assert.equal(runcRelease('v1.1.5').installs('arm64')[0]!.from, 'runc.arm64');
    assert.equal(runcRelease('v1.1.5').installs('amd64')[0]!.to, '/usr/local/sbin/runc');
    // Two install sets of one release on a host keep separate stamps.
    assert.notEqual(kubernetesRelease('v1.34.4', ['kubelet']).stamp, kubernetesRelease('v1.34.4', ['kubectl']).stamp);
  });

  it('the checksum lookup reads every upstream format (run with the real awk)', () => {
    const hex = (c: string) => c.repeat(64);
    const dir = mkdtempSync(join(tmpdir(), 'hardway-sums-'));
    try {
      const cases: [string, string, string | ''][] = [
        [`${hex('a')}\n`, 'kubelet', hex('a')], // dl.k8s.io: the digest alone
        [
          `${hex('b')}  etcd-v3.6.16-linux-arm64.tar.gz\n${hex('c')}  etcd-v3.6.16-linux-amd64.tar.gz\n`,
          'etcd-v3.6.16-linux-amd64.tar.gz',
          hex('c'),
        ],
        [`${hex('d')} *runc.arm64\n${hex('e')} *runc.amd64\n`, 'runc.amd64', hex('e')], // binary-mode marker
        [`${hex('f')}  ./bin/linux/amd64/kubectl\n`, 'kubectl', hex('f')], // a path: its last segment
        [`${hex('1')}  other.tar.gz\n`, 'runc.amd64', ''], // not listed: nothing
      ];
      for (const [text, file, want] of cases) {
        writeFileSync(join(dir, 'sums'), text);
        const r = spawnSync('awk', ['-v', `f=${file}`, CHECKSUM_AWK, join(dir, 'sums')], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), want, `${file} in ${JSON.stringify(text)}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the install script is valid shell that verifies before it installs', () => {
    const script = installScript(cniPluginsRelease('v1.1.1'), `${MIRROR}/cni-plugins/v1.1.1`, 'amd64');
    assert.equal(spawnSync('sh', ['-n', '-c', script]).status, 0);
    assert.ok(script.indexOf('sha256sum -c') < script.indexOf('tar -xzf'), 'unpacks only a verified archive');
    assert.match(script, /^mkdir -p \/opt\/cni\/bin$/m);
    assert.match(script, /install -o root -g root -m 0755 bridge \/opt\/cni\/bin\/bridge\.hardway-new && mv -f/);
  });
});

describe('runtime/containerd', () => {
  it('installs runc, the CNI plugins and containerd, configures it for the host and starts it once; a second run does nothing', async () => {
    const { lab, host } = freshLab({ cgroupV1: true, systemd: false, sysResource: false });
    const first = await run(lab, 'runtime/containerd', runtimeInput());
    for (const p of ['/usr/local/sbin/runc', '/usr/local/bin/containerd', '/usr/local/bin/containerd-shim-runc-v2', '/usr/local/bin/ctr']) {
      assert.ok(host.files.has(p), p);
      assert.ok(first.changed.includes(p), p);
    }
    assert.ok(host.files.has('/opt/cni/bin/bridge'));
    assert.ok(first.changed.some((c) => c.startsWith('/opt/cni/bin (CNI plugins v1.1.1')));
    assert.match(host.text(CONTAINERD_CONFIG_PATH)!, /restrict_oom_score_adj = true/);
    assert.match(host.text(CONTAINERD_CONFIG_PATH)!, /SystemdCgroup = false/);
    assert.ok(host.text(CONTAINERD_UNIT_PATH));
    assert.deepEqual(
      { ...host.service('containerd') },
      { ...host.service('containerd'), enabled: true, active: true, starts: 1, restarts: 0 },
    );
    assert.ok(
      first.notes.some((n) => /cgroup driver cgroupfs.*restrict_oom_score_adj/.test(n)),
      first.notes.join('\n'),
    );

    const before = host.snapshot();
    const second = await run(lab, 'runtime/containerd', runtimeInput());
    assert.deepEqual(second.changed, []);
    assert.equal(host.snapshot(), before);
  });

  it('a new sandbox image rewrites the config and restarts containerd exactly once', async () => {
    const { lab, host } = freshLab();
    await run(lab, 'runtime/containerd', runtimeInput());
    const r = await run(lab, 'runtime/containerd', runtimeInput({ sandboxImage: 'registry.k8s.io/pause:3.10.1' }));
    assert.deepEqual(r.changed, [CONTAINERD_CONFIG_PATH, 'restarted containerd']);
    assert.equal(host.service('containerd').restarts, 1);
    assert.match(host.text(CONTAINERD_CONFIG_PATH)!, /sandbox_image = "registry\.k8s\.io\/pause:3\.10\.1"/);
    assert.match(host.text(CONTAINERD_UNIT_PATH)!, /OOMScoreAdjust=-999/, 'a host with CAP_SYS_RESOURCE protects containerd');
  });

  it('a new containerd version is installed and containerd restarts onto it', async () => {
    const { lab, host } = freshLab();
    await run(lab, 'runtime/containerd', runtimeInput());
    const r = await run(
      lab,
      'runtime/containerd',
      runtimeInput({ versions: { containerd: 'v1.7.28', runc: 'v1.1.5', cniPlugins: 'v1.1.1' } }),
    );
    assert.ok(r.changed.includes('/usr/local/bin/containerd'));
    assert.ok(r.changed.includes('restarted containerd'));
    assert.equal(host.service('containerd').restarts, 1);
    assert.ok(r.notes.some((n) => n.startsWith('containerd 1.7.28')));
  });
});

describe('kernel prerequisites (before containerd)', () => {
  it('loads missing modules, sets what is writable, says what is not, writes both for boot; a second run does nothing', async () => {
    const { lab, host } = freshLab();
    host.kernel.modules['br_netfilter'] = false;
    host.kernel.sysctls['net.bridge.bridge-nf-call-ip6tables'] = { value: '0', writable: false };
    const r = await run(lab, 'runtime/containerd', runtimeInput());
    assert.ok(r.changed.includes('loaded br_netfilter'), r.changed.join('\n'));
    assert.ok(r.changed.includes('net.ipv4.ip_forward = 1'));
    assert.equal(host.kernel.sysctls['net.ipv4.ip_forward']!.value, '1');
    assert.match(host.text('/etc/modules-load.d/hardway-kubernetes.conf')!, /^overlay\nbr_netfilter$/m);
    assert.match(host.text('/etc/sysctl.d/99-hardway-kubernetes.conf')!, /^net\.bridge\.bridge-nf-call-iptables = 1$/m);
    // Never reported as applied when it is not.
    assert.ok(!r.changed.some((c) => c.startsWith('net.bridge.bridge-nf-call-ip6tables')));
    assert.match(
      r.notes.join('\n'),
      /cannot be set on this host \(read-only here\), left as they are: net\.bridge\.bridge-nf-call-ip6tables = 0/,
    );
    const again = await run(lab, 'runtime/containerd', runtimeInput());
    assert.deepEqual(again.changed, []);
  });

  it('swap on the host: the kubelet is told to run anyway and give pods none', () => {
    const facts = parseNodeFacts('@@cgroup\n0::/\n@@swap\n1\n@@capeff\nCapEff:\t000001ffffffffff\n@@init\nsystemd\n');
    assert.equal(facts.swap, true);
    const cfg = renderKubeletConfig({ host: 'w', podCidr: '10.244.7.0/24', clusterDns: '10.32.0.10' }, facts);
    assert.match(cfg, /^failSwapOn: false\nmemorySwap:\n {2}swapBehavior: NoSwap$/m);
    assert.doesNotMatch(renderKubeletConfig({ host: 'w', podCidr: '10.244.7.0/24', clusterDns: '10.32.0.10' }, LAB_FACTS), /failSwapOn/);
  });
});

describe('runtime/images', () => {
  const archive = (...references: string[]) => JSON.stringify({ references });
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const PAUSE = archive('hardway.local/pause:1.0.0');
  const BUSYBOX = archive('hardway.local/busybox:1.35.0');

  async function withContainerd(): Promise<{ lab: MemoryLab; host: MemoryHost }> {
    const x = freshLab();
    await run(x.lab, 'runtime/containerd', runtimeInput());
    x.lab.http.set(
      `${MIRROR}/images/REFERENCES`,
      'pause-1.0.0.tar hardway.local/pause:1.0.0\nbusybox-1.35.0.tar hardway.local/busybox:1.35.0\n',
    );
    x.lab.http.set(`${MIRROR}/images/pause-1.0.0.tar`, PAUSE);
    x.lab.http.set(`${MIRROR}/images/busybox-1.35.0.tar`, BUSYBOX);
    return x;
  }
  const imagesInput = (
    references: string[],
    images: NodeImagesInput['images'] = { source: 'mirror', mirror: `${MIRROR}/images/` },
  ): NodeImagesInput => ({
    cluster: 'lab',
    target,
    images,
    references,
  });

  it('imports from the mirror only the images containerd lacks, then nothing', async () => {
    const { lab, host } = await withContainerd();
    host.images.add('hardway.local/pause:1.0.0');
    const r = await run(lab, 'runtime/images', imagesInput(['hardway.local/pause:1.0.0', 'hardway.local/busybox:1.35.0']));
    assert.deepEqual(r.changed, ['imported hardway.local/busybox:1.35.0']);
    assert.equal(host.logged('change').filter((c) => c.includes('images import')).length, 1);
    assert.ok(host.images.has('hardway.local/busybox:1.35.0'));
    const again = await run(lab, 'runtime/images', imagesInput(['hardway.local/pause:1.0.0', 'hardway.local/busybox:1.35.0']));
    assert.deepEqual(again.changed, []);
  });

  it('a reference the mirror does not have is a non-retryable error that names it, before any import', async () => {
    const { lab, host } = await withContainerd();
    const f = await failure(run(lab, 'runtime/images', imagesInput(['hardway.local/coredns:v1.14.7', 'hardway.local/pause:1.0.0'])));
    assert.equal(f.type, 'ConfigurationError');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /has no archive for hardway\.local\/coredns:v1\.14\.7/);
    assert.equal(host.images.size, 0);
  });

  it('imports from a directory on the worker after checking the archive against SHA256SUMS', async () => {
    const { lab, host } = await withContainerd();
    const dir = mkdtempSync(join(tmpdir(), 'hardway-images-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'REFERENCES'), 'pause-1.0.0.tar hardway.local/pause:1.0.0\n');
    writeFileSync(join(dir, 'pause-1.0.0.tar'), PAUSE);
    writeFileSync(join(dir, 'SHA256SUMS'), `${sha(PAUSE.replace('pause', 'paws'))}  pause-1.0.0.tar\n`);
    const local = { source: 'local' as const, directory: dir };
    const bad = await failure(run(lab, 'runtime/images', imagesInput(['hardway.local/pause:1.0.0'], local)));
    assert.match(bad.message, /does not match its checksum/);
    assert.equal(host.images.size, 0);
    writeFileSync(join(dir, 'SHA256SUMS'), `${sha(PAUSE)}  pause-1.0.0.tar\n`);
    const r = await run(lab, 'runtime/images', imagesInput(['hardway.local/pause:1.0.0'], local));
    assert.deepEqual(r.changed, ['imported hardway.local/pause:1.0.0']);
    assert.ok(![...host.files.keys()].some((p) => p.startsWith('/var/tmp/hardway-images/')), 'the uploaded archive is removed');
  });

  it('with images from registries nothing is side-loaded: containerd pulls them', async () => {
    const { lab, host } = await withContainerd();
    const r = await run(lab, 'runtime/images', imagesInput(['registry.k8s.io/pause:3.10.1'], { source: 'registry' }));
    assert.deepEqual(r.changed, []);
    assert.match(r.notes.join('\n'), /containerd pulls registry\.k8s\.io\/pause:3\.10\.1/);
    assert.equal(host.logged('change').filter((c) => c.includes('import')).length, 0);
  });

  it('parses REFERENCES and SHA256SUMS files', () => {
    assert.deepEqual(
      [...parseReferences('# comment\na.tar x/a:1\n\nb.tar x/b:2\n')],
      [
        ['x/a:1', 'a.tar'],
        ['x/b:2', 'b.tar'],
      ],
    );
    assert.deepEqual(
      [...parseChecksums(`${'a'.repeat(64)}  a.tar\n${'b'.repeat(64)} *./b.tar\nnoise\n`)],
      [
        ['a.tar', 'a'.repeat(64)],
        ['b.tar', 'b'.repeat(64)],
      ],
    );
  });
});
