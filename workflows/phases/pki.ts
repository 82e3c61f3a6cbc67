// pki: the CAs on the CA host (and the service-account key pair shared by the control planes), then every host's
// certificates from the catalogue, each signed by its issuer.
import type { ClusterPlan, PlannedCertificate } from '../../model/types.js';
import { PlanError } from '../../model/plan.js';
import { baseInput, targetOf } from './plan-lookup.js';
import { step, type Phase } from './phase.js';

/** The service-account key pair: a key pair, not a certificate (0.1 and 0.2 plans call it "service-accounts"). */
export const isKeyPair = (c: PlannedCertificate): boolean => !!c.keyPairOnly || c.id === 'service-accounts';

function authorities(plan: ClusterPlan): PlannedCertificate[] {
  const cas = plan.certificates.filter((c) => c.isCA);
  if (cas.length === 0) throw new PlanError(`the plan of cluster ${plan.name} has no CA certificate`);
  return cas;
}

/** Where a CA's certificate and key are on the CA host. */
function onCaHost(plan: ClusterPlan, ca: PlannedCertificate): { certPath: string; keyPath: string } {
  const at = ca.placements.find((p) => p.host === plan.ca.host);
  if (!at) throw new PlanError(`the CA ${ca.id} of cluster ${plan.name} is not placed on the CA host ${plan.ca.host}`);
  return { certPath: at.certPath, keyPath: at.keyPath };
}

/** Certificates the CA host signs for `host` (not the CAs, not the shared service-account pair), each with only this
 * host's placement. */
export function leafCertificatesOn(plan: ClusterPlan, host: string): PlannedCertificate[] {
  return plan.certificates
    .filter((c) => !c.isCA && !isKeyPair(c))
    .map((c) => ({ ...c, placements: c.placements.filter((p) => p.host === host) }))
    .filter((c) => c.placements.length > 0);
}

export const pki: Phase = {
  name: 'pki',
  title: 'certificate authorities and certificates',
  steps: [
    step({
      activity: 'pki/authority',
      hosts: (plan) => [plan.ca.host],
      input: (plan, host) => {
        const sa = plan.certificates.find(isKeyPair);
        return {
          ...baseInput(plan, host),
          authorities: authorities(plan).map((certificate) => ({ certificate, ...onCaHost(plan, certificate) })),
          ...(sa
            ? { serviceAccounts: { certificate: sa, holders: sa.placements.map((at) => ({ target: targetOf(plan, at.host), at })) } }
            : {}),
        };
      },
    }),
    step({
      activity: 'pki/certificates',
      hosts: (plan) => plan.hosts.map((h) => h.name).filter((h) => leafCertificatesOn(plan, h).length > 0),
      input: (plan, host) => ({
        ...baseInput(plan, host),
        ca: {
          target: targetOf(plan, plan.ca.host),
          authorities: Object.fromEntries(authorities(plan).map((c) => [c.id, onCaHost(plan, c)])),
        },
        certificates: leafCertificatesOn(plan, host),
      }),
    }),
  ],
};
