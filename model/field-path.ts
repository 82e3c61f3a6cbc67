// Field paths of the cluster file: ["hosts", 3, "address"] <-> "hosts[3].address".

export type PathSegment = string | number;

/** "hosts[3].address" from ["hosts", 3, "address"]. */
export function formatPath(segs: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? String(s) : `.${String(s)}`;
  }
  return out;
}

/**
 * ["hosts", 3, "address"] from "hosts[3].address". A map key that holds "." or "[" (only possible under
 * ssh.fingerprints) splits into more segments; locating it then stops at the closest existing ancestor.
 */
export function parsePath(path: string): PathSegment[] {
  const segs: PathSegment[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) segs.push(Number(m[2]));
    else if (m[1] !== undefined) segs.push(m[1]);
  }
  return segs;
}

/** "hosts[].roles" from ["hosts", 3, "roles"]: the path with list indexes left out. */
export function genericPath(segs: readonly PropertyKey[]): string {
  return formatPath(segs.map((s) => (typeof s === 'number' ? -1 : s))).replace(/\[-1\]/g, '[]');
}
