// Changes to the spec of a running cluster that the engine cannot converge safely yet. Pure; no yaml.
//
// Call it for a cluster that a converge has already finished: `current` is the spec it converged, `next`
// the one to apply, `established` the hosts that converge set up. Adding workers and control planes is
// fine; a host that is not established may change or go (its pod range stays reserved in the plan). An
// established worker goes only through `removeWorker`, an etcd member only through `replaceEtcdMember`
// (`allow.removing`): a file that dropped one is refused with the command to run. New etcd hosts join the running
// members; a set-up host cannot gain or lose the etcd role (membership lives in the members' data).
import type { ClusterSpec, HostSpec, Problem, Role } from './types.js';
import type { SpecChangeRuleId } from './rule-ids.js';
import { formatPath, type PathSegment } from './field-path.js';

const NETWORK_FIELDS = ['infrastructure', 'pods', 'nodeMask', 'services', 'clusterDns'] as const;
const NOT_YET = 'is not supported yet on a running cluster';
const ETCD_REPLACE = (cluster: string, name: string) =>
  `to replace a member (e.g. its host is lost): hardway replace-etcd-member ${cluster} ${name} --name NEW --address ADDRESS`;

function refuse(segs: readonly PathSegment[], code: SpecChangeRuleId, message: string, fix: string): Problem {
  return { severity: 'error', path: formatPath(segs), message, fix, code };
}

const roleList = (roles: readonly Role[]) => `[${roles.join(', ')}]`;
const isEtcd = (h: HostSpec) => h.roles.includes('etcd');
const sameRoles = (a: readonly Role[], b: readonly Role[]) => new Set(a).size === new Set(b).size && a.every((r) => b.includes(r));
const asWas = (h: HostSpec, index: number) =>
  `put hosts[${index}] back as it was (name: ${h.name}, address: ${h.address}, roles: ${roleList(h.roles)})`;

/** What a request allows beyond `apply`: `removing` names the hosts a `removeWorker` request takes out. */
export interface ChangeAllowance {
  removing?: readonly string[];
}

export function refusedChanges(
  current: ClusterSpec,
  next: ClusterSpec,
  established: readonly string[],
  allow: ChangeAllowance = {},
): Problem[] {
  return [...clusterChanges(current, next), ...hostChanges(current, next, new Set(established), new Set(allow.removing ?? []))];
}

const onlyWorker = (h: HostSpec) => h.roles.length === 1 && h.roles[0] === 'worker';

function clusterChanges(current: ClusterSpec, next: ClusterSpec): Problem[] {
  const out: Problem[] = [];
  if (current.name !== next.name) {
    out.push(
      refuse(
        ['name'],
        'cluster-name-changed',
        `the cluster name changed from "${current.name}" to "${next.name}": renaming a cluster ${NOT_YET}`,
        `put name: ${current.name} back`,
      ),
    );
  }
  for (const field of NETWORK_FIELDS) {
    const was = current.networks[field];
    const now = next.networks[field];
    if (was === now) continue;
    out.push(
      refuse(
        ['networks', field],
        'networks-changed',
        `networks.${field} changed from ${was ?? '(not set)'} to ${now ?? '(not set)'}: changing the networks ${NOT_YET} (addresses, pod ranges and certificates are built on them)`,
        was === undefined ? `remove networks.${field} again` : `put networks.${field}: ${was} back`,
      ),
    );
  }
  return out;
}

function hostChanges(current: ClusterSpec, next: ClusterSpec, established: ReadonlySet<string>, removing: ReadonlySet<string>): Problem[] {
  const out: Problem[] = [];
  const before = new Map(current.hosts.map((h, i) => [h.name, { host: h, index: i }]));
  const after = new Set(next.hosts.map((h) => h.name));

  next.hosts.forEach((h, i) => {
    const was = before.get(h.name);
    // A new etcd host joins the running members (as a learner, then promoted): allowed.
    if (!was) return;
    const rolesBack = `put hosts[${i}].roles back to ${roleList(was.host.roles)}`;
    if (isEtcd(was.host) !== isEtcd(h)) {
      const change = isEtcd(h)
        ? 'would join etcd: giving a set-up host the etcd role'
        : 'would leave etcd: taking the etcd role from a host';
      out.push(
        refuse(
          ['hosts', i, 'roles'],
          'etcd-members-changed',
          `host "${h.name}" ${change} ${NOT_YET}`,
          `${rolesBack}; add etcd members as new hosts${isEtcd(h) ? '' : `; ${ETCD_REPLACE(current.name, h.name)}`}`,
        ),
      );
    } else if (established.has(h.name) && !sameRoles(was.host.roles, h.roles)) {
      out.push(
        refuse(
          ['hosts', i, 'roles'],
          'established-host-roles-changed',
          `the roles of host "${h.name}" changed from ${roleList(was.host.roles)} to ${roleList(h.roles)}: changing what a set-up host runs ${NOT_YET}`,
          `${rolesBack}; to repurpose it, add a new host instead${onlyWorker(was.host) ? ` (or take it out first: hardway remove-worker ${current.name} ${h.name})` : ''}`,
        ),
      );
    }
    if (established.has(h.name) && was.host.address !== h.address) {
      out.push(
        refuse(
          ['hosts', i, 'address'],
          'established-host-address-changed',
          `the address of host "${h.name}" changed from ${was.host.address} to ${h.address}: moving a set-up host ${NOT_YET} (its certificates, /etc/hosts entries and peers name the old address)`,
          `put hosts[${i}].address back to ${was.host.address}` +
            (onlyWorker(was.host)
              ? `; to move the worker, take it out (hardway remove-worker ${current.name} ${h.name}), then add it with its new address (hardway add-worker)`
              : ''),
        ),
      );
    }
  });

  current.hosts.forEach((h, i) => {
    if (after.has(h.name) || removing.has(h.name)) return;
    if (isEtcd(h)) {
      out.push(
        refuse(
          ['hosts'],
          'etcd-members-changed',
          `etcd member "${h.name}" (hosts[${i}] before) was dropped from the file: \`up\` does not remove etcd members`,
          `${asWas(h, i)}; ${ETCD_REPLACE(current.name, h.name)}`,
        ),
      );
    } else if (established.has(h.name) && onlyWorker(h)) {
      out.push(
        refuse(
          ['hosts'],
          'established-host-removed',
          `worker "${h.name}" (hosts[${i}] before) was dropped from the file: \`up\` does not remove nodes`,
          `run: hardway remove-worker ${current.name} ${h.name} (drains it, deletes its Node and cleans the host); or ${asWas(h, i)}`,
        ),
      );
    } else if (established.has(h.name)) {
      out.push(
        refuse(
          ['hosts'],
          'established-host-removed',
          `host "${h.name}" (hosts[${i}] before, ${roleList(h.roles)}) was removed: removing a set-up ${h.roles.join('/')} host ${NOT_YET}`,
          `${asWas(h, i)}; only workers can be removed (hardway remove-worker), or the whole cluster reset (hardway reset ${current.name})`,
        ),
      );
    }
  });
  return out;
}
