// Where the plan puts a certificate on a host. Pure.
import type { CertificatePlacement, ClusterPlan, PlannedCertificate } from '../model/types.js';

export function certificate(plan: ClusterPlan, id: string): PlannedCertificate {
  const c = plan.certificates.find((x) => x.id === id);
  if (!c) throw new Error(`certificate ${id} is not in the plan of cluster ${plan.name}`);
  return c;
}

export function placementOn(plan: ClusterPlan, id: string, host: string): CertificatePlacement {
  const p = certificate(plan, id).placements.find((x) => x.host === host);
  if (!p) throw new Error(`certificate ${id} is not placed on ${host} in the plan of cluster ${plan.name}`);
  return p;
}

/** Certificates the plan places on `host`, with their placement there. */
export function certificatesOn(plan: ClusterPlan, host: string): { cert: PlannedCertificate; at: CertificatePlacement }[] {
  return plan.certificates.flatMap((cert) =>
    cert.placements.filter((p) => p.host === host).map((at) => ({ cert, at })),
  );
}
