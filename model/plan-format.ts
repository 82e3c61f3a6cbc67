// Human-readable rendering of a ClusterPlan (for `hardway plan`). Pure; tables padded by hand.
import type { ClusterPlan, Problem } from './types.js';

/**
 * Render rows as a table with padded columns and a dashed rule under the header. A cell may hold several
 * lines ("\n"): the row then spans as many lines.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cellLines = (c: string | undefined) => (c ?? '').split('\n');
  const widths = header.map((h, i) => Math.max(h.length, ...rows.flatMap((r) => cellLines(r[i]).map((l) => l.length))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rowLines = (row: readonly string[]): string[] => {
    const split = header.map((_, i) => cellLines(row[i]));
    const height = Math.max(...split.map((s) => s.length));
    return Array.from({ length: height }, (_, k) => line(split.map((s) => s[k] ?? '')));
  };
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.flatMap(rowLines)].join('\n');
}

/** Join items with ", ", breaking into lines of at most `width` characters (items are never split). */
export function wrapList(items: readonly string[], width: number, sep = ','): string {
  const lines: string[] = [];
  let cur = '';
  for (const it of items) {
    const next = cur === '' ? it : `${cur}${sep}${it}`;
    if (cur !== '' && next.length > width) {
      lines.push(cur + sep);
      cur = it;
    } else cur = next;
  }
  if (cur !== '') lines.push(cur);
  return lines.join('\n');
}

function section(title: string, body: string): string {
  return `${title}\n${body}`;
}

function formatWarning(p: Problem): string {
  return `  warning: ${p.path ? `${p.path}: ` : ''}${p.message}${p.fix ? ` — fix: ${p.fix}` : ''}`;
}

export function formatPlan(plan: ClusterPlan): string {
  const out: string[] = [];
  const v = plan.versions;
  out.push(`Cluster ${plan.name}: Kubernetes ${v.kubernetes}, etcd ${v.etcd}, binaries from ${binariesText(plan)}`);
  out.push(
    `Container runtime: containerd ${v.containerd}, runc ${v.runc}, CNI plugins ${v.cniPlugins}; images ${imagesText(plan)}: ` +
      [plan.images.sandbox, plan.images.coredns, ...plan.images.extra].join(', '),
  );

  out.push(
    section(
      'Hosts',
      formatTable(
        ['NAME', 'ADDRESS', 'ROLES', 'SSH', 'POD CIDR'],
        plan.hosts.map((h) => [h.name, h.address, h.roles.join(','), `${h.ssh.user}@${h.address}:${h.ssh.port}`, h.podCidr ?? '-']),
      ),
    ),
  );

  const n = plan.networks;
  out.push(
    section(
      'Networks',
      formatTable(
        ['NETWORK', 'RANGE', 'NOTES'],
        [
          ['infrastructure', n.infrastructure ?? '(not given)', 'host addresses'],
          ['pods', n.pods, `one /${n.nodeMask} per node running a kubelet`],
          ['services', n.services, `kubernetes service ${n.kubernetesService}, cluster DNS ${n.clusterDns}`],
        ],
      ),
    ),
  );

  const current = new Set(plan.hosts.map((h) => h.name));
  out.push(
    section(
      'Pod ranges',
      formatTable(
        ['NODE', 'POD CIDR', 'STATUS'],
        Object.entries(plan.podAllocations).map(([node, cidr]) => [node, cidr, current.has(node) ? 'in use' : 'reserved (node removed)']),
      ),
    ),
  );

  const api = plan.apiServer;
  out.push(
    section(
      'API server',
      [`  endpoint       ${api.url}`, `  control planes ${api.controlPlanes.map((c) => `${c.name} (${c.address})`).join(', ')}`].join('\n'),
    ),
  );

  out.push(
    section(
      'etcd',
      formatTable(
        ['MEMBER', 'CLIENT URL', 'PEER URL'],
        plan.etcd.members.map((m) => [m.name, m.clientUrl, m.peerUrl]),
      ) + `\ninitial cluster: ${plan.etcd.initialCluster}`,
    ),
  );

  out.push(
    section(
      `Certificates (CA on ${plan.ca.host}: ${plan.ca.certPath}; its key never leaves that host)`,
      formatTable(
        ['ID', 'CN', 'O', 'SANS', 'HOSTS'],
        plan.certificates.map((c) => [
          c.id,
          c.commonName,
          c.organization ?? '-',
          wrapList([...c.dnsNames, ...c.ipAddresses], 60) || '-',
          wrapList(
            c.placements.map((p) => p.host),
            40,
          ) || '-',
        ]),
      ),
    ),
  );

  const perHost = plan.hosts.map((h) => {
    const files = plan.files.filter((f) => f.host === h.name);
    return `  ${h.name}: ${files.length} files`;
  });
  out.push(section('Files', perHost.join('\n')));

  if (plan.warnings.length > 0) out.push(section('Warnings', plan.warnings.map(formatWarning).join('\n')));
  return out.join('\n\n') + '\n';
}

function imagesText(plan: ClusterPlan): string {
  switch (plan.images.source) {
    case 'mirror':
      return `side-loaded from ${plan.images.mirror ?? '?'}`;
    case 'local':
      return `side-loaded from the local directory ${plan.images.directory ?? '?'}`;
    default:
      return 'pulled from their registries';
  }
}

function binariesText(plan: ClusterPlan): string {
  switch (plan.binaries.source) {
    case 'mirror':
      return `mirror ${plan.binaries.mirror ?? '?'}`;
    case 'local':
      return `local directory ${plan.binaries.directory ?? '?'}`;
    default:
      return 'official release downloads';
  }
}
