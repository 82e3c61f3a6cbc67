// Renderers: /etc/hosts block merge, etcd unit, haproxy.cfg. Pure, from the fragments of plans of the seed and of
// other ranges (the fragments are built here by hand, as the phases build them for the activities).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigurationError } from '../../model/errors.js';
import { parseClusterFile } from '../../model/validate.js';
import { plan } from '../../model/plan.js';
import type { ClusterPlan, PlannedCertificate } from '../../model/types.js';
import { mergeHostsFile, renderHostsBlock, type HostsBlockInput } from '../../render/hosts-file.js';
import { renderEtcdBootstrap, renderEtcdUnit, type EtcdUnitInput } from '../../render/etcd.js';
import { renderHaproxyConfig, type HaproxyConfigInput } from '../../render/haproxy.js';
import { placementFor } from '../../render/placements.js';

const seed = readFileSync(new URL('../../examples/seed-cluster.yaml', import.meta.url), 'utf8');
const seedPlan = (text = seed) => {
  const r = parseClusterFile(text);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return plan(r.spec);
};

// The fragments, from a plan.
const hostsOf = (p: ClusterPlan): HostsBlockInput => ({
  cluster: p.name,
  hosts: p.hosts.map((h) => ({ name: h.name, address: h.address })),
});
const cert = (p: ClusterPlan, id: string): PlannedCertificate => p.certificates.find((c) => c.id === id)!;
const etcdOf = (p: ClusterPlan, member: string): EtcdUnitInput => {
  const m = p.etcd.members.find((x) => x.name === member);
  if (!m) throw new Error(`${member} is not an etcd member`);
  return {
    cluster: p.name,
    member: m,
    tls: { server: placementFor(cert(p, `etcd-server-${member}`), member), peer: placementFor(cert(p, `etcd-peer-${member}`), member) },
  };
};
const lbOf = (p: ClusterPlan, lb: string): HaproxyConfigInput => ({
  cluster: p.name,
  address: p.hosts.find((h) => h.name === lb)!.address,
  port: p.apiServer.port,
  controlPlanes: p.apiServer.controlPlanes,
});

describe('/etc/hosts', () => {
  const p = seedPlan();
  const debian =
    '127.0.0.1\tlocalhost\n127.0.1.1\tetcd-1\n\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\n';

  it('appends a block listing every host, leaving other lines as they were', () => {
    const merged = mergeHostsFile('127.0.0.1 localhost\n10.1.1.1 printer # office\n', hostsOf(p));
    assert.ok(merged.startsWith('127.0.0.1 localhost\n10.1.1.1 printer # office\n# BEGIN hardway cluster'));
    for (const h of p.hosts) assert.match(merged, new RegExp(`^${h.address.replaceAll('.', '\\.')}\\s+${h.name}$`, 'm'));
  });

  it('is stable: merging again changes nothing', () => {
    const once = mergeHostsFile(debian, hostsOf(p));
    assert.equal(mergeHostsFile(once, hostsOf(p)), once);
  });

  it('replaces an outdated block in place', () => {
    const once = mergeHostsFile(debian, hostsOf(p));
    const stale = once.replace(/192\.168\.56\.11(\s+etcd-1)/, '192.168.56.99$1');
    assert.equal(mergeHostsFile(stale, hostsOf(p)), once);
  });

  it('disables a line that maps a cluster host elsewhere (Debian 127.0.1.1 <hostname>)', () => {
    const merged = mergeHostsFile(debian, hostsOf(p));
    assert.match(merged, /^# hardway: conflicts with the cluster block: 127\.0\.1\.1\tetcd-1$/m);
    assert.ok(!/^127\.0\.1\.1/m.test(merged));
  });

  it('keeps other names of a conflicting line', () => {
    const merged = mergeHostsFile('127.0.1.1 lb lb.example.org # mine\n', hostsOf(p));
    assert.match(merged, /^127\.0\.1\.1\tlb\.example\.org # mine$/m);
  });

  it('renders one line per host between markers', () => {
    const block = renderHostsBlock(hostsOf(p)).split('\n');
    assert.equal(block.length, p.hosts.length + 2);
  });
});

describe('etcd unit', () => {
  it('binds and advertises on the infrastructure address with TLS and client-cert auth everywhere', () => {
    const p = seedPlan();
    const unit = renderEtcdUnit(etcdOf(p, 'etcd-2'));
    assert.match(unit, /--listen-client-urls https:\/\/192\.168\.56\.12:2379,https:\/\/127\.0\.0\.1:2379/);
    assert.match(unit, /--advertise-client-urls https:\/\/192\.168\.56\.12:2379 /);
    assert.match(unit, /--listen-peer-urls https:\/\/192\.168\.56\.12:2380/);
    assert.match(unit, /--client-cert-auth/);
    assert.match(unit, /--peer-client-cert-auth/);
    assert.ok(!unit.includes('10.0.2.15'));
  });

  it('keeps how the member first joins out of the unit: a change of membership never rewrites a running member', () => {
    const p = seedPlan();
    const unit = renderEtcdUnit(etcdOf(p, 'etcd-2'));
    assert.doesNotMatch(unit, /initial-cluster/);
    assert.match(unit, /^EnvironmentFile=-\/etc\/etcd\/bootstrap\.env$/m);
    const m = p.etcd.members.find((x) => x.name === 'etcd-2')!;
    const env = renderEtcdBootstrap({ cluster: p.name, member: m, initialCluster: p.etcd.initialCluster, state: 'new' });
    assert.match(
      env,
      /^ETCD_INITIAL_CLUSTER=etcd-1=https:\/\/192\.168\.56\.11:2380,etcd-2=https:\/\/192\.168\.56\.12:2380,etcd-3=https:\/\/192\.168\.56\.13:2380$/m,
    );
    assert.match(env, /^ETCD_INITIAL_CLUSTER_STATE=new$/m);
    assert.match(env, /^ETCD_INITIAL_CLUSTER_TOKEN=hardway-hardway$/m);
    const joining = renderEtcdBootstrap({
      cluster: p.name,
      member: m,
      initialCluster: 'etcd-1=https://192.168.56.11:2380,etcd-2=https://192.168.56.12:2380',
      state: 'existing',
    });
    assert.match(joining, /^ETCD_INITIAL_CLUSTER_STATE=existing$/m);
  });

  it('follows other addresses (nothing hard-wired to the seed)', () => {
    const unit = renderEtcdUnit(etcdOf(seedPlan(seed.replaceAll('192.168.56.', '10.9.8.')), 'etcd-1'));
    assert.match(unit, /--advertise-client-urls https:\/\/10\.9\.8\.11:2379/);
  });
});

describe('haproxy.cfg', () => {
  it('listens on the LB address in TCP mode with a checked backend per control plane', () => {
    const p = seedPlan();
    const cfg = renderHaproxyConfig(lbOf(p, 'lb'));
    assert.match(cfg, /mode tcp/);
    assert.match(cfg, /bind 192\.168\.56\.20:6443/);
    assert.match(cfg, /^ {4}server cp-1 192\.168\.56\.21:6443$/m);
    assert.match(cfg, /^ {4}server cp-2 192\.168\.56\.22:6443$/m);
    // Ready, not merely listening: /readyz over TLS decides which API servers get traffic.
    assert.match(cfg, /^ {4}option httpchk GET \/readyz$/m);
    assert.match(cfg, /^ {4}http-check expect status 200$/m);
    assert.match(cfg, /^ {4}default-server check check-ssl verify none /m);
    assert.match(cfg, /^ {4}user haproxy\n {4}group haproxy$/m);
  });

  it('sends traffic to the port the plan gives the API servers, not a literal 6443', () => {
    const p = seedPlan();
    const lb = lbOf(p, 'lb');
    const cfg = renderHaproxyConfig({ ...lb, port: 8443, controlPlanes: lb.controlPlanes.map((c) => ({ ...c, port: 16443 })) });
    assert.match(cfg, /bind 192\.168\.56\.20:8443/);
    assert.match(cfg, /^ {4}server cp-1 192\.168\.56\.21:16443$/m);
    assert.doesNotMatch(cfg, /6443\b(?<!16443)/);
  });

  it('takes every control plane of a bigger cluster', () => {
    const text = seed.replace(
      /(- name: cp-2[\s\S]*?roles: \[controlplane\]\n)/,
      '$1  - name: cp-3\n    address: 192.168.56.23\n    roles: [controlplane]\n',
    );
    const cfg = renderHaproxyConfig(lbOf(seedPlan(text), 'lb'));
    assert.match(cfg, /^ {4}server cp-3 192\.168\.56\.23:6443$/m);
  });
});

// The exact files the renderers wrote when they took the whole plan: hosts must not see a difference.
describe('the files are the same as before the renderers took fragments', () => {
  // Changed on purpose since (issue 9): the bootstrap flags moved to /etc/etcd/bootstrap.env.
  it('etcd unit of the seed', () => {
    assert.equal(
      renderEtcdUnit(etcdOf(seedPlan(), 'etcd-2')),
      `[Unit]
Description=etcd member etcd-2 of cluster hardway (managed by hardway)
Documentation=https://etcd.io/docs/
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
EnvironmentFile=-/etc/etcd/bootstrap.env
ExecStart=/usr/local/bin/etcd \\
  --name etcd-2 \\
  --data-dir /var/lib/etcd \\
  --listen-client-urls https://192.168.56.12:2379,https://127.0.0.1:2379 \\
  --advertise-client-urls https://192.168.56.12:2379 \\
  --listen-peer-urls https://192.168.56.12:2380 \\
  --initial-advertise-peer-urls https://192.168.56.12:2380 \\
  --cert-file /etc/etcd/pki/server.crt \\
  --key-file /etc/etcd/pki/server.key \\
  --trusted-ca-file /etc/etcd/pki/ca.crt \\
  --client-cert-auth \\
  --peer-cert-file /etc/etcd/pki/peer.crt \\
  --peer-key-file /etc/etcd/pki/peer.key \\
  --peer-trusted-ca-file /etc/etcd/pki/ca.crt \\
  --peer-client-cert-auth
Restart=on-failure
RestartSec=5
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`,
    );
  });
  // Changed on purpose since (issue 8): the unprivileged user, and backends checked with GET /readyz over TLS; (issue 9)
  // sessions are not cut when a backend is taken out, and TCP keepalives notice a dead one.
  it('haproxy.cfg of the seed', () => {
    assert.equal(
      renderHaproxyConfig(lbOf(seedPlan(), 'lb')),
      `# Managed by hardway for cluster hardway: changes are overwritten.
global
    maxconn 4096
    log stderr format short local0 info
    # Binds as root, then runs as the package's unprivileged user.
    user haproxy
    group haproxy

defaults
    mode tcp
    log global
    option tcplog
    option dontlognull
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout check 5s
    # A connection an API server refuses (it is stopping) is tried again on another one.
    retries 3
    option redispatch
    # Sessions to an API server that is taken out are not cut: one that stops gracefully finishes its requests and
    # closes its watches itself. One whose host died is noticed by TCP keepalives within about a minute.
    option srvtcpka
    srvtcpka-idle 30s
    srvtcpka-intvl 10s
    srvtcpka-cnt 3

frontend kube-apiserver
    bind 192.168.56.20:6443
    default_backend control-planes

backend control-planes
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server check check-ssl verify none inter 2s fall 2 rise 2
    server cp-1 192.168.56.21:6443
    server cp-2 192.168.56.22:6443
`,
    );
  });
  it('/etc/hosts of the seed', () => {
    assert.equal(
      mergeHostsFile('127.0.0.1\tlocalhost\n127.0.1.1\tetcd-1\n', hostsOf(seedPlan())),
      `127.0.0.1	localhost
# hardway: conflicts with the cluster block: 127.0.1.1	etcd-1
# BEGIN hardway cluster hardway (managed: edits inside this block are replaced)
192.168.56.10  ca
192.168.56.11  etcd-1
192.168.56.12  etcd-2
192.168.56.13  etcd-3
192.168.56.20  lb
192.168.56.21  cp-1
192.168.56.22  cp-2
192.168.56.31  worker-1
192.168.56.32  worker-2
192.168.56.40  admin
# END hardway cluster hardway
`,
    );
  });
});

describe('a fragment that contradicts itself is a non-retryable ConfigurationError', () => {
  const nonRetryable = (re: RegExp) => (e: unknown) =>
    e instanceof ConfigurationError && e.retryable === false && e.name === 'ConfigurationError' && re.test(e.message);

  it('a certificate that is not placed on the host', () => {
    const p = seedPlan();
    assert.throws(() => placementFor(cert(p, 'etcd-server-etcd-1'), 'etcd-2'), nonRetryable(/etcd-server-etcd-1 is not placed on etcd-2/));
  });

  it('an etcd unit whose certificates are placed on another host', () => {
    const p = seedPlan();
    const input = etcdOf(p, 'etcd-1');
    const elsewhere = { ...input, tls: { ...input.tls, peer: placementFor(cert(p, 'etcd-peer-etcd-2'), 'etcd-2') } };
    assert.throws(() => renderEtcdUnit(elsewhere), nonRetryable(/peer certificate of etcd-1 is placed on etcd-2/));
  });

  it('an etcd member missing from the initial cluster', () => {
    const input = etcdOf(seedPlan(), 'etcd-1');
    assert.throws(
      () => renderEtcdBootstrap({ ...input, initialCluster: 'etcd-2=https://192.168.56.12:2380', state: 'new' }),
      nonRetryable(/not in the initial cluster/),
    );
  });
});
