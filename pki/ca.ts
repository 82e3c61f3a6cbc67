// Self-signed cluster CA.
import { ConfigurationError } from '../model/errors.js';
import type { PlannedCertificate } from '../model/types.js';
import { DEFAULT_CA_KEY_BITS, generateKeyPem, privateKeyObject } from './keys.js';
import { buildCertificatePem, spkiPemOf } from './x509.js';

export interface CertAndKey {
  certPem: string;
  /** Private key PEM. Keep in memory only; never put it in a Temporal payload or a log. */
  keyPem: string;
}

export interface CreateCAOptions {
  /** Reuse this key (e.g. re-issuing the CA certificate); a new key is generated otherwise. */
  keyPem?: string;
  /** RSA bits for a new key. Default 3072. */
  bits?: number;
  now?: Date;
}

/** A self-signed CA certificate: CA:TRUE (critical), keyCertSign + cRLSign + digitalSignature, SKI = AKI. */
export async function createCA(planned: PlannedCertificate, opts: CreateCAOptions = {}): Promise<CertAndKey> {
  if (!planned.isCA) throw new ConfigurationError(`Certificate ${planned.id} is not a CA (isCA=false); use issueCertificate`);
  const keyPem = opts.keyPem ?? (await generateKeyPem({ bits: opts.bits ?? DEFAULT_CA_KEY_BITS }));
  const key = privateKeyObject(keyPem);
  const certPem = buildCertificatePem({
    planned,
    publicKeyPem: spkiPemOf(key),
    signingKey: key,
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { certPem, keyPem };
}
