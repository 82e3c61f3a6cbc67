// Rules on roles: every host has some, none twice; exactly one CA; an odd etcd count; one API front end
// that does not share port 6443 with an API server; at least one control plane and worker; one admin at most.
import type { Problem, Role } from '../types.js';
import type { LooseHost, LooseSpec } from '../loose-view.js';
import { error, hostLabel, hostList, warning } from './report.js';
import { API_SERVER_SECURE_PORT } from '../defaults.js';

/** The port kube-apiserver listens on, on every control plane. */
export const APISERVER_PORT = API_SERVER_SECURE_PORT;

function perHost(h: LooseHost): Problem[] {
  const out: Problem[] = [];
  if (h.rolesIsArray && h.rolesLength === 0) {
    out.push(
      error(
        ['hosts', h.index, 'roles'],
        'empty-roles',
        `${hostLabel(h)} has no roles`,
        'give it at least one role: ca, etcd, loadbalancer, controlplane, worker or admin — or remove the host',
      ),
    );
  }
  const seen = new Set<Role>();
  for (const { role, index } of h.roleIndexes) {
    if (seen.has(role))
      out.push(
        error(
          ['hosts', h.index, 'roles', index],
          'duplicate-role',
          `${hostLabel(h)} lists the role "${role}" more than once`,
          `remove the second "${role}"`,
        ),
      );
    seen.add(role);
  }
  return out;
}

export function roleProblems(l: LooseSpec): Problem[] {
  const out = l.hosts.flatMap(perHost);
  if (l.hosts.length === 0) return out;
  const err = (...a: Parameters<typeof error>) => out.push(error(...a));
  const withRole = (r: Role) => l.hosts.filter((h) => h.roles.includes(r));
  // When some host's roles could not be read, "no host has role X" may be a consequence of that
  // (already reported); report only the rules that more roles could not fix.
  const rolesKnown = !l.hosts.some((h) => h.rolesUnreadable);

  const cas = withRole('ca');
  if (cas.length === 0) {
    if (rolesKnown)
      err(
        ['hosts'],
        'no-ca',
        'no host has the role "ca": exactly one certificate authority is required',
        'add the role ca to one host (it keeps the CA private key)',
      );
  } else if (cas.length > 1) {
    for (const h of cas.slice(1)) {
      err(
        ['hosts', h.index, 'roles'],
        'multiple-ca',
        `${cas.length} hosts have the role "ca" (${hostList(cas)}); exactly one certificate authority is allowed`,
        `remove the role ca from ${hostLabel(h)}`,
      );
    }
  }

  const etcd = withRole('etcd');
  if (etcd.length === 0) {
    if (rolesKnown)
      err(
        ['hosts'],
        'no-etcd',
        'no host has the role "etcd": the cluster needs an etcd cluster',
        'add the role etcd to 3 hosts (5 for large production clusters)',
      );
  } else if (etcd.length % 2 === 0) {
    if (rolesKnown) {
      err(
        ['hosts'],
        'etcd-even',
        `there are ${etcd.length} etcd members (${hostList(etcd)}): etcd needs an odd number, an even count adds no fault tolerance and can split the vote`,
        `use ${etcd.length - 1} or ${etcd.length + 1} etcd members`,
      );
    }
  } else if (etcd.length === 1 && rolesKnown) {
    out.push(
      warning(
        ['hosts', etcd[0]!.index, 'roles'],
        'etcd-single',
        `only one etcd member (${hostList(etcd)}): the cluster has no fault tolerance, losing that host loses the cluster state`,
        'use 3 etcd members (5 for large production clusters)',
      ),
    );
  }

  const lbs = withRole('loadbalancer');
  if (l.externalPresent) {
    for (const h of lbs) {
      err(
        ['hosts', h.index, 'roles'],
        'loadbalancer-conflict',
        `${hostLabel(h)} has the role "loadbalancer" but loadBalancer.external is set`,
        'either remove the role loadbalancer from this host, or remove loadBalancer.external',
      );
    }
  } else if (lbs.length === 0) {
    if (rolesKnown)
      err(
        ['hosts'],
        'no-loadbalancer',
        'no host has the role "loadbalancer" and no loadBalancer.external.address is set: the API servers need one front end',
        'add the role loadbalancer to one host, or set loadBalancer.external.address',
      );
  } else if (lbs.length > 1) {
    for (const h of lbs.slice(1)) {
      err(
        ['hosts', h.index, 'roles'],
        'multiple-loadbalancers',
        `${lbs.length} hosts have the role "loadbalancer" (${hostList(lbs)}); exactly one is allowed`,
        `remove the role loadbalancer from ${hostLabel(h)}, or use loadBalancer.external for an HA front end`,
      );
    }
  }
  if (l.lbPort === APISERVER_PORT && !l.externalPresent) {
    for (const h of lbs) {
      if (!h.roles.includes('controlplane')) continue;
      err(
        ['hosts', h.index, 'roles'],
        'port-conflict',
        `${hostLabel(h)} is both loadbalancer and controlplane: haproxy (loadBalancer.port ${l.lbPort}) and kube-apiserver (port ${APISERVER_PORT}) would both listen on port ${APISERVER_PORT}`,
        'set loadBalancer.port to another port such as 8443, or move the loadbalancer role to its own host',
      );
    }
  }

  if (rolesKnown && withRole('controlplane').length === 0) {
    err(
      ['hosts'],
      'no-controlplane',
      'no host has the role "controlplane"',
      'add the role controlplane to at least one host (two or more for high availability)',
    );
  }
  if (rolesKnown && withRole('worker').length === 0) {
    err(
      ['hosts'],
      'no-worker',
      'no host has the role "worker": pods would have nowhere to run',
      'add the role worker to at least one host',
    );
  }
  // The CA key is the cluster's: a host that also serves traffic or runs pods exposes it to everything that reaches them.
  for (const h of withRole('ca')) {
    const exposed = h.roles.filter((r) => r === 'worker' || r === 'loadbalancer' || r === 'controlplane');
    if (exposed.length === 0) continue;
    out.push(
      warning(
        ['hosts', h.index, 'roles'],
        'ca-shared',
        `${hostLabel(h)} holds the CA and is also ${exposed.join(' and ')}: the CA key then lives on a host that ${
          exposed.includes('worker') ? 'runs workloads' : 'serves the API'
        }, and whoever compromises it can sign any certificate of the cluster`,
        'give the role ca a host of its own (it needs little: 1 GiB, no open port but SSH)',
      ),
    );
  }
  const admins = withRole('admin');
  for (const h of admins.slice(1)) {
    err(
      ['hosts', h.index, 'roles'],
      'multiple-admins',
      `${admins.length} hosts have the role "admin" (${hostList(admins)}); at most one is allowed`,
      `remove the role admin from ${hostLabel(h)} (zero admin hosts is fine: use \`hardway kubeconfig\` on your workstation)`,
    );
  }
  return out;
}
