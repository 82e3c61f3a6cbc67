// Specs recorded by an earlier release: a cluster workflow's history and its carried state hold the ClusterSpec as
// that release wrote it, without the fields added since. They gain those fields here, with the defaults the
// earlier release used implicitly, so that the spec checks and plans as it did then. Pure.
import { DEFAULTS } from './defaults.js';
import type { ClusterSpec } from './types.js';

/**
 * The spec with every field added after 0.2 (versions.containerd/runc/cniPlugins/flannel/flannelCniPlugin, images,
 * apiServer, pki) filled when absent. A spec without `pki` comes from a release that made RSA keys: it keeps them.
 */
export function withLaterFields(spec: ClusterSpec): ClusterSpec {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return spec;
  const s = spec as Partial<ClusterSpec>;
  const versions = s.versions;
  const needVersions =
    versions !== null &&
    typeof versions === 'object' &&
    (versions.containerd === undefined ||
      versions.runc === undefined ||
      versions.cniPlugins === undefined ||
      versions.flannel === undefined ||
      versions.flannelCniPlugin === undefined);
  if (!needVersions && s.images !== undefined && s.apiServer !== undefined && s.pki !== undefined) return spec;
  const out = { ...spec };
  if (needVersions) {
    out.versions = {
      ...versions,
      containerd: versions.containerd ?? DEFAULTS.versions.containerd,
      runc: versions.runc ?? DEFAULTS.versions.runc,
      cniPlugins: versions.cniPlugins ?? DEFAULTS.versions.cniPlugins,
      flannel: versions.flannel ?? DEFAULTS.versions.flannel,
      flannelCniPlugin: versions.flannelCniPlugin ?? DEFAULTS.versions.flannelCniPlugin,
    };
  }
  if (s.images === undefined) out.images = { ...DEFAULTS.images, extra: [] };
  if (s.apiServer === undefined) out.apiServer = { extraSANs: [] };
  if (s.pki === undefined) out.pki = { keyAlgorithm: 'RSA-2048' };
  return out;
}
