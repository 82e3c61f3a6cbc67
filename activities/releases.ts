// Where each component's release lives upstream, what to download for an architecture, how its checksum is
// published, and where its files go on a host. Pure: activities/binaries.ts installs from these.
//
// The mirror layout is the upstream one below <mirror>/<component>/<version>/ (scripts/build/README.md), so one
// descriptor serves every source.

/** One file to download, relative to the release's base URL, with the checksum file that covers it. */
import {
  CNI_BIN_DIR,
  CNI_PLUGINS,
  CONTAINERD_BIN_DIR,
  CONTAINERD_BINARIES,
  ETCD_BIN_DIR,
  ETCD_BINARIES,
  FLANNEL_BIN_DIR,
  FLANNEL_BINARY,
  FLANNEL_CNI_PLUGIN_PATH,
  KUBERNETES_BIN_DIR,
  RUNC_PATH,
  type KubernetesBinary,
} from '../model/paths.js';

export interface ReleaseDownload {
  path: string;
  /** A checksum file below the base URL: "<hex>" alone, or "<hex>  <name>" lines (sha256sum's format). */
  sums: string;
  /** A .tar.gz/.tgz to unpack in the download directory. */
  unpack: boolean;
}

/** One file put on the host. */
export interface ReleaseInstall {
  /** Its name in a local directory (<directory>/<component>/<version>/<name>). */
  name: string;
  /** Its path in the download directory, after unpacking. */
  from: string;
  /** Where it goes on the host (mode 0755, root). */
  to: string;
}

export interface Release {
  component: string; // "etcd": the mirror's and the local directory's first level
  version: string; // "v3.6.16"
  officialBase: string; // URL of the release's directory upstream
  downloads(arch: string): ReleaseDownload[];
  installs(arch: string): ReleaseInstall[];
  /** The stamp under /var/lib/hardway/releases/ that records what is installed (unique per install set). */
  stamp: string;
  /** Report the install as this one change instead of one per file (a directory of many plugins). */
  changedAs?: string;
}

export const goArch = (unameArch: string): string => (unameArch === 'aarch64' ? 'arm64' : 'amd64');

export { CNI_BIN_DIR, CONTAINERD_BIN_DIR, ETCD_BIN_DIR, KUBERNETES_BIN_DIR, RUNC_PATH };
export { CNI_PLUGINS, CONTAINERD_BINARIES, KUBERNETES_BINARIES, type KubernetesBinary } from '../model/paths.js';

export function etcdRelease(version: string, binDir = ETCD_BIN_DIR): Release {
  const dir = (arch: string) => `etcd-${version}-linux-${arch}`;
  return {
    component: 'etcd',
    version,
    officialBase: `https://github.com/etcd-io/etcd/releases/download/${version}`,
    downloads: (arch) => [{ path: `${dir(arch)}.tar.gz`, sums: 'SHA256SUMS', unpack: true }],
    installs: (arch) => ETCD_BINARIES.map((b) => ({ name: b, from: `${dir(arch)}/${b}`, to: `${binDir}/${b}` })),
    stamp: 'etcd',
  };
}

/** Some of the Kubernetes binaries (dl.k8s.io has each on its own, with a "<binary>.sha256" of its digest alone). */
export function kubernetesRelease(version: string, binaries: readonly KubernetesBinary[], binDir = KUBERNETES_BIN_DIR): Release {
  const sorted = [...binaries].sort();
  return {
    component: 'kubernetes',
    version,
    officialBase: `https://dl.k8s.io/release/${version}`,
    downloads: (arch) => sorted.map((b) => ({ path: `bin/linux/${arch}/${b}`, sums: `bin/linux/${arch}/${b}.sha256`, unpack: false })),
    installs: () => sorted.map((b) => ({ name: b, from: b, to: `${binDir}/${b}` })),
    stamp: `kubernetes-${sorted.join('+')}`,
  };
}

export function containerdRelease(version: string): Release {
  const archive = (arch: string) => `containerd-${version.replace(/^v/, '')}-linux-${arch}.tar.gz`;
  return {
    component: 'containerd',
    version,
    officialBase: `https://github.com/containerd/containerd/releases/download/${version}`,
    downloads: (arch) => [{ path: archive(arch), sums: `${archive(arch)}.sha256sum`, unpack: true }],
    installs: () => CONTAINERD_BINARIES.map((b) => ({ name: b, from: `bin/${b}`, to: `${CONTAINERD_BIN_DIR}/${b}` })),
    stamp: 'containerd',
  };
}

export function runcRelease(version: string): Release {
  return {
    component: 'runc',
    version,
    officialBase: `https://github.com/opencontainers/runc/releases/download/${version}`,
    downloads: (arch) => [{ path: `runc.${arch}`, sums: 'runc.sha256sum', unpack: false }],
    installs: (arch) => [{ name: 'runc', from: `runc.${arch}`, to: RUNC_PATH }],
    stamp: 'runc',
  };
}

export function cniPluginsRelease(version: string): Release {
  const archive = (arch: string) => `cni-plugins-linux-${arch}-${version}.tgz`;
  return {
    component: 'cni-plugins',
    version,
    officialBase: `https://github.com/containernetworking/plugins/releases/download/${version}`,
    downloads: (arch) => [{ path: archive(arch), sums: `${archive(arch)}.sha256`, unpack: true }],
    installs: () => CNI_PLUGINS.map((p) => ({ name: p, from: p, to: `${CNI_BIN_DIR}/${p}` })),
    stamp: 'cni-plugins',
    changedAs: `${CNI_BIN_DIR} (CNI plugins ${version}: ${CNI_PLUGINS.join(', ')})`,
  };
}

/** flanneld, the pod network's agent (a host service: it programs the host's routes, VXLAN device and iptables). */
export function flannelRelease(version: string): Release {
  const archive = (arch: string) => `flannel-${version}-linux-${arch}.tar.gz`;
  return {
    component: 'flannel',
    version,
    officialBase: `https://github.com/flannel-io/flannel/releases/download/${version}`,
    downloads: (arch) => [{ path: archive(arch), sums: `${archive(arch)}.sha256`, unpack: true }],
    installs: () => [{ name: FLANNEL_BINARY, from: FLANNEL_BINARY, to: `${FLANNEL_BIN_DIR}/${FLANNEL_BINARY}` }],
    stamp: 'flannel',
  };
}

/** flannel's CNI plugin ("flannel-<arch>" in the archive), installed as /opt/cni/bin/flannel beside the standard ones. */
export function flannelCniPluginRelease(version: string): Release {
  const archive = (arch: string) => `cni-plugin-flannel-linux-${arch}-${version}.tgz`;
  return {
    component: 'flannel-cni-plugin',
    version,
    officialBase: `https://github.com/flannel-io/cni-plugin/releases/download/${version}`,
    downloads: (arch) => [{ path: archive(arch), sums: `${archive(arch)}.sha256`, unpack: true }],
    installs: (arch) => [{ name: 'flannel', from: `flannel-${arch}`, to: FLANNEL_CNI_PLUGIN_PATH }],
    stamp: 'flannel-cni-plugin',
  };
}

/**
 * The awk program that prints the digest a checksum file gives for `file`: the only field of a one-field file
 * (dl.k8s.io's "<binary>.sha256"), else the first field of the line whose name (without "*" or "./", or its
 * last path segment) is `file`. Prints nothing when the file is not listed.
 */
export const CHECKSUM_AWK =
  'NR==1 && NF==1 { print $1; exit } { n=$2; sub(/^\\*/, "", n); sub(/^\\.\\//, "", n); b=n; sub(/.*\\//, "", b); if (n==f || b==f) { print $1; exit } }';
