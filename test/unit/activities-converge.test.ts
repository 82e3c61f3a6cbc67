// The activities on memory hosts (test/helpers/memory-host.ts), in a mock Temporal activity: the converge rule
// (a second run changes and restarts nothing; a changed input rewrites and restarts exactly once), a CA that does
// not match the plan, /etc/hosts lines outside the block, a retried step after a crash, and the cluster's own
// steps against the lab's in-memory API (encryption key, control plane services, Nodes, flannel, CoreDNS, admin).
//   node --import tsx --test test/unit/activities-converge.test.ts
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.js';
import type { ActivityInput, ActivityName, ClusterActivities, StepFailureDetails, StepReport } from '../../activities/types.js';
import { ENCRYPTION_CONFIG_PATH } from '../../model/paths.js';
import type { ClusterPlan } from '../../model/types.js';
import { createCA } from '../../pki/index.js';
import {
  KUBE_APISERVER_UNIT_PATH,
  KUBE_CONTROLLER_MANAGER_UNIT_PATH,
  KUBE_SCHEDULER_UNIT_PATH,
  encryptionKeyOf,
  renderEncryptionConfig,
} from '../../render/controlplane.js';
import { ETCD_UNIT_PATH } from '../../render/etcd.js';
import { FLANNEL_PUBLIC_IP_ANNOTATION, FLANNEL_SUBNET_FILE } from '../../render/flannel.js';
import { HAPROXY_CONFIG_PATH } from '../../render/haproxy.js';
import { PHASES, stepOf } from '../../workflows/phases/index.js';
import { RESTART_MARK } from '../../activities/service.js';
import { failure } from '../helpers/failure.js';
import { labFor, runPhases, type MemoryLab, type StepRun } from '../helpers/memory-host.js';
import { quietLogger, seedPlan } from '../helpers/seed-plan.js';

const quiet = quietLogger;
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
/** What each step of that bring-up reported. */
let bringUp: StepRun[];

before(async () => {
  plan = seedPlan();
  converged = labFor(plan);
  const env = new MockActivityEnvironment({}, { logger: quiet });
  bringUp = await env.run(() => runPhases(plan, PHASES, createActivities(converged)));
});

/** The report of a step of the first bring-up. */
const firstRun = (activity: ActivityName, host: string): StepReport => {
  const r = bringUp.find((x) => x.activity === activity && x.host === host)?.report;
  assert.ok(r, `${activity}/${host} did not run`);
  return r as StepReport;
};

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
  it('etcd: a changed membership (the initial cluster) rewrites nothing and restarts nothing on a running member', async () => {
    const lab = converged.clone();
    const h = lab.host('etcd-1');
    const before = { ...h.service('etcd') };
    const bootstrap = h.text('/etc/etcd/bootstrap.env');
    assert.match(bootstrap!, /^ETCD_INITIAL_CLUSTER_STATE=new$/m);
    const report = await run(lab, 'etcd/member', {
      ...input(plan, 'etcd/member', 'etcd-1'),
      initialCluster: `${plan.etcd.initialCluster},etcd-4=https://192.168.56.14:2380`,
    });
    assert.deepEqual(report.changed, []);
    assert.equal(h.text('/etc/etcd/bootstrap.env'), bootstrap, 'read by etcd only while it has no data: left as it was');
    assert.deepEqual(h.service('etcd'), before);
  });

  it('etcd: a changed unit (another certificate path) rewrites it, reloads systemd and restarts etcd once; the next run does nothing', async () => {
    const lab = converged.clone();
    const h = lab.host('etcd-1');
    const before = { ...h.service('etcd') };
    const reloads = h.daemonReloads;
    const base = input(plan, 'etcd/member', 'etcd-1');
    const changedInput = { ...base, tls: { ...base.tls, server: { ...base.tls.server, certPath: '/etc/etcd/pki/server-2.crt' } } };
    const report = await run(lab, 'etcd/member', changedInput);
    assert.deepEqual(report.changed, [ETCD_UNIT_PATH, 'restarted etcd']);
    assert.match(h.text(ETCD_UNIT_PATH)!, /--cert-file \/etc\/etcd\/pki\/server-2\.crt /);
    assert.equal(h.service('etcd').restarts, before.restarts + 1);
    assert.equal(h.service('etcd').starts, before.starts);
    assert.equal(h.daemonReloads, reloads + 1);
    assert.equal(h.service('etcd').running?.unit, h.text(ETCD_UNIT_PATH), 'etcd runs the new unit');
    assert.deepEqual(h.logged('change'), ['systemctl daemon-reload', 'systemctl restart etcd']);

    const again = await run(lab, 'etcd/member', changedInput);
    assert.deepEqual(again.changed, []);
    assert.equal(h.service('etcd').restarts, before.restarts + 1);
  });

  it('etcd: asked to defer restarts, a changed unit is written and marked, and the next run without the flag restarts it once', async () => {
    const lab = converged.clone();
    const h = lab.host('etcd-1');
    const before = { ...h.service('etcd') };
    const base = input(plan, 'etcd/member', 'etcd-1');
    const changedInput = { ...base, tls: { ...base.tls, server: { ...base.tls.server, certPath: '/etc/etcd/pki/server-2.crt' } } };
    const first = await run(lab, 'etcd/member', { ...changedInput, deferRestarts: true });
    assert.equal(first.restartDeferred, true);
    assert.deepEqual(first.changed, [ETCD_UNIT_PATH, 'etcd marked for a restart (one host at a time)']);
    assert.equal(h.service('etcd').restarts, before.restarts, 'no restart in the first pass');
    assert.notEqual(h.service('etcd').running?.unit, h.text(ETCD_UNIT_PATH), 'etcd still runs the old unit');
    assert.equal(h.text('/var/lib/hardway/services/etcd.inputs')?.trim(), RESTART_MARK);
    // Asked again to defer (a converge that died between its passes, then ran again): still marked, nothing else.
    const again = await run(lab, 'etcd/member', { ...changedInput, deferRestarts: true });
    assert.equal(again.restartDeferred, true);
    assert.deepEqual(again.changed, []);
    const second = await run(lab, 'etcd/member', changedInput);
    assert.equal(second.restartDeferred, undefined);
    assert.deepEqual(second.changed, ['restarted etcd']);
    assert.equal(h.service('etcd').restarts, before.restarts + 1);
    assert.equal(h.service('etcd').running?.unit, h.text(ETCD_UNIT_PATH), 'etcd runs the new unit');
    const third = await run(lab, 'etcd/member', { ...changedInput, deferRestarts: true });
    assert.deepEqual([third.changed, third.restartDeferred], [[], undefined], 'nothing left to restart');
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
    assert.deepEqual(certs.changed.sort(), [
      '/etc/kube-flannel/pki/ca.crt',
      '/var/lib/kube-proxy/pki/ca.crt',
      '/var/lib/kubelet/pki/ca.crt',
    ]);
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

describe('the cluster: control plane, nodes and add-ons against the lab API', () => {
  const controlPlaneServices = [
    ['kube-apiserver', KUBE_APISERVER_UNIT_PATH],
    ['kube-controller-manager', KUBE_CONTROLLER_MANAGER_UNIT_PATH],
    ['kube-scheduler', KUBE_SCHEDULER_UNIT_PATH],
  ] as const;

  it('one encryption key, the same on both control planes, in 0600 files and in no report, note or command', () => {
    const [a, b] = ['cp-1', 'cp-2'].map((h) => converged.host(h));
    const config = a!.text(ENCRYPTION_CONFIG_PATH)!;
    assert.equal(b!.text(ENCRYPTION_CONFIG_PATH), config);
    const key = encryptionKeyOf(config);
    assert.ok(key, config);
    assert.equal(Buffer.from(key, 'base64').length, 32);
    for (const h of [a!, b!]) {
      const f = h.files.get(ENCRYPTION_CONFIG_PATH)!;
      assert.deepEqual([f.mode, f.owner, f.group], [0o600, 'root', 'root'], h.name);
      assert.match(h.service('kube-apiserver').running!.unit!, new RegExp(`--encryption-provider-config=${ENCRYPTION_CONFIG_PATH}`));
    }
    assert.deepEqual(firstRun('controlplane/encryption-config', 'cp-1').changed, [
      `cp-1:${ENCRYPTION_CONFIG_PATH} (new key)`,
      `cp-2:${ENCRYPTION_CONFIG_PATH} (new key)`,
    ]);
    assert.ok(!JSON.stringify(bringUp).includes(key), 'the key is in a report');
    for (const h of converged.hosts.values()) {
      assert.ok(!h.log.some((e) => e.what.includes(key)), `the key is in a command on ${h.name}`);
    }
  });

  it('a control plane that lost the config gets the same key back (no restart); two different keys are a ConfigurationError', async () => {
    const lab = converged.clone();
    const [a, b] = [lab.host('cp-1'), lab.host('cp-2')];
    const config = a.text(ENCRYPTION_CONFIG_PATH)!;
    b.files.delete(ENCRYPTION_CONFIG_PATH);
    const step = input(plan, 'controlplane/encryption-config', 'cp-1');
    assert.deepEqual((await run(lab, 'controlplane/encryption-config', step)).changed, [`cp-2:${ENCRYPTION_CONFIG_PATH}`]);
    assert.equal(b.text(ENCRYPTION_CONFIG_PATH), config);
    // The same key as kube-apiserver loaded: nothing to restart.
    assert.deepEqual((await run(lab, 'controlplane/services', input(plan, 'controlplane/services', 'cp-2'))).changed, []);
    assert.equal(b.service('kube-apiserver').restarts, 0);

    b.write(ENCRYPTION_CONFIG_PATH, renderEncryptionConfig(randomBytes(32).toString('base64')), 0o600);
    const before = lab.snapshot();
    const f = await failure(run(lab, 'controlplane/encryption-config', step));
    assert.equal(f.type, 'ConfigurationError');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /the control planes hold different encryption keys \(cp-1 vs cp-2\)/);
    assert.equal(lab.snapshot(), before, 'neither key is overwritten');
  });

  it('kube-apiserver, the controller manager and the scheduler start once per control plane; a second run restarts nothing', async () => {
    for (const cp of ['cp-1', 'cp-2']) {
      const h = converged.host(cp);
      for (const [name, unitPath] of controlPlaneServices) {
        const s = h.service(name);
        assert.deepEqual([s.enabled, s.active, s.starts, s.restarts], [true, true, 1, 0], `${cp} ${name}`);
        assert.equal(s.running?.unit, h.text(unitPath), `${cp} ${name} runs its unit`);
      }
      assert.equal(h.dirs.get('/var/log/kubernetes'), 0o700);
    }
    const lab = converged.clone();
    for (const cp of ['cp-1', 'cp-2']) {
      assert.deepEqual((await run(lab, 'controlplane/services', input(plan, 'controlplane/services', cp))).changed, [], cp);
      assert.deepEqual(lab.host(cp).logged('change'), [], cp);
      for (const [name] of controlPlaneServices) assert.equal(lab.host(cp).service(name).restarts, 0, `${cp} ${name}`);
    }
  });

  it('a new key in the encryption config restarts kube-apiserver once, and nothing else', async () => {
    const lab = converged.clone();
    const h = lab.host('cp-1');
    h.write(ENCRYPTION_CONFIG_PATH, renderEncryptionConfig(randomBytes(32).toString('base64')), 0o600);
    const services = input(plan, 'controlplane/services', 'cp-1');
    assert.deepEqual((await run(lab, 'controlplane/services', services)).changed, ['restarted kube-apiserver']);
    assert.deepEqual(
      controlPlaneServices.map(([name]) => h.service(name).restarts),
      [1, 0, 0],
    );
    assert.deepEqual((await run(lab, 'controlplane/services', services)).changed, []);
    assert.equal(h.service('kube-apiserver').restarts, 1);
  });

  it('with kube-apiserver down on cp-1, the cluster-wide steps reach the API through the load balancer', async () => {
    const lab = converged.clone();
    lab.host('cp-1').service('kube-apiserver').active = false;
    const rbac = await run(lab, 'controlplane/rbac', input(plan, 'controlplane/rbac', 'cp-1'));
    assert.deepEqual(rbac.changed, []);
    assert.deepEqual((await run(lab, 'admin/kubectl', input(plan, 'admin/kubectl', 'admin'))).changed, []);
    // ...but not straight to cp-1: its readiness check fails (and would be retried).
    const direct = await lab
      .host('cp-1')
      .exec('curl -sS --max-time 5 --cacert /etc/kubernetes/pki/ca.crt https://192.168.56.21:6443/readyz', {
        allowExitCodes: [7],
      });
    assert.equal(direct.code, 7);
  });

  it('Nodes: registered with the plan’s pod range, Ready once their kubelet runs, each registered once', () => {
    for (const node of ['cp-1', 'cp-2', 'worker-1', 'worker-2']) {
      assert.deepEqual(firstRun('workers/register', node).changed, [`applied Node ${node}`]);
      const n = converged.view('Node', node)!;
      const spec = n['spec'] as { podCIDR: string; taints?: { key: string; effect: string }[] };
      assert.equal(spec.podCIDR, plan.hosts.find((h) => h.name === node)!.podCidr);
      assert.equal(!!spec.taints?.some((t) => t.effect === 'NoSchedule'), node.startsWith('cp-'), node);
      const ready = (n['status'] as { conditions: { type: string; status: string }[] }).conditions.find((c) => c.type === 'Ready');
      assert.equal(ready?.status, 'True', node);
    }
  });

  it('a Node registered with another pod range is a non-retryable ConfigurationError naming kubectl delete node; nothing is applied', async () => {
    const lab = converged.clone();
    // As a kubelet that registered itself, and a controller manager that gave it a range of its own, would leave it.
    lab.api.delete('Node', 'worker-2');
    lab.api.put({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'worker-2' },
      spec: { podCIDR: '10.244.9.0/24', podCIDRs: ['10.244.9.0/24'] },
    });
    const before = lab.snapshot();
    const register = input(plan, 'workers/register', 'worker-2');
    const f = await failure(run(lab, 'workers/register', register));
    assert.equal(f.type, 'ConfigurationError');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /node worker-2 is registered with the pod range 10\.244\.9\.0\/24, the plan gives it 10\.244\.3\.0\/24/);
    assert.match(f.message, /kubectl delete node worker-2/);
    assert.deepEqual(f.details, [{ attempt: 1, changed: [] } satisfies StepFailureDetails]);
    assert.equal(lab.snapshot(), before);
    assert.deepEqual(lab.host('cp-1').logged('change'), []);
    // The Ready check says so too, without waiting.
    const ready = await failure(run(lab, 'workers/ready', input(plan, 'workers/ready', 'worker-2')));
    assert.equal(ready.type, 'ConfigurationError');
    assert.match(ready.message, /node worker-2 has the pod range 10\.244\.9\.0\/24, the plan gives it 10\.244\.3\.0\/24/);

    // As the message says: delete the Node, run again.
    lab.api.delete('Node', 'worker-2');
    assert.deepEqual((await run(lab, 'workers/register', register)).changed, ['applied Node worker-2']);
    assert.equal((lab.api.get('Node', 'worker-2')!['spec'] as { podCIDR: string }).podCIDR, '10.244.3.0/24');
    assert.deepEqual((await run(lab, 'workers/ready', input(plan, 'workers/ready', 'worker-2'))).changed, []);
    assert.deepEqual((await run(lab, 'workers/register', register)).changed, []);
  });

  it('flanneld leases each node’s pod range from its Node and sends from the infrastructure address', () => {
    for (const node of ['cp-1', 'cp-2', 'worker-1', 'worker-2']) {
      const h = converged.host(node);
      const podCidr = plan.hosts.find((x) => x.name === node)!.podCidr!;
      const first = podCidr.replace(/\.0\/24$/, '.1/24');
      assert.equal(
        h.text(FLANNEL_SUBNET_FILE),
        `FLANNEL_NETWORK=${plan.networks.pods}\nFLANNEL_SUBNET=${first}\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n`,
      );
      assert.deepEqual(h.vxlan, { local: h.address });
      assert.deepEqual([h.service('flanneld').starts, h.service('flanneld').restarts], [1, 0]);
      const annotations = (converged.api.get('Node', node)!['metadata'] as { annotations: Record<string, string> }).annotations;
      assert.equal(annotations[FLANNEL_PUBLIC_IP_ANNOTATION], h.address);
      assert.match(
        firstRun('addons/flannel', node).notes.join('\n'),
        new RegExp(`flannel subnet ${first.replaceAll('.', '\\.')} over VXLAN from ${h.address}`),
      );
    }
  });

  it('CoreDNS: its objects applied once by the first run, nothing applied by a second; a lost object is applied alone', async () => {
    assert.deepEqual(firstRun('addons/coredns', 'cp-1').changed, [
      'applied ServiceAccount kube-system/coredns',
      'applied ClusterRole system:coredns',
      'applied ClusterRoleBinding system:coredns',
      'applied ConfigMap kube-system/coredns',
      'applied Deployment kube-system/coredns',
      'applied Service kube-system/kube-dns',
    ]);
    const lab = converged.clone();
    const cp = lab.host('cp-1');
    const coredns = input(plan, 'addons/coredns', 'cp-1');
    assert.deepEqual((await run(lab, 'addons/coredns', coredns)).changed, []);
    assert.deepEqual(cp.logged('change'), [], 'no kubectl apply');
    assert.equal(cp.logged('exec').filter((c) => / diff --server-side /.test(c)).length, 1);
    const deployment = () => lab.view('Deployment', 'coredns', 'kube-system')!;
    assert.deepEqual((deployment()['metadata'] as { generation: number }).generation, 1);
    assert.deepEqual((deployment()['status'] as { readyReplicas: number }).readyReplicas, 2);

    lab.api.delete('ConfigMap', 'coredns', 'kube-system'); // kubectl delete by an operator
    assert.deepEqual((await run(lab, 'addons/coredns', coredns)).changed, ['applied ConfigMap kube-system/coredns']);
    assert.equal((deployment()['metadata'] as { generation: number }).generation, 1, 'the Deployment did not change');
    assert.equal(cp.logged('change').length, 1);
    assert.deepEqual((await run(lab, 'addons/coredns', coredns)).changed, []);
  });

  it('CoreDNS forwards to the nodes’ resolvers only when every worker has one a pod can reach', async () => {
    const lab = converged.clone();
    // The control plane's resolvers do not matter (CoreDNS does not run there); a loopback stub is no resolver.
    lab.host('cp-1').write('/etc/resolv.conf', '# no resolvers here\n');
    assert.deepEqual((await run(lab, 'addons/coredns', input(plan, 'addons/coredns', 'cp-1'))).changed, []);
    lab.host('worker-2').write('/etc/resolv.conf', 'nameserver 127.0.0.53\nsearch example.org\n');
    const r = await run(lab, 'addons/coredns', input(plan, 'addons/coredns', 'cp-1'));
    assert.deepEqual(r.changed, ['applied ConfigMap kube-system/coredns']);
    assert.match(r.notes.join('\n'), /no resolvers on worker-2 \(\/etc\/resolv\.conf\): cluster names only/);
    const corefile = (lab.api.get('ConfigMap', 'coredns', 'kube-system')!['data'] as { Corefile: string }).Corefile;
    assert.doesNotMatch(corefile, /forward/);
    assert.match(
      (converged.api.get('ConfigMap', 'coredns', 'kube-system')!['data'] as { Corefile: string }).Corefile,
      /forward \. \/etc\/resolv\.conf/,
    );
  });

  it('admin: kubectl on the admin host is a cluster admin through hardway:cluster-admins, and not without it', async () => {
    const lab = converged.clone();
    assert.deepEqual((await run(lab, 'admin/kubectl', input(plan, 'admin/kubectl', 'admin'))).changed, []);
    lab.api.delete('ClusterRoleBinding', 'hardway:cluster-admins');
    const f = await failure(run(lab, 'admin/kubectl', input(plan, 'admin/kubectl', 'admin')));
    assert.equal(f.type, 'ConfigurationError');
    assert.match(f.message, /the admin kubeconfig on admin is not a cluster admin \(auth can-i: no\)/);
    // The RBAC step (as super-admin, system:masters) puts the binding back, and the admin is one again.
    assert.deepEqual((await run(lab, 'controlplane/rbac', input(plan, 'controlplane/rbac', 'cp-1'))).changed, [
      'applied ClusterRoleBinding hardway:cluster-admins',
    ]);
    assert.deepEqual((await run(lab, 'admin/kubectl', input(plan, 'admin/kubectl', 'admin'))).changed, []);
  });
});
