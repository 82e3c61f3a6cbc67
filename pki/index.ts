// Public surface of the PKI layer.
export { createCA, type CertAndKey, type CreateCAOptions } from './ca.js';
export { issueCertificate, type IssueOptions } from './issue.js';
export {
  certificateMatchesPlan,
  describeCertificate,
  fingerprintSha256,
  renewalWindowDays,
  type CertificateSummary,
  type MatchOptions,
  type MatchResult,
} from './verify.js';
export {
  DEFAULT_CA_KEY_BITS,
  DEFAULT_KEY_BITS,
  generateKeyPem,
  generateServiceAccountKeyPair,
  keyMatchesCertificate,
  publicKeyMatchesPrivateKey,
  publicKeyPemOf,
  samePublicKey,
  generateEcKeyPem,
  type ServiceAccountKeyPair,
} from './keys.js';
export { effectiveUsages, canonicalIp, randomSerialHex } from './x509.js';
export {
  authorityStateCommand,
  certificatePublicKeyPem,
  createAuthorityCommand,
  keyStateCommand,
  keyStatesCommand,
  parseKeyStates,
  makeKeyCommand,
  parseAuthorityState,
  parseKeyState,
  pemDigest,
  requestCommand,
  requestProblem,
  signCommand,
} from './openssl.js';
