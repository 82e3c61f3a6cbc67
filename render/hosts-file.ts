// /etc/hosts: a block managed by hardway listing every cluster host. Lines outside the block stay as they were,
// except that a cluster host's name is taken off any other line that maps it elsewhere (Debian's
// "127.0.1.1 <hostname>" would otherwise make a host resolve its own name to loopback, and etcd or the kubelet
// advertise that). A line left with no name is commented out, saying why. Pure.
import type { ClusterPlan } from '../model/types.js';

const begin = (cluster: string) => `# BEGIN hardway cluster ${cluster} (managed: edits inside this block are replaced)`;
const end = (cluster: string) => `# END hardway cluster ${cluster}`;
const DISABLED = '# hardway: conflicts with the cluster block:';

export function renderHostsBlock(plan: ClusterPlan): string {
  const width = Math.max(...plan.hosts.map((h) => h.address.length));
  const lines = plan.hosts.map((h) => `${h.address.padEnd(width)}  ${h.name}`);
  return [begin(plan.name), ...lines, end(plan.name)].join('\n');
}

/** A line outside the block, with cluster names that point elsewhere removed. */
function withoutConflicts(line: string, planned: Map<string, string>): string {
  const [content = '', ...comment] = line.split('#');
  const fields = content.trim().split(/\s+/).filter(Boolean);
  if (fields.length < 2) return line;
  const [address, ...names] = fields as [string, ...string[]];
  const kept = names.filter((n) => planned.get(n) === undefined || planned.get(n) === address);
  if (kept.length === names.length) return line;
  if (kept.length === 0) return `${DISABLED} ${line}`;
  return `${address}\t${kept.join(' ')}${comment.length ? ` #${comment.join('#')}` : ''}`;
}

/** Replaces the cluster's block in `current` (or appends it) and resolves conflicts with it. */
export function mergeHostsFile(current: string, plan: ClusterPlan): string {
  const planned = new Map(plan.hosts.map((h) => [h.name, h.address]));
  const lines = current.split('\n');
  const from = lines.indexOf(begin(plan.name));
  const to = lines.indexOf(end(plan.name));
  const hasBlock = from >= 0 && to > from;
  const before = (hasBlock ? lines.slice(0, from) : lines).map((l) => withoutConflicts(l, planned));
  const after = hasBlock ? lines.slice(to + 1).map((l) => withoutConflicts(l, planned)) : [];
  if (hasBlock) return [...before, renderHostsBlock(plan), ...after].join('\n');
  const base = before.join('\n');
  const sep = base.length === 0 || base.endsWith('\n') ? '' : '\n';
  return `${base}${sep}${renderHostsBlock(plan)}\n`;
}
