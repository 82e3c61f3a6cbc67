// What hardway puts on a host, from the plan: the catalogue that `hardway reset` (every host back to its state before
// hardway, as `kubeadm reset`) and `remove-worker` (the removed node cleaned) take away again, host by host, with the
// reset/host activity (activities/reset.ts). Pure: the cluster workflow builds each host's footprint and hands it to
// that activity, which only looks at what is there and removes it; it knows nothing of roles or of the plan.
//
// Where each entry comes from (keep it so when an activity starts writing something new):
//   pki/authority, pki/certificates  every file the plan places on the host (plan.files: certificates, keys, CA
//                                    certificates, kubeconfigs, the encryption config); the CAs in CA_DIR on the CA host
//   etcd/member, etcd/join           etcd, etcdctl; /var/lib/etcd; etcd.service; /etc/etcd (its pki, bootstrap.env)
//   loadbalancer/haproxy             haproxy.cfg (the OS package's file, replaced whole, kept as .before-hardway); the
//                                    service of the package
//   runtime/containerd               kernel files (modules-load.d, sysctl.d); runc, CNI plugins, containerd's binaries;
//                                    /etc/cni/net.d, /etc/containerd/{config.toml,certs.d}; containerd.service; and
//                                    what containerd makes: /var/lib/containerd, /run/containerd, /opt/containerd
//   runtime/images                   images in containerd (under /var/lib/containerd); /var/tmp/hardway-images
//   controlplane/*                   kube-apiserver, -controller-manager, -scheduler, kubectl; their units; /etc/kubernetes
//                                    (kubeconfigs, pki, encryption config); /var/log/kubernetes (audit log)
//   workers/kubelet                  kubelet, kube-proxy, flannel's CNI plugin; 10-flannel.conflist (other network
//                                    configurations renamed aside to *.hardway-disabled); /var/lib/kubelet,
//                                    /var/lib/kube-proxy; their units; and what the kubelet and the CNI plugins make:
//                                    /etc/kubernetes/manifests, /var/log/pods, /var/log/containers, /var/lib/cni,
//                                    /run/netns/cni-*, the cni0 bridge, mounts of pod volumes, KUBE-* and CNI-* chains
//   addons/flannel                   flanneld; /etc/kube-flannel; flanneld.service; /run/flannel; flannel.1; FLANNEL-*
//   admin/kubectl                    kubectl; /etc/kubernetes/admin.kubeconfig and its pki; ~root/.kube/config (an
//                                    earlier one kept as .before-hardway)
//   hosts/hosts-file                 the cluster's managed block in /etc/hosts (lines outside it are the host's)
//   every service and release        /var/lib/hardway/{services,releases}; /var/tmp/hardway-<component>-<version>
import {
  ADMIN_BINARIES,
  ADMIN_USER_KUBECONFIG,
  CA_DIR,
  CNI_BIN_DIR,
  CNI_BRIDGE_DEVICE,
  CNI_CONF_DIR,
  CNI_DISABLED_SUFFIX,
  CNI_PLUGINS,
  CNI_STATE_DIR,
  CONTAINER_LOGS_DIR,
  CONTAINERD_BIN_DIR,
  CONTAINERD_BINARIES,
  CONTAINERD_CERTS_DIR,
  CONTAINERD_CONFIG_PATH,
  CONTAINERD_OPT_DIR,
  CONTAINERD_ROOT_DIR,
  CONTAINERD_SOCKET,
  CONTAINERD_STATE_DIR,
  CONTAINERD_UNIT_PATH,
  CONTROL_PLANE_BINARIES,
  ETCD_BIN_DIR,
  ETCD_BINARIES,
  ETCD_BOOTSTRAP_PATH,
  ETCD_CONFIG_DIR,
  ETCD_DATA_DIR,
  ETCD_UNIT_PATH,
  FLANNEL_BIN_DIR,
  FLANNEL_BINARY,
  FLANNEL_CNI_CONFIG_PATH,
  FLANNEL_CNI_PLUGIN_PATH,
  FLANNEL_DIR,
  FLANNEL_NET_CONFIG_PATH,
  FLANNEL_RUN_DIR,
  FLANNEL_SUBNET_FILE,
  FLANNEL_UNIT_PATH,
  FLANNEL_VXLAN_DEVICE,
  HAPROXY_CONFIG_PATH,
  HARDWAY_STATE_DIR,
  HARDWAY_TEMP_PREFIX,
  HOSTS_FILE,
  KUBE_APISERVER_UNIT_PATH,
  KUBE_CONTROLLER_MANAGER_UNIT_PATH,
  KUBE_PROXY_CONFIG_PATH,
  KUBE_PROXY_DIR,
  KUBE_PROXY_UNIT_PATH,
  KUBE_SCHEDULER_UNIT_PATH,
  KUBELET_CONFIG_PATH,
  KUBELET_DIR,
  KUBELET_UNIT_PATH,
  KUBERNETES_BIN_DIR,
  KUBERNETES_DIR,
  KUBERNETES_LOG_DIR,
  KUBERNETES_PKI_DIR,
  MODULES_LOAD_PATH,
  NETNS_DIR,
  NEW_FILE_SUFFIX,
  NODE_BINARIES,
  POD_LOGS_DIR,
  RELEASE_STAMP_DIR,
  RUNC_PATH,
  SERVICE_STAMP_DIR,
  STATIC_POD_PATH,
  SYSCTL_PATH,
  BEFORE_HARDWAY_SUFFIX,
  haproxyConfigHeader,
  kubeconfigHeader,
} from './paths.js';
import { PlanError } from './plan.js';
import { runsKubelet } from './roles.js';
import type { ClusterPlan, Role } from './types.js';

/** A systemd service hardway runs on the host. */
export interface FootprintService {
  /** The unit's name, without ".service". */
  name: string;
  /** The unit file hardway wrote. Absent: the unit is the OS package's (haproxy), and stays. */
  unitPath?: string;
  /**
   * A package's service that runs on a config hardway wrote (one of `markedFiles`): stopped and disabled only while that
   * file is still hardway's, or gone. Replaced by someone else's, the service is theirs now.
   */
  config?: string;
}

/** A file hardway writes whole in a place another owner may have used before: removed only while it is still hardway's. */
export interface MarkedFile {
  path: string;
  /** The beginning of its first line when hardway wrote it. */
  header: string;
}

/** Something of hardway's a reset leaves, and why: for the report's notes. */
export interface KeptThing {
  what: string;
  why: string;
  /** The files it is: said when one of them is there. Without: said when the reset found anything of hardway's. */
  paths?: string[];
}

/**
 * Everything hardway creates on one host: what reset/host takes away, in this order. Plain JSON (it travels in the
 * activity's input), public data only. Every entry is looked at first; what is not there is no change.
 */
export interface HostFootprint {
  host: string;
  roles: Role[];
  /** Stopped and disabled in this order: the kubelet first (so that it restarts no pod), etcd last. */
  services: FootprintService[];
  /** Where containerd's tasks and containers are killed and deleted, in every namespace (nodes only). */
  containers?: { ctr: string; socket: string };
  /**
   * Every mount whose mount point begins with one of these (and is not the directory itself) is unmounted, deepest
   * first: pod volumes, container root file systems, the pods' network namespaces (only containerd's cni-* ones).
   */
  mountPrefixes: string[];
  /** Network devices deleted when present. */
  interfaces: string[];
  /** iptables and ip6tables chains whose names begin so are removed, with every rule that jumps to them. */
  iptablesChainPrefixes: string[];
  /** The executables hardway installed. */
  binaries: string[];
  /** The files hardway wrote: the plan's certificates, keys and kubeconfigs on the host, and the configs. */
  files: string[];
  /** Beside each of `binaries`, `files` and `markedFiles`, what an interrupted write may have left: `<path><suffix>`. */
  leftoverSuffix: string;
  markedFiles: MarkedFile[];
  /** Beside each of `markedFiles`, the copy of the file that was there before hardway first replaced it. */
  earlierCopySuffix: string;
  /** Shell patterns whose every match is removed (hardway's download directories, the pods' netns files). */
  patterns: string[];
  /** Directories that are hardway's, or its services', removed with everything in them. */
  directories: string[];
  /** Directories hardway may have made where others put files too: removed only when empty, in this order. */
  emptyDirectories: string[];
  /** Files hardway renamed aside (`<name><suffix>` in `dir`): renamed back unless a file has that name again. */
  renamedAside: { dir: string; suffix: string }[];
  /** The cluster's managed block of the hosts file: taken out, every other line stays (see render/hosts-file.ts). */
  hostsBlock: { path: string; cluster: string };
  /** What stays, for the report. */
  kept: KeptThing[];
}

/** The order services are stopped in: node agents before containerd, the API's clients before the API, etcd last. */
const SERVICE_ORDER: readonly FootprintService[] = [
  { name: 'kubelet', unitPath: KUBELET_UNIT_PATH },
  { name: 'kube-proxy', unitPath: KUBE_PROXY_UNIT_PATH },
  { name: 'flanneld', unitPath: FLANNEL_UNIT_PATH },
  { name: 'containerd', unitPath: CONTAINERD_UNIT_PATH },
  { name: 'kube-scheduler', unitPath: KUBE_SCHEDULER_UNIT_PATH },
  { name: 'kube-controller-manager', unitPath: KUBE_CONTROLLER_MANAGER_UNIT_PATH },
  { name: 'kube-apiserver', unitPath: KUBE_APISERVER_UNIT_PATH },
  { name: 'haproxy', config: HAPROXY_CONFIG_PATH },
  { name: 'etcd', unitPath: ETCD_UNIT_PATH },
];

const NODE_SERVICES = ['kubelet', 'kube-proxy', 'flanneld', 'containerd'];
const CONTROL_PLANE_SERVICES = ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver'];

const parentOf = (path: string): string => path.replace(/\/[^/]+$/, '') || '/';
const under = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);
const depth = (path: string): number => path.split('/').length;
const uniq = (xs: readonly string[]): string[] => [...new Set(xs)];

/**
 * Everything hardway creates on `host` given its roles and the plan. `includeCa`: the CA host's CA certificates and
 * keys go too (`reset --include-ca`); otherwise they are kept, and so is their directory. Throws PlanError for a host
 * the plan does not have.
 */
export function hostFootprint(plan: ClusterPlan, host: string, opts: { includeCa: boolean }): HostFootprint {
  const h = plan.hosts.find((x) => x.name === host);
  if (!h) throw new PlanError(`host ${host} is not in the plan of cluster ${plan.name}`);
  const has = (r: Role) => h.roles.includes(r);
  const node = runsKubelet(h.roles);
  const cp = has('controlplane');
  const kept: KeptThing[] = [];

  const services = SERVICE_ORDER.filter(
    (s) =>
      (node && NODE_SERVICES.includes(s.name)) ||
      (cp && CONTROL_PLANE_SERVICES.includes(s.name)) ||
      (has('loadbalancer') && s.name === 'haproxy') ||
      (has('etcd') && s.name === 'etcd'),
  ).map((s) => ({ ...s }));

  const binaries: string[] = [];
  if (has('etcd')) binaries.push(...ETCD_BINARIES.map((b) => `${ETCD_BIN_DIR}/${b}`));
  if (cp) binaries.push(...CONTROL_PLANE_BINARIES.map((b) => `${KUBERNETES_BIN_DIR}/${b}`));
  if (node) {
    binaries.push(
      ...NODE_BINARIES.map((b) => `${KUBERNETES_BIN_DIR}/${b}`),
      RUNC_PATH,
      ...CNI_PLUGINS.map((p) => `${CNI_BIN_DIR}/${p}`),
      FLANNEL_CNI_PLUGIN_PATH,
      ...CONTAINERD_BINARIES.map((b) => `${CONTAINERD_BIN_DIR}/${b}`),
      `${FLANNEL_BIN_DIR}/${FLANNEL_BINARY}`,
    );
  }
  if (has('admin')) binaries.push(...ADMIN_BINARIES.map((b) => `${KUBERNETES_BIN_DIR}/${b}`));

  // Every file the plan places here; the CAs' own files only when the CA goes too.
  const placed = plan.files.filter((f) => f.host === host).map((f) => f.path);
  const caFiles = placed.filter((p) => under(p, CA_DIR));
  const files = placed.filter((p) => opts.includeCa || !under(p, CA_DIR));
  if (caFiles.length && !opts.includeCa) {
    kept.push({
      what: `the cluster’s certificate authorities: ${caFiles.join(', ')}`,
      why: '`hardway reset --include-ca` removes them; kept, a new bring-up issues certificates from the same CAs',
      paths: caFiles,
    });
  }
  if (has('etcd')) files.push(ETCD_BOOTSTRAP_PATH);
  if (node) {
    files.push(
      MODULES_LOAD_PATH,
      SYSCTL_PATH,
      CONTAINERD_CONFIG_PATH,
      FLANNEL_CNI_CONFIG_PATH,
      KUBELET_CONFIG_PATH,
      KUBE_PROXY_CONFIG_PATH,
      FLANNEL_NET_CONFIG_PATH,
      FLANNEL_SUBNET_FILE,
    );
    kept.push(
      { what: 'the kernel modules overlay and br_netfilter', why: 'loaded until the next boot (other software may use them)' },
      {
        what: 'the live kernel settings net.ipv4.ip_forward and net.bridge.bridge-nf-call-ip(6)tables',
        why: 'as hardway set them until the next boot: their files in /etc/sysctl.d are gone, so a boot brings back the defaults',
      },
    );
  }
  const markedFiles: MarkedFile[] = [];
  if (has('loadbalancer')) {
    markedFiles.push({ path: HAPROXY_CONFIG_PATH, header: haproxyConfigHeader(plan.name) });
    kept.push({
      what: 'the haproxy package (and its systemd unit)',
      why:
        'it may have been there before hardway: stopped and disabled only. Its config was the package’s file, which hardway ' +
        'replaced whole: removed while it is still hardway’s, not restored (apt-get install --reinstall -o ' +
        'Dpkg::Options::=--force-confmiss haproxy brings back the package’s default)',
    });
  }
  if (has('admin')) markedFiles.push({ path: ADMIN_USER_KUBECONFIG, header: kubeconfigHeader(plan.name) });

  const directories = [RELEASE_STAMP_DIR, SERVICE_STAMP_DIR];
  if (opts.includeCa && has('ca')) directories.push(CA_DIR);
  if (has('etcd')) directories.push(ETCD_CONFIG_DIR, ETCD_DATA_DIR);
  if (cp) directories.push(KUBERNETES_DIR, KUBERNETES_LOG_DIR);
  if (node) {
    directories.push(
      STATIC_POD_PATH,
      KUBELET_DIR,
      KUBE_PROXY_DIR,
      FLANNEL_DIR,
      FLANNEL_RUN_DIR,
      POD_LOGS_DIR,
      CONTAINER_LOGS_DIR,
      CNI_STATE_DIR,
      CONTAINERD_ROOT_DIR,
      CONTAINERD_STATE_DIR,
      CONTAINERD_OPT_DIR,
    );
  }
  // A directory inside another one that goes whole needs no entry of its own.
  const whole = uniq(directories).filter((d, _i, all) => !all.some((o) => o !== d && under(d, o)));

  const maybeEmpty: string[] = [HARDWAY_STATE_DIR];
  if (node) maybeEmpty.push(CONTAINERD_CERTS_DIR, parentOf(CONTAINERD_CONFIG_PATH), CNI_CONF_DIR, parentOf(CNI_CONF_DIR));
  if (node) maybeEmpty.push(CNI_BIN_DIR, parentOf(CNI_BIN_DIR));
  // A node's /etc/kubernetes holds only its static pod directory; the admin host's, the admin kubeconfig and its pki.
  if (has('admin')) maybeEmpty.push(KUBERNETES_PKI_DIR, parentOf(ADMIN_USER_KUBECONFIG));
  if (node || has('admin')) maybeEmpty.push(KUBERNETES_DIR);
  const emptyDirectories = uniq(maybeEmpty)
    .filter((d) => !whole.some((w) => under(d, w)))
    .sort((a, b) => depth(b) - depth(a));

  kept.push({
    what: `the lines of ${HOSTS_FILE} outside hardway’s block`,
    why: 'they are the host’s; a line hardway had disabled comes back, a name it had taken off a line that kept others does not',
  });

  return {
    host,
    roles: [...h.roles],
    services,
    ...(node ? { containers: { ctr: `${CONTAINERD_BIN_DIR}/ctr`, socket: CONTAINERD_SOCKET } } : {}),
    mountPrefixes: node ? [`${KUBELET_DIR}/`, `${CONTAINERD_STATE_DIR}/`, `${CONTAINERD_ROOT_DIR}/`, `${NETNS_DIR}/cni-`] : [],
    interfaces: node ? [CNI_BRIDGE_DEVICE, FLANNEL_VXLAN_DEVICE] : [],
    iptablesChainPrefixes: node ? ['KUBE-', 'FLANNEL-', 'CNI-'] : [],
    binaries: uniq(binaries),
    files: uniq(files),
    leftoverSuffix: NEW_FILE_SUFFIX,
    markedFiles,
    earlierCopySuffix: BEFORE_HARDWAY_SUFFIX,
    patterns: [`${HARDWAY_TEMP_PREFIX}*`, ...(node ? [`${NETNS_DIR}/cni-*`] : [])],
    directories: whole,
    emptyDirectories,
    renamedAside: node ? [{ dir: CNI_CONF_DIR, suffix: CNI_DISABLED_SUFFIX }] : [],
    hostsBlock: { path: HOSTS_FILE, cluster: plan.name },
    kept,
  };
}
