// pki: the CA on the CA host (and the service-account key pair shared by the control planes), then every
// host's certificates from the catalogue.
import type { ClusterPlan, PlannedCertificate } from '../../model/types.js';
import { PlanError } from '../../model/plan.js';
import { baseInput, certificate, targetOf } from './plan-lookup.js';
import { step, type Phase } from './phase.js';

export const SERVICE_ACCOUNTS = 'service-accounts';

function caCertificate(plan: ClusterPlan): PlannedCertificate {
  const ca = plan.certificates.find((c) => c.isCA);
  if (!ca) throw new PlanError(`the plan of cluster ${plan.name} has no CA certificate`);
  return ca;
}

/** Certificates the CA host signs for `host` (not the CA itself, not the shared service-account pair), each
 * with only this host's placement. */
export function leafCertificatesOn(plan: ClusterPlan, host: string): PlannedCertificate[] {
  return plan.certificates
    .filter((c) => !c.isCA && c.id !== SERVICE_ACCOUNTS)
    .map((c) => ({ ...c, placements: c.placements.filter((p) => p.host === host) }))
    .filter((c) => c.placements.length > 0);
}

export const pki: Phase = {
  name: 'pki',
  title: 'certificate authority and certificates',
  steps: [
    step({
      activity: 'pki/authority',
      hosts: (plan) => [plan.ca.host],
      input: (plan, host) => {
        const sa = plan.certificates.find((c) => c.id === SERVICE_ACCOUNTS);
        return {
          ...baseInput(plan, host),
          ca: { certificate: caCertificate(plan), certPath: plan.ca.certPath, keyPath: plan.ca.keyPath },
          ...(sa
            ? {
                serviceAccounts: {
                  certificate: certificate(plan, SERVICE_ACCOUNTS),
                  holders: sa.placements.map((at) => ({ target: targetOf(plan, at.host), at })),
                },
              }
            : {}),
        };
      },
    }),
    step({
      activity: 'pki/certificates',
      hosts: (plan) => plan.hosts.map((h) => h.name).filter((h) => leafCertificatesOn(plan, h).length > 0),
      input: (plan, host) => ({
        ...baseInput(plan, host),
        ca: { target: targetOf(plan, plan.ca.host), certPath: plan.ca.certPath, keyPath: plan.ca.keyPath },
        certificates: leafCertificatesOn(plan, host),
      }),
    }),
  ],
};
