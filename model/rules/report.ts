// Building blocks of the cross-field rules: a Problem at a field path, and how hosts are named in messages.
import type { CrossFieldRuleId } from '../rule-ids.js';
import type { Problem } from '../types.js';
import type { LooseHost } from '../loose-view.js';
import { formatPath, type PathSegment } from '../field-path.js';
import { quote } from '../excerpt.js';

export function error(segs: readonly PathSegment[], code: CrossFieldRuleId, message: string, fix: string): Problem {
  return { severity: 'error', path: formatPath(segs), message, fix, code };
}

export function warning(segs: readonly PathSegment[], code: CrossFieldRuleId, message: string, fix: string): Problem {
  return { severity: 'warning', path: formatPath(segs), message, fix, code };
}

/** host "cp-1", or hosts[5] when the name cannot be read. */
export function hostLabel(h: LooseHost): string {
  return h.name !== undefined ? `host ${quote(h.name)}` : `hosts[${h.index}]`;
}

/** "etcd-1, etcd-2" */
export function hostList(hosts: readonly LooseHost[]): string {
  return hosts.map((h) => (h.name !== undefined ? quote(h.name).slice(1, -1) : `hosts[${h.index}]`)).join(', ');
}
