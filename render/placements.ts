// Where a certificate of a step's input goes on the step's host. Pure. A placement that is not there is a plan
// inconsistency: a ConfigurationError, which fails the step at once instead of retrying it.
import { ConfigurationError } from '../model/errors.js';
import type { CertificatePlacement, PlannedCertificate } from '../model/types.js';

export function placementFor(cert: PlannedCertificate, host: string): CertificatePlacement {
  const p = cert.placements.find((x) => x.host === host);
  if (!p)
    throw new ConfigurationError(
      `certificate ${cert.id} is not placed on ${host} (its input names ${cert.placements.map((x) => x.host).join(', ') || 'no host'})`,
    );
  return p;
}

/** Every placement of `certs` on `host`, in input order. */
export function placementsOn(certs: readonly PlannedCertificate[], host: string): { cert: PlannedCertificate; at: CertificatePlacement }[] {
  return certs.flatMap((cert) => cert.placements.filter((p) => p.host === host).map((at) => ({ cert, at })));
}
