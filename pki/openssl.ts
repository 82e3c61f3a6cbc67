// The openssl commands that keep private keys on the hosts that use them: a key is made where it lives, a host
// proves it holds it with a certificate request, and a CA host signs requests with a key that never leaves it. Pure:
// command text in, parsed output out; activities/pki.ts runs them over SSH. OpenSSL 1.1.1 or 3.x on the hosts.
import { createHash, X509Certificate } from 'node:crypto';
import type { KeyAlgorithm, PlannedCertificate } from '../model/types.js';
import { shellQuote as q } from '../remote/exec.js';
import { readRequest, type RequestFields } from './der.js';
import { canonicalIp, effectiveUsages } from './x509.js';

/** "/O=.../CN=..." for openssl -subj: '/', '+', '=' and '\' inside a value are escaped. */
export function subjectArg(p: Pick<PlannedCertificate, 'commonName' | 'organization'>): string {
  const esc = (v: string) => v.replace(/[\\/+=]/g, (c) => `\\${c}`);
  return `${p.organization ? `/O=${esc(p.organization)}` : ''}/CN=${esc(p.commonName)}`;
}

/** openssl genpkey's options for a key of `algorithm` (PKCS#8 PEM, which every Kubernetes component and etcd read). */
export function genpkeyOptions(algorithm: KeyAlgorithm): string {
  if (algorithm === 'ECDSA-P256') return '-algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve';
  return `-algorithm RSA -pkeyopt rsa_keygen_bits:${algorithm.slice('RSA-'.length)}`;
}

/** Makes a key of `algorithm` at `keyPath` (0600 from the start) unless one is there. A change. */
export function makeKeyCommand(keyPath: string, algorithm: KeyAlgorithm): string {
  const tmp = `${keyPath}.hardway-new`;
  const dir = keyPath.replace(/\/[^/]+$/, '') || '/';
  return (
    `[ -f ${q(keyPath)} ] || (umask 077 && mkdir -p ${q(dir)} && ` +
    `openssl genpkey ${genpkeyOptions(algorithm)} -out ${q(tmp)} 2>/dev/null && mv -f ${q(tmp)} ${q(keyPath)})`
  );
}

/** What a host says of a key it holds: its mode and its public key (SPKI PEM), or nothing. A read. */
export function keyStateCommand(keyPath: string): string {
  return `if [ -f ${q(keyPath)} ]; then stat -c %a ${q(keyPath)}; openssl pkey -in ${q(keyPath)} -pubout; fi`;
}

/** keyStateCommand for several keys in one round trip; parseKeyStates reads its output. A read. */
export function keyStatesCommand(keyPaths: readonly string[]): string {
  return keyPaths.map((k) => `echo ${q(`@@key ${k}`)}; ${keyStateCommand(k)}`).join('; ');
}

export function parseKeyStates(out: string): Map<string, KeyState> {
  const states = new Map<string, KeyState>();
  for (const part of out.split('@@key ').slice(1)) {
    const nl = part.indexOf('\n');
    const path = (nl < 0 ? part : part.slice(0, nl)).trim();
    const st = nl < 0 ? undefined : parseKeyState(part.slice(nl + 1));
    if (st) states.set(path, st);
  }
  return states;
}

export interface KeyState {
  mode: string;
  publicKeyPem: string;
}

export function parseKeyState(out: string): KeyState | undefined {
  const [mode, ...rest] = out.trim().split('\n');
  if (!mode || !/^[0-7]{3,4}$/.test(mode.trim())) return undefined;
  const pem = rest.join('\n').trim();
  return pem.includes('BEGIN PUBLIC KEY') ? { mode: mode.trim(), publicKeyPem: `${pem}\n` } : undefined;
}

/** A certificate request for `p`'s subject, signed with the key at `keyPath` (printed, nothing written). A read. */
export function requestCommand(keyPath: string, p: Pick<PlannedCertificate, 'commonName' | 'organization'>): string {
  return `openssl req -new -key ${q(keyPath)} -subj ${q(subjectArg(p))} -sha256 -utf8`;
}

/** The extensions of a certificate for `p` (an openssl config section named v3). */
export function extensionsSection(p: PlannedCertificate): string {
  const { keyUsage, extKeyUsage } = effectiveUsages(p);
  const lines = [
    '[v3]',
    `basicConstraints = critical, CA:${p.isCA ? 'TRUE' : 'FALSE'}`,
    `keyUsage = critical, ${keyUsage.join(', ')}`,
    ...(extKeyUsage.length ? [`extendedKeyUsage = ${extKeyUsage.join(', ')}`] : []),
    'subjectKeyIdentifier = hash',
    `authorityKeyIdentifier = keyid${p.isCA ? ':always' : ''}`,
  ];
  const sans = [...p.dnsNames.map((d) => `DNS:${d}`), ...p.ipAddresses.map((i) => `IP:${canonicalIp(i)}`)];
  if (sans.length) lines.push(`subjectAltName = ${sans.join(', ')}`);
  return lines.join('\n');
}

/**
 * Signs the certificate request on standard input with the CA at caCertPath/caKeyPath and prints the certificate
 * (a read: the CA host keeps nothing of it). The subject comes from the request, which the caller has checked;
 * the extensions come from the plan, never from the request.
 */
export function signCommand(p: PlannedCertificate, ca: { certPath: string; keyPath: string }, days: number, serialHex: string): string {
  return [
    'set -eu',
    'd=$(mktemp -d)',
    `trap 'rm -rf "$d"' EXIT`,
    `cat > "$d/ext" <<'HARDWAY_EXT'`,
    extensionsSection(p),
    'HARDWAY_EXT',
    `cat > "$d/req"`,
    `openssl x509 -req -in "$d/req" -CA ${q(ca.certPath)} -CAkey ${q(ca.keyPath)} -set_serial 0x${serialHex} -days ${days} -sha256 ` +
      `-extfile "$d/ext" -extensions v3`,
  ].join('\n');
}

/** Makes (or re-issues, with the same key) the self-signed CA certificate at certPath from the key at keyPath. A change. */
export function createAuthorityCommand(p: PlannedCertificate, certPath: string, keyPath: string, serialHex: string): string {
  const tmp = `${certPath}.hardway-new`;
  return [
    'set -eu',
    'd=$(mktemp -d)',
    `trap 'rm -rf "$d"' EXIT`,
    `cat > "$d/cnf" <<'HARDWAY_EXT'`,
    '[req]',
    'distinguished_name = dn',
    'string_mask = utf8only',
    '[dn]',
    extensionsSection(p),
    'HARDWAY_EXT',
    `openssl req -x509 -new -key ${q(keyPath)} -subj ${q(subjectArg(p))} -utf8 -days ${p.validityDays} -sha256 -set_serial 0x${serialHex} ` +
      `-config "$d/cnf" -extensions v3 -out ${q(tmp)}`,
    `chmod 0644 ${q(tmp)} && mv -f ${q(tmp)} ${q(certPath)}`,
  ].join('\n');
}

/** What a CA host says of a CA: its key's mode and public-key digest, and its certificate's public-key digest. A read. */
export function authorityStateCommand(certPath: string, keyPath: string): string {
  const digest = (cmd: string) => `$(${cmd} 2>/dev/null | sha256sum | cut -d' ' -f1)`;
  return [
    `if [ -f ${q(keyPath)} ]; then echo "key $(stat -c %a ${q(keyPath)}) ${digest(`openssl pkey -in ${q(keyPath)} -pubout`)}"; else echo 'key none'; fi`,
    `if [ -f ${q(certPath)} ]; then echo "cert ${digest(`openssl x509 -in ${q(certPath)} -noout -pubkey`)}"; else echo 'cert none'; fi`,
  ].join('; ');
}

export interface AuthorityState {
  key?: { mode: string; publicKeyDigest: string };
  certPublicKeyDigest?: string;
}

export function parseAuthorityState(out: string): AuthorityState {
  const st: AuthorityState = {};
  for (const line of out.trim().split('\n')) {
    const [kind, a, b] = line.trim().split(/\s+/);
    if (kind === 'key' && a && a !== 'none' && b) st.key = { mode: a, publicKeyDigest: b };
    if (kind === 'cert' && a && a !== 'none') st.certPublicKeyDigest = a;
  }
  return st;
}

/** sha256 of a PEM as `sha256sum` prints it for the same bytes. */
export const pemDigest = (pem: string): string => createHash('sha256').update(pem).digest('hex');

/** The SPKI PEM of a certificate (what `openssl x509 -pubkey` prints), any key algorithm. */
export function certificatePublicKeyPem(certPem: string): string {
  return new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** A certificate request that is well signed and asks for exactly the plan's subject; else why not. */
export function requestProblem(csrPem: string, p: Pick<PlannedCertificate, 'commonName' | 'organization'>): string | undefined {
  let csr: RequestFields;
  try {
    csr = readRequest(csrPem);
  } catch (e) {
    return `not a certificate request: ${(e as Error).message}`;
  }
  if (!csr.signatureValid) return 'its signature does not verify';
  const values = (short: string) => csr.subject.filter((a) => a.shortName === short).map((a) => a.value);
  const cn = values('CN');
  const o = values('O');
  if (cn.length !== 1 || cn[0] !== p.commonName)
    return `it asks for CN ${JSON.stringify(cn.join(','))}, want ${JSON.stringify(p.commonName)}`;
  const wantO = p.organization ? [p.organization] : [];
  if (o.join('\n') !== wantO.join('\n')) return `it asks for O ${JSON.stringify(o.join(','))}, want ${JSON.stringify(wantO.join(','))}`;
  return undefined;
}
