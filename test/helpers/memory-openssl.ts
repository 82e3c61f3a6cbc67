// The openssl commands of pki/openssl.ts, done in memory for memory hosts (test/helpers/memory-host.ts): keys,
// certificate requests, signing and self-signed CAs, with the real certificate code of pki/ underneath. Keys are
// RSA 1024-bit here, whatever the command asks for (RSA of any size, or ECDSA P-256, which node-forge, underneath the
// certificates made here, cannot sign with), so that a whole bring-up of tests makes its ~50 keys quickly; nothing in
// the activities depends on the algorithm. pki.test.ts runs the same commands with the real openssl, for both.
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import type { KeyUsage, PlannedCertificate } from '../../model/types.js';
import { privateKeyObject } from '../../pki/keys.js';
import { attrValue, buildCertificatePem, parseCertificate, subjectKeyIdOf } from '../../pki/x509.js';

export function memoryKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function spkiPem(privateKeyPem: string): string {
  return createPublicKey(createPrivateKey(privateKeyPem)).export({ type: 'spki', format: 'pem' }).toString();
}

/** "/O=a/CN=b c" (openssl -subj, with \-escapes) -> { organization, commonName }. */
export function parseSubject(subj: string): { commonName: string; organization?: string } {
  const parts: string[] = [];
  let cur = '';
  for (let i = 1; i < subj.length; i++) {
    const c = subj[i]!;
    if (c === '\\' && i + 1 < subj.length) cur += subj[++i];
    else if (c === '/') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  const get = (k: string) => parts.find((p) => p.startsWith(`${k}=`))?.slice(k.length + 1);
  const o = get('O');
  return { commonName: get('CN') ?? '', ...(o !== undefined ? { organization: o } : {}) };
}

export function memoryRequest(keyPem: string, subj: string): string {
  const { commonName, organization } = parseSubject(subj);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(spkiPem(keyPem));
  csr.setSubject([...(organization ? [{ shortName: 'O', value: organization }] : []), { shortName: 'CN', value: commonName }]);
  csr.sign(forge.pki.privateKeyFromPem(keyPemToPkcs1(keyPem)), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

function keyPemToPkcs1(keyPem: string): string {
  return createPrivateKey(keyPem).export({ type: 'pkcs1', format: 'pem' }).toString();
}

/** The usages and SANs an extensions section of pki/openssl.ts asks for. */
export function parseExtensions(section: string): Pick<PlannedCertificate, 'usages' | 'dnsNames' | 'ipAddresses'> {
  const usages: KeyUsage[] = [];
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const line of section.split('\n')) {
    const [k, v = ''] = line.split('=').map((x) => x.trim());
    const items = v.split(',').map((x) => x.trim());
    if (k === 'keyUsage' || k === 'extendedKeyUsage') usages.push(...(items.filter((x) => x !== 'critical') as KeyUsage[]));
    if (k === 'subjectAltName') {
      for (const it of items) {
        if (it.startsWith('DNS:')) dnsNames.push(it.slice(4));
        if (it.startsWith('IP:')) ipAddresses.push(it.slice(3));
      }
    }
  }
  return { usages, dnsNames, ipAddresses };
}

/** `openssl x509 -req` of pki/openssl.ts signCommand: the request's subject and key, the section's extensions. */
export function memorySign(csrPem: string, ca: { certPem: string; keyPem: string }, days: number, extensions: string): string {
  const csr = forge.pki.certificationRequestFromPem(csrPem);
  if (!csr.verify()) throw new Error('req: signature does not verify');
  const caCert = parseCertificate(ca.certPem);
  const value = (s: string) => csr.subject.attributes.find((a) => a.shortName === s)?.value as string | undefined;
  const o = value('O');
  const planned: PlannedCertificate = {
    id: 'memory',
    commonName: value('CN') ?? '',
    ...(o !== undefined ? { organization: o } : {}),
    ...parseExtensions(extensions),
    isCA: false,
    placements: [],
    validityDays: days,
  };
  return buildCertificatePem({
    planned,
    publicKeyPem: forge.pki.publicKeyToPem(csr.publicKey!),
    issuer: caCert.subject.attributes.map((a) => ({ ...a, value: attrValue(a) })),
    authorityKeyId: subjectKeyIdOf(caCert),
    signingKey: privateKeyObject(ca.keyPem),
    notAfterCap: caCert.validity.notAfter,
  });
}

/** `openssl req -x509` of pki/openssl.ts createAuthorityCommand. */
export function memoryAuthority(keyPem: string, subj: string, days: number): string {
  const planned: PlannedCertificate = {
    id: 'memory-ca',
    ...parseSubject(subj),
    dnsNames: [],
    ipAddresses: [],
    usages: ['digitalSignature', 'keyEncipherment', 'keyCertSign', 'cRLSign'],
    isCA: true,
    placements: [],
    validityDays: days,
  };
  const key = privateKeyObject(keyPem);
  return buildCertificatePem({ planned, publicKeyPem: spkiPem(keyPem), signingKey: key });
}
