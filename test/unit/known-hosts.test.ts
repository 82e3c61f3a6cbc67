// node --import tsx --test test/unit/known-hosts.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  entryMatchesName,
  expectedKeysFor,
  fingerprintOfKey,
  hashHostName,
  hostKeyAlgorithmsFor,
  isRevoked,
  knownHostsName,
  normalizeFingerprint,
  parseKnownHosts,
  wildcardMatch,
} from '../../remote/known-hosts.js';

let dir: string;
const keys: Record<string, { type: string; b64: string; blob: Buffer; pubPath: string }> = {};

function keygen(name: string, type: string): void {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', path, '-C', name]);
  const [t, b64] = readFileSync(path + '.pub', 'utf8')
    .trim()
    .split(' ');
  keys[name] = { type: t!, b64: b64!, blob: Buffer.from(b64!, 'base64'), pubPath: path + '.pub' };
}

function sshKeygenFp(pubPath: string): string {
  return execFileSync('ssh-keygen', ['-lf', pubPath], { encoding: 'utf8' }).split(' ')[1]!;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hardway-kh-'));
  keygen('ed', 'ed25519');
  keygen('rsa', 'rsa');
  keygen('ecdsa', 'ecdsa');
  keygen('other', 'ed25519');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('fingerprints', () => {
  test('fingerprintOfKey equals ssh-keygen -lf for ed25519, rsa and ecdsa', () => {
    for (const k of Object.values(keys)) {
      assert.equal(fingerprintOfKey(k.blob), sshKeygenFp(k.pubPath));
    }
  });

  test('fingerprintOfKey matches ssh-keygen -lf on a known_hosts file', () => {
    const kh = join(dir, 'kh_fp');
    writeFileSync(kh, `h1 ${keys.ed!.type} ${keys.ed!.b64}\n`);
    const out = execFileSync('ssh-keygen', ['-lf', kh], { encoding: 'utf8' });
    const { entries } = parseKnownHosts(readFileSync(kh, 'utf8'));
    assert.equal(entries[0]!.fingerprint, out.split(' ')[1]);
  });

  test('normalizeFingerprint', () => {
    assert.equal(normalizeFingerprint('SHA256:abc'), 'SHA256:abc');
    assert.equal(normalizeFingerprint(' sha256:abc= '), 'SHA256:abc');
    assert.equal(normalizeFingerprint('abc'), 'SHA256:abc');
  });
});

describe('parseKnownHosts', () => {
  test('plain, comma lists, [host]:port, comments, markers, invalid lines', () => {
    const ed = keys.ed!;
    const rsa = keys.rsa!;
    const text = [
      '# a comment',
      '',
      `web-1,192.168.56.11 ${ed.type} ${ed.b64} root@web-1`,
      `[192.168.56.12]:2222,[etcd-1]:2222 ${rsa.type} ${rsa.b64}`,
      `   192.168.56.13 ${ed.type} ${ed.b64}`,
      `@cert-authority *.lab ${ed.type} ${ed.b64}`,
      `@revoked * ${keys.other!.type} ${keys.other!.b64}`,
      'garbage-line-without-key',
      `bad ssh-ed25519 !!!notbase64`,
      `@weird host ${ed.type} ${ed.b64}`,
    ].join('\n');
    const { entries, invalid } = parseKnownHosts(text);
    assert.equal(entries.length, 5);
    assert.deepEqual(
      invalid.map((i) => i.line),
      [8, 9, 10],
    );
    assert.deepEqual(entries[0]!.patterns, ['web-1', '192.168.56.11']);
    assert.equal(entries[0]!.comment, 'root@web-1');
    assert.equal(entries[0]!.line, 3);
    assert.equal(entries[3]!.marker, '@cert-authority');
    assert.equal(entries[4]!.marker, '@revoked');

    assert.deepEqual(
      expectedKeysFor(entries, 'web-1', 22).map((e) => e.fingerprint),
      [ed.blob].map(fingerprintOfKey),
    );
    assert.equal(expectedKeysFor(entries, '192.168.56.11').length, 1);
    assert.equal(expectedKeysFor(entries, 'WEB-1').length, 1, 'host names are case-insensitive');
    // Non-22 ports only match [host]:port entries, and vice versa.
    assert.equal(expectedKeysFor(entries, 'web-1', 2222).length, 0);
    assert.equal(expectedKeysFor(entries, '192.168.56.12', 2222)[0]!.keyType, 'ssh-rsa');
    assert.equal(expectedKeysFor(entries, 'etcd-1', 2222).length, 1);
    assert.equal(expectedKeysFor(entries, '192.168.56.12', 22).length, 0);
    // @cert-authority and @revoked lines are never expected keys.
    assert.equal(expectedKeysFor(entries, 'x.lab').length, 0);
    assert.equal(isRevoked(entries, keys.other!.blob), true);
    assert.equal(isRevoked(entries, ed.blob), false);
  });

  test('hashed entries produced by ssh-keygen -H (port 22 and [host]:port)', () => {
    const kh = join(dir, 'kh_hashed');
    writeFileSync(
      kh,
      [`etcd-1,192.168.56.21 ${keys.ed!.type} ${keys.ed!.b64}`, `[lb.lab]:2222 ${keys.ecdsa!.type} ${keys.ecdsa!.b64}`, ''].join('\n'),
    );
    execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
    const text = readFileSync(kh, 'utf8');
    assert.ok(!text.includes('etcd-1'), 'file is hashed');
    const { entries, invalid } = parseKnownHosts(text);
    assert.equal(invalid.length, 0);
    assert.equal(entries.length, 3, 'ssh-keygen -H writes one line per host name');
    assert.ok(entries.every((e) => e.hashed && !e.patterns));
    assert.equal(expectedKeysFor(entries, 'etcd-1')[0]!.fingerprint, sshKeygenFp(keys.ed!.pubPath));
    assert.equal(expectedKeysFor(entries, '192.168.56.21').length, 1);
    assert.equal(expectedKeysFor(entries, 'ETCD-1').length, 1);
    assert.equal(expectedKeysFor(entries, 'etcd-2').length, 0);
    assert.equal(expectedKeysFor(entries, 'lb.lab', 2222)[0]!.fingerprint, sshKeygenFp(keys.ecdsa!.pubPath));
    assert.equal(expectedKeysFor(entries, 'lb.lab', 22).length, 0);
    // Cross-check with ssh-keygen -F (lookup in a hashed file).
    const found = execFileSync('ssh-keygen', ['-F', '[lb.lab]:2222', '-f', kh], { encoding: 'utf8' });
    assert.match(found, /ecdsa-sha2-nistp256/);
  });

  test('hashHostName is compatible with parse/match', () => {
    const salt = Buffer.alloc(20, 7);
    const line = `${hashHostName(knownHostsName('Node-9', 2200), salt)} ${keys.ed!.type} ${keys.ed!.b64}`;
    const { entries } = parseKnownHosts(line);
    assert.equal(expectedKeysFor(entries, 'node-9', 2200).length, 1);
    assert.equal(entryMatchesName(entries[0]!, '[node-9]:2201'), false);
  });

  test('wildcards and negation follow OpenSSH', () => {
    assert.ok(wildcardMatch('worker-1.lab', '*.lab'));
    assert.ok(wildcardMatch('worker-1', 'worker-?'));
    assert.ok(!wildcardMatch('worker-10', 'worker-?'));
    assert.ok(wildcardMatch('192.168.56.11', '192.168.56.*'));
    assert.ok(wildcardMatch('abc', '*'));
    assert.ok(wildcardMatch('aXbXc', 'a*b*c'));
    assert.ok(!wildcardMatch('aXbX', 'a*b*c'));
    const { entries } = parseKnownHosts(`192.168.56.*,!192.168.56.99 ${keys.ed!.type} ${keys.ed!.b64}`);
    assert.equal(expectedKeysFor(entries, '192.168.56.10').length, 1);
    assert.equal(expectedKeysFor(entries, '192.168.56.99').length, 0);
    const { entries: ported } = parseKnownHosts(`[*.lab]:2222 ${keys.ed!.type} ${keys.ed!.b64}`);
    assert.equal(expectedKeysFor(ported, 'w.lab', 2222).length, 1);
    assert.equal(expectedKeysFor(ported, 'w.lab', 22).length, 0);
  });

  test('hostKeyAlgorithmsFor orders only the pinned types', () => {
    assert.deepEqual(hostKeyAlgorithmsFor(['ssh-rsa']), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    assert.deepEqual(hostKeyAlgorithmsFor(['ssh-rsa', 'ssh-ed25519']), ['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    assert.equal(hostKeyAlgorithmsFor(['sk-ssh-ed25519@openssh.com']), undefined);
  });
});
