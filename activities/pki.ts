// pki: the CAs on the CA host (cluster, etcd, front-proxy), and every certificate of the catalogue on the hosts the
// plan names, each signed by its issuer. A CA private key is read from the CA host into this worker's memory for
// signing and goes nowhere else: not into a Temporal payload, a log line or the worker's disk.
import {
  certificateMatchesPlan,
  createCA,
  generateServiceAccountKeyPair,
  issueCertificate,
  keyMatchesCertificate,
  publicKeyMatchesPrivateKey,
  type ServiceAccountKeyPair,
} from '../pki/index.js';
import { X509Certificate } from 'node:crypto';
import { placementFor } from '../render/placements.js';
import { ConfigurationError, NotReady } from './errors.js';
import type { HostShell, HostShells } from './host-shell.js';
import { runStep, type StepContext } from './step.js';
import type { CertificateAuthorityInput, HostCertificatesInput, StepReport } from './types.js';

const KEY_MODE = '0600';
const CERT_MODE = '0644';
const OWNER = { owner: 'root', group: 'root' } as const;

async function readText(sh: HostShell, path: string): Promise<string | undefined> {
  return (await sh.readFile(path))?.toString('utf8');
}

export function certificateAuthorityActivity(shells: HostShells) {
  return (input: CertificateAuthorityInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const sh = shells.shell(input.target);
      for (const authority of input.authorities) {
        if (!authority.certificate.isCA) {
          throw new ConfigurationError(`certificate ${authority.certificate.id} of cluster ${input.cluster} is not a CA certificate`);
        }
        await ensureCA(authority, input.target.name, sh, ctx);
      }
      if (input.serviceAccounts) await serviceAccountKeys(input.serviceAccounts, shells, ctx);
    });
}

function parseValidFrom(pem: string): Date | undefined {
  try {
    return new Date(new Date(new X509Certificate(pem).validFrom).getTime() + 1000);
  } catch {
    return undefined; // unparsable: certificateMatchesPlan says so
  }
}

/** A CA certificate this close to its end is re-issued with the same key (every leaf it signed stays valid). */
export const CA_RENEW_DAYS = 365;
const DAY_MS = 86_400_000;

async function ensureCA(
  authority: CertificateAuthorityInput['authorities'][number],
  host: string,
  sh: HostShell,
  ctx: Pick<StepContext, 'changed' | 'notes'>,
): Promise<void> {
  const { certificate: planned, certPath, keyPath } = authority;
  const certPem = await readText(sh, certPath);
  const keyPem = await readText(sh, keyPath);
  if (certPem && keyPem) {
    // Expiry is judged below, against the CA's own (much longer) window: here, as of the moment it became valid.
    const validFrom = parseValidFrom(certPem);
    const check = certificateMatchesPlan(certPem, planned, certPem, { minRemainingDays: 0, ...(validFrom ? { now: validFrom } : {}) });
    if (check.ok && keyMatchesCertificate(keyPem, certPem)) {
      const r = await sh.putFile(keyPath, keyPem, { mode: KEY_MODE, ...OWNER });
      if (r.changed) ctx.changed(`mode of ${keyPath}`);
      const notAfter = new Date(new X509Certificate(certPem).validTo);
      const left = Math.floor((notAfter.getTime() - Date.now()) / DAY_MS);
      if (left < CA_RENEW_DAYS) {
        // Same key, same subject: the leaves' signatures and key identifiers still point at it.
        const renewed = await createCA(planned, { keyPem });
        await sh.putFile(certPath, renewed.certPem, { mode: CERT_MODE, ...OWNER });
        const until = new X509Certificate(renewed.certPem).validTo;
        ctx.changed(`renewed CA ${planned.commonName} with the same key, until ${new Date(until).toISOString().slice(0, 10)}`);
        ctx.notes.push(
          `warning: the CA certificate ${left < 0 ? 'had expired' : `was to expire in ${left} days`} (${notAfter.toISOString().slice(0, 10)}); ` +
            'it was re-issued with the same key, and every host gets the new one in pki/certificates',
        );
      }
      return;
    }
    // A CA that no longer matches the plan is a decision for the operator: replacing it invalidates every
    // certificate of the cluster.
    throw new ConfigurationError(
      `the CA at ${host}:${certPath} does not match the plan (${check.reasons.join('; ') || 'key does not match the certificate'}). ` +
        `Move ${certPath} and ${keyPath} away to let hardway create a new CA (every certificate will be reissued).`,
    );
  }
  if (certPem) {
    throw new ConfigurationError(
      `${host} has the CA certificate ${certPath} but not its key ${keyPath}, so nothing can be signed. ` +
        'Restore the key, or move the certificate away to create a new CA (every certificate will be reissued).',
    );
  }
  // No CA yet, or a key without its certificate (a run killed between the two writes): (re)make the
  // certificate, keeping the key if there is one.
  const ca = await createCA(planned, keyPem ? { keyPem } : undefined);
  // Key first, 0600 from the start (putFile writes through a temp file created with that mode).
  if (!keyPem) await sh.putFile(keyPath, ca.keyPem, { mode: KEY_MODE, ...OWNER });
  await sh.putFile(certPath, ca.certPem, { mode: CERT_MODE, ...OWNER });
  ctx.changed(`created CA ${planned.commonName}`);
}

export function hostCertificatesActivity(shells: HostShells) {
  return (input: HostCertificatesInput): Promise<StepReport> =>
    runStep(input.target.name, async (ctx) => {
      const host = input.target.name;
      const placed = input.certificates.map((cert) => ({ cert, at: placementFor(cert, host) })); // before any read
      const caHost = input.ca.target.name;
      const caShell = shells.shell(input.ca.target);
      const where = (issuer: string) => {
        const at = input.ca.authorities[issuer];
        if (!at)
          throw new ConfigurationError(`the plan of cluster ${input.cluster} has no CA ${issuer} (issuer of a certificate on ${host})`);
        return at;
      };
      // Each CA's certificate is read once; its key only when something has to be signed with it.
      const caCerts = new Map<string, string>();
      const caCert = async (issuer: string): Promise<string> => {
        let pem = caCerts.get(issuer);
        if (pem === undefined) {
          pem = await readText(caShell, where(issuer).certPath);
          if (!pem) throw new NotReady(`the ${issuer} certificate is not on ${caHost} yet`);
          caCerts.set(issuer, pem);
        }
        return pem;
      };
      const caKeys = new Map<string, string>();
      const sh = shells.shell(input.target);
      const caPathsDone = new Set<string>();

      for (const { cert, at } of placed) {
        if (cert.isCA || cert.keyPairOnly || cert.id === 'service-accounts') continue; // the authority step's
        const issuer = cert.issuer ?? 'ca';
        const caCertPem = await caCert(issuer);
        if (!caPathsDone.has(at.caPath)) {
          caPathsDone.add(at.caPath); // several certificates share one CA file: check it once
          if ((await sh.putFile(at.caPath, caCertPem, { mode: CERT_MODE, ...OWNER })).changed) ctx.changed(at.caPath);
        }
        const [certPem, keyPem] = [await readText(sh, at.certPath), await readText(sh, at.keyPath)];
        if (certPem && keyPem && certificateMatchesPlan(certPem, cert, caCertPem).ok && keyMatchesCertificate(keyPem, certPem)) {
          if ((await sh.putFile(at.keyPath, keyPem, { mode: KEY_MODE, ...OWNER })).changed) ctx.changed(`mode of ${at.keyPath}`);
          continue;
        }
        let caKeyPem = caKeys.get(issuer);
        if (caKeyPem === undefined) {
          caKeyPem = (await readText(caShell, where(issuer).keyPath)) ?? undefined;
          if (!caKeyPem) throw new NotReady(`the ${issuer} key is not on ${caHost} yet`);
          caKeys.set(issuer, caKeyPem);
        }
        const issued = await issueCertificate(cert, { certPem: caCertPem, keyPem: caKeyPem });
        await sh.putFile(at.keyPath, issued.keyPem, { mode: KEY_MODE, ...OWNER });
        await sh.putFile(at.certPath, issued.certPem, { mode: CERT_MODE, ...OWNER });
        ctx.changed(`issued ${cert.id} at ${at.certPath}`);
      }
    });
}

/**
 * The service-account signing key pair must be the same on every holder (the control planes): the first
 * holder with a valid pair is the source; when none has one, a new pair is made. Runs once, in the authority
 * step, so that parallel host steps can never make two different pairs.
 */
async function serviceAccountKeys(
  sa: NonNullable<CertificateAuthorityInput['serviceAccounts']>,
  shells: HostShells,
  ctx: Pick<StepContext, 'changed'>,
): Promise<void> {
  let pair: ServiceAccountKeyPair | undefined;
  for (const { target, at } of sa.holders) {
    const sh = shells.shell(target);
    const [publicPem, keyPem] = [await readText(sh, at.certPath), await readText(sh, at.keyPath)];
    if (publicPem && keyPem && publicKeyMatchesPrivateKey(publicPem, keyPem)) {
      pair = { publicKeyPem: publicPem, privateKeyPem: keyPem };
      break;
    }
  }
  const use = pair ?? (await generateServiceAccountKeyPair());
  for (const { target, at } of sa.holders) {
    const sh = shells.shell(target);
    if ((await sh.putFile(at.keyPath, use.privateKeyPem, { mode: KEY_MODE, ...OWNER })).changed)
      ctx.changed(`${target.name}:${at.keyPath}`);
    if ((await sh.putFile(at.certPath, use.publicKeyPem, { mode: CERT_MODE, ...OWNER })).changed)
      ctx.changed(`${target.name}:${at.certPath}`);
  }
}
