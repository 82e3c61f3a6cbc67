// The smoke tests that Kubernetes the Hard Way ends with, plus the checks that catch the seed's known traps, run
// against a cluster that `hardway up` built on the lab. Every check runs from the admin host with its own
// kubeconfig (~/.kube/config), through the load balancer. Shared by the seed and the larger-topology end-to-end tests.
import assert from 'node:assert/strict';
import { labExec } from '../../lab/index.js';
import type { ClusterPlan } from '../../model/types.js';

export interface SmokeContext {
  /** The lab directory. */
  dir: string;
  plan: ClusterPlan;
}

const TEST_NAMESPACE = 'hardway-smoke';

export function smoke(ctx: SmokeContext) {
  const { dir, plan } = ctx;
  const admin = plan.hosts.find((h) => h.roles.includes('admin'))!.name;
  const workers = plan.hosts.filter((h) => h.roles.includes('worker'));
  const controlPlanes = plan.hosts.filter((h) => h.roles.includes('controlplane'));
  const nodes = plan.hosts.filter((h) => h.podCidr);
  const image = plan.images.extra.find((r) => r.includes('/busybox:'));

  async function on(host: string, cmd: string, timeoutMs = 60_000): Promise<string> {
    const r = await labExec(dir, host, ['timeout', String(Math.ceil(timeoutMs / 1000)), 'sh', '-c', cmd]);
    if (r.code !== 0 && r.stderr.includes('localhost:8080')) {
      // kubectl found no kubeconfig: say what the admin host has where it looks.
      const kube = await labExec(dir, host, ['sh', '-c', 'ls -la --time-style=full-iso /root/.kube; date']);
      r.stderr += `\n[no kubeconfig? ${host}: ${kube.stdout}${kube.stderr}]`;
    }
    assert.equal(r.code, 0, `${host}: ${cmd} -> exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }
  const kubectl = (args: string, timeoutMs?: number) => on(admin, `kubectl ${args}`, timeoutMs);

  async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const v = await probe();
        if (v !== undefined) return v;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > until) assert.fail(`${what} within ${timeoutMs / 1000} s${last ? `: ${last}` : ''}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  /** A pod of the test Deployment on `node`. */
  async function podOn(node: string): Promise<{ name: string; ip: string }> {
    const out = await kubectl(
      `-n ${TEST_NAMESPACE} get pods -l app=web --field-selector spec.nodeName=${node},status.phase=Running ` +
        `-o jsonpath='{range .items[*]}{.metadata.name} {.status.podIP}{"\\n"}{end}'`,
    );
    const [name, ip] = out.trim().split('\n')[0]!.split(' ');
    assert.ok(name && ip, `no running web pod on ${node}: ${out}`);
    return { name, ip };
  }
  /** `wget` from inside a pod (busybox's, without -q/-T: those crash the static build). */
  const fetchFrom = (pod: string, url: string) => kubectl(`-n ${TEST_NAMESPACE} exec ${pod} -- timeout 10 wget -O- ${url}`);

  return {
    image,

    async nodesReadyWithPlannedRanges(): Promise<void> {
      const out = await kubectl(
        `get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.spec.podCIDR} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'`,
      );
      const seen = new Map(
        out
          .trim()
          .split('\n')
          .map((l) => [l.split(' ')[0]!, l]),
      );
      assert.equal(seen.size, nodes.length, out);
      for (const n of nodes) assert.equal(seen.get(n.name), `${n.name} ${n.podCidr} True`, out);
      // Control planes are registered with the NoSchedule taint; workers are not tainted.
      const taints = await kubectl(
        `get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.spec.taints[*].key}:{.spec.taints[*].effect}{"\\n"}{end}'`,
      );
      for (const cp of controlPlanes)
        assert.match(taints, new RegExp(`^${cp.name} node-role.kubernetes.io/control-plane:NoSchedule$`, 'm'));
      for (const w of workers) assert.match(taints, new RegExp(`^${w.name} :$`, 'm'));
    },

    async apiReadyAndEndpointsAreControlPlanes(): Promise<void> {
      assert.equal((await kubectl('get --raw /readyz')).trim(), 'ok');
      const eps = await kubectl(
        `get endpointslices -n default -l kubernetes.io/service-name=kubernetes -o jsonpath='{.items[*].endpoints[*].addresses[*]}'`,
      );
      assert.deepEqual(eps.trim().split(/\s+/).sort(), controlPlanes.map((c) => c.address).sort());
      // The admin host's identity is the hardway:cluster-admins group, not system:masters.
      const who = await kubectl('auth whoami -o jsonpath={.status.userInfo.groups}');
      assert.match(who, /hardway:cluster-admins/);
      assert.doesNotMatch(who, /system:masters/);
    },

    async secretsEncryptedInEtcd(): Promise<void> {
      const value = `smoke-plaintext-${Date.now()}`;
      await kubectl(`-n default delete secret hardway-smoke --ignore-not-found`);
      await kubectl(`-n default create secret generic hardway-smoke --from-literal=password=${value}`);
      const m = plan.etcd.members[0]!;
      const raw = await on(
        m.name,
        'etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/healthcheck-client.crt ' +
          '--key=/etc/etcd/pki/healthcheck-client.key get /registry/secrets/default/hardway-smoke --print-value-only | head -c 64',
      );
      assert.match(raw, /^k8s:enc:secretbox:v1:key1:/);
      const all = await on(
        m.name,
        'etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/healthcheck-client.crt ' +
          '--key=/etc/etcd/pki/healthcheck-client.key get /registry/secrets/default/hardway-smoke --print-value-only | od -An -c | tr -d " \\n"',
      );
      assert.ok(!all.includes(value), 'the plaintext is in etcd');
      // ...and the API gives it back decrypted.
      const back = await kubectl(`-n default get secret hardway-smoke -o jsonpath={.data.password}`);
      assert.equal(Buffer.from(back.trim(), 'base64').toString(), value);
    },

    async deploymentSpreadOverWorkers(): Promise<void> {
      assert.ok(image, 'the lab side-loads the busybox test image');
      const manifest = JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: TEST_NAMESPACE } },
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'web', namespace: TEST_NAMESPACE },
            spec: {
              replicas: workers.length,
              selector: { matchLabels: { app: 'web' } },
              template: {
                metadata: { labels: { app: 'web' } },
                spec: {
                  topologySpreadConstraints: [
                    {
                      maxSkew: 1,
                      topologyKey: 'kubernetes.io/hostname',
                      whenUnsatisfiable: 'DoNotSchedule',
                      // The tainted control planes are not places to spread to.
                      nodeTaintsPolicy: 'Honor',
                      labelSelector: { matchLabels: { app: 'web' } },
                    },
                  ],
                  containers: [
                    {
                      name: 'httpd',
                      image,
                      imagePullPolicy: 'Never',
                      command: [
                        'sh',
                        '-c',
                        'mkdir -p /www && hostname > /www/index.html && echo web-started && exec httpd -f -v -p 8080 -h /www',
                      ],
                      ports: [{ containerPort: 8080 }],
                      readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 },
                    },
                  ],
                },
              },
            },
          },
          {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 'web', namespace: TEST_NAMESPACE },
            spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
          },
        ],
      });
      await on(
        admin,
        `cat > /tmp/hardway-smoke.json <<'EOF_MANIFEST'\n${manifest}\nEOF_MANIFEST\nkubectl apply -f /tmp/hardway-smoke.json`,
      );
      await kubectl(`-n ${TEST_NAMESPACE} rollout status deployment/web --timeout=180s`, 200_000);
      // One pod per worker (once pods of an earlier rollout are gone).
      const want = workers.map((w) => w.name).sort();
      let spread = '';
      await eventually(`one web pod on each of ${want.join(', ')} (seen: ${spread})`, async () => {
        spread = await kubectl(`-n ${TEST_NAMESPACE} get pods -l app=web -o jsonpath='{.items[*].spec.nodeName}'`);
        return JSON.stringify(spread.trim().split(/\s+/).sort()) === JSON.stringify(want) ? true : undefined;
      });
    },

    /** Between the pods on two workers (the first two unless named), both ways by pod IP. */
    async podToPodAcrossNodes(between: [string, string] = [workers[0]!.name, workers[1]!.name]): Promise<void> {
      const [a, b] = [await podOn(between[0]), await podOn(between[1])];
      assert.equal((await fetchFrom(a.name, `http://${b.ip}:8080/`)).trim(), b.name);
      assert.equal((await fetchFrom(b.name, `http://${a.ip}:8080/`)).trim(), a.name);
      const ann = await kubectl(
        `get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.metadata.annotations.flannel\\.alpha\\.coreos\\.com/public-ip}{"\\n"}{end}'`,
      );
      for (const n of nodes) assert.match(ann, new RegExp(`^${n.name} ${n.address.replaceAll('.', '\\.')}$`, 'm'));
      // flannel's network is the plan's pod range, whatever it is: the literal default appears nowhere when the plan differs.
      const net = await on(workers[0]!.name, 'cat /etc/kube-flannel/net-conf.json /run/flannel/subnet.env');
      assert.match(net, new RegExp(`FLANNEL_NETWORK=${plan.networks.pods.replaceAll('.', '\\.')}`));
      if (plan.networks.pods !== '10.244.0.0/16') assert.doesNotMatch(net, /10\.244\./);
    },

    async servicesAndDns(): Promise<void> {
      const a = await podOn(workers[0]!.name);
      const page = (await fetchFrom(a.name, `http://web.${TEST_NAMESPACE}.svc.cluster.local/`)).trim();
      assert.match(page, /^web-/);
      const ns = await kubectl(`-n ${TEST_NAMESPACE} exec ${a.name} -- nslookup kubernetes.default.svc.cluster.local`);
      assert.match(ns, new RegExp(`Server:\\s+${plan.networks.clusterDns.replaceAll('.', '\\.')}`));
      assert.match(ns, new RegExp(`Address: ${plan.networks.kubernetesService.replaceAll('.', '\\.')}\\b`));
      const dnsSvc = await kubectl('-n kube-system get service kube-dns -o jsonpath={.spec.clusterIP}');
      assert.equal(dnsSvc.trim(), plan.networks.clusterDns);
    },

    async nodePortFromAdmin(): Promise<void> {
      const port = (await kubectl(`-n ${TEST_NAMESPACE} get service web -o jsonpath={.spec.ports[0].nodePort}`)).trim();
      for (const w of workers) {
        const page = await eventually(`NodePort ${port} answers on ${w.name}`, async () => {
          const r = await labExec(dir, admin, ['curl', '-sS', '--max-time', '5', `http://${w.address}:${port}/`]);
          return r.code === 0 ? r.stdout.trim() : undefined;
        });
        assert.match(page, /^web-/);
      }
    },

    async logsExecPortForward(): Promise<void> {
      const a = await podOn(workers[1]!.name);
      assert.match(await kubectl(`-n ${TEST_NAMESPACE} logs ${a.name}`), /web-started/);
      assert.equal((await kubectl(`-n ${TEST_NAMESPACE} exec ${a.name} -- hostname`)).trim(), a.name);
      const page = await on(
        admin,
        `kubectl -n ${TEST_NAMESPACE} port-forward pod/${a.name} 18080:8080 >/tmp/pf.log 2>&1 & pf=$!; ` +
          'for i in $(seq 1 20); do curl -sS --max-time 3 http://127.0.0.1:18080/ && break; sleep 0.5; done; kill $pf',
      );
      assert.equal(page.trim(), a.name);
    },

    /** Stops one control plane's API server: the API answers through the LB, leadership is held; then starts it again. */
    async survivesAnApiServerDown(): Promise<void> {
      const down = controlPlanes[0]!;
      await on(down.name, 'systemctl stop kube-apiserver', 150_000);
      try {
        for (let i = 0; i < 10; i++) assert.equal((await kubectl('get --raw /readyz')).trim(), 'ok');
        // Leadership of the controller manager and the scheduler is held (renewed recently) by a running one.
        await eventually(
          'controller-manager and scheduler leases are renewed by a control plane whose API server runs',
          async () => {
            const out = await kubectl(
              `-n kube-system get lease kube-controller-manager kube-scheduler -o jsonpath='{range .items[*]}{.spec.holderIdentity} {.spec.renewTime}{"\\n"}{end}'`,
            );
            const lines = out.trim().split('\n');
            const fresh = lines.every((l) => {
              const [holder, renewed] = l.split(' ');
              return !holder!.startsWith(`${down.name}_`) && Date.now() - Date.parse(renewed!) < 15_000;
            });
            return lines.length === 2 && fresh ? true : undefined;
          },
          90_000,
        );
        // Work is still scheduled: a scaled deployment gets its pods.
        await kubectl(`-n ${TEST_NAMESPACE} scale deployment/web --replicas=${workers.length + 1}`);
        await kubectl(`-n ${TEST_NAMESPACE} wait deployment/web --for=condition=Available --timeout=120s`, 130_000);
        await eventually('the scaled deployment is ready', async () => {
          const r = (await kubectl(`-n ${TEST_NAMESPACE} get deployment web -o jsonpath={.status.readyReplicas}`)).trim();
          return r === String(workers.length + 1) ? true : undefined;
        });
      } finally {
        await on(down.name, 'systemctl start kube-apiserver');
        await kubectl(`-n ${TEST_NAMESPACE} scale deployment/web --replicas=${workers.length}`).catch(() => '');
      }
      await eventually(`${down.name}'s API server is ready again`, async () => {
        const r = await labExec(dir, down.name, ['curl', '-sk', '--max-time', '3', `https://${down.address}:6443/readyz`]);
        return r.stdout.trim() === 'ok' ? true : undefined;
      });
      // Its controller manager and scheduler (they talk to the local API server) may have lost their leases and exited,
      // as they do by design: Restart=on-failure starts them again (systemd does; on the lab, the host's init).
      await eventually(`${down.name}'s controller manager and scheduler run again`, async () => {
        const r = await labExec(dir, down.name, ['systemctl', 'is-active', 'kube-controller-manager', 'kube-scheduler']);
        return r.stdout
          .trim()
          .split('\n')
          .every((l) => l === 'active')
          ? true
          : undefined;
      });
      await kubectl(`-n ${TEST_NAMESPACE} rollout status deployment/web --timeout=120s`, 130_000);
    },

    /** PIDs of the long-running services, per host: a re-converge must leave them all. */
    async servicePids(): Promise<Record<string, string>> {
      const out: Record<string, string> = {};
      for (const h of plan.hosts) {
        const names = [
          ...(h.roles.includes('etcd') ? ['etcd'] : []),
          ...(h.roles.includes('controlplane') ? ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] : []),
          ...(h.podCidr ? ['kubelet', 'containerd', 'kube-proxy', 'flanneld'] : []),
        ];
        // (pgrep -x compares the 15-character process name: match the command line instead.)
        for (const n of names) out[`${h.name}/${n}`] = (await on(h.name, `pgrep -f '^/usr/local/bin/${n} '`)).trim();
      }
      return out;
    },

    /** The encryption key on a control plane (to prove it is in no payload). */
    async encryptionKey(): Promise<string> {
      const text = await on(controlPlanes[0]!.name, 'cat /etc/kubernetes/encryption-config.yaml');
      const key = /secret:\s*(\S+)/.exec(text)?.[1];
      assert.ok(key && Buffer.from(key, 'base64').length === 32, text);
      return key;
    },
  };
}
