// End to end on a real lab with the seed topology: the workflow on a real dev server, the real worker with its
// SSH pool, real sshd, etcd, HAProxy. Asserts on outcomes: a quorum answers through TLS, certificates verify,
// the LB listens, a second run changes nothing, no key material in the history.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { parse as parseYaml } from 'yaml';
import { createConnection } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestTemporal } from '../helpers/temporal.js';
import { labExec, labUp } from '../../lab/index.js';
import { parseClusterFile } from '../../model/validate.js';
import { withAddedWorker } from '../../model/add-node.js';
import { plan as planCluster } from '../../model/plan.js';
import { checkSpec } from '../../model/check.js';
import type { ClusterPlan, ClusterSpec, HostSpec } from '../../model/types.js';
import {
  addNode,
  addWorker,
  applySpec,
  clusterStatus,
  follow,
  removeWorker,
  replaceEtcdMember,
  resetCluster,
} from '../../cli/cluster-ops.js';
import { specQuery } from '../../workflows/status.js';
import type { AddNodeResult, ClusterStatus, ConvergeResult } from '../../workflows/status.js';
import { smoke } from '../helpers/smoke.js';
import { LabCluster, MANAGED_FILE_TIMES, payloadTexts } from '../helpers/lab-cluster.js';
import { scheduledTwice, WorkerDrill } from '../helpers/worker-drill.js';
import { seedOnSubnet } from '../helpers/lab-spec.js';
import { SshPool } from '../../remote/pool.js';
import { kubeconfigAction } from '../../cli/commands/kubeconfig.js';
import { createActivities, dryRunShells, sshShells } from '../../activities/index.js';
import { dryRun, type DryRunReport } from '../../cli/dry-run.js';
import { PHASES, stepOf } from '../../workflows/phases/index.js';

const SUBNET = '192.168.58';
const dir = mkdtempSync(join(tmpdir(), 'hardway-e2e-'));
let env: TestTemporal;
let spec: ClusterSpec;
let plan: ClusterPlan;
let firstRun: ConvergeResult;
let firstHistory: unknown[] = [];
let smokeChecks: ReturnType<typeof smoke> | undefined;
const checks = () => (smokeChecks ??= smoke({ dir, plan }));

/** The seed's ten hosts, moved to a subnet of their own so the test never meets a demo lab. */
const seedOnTestSubnet = (): ClusterSpec => seedOnSubnet(SUBNET, 'e2e');

async function sh(host: string, cmd: string): Promise<string> {
  const r = await labExec(dir, host, ['sh', '-c', cmd]);
  assert.equal(r.code, 0, `${host}: ${cmd} -> ${r.code} ${r.stderr}`);
  return r.stdout;
}

/** `hardway worker` processes in place of the lab's in-process worker (see WorkerDrill). */
const startDrill = () => WorkerDrill.start({ address: env.address, logFile: join(dir, 'worker-processes.log'), stepAside: lab });

async function bringUp(): Promise<{ result: ConvergeResult; status: ClusterStatus; history: unknown[] }> {
  const req = await applySpec(env.client, spec);
  const { result, status } = await follow(req, () => {});
  const history = (await req.handle.fetchHistory()).events ?? [];
  return { result, status, history };
}

const lab = new LabCluster(dir);
before(async () => {
  await lab.start(seedOnTestSubnet());
  ({ env, spec, plan } = lab);
  await rememberFreshFiles(plan.hosts.map((h) => h.name));
  lbConfigBefore = await sh('lb', HAPROXY_CONFIG_SUM);
});

after(() => lab.stop());

/**
 * Polls the API through the load balancer from the admin host every 100 ms until stop(): `readyz` asks /readyz
 * (anonymous), `read` reads the default Namespace as the admin (a request that goes to etcd). What answered as it
 * should, and each answer that did not.
 */
function pollApi(kind: 'readyz' | 'read' = 'readyz'): { stop(): Promise<{ ok: number; failures: string[] }> } {
  const base = plan.apiServer.url.replace(/\/+$/, '');
  const admin = plan.certificates.find((c) => c.id === 'admin')!.placements.find((p) => p.host === 'admin')!;
  const ask =
    kind === 'readyz'
      ? `r=$(curl -sk --max-time 3 ${base}/readyz 2>&1)`
      : `r=$(curl -s --max-time 3 --cacert ${admin.caPath} --cert ${admin.certPath} --key ${admin.keyPath} -o /dev/null -w '%{http_code}' ${base}/api/v1/namespaces/default 2>&1)`;
  const good = kind === 'readyz' ? 'ok' : '200';
  const stopFile = '/var/tmp/hardway-stop-api-poll';
  const script =
    `rm -f ${stopFile}; ok=0; while [ ! -e ${stopFile} ]; do ${ask}; ` +
    `if [ "$r" = ${good} ]; then ok=$((ok+1)); else echo "$(date +%T.%N) $r" | tr '\\n' ' ' | head -c 400; echo; fi; sleep 0.1; done; echo "ok $ok"`;
  const running = labExec(dir, 'admin', ['sh', '-c', script]);
  return {
    async stop() {
      await sh('admin', `touch ${stopFile}`);
      const r = await running;
      const lines = r.stdout.trim().split('\n');
      const last = lines.pop() ?? '';
      return { ok: Number(/^ok (\d+)$/.exec(last)?.[1] ?? 0), failures: lines.filter(Boolean) };
    },
  };
}

/** `etcdctl member list` from a member of the seed, as names and learner flags. */
async function etcdMembers(from: string): Promise<{ name: string; isLearner: boolean }[]> {
  const c = plan.certificates.find((x) => x.id === 'etcd-healthcheck-client')!.placements.find((p) => p.host === from)!;
  const out = await sh(
    from,
    `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints https://127.0.0.1:2379 --cacert ${c.caPath} --cert ${c.certPath} --key ${c.keyPath} member list -w json`,
  );
  return (JSON.parse(out) as { members: { name?: string; isLearner?: boolean }[] }).members.map((m) => ({
    name: m.name ?? '',
    isLearner: !!m.isLearner,
  }));
}

/** The lab's hosts: the seed's, and every host a test added since (a host left out of labUp would be removed). */
const labHosts: HostSpec[] = [];
async function growLab(...hosts: HostSpec[]): Promise<void> {
  labHosts.push(...hosts);
  const seed = seedOnTestSubnet();
  await labUp({ dir, spec: { ...seed, hosts: [...seed.hosts, ...labHosts] } });
  await rememberFreshFiles(hosts.map((h) => h.name));
}

/**
 * The paths where hardway puts files, as a host had them before hardway touched it (a reset goes back to this).
 * /etc/haproxy is left out: the package's files there are not hardway's (its haproxy.cfg on the LB is checked apart).
 */
const freshFiles = new Map<string, string[]>();
/** The LB's haproxy.cfg before hardway (the package's, if the lab host has one): a reset puts it back. */
const HAPROXY_CONFIG_SUM = 'sha256sum /etc/haproxy/haproxy.cfg 2>/dev/null || echo none';
let lbConfigBefore = '';
const filePaths = async (host: string) =>
  (await sh(host, MANAGED_FILE_TIMES))
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[0]!)
    .filter((p) => !p.startsWith('/etc/haproxy/'))
    .sort();
async function rememberFreshFiles(hosts: string[]): Promise<void> {
  for (const h of hosts) freshFiles.set(h, await filePaths(h));
}

/** `hardway up --dry-run`'s walk, on its own SSH pool: reads the lab hosts, records instead of changing. */
async function dryRunOnLab(): Promise<DryRunReport> {
  const dryPool = new SshPool();
  try {
    const shells = dryRunShells(sshShells(dryPool));
    return await dryRun(plan, PHASES, shells, createActivities(shells), () => {});
  } finally {
    await dryPool.close();
  }
}

const hostState = (host: string) => sh(host, 'sha256sum /etc/hosts; ls -la /etc/etcd /var/lib/hardway 2>&1 || true');

describe('bring-up on the lab (seed topology)', { timeout: 15 * 60_000 }, () => {
  it('dry run on fresh hosts lists what would change and changes nothing', async () => {
    const before = await Promise.all(plan.hosts.map((h) => hostState(h.name)));
    const report = await dryRunOnLab();
    assert.equal(report.failing, 0, JSON.stringify(report.steps.filter((x) => x.outcome === 'fails')));
    assert.ok(report.changing >= plan.hosts.length, `only ${report.changing} steps would change something`);
    assert.ok(
      report.byHost['worker-2']?.some((c) => c.includes('/etc/hosts')),
      JSON.stringify(report.byHost['worker-2']),
    );
    assert.ok(report.byHost[plan.ca.host]?.length, 'the CA would be created');
    assert.deepEqual(await Promise.all(plan.hosts.map((h) => hostState(h.name))), before, 'a dry run touched a host');
  });

  it('completes every built phase, though its worker process is killed (SIGKILL) in the control-plane phase and again in the workers phase', async () => {
    // The in-process worker steps aside: `hardway worker` processes run the bring-up, and two of them are killed.
    const drill = await startDrill();
    try {
      const req = await applySpec(env.client, spec);
      const killIn = (phase: string) =>
        drill.killDuring(req.handle, (s) => s.phase === phase && s.state === 'running', `phase ${phase} running`);
      await killIn('controlplane');
      // Host-side evidence from here: what the phases before it set up is never touched again.
      const early = ['ca', 'etcd-1', 'etcd-2', 'etcd-3', 'lb'];
      const earlyFiles = await Promise.all(early.map((h) => sh(h, MANAGED_FILE_TIMES)));
      const pidOf = async (host: string, service: string) =>
        [`${host}/${service}`, (await sh(host, `pgrep -f '^/usr/local/bin/${service} '`)).trim()] as const;
      const earlyPids = Object.fromEntries(await Promise.all(['etcd-1', 'etcd-2', 'etcd-3'].map((m) => pidOf(m, 'etcd'))));
      await killIn('workers');
      const cpPids = Object.fromEntries(
        await Promise.all(
          ['cp-1', 'cp-2'].flatMap((h) => ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((n) => pidOf(h, n))),
        ),
      );
      const { result, status } = await follow(req, () => {});
      firstRun = result;
      firstHistory = (await req.handle.fetchHistory()).events ?? [];
      assert.equal(status.state, 'converged', status.error);
      // The update answers with the converge it waited for (CI once saw no result here, and no admin kubeconfig next).
      assert.deepEqual(
        { outcome: result?.outcome, generation: result?.generation },
        { outcome: 'converged', generation: status.generation },
        JSON.stringify(result),
      );
      assert.deepEqual(
        status.phases.filter((p) => p.state === 'done').map((p) => p.name),
        ['preflight', 'hosts', 'pki', 'etcd', 'loadbalancer', 'runtime', 'controlplane', 'workers', 'addons', 'admin'],
      );
      assert.deepEqual(status.notBuilt, []);
      assert.ok(status.changedCount > 0);
      // Takeover: the old 30 s heartbeat timeout made it ~30 s; now it is about the 10 s one.
      drill.report();
      // No step ran twice: each activity was scheduled once (a retry after the kill is the same scheduled activity).
      assert.deepEqual(scheduledTwice(firstHistory), [], 'a step was scheduled again');
      // On the hosts: the CA, etcd and the LB kept every file and etcd its PIDs; the control planes kept their PIDs.
      assert.deepEqual(
        await Promise.all(early.map((h) => sh(h, MANAGED_FILE_TIMES))),
        earlyFiles,
        'a file of an earlier phase was rewritten',
      );
      const pidsNow = await checks().servicePids();
      for (const [k, v] of Object.entries({ ...earlyPids, ...cpPids })) assert.equal(pidsNow[k], v, `${k} restarted`);
      // No private key material in any payload of the run.
      const texts = payloadTexts(firstHistory);
      assert.ok(texts.length > 50);
      assert.ok(!texts.some((t) => t.includes('PRIVATE KEY')), 'a payload holds a private key');
    } finally {
      await drill.stop();
    }
  });

  it('makes every host resolve every other host by name', async () => {
    const out = await sh('worker-2', `getent hosts ${plan.hosts.map((h) => h.name).join(' ')}`);
    for (const h of plan.hosts) assert.match(out, new RegExp(`^${h.address.replaceAll('.', '\\.')}\\s+${h.name}$`, 'm'));
  });

  it('has a healthy etcd quorum through TLS with client certificates', async () => {
    const client = plan.certificates.find((c) => c.id === 'etcd-healthcheck-client')!.placements.find((p) => p.host === 'etcd-2')!;
    const endpoints = plan.etcd.members.map((m) => m.clientUrl).join(',');
    const tls = `--cacert ${client.caPath} --cert ${client.certPath} --key ${client.keyPath}`;
    const health = JSON.parse(
      await sh('etcd-2', `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints ${endpoints} ${tls} endpoint health -w json`),
    ) as {
      endpoint: string;
      health: boolean;
    }[];
    assert.equal(health.length, 3);
    // The release the spec names, fetched from the lab's mirror and checked against its SHA256SUMS.
    assert.equal(spec.binaries.source, 'mirror', 'the lab serves binaries as a mirror (scripts/setup.sh builds its content)');
    assert.match(await sh('etcd-2', '/usr/local/bin/etcd --version'), new RegExp(`etcd Version: ${plan.versions.etcd.replace(/^v/, '')}`));
    assert.ok(
      health.every((h) => h.health),
      JSON.stringify(health),
    );
    // A write on one member is read on another.
    await sh(
      'etcd-1',
      `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints ${plan.etcd.members[0]!.clientUrl} ${tls.replaceAll('etcd-2', 'etcd-1')} put hardway-e2e yes`,
    );
    const read = await sh(
      'etcd-3',
      `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints ${plan.etcd.members[2]!.clientUrl} ${tls} get hardway-e2e --print-value-only`,
    );
    assert.equal(read.trim(), 'yes');
    // Without a client certificate etcd refuses the client.
    const anon = await labExec(dir, 'etcd-2', [
      'sh',
      '-c',
      `ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints ${plan.etcd.members[0]!.clientUrl} --cacert ${client.caPath} --dial-timeout 3s --command-timeout 5s get x`,
    ]);
    assert.notEqual(anon.code, 0);
  });

  it('issues certificates that verify against their own CA (and no other) and carry the SANs of the plan', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'hardway-certs-'));
    const caFiles = new Map<string, string>();
    for (const ca of plan.certificates.filter((c) => c.isCA)) {
      const file = join(tmp, `${ca.id}.crt`);
      writeFileSync(file, await sh(plan.ca.host, `cat ${ca.placements[0]!.certPath}`));
      caFiles.set(ca.id, file);
    }
    assert.equal(caFiles.size, 3);
    let checked = 0;
    for (const cert of plan.certificates.filter((c) => !c.isCA && !c.keyPairOnly)) {
      for (const at of cert.placements) {
        const file = join(tmp, `${cert.id}-${at.host}.crt`);
        writeFileSync(file, await sh(at.host, `cat ${at.certPath}`));
        execFileSync('openssl', ['verify', '-CAfile', caFiles.get(cert.issuer!)!, file]);
        for (const [id, other] of caFiles) {
          if (id === cert.issuer) continue;
          assert.throws(
            () => execFileSync('openssl', ['verify', '-CAfile', other, file], { stdio: 'pipe' }),
            `${cert.id} verifies with ${id}`,
          );
        }
        // The CA file next to it is its issuer's.
        assert.equal(await sh(at.host, `cat ${at.caPath}`), readFileSync(caFiles.get(cert.issuer!)!, 'utf8'), `${at.host}:${at.caPath}`);
        const text = execFileSync('openssl', ['x509', '-in', file, '-noout', '-subject', '-ext', 'subjectAltName']).toString();
        assert.match(text, new RegExp(`CN ?= ?${cert.commonName.replaceAll('.', '\\.')}`));
        for (const dns of cert.dnsNames) assert.ok(text.includes(`DNS:${dns}`), `${cert.id} on ${at.host} lacks DNS:${dns}`);
        for (const ip of cert.ipAddresses) assert.ok(text.includes(`IP Address:${ip}`), `${cert.id} on ${at.host} lacks IP ${ip}`);
        const mode = (await sh(at.host, `stat -c %a ${at.keyPath}`)).trim();
        assert.equal(mode, '600', `${at.host}:${at.keyPath} has mode ${mode}`);
        checked++;
      }
    }
    assert.ok(checked >= 10);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('keeps the CA keys on the CA host only', async () => {
    const digests: string[] = [];
    for (const ca of plan.certificates.filter((c) => c.isCA)) {
      const keyPath = ca.placements[0]!.keyPath;
      const caKey = await sh(plan.ca.host, `cat ${keyPath}`);
      assert.match(caKey, /PRIVATE KEY/);
      assert.equal((await sh(plan.ca.host, `stat -c %a ${keyPath}`)).trim(), '600');
      digests.push(createHash('sha256').update(caKey).digest('hex'));
    }
    assert.equal(new Set(digests).size, 3);
    for (const h of plan.hosts.filter((x) => x.name !== plan.ca.host)) {
      const sums = await sh(
        h.name,
        'find /etc /var/lib /root /opt /usr/local -xdev -type f -size -64k -exec sha256sum {} + 2>/dev/null || true',
      );
      for (const d of digests) assert.ok(!sums.includes(d), `a CA key is on ${h.name}`);
    }
  });

  it('etcd refuses what the cluster CA signs: a node certificate cannot read or write etcd', async () => {
    const m = plan.etcd.members[0]!;
    // A worker's kubelet certificate, presented to etcd: the handshake fails (unknown CA).
    const node = await labExec(dir, 'worker-1', [
      'curl',
      '-sS',
      '-k',
      '--max-time',
      '5',
      '--cert',
      '/var/lib/kubelet/pki/kubelet.crt',
      '--key',
      '/var/lib/kubelet/pki/kubelet.key',
      '-X',
      'POST',
      '-d',
      '{"key":"L3JlZ2lzdHJ5","range_end":"L3JlZ2lzdHJ6"}',
      `${m.clientUrl}/v3/kv/range`,
    ]);
    // (With TLS 1.3 etcd rejects the client certificate after the handshake and closes: curl sees an alert or a reset.)
    assert.notEqual(node.code, 0, `etcd answered a kubelet certificate: ${node.stdout}`);
    assert.doesNotMatch(node.stdout, /header|kvs/);
    // The health-check client, signed by the etcd CA, is let in.
    const hc = await sh(
      m.name,
      `curl -sS --max-time 5 --cacert /etc/etcd/pki/ca.crt --cert /etc/etcd/pki/healthcheck-client.crt --key /etc/etcd/pki/healthcheck-client.key ${m.clientUrl}/version`,
    );
    assert.match(hc, /etcdserver/);
  });

  it('serves the API front end on LB:6443 with a backend per control plane', async () => {
    const lb = plan.hosts.find((h) => h.roles.includes('loadbalancer'))!;
    await new Promise<void>((resolve, reject) => {
      const s = createConnection({ host: lb.address, port: 6443 }, () => {
        s.destroy();
        resolve();
      });
      s.on('error', reject);
    });
    const cfg = await sh(lb.name, 'cat /etc/haproxy/haproxy.cfg');
    for (const cp of plan.apiServer.controlPlanes)
      assert.match(cfg, new RegExp(`^ {4}server ${cp.name} ${cp.address.replaceAll('.', '\\.')}:${cp.port}$`, 'm'));
    assert.match(cfg, /^ {4}option httpchk GET \/readyz$/m);
    await sh(lb.name, 'haproxy -c -f /etc/haproxy/haproxy.cfg');
    // The master binds as root; the workers that carry traffic run as the haproxy user.
    assert.match(await sh(lb.name, 'ps -o user= -C haproxy'), /^haproxy$/m);
  });

  it('runs containerd on every node, installed from the mirror, with the images side-loaded', async () => {
    const nodes = plan.hosts.filter((h) => h.roles.includes('controlplane') || h.roles.includes('worker'));
    assert.equal(nodes.length, 4);
    const refs = [plan.images.sandbox, plan.images.coredns, ...plan.images.extra];
    assert.equal(plan.images.source, 'mirror', 'the lab side-loads images from its mirror');
    for (const n of nodes) {
      assert.match(
        await sh(n.name, '/usr/local/bin/ctr version'),
        new RegExp(`Server:[\\s\\S]*Version:\\s+${plan.versions.containerd.slice(1)}`),
      );
      assert.match(await sh(n.name, '/usr/local/bin/ctr plugins ls'), /^io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok\s*$/m);
      // The node's kernel prerequisites: forwarding on, and written down for the next boot.
      assert.equal((await sh(n.name, 'cat /proc/sys/net/ipv4/ip_forward')).trim(), '1');
      assert.match(await sh(n.name, 'cat /etc/sysctl.d/99-hardway-kubernetes.conf'), /^net\.ipv4\.ip_forward = 1$/m);
      const images = (await sh(n.name, '/usr/local/bin/ctr -n k8s.io images ls -q')).split('\n');
      for (const r of refs) assert.ok(images.includes(r), `${n.name} lacks ${r}: ${images.join(' ')}`);
    }
    // Hosts without a kubelet get no container runtime.
    assert.equal((await labExec(dir, 'etcd-1', ['test', '-e', '/usr/local/bin/containerd'])).code, 1);
  });

  // The smoke tests of Kubernetes the Hard Way, from the admin host through the load balancer (test/helpers/smoke.ts).
  it('1. every node is Ready with the pod range of the plan; control planes are tainted', () => checks().nodesReadyWithPlannedRanges());
  it('2. /readyz answers ok through the LB; the kubernetes endpoints are the control planes', () =>
    checks().apiReadyAndEndpointsAreControlPlanes());
  it('3. a Secret is stored encrypted in etcd', () => checks().secretsEncryptedInEtcd());
  it('4. a Deployment spread over the workers becomes available', () => checks().deploymentSpreadOverWorkers());
  it('5. a pod fetches a page from a pod on another worker by pod IP; flannel uses the infrastructure addresses', () =>
    checks().podToPodAcrossNodes());
  it("6. a Service answers by name, and cluster DNS resolves through the plan's DNS address", () => checks().servicesAndDns());
  it('7. the NodePort answers from the admin host on every worker', () => checks().nodePortFromAdmin());
  it('8. logs, exec and port-forward reach the kubelets', () => checks().logsExecPortForward());
  it('9. the API and leadership survive a stopped API server', () => checks().survivesAnApiServerDown());

  it('hardway kubeconfig CLUSTER writes a working admin kubeconfig for this machine, read over SSH', async () => {
    const file = join(dir, 'workstation.kubeconfig');
    await kubeconfigAction(spec.name, { address: env.address, namespace: 'default', output: file });
    assert.equal((statSync(file).mode & 0o777).toString(8), '600');
    const kc = parseYaml(readFileSync(file, 'utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
    };
    const b64 = (s: string) => Buffer.from(s, 'base64');
    const { server, 'certificate-authority-data': ca } = kc.clusters[0]!.cluster;
    assert.equal(server, plan.apiServer.url);
    const { 'client-certificate-data': cert, 'client-key-data': key } = kc.users[0]!.user;
    // From this machine, through the load balancer, verifying the API server against the cluster CA.
    const nodes = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(`${server}/api/v1/nodes`, { ca: b64(ca), cert: b64(cert), key: b64(key), timeout: 10_000 }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode} ${body}`))));
      });
      req.on('error', reject);
      req.end();
    });
    const names = (JSON.parse(nodes) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name).sort();
    assert.deepEqual(
      names,
      plan.hosts
        .filter((h) => h.podCidr)
        .map((h) => h.name)
        .sort(),
    );
  });

  it('changes nothing and restarts nothing when run again', async () => {
    const pids = async () => ({
      services: await checks().servicePids(),
      haproxy: await sh('lb', 'pgrep -o -x haproxy'),
    });
    const before = await pids();
    const { result, status, history } = await bringUp();
    assert.equal(status.state, 'converged');
    assert.equal(result.generation, firstRun.generation + 1, 'the running workflow took the second up');
    assert.deepEqual(
      status.steps.filter((s) => s.changed?.length).map((s) => `${s.name}: ${s.changed!.join(', ')}`),
      [],
    );
    assert.equal(status.changedCount, 0);
    assert.deepEqual(await pids(), before);
    assert.deepEqual(result.podAllocations, firstRun.podAllocations);
    // 11. No private key and no encryption key in any payload of either run.
    const key = await checks().encryptionKey();
    for (const h of [firstHistory, history]) {
      const texts = payloadTexts(h);
      assert.ok(!texts.some((t) => t.includes('PRIVATE KEY')), 'a payload holds a private key');
      assert.ok(!texts.some((t) => t.includes(key)), 'a payload holds the encryption key');
    }
  });

  it('dry run on the converged cluster says nothing would change', async () => {
    const report = await dryRunOnLab();
    assert.equal(report.converged, true, JSON.stringify(report.steps.filter((x) => x.outcome !== 'unchanged')));
  });

  it('renews an etcd member certificate without restarting etcd: new handshakes get the new certificate', async () => {
    const m = plan.etcd.members[1]!;
    const pid = (await sh(m.name, 'pgrep -x etcd')).trim();
    const serialOf = (pem: string) => execFileSync('openssl', ['x509', '-noout', '-serial'], { input: pem }).toString().trim();
    await sh(m.name, 'rm /etc/etcd/pki/server.crt'); // as if expired: pki/certificates issues it again
    const ownPool = new SshPool();
    try {
      const acts = createActivities(sshShells(ownPool));
      const issued = await acts['pki/certificates'](stepOf('pki/certificates').input(plan, m.name));
      assert.deepEqual(issued.changed, [`issued etcd-server-${m.name} at /etc/etcd/pki/server.crt`]);
      const member = await acts['etcd/member'](stepOf('etcd/member').input(plan, m.name));
      assert.deepEqual(member.changed, []);
    } finally {
      await ownPool.close();
    }
    assert.equal((await sh(m.name, 'pgrep -x etcd')).trim(), pid, 'etcd was not restarted');
    const onDisk = serialOf(await sh(m.name, 'cat /etc/etcd/pki/server.crt'));
    const served = execFileSync('sh', [
      '-c',
      `openssl s_client -connect ${m.address}:2379 </dev/null 2>/dev/null | openssl x509 -noout -serial`,
    ])
      .toString()
      .trim();
    assert.equal(served, onDisk, 'the running etcd serves the renewed certificate');
  });

  it('judges the etcd quorum from another member when the first one is unreachable and down', async () => {
    const quorum = async () => {
      const ownPool = new SshPool();
      try {
        return await createActivities(sshShells(ownPool))['etcd/quorum'](stepOf('etcd/quorum').input(plan, 'etcd-1'));
      } finally {
        await ownPool.close();
      }
    };
    await sh('etcd-1', 'systemctl stop etcd && kill $(cat /run/sshd.pid)');
    try {
      const r = await quorum();
      assert.match(r.notes.join('\n'), /quorum holds with 2 of 3; not healthy: etcd-1/);
      assert.match(r.notes.join('\n'), /asked from etcd-2; could not reach etcd-1/);
    } finally {
      await sh('etcd-1', '/usr/sbin/sshd -f /etc/ssh/sshd_config && systemctl start etcd');
    }
    const until = Date.now() + 60_000;
    for (;;) {
      const notes = (await quorum().catch((e: Error) => ({ notes: [e.message] }))).notes.join('\n');
      if (/quorum healthy: etcd-1, etcd-2, etcd-3/.test(notes)) break;
      assert.ok(Date.now() < until, `etcd-1 did not rejoin: ${notes}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  });

  it('takes a changed backend list with a reload that keeps open connections to the API servers', async () => {
    const lb = plan.hosts.find((h) => h.name === 'lb')!;
    // A client connection to an API server, open through the load balancer before the change...
    const client = tlsConnect({ host: lb.address, port: plan.apiServer.port, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => client.once('secureConnect', resolve).once('error', reject));
    const master = (await sh('lb', 'pgrep -o -x haproxy')).trim();
    const base = stepOf('loadbalancer/haproxy').input(plan, 'lb');
    const grown = { ...base, controlPlanes: [...base.controlPlanes, { name: 'cp-9', address: `${SUBNET}.29`, port: 6443 }] };
    const ownPool = new SshPool();
    try {
      const acts = createActivities(sshShells(ownPool));
      const r = await acts['loadbalancer/haproxy'](grown);
      assert.deepEqual(r.changed, ['/etc/haproxy/haproxy.cfg', 'reloaded haproxy']);
      assert.equal((await sh('lb', 'pgrep -o -x haproxy')).trim(), master, 'the master process was not restarted');
      assert.match(await sh('lb', 'cat /etc/haproxy/haproxy.cfg'), /^ {4}server cp-9 /m);
      // ...still carries a request after the reload.
      const reply = await new Promise<string>((resolve, reject) => {
        let got = '';
        client.on('data', (d: Buffer) => (got += d.toString()));
        client.on('end', () => resolve(got));
        client.on('error', reject);
        client.write('GET /readyz HTTP/1.0\r\n\r\n');
      });
      assert.match(reply, /^HTTP\/1\.[01] 200 OK[\s\S]*\r\n\r\nok$/);
      // Back to the plan's backends.
      assert.deepEqual((await acts['loadbalancer/haproxy'](base)).changed, ['/etc/haproxy/haproxy.cfg', 'reloaded haproxy']);
    } finally {
      await ownPool.close();
    }
  });

  it('adds a worker by the addWorker update, though its worker process is killed (SIGKILL) meanwhile: Ready with the next pod range; the other hosts keep every file but /etc/hosts, and every service', async () => {
    // What hardway manages on a host, with each file's mtime; and the PIDs of the services it runs.
    const files = async (host: string) => (await sh(host, MANAGED_FILE_TIMES)).trim().split('\n');
    const old = plan.hosts.map((h) => h.name);
    const before = new Map(await Promise.all(old.map(async (h) => [h, await files(h)] as const)));
    const pidsBefore = { ...(await checks().servicePids()), haproxy: await sh('lb', 'pgrep -o -x haproxy') };

    const address = `${SUBNET}.33`;
    await growLab({ name: 'worker-3', address, roles: ['worker'] });
    const eventsBefore = (await lab.env.client.workflow.getHandle(`cluster-${spec.name}`).fetchHistory()).events?.length ?? 0;
    const drill = await startDrill();
    let result: Awaited<ReturnType<typeof follow<AddNodeResult>>>['result'];
    let status: ClusterStatus;
    try {
      const req = await addWorker(env.client, spec.name, { name: 'worker-3', address });
      // Killed while worker-3 gets its container runtime or kubelet: a new worker process finishes the job.
      await drill.killDuring(
        req.handle,
        (s) => s.host === 'worker-3' && ['runtime', 'workers'].includes(s.phase) && s.state === 'running',
        'add-worker: runtime or kubelet on worker-3',
      );
      ({ result, status } = await follow(req, () => {}));
      drill.report();
      const events = (await req.handle.fetchHistory()).events ?? [];
      assert.deepEqual(scheduledTwice(events.slice(eventsBefore)), [], 'a step of the add-worker converge was scheduled again');
    } finally {
      await drill.stop();
    }
    assert.deepEqual(
      { state: result.state, podRange: result.podRange, blocked: result.blocked },
      { state: 'Ready', podRange: '10.244.4.0/24', blocked: undefined },
      status.steps
        .filter((s) => s.state === 'failed')
        .map((s) => `${s.name}: ${s.lastError}`)
        .join('; '),
    );
    const node = await sh(
      'admin',
      'kubectl get node worker-3 -o jsonpath=\'{.spec.podCIDR} {.status.conditions[?(@.type=="Ready")].status}\'',
    );
    assert.equal(node.trim(), '10.244.4.0/24 True');
    // It takes pods, and they reach the pods of the other workers over the pod network, both ways.
    const grownSpec = checkSpec(withAddedWorker(spec, { name: 'worker-3', address }));
    assert.ok(grownSpec.ok);
    const grown = smoke({ dir, plan: planCluster(grownSpec.spec, plan.podAllocations) });
    await grown.nodesReadyWithPlannedRanges();
    await grown.deploymentSpreadOverWorkers();
    await grown.podToPodAcrossNodes(['worker-3', 'worker-1']);
    assert.match(await sh('cp-1', 'getent hosts worker-3'), new RegExp(`^${address.replaceAll('.', '\\.')}\\s+worker-3`));

    // The other hosts: /etc/hosts rewritten (the new name), nothing else; no service restarted.
    for (const h of old) {
      const now = await files(h);
      const changed = now.filter((l) => !before.get(h)!.includes(l)).map((l) => l.split(' ')[0]);
      assert.deepEqual(changed, ['/etc/hosts'], `${h} had files rewritten`);
    }
    const pidsAfter = await checks().servicePids();
    for (const [k, v] of Object.entries(pidsBefore)) if (k !== 'haproxy') assert.equal(pidsAfter[k], v, `${k} was restarted`);
    assert.equal(await sh('lb', 'pgrep -o -x haproxy'), pidsBefore.haproxy, 'haproxy was restarted');
  });

  it('a host whose link is down for 60 s: its step fails within seconds and keeps retrying, status shows the attempts and the error, and the converge completes once it is back', async () => {
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { hosts: { name: string; veth: string }[] };
    const veth = state.hosts.find((h) => h.name === 'worker-1')!.veth;
    const link = (how: 'up' | 'down') => execFileSync('ip', ['link', 'set', veth, how]);
    link('down');
    let down = true;
    try {
      const t0 = Date.now();
      // The spec the workflow has now: the seed and worker-3.
      const req = await applySpec(env.client, withAddedWorker(spec, { name: 'worker-3', address: `${SUBNET}.33` }));
      // An SSH command on a dead link used to hang, with the step shown running at attempt 1 and no error, until the
      // command's own timeout. The keepalive notices within ~10 s: the attempt fails, and the retry says why.
      let seen: { name: string; attempts: number; lastError?: string } | undefined;
      while (!seen) {
        const st = await clusterStatus(req.handle);
        seen = st.steps.find((x) => x.host === 'worker-1' && x.state === 'running' && x.attempts >= 2 && !!x.lastError);
        assert.ok(
          Date.now() - t0 < 45_000,
          `no retried step on worker-1 after 45 s: ${JSON.stringify(st.steps.filter((x) => x.host === 'worker-1'))}`,
        );
        if (!seen) await new Promise((r) => setTimeout(r, 500));
      }
      assert.match(seen.lastError!, /worker-1/);
      assert.match(seen.lastError!, /lost|connect|timed out|timeout/i);
      // The link stays down for 60 s: the step keeps failing and retrying, and the status keeps saying so.
      let attempts = seen.attempts;
      while (Date.now() - t0 < 60_000) {
        await new Promise((r) => setTimeout(r, 1000));
        const name = seen.name;
        const step: ClusterStatus['steps'][number] = (await clusterStatus(req.handle)).steps.find((x) => x.name === name)!;
        assert.equal(step.state, 'running', `${step.name} gave up while its host was away: ${step.lastError}`);
        assert.ok(step.lastError, `${step.name} shows no error at attempt ${step.attempts}`);
        attempts = step.attempts;
      }
      assert.ok(attempts >= 3, `only ${attempts} attempts in 60 s`);
      console.log(`worker-1 away for 60 s: ${seen.name} at attempt ${attempts}`);
      link('up');
      down = false;
      const { result, status } = await follow(req, () => {});
      assert.equal(result.outcome, 'converged');
      assert.equal(status.changedCount, 0, 'the retried steps found worker-1 as it was');
    } finally {
      if (down) link('up');
    }
  });

  it('adds a control plane by the addControlPlane update: the LB takes its backend by a reload, and /readyz through the LB never fails meanwhile', async () => {
    const address = `${SUBNET}.23`;
    await growLab({ name: 'cp-3', address, roles: ['controlplane'] });
    const haproxy = await sh('lb', 'pgrep -o -x haproxy');
    const etcdPids = await Promise.all(['etcd-1', 'etcd-2', 'etcd-3'].map((m) => sh(m, "pgrep -f '^/usr/local/bin/etcd '")));
    const poller = pollApi('readyz');
    const req = await addNode(env.client, spec.name, { name: 'cp-3', address }, 'controlplane');
    const { result, status } = await follow(req, () => {});
    const polled = await poller.stop();
    assert.equal(result.state, 'Ready', status.error);
    assert.equal(result.podRange, '10.244.5.0/24');
    assert.deepEqual(
      polled.failures,
      [],
      `${polled.failures.length} of ${polled.ok + polled.failures.length} /readyz requests through the LB failed`,
    );
    assert.ok(polled.ok >= 20, `only ${polled.ok} /readyz requests`);
    assert.equal(await sh('lb', 'pgrep -o -x haproxy'), haproxy, 'haproxy was restarted, not reloaded');
    assert.match(
      await sh('lb', 'cat /etc/haproxy/haproxy.cfg'),
      new RegExp(`^ {4}server cp-3 ${address.replaceAll('.', '\\.')}:6443$`, 'm'),
    );
    const node = await sh(
      'admin',
      'kubectl get node cp-3 -o jsonpath=\'{.spec.podCIDR} {.status.conditions[?(@.type=="Ready")].status} {.spec.taints[*].effect}\'',
    );
    assert.equal(node.trim(), '10.244.5.0/24 True NoSchedule');
    // It serves: the API servers' endpoints list it, and its own /readyz answers.
    const eps = await sh(
      'admin',
      'kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes -o jsonpath={.items[*].endpoints[*].addresses[*]}',
    );
    assert.ok(eps.split(/\s+/).includes(address), eps);
    assert.equal((await sh('cp-3', `curl -sk --max-time 5 https://${address}:6443/readyz`)).trim(), 'ok');
    assert.deepEqual(
      await Promise.all(['etcd-1', 'etcd-2', 'etcd-3'].map((m) => sh(m, "pgrep -f '^/usr/local/bin/etcd '"))),
      etcdPids,
      'an etcd member restarted',
    );
  });

  it('removes a worker: drained, its Node deleted, its host cleaned, the others forget it; its name and address come back with the same range', async () => {
    const address = `${SUBNET}.33`;
    const req = await removeWorker(env.client, spec.name, { name: 'worker-3' });
    const { result, status } = await follow(req, () => {});
    assert.equal(result.state, 'removed', status.error);
    assert.equal(result.podRange, '10.244.4.0/24', 'its range stays reserved for its name');
    assert.deepEqual(
      status.steps.filter((s) => s.phase === 'remove').map((s) => [s.name, s.state]),
      [
        ['remove/drain/worker-3', 'done'],
        ['remove/clean/worker-3', 'done'],
      ],
    );
    assert.equal((await sh('admin', 'kubectl get node worker-3 --ignore-not-found -o name')).trim(), '');
    // Its pods live elsewhere: the web Deployment is whole again, on the other workers.
    await checks().deploymentSpreadOverWorkers();
    // Its host: no service of hardway runs, and it has the files it had before hardway (/etc/hosts without hardway's block).
    assert.equal((await sh('worker-3', "pgrep -fa '^/usr/local/(s)?bin/' || true")).trim(), '');
    assert.deepEqual(await filePaths('worker-3'), freshFiles.get('worker-3'));
    assert.doesNotMatch(await sh('worker-3', 'cat /etc/hosts'), /hardway/);
    assert.equal((await sh('worker-3', 'ip -o link show cni0 2>/dev/null; ip -o link show flannel.1 2>/dev/null; true')).trim(), '');
    for (const h of plan.hosts) assert.doesNotMatch(await sh(h.name, 'cat /etc/hosts'), /worker-3/, `${h.name} still lists worker-3`);
    // The same name and address again: Ready with its old range.
    const again = await follow(await addWorker(env.client, spec.name, { name: 'worker-3', address }), () => {});
    assert.deepEqual({ state: again.result.state, podRange: again.result.podRange }, { state: 'Ready', podRange: '10.244.4.0/24' });
  });

  it('grows etcd from 3 to 5 members through `up`: each joins as a learner and is promoted; no running member restarts', async () => {
    const joining: HostSpec[] = [
      { name: 'etcd-4', address: `${SUBNET}.14`, roles: ['etcd'] },
      { name: 'etcd-5', address: `${SUBNET}.15`, roles: ['etcd'] },
    ];
    await growLab(...joining);
    const handle = env.client.workflow.getHandle(`cluster-${spec.name}`);
    const current = (await handle.query(specQuery))!;
    const pids = await Promise.all(['etcd-1', 'etcd-2', 'etcd-3'].map((m) => sh(m, "pgrep -f '^/usr/local/bin/etcd '")));
    const units = await Promise.all(['etcd-1', 'etcd-2', 'etcd-3'].map((m) => sh(m, 'stat -c %Y /etc/systemd/system/etcd.service')));
    const poller = pollApi('read');
    const { result, status } = await follow(await applySpec(env.client, { ...current, hosts: [...current.hosts, ...joining] }), () => {});
    const polled = await poller.stop();
    assert.equal(result.outcome, 'converged', status.error);
    assert.deepEqual(
      status.steps.filter((s) => s.name.startsWith('etcd/join/')).map((s) => [s.name, s.state]),
      [
        ['etcd/join/etcd-4', 'done'],
        ['etcd/join/etcd-5', 'done'],
      ],
    );
    const members = await etcdMembers('etcd-1');
    assert.deepEqual(members.map((m) => `${m.name}${m.isLearner ? ' (learner)' : ''}`).sort(), [
      'etcd-1',
      'etcd-2',
      'etcd-3',
      'etcd-4',
      'etcd-5',
    ]);
    assert.deepEqual(
      await Promise.all(['etcd-1', 'etcd-2', 'etcd-3'].map((m) => sh(m, "pgrep -f '^/usr/local/bin/etcd '"))),
      pids,
      'a running member restarted',
    );
    assert.deepEqual(
      await Promise.all(['etcd-1', 'etcd-2', 'etcd-3'].map((m) => sh(m, 'stat -c %Y /etc/systemd/system/etcd.service'))),
      units,
    );
    assert.match(await sh('etcd-4', 'cat /etc/etcd/bootstrap.env'), /^ETCD_INITIAL_CLUSTER_STATE=existing$/m);
    // The API servers use all five.
    assert.match(
      await sh('cp-1', 'cat /etc/systemd/system/kube-apiserver.service'),
      new RegExp(`${SUBNET.replaceAll('.', '\\.')}\\.15:2379`),
    );
    assert.deepEqual(polled.failures, [], 'the API through the LB failed while etcd grew');
  });

  it('replaces a lost etcd member: removed from etcd, a new host joins; the quorum never breaks', async () => {
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { hosts: { name: string; veth: string }[] };
    const veth = state.hosts.find((h) => h.name === 'etcd-3')!.veth;
    await growLab({ name: 'etcd-6', address: `${SUBNET}.16`, roles: ['etcd'] });
    execFileSync('ip', ['link', 'set', veth, 'down']);
    try {
      const poller = pollApi('read');
      const req = await replaceEtcdMember(env.client, spec.name, {
        old: 'etcd-3',
        name: 'etcd-6',
        address: `${SUBNET}.16`,
        hostLost: true,
      });
      const { result, status } = await follow(req, () => {});
      const polled = await poller.stop();
      assert.equal(result.state, 'replaced', status.error);
      assert.ok(status.steps.some((s) => s.name === 'remove/etcd-leave/etcd-3' && s.state === 'done'));
      assert.ok(!status.steps.some((s) => s.name === 'remove/clean/etcd-3'), 'a lost host is not contacted');
      const members = await etcdMembers('etcd-1');
      assert.deepEqual(members.map((m) => `${m.name}${m.isLearner ? ' (learner)' : ''}`).sort(), [
        'etcd-1',
        'etcd-2',
        'etcd-4',
        'etcd-5',
        'etcd-6',
      ]);
      // Until the API servers are pointed at the new member set (the control-plane phase), a request whose etcd call goes
      // to the lost member's address waits out its timeout: a few reads time out (curl's 3 s), none gets an error.
      console.log(`reads through the LB during the replacement: ${polled.ok} ok, ${polled.failures.length} timed out`);
      assert.ok(
        polled.failures.every((f) => / 000 *$/.test(f)),
        `a read failed with an answer, not a timeout: ${polled.failures.join('; ')}`,
      );
      assert.ok(polled.failures.length * 20 <= polled.ok, `${polled.failures.length} reads timed out, ${polled.ok} answered`);
      // Once they are, none.
      const afterwards = pollApi('read');
      await new Promise((r) => setTimeout(r, 5000));
      assert.deepEqual((await afterwards.stop()).failures, [], 'reads failed after the replacement');
      for (const h of ['cp-1', 'worker-1']) assert.doesNotMatch(await sh(h, 'cat /etc/hosts'), /etcd-3/);
    } finally {
      execFileSync('ip', ['link', 'set', veth, 'up']);
    }
  });

  it('resets every host: services stopped, the files of hardway gone, the CA kept; the workflow ends; up brings the cluster back on the same CA', async () => {
    const handle = env.client.workflow.getHandle(`cluster-${spec.name}`);
    const current = (await handle.query(specQuery))!;
    const ca = await sh('ca', 'sha256sum /var/lib/hardway/ca/ca.crt /var/lib/hardway/ca/ca.key');
    const caFiles = (await sh('ca', 'find /var/lib/hardway/ca -type f')).trim().split('\n');
    const { result, status } = await follow(await resetCluster(env.client, spec.name, { includeCa: false }), () => {});
    assert.equal(result.state, 'reset', status.error);
    assert.equal(result.keptCa, true);
    assert.deepEqual((await handle.result()) as unknown, {
      cluster: spec.name,
      state: 'reset',
      includeCa: false,
      hosts: current.hosts.map((h) => h.name),
    });
    for (const h of current.hosts) {
      assert.equal(
        (await sh(h.name, "pgrep -fa '^/usr/(local/)?s?bin/(etcd|kube|containerd|flanneld|haproxy)' || true")).trim(),
        '',
        `${h.name} still runs a service`,
      );
      const before = freshFiles.get(h.name)!;
      assert.deepEqual(
        await filePaths(h.name),
        (h.name === 'ca' ? [...before, ...caFiles] : before).sort(),
        `${h.name} keeps files of hardway`,
      );
      assert.doesNotMatch(await sh(h.name, 'cat /etc/hosts'), /hardway/, `${h.name}: /etc/hosts keeps the block of hardway`);
    }
    assert.equal(await sh('ca', 'sha256sum /var/lib/hardway/ca/ca.crt /var/lib/hardway/ca/ca.key'), ca, 'the CA was not kept');
    // hardway's haproxy.cfg is gone and the package's is back as it was (hardway kept it aside); the package stays,
    // stopped and disabled.
    assert.equal(await sh('lb', HAPROXY_CONFIG_SUM), lbConfigBefore, 'the haproxy.cfg from before hardway is back');
    assert.equal((await sh('lb', 'ls /etc/haproxy/ | grep -c before-hardway || true')).trim(), '0', 'no copy left behind');
    assert.match(await sh('lb', 'systemctl is-enabled haproxy || true'), /disabled/);
    // A new run of the workflow brings the same cluster up again on the hosts as reset left them, with the same CA.
    const again = await follow(await applySpec(env.client, current), () => {});
    assert.equal(again.result.outcome, 'converged', again.status.error);
    assert.equal(await sh('ca', 'sha256sum /var/lib/hardway/ca/ca.crt /var/lib/hardway/ca/ca.key'), ca);
    assert.equal((await sh('admin', 'kubectl get --raw /readyz')).trim(), 'ok');
  });
});
