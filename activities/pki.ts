// pki: the CAs on the CA host (cluster, etcd, front-proxy), and every certificate of the catalogue on the hosts the
// plan names, each signed by its issuer. No CA key ever leaves the CA host, not even into this worker's memory:
// each leaf key is made on the host that uses it, which sends a certificate request; the CA host signs it with
// openssl and the certificate (public) comes back. Only the service-account key pair, which must be identical on
// every control plane, travels host to host through the worker's memory.
import {
  authorityStateCommand,
  certificateMatchesPlan,
  certificatePublicKeyPem,
  createAuthorityCommand,
  DEFAULT_CA_KEY_BITS,
  DEFAULT_KEY_BITS,
  generateServiceAccountKeyPair,
  keyStatesCommand,
  parseKeyStates,
  makeKeyCommand,
  parseAuthorityState,
  publicKeyMatchesPrivateKey,
  randomSerialHex,
  requestCommand,
  samePublicKey,
  requestProblem,
  signCommand,
  type ServiceAccountKeyPair,
} from '../pki/index.js';
import { shellQuote as q } from '../remote/exec.js';
import { X509Certificate } from 'node:crypto';
import { placementFor } from '../render/placements.js';
import { ConfigurationError, NotReady } from './errors.js';
import { readTexts, type HostShell, type HostShells } from './host-shell.js';
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

/**
 * One CA on the CA host, made and checked there: its key is generated there, compared with the certificate there
 * (public-key digests), and never read out.
 */
async function ensureCA(
  authority: CertificateAuthorityInput['authorities'][number],
  host: string,
  sh: HostShell,
  ctx: Pick<StepContext, 'changed' | 'notes'>,
): Promise<void> {
  const { certificate: planned, certPath, keyPath } = authority;
  const state = parseAuthorityState((await sh.exec(authorityStateCommand(certPath, keyPath))).stdout);
  const certPem = state.certPublicKeyDigest ? await readText(sh, certPath) : undefined;
  if (certPem && state.key) {
    // Expiry is judged below, against the CA's own (much longer) window: here, as of the moment it became valid.
    const validFrom = parseValidFrom(certPem);
    const check = certificateMatchesPlan(certPem, planned, certPem, { minRemainingDays: 0, ...(validFrom ? { now: validFrom } : {}) });
    const keyMatches = state.key.publicKeyDigest === state.certPublicKeyDigest;
    if (!check.ok || !keyMatches) {
      // A CA that no longer matches the plan is a decision for the operator: replacing it invalidates every
      // certificate it signed.
      throw new ConfigurationError(
        `the CA at ${host}:${certPath} does not match the plan (${check.reasons.join('; ') || 'key does not match the certificate'}). ` +
          `Move ${certPath} and ${keyPath} away to let hardway create a new CA (every certificate it signed will be reissued).`,
      );
    }
    if (state.key.mode !== '600') {
      await sh.change(`chmod 0600 ${q(keyPath)}`);
      ctx.changed(`mode of ${keyPath}`);
    }
    const notAfter = new Date(new X509Certificate(certPem).validTo);
    const left = Math.floor((notAfter.getTime() - Date.now()) / DAY_MS);
    if (left < CA_RENEW_DAYS) {
      // Same key, same subject: the leaves' signatures and key identifiers still point at it.
      await sh.change(createAuthorityCommand(planned, certPath, keyPath, randomSerialHex()), {
        summary: `re-issue the CA certificate ${certPath} with its key`,
        writes: [certPath],
      });
      const renewed = await readText(sh, certPath);
      const until = renewed ? new Date(new X509Certificate(renewed).validTo).toISOString().slice(0, 10) : '?';
      ctx.changed(`renewed CA ${planned.commonName} with the same key, until ${until}`);
      ctx.notes.push(
        `warning: the CA certificate ${left < 0 ? 'had expired' : `was to expire in ${left} days`} (${notAfter.toISOString().slice(0, 10)}); ` +
          'it was re-issued with the same key, and every host gets the new one in pki/certificates',
      );
    }
    return;
  }
  if (certPem) {
    throw new ConfigurationError(
      `${host} has the CA certificate ${certPath} but not its key ${keyPath}, so nothing can be signed. ` +
        'Restore the key, or move the certificate away to create a new CA (every certificate it signed will be reissued).',
    );
  }
  // No CA yet, or a key without its certificate (a run killed between the two): make what is missing, on the host.
  if (!state.key) {
    const algorithm = planned.keyAlgorithm ?? `RSA-${DEFAULT_CA_KEY_BITS}`;
    await sh.change(makeKeyCommand(keyPath, algorithm), {
      summary: `create ${keyPath} (0600, ${algorithm})`,
      writes: [keyPath],
    });
  }
  await sh.change(createAuthorityCommand(planned, certPath, keyPath, randomSerialHex()), {
    summary: `create ${certPath} (0644)`,
    writes: [certPath],
  });
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
      const leaves = placed.filter(({ cert }) => !cert.isCA && !cert.keyPairOnly && cert.id !== 'service-accounts');
      // The CAs' certificates (public) in one read; their keys are never read: the CA host signs.
      const issuers = [...new Set(leaves.map(({ cert }) => cert.issuer ?? 'ca'))];
      const caTexts = await readTexts(
        caShell,
        issuers.map((i) => where(i).certPath),
      );
      const caCert = (issuer: string): string => {
        const pem = caTexts.get(where(issuer).certPath);
        if (!pem) throw new NotReady(`the ${issuer} certificate is not on ${caHost} yet`);
        return pem;
      };
      const sh = shells.shell(input.target);
      // This host's certificates in one read too (a no-op run then costs a few commands here, not one per file).
      const certTexts = await readTexts(
        sh,
        leaves.map(({ at }) => at.certPath),
      );
      const caPathsDone = new Set<string>();
      // Every key's mode and public key in one round trip (a no-op run then costs one command here, not one per key).
      const keyPaths = leaves.map(({ at }) => at.keyPath);
      const keys = keyPaths.length ? parseKeyStates((await sh.exec(keyStatesCommand(keyPaths))).stdout) : new Map();

      for (const { cert, at } of leaves) {
        const issuer = cert.issuer ?? 'ca';
        const caCertPem = caCert(issuer);
        if (!caPathsDone.has(at.caPath)) {
          caPathsDone.add(at.caPath); // several certificates share one CA file: check it once
          if ((await sh.putFile(at.caPath, caCertPem, { mode: CERT_MODE, ...OWNER })).changed) ctx.changed(at.caPath);
        }
        const certPem = certTexts.get(at.certPath);
        let key = keys.get(at.keyPath);
        if (
          certPem &&
          key &&
          certificateMatchesPlan(certPem, cert, caCertPem).ok &&
          samePublicKey(certificatePublicKeyPem(certPem), key.publicKeyPem)
        ) {
          if (key.mode !== '600') {
            await sh.change(`chmod 0600 ${q(at.keyPath)}`);
            ctx.changed(`mode of ${at.keyPath}`);
          }
          continue;
        }
        // The key is made on this host and stays here; a renewal keeps it.
        if (!key) {
          const algorithm = cert.keyAlgorithm ?? `RSA-${DEFAULT_KEY_BITS}`;
          await sh.change(makeKeyCommand(at.keyPath, algorithm), {
            summary: `create ${at.keyPath} (0600, ${algorithm})`,
            writes: [at.keyPath],
          });
          ctx.changed(at.keyPath);
          key = parseKeyStates((await sh.exec(keyStatesCommand([at.keyPath]), { reads: [at.keyPath] })).stdout).get(at.keyPath);
        } else if (key.mode !== '600') {
          await sh.change(`chmod 0600 ${q(at.keyPath)}`);
          ctx.changed(`mode of ${at.keyPath}`);
        }
        const csr = (await sh.exec(requestCommand(at.keyPath, cert), { reads: [at.keyPath] })).stdout;
        const bad = requestProblem(csr, cert);
        if (bad) throw new ConfigurationError(`the certificate request ${host} made for ${cert.id} is refused: ${bad}`);
        // Signed on the CA host, never past the CA's own end.
        const caEnd = new Date(new X509Certificate(caCertPem).validTo).getTime();
        const days = Math.min(cert.validityDays, Math.floor((caEnd - Date.now()) / DAY_MS));
        if (days < 1) throw new NotReady(`the ${issuer} certificate on ${caHost} expires within a day: pki/authority re-issues it first`);
        const signed = await caShell.exec(signCommand(cert, where(issuer), days, randomSerialHex()), { input: csr, timeoutMs: 60_000 });
        const issued = signed.stdout.trim() + '\n';
        if (!samePublicKey(certificatePublicKeyPem(issued), key?.publicKeyPem)) {
          throw new ConfigurationError(`the certificate ${caHost} signed for ${cert.id} on ${host} does not hold ${host}'s key`);
        }
        await sh.putFile(at.certPath, issued, { mode: CERT_MODE, ...OWNER });
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
  const use = pair ?? (await generateServiceAccountKeyPair({ algorithm: sa.certificate.keyAlgorithm ?? `RSA-${DEFAULT_KEY_BITS}` }));
  for (const { target, at } of sa.holders) {
    const sh = shells.shell(target);
    if ((await sh.putFile(at.keyPath, use.privateKeyPem, { mode: KEY_MODE, ...OWNER })).changed)
      ctx.changed(`${target.name}:${at.keyPath}`);
    if ((await sh.putFile(at.certPath, use.publicKeyPem, { mode: CERT_MODE, ...OWNER })).changed)
      ctx.changed(`${target.name}:${at.certPath}`);
  }
}
