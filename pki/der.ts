// Reading certificates and certificate requests whatever their key algorithm (node-forge's own readers accept RSA
// keys only, and hardway makes ECDSA keys by default): the fields the PKI checks, taken from the DER with node-forge's
// ASN.1 decoder; signatures are verified with node:crypto. Pure.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { attrValue } from './x509.js';

const { asn1 } = forge;
// Exported by node-forge's x509 module but missing from its type definitions.
const forgePki = forge.pki as typeof forge.pki & {
  RDNAttributesAsArray(rdn: forge.asn1.Asn1): forge.pki.CertificateField[];
  certificateExtensionsFromAsn1(exts: forge.asn1.Asn1): Extension[];
};

/** A subject attribute: its short name when known (CN, O, ...), its OID, and its value as text. */
export interface NameAttribute {
  shortName?: string;
  type: string;
  value: string;
}

/** An extension as node-forge decodes it (`name`, `critical`, and fields such as `cA`, `altNames`, `serverAuth`). */
export type Extension = Record<string, unknown> & { id: string; name?: string; critical: boolean };

export interface CertificateFields {
  /** Lower-case hex of the serial number's DER content. */
  serialNumber: string;
  subject: NameAttribute[];
  notBefore: Date;
  notAfter: Date;
  extensions: Extension[];
}

export interface RequestFields {
  subject: NameAttribute[];
  publicKey: KeyObject;
  /** Whether the request's signature verifies with the key it carries (proof that its sender holds the key). */
  signatureValid: boolean;
}

function derOf(pem: string, types: readonly string[]): string {
  const msgs = forge.pem.decode(pem);
  const msg = msgs.find((m) => types.includes(m.type));
  if (!msg) throw new Error(`no ${types.join(' or ')} PEM block`);
  return msg.body;
}

function decode(der: string): forge.asn1.Asn1 {
  // Bit strings stay as bytes: a signature or a key inside one must not be taken for nested ASN.1.
  return asn1.fromDer(der, { strict: true, decodeBitStrings: false } as unknown as boolean);
}

const children = (node: forge.asn1.Asn1): forge.asn1.Asn1[] => {
  if (!Array.isArray(node.value)) throw new Error('malformed ASN.1: a SEQUENCE was expected');
  return node.value;
};

function names(rdn: forge.asn1.Asn1): NameAttribute[] {
  return forgePki.RDNAttributesAsArray(rdn).map((a) => ({
    ...(a.shortName ? { shortName: a.shortName } : {}),
    type: String(a.type),
    value: attrValue(a) ?? '',
  }));
}

function time(node: forge.asn1.Asn1): Date {
  const v = String(node.value);
  if (node.type === asn1.Type.UTCTIME) return asn1.utcTimeToDate(v);
  if (node.type === asn1.Type.GENERALIZEDTIME) return asn1.generalizedTimeToDate(v);
  throw new Error('malformed validity: neither UTCTime nor GeneralizedTime');
}

/** The fields of a certificate (PEM "CERTIFICATE") hardway checks, for any key algorithm. Throws when malformed. */
export function readCertificate(pem: string): CertificateFields {
  const cert = decode(derOf(pem, ['CERTIFICATE']));
  const tbs = children(children(cert)[0]!);
  // TBSCertificate: [0] version (optional), serial, signature algorithm, issuer, validity, subject, key, ..., [3] extensions.
  const first = tbs[0]!;
  const i = first.tagClass === asn1.Class.CONTEXT_SPECIFIC && first.type === 0 ? 1 : 0;
  const [serial, , , validity, subject] = tbs.slice(i);
  if (!serial || !validity || !subject) throw new Error('malformed certificate: fields are missing');
  const [notBefore, notAfter] = children(validity);
  if (!notBefore || !notAfter) throw new Error('malformed certificate: validity needs two times');
  const exts = tbs.slice(i + 6).find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  return {
    serialNumber: forge.util.bytesToHex(String(serial.value)),
    subject: names(subject),
    notBefore: time(notBefore),
    notAfter: time(notAfter),
    extensions: exts ? forgePki.certificateExtensionsFromAsn1(exts) : [],
  };
}

/** The extension named `name` (node-forge's names: keyUsage, extKeyUsage, subjectAltName, basicConstraints, ...). */
export function extensionOf(fields: Pick<CertificateFields, 'extensions'>, name: string): Extension | undefined {
  return fields.extensions.find((e) => e.name === name);
}

// Signature algorithms of requests: OID -> the digest node:crypto verifies with (null: the algorithm has its own).
const SIGNATURE_DIGESTS: Record<string, string | null> = {
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null, // Ed25519
};

/** The bytes of the first element inside the DER SEQUENCE `der`, exactly as sent (what a request's signature covers). */
function firstElement(der: Buffer): Buffer {
  const header = (at: number): { start: number; end: number } => {
    const b = der[at + 1];
    if (b === undefined) throw new Error('malformed DER: truncated');
    if (b < 0x80) return { start: at + 2, end: at + 2 + b };
    const n = b & 0x7f;
    let len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + der[at + 2 + k]!;
    return { start: at + 2 + n, end: at + 2 + n + len };
  };
  const outer = header(0);
  const inner = header(outer.start);
  if (inner.end > der.length) throw new Error('malformed DER: truncated');
  return der.subarray(outer.start, inner.end);
}

/** A certificate request (PEM "CERTIFICATE REQUEST"): its subject, its key, and whether its signature verifies. */
export function readRequest(pem: string): RequestFields {
  const req = children(decode(derOf(pem, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'])));
  const [info, algorithm, signature] = req;
  if (!info || !algorithm || !signature) throw new Error('malformed certificate request');
  // CertificationRequestInfo: version, subject, subjectPKInfo, [0] attributes.
  const [, subject, spki] = children(info);
  if (!subject || !spki) throw new Error('malformed certificate request: subject or key missing');
  const publicKey = createPublicKey({ key: Buffer.from(asn1.toDer(spki).getBytes(), 'binary'), format: 'der', type: 'spki' });
  const oid = asn1.derToOid(String(children(algorithm)[0]!.value));
  if (!(oid in SIGNATURE_DIGESTS)) throw new Error(`its signature algorithm ${oid} is not supported`);
  const sig = Buffer.from(String(signature.value), 'binary').subarray(1); // the first byte counts unused bits
  const signed = firstElement(Buffer.from(derOf(pem, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']), 'binary'));
  let signatureValid = false;
  try {
    signatureValid = verify(SIGNATURE_DIGESTS[oid]!, signed, publicKey, sig);
  } catch {
    signatureValid = false;
  }
  return { subject: names(subject), publicKey, signatureValid };
}
