// pki: the CA on the CA host, and every certificate of the catalogue on the hosts the plan names.
// The CA private key is read from the CA host into this worker's memory for signing and goes nowhere else:
// not into a Temporal payload, a log line or the worker's disk.
import type { ClusterPlan, PlannedCertificate } from '../model/types.js';
import { certificatesOn } from '../render/placements.js';
import { certificateMatchesPlan, createCA, generateServiceAccountKeyPair, issueCertificate, keyMatchesCertificate, publicKeyMatchesPrivateKey, type ServiceAccountKeyPair } from '../pki/index.js';
import { ConfigurationError, NotReady } from './errors.js';
import type { HostShell, HostShells } from './host-shell.js';
import { runStep } from './step.js';
import type { StepReport } from './types.js';

const KEY_MODE = '0600';
const CERT_MODE = '0644';
const SERVICE_ACCOUNTS = 'service-accounts';

function caCertificate(plan: ClusterPlan): PlannedCertificate {
  const ca = plan.certificates.find((c) => c.isCA);
  if (!ca) throw new ConfigurationError(`the plan of cluster ${plan.name} has no CA certificate`);
  return ca;
}

async function readText(sh: HostShell, path: string): Promise<string | undefined> {
  return (await sh.readFile(path))?.toString('utf8');
}

export function certificateAuthorityActivity(shells: HostShells) {
  return (plan: ClusterPlan): Promise<StepReport> =>
    runStep(plan.ca.host, async (ctx) => {
      await ensureCA(plan, shells.shell(plan, plan.ca.host), ctx.changed);
      await serviceAccountKeys(plan, shells, ctx.changed);
    });
}

async function ensureCA(plan: ClusterPlan, sh: HostShell, changed: string[]): Promise<void> {
    const planned = caCertificate(plan);
    const certPem = await readText(sh, plan.ca.certPath);
    const keyPem = await readText(sh, plan.ca.keyPath);
    if (certPem && keyPem) {
      const check = certificateMatchesPlan(certPem, planned, certPem);
      if (check.ok && keyMatchesCertificate(keyPem, certPem)) {
        const r = await sh.putFile(plan.ca.keyPath, keyPem, { mode: KEY_MODE, owner: 'root', group: 'root' });
        if (r.changed) changed.push(`mode of ${plan.ca.keyPath}`);
        return;
      }
      // A CA that no longer matches the plan is a decision for the operator: replacing it invalidates every
      // certificate of the cluster.
      throw new ConfigurationError(
        `the CA at ${plan.ca.host}:${plan.ca.certPath} does not match the plan (${check.reasons.join('; ') || 'key does not match the certificate'}). ` +
          `Move ${plan.ca.certPath} and ${plan.ca.keyPath} away to let hardway create a new CA (every certificate will be reissued).`,
      );
    }
    if (certPem) {
      throw new ConfigurationError(
        `${plan.ca.host} has the CA certificate ${plan.ca.certPath} but not its key ${plan.ca.keyPath}, so nothing can be signed. ` +
          'Restore the key, or move the certificate away to create a new CA (every certificate will be reissued).',
      );
    }
    // No CA yet, or a key without its certificate (a run killed between the two writes): (re)make the
    // certificate, keeping the key if there is one.
    const ca = createCA(planned, keyPem ? { keyPem } : undefined);
    // Key first, 0600 from the start (putFile writes through a temp file created with that mode).
    if (!keyPem) await sh.putFile(plan.ca.keyPath, ca.keyPem, { mode: KEY_MODE, owner: 'root', group: 'root' });
    await sh.putFile(plan.ca.certPath, ca.certPem, { mode: CERT_MODE, owner: 'root', group: 'root' });
    changed.push(`created CA ${planned.commonName}`);
}

export function hostCertificatesActivity(shells: HostShells) {
  return (plan: ClusterPlan, hostName: string): Promise<StepReport> =>
    runStep(hostName, async (ctx) => {
      const caShell = shells.shell(plan, plan.ca.host);
      const caCertPem = await readText(caShell, plan.ca.certPath);
      if (!caCertPem) throw new NotReady(`the CA certificate is not on ${plan.ca.host} yet`);
      const sh = shells.shell(plan, hostName);
      let caKeyPem: string | undefined; // read only when something has to be signed
      const owner = { owner: 'root', group: 'root' };
      const caPathsDone = new Set<string>();

      for (const { cert, at } of certificatesOn(plan, hostName)) {
        if (cert.isCA) continue; // the CA itself is the authority step's
        if (cert.id === SERVICE_ACCOUNTS) continue; // one pair for all holders: the authority step's
        if (!caPathsDone.has(at.caPath)) {
          caPathsDone.add(at.caPath); // several certificates share one CA file: check it once
          if ((await sh.putFile(at.caPath, caCertPem, { mode: CERT_MODE, ...owner })).changed) ctx.changed.push(at.caPath);
        }
        const [certPem, keyPem] = [await readText(sh, at.certPath), await readText(sh, at.keyPath)];
        if (certPem && keyPem && certificateMatchesPlan(certPem, cert, caCertPem).ok && keyMatchesCertificate(keyPem, certPem)) {
          if ((await sh.putFile(at.keyPath, keyPem, { mode: KEY_MODE, ...owner })).changed) ctx.changed.push(`mode of ${at.keyPath}`);
          continue;
        }
        caKeyPem ??= await readText(caShell, plan.ca.keyPath);
        if (!caKeyPem) throw new NotReady(`the CA key is not on ${plan.ca.host} yet`);
        const issued = issueCertificate(cert, { certPem: caCertPem, keyPem: caKeyPem });
        await sh.putFile(at.keyPath, issued.keyPem, { mode: KEY_MODE, ...owner });
        await sh.putFile(at.certPath, issued.certPem, { mode: CERT_MODE, ...owner });
        ctx.changed.push(`issued ${cert.id} at ${at.certPath}`);
      }
    });
}

/**
 * The service-account signing key pair must be the same on every holder (the control planes): the first
 * holder with a valid pair is the source; when none has one, a new pair is made. Runs once, in the authority
 * step, so that parallel host steps can never make two different pairs.
 */
async function serviceAccountKeys(plan: ClusterPlan, shells: HostShells, changed: string[]): Promise<void> {
  const planned = plan.certificates.find((c) => c.id === SERVICE_ACCOUNTS);
  if (!planned) return;
  let pair: ServiceAccountKeyPair | undefined;
  for (const p of planned.placements) {
    const sh = shells.shell(plan, p.host);
    const [publicPem, keyPem] = [await readText(sh, p.certPath), await readText(sh, p.keyPath)];
    if (publicPem && keyPem && publicKeyMatchesPrivateKey(publicPem, keyPem)) {
      pair = { publicKeyPem: publicPem, privateKeyPem: keyPem };
      break;
    }
  }
  const use = pair ?? generateServiceAccountKeyPair();
  for (const p of planned.placements) {
    const sh = shells.shell(plan, p.host);
    const owner = { owner: 'root', group: 'root' };
    if ((await sh.putFile(p.keyPath, use.privateKeyPem, { mode: KEY_MODE, ...owner })).changed) changed.push(`${p.host}:${p.keyPath}`);
    if ((await sh.putFile(p.certPath, use.publicKeyPem, { mode: CERT_MODE, ...owner })).changed) changed.push(`${p.host}:${p.certPath}`);
  }
}
