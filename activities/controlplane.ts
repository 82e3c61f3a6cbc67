// The control plane: the encryption-at-rest config (one key, the same on every control plane, made in the worker's
// memory and carried host to host over SSH, never through Temporal), kube-apiserver, kube-controller-manager and
// kube-scheduler on each control plane, and the RBAC that lets the admin group and the API server's kubelet client in.
import { randomBytes } from 'node:crypto';
import { ADMIN_USER_KUBECONFIG, CONTROL_PLANE_BINARIES, KUBERNETES_BIN_DIR, KUBERNETES_LOG_DIR, kubeconfigHeader } from '../model/paths.js';
import { asList, rbacObjects } from '../render/cluster-objects.js';
import {
  KUBE_APISERVER_UNIT_PATH,
  KUBE_CONTROLLER_MANAGER_UNIT_PATH,
  KUBE_SCHEDULER_UNIT_PATH,
  encryptionKeyOf,
  renderApiServerUnit,
  renderControllerManagerUnit,
  renderEncryptionConfig,
  renderSchedulerUnit,
} from '../render/controlplane.js';
import { renderKubeconfig } from '../render/kubeconfig.js';
import { shellQuote as q } from '../remote/exec.js';
import { installRelease } from './binaries.js';
import { keepEarlierFile } from './earlier-file.js';
import { ConfigurationError, NotReady } from './errors.js';
import type { HostShell, HostShells } from './host-shell.js';
import { apiReady, applyObjects, kubectlReads, waitUntil } from './kubectl.js';
import { LB_BACKEND_CHECK } from '../render/haproxy.js';
import { kubernetesRelease } from './releases.js';
import { ensureService, inputsDigest } from './service.js';
import { runStep, type StepContext } from './step.js';
import type { ControlPlaneInput, EncryptionConfigInput, KubeconfigFile, RbacInput, StepReport } from './types.js';

export function encryptionConfigActivity(shells: HostShells) {
  return (input: EncryptionConfigInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const held = await Promise.all(
        input.holders.map(async (t) => {
          const sh = shells.shell(t);
          const text = (await sh.readFile(input.path))?.toString();
          return { t, sh, text, key: text === undefined ? undefined : encryptionKeyOf(text) };
        }),
      );
      const unreadable = held.filter((h) => h.text !== undefined && h.key === undefined);
      if (unreadable.length) {
        throw new ConfigurationError(
          `${unreadable.map((h) => `${h.t.name}:${input.path}`).join(', ')} is not an encryption config hardway wrote ` +
            '(one secretbox key). Move it away if its Secrets are not needed, or put the config of the other control planes there.',
        );
      }
      const keys = [...new Set(held.flatMap((h) => (h.key ? [h.key] : [])))];
      if (keys.length > 1) {
        const who = (k: string) => held.filter((h) => h.key === k).map((h) => h.t.name);
        throw new ConfigurationError(
          `the control planes hold different encryption keys (${keys.map((k) => who(k).join('+')).join(' vs ')}): ` +
            'each reads only the Secrets it wrote. Copy the config of the hosts whose Secrets you keep to the others, then run again.',
        );
      }
      // The key lives only in this process's memory and in the 0600 files: never in a payload, a report or a log.
      const key = keys[0] ?? randomBytes(32).toString('base64');
      const config = renderEncryptionConfig(key);
      for (const h of held) {
        if ((await h.sh.putFile(input.path, config, { mode: '0600', owner: 'root', group: 'root' })).changed) {
          ctx.changed(`${h.t.name}:${input.path}${keys.length ? '' : ' (new key)'}`);
        }
      }
      ctx.notes.push(`one encryption key (secretbox) on ${input.holders.map((h) => h.name).join(', ')}`);
    });
}

/** Writes a kubeconfig that names its certificate and key by path (no secret in it; 0600 all the same). */
export async function ensureKubeconfig(
  sh: HostShell,
  cluster: string,
  k: KubeconfigFile,
  ctx: Pick<StepContext, 'changed'>,
): Promise<string> {
  const text = renderKubeconfig({ cluster, ...k });
  // Where an operator keeps their own kubeconfig (other clusters' contexts too): keep theirs before replacing it.
  if (k.path === ADMIN_USER_KUBECONFIG) await keepEarlierFile(sh, k.path, kubeconfigHeader(cluster), ctx);
  if ((await sh.putFile(k.path, text, { mode: '0600', owner: 'root', group: 'root' })).changed) ctx.changed(k.path);
  return text;
}

export function controlPlaneActivity(shells: HostShells) {
  return (input: ControlPlaneInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.target);
      const base = { cluster: input.cluster, version: input.version };
      const apiUnit = renderApiServerUnit({ ...base, ...input });
      const cmUnit = renderControllerManagerUnit({
        ...base,
        kubeconfig: input.controllerManager.path,
        caPath: input.caPath,
        podRange: input.podRange,
        nodeMask: input.nodeMask,
        serviceRange: input.serviceRange,
        serviceAccountKeyFile: input.serviceAccount.signingKeyFile,
      });
      const schedUnit = renderSchedulerUnit({ ...base, kubeconfig: input.scheduler.path });

      await installRelease(input.binaries, sh, kubernetesRelease(input.version, CONTROL_PLANE_BINARIES), ctx);
      const cmKubeconfig = await ensureKubeconfig(sh, input.cluster, input.controllerManager, ctx);
      const schedKubeconfig = await ensureKubeconfig(sh, input.cluster, input.scheduler, ctx);
      for (const k of input.kubeconfigs) await ensureKubeconfig(sh, input.cluster, k, ctx);
      const logDir = await sh.exec(`test -d ${KUBERNETES_LOG_DIR}`, { allowExitCodes: [0, 1] });
      if (logDir.code !== 0) {
        await sh.change(`mkdir -p ${KUBERNETES_LOG_DIR} && chmod 0700 ${KUBERNETES_LOG_DIR}`);
        ctx.changed(`${KUBERNETES_LOG_DIR}/`);
      }

      const t = input.tls;
      let deferred = false;
      // What kube-apiserver loads once: the encryption key, the service-account keys, its etcd and kubelet client
      // certificates. Its serving certificate and client CA it rereads by itself.
      const apiFiles = [
        input.encryptionConfigPath,
        ...input.serviceAccount.keyFiles,
        input.serviceAccount.signingKeyFile,
        t.etcdClient.certPath,
        t.etcdClient.caPath,
        t.kubeletClient.certPath,
        ...(t.frontProxyClient ? [t.frontProxyClient.certPath, t.frontProxyClient.caPath] : []),
      ];
      const localUrl = `https://${input.address}:${input.securePort}`;
      const bin = (b: string) => [`${KUBERNETES_BIN_DIR}/${b}`];
      const api = await ensureService(
        sh,
        {
          name: 'kube-apiserver',
          unitPath: KUBE_APISERVER_UNIT_PATH,
          unit: apiUnit,
          inputsDigest: await inputsDigest(sh, [...new Set(apiFiles)]),
          binaries: bin('kube-apiserver'),
          deferRestart: !!input.deferRestarts,
          // A running API server is restarted only while another one serves: the load balancer sends clients there.
          beforeRestart: async () => {
            const peers = input.peers ?? [];
            if (peers.length === 0) return;
            const states = await Promise.all(peers.map(async (p) => ({ p, r: await apiReady(sh, p.url, input.caPath) })));
            if (states.some((x) => x.r.ok)) return;
            throw new NotReady(
              `restarting kube-apiserver on ${input.target.name} now would take the API down: no other control plane is ready ` +
                `(${states.map((x) => `${x.p.name}: ${x.r.detail}`).join('; ')})`,
            );
          },
        },
        ctx,
      );
      deferred ||= api.deferred;
      await waitUntil(
        `kube-apiserver on ${input.target.name} answers /readyz at ${localUrl}`,
        async () => ((await apiReady(sh, localUrl, input.caPath, [KUBE_APISERVER_UNIT_PATH, ...apiFiles])).ok ? true : undefined),
        ctx,
        { timeoutMs: 150_000 },
      );
      if (api.restarted && api.wasRunning && (input.peers ?? []).length > 0) {
        // Ready here is not yet back on the load balancer: it takes `rise` good checks. Until then the next control
        // plane (a rolling restart) must not go: it would leave the load balancer with fewer servers than it thinks.
        ctx.progress(`waiting for the load balancer to take kube-apiserver on ${input.target.name} back`);
        await new Promise((r) => setTimeout(r, LB_BACKEND_CHECK.interS * (LB_BACKEND_CHECK.rise + 1) * 1000));
      }
      deferred ||= (
        await ensureService(
          sh,
          {
            name: 'kube-controller-manager',
            unitPath: KUBE_CONTROLLER_MANAGER_UNIT_PATH,
            unit: cmUnit,
            inputsDigest: await inputsDigest(
              sh,
              [input.caPath, input.serviceAccount.signingKeyFile, input.controllerManager.certPath],
              cmKubeconfig,
            ),
            binaries: bin('kube-controller-manager'),
            deferRestart: !!input.deferRestarts,
          },
          ctx,
        )
      ).deferred;
      deferred ||= (
        await ensureService(
          sh,
          {
            name: 'kube-scheduler',
            unitPath: KUBE_SCHEDULER_UNIT_PATH,
            unit: schedUnit,
            inputsDigest: await inputsDigest(sh, [input.caPath, input.scheduler.certPath], schedKubeconfig),
            binaries: bin('kube-scheduler'),
            deferRestart: !!input.deferRestarts,
          },
          ctx,
        )
      ).deferred;
      // Both serve their health on the loopback; they answer once their informers and leader election started.
      for (const [name, port, unitPath] of [
        ['kube-controller-manager', 10257, KUBE_CONTROLLER_MANAGER_UNIT_PATH],
        ['kube-scheduler', 10259, KUBE_SCHEDULER_UNIT_PATH],
      ] as const) {
        await waitUntil(
          `${name} on ${input.target.name} answers /healthz`,
          async () => {
            const r = await sh.exec(`curl -sk --max-time 5 https://127.0.0.1:${port}/healthz`, {
              allowExitCodes: [0, 7, 28, 35, 52, 56],
              reads: [unitPath],
            });
            return r.code === 0 && r.stdout.trim() === 'ok' ? true : undefined;
          },
          ctx,
          { timeoutMs: 120_000 },
        );
      }
      ctx.notes.push(`kube-apiserver ${input.version} ready at ${localUrl}; controller manager and scheduler healthy`);
      return deferred ? { restartDeferred: true } : undefined;
    });
}

export function rbacActivity(shells: HostShells) {
  return (input: RbacInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.via);
      let last = '';
      await waitUntil(
        `the API answers /readyz through the load balancer at ${input.apiServerUrl}`,
        async () => {
          const r = await apiReady(sh, input.apiServerUrl, input.caPath, kubectlReads(input.kubeconfig));
          last = r.detail;
          return r.ok ? true : undefined;
        },
        ctx,
        { timeoutMs: 120_000, lastSeen: () => last },
      );
      await applyObjects(
        sh,
        input.kubeconfig,
        asList(
          rbacObjects({
            adminGroup: input.adminGroup,
            kubeletClientUser: input.kubeletClientUser,
            ...(input.flannelUser ? { flannelUser: input.flannelUser } : {}),
          }),
        ),
        ctx,
      );
      ctx.notes.push(`API ready through the load balancer at ${input.apiServerUrl}`);
    });
}
