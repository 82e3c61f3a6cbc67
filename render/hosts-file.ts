// /etc/hosts: a block managed by hardway listing every cluster host. Lines outside the block stay as they were,
// except that a cluster host's name is taken off any other line that maps it elsewhere (Debian's
// "127.0.1.1 <hostname>" would otherwise make a host resolve its own name to loopback, and etcd or the kubelet
// advertise that). A line left with no name is commented out, saying why. Pure.

/** What the block needs (a HostsFileInput is one): every cluster host, in cluster-file order. */
export interface HostsBlockInput {
  cluster: string;
  hosts: { name: string; address: string }[];
}

const begin = (cluster: string) => `# BEGIN hardway cluster ${cluster} (managed: edits inside this block are replaced)`;
const end = (cluster: string) => `# END hardway cluster ${cluster}`;
const DISABLED = '# hardway: conflicts with the cluster block:';

export function renderHostsBlock(input: HostsBlockInput): string {
  const width = Math.max(...input.hosts.map((h) => h.address.length));
  const lines = input.hosts.map((h) => `${h.address.padEnd(width)}  ${h.name}`);
  return [begin(input.cluster), ...lines, end(input.cluster)].join('\n');
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
export function mergeHostsFile(current: string, input: HostsBlockInput): string {
  const planned = new Map(input.hosts.map((h) => [h.name, h.address]));
  const lines = current.split('\n');
  const from = lines.indexOf(begin(input.cluster));
  const to = lines.indexOf(end(input.cluster));
  const hasBlock = from >= 0 && to > from;
  const before = (hasBlock ? lines.slice(0, from) : lines).map((l) => withoutConflicts(l, planned));
  const after = hasBlock ? lines.slice(to + 1).map((l) => withoutConflicts(l, planned)) : [];
  if (hasBlock) return [...before, renderHostsBlock(input), ...after].join('\n');
  const base = before.join('\n');
  const sep = base.length === 0 || base.endsWith('\n') ? '' : '\n';
  return `${base}${sep}${renderHostsBlock(input)}\n`;
}

/**
 * `current` without the cluster's block (the block and its begin and end lines), and with every line hardway had
 * disabled for conflicting with it brought back as it was. A name hardway took off a line that kept other names is not
 * brought back: the line does not say which. Unchanged (the same string) when there is neither.
 */
export function removeHostsBlock(current: string, cluster: string): string {
  const lines = current.split('\n');
  const from = lines.indexOf(begin(cluster));
  const to = lines.indexOf(end(cluster));
  const kept = from >= 0 && to > from ? [...lines.slice(0, from), ...lines.slice(to + 1)] : lines;
  const restored = kept.map((l) => (l.startsWith(`${DISABLED} `) ? l.slice(DISABLED.length + 1) : l));
  const out = restored.join('\n');
  return out === current ? current : out;
}
