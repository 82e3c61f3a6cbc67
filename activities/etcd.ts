// etcd: one member per etcd host (binaries, data directory, TLS unit), then a quorum check through TLS.
import { createHash } from 'node:crypto';
import {
  ETCD_BIN_DIR,
  ETCD_BOOTSTRAP_PATH,
  ETCD_DATA_DIR,
  ETCD_UNIT_PATH,
  renderEtcdBootstrap,
  renderEtcdUnit,
  type EtcdBootstrapInput,
} from '../render/etcd.js';
import { shellQuote as q } from '../remote/exec.js';
import { etcdRelease, installRelease } from './binaries.js';
import { ConfigurationError, NotReady } from './errors.js';
import { CommandFailed, ConnectionFailed } from '../model/errors.js';
import type { HostShell, HostShells } from './host-shell.js';
import { ensureService } from './service.js';
import { waitUntil } from './kubectl.js';
import { runStep } from './step.js';
import type { CertificatePlacement } from '../model/types.js';
import type { StepContext } from './step.js';
import type { EtcdJoinInput, EtcdLeaveInput, EtcdMemberInput, EtcdQuorumInput, HostTarget, StepReport } from './types.js';

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
      // A member of a new cluster bootstraps it with the others; a member that joined later has its data already.
      const deferred = await setUpMember(shells, input, ctx, { initialCluster: input.initialCluster, state: 'new' });
      return deferred ? { restartDeferred: true } : undefined;
    });
}

/** Whether etcd on `sh` has data of a membership (then it ignores the ETCD_INITIAL_* settings). */
async function hasMemberData(sh: HostShell): Promise<boolean> {
  return (await sh.exec(`[ -d ${q(`${ETCD_DATA_DIR}/member`)} ]`, { allowExitCodes: [0, 1] })).code === 0;
}

/**
 * The member's binaries, data directory, bootstrap settings (only while it has no data), unit and service, then a
 * check that it answers on its own address. Returns whether a needed restart was deferred (input.deferRestarts).
 */
async function setUpMember(
  shells: HostShells,
  input: EtcdMemberInput,
  ctx: StepContext,
  bootstrap: Pick<EtcdBootstrapInput, 'initialCluster' | 'state'>,
): Promise<boolean> {
  const { member, tls } = input;
  if (member.name !== input.target.name) {
    throw new ConfigurationError(`the etcd member input for ${member.name} targets ${input.target.name}`);
  }
  const unit = renderEtcdUnit(input); // before touching the host: an inconsistent input fails here
  const bootstrapEnv = renderEtcdBootstrap({ cluster: input.cluster, member, ...bootstrap });
  const sh = shells.shell(input.target);
  const release = etcdRelease(input.version, ETCD_BIN_DIR);
  const installed = await installRelease(input.binaries, sh, release, ctx);

  const d = q(ETCD_DATA_DIR);
  const dir = await sh.exec(`[ -d ${d} ] && [ "$(stat -c %a ${d})" = 700 ]`, { allowExitCodes: [0, 1] });
  if (dir.code !== 0) {
    await sh.change(`mkdir -p ${d} && chmod 0700 ${d}`);
    ctx.changed(`${ETCD_DATA_DIR} (0700)`);
  }
  // How it first joins: read by etcd only while it has no data, so written only then (never a restart of a member
  // that runs: a change of membership does not touch it).
  if (!(await hasMemberData(sh))) {
    const r = await sh.putFile(ETCD_BOOTSTRAP_PATH, bootstrapEnv, { mode: '0644', owner: 'root', group: 'root' });
    if (r.changed) ctx.changed(`${ETCD_BOOTSTRAP_PATH} (initial cluster ${bootstrap.state})`);
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
  return deferred;
}

/** A member as `etcdctl member list` sees it. Unstarted (added, never joined) members have no name yet. */
export interface ListedMember {
  /** Hex, as `member remove` and `member promote` take it. */
  id: string;
  name: string;
  peerUrls: string[];
  isLearner: boolean;
}

/** `etcdctl member list -w json`: its uint64 ids are read as text (a JSON number would lose digits). */
export function parseMemberList(out: string): ListedMember[] {
  const start = out.indexOf('{');
  if (start < 0) throw new NotReady(`etcdctl member list printed no JSON: ${out.slice(0, 200)}`);
  const safe = out.slice(start).replace(/"(ID|member_id|cluster_id)":(\d+)/g, '"$1":"$2"');
  const parsed = JSON.parse(safe) as { members?: { ID: string; name?: string; peerURLs?: string[]; isLearner?: boolean }[] };
  return (parsed.members ?? []).map((m) => ({
    id: BigInt(m.ID).toString(16),
    name: m.name ?? '',
    peerUrls: m.peerURLs ?? [],
    isLearner: !!m.isLearner,
  }));
}

/** The first of `askers` that answers `member list` (a member of the running cluster), with its etcdctl. */
async function runningMember(
  shells: HostShells,
  askers: { target: HostTarget; client: CertificatePlacement; clientUrl: string }[],
): Promise<{ ctl: ReturnType<typeof etcdctl>; members: ListedMember[]; asked: string }> {
  const failures: string[] = [];
  for (const a of askers) {
    if (a.client.host !== a.target.name) {
      throw new ConfigurationError(`the etcd health-check client certificate for ${a.target.name} is placed on ${a.client.host}`);
    }
    const ctl = etcdctl(shells.shell(a.target), [{ clientUrl: a.clientUrl }], a.client);
    try {
      return { ctl, members: await ctl.members(), asked: a.target.name };
    } catch (e) {
      if (!(e instanceof ConnectionFailed) && !(e instanceof CommandFailed) && !(e instanceof NotReady)) throw e;
      failures.push(`${a.target.name}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new NotReady(`no running etcd member answered: ${failures.join('; ')}`);
}

/**
 * A member added to a running cluster: added as a learner through a running member (it gets the log without a
 * vote), set up and started with the initial cluster state "existing", then promoted to a voting member once it has
 * caught up. One at a time (etcd allows one learner). Each part looks first, so a retry continues where it stopped.
 */
export function etcdJoinActivity(shells: HostShells) {
  return (input: EtcdJoinInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const m = input.member;
      const { ctl, members, asked } = await runningMember(shells, input.via);
      let me = members.find((x) => x.peerUrls.includes(m.peerUrl));
      if (me && me.name && me.name !== m.name) {
        throw new ConfigurationError(`${m.peerUrl} belongs to etcd member ${me.name}, not ${m.name}: remove that member first`);
      }
      if (!me) {
        const joining = members.find((x) => x.isLearner || !x.name);
        if (joining) {
          throw new NotReady(`etcd member ${joining.name || joining.peerUrls.join(',')} is still joining: one member joins at a time`);
        }
        if (await hasMemberData(shells.shell(input.target))) {
          throw new ConfigurationError(
            `${m.name} holds etcd data of an earlier membership in ${ETCD_DATA_DIR}: it cannot join as a new member. ` +
              `Empty it on ${m.name} (it is not a member now), then retry`,
          );
        }
        await ctl.change(`member add ${q(m.name)} --peer-urls=${q(m.peerUrl)} --learner`, `add ${m.name} to etcd as a learner`);
        ctx.changed(`added ${m.name} to etcd as a learner (asked ${asked})`);
        me = (await ctl.members()).find((x) => x.peerUrls.includes(m.peerUrl));
        if (!me) throw new NotReady(`etcd does not list ${m.name} right after adding it`);
      }
      const others = members.filter((x) => x.name && x.id !== me!.id).map((x) => `${x.name}=${x.peerUrls[0]}`);
      const initialCluster = [...others, `${m.name}=${m.peerUrl}`].join(',');
      await setUpMember(shells, input, ctx, { initialCluster, state: 'existing' });
      if (me.isLearner) {
        const id = me.id;
        let last = '';
        await waitUntil(
          `${m.name} to catch up with the leader`,
          async () => {
            const r = await ctl.tryChange(`member promote ${id}`, `promote ${m.name} to a voting member`);
            last = r.detail;
            return r.ok ? true : /not found|not a learner/i.test(r.detail) ? true : undefined;
          },
          ctx,
          { timeoutMs: 120_000, everyMs: 2000, lastSeen: () => last },
        );
        ctx.changed(`promoted ${m.name} to a voting etcd member`);
      }
    });
}

/**
 * A member taken out (`replaceEtcdMember`): removed from the membership through a running member, so that the
 * others stop counting it for the quorum. Its host is cleaned by the next step (unless it is lost).
 */
export function etcdLeaveActivity(shells: HostShells) {
  return (input: EtcdLeaveInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const m = input.member;
      const { ctl, members, asked } = await runningMember(shells, input.via);
      const listed = members.find((x) => x.name === m.name || x.peerUrls.includes(m.peerUrl));
      if (!listed) {
        ctx.notes.push(`${m.name} is not an etcd member (already removed)`);
        return;
      }
      await ctl.change(`member remove ${listed.id}`, `remove ${m.name} from etcd`);
      ctx.changed(`removed ${m.name} from etcd (asked ${asked})`);
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
  const command = (what: string) => `ETCDCTL_API=3 ${ETCD_BIN_DIR}/etcdctl ${flags} ${what}`;
  const run = (what: string, opts: { allowExitCodes?: number[] } = {}) =>
    sh.exec(`${command(what)} -w json`, { ...opts, timeoutMs: 30_000 });
  const change = (what: string, summary: string) => sh.change(command(what), { timeoutMs: 30_000, summary });
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
    async members(): Promise<ListedMember[]> {
      return parseMemberList((await run('member list')).stdout);
    },
    /** A membership change (member add / remove / promote). */
    change,
    /** A membership change that etcd may refuse for now (a learner not yet in sync): its outcome, not an error. */
    async tryChange(what: string, summary: string): Promise<{ ok: boolean; detail: string }> {
      try {
        await change(what, summary);
        return { ok: true, detail: '' };
      } catch (e) {
        if (!(e instanceof CommandFailed)) throw e;
        return { ok: false, detail: (e as Error).message.split('\n').slice(-2).join(' ') };
      }
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
