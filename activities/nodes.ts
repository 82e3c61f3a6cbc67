// The nodes: each node's Node object with the plan's pod range (created before its kubelet registers), the kubelet,
// kube-proxy and the node's CNI configuration on every control plane and worker, and the wait until it is Ready.
import { CNI_DISABLED_SUFFIX, KUBERNETES_BIN_DIR, NODE_BINARIES } from '../model/paths.js';
import { asList, nodeObject } from '../render/cluster-objects.js';
import { CNI_CONF_DIR } from '../render/containerd.js';
import { FLANNEL_CNI_CONFIG_PATH, renderFlannelCniConfig } from '../render/flannel.js';
import { KUBE_PROXY_CONFIG_PATH, KUBE_PROXY_UNIT_PATH, renderKubeProxyConfig, renderKubeProxyUnit } from '../render/kube-proxy.js';
import { KUBELET_CONFIG_PATH, KUBELET_UNIT_PATH, renderKubeletConfig, renderKubeletUnit } from '../render/kubelet.js';
import { shellQuote as q } from '../remote/exec.js';
import { installRelease } from './binaries.js';
import { ensureKubeconfig } from './controlplane.js';
import { ConfigurationError, NotReady } from './errors.js';
import type { HostShell, HostShells } from './host-shell.js';
import { applyObjects, waitUntil } from './kubectl.js';
import { NODE_PROBE_SCRIPT, parseNodeFacts } from './preflight-facts.js';
import { flannelCniPluginRelease, kubernetesRelease } from './releases.js';
import { ensureService, inputsDigest } from './service.js';
import { runStep } from './step.js';
import type { ClusterObjectsInput, NodeInput, NodeReadyInput, NodeRegistrationInput, StepReport } from './types.js';

/** A Node as the API has it. */
export interface NodeState {
  podCidr: string;
  ready: string;
  reason: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  taints: { key: string; effect: string }[];
}

/** The Node `name` as the API has it, or undefined when there is none: one curl with the client certificate (a kubectl
 * costs about 0.2 s of CPU, a curl almost nothing). */
export async function nodeState(sh: HostShell, input: ClusterObjectsInput, name: string): Promise<NodeState | undefined> {
  const { certPath, keyPath } = input.client;
  const url = `${input.apiServerUrl.replace(/\/+$/, '')}/api/v1/nodes/${name}`;
  const r = await sh.exec(
    `curl -sS --max-time 10 --cacert ${q(input.caPath)} --cert ${q(certPath)} --key ${q(keyPath)} -w '\\n%{http_code}' ${q(url)}`,
    { allowExitCodes: [0, 6, 7, 28, 35, 52, 56], reads: [input.caPath, certPath, keyPath] },
  );
  // The API not answering (a restart, a lost etcd quorum) is retried, not a reason to give up.
  const cut = r.stdout.lastIndexOf('\n');
  const status = r.stdout.slice(cut + 1).trim();
  if (r.code !== 0 || status === '000')
    throw new NotReady(`the API at ${input.apiServerUrl} does not answer ${sh.name}: ${r.stderr.trim()}`);
  if (status === '404') return undefined;
  if (status !== '200') throw new NotReady(`GET node ${name} from ${sh.name}: HTTP ${status} ${r.stdout.slice(0, cut).trim()}`);
  const text = r.stdout.slice(0, cut);
  const n = JSON.parse(text) as {
    metadata: { annotations?: Record<string, string>; labels?: Record<string, string> };
    spec?: { podCIDR?: string; taints?: { key: string; effect: string }[] };
    status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
  };
  const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    podCidr: n.spec?.podCIDR ?? '',
    ready: ready?.status ?? 'Unknown',
    reason: ready ? `${ready.reason ?? ''} ${ready.message ?? ''}`.trim() : 'no Ready condition yet',
    annotations: n.metadata.annotations ?? {},
    labels: n.metadata.labels ?? {},
    taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key, effect: t.effect })),
  };
}

/** The live Node already is what hardway registers: its range, and hardway's labels and taints among its own. */
export function nodeAsPlanned(live: NodeState, planned: NodeRegistrationInput['node']): boolean {
  const want = nodeObject(planned) as unknown as {
    metadata: { labels: Record<string, string> };
    spec: { podCIDR: string; taints?: { key: string; effect: string }[] };
  };
  return (
    live.podCidr === want.spec.podCIDR &&
    Object.entries(want.metadata.labels).every(([k, v]) => live.labels[k] === v) &&
    (want.spec.taints ?? []).every((t) => live.taints.some((x) => x.key === t.key && x.effect === t.effect))
  );
}

export function registerNodeActivity(shells: HostShells) {
  return (input: NodeRegistrationInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.via);
      const n = input.node;
      ctx.notes.push(`Node ${n.name}: pod range ${n.podCidr}${n.controlPlane ? ', control plane (NoSchedule)' : ''}`);
      const live = await nodeState(sh, input, n.name);
      // The usual re-run: the API already holds the Node as planned (one GET, nothing applied).
      if (live && nodeAsPlanned(live, n)) return;
      if (live && live.podCidr && live.podCidr !== n.podCidr) {
        throw new ConfigurationError(
          `node ${n.name} is registered with the pod range ${live.podCidr}, the plan gives it ${n.podCidr}. ` +
            `Delete the Node object (kubectl delete node ${n.name}) and run again: hardway registers it with the plan's range.`,
        );
      }
      const list = asList([nodeObject(n)]);
      await applyObjects(sh, input.kubeconfig, list, ctx);
    });
}

export function kubeletActivity(shells: HostShells) {
  return (input: NodeInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.target);
      const host = input.target.name;
      const facts = parseNodeFacts((await sh.exec(NODE_PROBE_SCRIPT)).stdout);
      const kubeletConfig = renderKubeletConfig(
        {
          host,
          podCidr: input.podCidr,
          clusterDns: input.clusterDns,
          clusterDomain: input.clusterDomain,
          controlPlane: input.controlPlane,
          apiServer: {
            kubeconfig: input.kubelet.path,
            clientCaFile: input.tls.caPath,
            tlsCertFile: input.tls.certPath,
            tlsPrivateKeyFile: input.tls.keyPath,
          },
        },
        facts,
      );
      const kubeletUnit = renderKubeletUnit({
        version: input.versions.kubernetes,
        kubeconfig: input.kubelet.path,
        host,
        nodeIp: input.address,
      });
      const proxyConfig = renderKubeProxyConfig({ host, kubeconfig: input.kubeProxy.path, podRange: input.podRange }, facts);
      const proxyUnit = renderKubeProxyUnit({ version: input.versions.kubernetes });

      await installRelease(input.binaries, sh, kubernetesRelease(input.versions.kubernetes, NODE_BINARIES), ctx);
      await installRelease(input.binaries, sh, flannelCniPluginRelease(input.versions.flannelCniPlugin), ctx);
      // The node's pods go to flannel's plugin (it waits for flanneld's subnet file), delegating to the bridge plugin.
      // Any other network configuration there would win by its name's order: hardway's is the only one it keeps.
      const others = await sh.exec(`ls -1 ${q(CNI_CONF_DIR)} 2>/dev/null | grep -v '^10-flannel.conflist$' || true`);
      for (const f of others.stdout.split('\n').filter((x) => /\.(conf|conflist|json)$/.test(x))) {
        await sh.change(`mv -f ${q(`${CNI_CONF_DIR}/${f}`)} ${q(`${CNI_CONF_DIR}/${f}${CNI_DISABLED_SUFFIX}`)}`);
        ctx.changed(`disabled ${CNI_CONF_DIR}/${f}`);
      }
      if ((await sh.putFile(FLANNEL_CNI_CONFIG_PATH, renderFlannelCniConfig(), { mode: '0644', owner: 'root', group: 'root' })).changed) {
        ctx.changed(FLANNEL_CNI_CONFIG_PATH);
      }
      const kubeletKubeconfig = await ensureKubeconfig(sh, input.cluster, input.kubelet, ctx);
      const proxyKubeconfig = await ensureKubeconfig(sh, input.cluster, input.kubeProxy, ctx);
      for (const [path, text] of [
        [KUBELET_CONFIG_PATH, kubeletConfig],
        [KUBE_PROXY_CONFIG_PATH, proxyConfig],
      ] as const) {
        if ((await sh.putFile(path, text, { mode: '0644', owner: 'root', group: 'root' })).changed) ctx.changed(path);
      }
      await ensureService(
        sh,
        {
          name: 'kubelet',
          unitPath: KUBELET_UNIT_PATH,
          unit: kubeletUnit,
          // What it loads once: the CA and its own certificate (a renewal restarts it).
          inputsDigest: await inputsDigest(sh, [input.tls.caPath, input.tls.certPath], kubeletConfig, kubeletKubeconfig),
          binaries: [`${KUBERNETES_BIN_DIR}/kubelet`],
        },
        ctx,
      );
      await ensureService(
        sh,
        {
          name: 'kube-proxy',
          unitPath: KUBE_PROXY_UNIT_PATH,
          unit: proxyUnit,
          inputsDigest: await inputsDigest(sh, [input.kubeProxy.caPath, input.kubeProxy.certPath], proxyConfig, proxyKubeconfig),
          binaries: [`${KUBERNETES_BIN_DIR}/kube-proxy`],
        },
        ctx,
      );
      await waitUntil(
        `the kubelet on ${host} answers /healthz`,
        async () => {
          const r = await sh.exec('curl -s --max-time 5 http://127.0.0.1:10248/healthz', {
            allowExitCodes: [0, 7, 28, 52, 56],
            reads: [KUBELET_UNIT_PATH, KUBELET_CONFIG_PATH],
          });
          return r.code === 0 && r.stdout.trim() === 'ok' ? true : undefined;
        },
        ctx,
        { timeoutMs: 120_000 },
      );
      ctx.notes.push(
        `kubelet ${input.versions.kubernetes} at ${input.address}${input.controlPlane ? ' (tainted NoSchedule)' : ''}; kube-proxy iptables` +
          (facts.conntrackMaxWritable === false ? ', conntrack table size left to the host (read-only here)' : ''),
      );
    });
}

export function nodeReadyActivity(shells: HostShells) {
  return (input: NodeReadyInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.via);
      const n = input.node;
      let seen = 'not registered';
      await waitUntil(
        `node ${n.name} is Ready with the pod range ${n.podCidr}`,
        async () => {
          const s = await nodeState(sh, input, n.name);
          if (!s) return undefined;
          if (s.podCidr && s.podCidr !== n.podCidr) {
            throw new ConfigurationError(`node ${n.name} has the pod range ${s.podCidr}, the plan gives it ${n.podCidr}`);
          }
          seen = `Ready=${s.ready} ${s.reason}`.trim();
          return s.ready === 'True' && s.podCidr === n.podCidr ? true : undefined;
        },
        ctx,
        { timeoutMs: 180_000, lastSeen: () => seen },
      );
      ctx.notes.push(`node ${n.name} Ready, pod range ${n.podCidr}`);
    });
}
