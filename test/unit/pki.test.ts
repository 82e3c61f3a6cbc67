// node --import tsx --test test/unit/pki.test.ts
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ConfigurationError } from '../../model/errors.js';
import type { PlannedCertificate } from '../../model/types.js';
import {
  certificateMatchesPlan,
  createCA,
  describeCertificate,
  fingerprintSha256,
  generateKeyPem,
  generateServiceAccountKeyPair,
  issueCertificate,
  keyMatchesCertificate,
  publicKeyMatchesPrivateKey,
  samePublicKey,
  type CertAndKey,
} from '../../pki/index.js';
import {
  authorityStateCommand,
  certificatePublicKeyPem,
  createAuthorityCommand,
  extensionsSection,
  keyStateCommand,
  keyStatesCommand,
  makeKeyCommand,
  parseAuthorityState,
  parseKeyState,
  parseKeyStates,
  requestCommand,
  requestProblem,
  signCommand,
  subjectArg,
} from '../../pki/openssl.js';
import { randomSerialHex } from '../../pki/x509.js';

const caPlan: PlannedCertificate = {
  id: 'ca',
  commonName: 'Kubernetes',
  organization: 'Kubernetes',
  dnsNames: [],
  ipAddresses: [],
  usages: ['keyCertSign', 'cRLSign'],
  isCA: true,
  placements: [],
  validityDays: 3650,
};

const apiPlan: PlannedCertificate = {
  id: 'kube-apiserver',
  commonName: 'kubernetes',
  organization: 'Kubernetes',
  dnsNames: [
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
    'server.kubernetes.local',
  ],
  ipAddresses: ['10.32.0.1', '192.168.56.40', '127.0.0.1'],
  usages: ['digitalSignature', 'keyEncipherment', 'serverAuth', 'clientAuth'],
  isCA: false,
  placements: [
    {
      host: 'controlplane-1',
      certPath: '/var/lib/kubernetes/kube-apiserver.crt',
      keyPath: '/var/lib/kubernetes/kube-apiserver.key',
      caPath: '/var/lib/kubernetes/ca.crt',
    },
  ],
  validityDays: 365,
};

const nodePlan: PlannedCertificate = {
  id: 'kubelet-worker-1',
  commonName: 'system:node:worker-1',
  organization: 'system:nodes',
  dnsNames: ['worker-1'],
  ipAddresses: ['192.168.56.51'],
  usages: ['digitalSignature', 'keyEncipherment', 'clientAuth', 'serverAuth'],
  isCA: false,
  placements: [],
  validityDays: 365,
};

let dir: string;
let ca: CertAndKey;
let otherCa: CertAndKey;
let api: CertAndKey;

function write(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content, { mode: 0o600 });
  return p;
}

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hardway-pki-'));
  ca = await createCA(caPlan);
  otherCa = await createCA(caPlan, { bits: 2048 });
  api = await issueCertificate(apiPlan, ca);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('CA', () => {
  test('CA:TRUE (critical), keyCertSign, self-signed, 3072-bit key', async () => {
    const text = openssl('x509', '-in', write('ca.crt', ca.certPem), '-noout', '-text');
    assert.match(text, /Basic Constraints: critical\s+CA:TRUE/);
    assert.match(text, /Key Usage: critical\s+[^\n]*Certificate Sign/);
    assert.match(text, /CRL Sign/);
    assert.match(text, /Subject: O ?= ?Kubernetes, CN ?= ?Kubernetes/);
    assert.match(text, /Public-Key: \(3072 bit\)/);
    assert.match(text, /Subject Key Identifier/);
    assert.equal(new X509Certificate(ca.certPem).ca, true);
    assert.equal(openssl('verify', '-CAfile', write('ca2.crt', ca.certPem), write('ca3.crt', ca.certPem)).trim().endsWith('OK'), true);
    assert.deepEqual(certificateMatchesPlan(ca.certPem, caPlan, ca.certPem), { ok: true, reasons: [] });
    assert.ok(keyMatchesCertificate(ca.keyPem, ca.certPem));
    await assert.rejects(createCA(apiPlan), /not a CA/);
    await assert.rejects(issueCertificate(caPlan, ca), /use createCA/);
  });
});

describe('issued certificates', () => {
  test('verify with openssl verify -CAfile and show SANs, CN and O', async () => {
    const caFile = write('ca.crt', ca.certPem);
    const crt = write('api.crt', api.certPem);
    assert.equal(openssl('verify', '-CAfile', caFile, crt).trim(), `${crt}: OK`);
    const text = openssl('x509', '-in', crt, '-noout', '-text');
    assert.match(text, /Subject: O ?= ?Kubernetes, CN ?= ?kubernetes\n/);
    for (const d of apiPlan.dnsNames) assert.ok(text.includes(`DNS:${d}`), d);
    for (const ip of apiPlan.ipAddresses) assert.ok(text.includes(`IP Address:${ip}`), ip);
    assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /Key Usage: critical\s+Digital Signature, Key Encipherment/);
    assert.match(text, /Extended Key Usage:\s+TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(text, /Authority Key Identifier/);
    // AKI of the leaf = SKI of the CA.
    const caSki = openssl('x509', '-in', caFile, '-noout', '-ext', 'subjectKeyIdentifier').split('\n')[1]!.trim();
    const aki = openssl('x509', '-in', crt, '-noout', '-ext', 'authorityKeyIdentifier');
    assert.ok(aki.includes(caSki), `${aki} should contain ${caSki}`);
    // Serial positive; validity starts ~5 minutes ago.
    const x = new X509Certificate(api.certPem);
    assert.ok(!x.serialNumber.startsWith('8') && x.serialNumber.length >= 30);
    const nb = new Date(x.validFrom).getTime();
    assert.ok(Date.now() - nb > 4 * 60_000 && Date.now() - nb < 6 * 60_000);
    const na = new Date(x.validTo).getTime();
    assert.ok(Math.abs(na - Date.now() - 365 * 86400_000) < 60_000);
    // The key verifies with openssl too.
    const mod1 = openssl('x509', '-in', crt, '-noout', '-modulus');
    const mod2 = openssl('rsa', '-in', write('api.key', api.keyPem), '-noout', '-modulus');
    assert.equal(mod1, mod2);
  });

  test('node certificate with colons in CN/O and IPv6 SAN', async () => {
    const plan = { ...nodePlan, ipAddresses: [...nodePlan.ipAddresses, 'fd00::51'] };
    const c = await issueCertificate(plan, ca);
    const crt = write('node.crt', c.certPem);
    assert.match(openssl('verify', '-CAfile', write('ca.crt', ca.certPem), crt), /OK/);
    const subj = openssl('x509', '-in', crt, '-noout', '-subject', '-nameopt', 'RFC2253');
    assert.equal(subj.trim(), 'subject=CN=system:node:worker-1,O=system:nodes');
    assert.deepEqual(certificateMatchesPlan(c.certPem, plan, ca.certPem), { ok: true, reasons: [] });
    // Different textual forms of the same IPv6 address still match.
    assert.ok(certificateMatchesPlan(c.certPem, { ...plan, ipAddresses: ['192.168.56.51', 'fd00:0:0::0051'] }, ca.certPem).ok);
    const d = describeCertificate(c.certPem);
    assert.equal(d.commonName, 'system:node:worker-1');
    assert.deepEqual(d.organizations, ['system:nodes']);
    assert.deepEqual(d.ipAddresses, ['192.168.56.51', 'fd00::51']);
    assert.equal(d.isCA, false);
  });

  test('certificateMatchesPlan: matching plan is ok', async () => {
    assert.deepEqual(certificateMatchesPlan(api.certPem, apiPlan, ca.certPem, { keyPem: api.keyPem }), { ok: true, reasons: [] });
  });

  test('a missing SAN (plan gained a SAN) is reported with a reason', async () => {
    const r = certificateMatchesPlan(api.certPem, { ...apiPlan, ipAddresses: [...apiPlan.ipAddresses, '192.168.56.41'] }, ca.certPem);
    assert.equal(r.ok, false);
    assert.deepEqual(r.reasons, ['missing IP SAN(s): 192.168.56.41']);
    const r2 = certificateMatchesPlan(api.certPem, { ...apiPlan, dnsNames: apiPlan.dnsNames.slice(1) }, ca.certPem);
    assert.equal(r2.ok, false);
    assert.deepEqual(r2.reasons, ['unexpected DNS SAN(s): kubernetes']);
  });

  test('a certificate issued with a SAN missing does not match the plan', async () => {
    const short = await issueCertificate({ ...apiPlan, dnsNames: apiPlan.dnsNames.filter((d) => d !== 'kubernetes.default') }, ca);
    const r = certificateMatchesPlan(short.certPem, apiPlan, ca.certPem);
    assert.equal(r.ok, false);
    assert.match(r.reasons.join('\n'), /missing DNS SAN\(s\): kubernetes\.default$/m);
  });

  test('a certificate from a different CA (same subject) does not match', async () => {
    const foreign = await issueCertificate(apiPlan, otherCa);
    const r = certificateMatchesPlan(foreign.certPem, apiPlan, ca.certPem);
    assert.equal(r.ok, false);
    assert.match(r.reasons.join('\n'), /different CA/);
    assert.throws(() => openssl('verify', '-CAfile', write('ca.crt', ca.certPem), write('foreign.crt', foreign.certPem)));
  });

  test('CN, O, usages and CA flag differences are reported', async () => {
    const r = certificateMatchesPlan(
      api.certPem,
      { ...apiPlan, commonName: 'other', organization: undefined, usages: ['digitalSignature', 'keyEncipherment', 'serverAuth'] },
      ca.certPem,
    );
    assert.equal(r.ok, false);
    const all = r.reasons.join('\n');
    assert.match(all, /subject CN/);
    assert.match(all, /subject O/);
    assert.match(all, /extKeyUsage differs; extra clientAuth/);
    const r2 = certificateMatchesPlan(ca.certPem, { ...caPlan, isCA: false }, ca.certPem);
    assert.match(r2.reasons.join('\n'), /CA:TRUE, want CA:FALSE/);
  });

  test('expired and expiring certificates are reported', async () => {
    const longAgo = new Date(Date.now() - 400 * 86400_000);
    const old = await issueCertificate(apiPlan, ca, { now: longAgo, keyPem: api.keyPem });
    const r = certificateMatchesPlan(old.certPem, apiPlan, ca.certPem);
    assert.equal(r.ok, false);
    assert.match(r.reasons.join('\n'), /expired on/);
    const soon = await issueCertificate({ ...apiPlan, validityDays: 10 }, ca, { keyPem: api.keyPem });
    assert.match(certificateMatchesPlan(soon.certPem, apiPlan, ca.certPem).reasons.join('\n'), /renewal window/);
    // A short-lived plan is not perpetually "expiring" right after issuance (window = validity/3).
    assert.ok(certificateMatchesPlan(soon.certPem, { ...apiPlan, validityDays: 10 }, ca.certPem).ok);
    assert.ok(!certificateMatchesPlan(soon.certPem, { ...apiPlan, validityDays: 10 }, ca.certPem, { minRemainingDays: 30 }).ok);
    // Re-issuing with the same key keeps the key.
    assert.equal(old.keyPem, api.keyPem);
    assert.ok(keyMatchesCertificate(api.keyPem, old.certPem));
  });

  test('garbage input is reported, not thrown', async () => {
    const r = certificateMatchesPlan('not a cert', apiPlan, ca.certPem);
    assert.equal(r.ok, false);
    assert.match(r.reasons[0]!, /cannot parse/);
  });
});

describe('a CA near its end', () => {
  const DAY = 86_400_000;
  test('a leaf never outlives the CA that signs it', async () => {
    // The same CA key, its certificate issued 3620 days ago: 30 days left.
    const old = await createCA(caPlan, { keyPem: ca.keyPem, now: new Date(Date.now() - 3620 * DAY) });
    const caEnd = new Date(new X509Certificate(old.certPem).validTo).getTime();
    const leaf = await issueCertificate(nodePlan, old, { bits: 2048 });
    assert.equal(new Date(new X509Certificate(leaf.certPem).validTo).getTime(), caEnd);
    // A leaf issued while the CA had years left outlives that short certificate: it is reported, to be reissued.
    const check = certificateMatchesPlan(api.certPem, apiPlan, old.certPem, { minRemainingDays: 0 });
    assert.equal(check.ok, false);
    assert.match(check.reasons.join('; '), /after its CA expires/);
  });

  test('re-issued with the same key, it still verifies every leaf it signed before', async () => {
    const renewed = await createCA(caPlan, { keyPem: ca.keyPem });
    assert.notEqual(renewed.certPem, ca.certPem);
    assert.deepEqual(certificateMatchesPlan(api.certPem, apiPlan, renewed.certPem), { ok: true, reasons: [] });
    const crt = write('api-renewed.crt', api.certPem);
    assert.equal(openssl('verify', '-CAfile', write('ca-renewed.crt', renewed.certPem), crt).trim(), `${crt}: OK`);
  });
});

describe('signing on the hosts with openssl (pki/openssl.ts, run here with the real openssl)', () => {
  const sh = (cmd: string, input?: string) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  const caAt = (algorithm: string) => ({ certPath: join(dir, 'osl', algorithm, 'ca.crt'), keyPath: join(dir, 'osl', algorithm, 'ca.key') });

  for (const algorithm of ['RSA-2048', 'ECDSA-P256'] as const) {
    test(`a CA made in place, a key that never leaves its directory, a request, and a certificate that matches the plan (${algorithm})`, () => {
      const ca = caAt(algorithm);
      sh(makeKeyCommand(ca.keyPath, algorithm));
      assert.equal(statSync(ca.keyPath).mode & 0o777, 0o600);
      sh(createAuthorityCommand(caPlan, ca.certPath, ca.keyPath, randomSerialHex()));
      const st = parseAuthorityState(sh(authorityStateCommand(ca.certPath, ca.keyPath)));
      assert.equal(st.key?.mode, '600');
      assert.equal(st.key?.publicKeyDigest, st.certPublicKeyDigest, 'the key matches its certificate, judged on the CA host');
      const caPem = readFileSync(ca.certPath, 'utf8');
      assert.deepEqual(certificateMatchesPlan(caPem, caPlan, caPem), { ok: true, reasons: [] });
      // A second run keeps the key.
      const key = readFileSync(ca.keyPath, 'utf8');
      sh(makeKeyCommand(ca.keyPath, algorithm));
      assert.equal(readFileSync(ca.keyPath, 'utf8'), key);

      const leafKey = join(dir, 'osl', algorithm, 'node', 'kubelet.key');
      sh(makeKeyCommand(leafKey, algorithm));
      const state = parseKeyState(sh(keyStateCommand(leafKey)))!;
      assert.equal(state.mode, '600');
      const made = createPublicKey(state.publicKeyPem);
      assert.equal(made.asymmetricKeyType, algorithm === 'ECDSA-P256' ? 'ec' : 'rsa');
      if (algorithm === 'ECDSA-P256') assert.equal(made.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      else assert.equal(made.asymmetricKeyDetails?.modulusLength, 2048);
      // Several keys in one round trip: the one that is there, and none for the one that is not.
      const states = parseKeyStates(sh(keyStatesCommand([leafKey, join(dir, 'osl', algorithm, 'none.key'), ca.keyPath])));
      assert.deepEqual([...states.keys()], [leafKey, ca.keyPath]);
      assert.deepEqual(states.get(leafKey), state);
      const csr = sh(requestCommand(leafKey, nodePlan));
      assert.equal(requestProblem(csr, nodePlan), undefined);
      assert.match(requestProblem(csr, { ...nodePlan, organization: 'system:masters' })!, /asks for O "system:nodes"/);
      assert.match(requestProblem(csr, { ...nodePlan, commonName: 'system:node:worker-2' })!, /asks for CN "system:node:worker-1"/);
      // A request whose signature was tampered with proves nothing about the key.
      const der = Buffer.from(csr.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
      der[der.length - 3]! ^= 0x01;
      const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
      assert.equal(requestProblem(tampered, nodePlan), 'its signature does not verify');
      assert.match(requestProblem('garbage', nodePlan)!, /^not a certificate request/);
      const crt = sh(signCommand(nodePlan, ca, 100, randomSerialHex()), csr);
      assert.deepEqual(certificateMatchesPlan(crt, nodePlan, caPem), { ok: true, reasons: [] });
      assert.ok(samePublicKey(certificatePublicKeyPem(crt), state.publicKeyPem), 'the certificate holds the host key');
      assert.ok(!samePublicKey(certificatePublicKeyPem(crt), certificatePublicKeyPem(caPem)));
      // A certificate that differs from the plan is told apart for ECDSA as for RSA.
      assert.match(
        certificateMatchesPlan(crt, { ...nodePlan, dnsNames: [...nodePlan.dnsNames, 'extra.example'] }, caPem).reasons.join(),
        /missing DNS SAN/,
      );
      assert.match(certificateMatchesPlan(crt, { ...nodePlan, usages: ['serverAuth'] }, caPem).reasons.join(), /extKeyUsage differs/);
      const described = describeCertificate(crt);
      assert.deepEqual([described.commonName, described.organizations, described.isCA], [nodePlan.commonName, ['system:nodes'], false]);
      const file = write(`osl-node-${algorithm}.crt`, crt);
      assert.equal(openssl('verify', '-CAfile', ca.certPath, file).trim(), `${file}: OK`);
      const days = (new Date(new X509Certificate(crt).validTo).getTime() - Date.now()) / 86_400_000;
      assert.ok(days > 99 && days <= 100, `${days} days`);
    });
  }

  test('the extensions come from the plan: SANs, key usages, CA:FALSE', () => {
    const ext = extensionsSection(apiPlan);
    assert.match(ext, /^basicConstraints = critical, CA:FALSE$/m);
    assert.match(ext, /^keyUsage = critical, digitalSignature, keyEncipherment$/m);
    assert.match(ext, /^extendedKeyUsage = serverAuth, clientAuth$/m);
    assert.match(ext, /^subjectAltName = DNS:kubernetes, .*IP:10\.32\.0\.1, IP:192\.168\.56\.40, IP:127\.0\.0\.1$/m);
    assert.equal(subjectArg({ commonName: 'a/b', organization: 'x=y' }), '/O=x\\=y/CN=a\\/b');
  });
});

describe('keys', () => {
  test('key/certificate pair matching', async () => {
    assert.equal(keyMatchesCertificate(api.keyPem, api.certPem), true);
    assert.equal(keyMatchesCertificate(ca.keyPem, api.certPem), false);
    assert.equal(keyMatchesCertificate(await generateKeyPem(), api.certPem), false);
    assert.equal(keyMatchesCertificate('garbage', api.certPem), false);
    const r = certificateMatchesPlan(api.certPem, apiPlan, ca.certPem, { keyPem: ca.keyPem });
    assert.deepEqual(r.reasons, ['private key does not match the certificate']);
  });

  test('issuing with a provided key reuses it', async () => {
    const key = await generateKeyPem();
    const c = await issueCertificate(nodePlan, ca, { keyPem: key });
    assert.equal(c.keyPem, key);
    assert.ok(keyMatchesCertificate(key, c.certPem));
  });

  test('generated keys are RSA PEM; service-account pair matches', async () => {
    const k = await generateKeyPem();
    assert.match(k, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.match(openssl('rsa', '-in', write('k.key', k), '-noout', '-text'), /Private-Key: \(2048 bit/);
    const sa = await generateServiceAccountKeyPair();
    assert.match(sa.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
    assert.match(sa.privateKeyPem, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.ok(publicKeyMatchesPrivateKey(sa.publicKeyPem, sa.privateKeyPem));
    assert.ok(!publicKeyMatchesPrivateKey(sa.publicKeyPem, k));
    const pubFromOpenssl = execFileSync('openssl', ['rsa', '-in', write('sa.key', sa.privateKeyPem), '-pubout'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    assert.equal(pubFromOpenssl, sa.publicKeyPem);
  });

  test('an ECDSA P-256 service-account pair: PKCS#8, its public half as openssl derives it', async () => {
    const sa = await generateServiceAccountKeyPair({ algorithm: 'ECDSA-P256' });
    assert.match(sa.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(createPublicKey(sa.publicKeyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(publicKeyMatchesPrivateKey(sa.publicKeyPem, sa.privateKeyPem));
    const pub = openssl('pkey', '-in', write('sa-ec.key', sa.privateKeyPem), '-pubout');
    assert.ok(samePublicKey(pub, sa.publicKeyPem));
    assert.ok(!samePublicKey(pub, (await generateServiceAccountKeyPair({ algorithm: 'ECDSA-P256' })).publicKeyPem));
    assert.equal(samePublicKey('garbage', pub), false);
  });

  test('an RSA key is made off the event loop: timers keep firing while it is generated', async () => {
    // The worker has one thread: with a synchronous generation no timer, heartbeat or other activity runs until
    // the key is done, and the interval below never fires before the await resumes.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const key = await generateKeyPem({ bits: 2048 });
      assert.match(key, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticks > 0, 'the event loop did not turn while the key was generated');
  });

  test('bad input is a non-retryable ConfigurationError', async () => {
    await assert.rejects(generateKeyPem({ bits: 1024 }), (e: Error) => e instanceof ConfigurationError && !e.retryable);
    await assert.rejects(issueCertificate(nodePlan, { certPem: ca.certPem, keyPem: otherCa.keyPem }), ConfigurationError);
    await assert.rejects(createCA(apiPlan), ConfigurationError);
  });

  test('fingerprintSha256 equals openssl x509 -fingerprint -sha256', async () => {
    const out = openssl('x509', '-in', write('fp.crt', api.certPem), '-noout', '-fingerprint', '-sha256');
    assert.equal(out.trim().split('=')[1], fingerprintSha256(api.certPem));
  });
});
