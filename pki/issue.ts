// Leaf certificates signed by the cluster CA.
import { X509Certificate } from 'node:crypto';

import { ConfigurationError } from '../model/errors.js';
import type { PlannedCertificate } from '../model/types.js';
import type { CertAndKey } from './ca.js';
import { DEFAULT_KEY_BITS, generateKeyPem, keyMatchesCertificate, privateKeyObject } from './keys.js';
import { attrValue, buildCertificatePem, parseCertificate, spkiPemOf, subjectKeyIdOf } from './x509.js';

export interface IssueOptions {
  /** Reuse this key (renewal keeps the key); a new RSA key is generated otherwise. */
  keyPem?: string;
  /** RSA bits for a new key. Default 2048. */
  bits?: number;
  now?: Date;
}

/**
 * Issue a certificate for `planned`, signed by `ca`: subject O/CN, DNS + IP SANs, keyUsage (critical)
 * and extKeyUsage from `usages`, basicConstraints CA:FALSE (critical), SKI, AKI = CA's SKI,
 * random positive serial, valid from now-5min for validityDays, but never past the CA's own notAfter.
 */
export async function issueCertificate(planned: PlannedCertificate, ca: CertAndKey, opts: IssueOptions = {}): Promise<CertAndKey> {
  if (planned.isCA) throw new ConfigurationError(`Certificate ${planned.id} is a CA; use createCA`);
  const caCert = parseCertificate(ca.certPem);
  if (!keyMatchesCertificate(ca.keyPem, ca.certPem)) {
    throw new ConfigurationError(`CA key does not match the CA certificate (issuing ${planned.id})`);
  }
  if (!new X509Certificate(ca.certPem).ca) throw new ConfigurationError(`The CA certificate is not a CA (issuing ${planned.id})`);
  const keyPem = opts.keyPem ?? (await generateKeyPem({ bits: opts.bits ?? DEFAULT_KEY_BITS }));
  const certPem = buildCertificatePem({
    planned,
    publicKeyPem: spkiPemOf(privateKeyObject(keyPem)),
    // Re-encode the CA subject byte-identically (forge keeps UTF8String values as raw bytes).
    issuer: caCert.subject.attributes.map((a) => ({ ...a, value: attrValue(a) })),
    authorityKeyId: subjectKeyIdOf(caCert),
    signingKey: privateKeyObject(ca.keyPem),
    notAfterCap: caCert.validity.notAfter,
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { certPem, keyPem };
}
