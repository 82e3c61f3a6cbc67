// Objects hardway keeps in the cluster, applied with server-side apply (field manager "hardway"): RBAC, each node's
// Node object, CoreDNS. Pure: plain objects, rendered as one v1 List per step.

export const FIELD_MANAGER = 'hardway';
export const CONTROL_PLANE_TAINT = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' } as const;
export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';

type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

export const asList = (items: KubeObject[]): string => `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2)}\n`;

const managed = { 'app.kubernetes.io/managed-by': 'hardway' };

/**
 * The admin certificate's group gets cluster-admin (kubeadm's kubeadm:cluster-admins since 1.29: RBAC can take it
 * back, system:masters cannot be taken back), and the API server's kubelet client gets system:kubelet-api-admin
 * (logs, exec, port-forward through the kubelets).
 */
export function rbacObjects(i: { adminGroup: string; kubeletClientUser: string; flannelUser?: string }): KubeObject[] {
  const binding = (name: string, role: string, subject: { kind: 'Group' | 'User'; name: string }): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: managed },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', ...subject }],
  });
  return [
    binding('hardway:cluster-admins', 'cluster-admin', { kind: 'Group', name: i.adminGroup }),
    binding('hardway:apiserver-kubelet-client', 'system:kubelet-api-admin', { kind: 'User', name: i.kubeletClientUser }),
    // flanneld (a host service with its own certificate): what upstream's kube-flannel ServiceAccount may do.
    ...(i.flannelUser
      ? [
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRole',
            metadata: { name: 'hardway:flannel', labels: managed },
            rules: [
              { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
              { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
            ],
          },
          binding('hardway:flannel', 'hardway:flannel', { kind: 'User', name: i.flannelUser }),
        ]
      : []),
  ];
}

/** A node as hardway registers it: the plan's pod range, and for a control plane its role label and NoSchedule taint. */
export function nodeObject(n: { name: string; podCidr: string; controlPlane: boolean }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { ...managed, ...(n.controlPlane ? { [CONTROL_PLANE_LABEL]: '' } : {}) } },
    spec: {
      podCIDR: n.podCidr,
      podCIDRs: [n.podCidr],
      ...(n.controlPlane ? { taints: [{ ...CONTROL_PLANE_TAINT }] } : {}),
    },
  };
}

export interface CoreDnsInput {
  image: string;
  clusterDns: string;
  clusterDomain: string;
  replicas: number;
  /** The nodes have resolvers in /etc/resolv.conf: names outside the cluster are forwarded there. */
  forward: boolean;
}

export function corefile(i: Pick<CoreDnsInput, 'clusterDomain' | 'forward'>): string {
  return [
    '.:53 {',
    '    errors',
    '    health {',
    '        lameduck 5s',
    '    }',
    '    ready',
    `    kubernetes ${i.clusterDomain} in-addr.arpa ip6.arpa {`,
    '        pods insecure',
    '        fallthrough in-addr.arpa ip6.arpa',
    '        ttl 30',
    '    }',
    '    prometheus :9153',
    ...(i.forward ? ['    forward . /etc/resolv.conf {', '        max_concurrent 1000', '    }'] : []),
    '    cache 30',
    '    loop',
    '    reload',
    '    loadbalance',
    '}',
    '',
  ].join('\n');
}

/** CoreDNS as kubeadm deploys it: its RBAC, the Corefile, a Deployment spread over nodes, and the kube-dns Service. */
export function coreDnsObjects(i: CoreDnsInput): KubeObject[] {
  const ns = 'kube-system';
  const labels = { 'k8s-app': 'kube-dns' };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: ns, labels: managed } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns', labels: managed },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns', labels: managed },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: ns }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: ns, labels: managed },
      data: { Corefile: corefile(i) },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: ns, labels: { ...labels, ...managed } },
      spec: {
        replicas: i.replicas,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns',
            priorityClassName: 'system-cluster-critical',
            // The node's resolvers, not the cluster DNS (CoreDNS is the cluster DNS).
            dnsPolicy: 'Default',
            tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }],
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 100,
                    podAffinityTerm: { labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' },
                  },
                ],
              },
            },
            containers: [
              {
                name: 'coredns',
                image: i.image,
                imagePullPolicy: 'IfNotPresent',
                args: ['-conf', '/etc/coredns/Corefile'],
                resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
                volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
                ports: [
                  { containerPort: 53, name: 'dns', protocol: 'UDP' },
                  { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
                  { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
                ],
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
                  readOnlyRootFilesystem: true,
                },
                livenessProbe: {
                  httpGet: { path: '/health', port: 8080, scheme: 'HTTP' },
                  initialDelaySeconds: 60,
                  timeoutSeconds: 5,
                  failureThreshold: 5,
                },
                // Ready as soon as its caches are synced (every 2 s rather than 10: a bring-up waits on it).
                readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' }, periodSeconds: 2 },
              },
            ],
            volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: ns, labels: { ...labels, 'kubernetes.io/name': 'CoreDNS', ...managed } },
      spec: {
        selector: labels,
        clusterIP: i.clusterDns,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          { name: 'metrics', port: 9153, protocol: 'TCP' },
        ],
      },
    },
  ];
}
