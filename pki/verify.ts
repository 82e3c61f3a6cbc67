// Checking an existing certificate against the plan (the "read current state" half of converging PKI).
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

import type { PlannedCertificate } from '../model/types.js';
import { extensionOf, readCertificate, type CertificateFields, type NameAttribute } from './der.js';
import { keyMatchesCertificate } from './keys.js';
import { canonicalIp, effectiveUsages } from './x509.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface MatchOptions {
  /** Report "expiring" when fewer than this many days remain. Default: min(30, validityDays / 3). */
  minRemainingDays?: number;
  /** Also check that this private key belongs to the certificate. */
  keyPem?: string;
  now?: Date;
}

export interface MatchResult {
  ok: boolean;
  /** Human-readable reasons why the certificate does not match (empty when ok). */
  reasons: string[];
}

/** Default renewal window for a plan entry, in days. */
export function renewalWindowDays(planned: Pick<PlannedCertificate, 'validityDays'>): number {
  return Math.min(30, Math.floor(planned.validityDays / 3));
}

function setDiff(want: string[], have: string[]): { missing: string[]; extra: string[] } {
  const w = new Set(want);
  const h = new Set(have);
  return { missing: [...w].filter((x) => !h.has(x)), extra: [...h].filter((x) => !w.has(x)) };
}

function fieldValues(name: readonly NameAttribute[], shortName: string): string[] {
  return name.filter((a) => a.shortName === shortName).map((a) => a.value);
}

interface ParsedSans {
  dns: string[];
  ips: string[];
  other: number;
}

function sansOf(cert: CertificateFields): ParsedSans {
  const ext = extensionOf(cert, 'subjectAltName') as { altNames?: { type: number; value: string; ip?: string }[] } | undefined;
  const out: ParsedSans = { dns: [], ips: [], other: 0 };
  for (const n of ext?.altNames ?? []) {
    if (n.type === 2) out.dns.push(n.value);
    else if (n.type === 7 && n.ip) out.ips.push(canonicalIp(n.ip));
    else out.other++;
  }
  return out;
}

function trueFlags(ext: object | null | undefined, ignore: string[]): string[] {
  if (!ext) return [];
  return Object.entries(ext)
    .filter(([k, v]) => v === true && !ignore.includes(k))
    .map(([k]) => k);
}

/**
 * Does `certPem` satisfy `planned`? Checks: signed by the CA in `caCertPem` (issuer and signature),
 * subject CN and O, exact DNS and IP SAN sets, CA flag, keyUsage and extKeyUsage (exact), validity
 * (started, not expired, not expiring within the renewal window), and optionally the key.
 */
export function certificateMatchesPlan(
  certPem: string,
  planned: PlannedCertificate,
  caCertPem: string,
  opts: MatchOptions = {},
): MatchResult {
  const reasons: string[] = [];
  let x: X509Certificate;
  let cert: CertificateFields;
  try {
    x = new X509Certificate(certPem);
    cert = readCertificate(certPem);
  } catch (e) {
    return { ok: false, reasons: [`cannot parse certificate: ${(e as Error).message}`] };
  }

  // Chain: issued by, and signature verifies with, the CA; and not outliving it.
  try {
    const ca = new X509Certificate(caCertPem);
    if (!planned.isCA && new Date(x.validTo).getTime() > new Date(ca.validTo).getTime()) {
      reasons.push(`valid until ${new Date(x.validTo).toISOString()}, after its CA expires (${new Date(ca.validTo).toISOString()})`);
    }
    if (!x.checkIssued(ca) || !x.verify(ca.publicKey)) {
      reasons.push(
        x.issuer === ca.subject
          ? `issued by a different CA with the same name "${x.issuer.replace(/\n/g, ', ')}" (key identifier or signature does not match the cluster CA)`
          : `issued by "${x.issuer.replace(/\n/g, ', ')}", not by the cluster CA "${ca.subject.replace(/\n/g, ', ')}"`,
      );
    }
  } catch (e) {
    reasons.push(`cannot parse CA certificate: ${(e as Error).message}`);
  }

  // Subject.
  const cns = fieldValues(cert.subject, 'CN');
  if (cns.length !== 1 || cns[0] !== planned.commonName) {
    reasons.push(`subject CN is ${JSON.stringify(cns.join(','))}, want ${JSON.stringify(planned.commonName)}`);
  }
  const os = fieldValues(cert.subject, 'O');
  const wantO = planned.organization ? [planned.organization] : [];
  if (os.length !== wantO.length || os.some((o, i) => o !== wantO[i])) {
    reasons.push(`subject O is ${JSON.stringify(os.join(','))}, want ${JSON.stringify(wantO.join(','))}`);
  }

  // SANs: exact sets.
  const sans = sansOf(cert);
  const dns = setDiff(planned.dnsNames, sans.dns);
  if (dns.missing.length) reasons.push(`missing DNS SAN(s): ${dns.missing.join(', ')}`);
  if (dns.extra.length) reasons.push(`unexpected DNS SAN(s): ${dns.extra.join(', ')}`);
  const ips = setDiff(
    planned.ipAddresses.map((i) => (isIP(i) ? canonicalIp(i) : i)),
    sans.ips,
  );
  if (ips.missing.length) reasons.push(`missing IP SAN(s): ${ips.missing.join(', ')}`);
  if (ips.extra.length) reasons.push(`unexpected IP SAN(s): ${ips.extra.join(', ')}`);
  if (sans.other) reasons.push(`${sans.other} unexpected SAN(s) of other types`);

  // CA flag and usages.
  const bc = extensionOf(cert, 'basicConstraints') as { cA?: boolean } | undefined;
  const isCA = !!bc?.cA;
  if (isCA !== planned.isCA) reasons.push(`basicConstraints CA:${isCA ? 'TRUE' : 'FALSE'}, want CA:${planned.isCA ? 'TRUE' : 'FALSE'}`);
  const want = effectiveUsages(planned);
  const ku = setDiff(want.keyUsage, trueFlags(extensionOf(cert, 'keyUsage'), ['critical']));
  if (ku.missing.length || ku.extra.length) {
    reasons.push(
      `keyUsage differs${ku.missing.length ? `; missing ${ku.missing.join(', ')}` : ''}${ku.extra.length ? `; extra ${ku.extra.join(', ')}` : ''}`,
    );
  }
  const eku = setDiff(want.extKeyUsage, trueFlags(extensionOf(cert, 'extKeyUsage'), ['critical']));
  if (eku.missing.length || eku.extra.length) {
    reasons.push(
      `extKeyUsage differs${eku.missing.length ? `; missing ${eku.missing.join(', ')}` : ''}${eku.extra.length ? `; extra ${eku.extra.join(', ')}` : ''}`,
    );
  }

  // Validity.
  const now = (opts.now ?? new Date()).getTime();
  const notBefore = cert.notBefore.getTime();
  const notAfter = cert.notAfter.getTime();
  const windowDays = opts.minRemainingDays ?? renewalWindowDays(planned);
  if (notBefore > now) reasons.push(`not valid yet (notBefore ${cert.notBefore.toISOString()})`);
  if (notAfter <= now) reasons.push(`expired on ${cert.notAfter.toISOString()}`);
  else if (notAfter - now < windowDays * DAY_MS) {
    reasons.push(`expires on ${cert.notAfter.toISOString()}, within the ${windowDays}-day renewal window`);
  }

  if (opts.keyPem !== undefined && !keyMatchesCertificate(opts.keyPem, certPem)) {
    reasons.push('private key does not match the certificate');
  }
  return { ok: reasons.length === 0, reasons };
}

/** SHA-256 fingerprint of the DER certificate, "AB:CD:..." (as `openssl x509 -fingerprint -sha256`). */
export function fingerprintSha256(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** Non-secret summary of a certificate, safe for reports and Temporal payloads. */
export interface CertificateSummary {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  isCA: boolean;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  issuer: string;
  fingerprintSha256: string;
}

export function describeCertificate(certPem: string): CertificateSummary {
  const x = new X509Certificate(certPem);
  const cert = readCertificate(certPem);
  const sans = sansOf(cert);
  const bc = extensionOf(cert, 'basicConstraints') as { cA?: boolean } | undefined;
  return {
    commonName: fieldValues(cert.subject, 'CN')[0] ?? '',
    organizations: fieldValues(cert.subject, 'O'),
    dnsNames: sans.dns,
    ipAddresses: sans.ips,
    isCA: !!bc?.cA,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    issuer: x.issuer.replace(/\n/g, ', '),
    fingerprintSha256: x.fingerprint256,
  };
}
