// Renderers: /etc/hosts block merge, etcd unit, haproxy.cfg. Pure, from plans of the seed and of other ranges.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseClusterFile } from '../../model/validate.js';
import { plan } from '../../model/plan.js';
import { mergeHostsFile, renderHostsBlock } from '../../render/hosts-file.js';
import { renderEtcdUnit } from '../../render/etcd.js';
import { renderHaproxyConfig } from '../../render/haproxy.js';

const seed = readFileSync(new URL('../../examples/seed-cluster.yaml', import.meta.url), 'utf8');
const seedPlan = (text = seed) => {
  const r = parseClusterFile(text);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return plan(r.spec);
};

describe('/etc/hosts', () => {
  const p = seedPlan();
  const debian = '127.0.0.1\tlocalhost\n127.0.1.1\tetcd-1\n\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\n';

  it('appends a block listing every host, leaving other lines as they were', () => {
    const merged = mergeHostsFile('127.0.0.1 localhost\n10.1.1.1 printer # office\n', p);
    assert.ok(merged.startsWith('127.0.0.1 localhost\n10.1.1.1 printer # office\n# BEGIN hardway cluster'));
    for (const h of p.hosts) assert.match(merged, new RegExp(`^${h.address.replaceAll('.', '\\.')}\\s+${h.name}$`, 'm'));
  });

  it('is stable: merging again changes nothing', () => {
    const once = mergeHostsFile(debian, p);
    assert.equal(mergeHostsFile(once, p), once);
  });

  it('replaces an outdated block in place', () => {
    const once = mergeHostsFile(debian, p);
    const stale = once.replace(/192\.168\.56\.11(\s+etcd-1)/, '192.168.56.99$1');
    assert.equal(mergeHostsFile(stale, p), once);
  });

  it('disables a line that maps a cluster host elsewhere (Debian 127.0.1.1 <hostname>)', () => {
    const merged = mergeHostsFile(debian, p);
    assert.match(merged, /^# hardway: conflicts with the cluster block: 127\.0\.1\.1\tetcd-1$/m);
    assert.ok(!/^127\.0\.1\.1/m.test(merged));
  });

  it('keeps other names of a conflicting line', () => {
    const merged = mergeHostsFile('127.0.1.1 lb lb.example.org # mine\n', p);
    assert.match(merged, /^127\.0\.1\.1\tlb\.example\.org # mine$/m);
  });

  it('renders one line per host between markers', () => {
    const block = renderHostsBlock(p).split('\n');
    assert.equal(block.length, p.hosts.length + 2);
  });
});

describe('etcd unit', () => {
  it('binds and advertises on the infrastructure address with TLS and client-cert auth everywhere', () => {
    const p = seedPlan();
    const unit = renderEtcdUnit(p, 'etcd-2');
    assert.match(unit, /--listen-client-urls https:\/\/192\.168\.56\.12:2379,https:\/\/127\.0\.0\.1:2379/);
    assert.match(unit, /--advertise-client-urls https:\/\/192\.168\.56\.12:2379 /);
    assert.match(unit, /--listen-peer-urls https:\/\/192\.168\.56\.12:2380/);
    assert.match(unit, /--initial-cluster etcd-1=https:\/\/192\.168\.56\.11:2380,etcd-2=https:\/\/192\.168\.56\.12:2380,etcd-3=https:\/\/192\.168\.56\.13:2380/);
    assert.match(unit, /--client-cert-auth/);
    assert.match(unit, /--peer-client-cert-auth/);
    assert.ok(!unit.includes('10.0.2.15'));
    assert.throws(() => renderEtcdUnit(p, 'cp-1'), /not an etcd member/);
  });

  it('follows other addresses (nothing hard-wired to the seed)', () => {
    const unit = renderEtcdUnit(seedPlan(seed.replaceAll('192.168.56.', '10.9.8.')), 'etcd-1');
    assert.match(unit, /--advertise-client-urls https:\/\/10\.9\.8\.11:2379/);
  });
});

describe('haproxy.cfg', () => {
  it('listens on the LB address in TCP mode with a checked backend per control plane', () => {
    const p = seedPlan();
    const cfg = renderHaproxyConfig(p, 'lb');
    assert.match(cfg, /mode tcp/);
    assert.match(cfg, /bind 192\.168\.56\.20:6443/);
    assert.match(cfg, /server cp-1 192\.168\.56\.21:6443 check/);
    assert.match(cfg, /server cp-2 192\.168\.56\.22:6443 check/);
  });

  it('takes every control plane of a bigger cluster', () => {
    const text = seed.replace(/(- name: cp-2[\s\S]*?roles: \[controlplane\]\n)/, '$1  - name: cp-3\n    address: 192.168.56.23\n    roles: [controlplane]\n');
    const cfg = renderHaproxyConfig(seedPlan(text), 'lb');
    assert.match(cfg, /server cp-3 192\.168\.56\.23:6443 check/);
  });
});
