// Mistakes a new user made in a hundred broken cluster files, which used to get through or got a useless
// answer: each is rejected now, with a message that says what is wrong and a fix that works.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { parseClusterFile, type ParseResult } from '../../model/validate.js';
import { formatProblems, MAX_PROBLEMS_SHOWN } from '../../model/problem-format.js';
import { EXCERPT_LENGTH } from '../../model/excerpt.js';
import type { Problem } from '../../model/types.js';
import { seed, type Obj } from '../helpers/seed-object.js';

function mutate(f: (o: Obj) => void): ParseResult {
  const o = seed();
  f(o);
  return parseClusterFile(stringify(o));
}

const problemsOf = (r: ParseResult): Problem[] => (r.ok ? r.warnings : r.problems);

function expectError(r: ParseResult, code: string, path: string): Problem {
  const p = problemsOf(r).find((x) => x.code === code && x.path === path);
  assert.ok(p, `expected ${code} at ${path}, got:\n${formatProblems(problemsOf(r))}`);
  assert.equal(p.severity, 'error');
  assert.equal(r.ok, false);
  return p;
}

function expectOk(r: ParseResult): void {
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.problems));
}

describe('addresses that can never be a host address', () => {
  for (const withInfrastructure of [true, false]) {
    it(`the VirtualBox NAT address, loopback and 0.0.0.0 are rejected ${withInfrastructure ? 'with' : 'without'} networks.infrastructure`, () => {
      const r = mutate((o) => {
        if (!withInfrastructure) delete o.networks.infrastructure;
        o.hosts[5].address = '10.0.2.15';
        o.hosts[6].address = '127.0.0.1';
        o.hosts[7].address = '0.0.0.0';
        o.hosts[8].address = '10.0.2.2';
      });
      const nat = expectError(r, 'address-virtualbox-nat', 'hosts[5].address');
      assert.match(nat.message, /10\.0\.2\.15/);
      assert.match(nat.fix!, /VirtualBox's NAT NIC/);
      assert.match(nat.fix!, /host-only/);
      expectError(r, 'address-virtualbox-nat', 'hosts[8].address');
      expectError(r, 'address-loopback', 'hosts[6].address');
      expectError(r, 'address-unspecified', 'hosts[7].address');
      // said once, not also as "outside the infrastructure network"
      assert.equal(problemsOf(r).filter((p) => p.path === 'hosts[5].address').length, 1);
    });
  }

  it('every host on 10.0.2.15 (the Vagrant default) is one NAT error per host, not also duplicate addresses', () => {
    const r = mutate((o) => {
      delete o.networks.infrastructure;
      for (const h of o.hosts) h.address = '10.0.2.15';
    });
    assert.equal(problemsOf(r).filter((p) => p.code === 'address-virtualbox-nat').length, 10);
    assert.ok(!problemsOf(r).some((p) => p.code === 'duplicate-address'));
  });

  it('the external load balancer address too', () => {
    const r = mutate((o) => {
      o.hosts.splice(4, 1);
      o.loadBalancer = { external: { address: '127.0.0.1' } };
    });
    expectError(r, 'address-loopback', 'loadBalancer.external.address');
  });

  it('neighbours of the NAT network are fine', () => {
    expectOk(
      mutate((o) => {
        delete o.networks.infrastructure;
        o.hosts[0].address = '10.0.3.15';
        o.hosts[1].address = '10.0.1.15';
        o.hosts[2].address = '128.0.0.1';
      }),
    );
  });
});

describe('the service range', () => {
  it('a /30 or /29 is too small, with the reason and a range that fits', () => {
    for (const [services, dns] of [
      ['10.32.0.0/30', '10.32.0.2'],
      ['10.32.0.0/29', '10.32.0.2'],
    ]) {
      const r = mutate((o) => {
        o.networks.services = services;
        o.networks.clusterDns = dns;
      });
      const p = expectError(r, 'service-range-too-small', 'networks.services');
      assert.match(p.message, /`kubernetes` service and cluster DNS/);
      assert.match(p.fix!, /\/28 or larger/);
      assert.match(p.fix!, /10\.32\.0\.0\/24/);
    }
  });

  it('a /28 is accepted, with clusterDns inside it', () => {
    expectOk(
      mutate((o) => {
        o.networks.services = '10.32.0.0/28';
        o.networks.clusterDns = '10.32.0.10';
      }),
    );
    const outside = mutate((o) => {
      o.networks.services = '10.32.0.0/28';
      o.networks.clusterDns = '10.32.0.20';
    });
    assert.equal(expectError(outside, 'dns-outside-service-range', 'networks.clusterDns').fix, 'use 10.32.0.10');
  });
});

describe('ssh users', () => {
  it('user@host, user:port and whitespace are not login names, globally and per host', () => {
    const r = mutate((o) => {
      o.ssh = { user: 'vagrant@192.168.56.21' };
      o.hosts[7].ssh = { user: 'root:2222' };
      o.hosts[8].ssh = { user: 'ops team' };
    });
    const at = expectError(r, 'invalid-ssh-user', 'ssh.user');
    assert.match(at.fix!, /user: "vagrant"/);
    assert.match(at.fix!, /hosts\[\]\.address/);
    assert.match(expectError(r, 'invalid-ssh-user', 'hosts[7].ssh.user').fix!, /user: "root".*ssh\.port/);
    expectError(r, 'invalid-ssh-user', 'hosts[8].ssh.user');
  });

  it('ordinary login names pass', () => {
    expectOk(
      mutate((o) => {
        o.ssh = { user: 'vagrant' };
        o.hosts[7].ssh = { user: 'deploy_user' };
        o.hosts[8].ssh = { user: 'ubuntu-2' };
      }),
    );
  });
});

describe('ssh.identityFile', () => {
  it('a .pub file is the public key', () => {
    const r = mutate((o) => {
      o.ssh = { identityFile: '~/.ssh/id_ed25519.pub' };
    });
    const p = expectError(r, 'identity-file-is-public-key', 'ssh.identityFile');
    assert.match(p.fix!, /that is the public key; give the private key file, e.g\. ~\/\.ssh\/id_ed25519$/);
    expectOk(
      mutate((o) => {
        o.ssh = { identityFile: '~/.ssh/id_ed25519' };
      }),
    );
  });
});

describe('versions written as YAML numbers', () => {
  for (const [field, text, suggested] of [
    ['kubernetes', '1.32', 'v1.32.0'],
    ['kubernetes', '1.30', 'v1.30.0'],
    ['etcd', '3.5', 'v3.5.0'],
  ] as const) {
    it(`${field}: ${text} gets a fix whose value passes`, () => {
      const text0 = stringify(seed()) + `versions:\n  ${field}: ${text}\n`;
      const r = parseClusterFile(text0);
      const p = expectError(r, 'wrong-type', `versions.${field}`);
      const value = /"(v[^"]+)"/.exec(p.fix!)?.[1];
      assert.equal(value, suggested, p.fix);
      expectOk(parseClusterFile(stringify(seed()) + `versions:\n  ${field}: "${value}"\n`));
    });
  }

  it('a quoted version without the v or the patch gets a value that passes', () => {
    const r = mutate((o) => {
      o.versions = { kubernetes: '1.32' };
    });
    const p = expectError(r, 'invalid-version', 'versions.kubernetes');
    assert.equal(p.fix, 'write "v1.32.0"');
    expectOk(
      mutate((o) => {
        o.versions = { kubernetes: 'v1.32.0' };
      }),
    );
  });
});

describe('a file of junk is not echoed back', () => {
  const long = (c: string) => c.repeat(200_000);

  it('every value quoted in a message is a short excerpt', () => {
    const r = mutate((o) => {
      o.name = long('N');
      o.hosts[0].name = long('x');
      o.hosts[1].address = long('1');
      o.hosts[2].roles = long('w');
      o.hosts[3].roles = [long('r')];
      o.ssh = { user: `${long('u')}@x`, identityFile: `${long('k')}.pub`, fingerprints: { [long('f')]: long('p') } };
      o.binaries = { source: long('s'), directory: long('d') };
      o.versions = { kubernetes: long('v') };
      o[long('z')] = 1;
    });
    const all = problemsOf(r);
    assert.ok(all.length >= 10, formatProblems(all));
    for (const p of all) {
      assert.ok(p.message.length < 400, `${p.code}: message of ${p.message.length} characters`);
      assert.ok((p.fix ?? '').length < 400, `${p.code}: fix of ${p.fix!.length} characters`);
    }
    assert.ok(
      all.some((p) => p.message.includes(`"${'N'.repeat(EXCERPT_LENGTH)}…"`)),
      'the excerpt is marked as cut',
    );
  });

  it('a whole file that is one long string', () => {
    const r = parseClusterFile('x'.repeat(2_000_000));
    assert.ok(formatProblems(problemsOf(r)).length < 400);
  });

  it(`at most ${MAX_PROBLEMS_SHOWN} problems are listed, then how many more`, () => {
    const r = parseClusterFile(Array.from({ length: 5000 }, (_, i) => `k${i}: [${i}`).join('\n'));
    const all = problemsOf(r);
    assert.ok(all.length > MAX_PROBLEMS_SHOWN);
    const lines = formatProblems(all, 'junk.yaml').split('\n');
    assert.equal(lines.length, MAX_PROBLEMS_SHOWN + 2);
    assert.match(lines[MAX_PROBLEMS_SHOWN]!, new RegExp(`and ${all.length - MAX_PROBLEMS_SHOWN} more`));
    assert.match(lines[MAX_PROBLEMS_SHOWN + 1]!, new RegExp(`^${all.length} errors`));
  });
});
