// A few words on what an accepted spec changed, for the cluster's change log. Pure.
import type { ClusterSpec } from '../model/types.js';

export function summarizeChange(previous: ClusterSpec | undefined, next: ClusterSpec): string {
  if (!previous) return `first spec: ${next.hosts.length} hosts`;
  const before = new Map(previous.hosts.map((h) => [h.name, h]));
  const after = new Map(next.hosts.map((h) => [h.name, h]));
  const parts: string[] = [];
  const added = next.hosts.filter((h) => !before.has(h.name)).map((h) => `${h.name} (${h.roles.join(',')})`);
  const removed = previous.hosts.filter((h) => !after.has(h.name)).map((h) => h.name);
  const changed = next.hosts
    .filter((h) => before.has(h.name) && JSON.stringify(before.get(h.name)) !== JSON.stringify(h))
    .map((h) => h.name);
  if (added.length) parts.push(`added ${added.join(', ')}`);
  if (removed.length) parts.push(`removed ${removed.join(', ')}`);
  if (changed.length) parts.push(`changed ${changed.join(', ')}`);
  const { hosts: _a, ...restBefore } = previous;
  const { hosts: _b, ...restAfter } = next;
  for (const key of Object.keys({ ...restBefore, ...restAfter }) as (keyof typeof restAfter)[]) {
    if (JSON.stringify(restBefore[key]) !== JSON.stringify(restAfter[key])) parts.push(`changed ${key}`);
  }
  return parts.length ? parts.join('; ') : 'no change to the spec (re-converge)';
}
