// etcd: one member per etcd host (binaries, data directory, TLS unit), then a quorum check through TLS.
import { createHash } from 'node:crypto';
import { ETCD_BIN_DIR, ETCD_DATA_DIR, ETCD_UNIT_PATH, renderEtcdUnit } from '../render/etcd.js';
import { shellQuote as q } from '../remote/exec.js';
import { etcdRelease, installRelease } from './binaries.js';
import { ConfigurationError, NotReady } from './errors.js';
import { ConnectionFailed } from '../model/errors.js';
import type { HostShell, HostShells } from './host-shell.js';
import { ensureService } from './service.js';
import { runStep } from './step.js';
import type { CertificatePlacement } from '../model/types.js';
import type { EtcdMemberInput, EtcdQuorumInput, StepReport } from './types.js';

/**
 * What the running etcd loaded at start and does not reread: the trusted CA file. A change means a restart. Its own
 * server and peer certificates and keys are not in it: etcd reads them again on every TLS handshake, so a renewed
 * certificate needs no restart.
 */
async function tlsInputsDigest(sh: HostShell, paths: string[]): Promise<string> {
  const { stdout } = await sh.exec(`sha256sum ${paths.map(q).join(' ')}`, { reads: paths });
  return createHash('sha256').update(stdout).digest('hex');
}

export function etcdMemberActivity(shells: HostShells) {
  return (input: EtcdMemberInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const { member, tls } = input;
      if (member.name !== input.target.name) {
        throw new ConfigurationError(`the etcd member input for ${member.name} targets ${input.target.name}`);
      }
      const unit = renderEtcdUnit(input); // before touching the host: an inconsistent input fails here
      const sh = shells.shell(input.target);
      const release = etcdRelease(input.version, ETCD_BIN_DIR);
      const installed = await installRelease(input.binaries, sh, release, ctx);

      const d = q(ETCD_DATA_DIR);
      const dir = await sh.exec(`[ -d ${d} ] && [ "$(stat -c %a ${d})" = 700 ]`, { allowExitCodes: [0, 1] });
      if (dir.code !== 0) {
        await sh.change(`mkdir -p ${d} && chmod 0700 ${d}`);
        ctx.changed(`${ETCD_DATA_DIR} (0700)`);
      }

      const tlsFiles = [...new Set([tls.server.caPath, tls.peer.caPath])];
      const { client } = input;
      if (client.host !== member.name) {
        throw new ConfigurationError(`the etcd health-check client certificate for ${member.name} is placed on ${client.host}`);
      }
      const { deferred } = await ensureService(
        sh,
        {
          name: 'etcd',
          unitPath: ETCD_UNIT_PATH,
          unit,
          inputsDigest: await tlsInputsDigest(sh, tlsFiles),
          binaries: installed,
          // Never take a member down unless the others hold the quorum without it.
          beforeRestart: () => othersHoldQuorum(sh, input),
          deferRestart: !!input.deferRestarts,
        },
        ctx,
      );

      // The member must answer on its own address, to the health-check client; the quorum is the next step's.
      const { code, stdout } = await sh.exec(
        `curl -sS --max-time 5 --cacert ${q(client.caPath)} --cert ${q(client.certPath)} --key ${q(client.keyPath)} ${q(`${member.clientUrl}/version`)}`,
        { allowExitCodes: [0, 7, 28, 35, 52, 56] },
      );
      if (code !== 0 || !stdout.includes('etcdserver')) {
        throw new NotReady(`etcd on ${member.name} does not answer on ${member.clientUrl} yet`);
      }
      return deferred ? { restartDeferred: true } : undefined;
    });
}

export interface EndpointHealth {
  endpoint: string;
  health: boolean;
  error?: string;
}

/** Members that make a quorum: more than half. */
export const quorumOf = (members: number): number => Math.floor(members / 2) + 1;

/** `etcdctl` against `endpoints` with a client certificate on the host `sh` reaches. */
function etcdctl(sh: HostShell, endpoints: { clientUrl: string }[], client: CertificatePlacement) {
  const flags =
    `--endpoints ${q(endpoints.map((m) => m.clientUrl).join(','))} ` +
    `--cacert ${q(client.caPath)} --cert ${q(client.certPath)} --key ${q(client.keyPath)}`;
  const run = (what: string, opts: { allowExitCodes?: number[] } = {}) =>
    sh.exec(`ETCDCTL_API=3 ${ETCD_BIN_DIR}/etcdctl ${flags} ${what} -w json`, { ...opts, timeoutMs: 30_000 });
  return {
    /** Which of `endpoints` answer healthy, and etcdctl's last words about the others. */
    async health<M extends { clientUrl: string }>(members: M[]): Promise<{ healthy: M[]; sick: M[]; stderr: string }> {
      const r = await run('endpoint health', { allowExitCodes: [0, 1] });
      const parsed = parseEndpointHealth(r.stdout);
      const ok = (m: M) => !!parsed.find((p) => p.endpoint === m.clientUrl)?.health;
      return { healthy: members.filter(ok), sick: members.filter((m) => !ok(m)), stderr: r.stderr };
    },
    async memberNames(): Promise<string[]> {
      return (JSON.parse((await run('member list')).stdout).members as { name: string }[]).map((x) => x.name);
    },
  };
}

/** Refuses (NotReady, retried) a restart of input.member while the other members do not hold a quorum on their own. */
async function othersHoldQuorum(sh: HostShell, input: EtcdMemberInput): Promise<void> {
  const others = input.members.filter((m) => m.name !== input.member.name);
  if (others.length === 0) return; // a single member: nothing to protect
  const { healthy } = await etcdctl(sh, others, input.client).health(others);
  const need = quorumOf(input.members.length);
  if (healthy.length < need) {
    throw new NotReady(
      `etcd on ${input.member.name} needs a restart, but without it only ${healthy.length} of ${input.members.length} members ` +
        `would be healthy (${healthy.map((m) => m.name).join(', ') || 'none'}; a quorum is ${need}): waiting for the others`,
    );
  }
}

export function etcdQuorumActivity(shells: HostShells) {
  return (input: EtcdQuorumInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const { members } = input;
      const askers = [{ target: input.target, client: input.client }, ...input.others];
      for (const a of askers) {
        if (a.client.host !== a.target.name) {
          throw new ConfigurationError(`the etcd health-check client certificate for ${a.target.name} is placed on ${a.client.host}`);
        }
      }
      // Ask from the first member that can be reached: the quorum's health does not depend on any one host.
      let unreachable: string[] = [];
      for (const a of askers) {
        const ctl = etcdctl(shells.shell(a.target), members, a.client);
        let health;
        try {
          health = await ctl.health(members);
        } catch (e) {
          if (!(e instanceof ConnectionFailed)) throw e;
          unreachable = [...unreachable, `${a.target.name} (${e.message})`];
          continue;
        }
        const { sick } = health;
        const healthy = health.healthy.length;
        if (healthy < quorumOf(members.length)) {
          throw new NotReady(
            `etcd has no quorum yet: ${healthy} of ${members.length} members healthy (not: ${sick.map((m) => m.name).join(', ')}) ` +
              health.stderr.trim().split('\n').slice(-2).join(' '),
          );
        }
        const names = (await ctl.memberNames()).sort();
        const want = members.map((m) => m.name).sort();
        if (names.join(',') !== want.join(',')) {
          throw new NotReady(`etcd member list is ${names.join(', ')}; the plan has ${want.join(', ')}`);
        }
        if (sick.length) {
          ctx.notes.push(`warning: quorum holds with ${healthy} of ${members.length}; not healthy: ${sick.map((m) => m.name).join(', ')}`);
        } else ctx.notes.push(`quorum healthy: ${want.join(', ')}`);
        if (unreachable.length) ctx.notes.push(`asked from ${a.target.name}; could not reach ${unreachable.join('; ')}`);
        return;
      }
      throw new NotReady(`no etcd member could be reached to check the quorum: ${unreachable.join('; ')}`);
    });
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
