// The activities on memory hosts (test/helpers/memory-host.ts), in a mock Temporal activity: the converge rule
// (a second run changes and restarts nothing; a changed input rewrites and restarts exactly once), a CA that does
// not match the plan, /etc/hosts lines outside the block, a retried step after a crash.
//   node --import tsx --test test/unit/activities-converge.test.ts
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';

import { createActivities } from '../../activities/index.js';
import type { ActivityInput, ActivityName, ClusterActivities, StepFailureDetails, StepReport } from '../../activities/types.js';
import { plan as makePlan } from '../../model/plan.js';
import type { ClusterPlan } from '../../model/types.js';
import { parseClusterFile } from '../../model/validate.js';
import { createCA } from '../../pki/index.js';
import { ETCD_UNIT_PATH } from '../../render/etcd.js';
import { HAPROXY_CONFIG_PATH } from '../../render/haproxy.js';
import { PHASES, stepOf } from '../../workflows/phases/index.js';
import { failure } from '../helpers/failure.js';
import { labFor, runPhases, type MemoryLab } from '../helpers/memory-host.js';

const seedText = readFileSync(new URL('../../examples/seed-cluster.yaml', import.meta.url), 'utf8');
function seedPlan(): ClusterPlan {
  const r = parseClusterFile(seedText);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return makePlan(r.spec);
}

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const input = <K extends ActivityName>(plan: ClusterPlan, activity: K, host: string): ActivityInput<K> =>
  stepOf(activity).input(plan, host);

/** Runs one activity in a mock Temporal activity (attempt and heartbeat details as given). */
async function run<K extends ActivityName>(
  lab: MemoryLab,
  activity: K,
  arg: ActivityInput<K>,
  info: { attempt?: number; heartbeatDetails?: unknown } = {},
): Promise<StepReport> {
  const env = new MockActivityEnvironment(info, { logger: quiet });
  const fn = createActivities(lab)[activity] as (i: ActivityInput<K>) => Promise<StepReport>;
  return env.run(fn, arg);
}

let plan: ClusterPlan;
/** The seed, brought up once on memory hosts; every test works on a clone. */
let converged: MemoryLab;

before(async () => {
  plan = seedPlan();
  converged = labFor(plan);
  const env = new MockActivityEnvironment({}, { logger: quiet });
  await env.run(() => runPhases(plan, PHASES, createActivities(converged)));
});

describe('a first bring-up', () => {
  it('starts etcd once per member and puts haproxy on its config with one restart', () => {
    for (const m of ['etcd-1', 'etcd-2', 'etcd-3']) {
      const etcd = converged.host(m).service('etcd');
      assert.deepEqual([etcd.enabled, etcd.active, etcd.starts, etcd.restarts], [true, true, 1, 0], m);
      assert.equal(etcd.running?.unit, converged.host(m).text(ETCD_UNIT_PATH));
      assert.equal(converged.host(m).dirs.get('/var/lib/etcd'), 0o700);
    }
    const haproxy = converged.host('lb').service('haproxy');
    assert.deepEqual(
      [haproxy.starts, haproxy.restarts, haproxy.reloads],
      [1, 0, 1],
      'started by the package, reloaded once onto our config',
    );
    assert.equal(haproxy.running?.config, converged.host('lb').text(HAPROXY_CONFIG_PATH));
  });

  it('reads no private key out of any host but the shared service-account key: CAs sign on the CA host', () => {
    const read = [...converged.hosts.values()].flatMap((h) => h.logged('readFile').map((p) => `${h.name}:${p}`));
    assert.ok(read.length > 0);
    const keys = read.filter((r) => r.endsWith('.key'));
    assert.ok(
      keys.every((k) => k.endsWith(':/etc/kubernetes/pki/sa.key')),
      keys.join('\n'),
    );
    // The CA host signed every leaf: one openssl x509 -req per certificate placement.
    const signed = converged
      .host('ca')
      .logged('exec')
      .filter((c) => c.includes('openssl x509 -req'));
    const leaves = plan.certificates.filter((c) => !c.isCA && !c.keyPairOnly).reduce((n, c) => n + c.placements.length, 0);
    assert.equal(signed.length, leaves);
  });

  it('keeps private keys 0600', () => {
    for (const h of converged.hosts.values()) {
      for (const [path, f] of h.files) if (path.endsWith('.key')) assert.equal(f.mode, 0o600, `${h.name}:${path}`);
    }
  });
});

describe('(a) a second run of each activity changes nothing and restarts nothing', () => {
  for (const phase of PHASES) {
    for (const step of phase.steps) {
      it(step.activity, async () => {
        const lab = converged.clone();
        const before = lab.snapshot();
        for (const host of step.hosts(plan)) {
          const report = await run(lab, step.activity, step.input(plan, host) as never);
          assert.deepEqual(report.changed, [], `${step.activity}/${host} changed ${report.changed.join(', ')}`);
          assert.equal(report.attempt, 1);
        }
        assert.equal(lab.snapshot(), before);
        for (const h of lab.hosts.values()) {
          assert.deepEqual(h.logged('change'), [], `${h.name} ran changes`);
          assert.ok(
            h.logged('putFile').every((p) => p.endsWith('(unchanged)')),
            `${h.name} wrote ${h.logged('putFile').join(', ')}`,
          );
        }
      });
    }
  }
});

describe('(b) a changed input rewrites what it renders and restarts exactly once', () => {
  it('etcd: a changed initial cluster rewrites the unit, reloads systemd and restarts etcd once; the next run does nothing', async () => {
    const lab = converged.clone();
    const h = lab.host('etcd-1');
    const before = { ...h.service('etcd') };
    const reloads = h.daemonReloads;
    const changedInput = {
      ...input(plan, 'etcd/member', 'etcd-1'),
      initialCluster: `${plan.etcd.initialCluster},etcd-4=https://192.168.56.14:2380`,
    };
    const report = await run(lab, 'etcd/member', changedInput);
    assert.deepEqual(report.changed, [ETCD_UNIT_PATH, 'restarted etcd']);
    assert.match(h.text(ETCD_UNIT_PATH)!, /--initial-cluster \S+,etcd-4=https:\/\/192\.168\.56\.14:2380 /);
    assert.equal(h.service('etcd').restarts, before.restarts + 1);
    assert.equal(h.service('etcd').starts, before.starts);
    assert.equal(h.daemonReloads, reloads + 1);
    assert.equal(h.service('etcd').running?.unit, h.text(ETCD_UNIT_PATH), 'etcd runs the new unit');
    assert.deepEqual(h.logged('change'), ['systemctl daemon-reload', 'systemctl restart etcd']);

    const again = await run(lab, 'etcd/member', changedInput);
    assert.deepEqual(again.changed, []);
    assert.equal(h.service('etcd').restarts, before.restarts + 1);
  });

  it('etcd: a renewed certificate needs no restart (etcd reads it again on every handshake)', async () => {
    const lab = converged.clone();
    const h = lab.host('etcd-2');
    h.files.delete('/etc/etcd/pki/peer.crt'); // as if expired: pki/certificates issues it again
    const issued = await run(lab, 'pki/certificates', input(plan, 'pki/certificates', 'etcd-2'));
    assert.deepEqual(issued.changed, ['issued etcd-peer-etcd-2 at /etc/etcd/pki/peer.crt']);
    const report = await run(lab, 'etcd/member', input(plan, 'etcd/member', 'etcd-2'));
    assert.deepEqual(report.changed, []);
    assert.equal(h.service('etcd').restarts, 0);
  });

  it('etcd: a new trusted CA restarts a member once, and only while the others hold the quorum without it', async () => {
    const lab = converged.clone();
    const h = lab.host('etcd-2');
    h.write('/etc/etcd/pki/ca.crt', `${h.text('/etc/etcd/pki/ca.crt')}\n`, 0o644); // what etcd loaded at start changed
    lab.host('etcd-1').etcdAnswers = false;
    const f = await failure(run(lab, 'etcd/member', input(plan, 'etcd/member', 'etcd-2')));
    assert.equal(f.type, 'NotReady');
    assert.match(
      f.message,
      /etcd on etcd-2 needs a restart, but without it only 1 of 3 members would be healthy \(etcd-3; a quorum is 2\)/,
    );
    assert.equal(h.service('etcd').restarts, 0, 'not restarted while that would lose the quorum');
    lab.host('etcd-1').etcdAnswers = true;
    const r = await run(lab, 'etcd/member', input(plan, 'etcd/member', 'etcd-2'));
    assert.deepEqual(r.changed, ['restarted etcd']);
    assert.equal(h.service('etcd').restarts, 1);
    assert.deepEqual((await run(lab, 'etcd/member', input(plan, 'etcd/member', 'etcd-2'))).changed, []);
  });

  it('haproxy: a new control plane replaces the config through a checked candidate and reloads haproxy once, never restarting it', async () => {
    const lab = converged.clone();
    const h = lab.host('lb');
    const base = input(plan, 'loadbalancer/haproxy', 'lb');
    const grown = { ...base, controlPlanes: [...base.controlPlanes, { name: 'cp-3', address: '192.168.56.23', port: 6443 }] };
    const report = await run(lab, 'loadbalancer/haproxy', grown);
    assert.deepEqual(report.changed, [HAPROXY_CONFIG_PATH, 'reloaded haproxy']);
    assert.match(h.text(HAPROXY_CONFIG_PATH)!, /^ {4}server cp-3 192\.168\.56\.23:6443$/m);
    assert.equal(h.files.has(`${HAPROXY_CONFIG_PATH}.hardway-new`), false);
    assert.deepEqual([h.service('haproxy').restarts, h.service('haproxy').reloads], [0, 2]);
    assert.equal(h.service('haproxy').running?.config, h.text(HAPROXY_CONFIG_PATH), 'the reload took the new config');
    assert.deepEqual(
      h.logged('exec').filter((c) => c.startsWith('haproxy -c')),
      [`haproxy -c -f ${HAPROXY_CONFIG_PATH}.hardway-new`],
    );
    assert.deepEqual((await run(lab, 'loadbalancer/haproxy', grown)).changed, []);
  });

  it('haproxy: a plan recorded by 0.1 or 0.2 (no backend ports) still sends traffic to the API servers on 6443', () => {
    const old = {
      ...plan,
      apiServer: { ...plan.apiServer, controlPlanes: plan.apiServer.controlPlanes.map(({ name, address }) => ({ name, address })) },
    } as ClusterPlan;
    assert.deepEqual(
      input(old, 'loadbalancer/haproxy', 'lb').controlPlanes.map((c) => c.port),
      [6443, 6443],
    );
  });

  it('haproxy: a config haproxy rejects is a non-retryable ConfigurationError and the running one stays', async () => {
    const lab = converged.clone();
    const h = lab.host('lb');
    h.haproxyAccepts = () => false;
    const old = h.text(HAPROXY_CONFIG_PATH);
    const base = input(plan, 'loadbalancer/haproxy', 'lb');
    const f = await failure(run(lab, 'loadbalancer/haproxy', { ...base, port: 7443 }));
    assert.equal(f.type, 'ConfigurationError');
    assert.equal(f.nonRetryable, true);
    assert.equal(h.text(HAPROXY_CONFIG_PATH), old);
    assert.equal(h.files.has(`${HAPROXY_CONFIG_PATH}.hardway-new`), false);
    assert.deepEqual([h.service('haproxy').restarts, h.service('haproxy').reloads], [0, 1]);
  });
});

describe('etcd health is judged by the health-check client, and by a quorum', () => {
  it('a member is checked with the health-check client certificate, never its own server certificate', async () => {
    const lab = converged.clone();
    lab.host('etcd-2').files.delete(ETCD_UNIT_PATH); // something to do, so the check runs after a restart
    await run(lab, 'etcd/member', input(plan, 'etcd/member', 'etcd-2'));
    const curls = lab
      .host('etcd-2')
      .logged('exec')
      .filter((c) => c.startsWith('curl '));
    assert.ok(curls.length > 0);
    for (const c of curls) {
      assert.match(c, /--cert \/etc\/etcd\/pki\/healthcheck-client\.crt --key \/etc\/etcd\/pki\/healthcheck-client\.key/);
      assert.doesNotMatch(c, /server\.(crt|key)/);
    }
  });

  it('the first member down: the check asks the next one, and a quorum of two passes with a warning', async () => {
    const lab = converged.clone();
    lab.host('etcd-1').down = true;
    const r = await run(lab, 'etcd/quorum', input(plan, 'etcd/quorum', 'etcd-1'));
    assert.match(r.notes.join('\n'), /quorum holds with 2 of 3; not healthy: etcd-1/);
    assert.match(r.notes.join('\n'), /asked from etcd-2; could not reach etcd-1/);
    assert.ok(
      lab
        .host('etcd-2')
        .logged('exec')
        .some((c) => c.includes('endpoint health')),
    );
  });

  it('two of three members down: no quorum, a retryable NotReady that says so', async () => {
    const lab = converged.clone();
    lab.host('etcd-1').down = true;
    lab.host('etcd-3').etcdAnswers = false;
    const f = await failure(run(lab, 'etcd/quorum', input(plan, 'etcd/quorum', 'etcd-1')));
    assert.equal(f.type, 'NotReady');
    assert.equal(f.nonRetryable, false);
    assert.match(f.message, /no quorum yet: 1 of 3 members healthy \(not: etcd-1, etcd-3\)/);
  });
});

describe('(c) a CA that does not match the plan', () => {
  it('is a non-retryable ConfigurationError that says what to do, and nothing is written', async () => {
    const lab = converged.clone();
    const ca = lab.host('ca');
    const caInput = input(plan, 'pki/authority', 'ca');
    const foreign = await createCA({ ...caInput.authorities[0]!.certificate, commonName: "someone else's CA" }, { bits: 2048 });
    ca.write(caInput.authorities[0]!.certPath, foreign.certPem, 0o644);
    ca.write(caInput.authorities[0]!.keyPath, foreign.keyPem, 0o600);
    const before = lab.snapshot();
    const f = await failure(run(lab, 'pki/authority', caInput));
    assert.equal(f.type, 'ConfigurationError');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /the CA at ca:\/var\/lib\/hardway\/ca\/ca\.crt does not match the plan \(subject CN/);
    assert.match(f.message, /Move .* away to let hardway create a new CA/);
    assert.deepEqual(f.details, [{ attempt: 1, changed: [] } satisfies StepFailureDetails]);
    assert.equal(lab.snapshot(), before);
  });

  it('a CA within a year of its end is re-issued with the same key: hosts get it, and no leaf is reissued', async () => {
    const lab = converged.clone();
    const ca = lab.host('ca');
    const caInput = input(plan, 'pki/authority', 'ca');
    const key = ca.text(caInput.authorities[0]!.keyPath)!;
    const old = await createCA(caInput.authorities[0]!.certificate, { keyPem: key, now: new Date(Date.now() - 3500 * 86_400_000) });
    ca.write(caInput.authorities[0]!.certPath, old.certPem, 0o644);
    const r = await run(lab, 'pki/authority', caInput);
    assert.equal(r.changed.length, 1);
    assert.match(r.changed[0]!, /^renewed CA hardway hardway CA with the same key, until \d{4}-\d{2}-\d{2}$/);
    assert.match(r.notes.join('\n'), /warning: the CA certificate was to expire in 1[45]\d days/);
    assert.equal(ca.text(caInput.authorities[0]!.keyPath), key, 'the key stays');
    const renewed = ca.text(caInput.authorities[0]!.certPath)!;
    assert.ok(new Date(new X509Certificate(renewed).validTo).getTime() > Date.now() + 3000 * 86_400_000);
    assert.deepEqual((await run(lab, 'pki/authority', caInput)).changed, [], 'renewed once');
    // A host takes the new CA certificate; its leaves, signed by the same key, stay.
    const certs = await run(lab, 'pki/certificates', input(plan, 'pki/certificates', 'worker-1'));
    assert.deepEqual(certs.changed.sort(), ['/var/lib/kube-proxy/pki/ca.crt', '/var/lib/kubelet/pki/ca.crt']);
    assert.equal(lab.host('worker-1').text('/var/lib/kubelet/pki/ca.crt'), renewed);
    // etcd's own CA was not renewed: its members see no change.
    assert.deepEqual((await run(lab, 'pki/certificates', input(plan, 'pki/certificates', 'etcd-1'))).changed, []);
  });

  it('a CA certificate without its key is one too', async () => {
    const lab = converged.clone();
    const caInput = input(plan, 'pki/authority', 'ca');
    lab.host('ca').files.delete(caInput.authorities[0]!.keyPath);
    const f = await failure(run(lab, 'pki/authority', caInput));
    assert.equal(f.type, 'ConfigurationError');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /but not its key/);
  });
});

describe('(d) /etc/hosts', () => {
  const mine = [
    '127.0.0.1\tlocalhost',
    '127.0.1.1\tetcd-1',
    '10.1.1.1 printer.office printer # the printer',
    '',
    '# The following lines are desirable for IPv6 capable hosts',
    '::1     localhost ip6-localhost ip6-loopback',
    'ff02::1 ip6-allnodes',
    '',
  ].join('\n');

  it('keeps every line outside the block, disables the one that maps the host elsewhere, and resolves as planned', async () => {
    const lab = labFor(plan);
    const h = lab.host('etcd-1');
    h.write('/etc/hosts', mine);
    const hostsInput = input(plan, 'hosts/hosts-file', 'etcd-1');
    const report = await run(lab, 'hosts/hosts-file', hostsInput);
    assert.deepEqual(report.changed, ['/etc/hosts']);
    const text = h.text('/etc/hosts')!;
    for (const line of mine.split('\n').filter((l) => l && !l.startsWith('127.0.1.1')))
      assert.ok(text.split('\n').includes(line), `lost: ${line}`);
    assert.ok(text.includes('# hardway: conflicts with the cluster block: 127.0.1.1\tetcd-1'));
    assert.ok(text.startsWith(mine.split('\n').slice(0, 1).join('\n')));
    assert.match(text, /# BEGIN hardway cluster hardway[\s\S]*192\.168\.56\.11\s+etcd-1[\s\S]*# END hardway cluster hardway\n$/);
    assert.equal(h.files.get('/etc/hosts')!.mode, 0o644);

    h.write('/etc/hosts', `${text}10.2.2.2 added-later\n`); // an operator adds a line after the block
    const again = await run(lab, 'hosts/hosts-file', hostsInput);
    assert.deepEqual(again.changed, []);
    assert.ok(h.text('/etc/hosts')!.endsWith('10.2.2.2 added-later\n'));
  });

  it('a name that does not resolve as planned is NotReady (retried), and the failure keeps what was written', async () => {
    const lab = labFor(plan);
    const h = lab.host('admin');
    h.handle(/^getent ahostsv4 /, false, () => ({ code: 0, stdout: '127.0.1.1 admin\n', stderr: '' }));
    const f = await failure(
      run(lab, 'hosts/hosts-file', input(plan, 'hosts/hosts-file', 'admin'), { attempt: 4, heartbeatDetails: { changed: ['/etc/hosts'] } }),
    );
    assert.equal(f.type, 'NotReady');
    assert.equal(f.nonRetryable, false);
    assert.match(f.message, /admin -> 127\.0\.1\.1 \(want 192\.168\.56\.40\)/);
    assert.deepEqual(f.details, [{ attempt: 4, changed: ['/etc/hosts'] }]);
  });
});

describe('a step retried after its worker was killed', () => {
  it('reports the binaries the first attempt installed and still restarts etcd onto them', async () => {
    // Attempt 1 installed new etcd binaries, heartbeat them, and died before the restart: the host now looks
    // converged (stamp and binaries match) while etcd still runs the old binaries.
    const lab = converged.clone();
    const h = lab.host('etcd-3');
    const memberInput = input(plan, 'etcd/member', 'etcd-3');
    const firstAttempt = ['/usr/local/bin/etcd', '/usr/local/bin/etcdctl'];
    const report = await run(lab, 'etcd/member', memberInput, { attempt: 2, heartbeatDetails: { changed: firstAttempt } });
    assert.deepEqual(report.changed, [...firstAttempt, 'restarted etcd']);
    assert.equal(report.attempt, 2);
    assert.equal(h.service('etcd').restarts, 1);
    assert.equal(h.daemonReloads, converged.host('etcd-3').daemonReloads, 'the unit did not change: no reload');

    // Attempt 3 (say the member answered too late): the restart is already done, no second one.
    const third = await run(lab, 'etcd/member', memberInput, { attempt: 3, heartbeatDetails: { changed: report.changed } });
    assert.deepEqual(third.changed, report.changed);
    assert.equal(h.service('etcd').restarts, 1);
  });

  it('a unit written by the killed attempt gets its daemon-reload and restart', async () => {
    const lab = converged.clone();
    const h = lab.host('etcd-1');
    const report = await run(lab, 'etcd/member', input(plan, 'etcd/member', 'etcd-1'), {
      attempt: 2,
      heartbeatDetails: { changed: [ETCD_UNIT_PATH] },
    });
    assert.deepEqual(report.changed, [ETCD_UNIT_PATH, 'restarted etcd']);
    assert.deepEqual(h.logged('change'), ['systemctl daemon-reload', 'systemctl restart etcd']);
  });

  it('the changes are heartbeaten as they are made (a fresh member)', async () => {
    const lab = converged.clone();
    const h = lab.host('etcd-2');
    for (const p of ['/usr/local/bin/etcd', '/usr/local/bin/etcdctl', '/var/lib/hardway/releases/etcd', ETCD_UNIT_PATH]) h.files.delete(p);
    h.services.delete('etcd');
    const env = new MockActivityEnvironment({}, { logger: quiet });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const member: ClusterActivities['etcd/member'] = createActivities(lab)['etcd/member'];
    const report: StepReport = await env.run(member, input(plan, 'etcd/member', 'etcd-2'));
    assert.deepEqual(report.changed, ['/usr/local/bin/etcd', '/usr/local/bin/etcdctl', ETCD_UNIT_PATH, 'enabled etcd', 'started etcd']);
    const changedAt = beats.map((b) => (b as { changed: string[] }).changed.length);
    assert.ok(changedAt.includes(2) && changedAt.includes(3), `heartbeats: ${JSON.stringify(beats)}`);
    assert.deepEqual(beats.at(-1), { changed: report.changed });
  });
});
