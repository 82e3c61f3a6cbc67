// Internal: building certificates with node-forge, signing with node:crypto (the CA key stays a
// node KeyObject; forge only assembles and encodes the TBSCertificate).
import { randomBytes, sign as nodeSign, createPublicKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

import { ConfigurationError } from '../model/errors.js';
import type { KeyUsage, PlannedCertificate } from '../model/types.js';

const KEY_USAGE_BITS = ['digitalSignature', 'keyEncipherment', 'keyCertSign', 'cRLSign'] as const;
const EXT_KEY_USAGES = ['serverAuth', 'clientAuth'] as const;
export type KeyUsageBit = (typeof KEY_USAGE_BITS)[number];
export type ExtKeyUsage = (typeof EXT_KEY_USAGES)[number];

/** Clock skew allowance: certificates are valid from 5 minutes before issuance. */
export const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The usages a certificate for this plan actually carries. CA: keyCertSign + cRLSign + digitalSignature
 * are always present. Leaf: when the plan lists no keyUsage bit, digitalSignature + keyEncipherment.
 */
export function effectiveUsages(planned: Pick<PlannedCertificate, 'usages' | 'isCA'>): {
  keyUsage: KeyUsageBit[];
  extKeyUsage: ExtKeyUsage[];
} {
  const set = new Set<KeyUsage>(planned.usages);
  if (planned.isCA) {
    set.add('keyCertSign');
    set.add('cRLSign');
    set.add('digitalSignature');
  } else if (!KEY_USAGE_BITS.some((u) => set.has(u))) {
    set.add('digitalSignature');
    set.add('keyEncipherment');
  }
  return {
    keyUsage: KEY_USAGE_BITS.filter((u) => set.has(u)),
    extKeyUsage: EXT_KEY_USAGES.filter((u) => set.has(u)),
  };
}

/** Canonical text form of an IP address (IPv6 compressed, lower case). Returns input when not an IP. */
export function canonicalIp(ip: string): string {
  const v = isIP(ip);
  if (v === 4)
    return ip
      .split('.')
      .map((o) => String(Number(o)))
      .join('.');
  if (v === 6) {
    try {
      return new URL(`http://[${ip}]/`).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return ip.toLowerCase();
    }
  }
  return ip;
}

export function randomSerialHex(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f || 0x01; // positive, minimal DER encoding
  return b.toString('hex');
}

export function subjectAttrs(planned: Pick<PlannedCertificate, 'commonName' | 'organization'>): forge.pki.CertificateField[] {
  // @types/node-forge types valueTagClass as asn1.Class; forge actually expects an asn1.Type here.
  const UTF8 = forge.asn1.Type.UTF8 as unknown as forge.asn1.Class;
  const attrs: forge.pki.CertificateField[] = [];
  if (planned.organization) attrs.push({ shortName: 'O', value: planned.organization, valueTagClass: UTF8 });
  attrs.push({ shortName: 'CN', value: planned.commonName, valueTagClass: UTF8 });
  return attrs;
}

export interface BuildInput {
  planned: PlannedCertificate;
  /** Subject public key (SPKI PEM). */
  publicKeyPem: string;
  /** Issuer subject attributes; self-signed when omitted. */
  issuer?: forge.pki.CertificateField[];
  /** Authority key identifier (raw bytes as forge binary string); the cert's own SKI when omitted. */
  authorityKeyId?: string;
  signingKey: KeyObject;
  now?: Date;
  /** The latest notAfter allowed: a leaf never outlives the CA that signs it. */
  notAfterCap?: Date;
}

export function buildCertificatePem(input: BuildInput): string {
  const { planned } = input;
  if (!planned.commonName) throw new ConfigurationError(`Certificate ${planned.id}: commonName is empty`);
  if (!(planned.validityDays > 0)) throw new ConfigurationError(`Certificate ${planned.id}: validityDays must be > 0`);
  const now = input.now ?? new Date();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(input.publicKeyPem);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  const plannedNotAfter = now.getTime() + planned.validityDays * DAY_MS;
  cert.validity.notAfter = new Date(input.notAfterCap ? Math.min(plannedNotAfter, input.notAfterCap.getTime()) : plannedNotAfter);
  const subject = subjectAttrs(planned);
  cert.setSubject(subject);
  cert.setIssuer(input.issuer ?? subject);

  const usages = effectiveUsages(planned);
  const ski = cert.generateSubjectKeyIdentifier().getBytes();
  const exts: object[] = [
    { name: 'basicConstraints', cA: planned.isCA, critical: true },
    {
      name: 'keyUsage',
      critical: true,
      ...Object.fromEntries(usages.keyUsage.map((u) => [u, true])),
    },
  ];
  if (usages.extKeyUsage.length) {
    exts.push({ name: 'extKeyUsage', ...Object.fromEntries(usages.extKeyUsage.map((u) => [u, true])) });
  }
  const altNames: { type: number; value?: string; ip?: string }[] = [];
  for (const dns of planned.dnsNames) altNames.push({ type: 2, value: dns });
  for (const ip of planned.ipAddresses) {
    if (!isIP(ip)) throw new ConfigurationError(`Certificate ${planned.id}: ${JSON.stringify(ip)} is not an IP address`);
    altNames.push({ type: 7, ip: canonicalIp(ip) });
  }
  if (altNames.length) exts.push({ name: 'subjectAltName', altNames });
  exts.push({ name: 'subjectKeyIdentifier' });
  exts.push({ name: 'authorityKeyIdentifier', keyIdentifier: input.authorityKeyId ?? ski });
  cert.setExtensions(exts);

  // Sign the TBSCertificate with node:crypto; forge only sees the bytes to sign.
  const signingKey = input.signingKey;
  let tbs = '';
  const md = {
    algorithm: 'sha256',
    update(bytes: string) {
      tbs += bytes;
      return md;
    },
  };
  const signer = {
    sign: () => nodeSign('sha256', Buffer.from(tbs, 'binary'), signingKey).toString('binary'),
  };
  cert.sign(signer as unknown as forge.pki.rsa.PrivateKey, md as unknown as forge.md.MessageDigest);
  return forge.pki.certificateToPem(cert);
}

/** Subject key identifier of a certificate (raw bytes as forge binary string). */
export function subjectKeyIdOf(cert: forge.pki.Certificate): string {
  const ext = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  if (ext?.subjectKeyIdentifier) return forge.util.hexToBytes(ext.subjectKeyIdentifier);
  return cert.generateSubjectKeyIdentifier().getBytes();
}

export function spkiPemOf(key: KeyObject): string {
  return createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}

/** Decode a parsed DN attribute value (forge keeps UTF8String values as raw bytes). */
export function attrValue(attr: forge.pki.CertificateField | undefined | null): string | undefined {
  if (!attr || typeof attr.value !== 'string') return undefined;
  const tag = (attr as { valueTagClass?: number }).valueTagClass;
  if (tag === forge.asn1.Type.UTF8) {
    try {
      return forge.util.decodeUtf8(attr.value);
    } catch {
      return attr.value;
    }
  }
  return attr.value;
}

export function parseCertificate(certPem: string): forge.pki.Certificate {
  try {
    return forge.pki.certificateFromPem(certPem);
  } catch (e) {
    throw new ConfigurationError(`Invalid certificate PEM (${(e as Error).message})`);
  }
}
