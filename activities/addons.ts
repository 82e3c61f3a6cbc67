// The cluster's add-ons: flanneld on every node (the pod network across hosts) and CoreDNS (cluster names), then the
// admin host's kubectl and kubeconfig.
import { cidrContains, cidrEquals, isCidr } from '../model/cidr.js';
import { ADMIN_BINARIES, FLANNEL_BIN_DIR, FLANNEL_BINARY, FLANNEL_VXLAN_DEVICE, KUBERNETES_BIN_DIR } from '../model/paths.js';
import { asList, coreDnsObjects } from '../render/cluster-objects.js';
import {
  FLANNEL_NET_CONFIG_PATH,
  FLANNEL_SUBNET_FILE,
  FLANNEL_UNIT_PATH,
  renderFlannelNetConfig,
  renderFlannelUnit,
} from '../render/flannel.js';
import { shellQuote as q } from '../remote/exec.js';
import { installRelease } from './binaries.js';
import { ensureKubeconfig } from './controlplane.js';
import { ConfigurationError } from './errors.js';
import type { HostShells } from './host-shell.js';
import { apiReady, applyObjects, kubectl, kubectlReads, waitUntil } from './kubectl.js';
import { flannelRelease, kubernetesRelease } from './releases.js';
import { NODE_PROBE_SCRIPT, parseNodeFacts } from './preflight-facts.js';
import { ensureService, inputsDigest } from './service.js';
import { runStep } from './step.js';
import type { AdminInput, CoreDnsInput, FlannelInput, StepReport } from './types.js';

/** FLANNEL_NETWORK and FLANNEL_SUBNET of flanneld's subnet file. */
export function parseSubnetFile(text: string): { network?: string; subnet?: string } {
  const get = (k: string) => new RegExp(`^${k}=(\\S+)$`, 'm').exec(text)?.[1];
  return { network: get('FLANNEL_NETWORK'), subnet: get('FLANNEL_SUBNET') };
}

export function flannelActivity(shells: HostShells) {
  return (input: FlannelInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.target);
      const host = input.target.name;
      const netConfig = renderFlannelNetConfig(input.podRange);
      const unit = renderFlannelUnit({ host, version: input.version, address: input.address, kubeconfig: input.kubeconfig.path });
      await installRelease(input.binaries, sh, flannelRelease(input.version), ctx);
      const kubeconfig = await ensureKubeconfig(sh, input.cluster, input.kubeconfig, ctx);
      if ((await sh.putFile(FLANNEL_NET_CONFIG_PATH, netConfig, { mode: '0644', owner: 'root', group: 'root' })).changed) {
        ctx.changed(FLANNEL_NET_CONFIG_PATH);
      }
      await ensureService(
        sh,
        {
          name: 'flanneld',
          unitPath: FLANNEL_UNIT_PATH,
          unit,
          inputsDigest: await inputsDigest(sh, [input.kubeconfig.caPath, input.kubeconfig.certPath], netConfig, kubeconfig),
          binaries: [`${FLANNEL_BIN_DIR}/${FLANNEL_BINARY}`],
        },
        ctx,
      );
      let seen = 'no subnet file yet';
      const subnet = await waitUntil(
        `flanneld on ${host} leases the node's pod range ${input.podCidr}`,
        async () => {
          const r = await sh.exec(`cat ${FLANNEL_SUBNET_FILE}`, {
            allowExitCodes: [0, 1],
            reads: [FLANNEL_UNIT_PATH, FLANNEL_NET_CONFIG_PATH, input.kubeconfig.path],
          });
          if (r.code !== 0) return undefined;
          const text = r.stdout;
          const s = parseSubnetFile(text);
          seen = `FLANNEL_NETWORK=${s.network} FLANNEL_SUBNET=${s.subnet}`;
          if (!s.network || !s.subnet || !isCidr(s.network)) return undefined;
          if (!cidrEquals(s.network, input.podRange)) {
            throw new ConfigurationError(`flanneld on ${host} runs the network ${s.network}, the plan's pod range is ${input.podRange}`);
          }
          return cidrContains(input.podCidr, s.subnet.split('/')[0]!) ? s.subnet : undefined;
        },
        ctx,
        { timeoutMs: 120_000, lastSeen: () => seen },
      );
      const dev = await sh.exec(`ip -d -o link show ${FLANNEL_VXLAN_DEVICE}`, { allowExitCodes: [0, 1] });
      const local = /\blocal (\d+\.\d+\.\d+\.\d+)/.exec(dev.stdout)?.[1];
      if (local && local !== input.address) {
        throw new ConfigurationError(`flannel.1 on ${host} sends from ${local}, not the infrastructure address ${input.address}`);
      }
      ctx.notes.push(`flannel subnet ${subnet} over VXLAN from ${local ?? input.address}`);
    });
}

export function coreDnsActivity(shells: HostShells) {
  return (input: CoreDnsInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.via);
      // CoreDNS forwards other names to its node's resolvers (dnsPolicy Default: the kubelet's resolvConf): only when
      // every node it may run on has one a pod can reach. Without, a `forward` to an empty list stops CoreDNS.
      const without: string[] = [];
      for (const t of input.nodes ?? [input.via]) {
        const node = shells.shell(t);
        const file = parseNodeFacts((await node.exec(NODE_PROBE_SCRIPT)).stdout).resolvConf ?? '/etc/resolv.conf';
        const lines = (await node.exec(`grep -E '^\\s*nameserver\\s' ${file}`, { allowExitCodes: [0, 1, 2] })).stdout;
        const usable = lines.split('\n').filter((l) => /^\s*nameserver\s+(?!127\.|::1\b)\S+/.test(l));
        if (usable.length === 0) without.push(`${t.name} (${file})`);
      }
      const forward = without.length === 0;
      await applyObjects(sh, input.kubeconfig, asList(coreDnsObjects({ ...input, forward })), ctx);
      let seen = '';
      await waitUntil(
        `CoreDNS has ${input.replicas} ready replicas`,
        async () => {
          const r = await sh.exec(
            kubectl(
              input.kubeconfig,
              "-n kube-system get deployment coredns -o jsonpath='{.metadata.generation} {.status.observedGeneration} {.status.updatedReplicas} {.status.readyReplicas}'",
            ),
            { allowExitCodes: [0, 1], reads: kubectlReads(input.kubeconfig) },
          );
          const [gen, observed, updated, ready] = r.stdout.trim().split(' ');
          seen = `generation ${gen}, observed ${observed ?? '-'}, updated ${updated || 0}, ready ${ready || 0}`;
          return gen === observed && Number(updated) === input.replicas && Number(ready) === input.replicas ? true : undefined;
        },
        ctx,
        { timeoutMs: 240_000, lastSeen: () => seen },
      );
      ctx.notes.push(
        `CoreDNS at ${input.clusterDns} for ${input.clusterDomain}` +
          (forward
            ? ', other names forwarded to the nodes\u2019 resolvers'
            : `; no resolvers on ${without.join(', ')}: cluster names only`),
      );
    });
}

export function adminActivity(shells: HostShells) {
  return (input: AdminInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.target);
      await installRelease(input.binaries, sh, kubernetesRelease(input.version, ADMIN_BINARIES), ctx);
      for (const k of input.kubeconfigs) await ensureKubeconfig(sh, input.cluster, k, ctx);
      const k = input.kubeconfigs[input.kubeconfigs.length - 1]!;
      let seen = '';
      await waitUntil(
        `kubectl on ${input.target.name} reaches ${k.server}`,
        async () => {
          const r = await apiReady(sh, k.server, k.caPath, [k.path]);
          seen = r.detail;
          return r.ok ? true : undefined;
        },
        ctx,
        { timeoutMs: 60_000, lastSeen: () => seen },
      );
      // The admin certificate's group is bound to cluster-admin (controlplane/rbac): prove it with the admin's own identity.
      const can = await sh.exec(`${KUBERNETES_BIN_DIR}/kubectl --kubeconfig=${q(k.path)} auth can-i '*' '*' --all-namespaces`, {
        allowExitCodes: [0, 1],
        reads: kubectlReads(k.path),
      });
      if (can.stdout.trim() !== 'yes') {
        throw new ConfigurationError(
          `the admin kubeconfig on ${input.target.name} is not a cluster admin (auth can-i: ${can.stdout.trim() || can.stderr.trim()})`,
        );
      }
      ctx.notes.push(
        `kubectl ${input.version} with ${input.kubeconfigs.map((x) => x.path).join(' and ')} (cluster-admin through ${k.server})`,
      );
    });
}
