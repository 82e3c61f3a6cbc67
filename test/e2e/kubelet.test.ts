// Proof that a lab host runs a Kubernetes node as a real machine would, without any control plane: the product's
// activities install containerd, runc and the CNI plugins from the lab's mirror and side-load the images; the
// product's release installer, renderers and service converger put a standalone kubelet on the host; the kubelet
// runs a static pod (busybox httpd) that gets an address from the CNI configuration and answers HTTP on it.
// Another host does not see that kubelet, and the pod's cgroup lies below the first host's own cgroup.
//   node --import tsx --test test/e2e/kubelet.test.ts      (root; needs scripts/setup.sh's mirror)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { installRelease } from '../../activities/binaries.js';
import { createActivities, sshShells } from '../../activities/index.js';
import { NODE_PROBE_SCRIPT, parseNodeFacts } from '../../activities/preflight-facts.js';
import { kubernetesRelease } from '../../activities/releases.js';
import { ensureService } from '../../activities/service.js';
import type { HostTarget, StepReport } from '../../activities/types.js';
import { labDown, labExec, labUp, type LabState } from '../../lab/index.js';
import { labTestSpec } from '../helpers/lab-spec.js';
import type { ClusterSpec } from '../../model/types.js';
import { SshPool } from '../../remote/pool.js';
import { CNI_CONF_DIR } from '../../render/containerd.js';
import { KUBELET_CONFIG_PATH, KUBELET_UNIT_PATH, STATIC_POD_PATH, renderKubeletConfig, renderKubeletUnit } from '../../render/kubelet.js';

const SUBNET = '192.168.61';
const POD_RANGE = '10.244.1.0/24';
const CNI_NETWORK = 'hardway-proof';
const PAGE = 'hello from a pod on node-1';
const top = mkdtempSync(join(tmpdir(), 'hardway-kubelet-'));
const dir = join(top, 'lab');

const hosts = [
  { name: 'node-1', address: `${SUBNET}.21` },
  { name: 'node-2', address: `${SUBNET}.22` },
];
const inputSpec: ClusterSpec = labTestSpec(
  `kl${process.pid.toString(36)}`,
  SUBNET,
  hosts.map((h) => ({ ...h, roles: ['worker'] })),
);

let state: LabState;
/** The cluster file the lab wrote: its SSH settings, its mirror for binaries and images. */
let spec: ClusterSpec;
let pool: SshPool;

function target(name: string): HostTarget {
  const h = spec.hosts.find((x) => x.name === name)!;
  return {
    name,
    address: h.address,
    user: 'root',
    port: 22,
    identityFile: spec.ssh.identityFile!,
    knownHostsFile: spec.ssh.knownHostsFile!,
  };
}

async function inside(host: string, cmd: string): Promise<string> {
  const r = await labExec(dir, host, ['sh', '-c', cmd]);
  assert.equal(r.code, 0, `${host}: ${cmd} -> ${r.code} ${r.stderr}`);
  return r.stdout;
}

/** Polls `probe` until it returns a value (a wait for the kubelet, not a timing assertion). */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  diagnose: () => Promise<string>,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) assert.fail(`${what} within ${timeoutMs / 1000} s\n${await diagnose()}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

const staticPod = [
  'apiVersion: v1',
  'kind: Pod',
  'metadata:',
  '  name: web',
  '  namespace: default',
  'spec:',
  '  containers:',
  '    - name: httpd',
  `      image: ${'IMAGE'}`,
  '      imagePullPolicy: Never',
  '      command: ["sh", "-c", "mkdir -p /www && echo \\"$PAGE\\" > /www/index.html && exec httpd -f -p 8080 -h /www"]',
  '      env:',
  '        - name: PAGE',
  `          value: ${JSON.stringify(PAGE)}`,
  '      ports:',
  '        - containerPort: 8080',
  '',
].join('\n');

/** A plain bridge network with host-local addresses in the node's pod range (the cluster's flannel comes later). */
const cniConfig = JSON.stringify(
  {
    cniVersion: '0.4.0',
    name: CNI_NETWORK,
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: false,
        ipam: { type: 'host-local', ranges: [[{ subnet: POD_RANGE }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  },
  null,
  2,
);

before(async () => {
  state = await labUp({ dir, spec: inputSpec });
  spec = parse(readFileSync(join(dir, 'cluster.yaml'), 'utf8')) as ClusterSpec;
  assert.equal(spec.binaries.source, 'mirror', 'the lab serves binaries from its mirror (run scripts/setup.sh)');
  assert.equal(spec.images.source, 'mirror', 'the lab serves image archives from its mirror (run scripts/setup.sh)');
  pool = new SshPool();
});

after(async () => {
  await pool?.close();
  await labDown(dir).catch((e: Error) => console.error(`lab down: ${e.message}`));
  rmSync(top, { recursive: true, force: true });
});

describe('a kubelet runs a pod on a lab host', { timeout: 10 * 60_000 }, () => {
  const activities = () => createActivities(sshShells(pool));
  const busybox = () => spec.images.extra.find((r) => r.includes('/busybox:'))!;

  it('installs containerd, runc and the CNI plugins through the runtime activity, from the mirror', async () => {
    const r: StepReport = await activities()['runtime/containerd']({
      cluster: spec.name,
      target: target('node-1'),
      versions: { containerd: spec.versions.containerd, runc: spec.versions.runc, cniPlugins: spec.versions.cniPlugins },
      binaries: spec.binaries,
      sandboxImage: spec.images.sandbox,
    });
    assert.ok(r.changed.includes('started containerd'), r.changed.join('\n'));
    assert.match(r.notes.join('\n'), /cgroup driver cgroupfs/, 'a host without systemd gets the cgroupfs driver');
    assert.match(
      await inside('node-1', '/usr/local/bin/ctr version'),
      new RegExp(`Server:[\\s\\S]*Version:\\s+${spec.versions.containerd.slice(1)}`),
    );
    assert.match(await inside('node-1', '/usr/local/sbin/runc --version'), new RegExp(`runc version ${spec.versions.runc.slice(1)}`));
    assert.match(await inside('node-1', 'ls /opt/cni/bin'), /^bridge$/m);
    // Not on the machine, not on the other host: each host got its own.
    assert.equal((await labExec(dir, 'node-2', ['test', '-e', '/usr/local/bin/containerd'])).code, 1);
  });

  it('side-loads the sandbox and test images, and a second run imports nothing', async () => {
    const input = {
      cluster: spec.name,
      target: target('node-1'),
      images: { source: spec.images.source, mirror: spec.images.mirror! },
      references: [spec.images.sandbox, busybox()],
    };
    const first = await activities()['runtime/images'](input);
    assert.deepEqual(first.changed.sort(), input.references.map((r) => `imported ${r}`).sort());
    const listed = await inside('node-1', '/usr/local/bin/ctr -n k8s.io images ls -q');
    for (const ref of input.references) assert.match(listed, new RegExp(`^${ref.replaceAll('.', '\\.')}$`, 'm'));
    assert.deepEqual((await activities()['runtime/images'](input)).changed, []);
  });

  it('runs a standalone kubelet whose static pod answers HTTP on its CNI address', async () => {
    const t = target('node-1');
    const sh = sshShells(pool).shell(t);
    const changes: string[] = [];
    const ctx = { changed: (...w: string[]) => void changes.push(...w), changes: () => changes, progress: () => {} };
    const installed = await installRelease(spec.binaries, sh, kubernetesRelease(spec.versions.kubernetes, ['kubelet']), ctx);
    const facts = parseNodeFacts((await sh.exec(NODE_PROBE_SCRIPT)).stdout);
    const config = renderKubeletConfig({ host: 'node-1', podCidr: POD_RANGE, clusterDns: spec.networks.clusterDns }, facts);
    await sh.putFile(KUBELET_CONFIG_PATH, config, { mode: '0644' });
    await sh.putFile(`${CNI_CONF_DIR}/10-${CNI_NETWORK}.conflist`, cniConfig, { mode: '0644' });
    await sh.putFile(`${STATIC_POD_PATH}/web.yaml`, staticPod.replace('IMAGE', busybox()), { mode: '0644' });
    await ensureService(
      sh,
      {
        name: 'kubelet',
        unitPath: KUBELET_UNIT_PATH,
        unit: renderKubeletUnit({ version: spec.versions.kubernetes }),
        inputsDigest: createHash('sha256').update(config).digest('hex'),
        binaries: installed,
      },
      ctx,
    );
    assert.match(await inside('node-1', '/usr/local/bin/kubelet --version'), new RegExp(`Kubernetes ${spec.versions.kubernetes}`));

    const diagnose = () =>
      inside(
        'node-1',
        `tail -n 25 /var/log/journal/kubelet.log 2>/dev/null; ls -la /var/lib/cni/networks/${CNI_NETWORK} 2>&1; ps -ef`,
      ).catch((e: Error) => e.message);
    // host-local records each address it hands out as a file named after it.
    const podIp = await waitFor(
      'the pod got an address from the CNI configuration',
      async () => {
        const r = await labExec(dir, 'node-1', ['ls', `/var/lib/cni/networks/${CNI_NETWORK}`]);
        return r.stdout.split('\n').find((f) => /^10\.244\.1\.\d+$/.test(f));
      },
      240_000,
      diagnose,
    );
    assert.notEqual(podIp, '10.244.1.1', 'the bridge (gateway) address is not the pod');
    const page = await waitFor(
      `the pod answers on http://${podIp}:8080/`,
      async () => {
        const r = await labExec(dir, 'node-1', ['curl', '-sS', '--max-time', '3', `http://${podIp}:8080/`]);
        return r.code === 0 ? r.stdout.trim() : undefined;
      },
      120_000,
      diagnose,
    );
    assert.equal(page, PAGE);
    // The pod has its own network namespace: the host's addresses are not the pod's.
    assert.doesNotMatch(await inside('node-1', 'ip -o -4 addr show'), new RegExp(`inet ${podIp.replaceAll('.', '\\.')}/`));
  });

  it('another host does not see that kubelet or its pod', async () => {
    assert.match(await inside('node-1', 'ps -e -o comm='), /^kubelet$/m);
    const other = await inside('node-2', 'ps -e -o comm=');
    assert.doesNotMatch(other, /^kubelet$/m);
    assert.doesNotMatch(other, /^httpd$/m);
    assert.doesNotMatch(other, /^containerd/m);
  });

  it("the pod's cgroup lies below the first host's own cgroup", async () => {
    // Inside the host, its pods live under the default /kubepods, as on any machine.
    const pid = (await inside('node-1', 'pidof httpd')).trim().split(/\s+/)[0]!;
    const seen = await inside('node-1', `cat /proc/${pid}/cgroup`);
    const memoryInside = /^\d+:memory:(\S+)$/m.exec(seen)?.[1];
    assert.match(memoryInside ?? '', /^\/kubepods\/besteffort\/pod[0-9a-f-]+\/[0-9a-f]{64}$/, seen);
    // On the machine, that container's process sits below the host's cgroup, itself below this test's own cgroup.
    const own = /^\d+:memory:(\S+)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/';
    const hostCgroup = join(own, 'hardway', state.id, 'node-1');
    const onMachine = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .flatMap((p) => {
        try {
          if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== 'httpd') return [];
          const cg = /^\d+:memory:(\S+)$/m.exec(readFileSync(`/proc/${p}/cgroup`, 'utf8'))?.[1];
          return cg?.endsWith(memoryInside!) ? [cg] : [];
        } catch {
          return []; // gone
        }
      });
    assert.equal(onMachine.length, 1, `httpd processes of that container on the machine: ${onMachine.join(', ')}`);
    const onMachinePath = onMachine[0]!;
    assert.equal(onMachinePath, join(hostCgroup, memoryInside!));
  });
});
