// SSH defaults are decided in one place (remote/connection.ts resolveSshDefaults) and the worker's targets use it
// (activities/ssh-shells.ts sshTarget): identity = worker flag -> cluster file -> ~/.ssh/id_* -> agent;
// known_hosts = cluster file -> ~/.ssh/known_hosts.
//   node --import tsx --test test/unit/activities-ssh-defaults.test.ts
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sshTarget } from '../../activities/ssh-shells.js';
import type { HostTarget } from '../../activities/types.js';
import { resolveSshDefaults } from '../../remote/connection.js';

const home = '/home/op';
const having = (...files: string[]) => ({
  home,
  agentSocket: '/run/agent.sock',
  exists: (p: string) => files.map((f) => join(home, '.ssh', f)).includes(p),
});

describe('resolveSshDefaults: the one place', () => {
  it("the worker's --identity comes first: the key is a file on the worker's machine", () => {
    assert.deepEqual(resolveSshDefaults({ identityFile: '/keys/cluster' }, { identityFile: '/keys/worker' }, having('id_ed25519')), {
      identityFile: '/keys/worker',
      knownHostsFile: '/home/op/.ssh/known_hosts',
    });
  });

  it("then the cluster file's ssh.identityFile", () => {
    assert.equal(resolveSshDefaults({ identityFile: '/keys/cluster' }, {}, having('id_ed25519')).identityFile, '/keys/cluster');
  });

  it('then ~/.ssh/id_ed25519, id_ecdsa, id_rsa, the first that exists, before the agent', () => {
    assert.equal(resolveSshDefaults({}, {}, having('id_rsa', 'id_ecdsa')).identityFile, '/home/op/.ssh/id_ecdsa');
    assert.equal(resolveSshDefaults({}, {}, having('id_rsa')).identityFile, '/home/op/.ssh/id_rsa');
    assert.equal(resolveSshDefaults({}, {}, having('id_rsa')).agent, undefined, 'no agent next to an identity file');
  });

  it("then the agent (the worker's socket, else $SSH_AUTH_SOCK), and nothing when there is none", () => {
    assert.deepEqual(resolveSshDefaults({}, {}, having()), { agent: '/run/agent.sock', knownHostsFile: '/home/op/.ssh/known_hosts' });
    assert.equal(resolveSshDefaults({}, { agent: '/run/worker.sock' }, having()).agent, '/run/worker.sock');
    assert.deepEqual(resolveSshDefaults({}, {}, { ...having(), agentSocket: undefined }), { knownHostsFile: '/home/op/.ssh/known_hosts' });
  });

  it("the cluster file's known_hosts, else ~/.ssh/known_hosts", () => {
    assert.equal(
      resolveSshDefaults({ knownHostsFile: '/etc/hardway/known_hosts' }, {}, having()).knownHostsFile,
      '/etc/hardway/known_hosts',
    );
  });
});

describe('sshTarget uses it', () => {
  const target: HostTarget = { name: 'etcd-1', address: '192.168.56.11', user: 'vagrant', port: 2222, fingerprint: 'SHA256:abc' };

  it('a target of the cluster file keeps its identity and known_hosts, and pins its fingerprint', () => {
    const t = sshTarget({ ...target, identityFile: '/keys/cluster', knownHostsFile: '/kh' });
    assert.deepEqual(t, {
      host: '192.168.56.11',
      name: 'etcd-1',
      port: 2222,
      user: 'vagrant',
      identityFile: '/keys/cluster',
      knownHostsFile: '/kh',
      fingerprints: ['SHA256:abc'],
    });
  });

  it("a target without identity takes the worker's, then the home directory's, as the connection would", () => {
    assert.equal(sshTarget(target, { identityFile: '/keys/worker' }).identityFile, '/keys/worker');
    const dir = mkdtempSync(join(tmpdir(), 'hardway-home-'));
    const saved = { HOME: process.env.HOME, SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK };
    try {
      mkdirSync(join(dir, '.ssh'));
      writeFileSync(join(dir, '.ssh', 'id_rsa'), 'key');
      process.env.HOME = dir;
      process.env.SSH_AUTH_SOCK = '/run/agent.sock';
      const t = sshTarget(target);
      assert.equal(t.identityFile, join(dir, '.ssh', 'id_rsa'));
      assert.equal(t.agent, undefined);
      assert.equal(t.knownHostsFile, join(dir, '.ssh', 'known_hosts'));
      rmSync(join(dir, '.ssh', 'id_rsa'));
      assert.equal(sshTarget(target).agent, '/run/agent.sock');
      assert.deepEqual(
        sshTarget(target),
        { ...sshTarget(target), ...resolveSshDefaults({}) },
        "the same decision as the connection's fallback",
      );
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
