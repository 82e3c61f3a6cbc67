// /etc/hosts: a block managed by hardway listing every cluster host; every other line stays as it was. Pure.
import type { ClusterPlan } from '../model/types.js';

const begin = (cluster: string) => `# BEGIN hardway cluster ${cluster} (managed: edits inside this block are replaced)`;
const end = (cluster: string) => `# END hardway cluster ${cluster}`;

export function renderHostsBlock(plan: ClusterPlan): string {
  const width = Math.max(...plan.hosts.map((h) => h.address.length));
  const lines = plan.hosts.map((h) => `${h.address.padEnd(width)}  ${h.name}`);
  return [begin(plan.name), ...lines, end(plan.name)].join('\n');
}

/** Replaces the cluster's block in `current` (or appends it), leaving every other line untouched. */
export function mergeHostsFile(current: string, plan: ClusterPlan): string {
  const block = renderHostsBlock(plan);
  const lines = current.split('\n');
  const from = lines.indexOf(begin(plan.name));
  const to = lines.indexOf(end(plan.name));
  if (from >= 0 && to > from) {
    return [...lines.slice(0, from), block, ...lines.slice(to + 1)].join('\n');
  }
  const base = current.length === 0 || current.endsWith('\n') ? current : `${current}\n`;
  return `${base}${block}\n`;
}
