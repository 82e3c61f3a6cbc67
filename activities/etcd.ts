// etcd: one member per etcd host (binaries, data directory, TLS unit), then a quorum check through TLS.
import { createHash } from 'node:crypto';
import type { ClusterPlan } from '../model/types.js';
import { ETCD_BIN_DIR, ETCD_DATA_DIR, ETCD_UNIT_PATH, renderEtcdUnit } from '../render/etcd.js';
import { placementOn } from '../render/placements.js';
import { shellQuote as q } from '../remote/exec.js';
import { etcdRelease, installRelease } from './binaries.js';
import { NotReady } from './errors.js';
import type { HostShell, HostShells } from './host-shell.js';
import { ensureService } from './service.js';
import { runStep } from './step.js';
import type { StepReport } from './types.js';

export const ETCD_HEALTHCHECK_CLIENT = 'etcd-healthcheck-client';

/** The certificates and keys the running etcd has loaded: a change means a restart. */
async function tlsInputsDigest(sh: HostShell, paths: string[]): Promise<string> {
  const { stdout } = await sh.exec(`sha256sum ${paths.map(q).join(' ')}`);
  return createHash('sha256').update(stdout).digest('hex');
}

export function etcdMemberActivity(shells: HostShells) {
  return (plan: ClusterPlan, member: string): Promise<StepReport> =>
    runStep(member, async (ctx) => {
      const sh = shells.shell(plan, member);
      ctx.changed.push(...(await installRelease(plan, sh, etcdRelease(plan.versions.etcd), ETCD_BIN_DIR, ctx.progress)));

      const d = q(ETCD_DATA_DIR);
      const mk = await sh.exec(`[ -d ${d} ] && [ "$(stat -c %a ${d})" = 700 ] || { mkdir -p ${d} && chmod 0700 ${d} && echo changed; }`);
      if (mk.stdout.trim()) ctx.changed.push(`${ETCD_DATA_DIR} (0700)`);

      const server = placementOn(plan, `etcd-server-${member}`, member);
      const peer = placementOn(plan, `etcd-peer-${member}`, member);
      const tls = [server.certPath, server.keyPath, peer.certPath, peer.keyPath, server.caPath];
      const result = await ensureService(sh, {
        name: 'etcd',
        unitPath: ETCD_UNIT_PATH,
        unit: renderEtcdUnit(plan, member),
        inputsDigest: await tlsInputsDigest(sh, tls),
        binariesChanged: ctx.changed.some((c) => c.startsWith(ETCD_BIN_DIR)),
      });
      ctx.changed.push(...result.changed);

      // The member must answer on its own address; health of the whole quorum is the next step's.
      const m = plan.etcd.members.find((x) => x.name === member)!;
      const { code, stdout } = await sh.exec(
        `curl -sS --max-time 5 --cacert ${q(server.caPath)} --cert ${q(server.certPath)} --key ${q(server.keyPath)} ${q(`${m.clientUrl}/version`)}`,
        { allowExitCodes: [0, 7, 28, 35, 52, 56] },
      );
      if (code !== 0 || !stdout.includes('etcdserver')) {
        throw new NotReady(`etcd on ${member} does not answer on ${m.clientUrl} yet`);
      }
    });
}

export interface EndpointHealth {
  endpoint: string;
  health: boolean;
  error?: string;
}

export function etcdQuorumActivity(shells: HostShells) {
  return (plan: ClusterPlan): Promise<StepReport> => {
    const first = plan.etcd.members[0]!.name;
    return runStep(first, async (ctx) => {
      const sh = shells.shell(plan, first);
      const client = placementOn(plan, ETCD_HEALTHCHECK_CLIENT, first);
      const endpoints = plan.etcd.members.map((m) => m.clientUrl).join(',');
      const flags = `--endpoints ${q(endpoints)} --cacert ${q(client.caPath)} --cert ${q(client.certPath)} --key ${q(client.keyPath)}`;
      const health = await sh.exec(`ETCDCTL_API=3 ${ETCD_BIN_DIR}/etcdctl ${flags} endpoint health -w json`, {
        allowExitCodes: [0, 1],
        timeoutMs: 30_000,
      });
      const parsed = parseEndpointHealth(health.stdout);
      const sick = plan.etcd.members.filter((m) => !parsed.find((p) => p.endpoint === m.clientUrl)?.health);
      if (sick.length) {
        throw new NotReady(
          `etcd members not healthy yet: ${sick.map((m) => m.name).join(', ')} ${health.stderr.trim().split('\n').slice(-2).join(' ')}`,
        );
      }
      const members = await sh.exec(`ETCDCTL_API=3 ${ETCD_BIN_DIR}/etcdctl ${flags} member list -w json`, { timeoutMs: 30_000 });
      const names = (JSON.parse(members.stdout).members as { name: string }[]).map((x) => x.name).sort();
      const want = plan.etcd.members.map((m) => m.name).sort();
      if (names.join(',') !== want.join(',')) {
        throw new NotReady(`etcd member list is ${names.join(', ')}; the plan has ${want.join(', ')}`);
      }
      ctx.notes.push(`quorum healthy: ${want.join(', ')}`);
    });
  };
}

/** `etcdctl endpoint health -w json` prints a JSON array (3.4+). */
export function parseEndpointHealth(out: string): EndpointHealth[] {
  const start = out.indexOf('[');
  if (start < 0) return [];
  try {
    return (JSON.parse(out.slice(start)) as EndpointHealth[]).map((e) => ({ endpoint: e.endpoint, health: !!e.health, error: e.error }));
  } catch {
    return [];
  }
}
